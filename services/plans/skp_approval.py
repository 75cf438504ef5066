"""Approval of an SKP: the employee submits it, the penilai (or an acting official) returns it with
a note or approves it — each approval keeps a version — and the employee may reopen an approved SKP
for revision (DOMAIN.md §3); before approving, the penilai writes the ekspektasi khusus pimpinan per
BerAKHLAK value. The blueprint, its schemas and its use cases; each step is recorded with its event."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.http import require_if_match, with_etag
from services.common.usecase import changing, now, platform, record, today, validation

from . import domain
from .access import PREFIX, acting_for, in_agency
from .cycles import cycle_for_guard, guard_stage
from .models import Employee, Plan, PlanVersion, Unit
from .schemas import PlanOut
from .skp import get_plan, plan_content_dict, require_owner

blp = Blueprint(
    "plan_approval", __name__, url_prefix=f"{PREFIX}/plans", description="Submitting, returning, approving, revising"
)


class ReturnIn(Schema):
    note = fields.String(required=True, validate=validate.Length(min=3, max=4000))


def plan_ref(plan: Plan, s: Session) -> dict:
    unit = s.get(Unit, plan.unit_id)
    return {
        "plan_id": plan.id,
        "cycle_id": plan.cycle_id,
        "agency_code": plan.agency_code,
        "employee_nip": plan.employee_nip,
        "penilai_nip": plan.penilai_nip,
        "unit_code": unit.code,
        "status": plan.status,
        "revision": plan.revision,
    }


def require_penilai(s: Session, p: Principal, plan: Plan) -> None:
    """Only the direct superior of the employee (now), or an acting official for them."""
    current = s.scalar(select(Employee.superior_nip).where(Employee.nip == plan.employee_nip))
    if current is None and in_agency(p, plan.agency_code, roles=("hr",)):
        return  # the top official's penilai (e.g. the regional head) is outside the directory: HR records it
    if not p.nip or not current or (p.nip != current and current not in acting_for(s, p.nip, today())):
        raise Problem(403, "plan.only_penilai")


def _record_step(s: Session, p: Principal, plan: Plan, action: str, before: dict, after: dict, event: str, data: dict):
    """One approval step's audit row and event: both name the plan, its agency and its employee."""
    record(
        s,
        p,
        action,
        "plan",
        plan.id,
        before=before,
        after=after,
        agency=plan.agency_code,
        subject=plan.employee_nip,
        event=event,
        data=data,
    )


def submit_plan(s: Session, p: Principal, plan: Plan) -> Plan:
    require_owner(p, plan)
    guard_stage(cycle_for_guard(s, plan.cycle_id), "plan.submit")
    new_status = domain.plan_transition(plan.status, "submit")
    content = plan_content_dict(plan)
    errors = domain.validate_for_submit(
        plan.approach, content["rhk"], content["behaviour"], is_head_of_unit=plan.is_head_of_unit
    )
    emp = s.scalar(select(Employee).where(Employee.nip == plan.employee_nip))
    if not emp.superior_nip:
        errors = [e for e in errors if e[1] != "rhk.cascade_required"]
    if errors:
        raise validation(errors)
    before = {"status": plan.status}
    plan.status, plan.submitted_at, plan.updated_at = new_status, now(), now()
    plan.penilai_nip = emp.superior_nip  # the reporting line may have changed since drafting
    s.flush()
    _record_step(
        s, p, plan, "plan.submitted", before, {"status": plan.status}, "plans.plan.submitted", plan_ref(plan, s)
    )
    return plan


def return_plan(s: Session, p: Principal, plan: Plan, note: str) -> Plan:
    require_penilai(s, p, plan)
    guard_stage(cycle_for_guard(s, plan.cycle_id), "plan.return")
    before = {"status": plan.status}
    plan.status = domain.plan_transition(plan.status, "return")
    plan.return_note, plan.updated_at = note, now()
    s.flush()
    after = {"status": plan.status, "note": note}
    _record_step(s, p, plan, "plan.returned", before, after, "plans.plan.returned", plan_ref(plan, s) | {"note": note})
    return plan


def approve_plan(s: Session, p: Principal, plan: Plan) -> Plan:
    require_penilai(s, p, plan)
    guard_stage(cycle_for_guard(s, plan.cycle_id), "plan.approve")
    before = {"status": plan.status}
    new_status = domain.plan_transition(plan.status, "approve")
    errors = domain.missing_expectations(plan.behaviour)  # the penilai's to write (PUT …/behaviour) first
    if errors:
        raise validation(errors)
    plan.status = new_status
    plan.revision += 1
    plan.approved_at, plan.approved_by, plan.return_note, plan.updated_at = now(), p.nip or p.sub, None, now()
    s.flush()
    content = plan_content_dict(plan)
    snapshot = content | {
        "employee_nip": plan.employee_nip,
        "penilai_nip": plan.penilai_nip,
        "position": plan.position,
        "grade": plan.grade,
    }
    s.add(
        PlanVersion(
            plan_id=plan.id,
            revision=plan.revision,
            snapshot=snapshot,
            approved_at=plan.approved_at,
            approved_by=plan.approved_by,
        )
    )
    approved = plan_ref(plan, s) | {
        "approach": plan.approach,
        "employee_name": plan.employee_name,
        "position": plan.position,
        "grade": plan.grade,
        "is_head_of_unit": plan.is_head_of_unit,
        "approved_by": plan.approved_by,
        "rhk": content["rhk"],
        "behaviour": content["behaviour"],
    }
    after = {"status": plan.status, "revision": plan.revision}
    _record_step(s, p, plan, "plan.approved", before, after, "plans.plan.approved", approved)
    return plan


