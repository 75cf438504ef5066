"""What the notifications capability modules share: the API prefix and the views' unit of work,
messages in the recipient's language, the delivery metrics, instants and time zones, synthetic
event ids, and who may act for which agency or person."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, g

from services.common.auth import Principal, current_principal, forbid
from services.common.errors import Problem
from services.common.usecase import platform, settings, validation

log = logging.getLogger("kinerja.notifications")

PREFIX = "/notifications/api/v1"
NAMESPACE = uuid.UUID("6f1c2b8e-3d4a-5b6c-9d7e-0a1b2c3d4e5f")  # synthetic event ids (reminders, digests)
DEFAULT_TZ = "Asia/Jakarta"


# ------------------------------------------------------------------ views


def uow():
    """The views' unit of work (a session committed when the block ends without an error)."""
    return platform().uow()


def lang() -> str:
    """The request's language (``Accept-Language`` or ``?lang=``)."""
    return g.get("lang", "id")


def t(key: str, lang: str, **params) -> str:
    return platform().catalogue.t(key, lang, **params)


# ------------------------------------------------------------------ metrics


def metrics() -> dict | None:
    try:
        return current_app.extensions.get("notifications_metrics")
    except RuntimeError:  # outside an app context (a bare script)
        return None


def count(channel: str, status: str, n: int = 1, registry: dict | None = None) -> None:
    """``registry``: the app's metrics, when counting outside its context (at a commit)."""
    m = registry if registry is not None else metrics()
    if m is not None and n:
        m["deliveries"].labels(channel, status).inc(n)


def count_attempt(channel: str, outcome: str) -> None:
    m = metrics()
    if m is not None:
        m["attempts"].labels(channel, outcome).inc()


# ------------------------------------------------------------------ time


def utc(at: datetime | None) -> datetime | None:
    """Instants from SQLite come back naive (stored UTC)."""
    if at is None:
        return None
    return at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings().default_timezone or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return ZoneInfo(DEFAULT_TZ)


def synthetic_event_id(*parts) -> str:
    """A stable event id for what no event carried (a reminder, an escalation, a digest)."""
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


# ------------------------------------------------------------------ access and targets


def agency_of(p: Principal, requested: str | None = None, roles=("hr",)) -> str:
    """The agency an HR (or admin) request acts on."""
    if p.is_admin:
        agency = requested or p.agency
        if not agency:
            raise validation([("agency_code", "notifications.agency_required")])
        return agency
    if not p.has(*roles) or not p.agency:
        raise Problem(403, "auth.role", roles=", ".join(sorted(p.roles)) or "-", required=", ".join(roles))
    if requested and requested != p.agency:
        raise forbid()
    return p.agency


def hr_request(args: dict) -> tuple[Principal, str]:
    """The caller of an HR view and the agency it acts on (``?agency_code=`` for admins)."""
    p = current_principal()
    return p, agency_of(p, args.get("agency_code"))


def require_person(p: Principal) -> str:
    if not p.nip:
        raise Problem(403, "notifications.no_person")
    return p.nip


def allow_private_targets() -> bool:
    return platform().config.embedded or bool(settings().webhook_allow_private)


def mask_url(url: str) -> str:
    """Apprise URLs carry tokens: show the scheme and host only."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "***"
    return f"{parts.scheme}://{host or '***'}/***" if parts.scheme else "***"
