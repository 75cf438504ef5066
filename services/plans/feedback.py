"""Continuous feedback (umpan balik berkelanjutan): the superior's notes on one RHK or one BerAKHLAK
value of an SKP during the year, either feedback or the record of a coaching session (bimbingan
kinerja, ``kind``), and the employee's replies to them. The blueprint, its schemas and its use cases;
each note is recorded with ``plans.feedback.given``, each reply with ``plans.feedback.replied``."""

from __future__ import annotations

from collections import defaultdict

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.http import UtcDateTime, capped
from services.common.usecase import not_found, now, platform, record, validation

from . import domain
from .access import PREFIX, supervises
from .cycles import guard_stage, period_of
from .models import Cycle, Feedback, FeedbackReply, Period, Plan
from .skp import get_plan

blp = Blueprint("feedback", __name__, url_prefix=PREFIX, description="Continuous feedback from the superior")

KINDS = ("feedback", "coaching")  # umpan balik, bimbingan kinerja


class FeedbackIn(Schema):
    rhk_id = fields.String(load_default=None, allow_none=True)
    value_code = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(domain.BERAKHLAK))
    period_seq = fields.Integer(load_default=None, allow_none=True)
    kind = fields.String(load_default="feedback", validate=validate.OneOf(KINDS))
    text = fields.String(required=True, validate=validate.Length(min=2, max=4000))

    @validates_schema
    def _target(self, data, **kw):
        if bool(data.get("rhk_id")) == bool(data.get("value_code")):
            raise ValidationError("Give exactly one of rhk_id or value_code.", "rhk_id")


class ReplyIn(Schema):
    text = fields.String(required=True, validate=validate.Length(min=2, max=4000))


class ReplyOut(Schema):
    id = fields.Integer()
    feedback_id = fields.Integer()
    author_nip = fields.String()
    text = fields.String()
    created_at = UtcDateTime()


class FeedbackOut(Schema):
    id = fields.Integer()
    plan_id = fields.Integer()
    giver_nip = fields.String()
    kind = fields.String()
    rhk_id = fields.String(allow_none=True)
    value_code = fields.String(allow_none=True)
    period_seq = fields.Integer(allow_none=True)
    text = fields.String()
    created_at = UtcDateTime()
    replies = fields.List(fields.Nested(ReplyOut))


def give_feedback(s: Session, p: Principal, plan: Plan, data: dict) -> Feedback:
    if not supervises(s, p, plan.employee_nip):
        raise Problem(403, "feedback.only_superior")
    c = s.get(Cycle, plan.cycle_id)
    guard_stage(c, "feedback.give")
    if data.get("rhk_id") and data["rhk_id"] not in {r.id for r in plan.rhk}:
        raise validation([("rhk_id", "rhk.unknown_id")])
    period = period_of(c, data.get("period_seq"))
    fb = Feedback(
        plan_id=plan.id,
        giver_nip=p.nip,
        rhk_id=data.get("rhk_id"),
        value_code=data.get("value_code"),
        period_id=period.id if period else None,
        kind=data.get("kind") or "feedback",
        text=data["text"],
        created_at=now(),
    )
    s.add(fb)
    s.flush()
    fb.period_seq = period.seq if period else None
    fb.replies = []
    record(
        s,
        p,
        "feedback.given",
        "feedback",
        fb.id,
        after={"text": fb.text, "kind": fb.kind, "rhk_id": fb.rhk_id, "value_code": fb.value_code},
        agency=plan.agency_code,
        subject=plan.employee_nip,
        event="plans.feedback.given",
        data={
            "feedback_id": fb.id,
            "plan_id": plan.id,
            "cycle_id": plan.cycle_id,
            "agency_code": plan.agency_code,
            "employee_nip": plan.employee_nip,
            "giver_nip": p.nip,
            "kind": fb.kind,
            "rhk_id": fb.rhk_id,
            "value_code": fb.value_code,
            "period_seq": fb.period_seq,
            "text": fb.text,
        },
    )
    return fb


def list_feedback(s: Session, plan: Plan) -> list[Feedback]:
    rows = capped(s, select(Feedback).where(Feedback.plan_id == plan.id).order_by(Feedback.id), "feedback")
    seqs = {pr.id: pr.seq for pr in s.scalars(select(Period).where(Period.cycle_id == plan.cycle_id))}
    replies: dict[int, list[FeedbackReply]] = defaultdict(list)
    ids = [fb.id for fb in rows]
    if ids:
        for r in s.scalars(select(FeedbackReply).where(FeedbackReply.feedback_id.in_(ids)).order_by(FeedbackReply.id)):
            replies[r.feedback_id].append(r)
    for fb in rows:
        fb.period_seq = seqs.get(fb.period_id)
        fb.replies = replies[fb.id]
    return rows


def reply_to_feedback(s: Session, p: Principal, plan: Plan, feedback_id: int, data: dict) -> FeedbackReply:
    """Only the employee answers the notes on their own SKP: the reporting line writes notes, not replies."""
    fb = s.get(Feedback, feedback_id)
    if fb is None or fb.plan_id != plan.id:
        raise not_found("feedback", feedback_id)
    if p.nip != plan.employee_nip:
        raise Problem(403, "feedback.only_employee")
    guard_stage(s.get(Cycle, plan.cycle_id), "feedback.reply")
    reply = FeedbackReply(feedback_id=fb.id, author_nip=p.nip, text=data["text"], created_at=now())
    s.add(reply)
    s.flush()
    record(
        s,
        p,
        "feedback.replied",
        "feedback",
        fb.id,
        after={"reply_id": reply.id, "text": reply.text},
        agency=plan.agency_code,
        subject=plan.employee_nip,
        event="plans.feedback.replied",
        data={
            "reply_id": reply.id,
            "feedback_id": fb.id,
            "plan_id": plan.id,
            "cycle_id": plan.cycle_id,
            "agency_code": plan.agency_code,
            "employee_nip": plan.employee_nip,
            "giver_nip": fb.giver_nip,
            "kind": fb.kind,
            "text": reply.text,
        },
    )
    return reply


@blp.route("/plans/<int:plan_id>/feedback")
class FeedbackList(MethodView):
    @blp.response(200, FeedbackOut(many=True))
    def get(self, plan_id):
        with platform().uow() as s:
            return list_feedback(s, get_plan(s, current_principal(), plan_id))

    @blp.arguments(FeedbackIn)
    @blp.response(201, FeedbackOut)
    def post(self, data, plan_id):
        """Continuous feedback from the superior on one RHK or one BerAKHLAK value."""
        p = current_principal()
        with platform().uow() as s:
            return give_feedback(s, p, get_plan(s, p, plan_id), data)


@blp.route("/plans/<int:plan_id>/feedback/<int:feedback_id>/replies")
class FeedbackReplies(MethodView):
    @blp.arguments(ReplyIn)
    @blp.response(201, ReplyOut)
    def post(self, data, plan_id, feedback_id):
        """The employee's reply to a feedback or coaching record on their SKP."""
        p = current_principal()
        with platform().uow() as s:
            return reply_to_feedback(s, p, get_plan(s, p, plan_id), feedback_id, data)
