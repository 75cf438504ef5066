"""What every service's use cases stand on (no domain word): the platform of the app in
context, its clock and the agency's "today", the two errors a use case raises most, and the one
way to record a change — :func:`record` (its audit row and outbox event together) or
:func:`changing` — one set for every service instead of a copy each. :func:`emit` alone is for an
event that records no change of its own (e.g. a computed index, a delivery's outcome).

A service's use-case modules import these by name (``from services.common.usecase import now,
record, …``); HTTP views and event consumers both run them inside the service's app context."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime

from flask import current_app
from sqlalchemy.orm import Session

from .auth import Principal
from .errors import FieldError, Problem
from .rules import DomainError


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


def parse_each(items: Iterable, parse: Callable, field: str, whole: str) -> list:
    """``parse(item)`` for every item (a rule book's parser); every item it refuses with a
    :class:`~services.common.rules.DomainError` becomes the field error ``<field>[i].<its field>``
    (``<field>[i].<whole>`` when the error names no field), all of them in one 422 — nothing is
    kept when one item is wrong."""
    parsed, errors = [], []
    for i, item in enumerate(items):
        try:
            parsed.append(parse(item))
        except DomainError as exc:
            errors.append(FieldError(f"{field}[{i}].{exc.field or whole}", exc.code, exc.params))
    if errors:
        raise validation(errors)
    return parsed


def actor_of(who: Principal | str | None) -> str:
    """Who an audit row names: a person or client (their ``sub``), a given name, or the service
    itself (``system:<service>``) for what an event made it do."""
    if isinstance(who, Principal):
        return who.sub
    return who or f"system:{platform().service}"


def emit(s: Session, type_: str, subject, data: dict, event_id: str | None = None) -> dict:
    """An event in the outbox, in the caller's transaction; the payload is serialised through the
    type's schema (the catalogue's contract). Returns the CloudEvent envelope."""
    return platform().emit(s, type_, str(subject), data, event_id=event_id)


def record(
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
    event: str | None = None,
    data: dict | None = None,
    event_subject=None,
    event_id: str | None = None,
) -> dict | None:
    """Record one change: its audit row and, when ``event`` names a type, its outbox event, both in
    the caller's transaction (they commit or roll back together). ``before`` is the state before the
    change — capture it before mutating, or use :func:`changing`. The event's payload is ``data``
    (default ``after``) and its subject ``event_subject`` (default ``entity_id``). Returns the
    event's envelope, or None when no event was asked for."""
    envelope = None
    if event is not None:
        # the event before the audit row: the audit row takes the hash chain's lock (one per database,
        # held until commit), so the event's schema, envelope and outbox row stay out of it — under
        # load the writers queued on that lock (bench/api_load.py)
        payload = after if data is None else data
        subject_ = entity_id if event_subject is None else event_subject
        envelope = emit(s, event, subject_, payload or {}, event_id=event_id)
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
    return envelope


class Change:
    """What :func:`changing` records on exit; the block may set ``event``, ``data``, ``agency``,
    ``subject``, ``action`` or ``entity_id`` once it knows them, or ``skip()`` an unchanged record."""

    def __init__(self, before, **fields):
        self.before = before
        self.after = None
        self.skipped = False
        self.envelope: dict | None = None
        self.__dict__.update(fields)

    def skip(self) -> None:
        self.skipped = True


@contextmanager
def changing(
    s: Session,
    who: Principal | str | None,
    action: str,
    entity_type: str,
    entity_id,
    state: Callable[[], dict],
    *,
    agency=None,
    subject=None,
    event: str | None = None,
    data: dict | None = None,
) -> Iterator[Change]:
    """``with changing(s, p, "plan.updated", "plan", plan.id, lambda: plan_state(plan)) as c:``
    takes ``before`` from ``state()`` on entry — before the block changes anything — and ``after``
    from ``state()`` on exit, then records both with :func:`record` (nothing is recorded if the block
    raises or calls ``c.skip()``)."""
    change = Change(state(), action=action, entity_id=entity_id, agency=agency, subject=subject, event=event, data=data)
    yield change
    if change.skipped:
        return
    change.after = state()
    change.envelope = record(
        s,
        who,
        change.action,
        entity_type,
        change.entity_id,
        before=change.before,
        after=change.after,
        agency=change.agency,
        subject=change.subject,
        event=change.event,
        data=change.data,
    )
