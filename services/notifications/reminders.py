"""Reminders and their escalation: a batch of reminders (from HR, a flow, or a
``*.reminder.requested`` event) tells each recipient once, ever; who is still overdue is escalated
to their superior from the deadline, then to the agency's HR contacts ``hr_after_hours`` later —
each level once per person (by HTTP or ``*.reminder.escalation_requested``). Whoever stands in for
the superior that day (Plt/Plh) is escalated to as well, and a reminder to rate or to sign reaches
whoever stands in for its recipient."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.bus import Reject
from services.common.errors import Problem
from services.common.http import UtcDateTime
from services.common.i18n import LANGUAGES
from services.common.usecase import not_found, now, record, validation

from . import domain
from .models import ReminderBatch, ReminderItem
from .recording import Recorder
from .render import RenderError, render
from .schemas import NIP, AgencyQuery
from .shared import DEFAULT_TZ, PREFIX, agency_of, synthetic_event_id, t, uow, utc, zone

REMINDER_EVENT = "notifications.reminder"
ESCALATION_EVENT = "notifications.escalation"

blp = Blueprint("reminders", __name__, url_prefix=PREFIX, description="HR and flows: reminders and their escalation")


# ------------------------------------------------------------------ schemas


class ReminderRecipientIn(Schema):
    nip = fields.String(required=True, validate=NIP)
    params = fields.Dict(keys=fields.String(), load_default=dict)


class ReminderIn(Schema):
    batch_key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    template = fields.String(required=True, validate=validate.OneOf(domain.REMINDER_TEMPLATES))
    recipients = fields.List(
        fields.Nested(ReminderRecipientIn), required=True, validate=validate.Length(min=1, max=5000)
    )
    deadline = fields.AwareDateTime(allow_none=True, load_default=None, default_timezone=None)
    params = fields.Dict(keys=fields.String(), load_default=dict)
    escalate_to = fields.String(
        load_default="hr",
        validate=validate.OneOf(domain.ESCALATION_TARGETS),
        metadata={"description": "none | superior | hr (superior first, then HR)"},
    )
    hr_after_hours = fields.Integer(load_default=48, validate=validate.Range(min=0, max=24 * 60))
    agency_code = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "admin only"})


ESCALATE_MAX = 5000  # recipients per call; a longer list goes in parts (``partial``)
FLUSH_EVERY = 500
"""Reminders or escalations rendered before the recorder writes them: a request holds that many
rendered messages, not one per person of the batch (5,000 held 30 MB until the end of the call)."""


class EscalateIn(Schema):
    recipients = fields.List(
        fields.String(validate=NIP),
        validate=validate.Length(max=ESCALATE_MAX),
        metadata={"description": "who is still overdue; the others are marked done (unless `partial`)"},
    )
    partial = fields.Boolean(
        load_default=False,
        metadata={
            "description": "`recipients` is one part of a longer list (more than 5,000 people overdue): "
            "only they are escalated and no one is marked done"
        },
    )
    to = fields.String(
        validate=validate.OneOf(domain.ESCALATION_TARGETS),
        metadata={"description": "escalate at least this far now (else by the deadline)"},
    )


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
            "description": "the batch's items: all of them (GET); those the request named (POST /reminders); "
            "those it escalated, named or marked done (escalate)"
        },
    )
    counts = fields.Nested(ReminderCountsOut)
    created = fields.List(fields.String())
    already = fields.List(fields.String())
    unknown = fields.List(fields.String())
    escalated = fields.Integer()


# ------------------------------------------------------------------ consumers


def reminder_requested(s: Session, envelope: dict) -> dict:
    """``*.reminder.requested``: a batch asked for by another service (HR's agency in the payload)."""
    data = envelope.get("data") or {}
    try:
        request_reminders(s, None, data, agency=data.get("agency_code"))
    except Problem as exc:
        raise Reject(f"reminder request refused: {exc.code} {exc.errors or exc.params}") from None
    return {"reminders": 1}


def escalation_requested(s: Session, envelope: dict) -> dict:
    """``*.reminder.escalation_requested``: escalate a known batch's overdue recipients."""
    data = envelope.get("data") or {}
    batch = _batch(s, data.get("agency_code") or "", data.get("batch_key") or "")
    if batch is None:
        raise Reject("escalation requested for an unknown reminder batch")
    escalate(s, None, batch, {k: data[k] for k in ("recipients", "to") if k in data})
    return {"escalations": 1}


# ------------------------------------------------------------------ use cases


def _deadline_iso(batch: ReminderBatch) -> str | None:
    d = utc(batch.deadline)
    return d.isoformat().replace("+00:00", "Z") if d else None


def _batch(s: Session, agency: str, batch_key: str) -> ReminderBatch | None:
    return s.scalar(
        select(ReminderBatch).where(ReminderBatch.agency_code == agency, ReminderBatch.batch_key == batch_key)
    )


def _checked_request(data: dict) -> tuple[str, str, str, datetime | None]:
    """``(template, escalate_to, batch_key, deadline in UTC)`` of a reminder request, or 422."""
    template = data.get("template")
    if template not in domain.REMINDER_TEMPLATES:
        raise validation([("template", "reminder.template", {"allowed": ", ".join(domain.REMINDER_TEMPLATES)})])
    escalate_to = data.get("escalate_to") or "hr"
    if escalate_to not in domain.ESCALATION_TARGETS:
        raise validation([("escalate_to", "reminder.escalate_to")])
    batch_key = str(data.get("batch_key") or "")
    if not batch_key:
        raise validation([("batch_key", "field.required")])
    deadline = data.get("deadline")
    if isinstance(deadline, str):
        try:
            deadline = datetime.fromisoformat(deadline.replace("Z", "+00:00"))
        except ValueError:
            raise validation([("deadline", "field.type")]) from None
    if isinstance(deadline, datetime):
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=zone(None))
        deadline = deadline.astimezone(timezone.utc)  # stored in UTC (SQLite keeps no offset)
    elif deadline is not None:
        raise validation([("deadline", "field.type")])
    return template, escalate_to, batch_key, deadline


