"""What every service's use cases stand on (no domain word): the platform of the app in
context, its clock and the agency's "today", the two errors a use case raises most, and the
audit row and outbox event it records — one set for every service instead of a copy each.

A service's use-case modules import these by name (``from services.common.usecase import now,
audit, emit, …``); HTTP views and event consumers both run them inside the service's app context."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from flask import current_app
from sqlalchemy.orm import Session

from .auth import Principal
from .errors import FieldError, Problem


def platform():
    """The service's :class:`~services.common.app.Platform` (database, bus, clock, catalogue)."""
    return current_app.extensions["kinerja"]


def settings():
    """The service's own typed settings (``services/<service>/settings.py``), on the platform."""
    return platform().settings


def now() -> datetime:
    return platform().clock()


def today() -> date:
    """Today in the agency's time zone (``KINERJA_TIMEZONE``): deadlines and windows are local dates."""
    return platform().today()


def not_found(what: str, key) -> Problem:
    """404 ``<service>.not_found`` naming what was looked for."""
    return Problem(404, f"{platform().service}.not_found", what=what, id=str(key))  # not key=: Catalogue.t(key, …)


def validation(errors: Iterable[FieldError | tuple], **params) -> Problem:
    """422 with field errors: :class:`FieldError` items, or ``(field, code)`` / ``(field, code, params)``
    tuples (``params`` given here apply to the pairs)."""
    items = []
    for e in errors:
        if isinstance(e, FieldError):
            items.append(e)
        else:
            items.append(FieldError(e[0], e[1], e[2] if len(e) > 2 else params))
    return Problem(422, "validation", errors=items)


def actor_of(who: Principal | str | None) -> str:
    """Who an audit row names: a person or client (their ``sub``), a given name, or the service
    itself (``system:<service>``) for what an event made it do."""
    if isinstance(who, Principal):
        return who.sub
    return who or f"system:{platform().service}"


def audit(
    s: Session,
    who: Principal | str | None,
    action: str,
    entity_type: str,
    entity_id,
    *,
    before=None,
    after=None,
    agency=None,
    subject=None,
) -> None:
    """An append-only audit row in the caller's transaction (``before`` is the state before the change)."""
    platform().audit(
        s,
        actor=actor_of(who),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
        agency=agency,
        subject=subject,
    )


def emit(s: Session, type_: str, subject, data: dict, event_id: str | None = None) -> dict:
    """An event in the outbox, in the caller's transaction; the payload is serialised through the
    type's schema (the catalogue's contract). Returns the CloudEvent envelope."""
    return platform().emit(s, type_, str(subject), data, event_id=event_id)
