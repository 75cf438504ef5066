"""Objections (keberatan, DOMAIN.md §6): the employee files one within the window after
acknowledging (days counted on the agency's local dates), both parties make statements, and the
atasan penilai decides, finally: upheld, or changed with new ratings (a new document version and
a new follow-up)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.http import PageArgs, UtcDateTime, page_schema, paginate
from services.common.usecase import not_found, now, platform, record, settings, today, validation

from . import domain
from .access import (
    PREFIX,
    acting_today,
    get_evaluation,
    guard,
    only_atasan,
    only_employee,
    refuse_machine_client,
    stands_for,
    uow,
)
from .document import store_document
from .followup import plan_follow_up
from .models import Evaluation, Objection
from .results import is_final, result_changed
from .schemas import ID, RATING

blp = Blueprint(
    "objections",
    __name__,
    url_prefix=PREFIX,
    description="Objections (keberatan) within 14 days of acknowledgement",
)


class ObjectionIn(Schema):
    reasons = fields.String(required=True, validate=validate.Length(min=10, max=8000))


class StatementIn(Schema):
    text = fields.String(required=True, validate=validate.Length(min=3, max=8000))


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(domain.DECISIONS))
    reason = fields.String(required=True, validate=validate.Length(min=5, max=8000))
    rating_hasil = fields.String(load_default=None, allow_none=True, validate=RATING)
    rating_perilaku = fields.String(load_default=None, allow_none=True, validate=RATING)
    perilaku_below_values = fields.List(
        fields.String(),
        load_default=list,
        metadata={
            "description": "BerAKHLAK value codes behind a changed 'below' rating_perilaku; required then, unless "
            "the rating was already 'below' (its values are kept when none are given)"
        },
    )


class ObjectionQuery(PageArgs):
    cycle_id = fields.Integer(validate=ID)
    evaluation_id = fields.Integer(validate=ID)
    status = fields.String(validate=validate.OneOf(("filed", "under_review", "decided")))
    decision = fields.String(validate=validate.OneOf(domain.DECISIONS))


class ObjectionOut(Schema):
    id = fields.Integer(required=True)
    evaluation_id = fields.Integer(required=True)
    employee_nip = fields.String(required=True)
    atasan_nip = fields.String(allow_none=True, required=True)
    reasons = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["filed", "under_review", "decided"]})
    statements = fields.List(fields.Dict(), required=True)
    decision = fields.String(allow_none=True, required=True, metadata={"enum": ["upheld", "changed", None]})
    decision_reason = fields.String(allow_none=True, required=True)
    before = fields.Dict(allow_none=True, required=True)
    after = fields.Dict(allow_none=True, required=True)
    filed_at = UtcDateTime(required=True)
    decided_at = UtcDateTime(allow_none=True, required=True)
    decided_acting = fields.Dict(
        allow_none=True,
        metadata={"description": "the acting official (Plt/Plh) who decided in the atasan's place: kind, nip, name"},
    )


# ------------------------------------------------------------------ use cases


def objection_days() -> int:
    return int(settings().objection_days)


def file_objection(s: Session, p: Principal, ev: Evaluation, reasons: str) -> Objection:
    only_employee(p, ev)
    guard(s, ev, "object")
    if ev.status not in ("acknowledged", "countersigned") or ev.acknowledged_at is None:
        raise Problem(409, "objection.not_acknowledged", status=ev.status)
    if s.scalar(select(Objection.id).where(Objection.evaluation_id == ev.id)):
        raise Problem(409, "objection.exists")
    domain.check_objection_window(platform().local_date(ev.acknowledged_at), today(), objection_days())
    obj = Objection(
        evaluation_id=ev.id,
        agency_code=ev.agency_code,
        employee_nip=ev.employee_nip,
        atasan_nip=ev.atasan_nip,
        reasons=reasons,
        status="filed",
        statements=[],
        filed_at=now(),
    )
    s.add(obj)
    s.flush()
    record(
        s,
        p,
        "objection.filed",
        "objection",
        obj.id,
        after={"reasons": reasons},
        agency=ev.agency_code,
        subject=ev.employee_nip,
        event="reviews.objection.filed",
        data=objection_ref(obj, ev),
    )
    if is_final(ev):  # the results feed's item changed: its objection state
        result_changed(s, ev)
    return obj


def objection_ref(obj: Objection, ev: Evaluation) -> dict:
    return {
        "objection_id": obj.id,
        "evaluation_id": ev.id,
        "cycle_id": ev.cycle_id,
        "agency_code": ev.agency_code,
        "employee_nip": ev.employee_nip,
        "penilai_nip": ev.penilai_nip,
        "atasan_nip": ev.atasan_nip,
        "status": obj.status,
        "decision": obj.decision,
    }


def get_objection(s: Session, p: Principal, objection_id: int) -> tuple[Objection, Evaluation]:
    refuse_machine_client(p)
    obj = s.get(Objection, objection_id)
    if obj is None:
        raise not_found("objection", objection_id)
    ev = get_evaluation(s, p, obj.evaluation_id)
    return obj, ev


def add_statement(s: Session, p: Principal, obj: Objection, ev: Evaluation, text: str) -> Objection:
    if p.nip == ev.employee_nip:
        party = "employee"
    elif p.nip and (p.nip == ev.penilai_nip or acting_today(s, p.nip, ev.penilai_nip)):
        party = "penilai"  # or a Plt/Plh standing in for them
    else:
        raise Problem(403, "objection.only_parties")
    obj.status = domain.objection_transition(obj.status, "statement")
    obj.statements = [*obj.statements, {"party": party, "nip": p.nip, "text": text, "at": now().isoformat()}]
    s.flush()
    record(
        s,
        p,
        "objection.statement",
        "objection",
        obj.id,
        after={"party": party, "text": text},
        agency=ev.agency_code,
        subject=ev.employee_nip,
    )
    return obj


def decide_objection(s: Session, p: Principal, obj: Objection, ev: Evaluation, data: dict) -> Objection:
    acting = only_atasan(p, ev)
    obj.status = domain.objection_transition(obj.status, "decide")
    before = {
        "rating_hasil": ev.rating_hasil,
        "rating_perilaku": ev.rating_perilaku,
        "predikat": ev.predikat,
        "content_hash": ev.content_hash,
    }
    obj.decision, obj.decision_reason, obj.decided_at, obj.decided_by = (data["decision"], data["reason"], now(), p.sub)
    obj.decided_acting = acting  # a Plt/Plh of the atasan decides as such
    obj.before = before
    if data["decision"] == "changed":
        missing = [f for f in ("rating_hasil", "rating_perilaku") if not data.get(f)]
        kept = ev.perilaku_below_values if ev.rating_perilaku == "below" else None
        below, errors = domain.below_values(data.get("rating_perilaku"), data.get("perilaku_below_values"), kept)
        errors = [(f, "objection.new_rating_required") for f in missing] + errors
        if errors:
            raise validation(errors)
        ev.rating_hasil, ev.rating_perilaku = data["rating_hasil"], data["rating_perilaku"]
        ev.predikat = domain.predikat(ev.rating_hasil, ev.rating_perilaku)
        ev.perilaku_below_values = below  # none unless "below": the values went with the "below" they explained
        ev.notes = ((ev.notes or "") + f"\nKeberatan #{obj.id}: {data['reason']}").strip()
        ev.updated_at = now()
        s.flush()
        store_document(s, ev, "objection_changed")  # a new version linked to the old by previous_hash
        s.flush()
        plan_follow_up(s, ev, replace=True)
    obj.after = {
        "rating_hasil": ev.rating_hasil,
        "rating_perilaku": ev.rating_perilaku,
        "predikat": ev.predikat,
        "content_hash": ev.content_hash,
        "document_version": ev.document_version,
    }
    s.flush()
    record(
        s,
        p,
        "objection.decided",
        "objection",
        obj.id,
        before=before,
        after=obj.after | {"decision": obj.decision, "reason": obj.decision_reason},
        agency=ev.agency_code,
        subject=ev.employee_nip,
        event="reviews.objection.decided",
        data=objection_ref(obj, ev) | {"predikat": ev.predikat, "document_version": ev.document_version},
    )
    if is_final(ev):  # the results feed's item changed: decided, and a "changed" decision its ratings
        result_changed(s, ev, "reviews.result.changed" if obj.decision == "changed" else None, obj)
    return obj


def objection_query(s: Session, p: Principal, args: dict):
    """Objections HR of the agency sees (or, for a person, those they filed, answer as penilai or
    decide), filtered by cycle, evaluation, status and decision."""
    refuse_machine_client(p)
    stmt = select(Objection)
    if not p.is_admin:
        if p.has("hr"):
            stmt = stmt.where(Objection.agency_code == p.agency)
        else:
            nip = p.nip or "\0"
            officials = stands_for(s, p) or {nip}  # the caller, and whom they stand in for (Plt/Plh)
            as_penilai = select(Evaluation.id).where(Evaluation.penilai_nip.in_(officials))
            stmt = stmt.where(
                (Objection.employee_nip == nip)
                | (Objection.atasan_nip.in_(officials))
                | Objection.evaluation_id.in_(as_penilai)
            )
    if "evaluation_id" in args:
        stmt = stmt.where(Objection.evaluation_id == args["evaluation_id"])
    if "cycle_id" in args:
        stmt = stmt.where(
            Objection.evaluation_id.in_(select(Evaluation.id).where(Evaluation.cycle_id == args["cycle_id"]))
        )
    for key in ("status", "decision"):
        if key in args:
            stmt = stmt.where(getattr(Objection, key) == args[key])
    return stmt


# ------------------------------------------------------------------ HTTP


@blp.route("/evaluations/<int:evaluation_id>/objections")
class FileObjection(MethodView):
    @blp.arguments(ObjectionIn)
    @blp.response(201, ObjectionOut)
    def post(self, data, evaluation_id):
        """File an objection (the employee) within 14 days of acknowledging; one per evaluation."""
        p = current_principal()
        with uow() as s:
            return file_objection(s, p, get_evaluation(s, p, evaluation_id), data["reasons"])


@blp.route("/objections")
class Objections(MethodView):
    @blp.arguments(ObjectionQuery, location="query")
    @blp.response(200, page_schema(ObjectionOut))
    def get(self, args):
        """Objections HR of the agency sees (or, for a person, those they filed, answer as penilai or
        decide), by cycle, evaluation, status and decision."""
        p = current_principal()
        with uow() as s:
            return paginate(s, objection_query(s, p, args), Objection.id, args.get("cursor"), args["limit"])


@blp.route("/objections/<int:objection_id>")
class ObjectionItem(MethodView):
    @blp.response(200, ObjectionOut)
    def get(self, objection_id):
        with uow() as s:
            obj, _ = get_objection(s, current_principal(), objection_id)
            return obj


@blp.route("/objections/<int:objection_id>/statements")
class Statements(MethodView):
    @blp.arguments(StatementIn)
    @blp.response(201, ObjectionOut)
    def post(self, data, objection_id):
        """A statement from the employee or the penilai (both sides are heard)."""
        p = current_principal()
        with uow() as s:
            obj, ev = get_objection(s, p, objection_id)
            return add_statement(s, p, obj, ev, data["text"])


@blp.route("/objections/<int:objection_id>/decide")
class Decide(MethodView):
    @blp.arguments(DecisionIn)
    @blp.response(200, ObjectionOut)
    def post(self, data, objection_id):
        """The atasan penilai decides: upheld, or changed with new ratings (a new document version). Final."""
        p = current_principal()
        with uow() as s:
            obj, ev = get_objection(s, p, objection_id)
            return decide_objection(s, p, obj, ev, data)
