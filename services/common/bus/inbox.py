"""The inbox: which events a consumer has applied, recorded in the same transaction as their effect
(``INSERT … ON CONFLICT DO NOTHING``: a redelivered event finds its row and has no second effect)."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from ..db import is_postgres


@functools.lru_cache(maxsize=32)
def _inbox_statement(inbox):
    """``INSERT … ON CONFLICT (event_id, consumer) DO NOTHING`` as SQL text, the same on SQLite
    and PostgreSQL. SQLAlchemy 2.0 cannot cache the compiled form of its dialects'
    ``on_conflict_do_nothing`` and compiled it again for every consumed event (about a millisecond
    each); a text statement is compiled once."""
    cols = ("event_id", "consumer", "type", "processed_at")
    return text(
        f"INSERT INTO {inbox.name} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) "
        "ON CONFLICT (event_id, consumer) DO NOTHING"
    ).bindparams(*(bindparam(c, type_=inbox.c[c].type) for c in cols))


def inbox_insert(session: Session, tables, envelope: dict, consumer: str, now: datetime) -> bool:
    params = {"event_id": envelope["id"], "consumer": consumer, "type": envelope["type"], "processed_at": now}
    # preserve_rowcount: SQLAlchemy soft-closes the cursor of a plain INSERT, and a closed
    # psycopg 3 cursor reports rowcount -1 (pysqlite keeps it), so ask for it up front.
    result = session.execute(_inbox_statement(tables.inbox), params, execution_options={"preserve_rowcount": True})
    if result.rowcount not in (0, 1):  # pragma: no cover - would make duplicates undetectable
        raise RuntimeError(f"inbox insert reported rowcount {result.rowcount}")
    return result.rowcount == 1


def inbox_insert_many(session: Session, tables, envelopes: list[dict], consumer: str, now: datetime) -> set[str]:
    """Record a batch of events in the inbox with one statement; return the ids that were new."""
    inbox = tables.inbox
    if is_postgres(session):
        params = {
            "event_ids": [e["id"] for e in envelopes],
            "types": [e["type"] for e in envelopes],
            "consumer": consumer,
            "processed_at": now,
        }
        return set(session.scalars(_inbox_unnest_statement(inbox), params))
    rows = [{"event_id": e["id"], "consumer": consumer, "type": e["type"], "processed_at": now} for e in envelopes]
    statement = _inbox_many_statement(inbox, len(rows))
    params = {f"{key}_{i}": value for i, row in enumerate(rows) for key, value in row.items()}
    return set(session.scalars(statement, params))


@functools.lru_cache(maxsize=32)
def _inbox_unnest_statement(inbox):
    """PostgreSQL: the batch's ids and types as two arrays (``unnest``), one statement of four
    parameters whatever the batch's size. The ``VALUES`` form took four parameters an event, each
    bound by SQLAlchemy and adapted by psycopg: twice the CPU for a batch of 100 (bench/README.md)."""
    return text(
        f"INSERT INTO {inbox.name} (event_id, consumer, type, processed_at) "
        "SELECT u.event_id, :consumer, u.type, :processed_at "
        "FROM unnest(CAST(:event_ids AS varchar[]), CAST(:types AS varchar[])) AS u(event_id, type) "
        "ON CONFLICT (event_id, consumer) DO NOTHING RETURNING event_id"
    ).bindparams(bindparam("processed_at", type_=inbox.c.processed_at.type))


@functools.lru_cache(maxsize=256)
def _inbox_many_statement(inbox, n: int):
    """``INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING event_id`` for ``n`` rows, as
    SQL text compiled once per size (see :func:`_inbox_statement`); SQLite's form."""
    cols = ("event_id", "consumer", "type", "processed_at")
    values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in cols) + ")" for i in range(n))
    return text(
        f"INSERT INTO {inbox.name} ({', '.join(cols)}) VALUES {values} "
        "ON CONFLICT (event_id, consumer) DO NOTHING RETURNING event_id"
    ).bindparams(*(bindparam(f"{c}_{i}", type_=inbox.c[c].type) for i in range(n) for c in cols))
