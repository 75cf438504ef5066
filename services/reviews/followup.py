"""Follow-up of a countersigned (or changed) evaluation (DOMAIN.md §7): a development plan for
Butuh Perbaikan and below, a recognition for Sangat Baik, with the indicators and values below
expectations, an owner and a due date that HR or the penilai may change."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal, forbid
from services.common.http import PageArgs, page_schema, paginate
from services.common.usecase import changing, emit, not_found, now, today

from . import domain
from .access import PREFIX, penilai_or_hr, refuse_machine_client, uow
from .models import Evaluation, FollowUp

blp = Blueprint("followup", __name__, url_prefix=PREFIX, description="Follow-up: development plans and recognitions")


class FollowUpQuery(PageArgs):
    cycle_id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(("development", "recognition")))


class FollowUpOut(Schema):
    id = fields.Integer()
    evaluation_id = fields.Integer()
    cycle_id = fields.Integer()
    employee_nip = fields.String()
    kind = fields.String()
    predikat = fields.String()
    below_iki = fields.List(fields.String())
    below_values = fields.List(fields.String())
    recommendation = fields.String()
    owner_nip = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)


class FollowUpUpdate(Schema):
    recommendation = fields.String(validate=validate.Length(min=3, max=4000))
    owner_nip = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)


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
    return {"recommendation": fu.recommendation, "owner_nip": fu.owner_nip, "due_date": str(fu.due_date)}


def update_follow_up(s: Session, p: Principal, fu: FollowUp, data: dict) -> FollowUp:
    ev = s.get(Evaluation, fu.evaluation_id)
    if not penilai_or_hr(p, fu.agency_code, ev.penilai_nip):
        raise forbid()
    with changing(
        s, p, "followup.updated", "followup", fu.id, lambda: _state(fu), agency=fu.agency_code, subject=fu.employee_nip
    ):
        for key in ("recommendation", "owner_nip", "due_date"):
            if key in data:
                setattr(fu, key, data[key])
        s.flush()
    return fu


def followup_query(p: Principal, args: dict):
    """Development plans and recognitions the caller may see: HR the agency's, others their own
    and those they own."""
    refuse_machine_client(p)
    stmt = select(FollowUp)
    if not p.is_admin:
        if p.has("hr"):
            stmt = stmt.where(FollowUp.agency_code == p.agency)
        else:
            stmt = stmt.where((FollowUp.employee_nip == (p.nip or "\0")) | (FollowUp.owner_nip == (p.nip or "\0")))
    for key in ("cycle_id", "kind"):
        if key in args:
            stmt = stmt.where(getattr(FollowUp, key) == args[key])
    return stmt


# ------------------------------------------------------------------ HTTP


@blp.route("/followups")
class FollowUps(MethodView):
    @blp.arguments(FollowUpQuery, location="query")
    @blp.response(200, page_schema(FollowUpOut))
    def get(self, args):
        """Development plans and recognitions (HR: the agency; others: their own and their team's)."""
        p = current_principal()
        with uow() as s:
            return paginate(s, followup_query(p, args), FollowUp.id, args.get("cursor"), args["limit"])


@blp.route("/followups/<int:followup_id>")
class FollowUpItem(MethodView):
    @blp.arguments(FollowUpUpdate)
    @blp.response(200, FollowUpOut)
    def patch(self, data, followup_id):
        p = current_principal()
        with uow() as s:
            fu = s.get(FollowUp, followup_id)
            if fu is None or not (p.is_admin or p.agency == fu.agency_code):
                raise not_found("followup", followup_id)
            return update_follow_up(s, p, fu, data)
