"""Cascading (RHK pimpinan yang diintervensi): what an employee's SKP may cascade from — the RHK of
their penilai's plan — and how well a plan's RHK are supported by its subordinates' RHK. The
blueprint, its schemas and its use cases; the cascade link itself is checked when a plan is saved
(``skp.py``)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal, forbid
from services.common.errors import Problem
from services.common.usecase import not_found, platform

from . import domain
from .access import PREFIX
from .models import Cycle, Employee, Plan, PlanVersion
from .schemas import ID
from .skp import get_plan, is_head_of_unit

blp = Blueprint(
    "plan_cascade", __name__, url_prefix=f"{PREFIX}/plans", description="Cascade options and cascade coverage"
)


class CascadeQuery(Schema):
    cycle_id = fields.Integer(required=True, validate=ID)


class CascadeRhkOut(Schema):
    id = fields.String()
    kind = fields.String()
    description = fields.String()


class CascadeOptionsOut(Schema):
    cycle_id = fields.Integer()
    superior_nip = fields.String(allow_none=True)
    superior_name = fields.String(allow_none=True)
    plan_id = fields.Integer(allow_none=True)
    plan_status = fields.String(allow_none=True)
    is_head_of_unit = fields.Boolean()
    rhk = fields.List(fields.Nested(CascadeRhkOut))


class CoverageOut(Schema):
    plan_id = fields.Integer()
    rhk = fields.List(fields.Dict())
    unsupported = fields.List(fields.String())
    idle_subordinates = fields.List(fields.String())
    subordinates_without_plan = fields.List(fields.String())
    subordinates_not_approved = fields.List(
        fields.String(),
        metadata={
            "description": "subordinates whose SKP was never approved (draft, submitted, returned): "
            "their RHK do not count as support until their penilai approves them"
        },
    )
    ratio = fields.Float()


def cascade_options(s: Session, p: Principal, cycle_id: int) -> dict:
    """What the caller's SKP in ``cycle_id`` may cascade from ("RHK pimpinan yang diintervensi"):
    the RHK of their penilai's plan in that cycle — ids, kinds and descriptions only, the rest of
    the superior's plan stays hidden — and whether they are a head of unit (who may cascade from
    an organisation goal instead). The penilai is the one the plan records, else the directory's."""
    if not p.nip:
        raise forbid()
    emp = s.scalar(select(Employee).where(Employee.nip == p.nip))
    if emp is None:
        raise Problem(403, "plan.not_employee")
    c = s.get(Cycle, cycle_id)
    if c is None or c.agency_code != emp.agency_code:
        raise not_found("cycle", cycle_id)
    mine = s.scalar(select(Plan).where(Plan.cycle_id == c.id, Plan.employee_nip == emp.nip))
    superior_nip = mine.penilai_nip if mine else emp.superior_nip
    out = {
        "cycle_id": c.id,
        "superior_nip": superior_nip,
        "superior_name": None,
        "plan_id": None,
        "plan_status": None,
        "is_head_of_unit": mine.is_head_of_unit if mine else is_head_of_unit(s, emp),
        "rhk": [],
    }
    if superior_nip:
        out["superior_name"] = s.scalar(select(Employee.name).where(Employee.nip == superior_nip))
        sup_plan = s.scalar(select(Plan).where(Plan.cycle_id == c.id, Plan.employee_nip == superior_nip))
        if sup_plan is not None:
            out |= {
                "plan_id": sup_plan.id,
                "plan_status": sup_plan.status,
                "rhk": [{"id": r.id, "kind": r.kind, "description": r.description} for r in sup_plan.rhk],
            }
    return out


def agreed_links(s: Session, plans: list[Plan]) -> dict[str, list[str | None]]:
    """``{employee NIP: the cascade link of each RHK}`` of the SKP their penilai agreed to. Only an
    agreed plan is a commitment that supports the superior's RHK (DOMAIN.md §3: draft → submitted →
    approved; a draft or a submitted plan is still a proposal the penilai may return). An approved
    plan's live RHK; a plan reopened for revision (revised, or resubmitted or returned since) keeps
    its last approved version in force until the revision is approved; a plan never approved
    (draft, submitted, returned) is left out."""
    links = {p.employee_nip: [r.parent_rhk_id for r in p.rhk] for p in plans if p.status == "approved"}
    reopened = {p.id: p.employee_nip for p in plans if p.status != "approved" and p.revision > 0}
    if reopened:
        latest = (
            select(PlanVersion.plan_id, func.max(PlanVersion.revision).label("revision"))
            .where(PlanVersion.plan_id.in_(reopened))
            .group_by(PlanVersion.plan_id)
            .subquery()
        )
        versions = s.scalars(
            select(PlanVersion).join(
                latest, (PlanVersion.plan_id == latest.c.plan_id) & (PlanVersion.revision == latest.c.revision)
            )
        )
        for v in versions:
            links[reopened[v.plan_id]] = [r.get("parent_rhk_id") for r in v.snapshot.get("rhk") or []]
    return links


def coverage(s: Session, plan: Plan) -> dict:
    subs = s.scalars(
        select(Employee.nip).where(Employee.superior_nip == plan.employee_nip, Employee.active.is_(True))
    ).all()
    sub_plans = s.scalars(
        select(Plan).where(Plan.cycle_id == plan.cycle_id, Plan.employee_nip.in_(subs or ["\0"]))
    ).all()
    links = agreed_links(s, list(sub_plans))
    cov = domain.cascade_coverage([r.id for r in plan.rhk], links)
    return {
        "plan_id": plan.id,
        "rhk": [
            {"id": r.id, "kind": r.kind, "description": r.description, "supported_by": cov.supported.get(r.id, [])}
            for r in plan.rhk
        ],
        "unsupported": cov.unsupported,
        "idle_subordinates": [n for n in cov.idle_subordinates if n in links],
        "subordinates_without_plan": sorted(set(subs) - {sp.employee_nip for sp in sub_plans}),
        "subordinates_not_approved": sorted({sp.employee_nip for sp in sub_plans} - set(links)),
        "ratio": cov.ratio,
    }


@blp.route("/cascade-options")
class PlanCascadeOptions(MethodView):
    @blp.arguments(CascadeQuery, location="query")
    @blp.response(200, CascadeOptionsOut)
    def get(self, args):
        """The RHK my SKP in a cycle may cascade from: my penilai's RHK (ids, kinds, descriptions only),
        and whether I am a head of unit (who may name an organisation goal instead)."""
        with platform().uow() as s:
            return cascade_options(s, current_principal(), args["cycle_id"])


@blp.route("/<int:plan_id>/coverage")
class PlanCoverage(MethodView):
    @blp.response(200, CoverageOut)
    def get(self, plan_id):
        """Cascade coverage: which of this plan's RHK are supported by subordinates' RHK, and who supports none."""
        with platform().uow() as s:
            return coverage(s, get_plan(s, current_principal(), plan_id))
