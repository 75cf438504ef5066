"""Composition root of the notifications service, and the periodic jobs the embedded runner or
the worker calls (:func:`background_jobs`)."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Callable

from flask import Flask
from prometheus_client import Counter

from services.common.app import create_service_app
from services.common.audit import make_blueprint as audit_blueprint
from services.common.config import Config, ConfigError

from . import domain, events
from .api import BLUEPRINTS
from .models import Base, platform_tables

SERVICE = "notifications"
HERE = Path(__file__).parent
MIGRATIONS = HERE / "migrations"
log = logging.getLogger("kinerja.notifications")


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _delays(value: str) -> tuple[int, ...]:
    return tuple(int(x) for x in value.split(",") if x.strip())


# Settings from the environment (config.extra), like the reviews service.
SETTINGS = {
    "smtp_url": ("SMTP_URL", str, None),  # smtp://user:pass@host:587?starttls=1 | smtps://host:465
    "mail_from": ("MAIL_FROM", str, "Kinerja <no-reply@kinerja.local>"),
    "smtp_timeout": ("SMTP_TIMEOUT", float, 10.0),
    "apprise_timeout": ("APPRISE_TIMEOUT", float, 10.0),
    "webhook_timeout": ("WEBHOOK_TIMEOUT", float, 10.0),
    "webhook_allow_private": ("WEBHOOK_ALLOW_PRIVATE", _flag, False),
    "webhook_disable_after": ("WEBHOOK_DISABLE_AFTER", int, 5),  # consecutive deliveries failed on every attempt
    "webhook_retry_hours": ("WEBHOOK_RETRY_HOURS", float, 24.0),
    "email_retry_delays": ("NOTIFICATIONS_RETRY_DELAYS", _delays, domain.EMAIL_RETRY_DELAYS),
    "dispatch_batch": ("NOTIFICATIONS_DISPATCH_BATCH", int, 200),
    "dispatch_interval": ("NOTIFICATIONS_DISPATCH_INTERVAL", float, 5.0),
    "default_timezone": ("NOTIFICATIONS_TIMEZONE", str, "Asia/Jakarta"),
    "portal_url": ("PORTAL_URL", str, "http://127.0.0.1:8000"),
    "plans_url": ("PLANS_URL", str, "http://127.0.0.1:8000"),
}


def create_app(
    config: Config | None = None, *, clock: Callable[[], datetime] | None = None, migrate: bool | None = None
) -> Flask:
    config = config or Config.from_env(SERVICE)
    for key, (env, cast, default) in SETTINGS.items():
        if key not in config.extra:
            raw = os.environ.get(env)
            try:
                config.extra[key] = cast(raw) if raw not in (None, "") else default
            except ValueError as exc:
                raise ConfigError(f"{env}: {exc}") from None
    if config.extra.get("smtp_url"):
        from .channels import SmtpSettings

        try:
            SmtpSettings.from_url(config.extra["smtp_url"])
        except ValueError as exc:
            raise ConfigError(f"SMTP_URL: {exc}") from None
    app = create_service_app(
        config,
        publishes=events.PUBLISHES,
        title="Kinerja — notifications",
        metadata=Base.metadata,
        tables=platform_tables,
        migrations_dir=MIGRATIONS,
        blueprints=[*BLUEPRINTS, audit_blueprint(SERVICE)],
        catalogue_dir=HERE / "messages",
        clock=clock,
        migrate=migrate,
        domain_errors={domain.DomainError: 422},
    )
    registry = app.extensions["kinerja"].metrics.registry
    app.extensions["notifications_metrics"] = {
        "deliveries": Counter(
            "kinerja_notifications_deliveries_total",
            "Deliveries entering a status, per channel (queued, sent, failed, deferred, skipped)",
            ["channel", "status"],
            registry=registry,
        ),
        "attempts": Counter(
            "kinerja_notifications_attempts_total",
            "Send attempts per channel and outcome (sent, retry, failed, skipped)",
            ["channel", "outcome"],
            registry=registry,
        ),
        "smtp_connections": Counter(
            "kinerja_notifications_smtp_connections_total",
            "SMTP connections opened by the dispatcher",
            registry=registry,
        ),
    }
    return app


def background_jobs(platform) -> list[Callable[[], int]]:
    """Callables the embedded runner or ``kinerja worker`` runs every few seconds
    (``config.extra['dispatch_interval']``): each sends what is due and returns how many
    deliveries it handled. They never raise (errors are logged; the next round retries)."""
    from .service import dispatch_due

    def dispatch_notifications() -> int:
        try:
            with platform.app.app_context(), platform.session_factory() as session:
                return sum(dispatch_due(session, platform.clock()).values())
        except Exception:  # noqa: BLE001 - a background round must never kill the worker
            log.exception("notifications dispatch round failed")
            return 0

    dispatch_notifications.interval = platform.config.extra.get("dispatch_interval", 5.0)
    return [dispatch_notifications]