def request_reminders(s: Session, p: Principal | None, data: dict, *, agency: str | None = None) -> dict:
    """Create (or extend) a reminder batch; one reminder per (batch key, recipient), ever."""
    if p is not None:
        agency = agency_of(p, data.get("agency_code"))
    if not agency:
        raise validation([("agency_code", "notifications.agency_required")])
    template, escalate_to, batch_key, deadline = _checked_request(data)
    recipients = [r if isinstance(r, dict) else {"nip": r} for r in data.get("recipients") or []]
    at = now()
    batch = _batch(s, agency, batch_key)
    if batch is None:
        batch = ReminderBatch(
            agency_code=agency,
            batch_key=batch_key,
            template=template,
            deadline=deadline,
            params=dict(data.get("params") or {}),
            escalate_to=escalate_to,
            hr_after_hours=int(data.get("hr_after_hours") or 48),
            created_by=p.sub if p else "system:events",
            created_at=at,
        )
        s.add(batch)
        s.flush()
        after = {
            "batch_key": batch_key,
            "template": template,
            "deadline": _deadline_iso(batch),
            "escalate_to": escalate_to,
        }
        record(s, p, "reminder_batch.created", "reminder_batch", batch.id, agency=agency, after=after)
    elif batch.template != template:
        raise Problem(409, "reminder.batch_conflict", batch_key=batch_key, template=batch.template)
    _check_renders(batch, recipients)
    # which of the request's people have an item already: their NIPs only, never the whole batch (a
    # flow sends a province's batch 200 people a call; reading every item made it quadratic)
    asked = sorted({r["nip"] for r in recipients if isinstance(r.get("nip"), str)})
    existing: set[str] = set()
    for k in range(0, len(asked), 1000):
        query = select(ReminderItem.recipient_nip).where(
            ReminderItem.batch_id == batch.id, ReminderItem.recipient_nip.in_(asked[k : k + 1000])
        )
        existing.update(s.scalars(query))
    rec = Recorder(s, "", REMINDER_EVENT, agency, at)
    rec.preload([r.get("nip") for r in recipients if isinstance(r.get("nip"), str)])
    created, already, unknown = [], [], []
    for r in recipients:
        nip = r.get("nip")
        if not isinstance(nip, str):
            unknown.append(str(nip))
            continue
        if nip in existing:
            already.append(nip)
            continue
        person = rec.person(nip)
        if person is None or person.agency_code != agency or not person.active:
            unknown.append(nip)
            continue
        item = ReminderItem(
            batch_id=batch.id,
            recipient_nip=nip,
            params=dict(r.get("params") or {}),
            event_id=synthetic_event_id("reminder", batch.id, nip),
            escalation_level=0,
            escalations=[],
            created_at=at,
        )
        s.add(item)
        existing.add(nip)
        created.append(nip)
        rec.begin(item.event_id)
        params = {**batch.params, **item.params, "batch_key": batch.batch_key}
        rec.record(rec.person_target(nip, "employee"), batch.template, params, {"deadline": _deadline_iso(batch)})
        if batch.template in domain.ACTING_REMINDERS:  # what a Plt/Plh does in the recipient's place
            for stand_in in rec.acting_targets(nip, "acting"):
                rec.record(stand_in, batch.template, params, {"deadline": _deadline_iso(batch)})
        if len(created) % FLUSH_EVERY == 0:
            rec.flush()
    rec.flush()
    s.flush()
    # the request's people, not the whole batch: the flow sends a province's batch 200 at a time,
    # and listing 100,000 items in each answer made the batch cost the square of its size
    named = batch_summary(s, batch, nips=[*created, *already])
    return {**named, "created": created, "already": already, "unknown": unknown}


