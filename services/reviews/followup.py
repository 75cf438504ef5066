"""Follow-up of a countersigned (or changed) evaluation (DOMAIN.md §7): a development plan for
Butuh Perbaikan and below, a recognition for Sangat Baik, with the indicators and values below
expectations, an owner and a due date that HR or the penilai may change; and its progress —
planned → in_progress → completed (dated, with what was done) or cancelled (with a reason) — that
HR, the penilai or the owner record (``PATCH`` with ``If-Match``, audited, ``reviews.followup.updated``).
The employee reads theirs."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.http import PageArgs, UtcDateTime, page_schema, paginate, require_if_match, with_etag
from services.common.usecase import changing, emit, not_found, now, today, validation

from . import domain
from .access import PREFIX, in_agency, refuse_machine_client, uow
from .models import Evaluation, FollowUp, Person
from .schemas import ID, NIP_DOC

blp = Blueprint("followup", __name__, url_prefix=PREFIX, description="Follow-up: development plans and recognitions")

STATUS = validate.OneOf(domain.FOLLOWUP_STATUSES)


class FollowUpQuery(PageArgs):
    cycle_id = fields.Integer(validate=ID)
    evaluation_id = fields.Integer(validate=ID)
    kind = fields.String(validate=validate.OneOf(("development", "recognition")))
    status = fields.String(validate=STATUS)


class FollowUpOut(Schema):
    id = fields.Integer()
    evaluation_id = fields.Integer()
    cycle_id = fields.Integer()
    employee_nip = fields.String()
    penilai_nip = fields.Function(
        lambda f: getattr(f, "penilai_nip", None), allow_none=True, metadata={"description": "the evaluation's penilai"}
    )
    kind = fields.String()
    predikat = fields.String()
    below_iki = fields.List(fields.String())
    below_values = fields.List(fields.String())
    recommendation = fields.String()
    owner_nip = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)
    status = fields.String(metadata={"enum": list(domain.FOLLOWUP_STATUSES)})
    completed_at = fields.Date(allow_none=True, metadata={"description": "the agency's local date it was completed"})
    completion_note = fields.String(allow_none=True, metadata={"description": "what was done: training, coaching"})
    cancel_reason = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime(allow_none=True)
    version = fields.Integer()


class FollowUpUpdate(Schema):
    recommendation = fields.String(validate=validate.Length(min=3, max=4000))
    owner_nip = fields.String(allow_none=True, validate=validate.Length(max=18), metadata=NIP_DOC)
    due_date = fields.Date(allow_none=True)
    status = fields.String(validate=STATUS)
    completion_note = fields.String(allow_none=True, validate=validate.Length(max=4000))
    cancel_reason = fields.String(allow_none=True, validate=validate.Length(max=2000))
    completed_at = fields.Date(
        allow_none=True, metadata={"description": "when completing: the day it was done (default today), not later"}
    )


# ------------------------------------------------------------------ use cases

RECOMMENDATIONS = {
    "development": "Bimbingan kinerja oleh atasan langsung dan pelatihan terkait indikator/nilai di bawah ekspektasi.",
    "recognition": "Penghargaan kinerja dan prioritas pengembangan kompetensi.",
}


def plan_follow_up(s: Session, ev: Evaluation, replace: bool = False) -> FollowUp | None:
    suggestion = ev.suggestion or {}
    iki_levels = {i["id"]: i["level"] for r in suggestion.get("rhk", []) for i in r["iki"]}
    value_levels = {v: (f or {}).get("level") for v, f in (ev.value_feedback or {}).items()}
    # the values the penilai named behind a "below" rating perilaku are below, whatever the per-value feedback says
    value_levels.update({v: "below" for v in ev.perilaku_below_values or ()})
    fu = domain.follow_up(ev.predikat, iki_levels, value_levels)
    existing = s.scalar(select(FollowUp).where(FollowUp.evaluation_id == ev.id))
    if existing is not None:
        if not replace:
            return existing
        s.delete(existing)
        s.flush()
    if fu.kind == "none":
        return None
    row = FollowUp(
        evaluation_id=ev.id,
        cycle_id=ev.cycle_id,
        agency_code=ev.agency_code,
        employee_nip=ev.employee_nip,
        kind=fu.kind,
        predikat=ev.predikat,
        below_iki=list(fu.below_iki),
        below_values=list(fu.below_values),
        recommendation=RECOMMENDATIONS[fu.kind],
        owner_nip=ev.penilai_nip,
        due_date=today() + timedelta(days=90),
        created_at=now(),
    )
    s.add(row)
    s.flush()
    emit(
        s,
        "reviews.followup.planned",
        row.id,
        {
            "followup_id": row.id,
            "evaluation_id": ev.id,
            "cycle_id": ev.cycle_id,
            "agency_code": ev.agency_code,
            "employee_nip": ev.employee_nip,
            "kind": row.kind,
            "predikat": row.predikat,
            "below_iki": row.below_iki,
            "below_values": row.below_values,
            "owner_nip": row.owner_nip,
            "due_date": row.due_date,
        },
    )
    return row


def _state(fu: FollowUp) -> dict:
    return {
        "recommendation": fu.recommendation,
        "owner_nip": fu.owner_nip,
        "due_date": str(fu.due_date) if fu.due_date else None,
        "status": fu.status,
        "completed_at": str(fu.completed_at) if fu.completed_at else None,
        "completion_note": fu.completion_note,
        "cancel_reason": fu.cancel_reason,
    }


PLAN_FIELDS = ("recommendation", "owner_nip", "due_date")  # HR and the penilai
PROGRESS_FIELDS = ("status", "completion_note", "cancel_reason", "completed_at")  # the owner too
TEXTS = ("recommendation", "completion_note", "cancel_reason")


def _with_penilai(s: Session, fu: FollowUp) -> FollowUp:
    ev = s.get(Evaluation, fu.evaluation_id)
    fu.penilai_nip = ev.penilai_nip if ev else None  # shown, not stored
    return fu


def _parties(p: Principal, fu: FollowUp) -> tuple[bool, bool]:
    """(may plan: HR of the agency or the evaluation's penilai, may record progress: those or the owner)."""
    plans = in_agency(p, fu.agency_code) or bool(p.nip and p.nip == fu.penilai_nip)
    return plans, plans or bool(p.nip and p.nip == fu.owner_nip)


def get_follow_up(s: Session, p: Principal, followup_id: int) -> FollowUp:
    """The follow-up, for HR of the agency, the employee, the penilai and the owner; else 404."""
    refuse_machine_client(p)
    fu = s.get(FollowUp, followup_id)
    if fu is None:
        raise not_found("followup", followup_id)
    _with_penilai(s, fu)
    if not (_parties(p, fu)[1] or (p.nip and p.nip == fu.employee_nip)):
        raise not_found("followup", followup_id)
    return fu


def _changes(fu: FollowUp, data: dict) -> dict:
    """What the update changes (texts trimmed, an emptied text cleared)."""
    out = {}
    for key, value in data.items():
        if key in TEXTS and value is not None:
            value = value.strip() or None
        if getattr(fu, key) != value:
            out[key] = value
    return out


def update_follow_up(s: Session, p: Principal, fu: FollowUp, data: dict) -> FollowUp:
    """HR or the penilai change the plan (recommendation, owner, due date) and its progress; the owner
    records progress only. A completed or cancelled follow-up is final (409); nothing is kept when a
    field is wrong (422, every field at once)."""
    may_plan, may_progress = _parties(p, fu)
    if not may_progress:
        raise Problem(403, "followup.only_parties")
    changes = _changes(fu, data)
    if not may_plan and any(k in changes for k in PLAN_FIELDS):
        raise Problem(403, "followup.owner_progress_only")
    if not changes:
        return fu
    if fu.status not in domain.FOLLOWUP_OPEN:
        raise Problem(409, "followup.closed", status=fu.status)
    status = domain.followup_transition(fu.status, changes.get("status", fu.status))
    errors = []
    if "recommendation" in changes and not changes["recommendation"]:
        errors.append(("recommendation", "followup.recommendation_required", {}))  # only spaces
    if "owner_nip" in changes:
        owner = changes["owner_nip"]
        person = s.get(Person, owner) if owner else None
        if not owner:
            errors.append(("owner_nip", "followup.owner_required", {}))
        elif person is None or person.agency_code != fu.agency_code or not person.active:
            errors.append(("owner_nip", "followup.owner_unknown", {"nip": owner}))
    before = {k: getattr(fu, k) for k in ("status", "due_date", "completion_note", "cancel_reason", "completed_at")}
    after = before | {k: v for k, v in changes.items() if k in before} | {"status": status}
    errors += domain.check_followup(before, after, today())
    if errors:
        raise validation(errors)
    with changing(
        s,
        p,
        "followup.updated",
        "followup",
        fu.id,
        lambda: _state(fu),
        agency=fu.agency_code,
        subject=fu.employee_nip,
        event="reviews.followup.updated",
    ) as change:
        previous = fu.status
        for key, value in changes.items():
            setattr(fu, key, value)
        fu.status = status
        if status == "completed" and previous != "completed":
            fu.completed_at = changes.get("completed_at") or today()
        fu.updated_at = now()
        s.flush()
        change.data = followup_ref(fu) | {"previous_status": previous}
    return fu


def followup_ref(fu: FollowUp) -> dict:
    """The payload of ``reviews.followup.updated`` (the notes stay in the service)."""
    return {
        "followup_id": fu.id,
        "evaluation_id": fu.evaluation_id,
        "cycle_id": fu.cycle_id,
        "agency_code": fu.agency_code,
        "employee_nip": fu.employee_nip,
        "kind": fu.kind,
        "status": fu.status,
        "owner_nip": fu.owner_nip,
        "due_date": fu.due_date,
        "completed_at": fu.completed_at,
    }


def followup_query(s: Session, p: Principal, args: dict):
    """Development plans and recognitions the caller may see: HR the agency's, others their own,
    those they own and those of the evaluations they rate."""
    refuse_machine_client(p)
    stmt = select(FollowUp)
    if not p.is_admin:
        if p.has("hr"):
            stmt = stmt.where(FollowUp.agency_code == p.agency)
        else:
            nip = p.nip or "\0"
            rated = select(Evaluation.id).where(Evaluation.penilai_nip == nip)
            stmt = stmt.where(
                or_(FollowUp.employee_nip == nip, FollowUp.owner_nip == nip, FollowUp.evaluation_id.in_(rated))
            )
    for key in ("cycle_id", "evaluation_id", "kind", "status"):
        if key in args:
            stmt = stmt.where(getattr(FollowUp, key) == args[key])
    return stmt


# ------------------------------------------------------------------ HTTP


@blp.route("/followups")
class FollowUps(MethodView):
    @blp.arguments(FollowUpQuery, location="query")
    @blp.response(200, page_schema(FollowUpOut))
    def get(self, args):
        """Development plans and recognitions (HR: the agency; others: their own, those they own and their
        team's), by cycle, evaluation, kind and status."""
        p = current_principal()
        with uow() as s:
            page = paginate(s, followup_query(s, p, args), FollowUp.id, args.get("cursor"), args["limit"])
            ids = {f.evaluation_id for f in page["items"]}
            if ids:  # one query for the penilai of the page
                s.scalars(select(Evaluation).where(Evaluation.id.in_(ids))).all()
            for f in page["items"]:
                _with_penilai(s, f)
            return page


@blp.route("/followups/<int:followup_id>")
class FollowUpItem(MethodView):
    @blp.response(200, FollowUpOut)
    def get(self, followup_id):
        """One follow-up with its ETag (HR, the employee, the penilai, the owner)."""
        p = current_principal()
        with uow() as s:
            return with_etag(get_follow_up(s, p, followup_id))

    @blp.arguments(FollowUpUpdate)
    @blp.response(200, FollowUpOut)
    def patch(self, data, followup_id):
        """Change the plan (HR, the penilai) or record its progress (also the owner): ``If-Match`` required;
        409 for a transition the status forbids, 422 per field."""
        p = current_principal()
        with uow() as s:
            fu = get_follow_up(s, p, followup_id)
            if not _parties(p, fu)[1]:
                raise Problem(403, "followup.only_parties")
            require_if_match(fu.version)
            return with_etag(update_follow_up(s, p, fu, data))