def revise_plan(s: Session, p: Principal, plan: Plan) -> Plan:
    require_owner(p, plan)
    guard_stage(cycle_for_guard(s, plan.cycle_id), "plan.revise")
    before = {"status": plan.status}
    plan.status = domain.plan_transition(plan.status, "revise")
    plan.updated_at = now()
    s.flush()
    after = {"status": plan.status}
    _record_step(s, p, plan, "plan.revision_opened", before, after, "plans.plan.revised", plan_ref(plan, s))
    return plan


class BehaviourIn(Schema):
    behaviour = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "BerAKHLAK value code → ekspektasi khusus pimpinan; an empty text removes it"},
    )


def set_behaviour(s: Session, p: Principal, plan: Plan, data: dict) -> Plan:
    """The penilai writes the ekspektasi khusus pimpinan per BerAKHLAK value of a subordinate's SKP
    (PermenPANRB 6/2022: they are the leader's expectations) while the SKP may still change — also while
    it waits for approval. Audited; the values named are marked the penilai's (see :func:`update_plan`)."""
    require_penilai(s, p, plan)
    guard_stage(cycle_for_guard(s, plan.cycle_id), "plan.edit")
    if plan.status != "submitted":
        domain.plan_transition(plan.status, "edit")
    errors = domain.validate_expectations(data["behaviour"])
    if errors:
        raise validation(errors)
    with changing(
        s,
        p,
        "plan.behaviour_set",
        "plan",
        plan.id,
        lambda: {
            "behaviour": dict(plan.behaviour or {}),
            "behaviour_by_penilai": list(plan.behaviour_by_penilai or []),
        },
        agency=plan.agency_code,
        subject=plan.employee_nip,
    ):
        behaviour, by = dict(plan.behaviour or {}), set(plan.behaviour_by_penilai or ())
        for code, text in data["behaviour"].items():
            if (text or "").strip():
                behaviour[code] = text.strip()
                by.add(code)
            else:
                behaviour.pop(code, None)
                by.discard(code)
        plan.behaviour = behaviour
        plan.behaviour_by_penilai = [v for v in domain.BERAKHLAK if v in by]
        plan.updated_at = now()
        flag_modified(plan, "updated_at")
        s.flush()
    return plan


# ------------------------------------------------------------------ views


def _plan_action(plan_id: int, action):
    p = current_principal()
    with platform().uow() as s:
        plan = get_plan(s, p, plan_id)
        if request.headers.get("If-Match"):
            require_if_match(plan.version)
        return with_etag(action(s, p, plan))


@blp.route("/<int:plan_id>/submit")
class PlanSubmit(MethodView):
    @blp.response(200, PlanOut)
    def post(self, plan_id):
        """Submit my SKP to my penilai. A cascade link per RHK is required; the BerAKHLAK expectations are the
        penilai's to write (``PUT …/behaviour``), before approving."""
        return _plan_action(plan_id, submit_plan)


@blp.route("/<int:plan_id>/return")
class PlanReturn(MethodView):
    @blp.arguments(ReturnIn)
    @blp.response(200, PlanOut)
    def post(self, data, plan_id):
        """Return a submitted SKP with a note (the penilai or an acting official)."""
        return _plan_action(plan_id, lambda s, p, plan: return_plan(s, p, plan, data["note"]))


@blp.route("/<int:plan_id>/approve")
class PlanApprove(MethodView):
    @blp.response(200, PlanOut)
    def post(self, plan_id):
        """Approve a submitted SKP (the penilai or an acting official); the version is kept. Every BerAKHLAK
        value needs its ekspektasi khusus pimpinan (422 ``behaviour.expectation_required`` per value)."""
        return _plan_action(plan_id, approve_plan)


@blp.route("/<int:plan_id>/revise")
class PlanRevise(MethodView):
    @blp.response(200, PlanOut)
    def post(self, plan_id):
        """Reopen my approved SKP for revision when expectations change; approved versions stay retrievable."""
        return _plan_action(plan_id, revise_plan)


@blp.route("/<int:plan_id>/behaviour")
class PlanBehaviour(MethodView):
    @blp.arguments(BehaviourIn)
    @blp.response(200, PlanOut)
    def put(self, data, plan_id):
        """The penilai writes the ekspektasi khusus pimpinan per BerAKHLAK value (requires If-Match); the
        values written stay as the penilai wrote them when the employee edits the SKP."""
        p = current_principal()
        with platform().uow() as s:
            plan = get_plan(s, p, plan_id)
            require_if_match(plan.version)
            return with_etag(set_behaviour(s, p, plan, data))