def _check_renders(batch: ReminderBatch, recipients: list[dict]) -> None:
    """Refuse a batch whose template lacks a parameter up front (422), rather than recording a
    failed delivery per recipient."""
    sample = recipients[0].get("params") if recipients and isinstance(recipients[0], dict) else {}
    ctx = {
        "recipient": {"name": "-", "nip": None, "audience": "employee"},
        "data": {**batch.params, **(sample or {}), "batch_key": batch.batch_key},
        "event": {},
        "link": "",
        "deadline": _deadline_iso(batch),
        "timezone": DEFAULT_TZ,
    }
    for lang in LANGUAGES:
        try:
            render(batch.template, lang, ctx, translate=lambda key, lang=lang, **kw: t(key, lang, **kw))
        except RenderError as exc:
            raise validation([("params", "reminder.params", {"reason": exc.reason})])


_SUMMARY_COLUMNS = (
    ReminderItem.id,
    ReminderItem.recipient_nip,
    ReminderItem.escalation_level,
    ReminderItem.escalations,
    ReminderItem.done_at,
)


def batch_summary(s: Session, batch: ReminderBatch, nips: list[str] | None = None) -> dict:
    """The batch, its counts, and each item's state: every item, or those of ``nips`` (the columns
    it lists, not ORM objects: a batch has as many items as the agency has people)."""
    query = select(*_SUMMARY_COLUMNS).where(ReminderItem.batch_id == batch.id).order_by(ReminderItem.id)
    if nips is None:
        items = list(s.execute(query))
    else:
        wanted, items = sorted(set(nips)), []
        for k in range(0, len(wanted), 1000):
            items.extend(s.execute(query.where(ReminderItem.recipient_nip.in_(wanted[k : k + 1000]))))
        items.sort(key=lambda i: i.id)
    return {
        "batch_key": batch.batch_key,
        "agency_code": batch.agency_code,
        "template": batch.template,
        "deadline": utc(batch.deadline),
        "escalate_to": batch.escalate_to,
        "hr_after_hours": batch.hr_after_hours,
        "counts": _counts(s, batch),
        "items": [
            {
                "recipient_nip": i.recipient_nip,
                "escalation_level": i.escalation_level,
                "escalations": i.escalations or [],
                "done_at": utc(i.done_at),
            }
            for i in items
        ],
    }


def _counts(s: Session, batch: ReminderBatch) -> dict:
    """People in the batch, those done, and the escalations made by target (an item at level n was
    escalated to each level up to n), in one grouped query."""
    rows = s.execute(
        select(ReminderItem.escalation_level, ReminderItem.done_at.is_not(None), func.count())
        .where(ReminderItem.batch_id == batch.id)
        .group_by(ReminderItem.escalation_level, ReminderItem.done_at.is_not(None))
    ).all()
    escalations = {to: 0 for to in domain.ESCALATION_TARGETS[1:]}
    for level, _done, n in rows:
        for k in range(1, (level or 0) + 1):
            escalations[domain.ESCALATION_TARGETS[k]] += n
    return {
        "items": sum(n for *_, n in rows),
        "done": sum(n for _, done, n in rows if done),
        "escalations": escalations,
    }


