"""Escalating a reminder batch: who is still overdue is escalated to their superior from the
deadline, then to the agency's HR contacts ``hr_after_hours`` later (or at once up to ``to``),
each level once per person; the others of the batch are marked done (unless the call is one
``partial`` part of a longer list). Set-based: the items a call concerns are read as columns and
written back in one ``executemany``; those marked done in one ``UPDATE``; the batch's counts kept
on the batch row — a part of 5,000 never reads the rest of a province's batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from services.common.auth import Principal
from services.common.usecase import now, record, validation

from . import domain, recorder
from . import reminder_batches as rb
from .models import ReminderBatch, ReminderItem
from .recorder import Recorder
from .shared import synthetic_event_id, t, utc

ESCALATION_EVENT = "notifications.escalation"

_ITEMS = ReminderItem.__table__
_ESCALATED = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("item_id"))
    .values(escalation_level=bindparam("level"), escalations=bindparam("trail"))
)


@dataclass
class OpenItem:
    """What escalating an item reads and changes (its columns, not an ORM object)."""

    id: int
    recipient_nip: str
    params: dict | None
    escalation_level: int
    escalations: list


def escalate(s: Session, p: Principal | None, batch: ReminderBatch, data: dict) -> dict:
    """Escalate the items still open: to the recipient's superior from the deadline, then to HR
    ``hr_after_hours`` later (or at once up to ``to``), each level once per item — a repeated call
    adds nothing. ``recipients`` lists who is still overdue; the others are marked done."""
    at = now()
    forced = data.get("to")
    if forced is not None and forced not in domain.ESCALATION_TARGETS:
        raise validation([("to", "reminder.escalate_to")])
    items, finished = open_items(s, batch, data.get("recipients"), at, mark_done=not data.get("partial"))
    target_level = domain.escalation_level(
        at, utc(batch.deadline), hr_after=timedelta(hours=batch.hr_after_hours), target=batch.escalate_to
    )
    if forced:
        cap = domain.ESCALATION_TARGETS.index(batch.escalate_to)
        target_level = max(target_level, min(domain.ESCALATION_TARGETS.index(forced), cap))
    # one recorder for the batch: people and preferences loaded once (two queries), not per item;
    # each escalation keeps its own event id, and the item's level makes a repeat add nothing
    rec = Recorder(s, "", ESCALATION_EVENT, batch.agency_code, at)
    rec.preload([i.recipient_nip for i in items])
    rec.preload([o.superior_nip for o in (rec.people.get(i.recipient_nip) for i in items) if o and o.superior_nip])
    made = {to: 0 for to in domain.ESCALATION_TARGETS[1:]}
    changed: list[OpenItem] = []
    shared = Shared(batch, at)
    for item in items:
        if item.escalation_level >= target_level:
            continue
        for level in range(item.escalation_level + 1, target_level + 1):
            escalate_item(rec, batch, item, level, shared)
            made[domain.ESCALATION_TARGETS[level]] += 1
            if sum(made.values()) % recorder.FLUSH_EVERY == 0:
                rec.flush()
        changed.append(item)
    rec.flush()
    if changed:
        rows = [{"item_id": i.id, "level": i.escalation_level, "trail": i.escalations} for i in changed]
        s.execute(_ESCALATED, rows)
    escalated = sum(made.values())
    counts = rb.bump(s, batch, done=len(finished), **made)
    if escalated:
        after = {"level": target_level, "escalations": escalated}
        record(s, p, "reminder_batch.escalated", "reminder_batch", batch.id, agency=batch.agency_code, after=after)
    # the people this call concerned (escalated, named, or marked done), not the whole batch
    out = [(i.id, rb.item_out(i.recipient_nip, i.escalation_level, i.escalations, None)) for i in items]
    out += [(row[0], rb.item_out(*row[1:])) for row in finished]
    out.sort(key=lambda pair: pair[0])
    return {**rb.batch_out(batch, counts, [item for _, item in out]), "escalated": escalated}


def open_items(
    s: Session, batch: ReminderBatch, pending: list | None, at: datetime, mark_done: bool = True
) -> tuple[list[OpenItem], list[tuple]]:
    """The batch's items not done; with ``pending`` (who is still overdue) only theirs, and the
    others are marked done — unless ``pending`` is only a part of the list (``mark_done`` False).
    Also who was marked done: ``(id, nip, level, escalations, done_at)``."""
    columns = (
        ReminderItem.id,
        ReminderItem.recipient_nip,
        ReminderItem.params,
        ReminderItem.escalation_level,
        ReminderItem.escalations,
    )
    query = select(*columns).where(ReminderItem.batch_id == batch.id, ReminderItem.done_at.is_(None))
    finished: list[tuple] = []
    if pending is None:
        rows = list(s.execute(query.order_by(ReminderItem.id)).tuples())
    else:
        still = sorted(set(pending))
        if mark_done:  # everyone else of the batch: done, in one statement
            done = (
                update(ReminderItem)
                .where(
                    ReminderItem.batch_id == batch.id,
                    ReminderItem.done_at.is_(None),
                    ReminderItem.recipient_nip.not_in(still),
                )
                .values(done_at=at)
                .returning(*columns[:2], ReminderItem.escalation_level, ReminderItem.escalations, ReminderItem.done_at)
            )
            finished = list(s.execute(done, execution_options={"synchronize_session": False}).tuples())
        # the listed people's items by the unique (batch, NIP) index: a part of 5,000 never scans the batch
        rows = sorted((row[:5] for row in rb.items_of(s, batch, still) if row[5] is None), key=lambda r: r[0])
    return [OpenItem(i, nip, params, level or 0, list(trail or [])) for i, nip, params, level, trail in rows], finished


class Shared:
    """What every escalation of a call has in common, worked out once for the call rather than
    per person: the batch's deadline and the time as text, the task's text per language."""

    def __init__(self, batch: ReminderBatch, at: datetime):
        self.deadline = rb.deadline_iso(batch)
        self.at = at.isoformat().replace("+00:00", "Z")
        self.template = batch.template
        self._task: dict[str, str] = {}

    def task_text(self, lang: str) -> str:
        if lang not in self._task:
            self._task[lang] = t(f"task.{self.template}", lang)
        return self._task[lang]


def escalate_item(rec: Recorder, batch: ReminderBatch, item: OpenItem, level: int, shared: Shared) -> None:
    """Tell the superior or HR (``level``) that ``item``'s recipient is overdue, and note it on the item."""
    to = domain.ESCALATION_TARGETS[level]
    rec.begin(synthetic_event_id("escalation", batch.id, item.recipient_nip, level))
    overdue = rec.person(item.recipient_nip)
    superior = rec.person(overdue.superior_nip) if overdue and overdue.superior_nip else None
    if to == "superior":
        # the superior and whoever stands in for them today (never the overdue person themselves)
        targets = rec.official_targets(superior.nip, "superior", exclude=(item.recipient_nip,)) if superior else []
    else:
        targets = rec.hr_targets()
    data = {**batch.params, **(item.params or {}), "batch_key": batch.batch_key, "employee_nip": item.recipient_nip}
    extra = {
        "overdue": {"name": overdue.name if overdue else item.recipient_nip, "nip": item.recipient_nip},
        "superior": {"name": superior.name, "nip": superior.nip} if superior else None,
        "deadline": shared.deadline,
    }
    for target in targets:
        extra["task_text"] = data.get("task") or shared.task_text(rec.language(target))
        rec.record(target, f"escalation.{to}", data, dict(extra))
    item.escalations = [
        *item.escalations,
        {"level": level, "to": to, "recipients": [t_.key for t_ in targets], "at": shared.at},
    ]
    item.escalation_level = level
