"""A reminder batch's state as the API answers it: the batch, its counts (kept on the batch row as
its items change, never counted from the items: a province's batch has 100,000), and its items —
those a call concerned, or one page of them (``GET /reminders/<key>``)."""

from __future__ import annotations

from marshmallow import Schema, fields
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from services.common.db import is_postgres
from services.common.http import PageArgs, UtcDateTime, paginate

from . import domain
from .models import ReminderBatch, ReminderItem
from .schemas import AgencyQuery
from .shared import utc

#: the batch's count columns, by the name ``counts`` gives them
_COUNTERS = {
    "items": ReminderBatch.item_count,
    "done": ReminderBatch.done_count,
    "superior": ReminderBatch.escalated_superior,
    "hr": ReminderBatch.escalated_hr,
}
assert set(_COUNTERS) >= set(domain.ESCALATION_TARGETS[1:])


# ------------------------------------------------------------------ schemas


class ReminderItemOut(Schema):
    recipient_nip = fields.String()
    escalation_level = fields.Integer()
    escalations = fields.List(fields.Dict())
    done_at = UtcDateTime(allow_none=True)


class ReminderCountsOut(Schema):
    items = fields.Integer(metadata={"description": "people in the batch"})
    done = fields.Integer(metadata={"description": "of them marked done"})
    escalations = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "escalations made, by target"}
    )


class ReminderBatchOut(Schema):
    batch_key = fields.String()
    agency_code = fields.String()
    template = fields.String()
    deadline = UtcDateTime(allow_none=True)
    escalate_to = fields.String()
    hr_after_hours = fields.Integer()
    items = fields.List(
        fields.Nested(ReminderItemOut),
        metadata={
            "description": "the items of the people the request named (POST /reminders); those it escalated, "
            "named or marked done (escalate); one page of the batch, oldest first (GET)"
        },
    )
    counts = fields.Nested(ReminderCountsOut, metadata={"description": "the whole batch, on every page"})
    created = fields.List(fields.String())
    already = fields.List(fields.String())
    unknown = fields.List(fields.String())
    escalated = fields.Integer()


class ReminderBatchPage(ReminderBatchOut):
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "the next page's ``cursor``; null at the end"}
    )


class ReminderPageQuery(PageArgs, AgencyQuery):
    pass


# ------------------------------------------------------------------ reading


def find_batch(s: Session, agency: str, batch_key: str) -> ReminderBatch | None:
    return s.scalar(
        select(ReminderBatch).where(ReminderBatch.agency_code == agency, ReminderBatch.batch_key == batch_key)
    )


def deadline_iso(batch: ReminderBatch) -> str | None:
    d = utc(batch.deadline)
    return d.isoformat().replace("+00:00", "Z") if d else None


def item_out(nip: str, level: int, escalations: list | None, done_at) -> dict:
    return {
        "recipient_nip": nip,
        "escalation_level": level,
        "escalations": escalations or [],
        "done_at": utc(done_at),
    }


def batch_out(batch: ReminderBatch, counts: dict, items: list[dict]) -> dict:
    return {
        "batch_key": batch.batch_key,
        "agency_code": batch.agency_code,
        "template": batch.template,
        "deadline": utc(batch.deadline),
        "escalate_to": batch.escalate_to,
        "hr_after_hours": batch.hr_after_hours,
        "counts": counts,
        "items": items,
    }


def _as_counts(values: dict) -> dict:
    return {
        "items": values["items"] or 0,
        "done": values["done"] or 0,
        "escalations": {to: values[to] or 0 for to in domain.ESCALATION_TARGETS[1:]},
    }


def bump(s: Session, batch: ReminderBatch, **added: int) -> dict:
    """Add to the batch's counts (``items``, ``done``, ``superior``, ``hr``) in this transaction and
    answer them as they now are: one ``UPDATE … RETURNING`` (other calls' additions committed
    meanwhile included), or the batch's as loaded when nothing changed."""
    columns = list(_COUNTERS.values())
    changes = {_COUNTERS[k].key: _COUNTERS[k] + n for k, n in added.items() if n}
    if changes:
        stmt = update(ReminderBatch).where(ReminderBatch.id == batch.id).values(changes).returning(*columns)
        row = s.execute(stmt.execution_options(synchronize_session=False)).one()
        for column, value in zip(columns, row):  # the loaded batch says the same, without a write of its own
            set_committed_value(batch, column.key, value)
    return _as_counts({name: getattr(batch, column.key) for name, column in _COUNTERS.items()})


_ITEM_COLUMNS = (
    ReminderItem.id,
    ReminderItem.recipient_nip,
    ReminderItem.params,
    ReminderItem.escalation_level,
    ReminderItem.escalations,
    ReminderItem.done_at,
)
# PostgreSQL: one probe of the unique (batch, NIP) index per NIP — the LIMIT keeps the planner from
# turning it into a join, which it served by scanning the whole batch (a hash join, or ``IN`` of
# 1,000 parameters compared one by one against each of a province's 100,000 items: 0.4 s a query)
_BY_NIPS = text(
    "SELECT i.id, i.recipient_nip, i.params, i.escalation_level, i.escalations, i.done_at "
    "FROM unnest(CAST(:nips AS VARCHAR[])) AS wanted(nip) CROSS JOIN LATERAL ("
    "SELECT * FROM reminder_items r WHERE r.batch_id = :batch_id AND r.recipient_nip = wanted.nip LIMIT 1) AS i"
).columns(*(c.expression for c in _ITEM_COLUMNS))


def items_of(s: Session, batch: ReminderBatch, nips) -> list[tuple]:
    """``(id, nip, params, level, escalations, done_at)`` of the batch's items of ``nips``."""
    wanted = sorted(set(nips))
    if not wanted:
        return []
    if is_postgres(s):
        return list(s.execute(_BY_NIPS, {"nips": wanted, "batch_id": batch.id}).tuples())
    rows, query = [], select(*_ITEM_COLUMNS).where(ReminderItem.batch_id == batch.id)
    for k in range(0, len(wanted), 1000):
        rows.extend(s.execute(query.where(ReminderItem.recipient_nip.in_(wanted[k : k + 1000]))).tuples())
    return rows


def batch_page(s: Session, batch: ReminderBatch, cursor: str | None, limit: int) -> dict:
    """The batch, its counts, and one page of its items, oldest first (the lists' keyset cursor)."""
    page = paginate(s, select(ReminderItem).where(ReminderItem.batch_id == batch.id), ReminderItem.id, cursor, limit)
    items = [item_out(i.recipient_nip, i.escalation_level, i.escalations, i.done_at) for i in page["items"]]
    return {**batch_out(batch, bump(s, batch), items), "next_cursor": page["next_cursor"]}
