"""The notifications and deliveries a transaction has recorded, written together at its end.

The consumer applies up to a hundred events in one transaction, and most tell one to three people:
each event writing its own rows cost two statements (the messages, their deliveries), and looking
up whom it names two more (``recording.look_ahead`` now reads them once for the batch) — about
five round trips per event, even inside a batch. So an event's recorder hands its rows to the
session (:func:`hold`), and they are written all at once (COPY from :data:`COPY_FROM` rows):

- when the transaction commits (``before_commit``);
- before any statement of the session that is not one of the recorder's directory lookups (as
  SQLAlchemy's autoflush does for the ORM): whoever reads the notifications or deliveries, in the
  handler, a test or an endpoint, sees them;
- when :data:`~.recorder.FLUSH_EVERY` messages are held (a stage opening holds no more).

A rollback (or a session closed without committing) forgets them, with the transaction."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session

from services.common.db import copy_rows, is_postgres

from .models import (
    ActingRef,
    AgencySettings,
    Delivery,
    HrContact,
    Notification,
    Person,
    Preference,
    RuleRow,
    UnitRef,
    WebhookSubscription,
)
from .shared import count, metrics

PENDING = "notifications.pending"
"""Key in ``Session.info``: the rows held for the end of the transaction (:class:`Pending`)."""
BESIDE_HELD = "notifications.beside_held"
"""Execution option of a statement that may run while rows are held without writing them first:
it reads what one event has, and its caller adds that event's held rows (:func:`held_keys`)."""

COPY_FROM = 50
"""Rows written with COPY on PostgreSQL (the notifications' ids drawn first): fewer go in one
INSERT each table, two round trips instead of five."""
_NEXT_NOTIFICATION_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('notifications', 'id')) FROM generate_series(1, :n)"
)
#: what the recorder reads while rows are held: the directory, preferences, rules and subscriptions
#: (never the notifications or deliveries). Any other statement writes the held rows first.
_LOOKUPS = frozenset(
    m.__mapper__
    for m in (Person, Preference, UnitRef, ActingRef, AgencySettings, HrContact, RuleRow, WebhookSubscription)
)


def write_rows(
    s: Session, notes: list[dict], deliveries: list[tuple[int | None, dict]], counted: Counter, registry=None
) -> int:
    """Write ``notes`` (their ids drawn in order) and then ``deliveries`` (``(index in notes or
    None, row)``): one multi-row INSERT per table (Core, on the tables: the ORM's bulk path compiles
    a statement per row shape), or COPY on PostgreSQL from :data:`COPY_FROM` rows. Returns how many
    messages were written; the delivery metrics move once per channel and status (``registry``: the
    app's metrics when written outside its context, at a commit)."""
    table_notes, table_deliveries = Notification.__table__, Delivery.__table__
    postgres = is_postgres(s)
    ids = []
    if len(notes) >= COPY_FROM and postgres:
        # the ids drawn from the sequence first, then the rows: an INSERT … RETURNING of many rows
        # is one statement with 15 parameters a row, which psycopg and PostgreSQL parse anew each
        # time (250 ms for 500 rows under load, against 90 ms)
        ids = s.scalars(_NEXT_NOTIFICATION_IDS, {"n": len(notes)}).all()
        for row, id_ in zip(notes, ids):
            row["id"] = id_
        copy_rows(s, table_notes, notes)
    elif notes:
        ids = s.scalars(insert(table_notes).returning(table_notes.c.id, sort_by_parameter_order=True), notes).all()
    rows = []
    for note, row in deliveries:
        if note is not None:
            row["notification_id"] = ids[note]
        rows.append(row)
    if len(rows) >= COPY_FROM and postgres:
        copy_rows(s, table_deliveries, rows)
    elif rows:
        s.execute(insert(table_deliveries), rows)
    for (channel, status), n in counted.items():
        count(channel, status, n, registry)
    return len(ids)


class Pending:
    """Rows recorded in a session's transaction and not written yet."""

    def __init__(self):
        self.notes: list[dict] = []
        self.deliveries: list[tuple[int | None, dict]] = []
        self.counted: Counter = Counter()
        self.by_event: dict[str, tuple[set, set]] = {}  # event id → held message keys, (key, channel)s
        self.writing = False
        self.registry = metrics()  # the app's, for a write at the commit (outside the handler's app context)

    def __bool__(self) -> bool:
        return bool(self.notes or self.deliveries)

    def write(self, s: Session) -> None:
        if self.writing or not self:
            return
        self.writing = True  # its own statements do not write it again
        try:
            write_rows(s, self.notes, self.deliveries, self.counted, self.registry)
        finally:
            self.writing = False
        self.notes, self.deliveries, self.counted, self.by_event = [], [], Counter(), {}


def hold(s: Session, notes: list[dict], deliveries: list[tuple[int | None, dict]], counted: Counter, limit: int):
    """Keep a recorder's rows for the end of the transaction (or the next statement that could read
    them); write them all once ``limit`` messages are held."""
    pending = s.info.get(PENDING)
    if pending is None:
        pending = s.info[PENDING] = Pending()
    offset = len(pending.notes)
    pending.notes.extend(notes)
    pending.deliveries.extend((None if note is None else note + offset, row) for note, row in deliveries)
    for row in notes:
        pending.by_event.setdefault(row["event_id"], (set(), set()))[0].add(row["recipient_key"])
    for _, row in deliveries:
        pending.by_event.setdefault(row["event_id"], (set(), set()))[1].add((row["recipient_key"], row["channel"]))
    pending.counted.update(counted)
    if len(pending.notes) >= limit:
        pending.write(s)


def held_keys(s: Session, event_id: str) -> tuple[set, set]:
    """The recipient keys of the messages, and the (key, channel) of the deliveries, that the session
    holds for ``event_id`` (an event handled twice in one transaction, as a test may)."""
    pending = s.info.get(PENDING)
    keys = pending.by_event.get(event_id) if pending else None
    return keys if keys is not None else (set(), set())


# --------------------------------------------------------------- the session's events


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading(state) -> None:
    pending = state.session.info.get(PENDING)
    if not pending or pending.writing or state.execution_options.get(BESIDE_HELD):
        return
    mappers = state.all_mappers
    if mappers and all(m in _LOOKUPS for m in mappers):
        return
    pending.write(state.session)


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    pending = session.info.get(PENDING)
    if pending:
        pending.write(session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed (written above) or rolled back: nothing is held now
        session.info.pop(PENDING, None)
