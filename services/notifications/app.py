"""Composition root of the notifications service, and the periodic jobs the embedded runner or
the worker calls (:func:`background_jobs`)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Callable

from flask import Flask
from prometheus_client import Counter

from services.common.app import create_service_app
from services.common.config import Config, ConfigError, load_settings

from . import deliveries, dispatch, domain, events, inbox, models, preferences, readmodel, reminders, rules, webhooks
from .channels import SmtpSettings
from .dispatch import dispatch_due
from .settings import Settings

SERVICE = "notifications"
#: one blueprint per capability (the order of the OpenAPI document)
BLUEPRINTS = [
    inbox.blp,
    preferences.blp,
    rules.blp,
    reminders.blp,
    deliveries.blp,
    dispatch.blp,
    readmodel.blp,
    webhooks.blp,
]
HERE = Path(__file__).parent
MIGRATIONS = HERE / "migrations"
log = logging.getLogger("kinerja.notifications")


#: the HTTP status of each rule-book error
DOMAIN_ERRORS = {domain.DomainError: 422}


def create_app(
    config: Config | None = None, *, clock: Callable[[], datetime] | None = None, migrate: bool | None = None
) -> Flask:
    config = config or Config.from_env(SERVICE)
    settings = load_settings(Settings, overrides=config.extra)
    if settings.smtp_url:
        try:
            SmtpSettings.from_url(settings.smtp_url)
        except ValueError as exc:
            raise ConfigError(f"SMTP_URL: {exc}") from None
    app = create_service_app(
        config,
        HERE,
        models,
        events,
        BLUEPRINTS,
        clock=clock,
        migrate=migrate,
        domain_errors=DOMAIN_ERRORS,
        settings=settings,
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
    (``NOTIFICATIONS_DISPATCH_INTERVAL``): each sends what is due and returns how many
    deliveries it handled; a round that handled a whole batch (``NOTIFICATIONS_DISPATCH_BATCH``)
    is followed by the next at once. They never raise (errors are logged; the next round retries)."""

    def dispatch_notifications() -> int:
        try:
            with platform.app.app_context(), platform.session_factory() as session:
                return sum(dispatch_due(session, platform.clock()).values())
        except Exception:  # noqa: BLE001 - a background round must never kill the worker
            log.exception("notifications dispatch round failed")
            return 0

    dispatch_notifications.interval = platform.settings.dispatch_interval
    dispatch_notifications.batch = int(platform.settings.dispatch_batch or 200)  # a full round: again at once
    return [dispatch_notifications]
