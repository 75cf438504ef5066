"""Reminders and their escalation: a batch of reminders (from HR, a flow, or a
``*.reminder.requested`` event) tells each recipient once, ever; who is still overdue is escalated
to their superior from the deadline, then to the agency's HR contacts ``hr_after_hours`` later —
each level once per person (by HTTP or ``*.reminder.escalation_requested``). Whoever stands in for
the superior that day (Plt/Plh) is escalated to as well, and a reminder to rate or to sign reaches
whoever stands in for its recipient.

This module takes the requests; :mod:`.escalation` escalates, :mod:`.reminder_batches` answers a
batch's state. A flow sends a province's batch (100,000 people) 200 at a time: a call's cost depends
on its own people only — the items written with ``INSERT … ON CONFLICT DO NOTHING`` (the unique
(batch, NIP) index tells who had one), the batch's counts kept on the batch row."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.bus import Reject
from services.common.db import is_postgres
from services.common.errors import Problem
from services.common.i18n import LANGUAGES
from services.common.usecase import not_found, now, record, validation

from . import domain, recorder
from . import reminder_batches as rb
from .escalation import ESCALATION_EVENT, escalate
from .models import ReminderBatch, ReminderItem
from .recorder import Recorder
from .reminder_batches import (
    ReminderBatchOut,
    ReminderBatchPage,
    ReminderPageQuery,
    batch_out,
    batch_page,
    deadline_iso,
    find_batch,
    item_out,
    items_of,
)
from .render import RenderError, render
from .schemas import NIP, AgencyQuery
from .shared import DEFAULT_TZ, PREFIX, agency_of, synthetic_event_id, t, uow, zone

REMINDER_EVENT = "notifications.reminder"
__all__ = ["ESCALATION_EVENT", "REMINDER_EVENT", "blp", "escalate", "request_reminders"]
_ITEMS = ReminderItem.__table__
# PostgreSQL: a call's new items in one statement of three arrays, whatever their number — its text
# never changes (psycopg prepares it after a few calls), one round trip, ids taken in the request's
# order, and RETURNING says which were written (the unique (batch, NIP) index skips the others)
_INSERT_ITEMS = text(
    "INSERT INTO reminder_items (batch_id, recipient_nip, params, event_id, escalation_level, escalations, "
    "done_at, created_at) "
    "SELECT :batch_id, w.nip, CAST(w.params AS JSON), w.event_id, 0, CAST('[]' AS JSON), NULL, :at "
    "FROM unnest(CAST(:nips AS VARCHAR[]), CAST(:params AS TEXT[]), CAST(:event_ids AS VARCHAR[])) "
    "WITH ORDINALITY AS w(nip, params, event_id, n) ORDER BY w.n "
    "ON CONFLICT (batch_id, recipient_nip) DO NOTHING RETURNING recipient_nip, id"
).bindparams(bindparam("at", type_=DateTime(timezone=True)))

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
    batch = find_batch(s, data.get("agency_code") or "", data.get("batch_key") or "")
    if batch is None:
        raise Reject("escalation requested for an unknown reminder batch")
    escalate(s, None, batch, {k: data[k] for k in ("recipients", "to") if k in data})
    return {"escalations": 1}


# ------------------------------------------------------------------ use cases


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
    batch = find_batch(s, agency, batch_key)
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
            "deadline": deadline_iso(batch),
            "escalate_to": escalate_to,
        }
        record(s, p, "reminder_batch.created", "reminder_batch", batch.id, agency=agency, after=after)
    elif batch.template != template:
        raise Problem(409, "reminder.batch_conflict", batch_key=batch_key, template=batch.template)
    _check_renders(batch, recipients)
    rec = Recorder(s, "", REMINDER_EVENT, agency, at)
    rec.preload([r.get("nip") for r in recipients if isinstance(r.get("nip"), str)])
    params_of: dict[str, dict] = {}  # the people to remind unless they have an item: NIP → params
    outsiders = set()  # not (or no longer) of the agency: unknown, unless they have an item already
    for r in recipients:
        nip = r.get("nip")
        if isinstance(nip, str) and nip not in params_of and nip not in outsiders:
            person = rec.person(nip)
            if person is None or person.agency_code != agency or not person.active:
                outsiders.add(nip)
            else:
                params_of[nip] = dict(r.get("params") or {})
    # one INSERT … ON CONFLICT DO NOTHING writes the new items and says which they are: the unique
    # (batch, NIP) index answers for the others, never a scan of the batch (a province's batch has
    # 100,000 items, and a lookup the planner served by scanning them grew with every call)
    new_ids = _insert_items(s, batch, params_of, at)
    known = {row[1]: row for row in items_of(s, batch, [n for n in params_of if n not in new_ids] + sorted(outsiders))}
    created, already, unknown = [], [], []
    told: set[str] = set()
    for r in recipients:
        nip = r.get("nip")
        if not isinstance(nip, str):
            unknown.append(str(nip))
        elif nip in new_ids and nip not in told:
            told.add(nip)
            created.append(nip)
        elif nip in known or nip in told:
            already.append(nip)
        else:
            unknown.append(nip)
    deadline = {"deadline": deadline_iso(batch)}
    for n, nip in enumerate(created, 1):
        rec.begin(synthetic_event_id("reminder", batch.id, nip))
        params = {**batch.params, **params_of[nip], "batch_key": batch.batch_key}
        rec.record(rec.person_target(nip, "employee"), batch.template, params, deadline)
        if batch.template in domain.ACTING_REMINDERS:  # what a Plt/Plh does in the recipient's place
            for stand_in in rec.acting_targets(nip, "acting"):
                rec.record(stand_in, batch.template, params, deadline)
        if n % recorder.FLUSH_EVERY == 0:
            rec.flush()
    rec.flush()
    # the request's people, not the whole batch: the flow sends a province's batch 200 at a time,
    # and listing 100,000 items in each answer made the batch cost the square of its size
    items = [(new_ids[nip], item_out(nip, 0, [], None)) for nip in created]
    items += [(row[0], item_out(row[1], *row[3:])) for row in known.values()]
    items.sort(key=lambda pair: pair[0])
    counts = rb.bump(s, batch, items=len(created))
    return {
        **batch_out(batch, counts, [item for _, item in items]),
        "created": created,
        "already": already,
        "unknown": unknown,
    }


def _insert_items(s: Session, batch: ReminderBatch, params_of: dict[str, dict], at: datetime) -> dict[str, int]:
    """Insert the items of ``params_of``'s people who have none in the batch; their ids by NIP."""
    if not params_of:
        return {}
    if is_postgres(s):
        # one INSERT … SELECT FROM unnest: the executemany it replaces was a statement per person (and
        # two more for the ids from the sequence and which of them were written)
        values = {
            "batch_id": batch.id,
            "nips": list(params_of),
            "params": [json.dumps(params) for params in params_of.values()],
            "event_ids": [synthetic_event_id("reminder", batch.id, nip) for nip in params_of],
            "at": at,
        }
        return dict(s.execute(_INSERT_ITEMS, values).tuples().all())
    rows = [
        {
            "batch_id": batch.id,
            "recipient_nip": nip,
            "params": params,
            "event_id": synthetic_event_id("reminder", batch.id, nip),
            "escalation_level": 0,
            "escalations": [],
            "done_at": None,
            "created_at": at,
        }
        for nip, params in params_of.items()
    ]
    stmt = sqlite_insert(_ITEMS).on_conflict_do_nothing(index_elements=["batch_id", "recipient_nip"])
    return dict(s.execute(stmt.returning(_ITEMS.c.recipient_nip, _ITEMS.c.id), rows).tuples().all())


