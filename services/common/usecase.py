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
from sqlalchemy import Select, bindparam, select
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


def by_id(entity, *options) -> Select:
    """``SELECT entity WHERE id = :id`` with loader options, built once (at import) and run by
    :func:`load_by_id`: a hot lookup skips building its statement and its cache key each time."""
    return select(entity).options(*options).where(entity.id == bindparam("id")).execution_options(autoflush=False)


def load_by_id(s: Session, entity, key, statement: Select):
    """``s.get(entity, key)`` through a statement of :func:`by_id` (its options, e.g. a joined load
    in the same statement): the object already in the session when it is there, else one query;
    None when there is no such row."""
    if s.identity_key(entity, key) in s.identity_map:
        return s.get(entity, key)
    return s.execute(statement, {"id": key}).unique().scalar_one_or_none()


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


def record_many(s: Session, who: Principal | str | None, changes: list[dict]) -> list[dict | None]:
    """:func:`record` for many changes at once (each a dict of its keyword arguments plus
    ``action``, ``entity_type`` and ``entity_id``): the outbox events in one executemany, then the
    audit rows chained in one (a directory import of thousands of rows). Same rows, same order."""
    actor = actor_of(who)
    events, which = [], []
    for i, c in enumerate(changes):
        if c.get("event") is not None:
            payload = c.get("after") if c.get("data") is None else c["data"]
            subject = c["entity_id"] if c.get("event_subject") is None else c["event_subject"]
            events.append((c["event"], str(subject), payload or {}))
            which.append(i)
    envelopes: list[dict | None] = [None] * len(changes)
    for i, envelope in zip(which, platform().emit_many(s, events)):
        envelopes[i] = envelope
    audit_keys = ("action", "entity_type", "before", "after", "agency", "subject")
    platform().audit_many(
        s,
        [{k: c.get(k) for k in audit_keys} | {"actor": actor, "entity_id": str(c["entity_id"])} for c in changes],
    )
    return envelopes


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