def get_batch(s: Session, p: Principal, batch_key: str, agency: str | None = None) -> ReminderBatch:
    batch = _batch(s, agency_of(p, agency), batch_key)
    if batch is None:
        raise not_found("reminder batch", batch_key)
    return batch


def escalate(s: Session, p: Principal | None, batch: ReminderBatch, data: dict) -> dict:
    """Escalate the items still open: to the recipient's superior from the deadline, then to HR
    ``hr_after_hours`` later (or at once up to ``to``), each level once per item — a repeated call
    adds nothing. ``recipients`` lists who is still overdue; the others are marked done."""
    at = now()
    items, finished = _open_items(s, batch, data.get("recipients"), at, mark_done=not data.get("partial"))
    forced = data.get("to")
    if forced is not None and forced not in domain.ESCALATION_TARGETS:
        raise validation([("to", "reminder.escalate_to")])
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
    escalated = 0
    for item in items:
        for level in range(item.escalation_level + 1, target_level + 1):
            _escalate_item(rec, batch, item, level, at)
            escalated += 1
            if escalated % FLUSH_EVERY == 0:
                rec.flush()
    rec.flush()
    s.flush()
    if escalated:
        after = {"level": target_level, "escalations": escalated}
        record(s, p, "reminder_batch.escalated", "reminder_batch", batch.id, agency=batch.agency_code, after=after)
    # the people this call concerned (escalated, named, or marked done), not the whole batch
    concerned = batch_summary(s, batch, nips=[*(i.recipient_nip for i in items), *finished])
    return {**concerned, "escalated": escalated}


def _open_items(
    s: Session, batch: ReminderBatch, pending: list | None, at: datetime, mark_done: bool = True
) -> tuple[list[ReminderItem], list[str]]:
    """The batch's items not done; with ``pending`` (who is still overdue) only theirs, and the others
    are marked done — unless ``pending`` is only a part of the list (``mark_done`` False). Also who
    was marked done."""
    items = list(
        s.scalars(
            select(ReminderItem)
            .where(ReminderItem.batch_id == batch.id, ReminderItem.done_at.is_(None))
            .order_by(ReminderItem.id)
        )
    )
    if pending is None:
        return items, []
    still, finished = set(pending), []
    for item in items:
        if mark_done and item.recipient_nip not in still:
            item.done_at = at
            finished.append(item.recipient_nip)
    return [i for i in items if i.recipient_nip in still], finished


def _escalate_item(rec: Recorder, batch: ReminderBatch, item: ReminderItem, level: int, at: datetime) -> None:
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
        "deadline": _deadline_iso(batch),
    }
    for target in targets:
        extra["task_text"] = data.get("task") or t(f"task.{batch.template}", rec.language(target))
        rec.record(target, f"escalation.{to}", data, dict(extra))
    item.escalations = [
        *(item.escalations or []),
        {
            "level": level,
            "to": to,
            "recipients": [t_.key for t_ in targets],
            "at": at.isoformat().replace("+00:00", "Z"),
        },
    ]
    item.escalation_level = level


# ------------------------------------------------------------------ views


@blp.route("/reminders")
class Reminders(MethodView):
    @blp.arguments(ReminderIn)
    @blp.response(200, ReminderBatchOut)
    def post(self, data):
        """Send a batch of reminders (HR, or a flow with an HR token). Idempotent per (batch key,
        recipient): a repeated or extended request reminds only those not reminded yet."""
        with uow() as s:
            return request_reminders(s, current_principal(), data)


@blp.route("/reminders/<batch_key>/escalate")
class Escalate(MethodView):
    @blp.arguments(AgencyQuery, location="query")
    @blp.arguments(EscalateIn)
    @blp.response(200, ReminderBatchOut)
    def post(self, args, data, batch_key):
        """Escalate who is still overdue: the superior from the deadline, HR ``hr_after_hours`` later
        (or now up to ``to``); each level once per person."""
        p = current_principal()
        with uow() as s:
            return escalate(s, p, get_batch(s, p, batch_key, args.get("agency_code")), data)


@blp.route("/reminders/<batch_key>")
class ReminderBatchView(MethodView):
    @blp.arguments(AgencyQuery, location="query")
    @blp.response(200, ReminderBatchOut)
    def get(self, args, batch_key):
        p = current_principal()
        with uow() as s:
            return batch_summary(s, get_batch(s, p, batch_key, args.get("agency_code")))