def _check_renders(batch: ReminderBatch, recipients: list[dict]) -> None:
    """Refuse a batch whose template lacks a parameter up front (422), rather than recording a
    failed delivery per recipient."""
    sample = recipients[0].get("params") if recipients and isinstance(recipients[0], dict) else {}
    ctx = {
        "recipient": {"name": "-", "nip": None, "audience": "employee"},
        "data": {**batch.params, **(sample or {}), "batch_key": batch.batch_key},
        "event": {},
        "link": "",
        "deadline": deadline_iso(batch),
        "timezone": DEFAULT_TZ,
    }
    for lang in LANGUAGES:
        try:
            render(batch.template, lang, ctx, translate=lambda key, lang=lang, **kw: t(key, lang, **kw))
        except RenderError as exc:
            raise validation([("params", "reminder.params", {"reason": exc.reason})])


def get_batch(s: Session, p: Principal, batch_key: str, agency: str | None = None) -> ReminderBatch:
    batch = find_batch(s, agency_of(p, agency), batch_key)
    if batch is None:
        raise not_found("reminder batch", batch_key)
    return batch


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
    @blp.arguments(ReminderPageQuery, location="query")
    @blp.response(200, ReminderBatchPage)
    def get(self, args, batch_key):
        """The batch, its counts (the whole batch), and one page of its people, oldest first
        (``limit`` at most 200; ``next_cursor`` for the next page)."""
        p = current_principal()
        with uow() as s:
            batch = get_batch(s, p, batch_key, args.get("agency_code"))
            return batch_page(s, batch, args.get("cursor"), args["limit"])
