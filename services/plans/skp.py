"""SKP plans: drafting and editing an employee's plan for a cycle — results (RHK), indicators (IKI)
with their targets, the cascade link of each RHK, the behaviour expectations (BerAKHLAK) and the
annex — and reading plans and their approved versions. The blueprint, its schemas and its use
cases; approval is in ``skp_approval.py``, cascade options and coverage in ``skp_cascade.py``."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload, lazyload, load_only
from sqlalchemy.orm.attributes import flag_modified

from services.common.auth import Principal, current_principal, forbid
from services.common.errors import Problem
from services.common.http import (
    ObjectSchema,
    PageArgs,
    UtcDateTime,
    capped,
    page_schema,
    paginate,
    require_if_match,
    with_etag,
)
from services.common.scopes import accepts
from services.common.usecase import by_id, changing, load_by_id, not_found, now, platform, record, validation

from . import domain
from .access import PREFIX, can_read_person, only_visible, reads_plans, refuse_machine_client
from .cycles import cycle_for_guard, guard_stage
from .models import Cycle, Employee, Iki, Plan, PlanVersion, Realisation, Rhk, Unit, new_id
from .schemas import ID, TEXT_DOC, PlanOut

blp = Blueprint("plans", __name__, url_prefix=f"{PREFIX}/plans", description="SKP plans and their versions")

# ------------------------------------------------------------------ schemas


class IkiIn(Schema):
    id = fields.String(load_default=None, allow_none=True)
    aspect = fields.String(required=True, metadata={"enum": list(domain.ASPECTS)})
    indicator = fields.String(required=True, metadata=TEXT_DOC)
    target_value = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    target_unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    target_text = fields.String(load_default=None, allow_none=True)
    satisfaction_unit_code = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={"description": "service unit whose survey index (IKM) is recorded as this IKI's realisation"},
    )


class RhkIn(Schema):
    id = fields.String(load_default=None, allow_none=True)
    kind = fields.String(required=True, metadata={"enum": list(domain.RHK_KINDS)})
    description = fields.String(required=True, metadata=TEXT_DOC)
    parent_rhk_id = fields.String(load_default=None, allow_none=True)
    organisation_goal = fields.String(load_default=None, allow_none=True)
    iki = fields.List(fields.Nested(IkiIn), load_default=list)


class AnnexIn(Schema):
    resources = fields.String(load_default="")
    accountability = fields.String(load_default="")
    consequences = fields.String(load_default="")


class PlanContent(Schema):
    approach = fields.String(required=True, validate=validate.OneOf(domain.APPROACHES))
    rhk = fields.List(fields.Nested(RhkIn), load_default=list)
    behaviour = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    annex = fields.Nested(AnnexIn, load_default=lambda: {"resources": "", "accountability": "", "consequences": ""})


class PlanCreate(PlanContent):
    cycle_id = fields.Integer(required=True, validate=ID)


class PlanSummary(ObjectSchema):
    id = fields.Integer()
    cycle_id = fields.Integer()
    employee_nip = fields.String()
    employee_name = fields.String()
    position = fields.String()
    unit_id = fields.Integer()
    penilai_nip = fields.String(allow_none=True)
    status = fields.String()
    revision = fields.Integer()
    version = fields.Integer()
    behaviour_by_penilai = fields.List(
        fields.String(),
        allow_none=True,
        metadata={"description": "the BerAKHLAK values whose expectation the penilai wrote"},
    )


class PlanQuery(PageArgs):
    cycle_id = fields.Integer(validate=ID)
    unit_code = fields.String()
    status = fields.String(validate=validate.OneOf(domain.PLAN_STATUSES))
    employee_nip = fields.String()
    penilai_nip = fields.String()


class PlanVersionOut(Schema):
    revision = fields.Integer()
    approved_at = UtcDateTime()
    approved_by = fields.String()
    snapshot = fields.Dict()


# ------------------------------------------------------------------ content


def plan_content_dict(plan: Plan) -> dict:
    return {
        "approach": plan.approach,
        "behaviour": dict(plan.behaviour or {}),
        "annex": dict(plan.annex or {}),
        "rhk": [
            {
                "id": r.id,
                "kind": r.kind,
                "description": r.description,
                "parent_rhk_id": r.parent_rhk_id,
                "organisation_goal": r.organisation_goal,
                "iki": [
                    {
                        "id": i.id,
                        "aspect": i.aspect,
                        "indicator": i.indicator,
                        "target_value": i.target_value,
                        "target_unit": i.target_unit,
                        "target_text": i.target_text,
                        "satisfaction_unit_code": i.satisfaction_unit_code,
                    }
                    for i in r.iki
                ],
            }
            for r in plan.rhk
        ],
    }


def _check_parents(s: Session, plan_cycle_id: int, penilai_nip: str | None, rhk: list[dict]) -> list[tuple[str, str]]:
    """Each cascade link must name an RHK of the penilai's plan in the same cycle."""
    wanted = {r.get("parent_rhk_id") for r in rhk if r.get("parent_rhk_id")}
    if not wanted:
        return []
    valid = set()
    if penilai_nip:  # the ids alone, in one statement (not the penilai's plan with all its RHK and IKI)
        valid = set(
            s.scalars(
                select(Rhk.id)
                .join(Plan, Rhk.plan_id == Plan.id)
                .where(Plan.cycle_id == plan_cycle_id, Plan.employee_nip == penilai_nip)
            )
        )
    return [
        (f"rhk[{i}].parent_rhk_id", "rhk.parent_unknown")
        for i, r in enumerate(rhk)
        if r.get("parent_rhk_id") and r["parent_rhk_id"] not in valid
    ]


def _apply_content(s: Session, plan: Plan, data: dict) -> None:
    errors = domain.validate_plan_content(
        data["approach"], data["rhk"], data["behaviour"], is_head_of_unit=plan.is_head_of_unit
    )
    errors += _check_parents(s, plan.cycle_id, plan.penilai_nip, data["rhk"])
    existing_rhk = {r.id: r for r in plan.rhk}
    existing_iki = {i.id: i for r in plan.rhk for i in r.iki}
    for i, r in enumerate(data["rhk"]):
        if r.get("id") and r["id"] not in existing_rhk:
            errors.append((f"rhk[{i}].id", "rhk.unknown_id"))
        for j, k in enumerate(r.get("iki") or []):
            if k.get("id") and k["id"] not in existing_iki:
                errors.append((f"rhk[{i}].iki[{j}].id", "iki.unknown_id"))
    kept_iki = {k["id"] for r in data["rhk"] for k in r.get("iki") or [] if k.get("id")}
    if plan.id is not None:
        for iki_id in set(existing_iki) - kept_iki:
            if s.scalar(select(func.count()).select_from(Realisation).where(Realisation.iki_id == iki_id)):
                errors.append(("rhk", "iki.has_realisation"))
    if errors:
        raise validation(errors)
    plan.approach = data["approach"]
    plan.behaviour = {k: v for k, v in data["behaviour"].items()}
    plan.annex = dict(data.get("annex") or {})
    new_rhk = []
    for pos, r in enumerate(data["rhk"]):
        row = existing_rhk.get(r.get("id")) or Rhk(id=new_id())
        row.position, row.kind, row.description = pos, r["kind"], r["description"]
        row.parent_rhk_id, row.organisation_goal = r.get("parent_rhk_id"), r.get("organisation_goal")
        iki_rows = []
        for ipos, k in enumerate(r.get("iki") or []):
            irow = existing_iki.get(k.get("id")) or Iki(id=new_id())
            irow.position, irow.aspect, irow.indicator = ipos, k["aspect"], k["indicator"]
            irow.target_value, irow.target_unit, irow.target_text = (
                k.get("target_value"),
                k.get("target_unit"),
                k.get("target_text"),
            )
            irow.satisfaction_unit_code = (k.get("satisfaction_unit_code") or "").strip() or None
            iki_rows.append(irow)
        row.iki = iki_rows
        new_rhk.append(row)
    plan.rhk = new_rhk


# ------------------------------------------------------------------ use cases


_ASK = object()  # the superior's unit not known yet: read it


def is_head_of_unit(s: Session, emp: Employee, superior_unit_id=_ASK) -> bool:
    """The unit's recorded head, or someone whose superior sits outside their unit (or who has none):
    their RHK cascade from the unit's performance agreement rather than from a superior's RHK.
    ``superior_unit_id``: the superior's unit when the caller read it with the employee (None when the
    superior is not in the directory)."""
    if emp.unit.head_nip:
        return emp.unit.head_nip == emp.nip
    if not emp.superior_nip:
        return True
    if superior_unit_id is _ASK:
        superior_unit_id = s.scalar(select(Employee.unit_id).where(Employee.nip == emp.superior_nip))
    return superior_unit_id != emp.unit_id


#: the employee (with their unit) and their superior's unit, in one statement
_SUPERIOR = aliased(Employee)
_EMPLOYEE_WITH_SUPERIOR_UNIT = (
    select(Employee, _SUPERIOR.unit_id)
    .outerjoin(_SUPERIOR, _SUPERIOR.nip == Employee.superior_nip)
    .where(Employee.nip == bindparam("nip"))
)


def create_plan(s: Session, p: Principal, data: dict) -> Plan:
    if not p.nip:
        raise forbid()
    emp, superior_unit_id = s.execute(_EMPLOYEE_WITH_SUPERIOR_UNIT, {"nip": p.nip}).first() or (None, None)
    if emp is None or not emp.active:
        raise Problem(403, "plan.not_employee")
    c = cycle_for_guard(s, data["cycle_id"])
    if c is None or c.agency_code != emp.agency_code:
        raise validation([("cycle_id", "cycle.unknown")])
    guard_stage(c, "plan.create")
    if s.scalar(select(Plan.id).where(Plan.cycle_id == c.id, Plan.employee_nip == emp.nip)):
        raise Problem(409, "plan.exists", cycle_id=c.id)
    plan = Plan(
        cycle_id=c.id,
        agency_code=emp.agency_code,
        employee_nip=emp.nip,
        employee_name=emp.name,
        position=emp.position,
        grade=emp.grade,
        unit_id=emp.unit_id,
        penilai_nip=emp.superior_nip,
        is_head_of_unit=is_head_of_unit(s, emp, superior_unit_id),
        approach=data["approach"],
        status="draft",
        behaviour={},
        annex={},
        created_at=now(),
        updated_at=now(),
    )
    plan.rhk = []
    _apply_content(s, plan, data)
    s.add(plan)
    cycle_id = c.id  # read now: a failed flush expires the session's objects
    try:
        s.flush()
    except IntegrityError:  # a concurrent request created it first (uq_plan_cycle_employee)
        raise Problem(409, "plan.exists", cycle_id=cycle_id) from None
    after = plan_content_dict(plan)
    record(s, p, "plan.created", "plan", plan.id, after=after, agency=plan.agency_code, subject=plan.employee_nip)
    return plan


def get_plan(s: Session, p: Principal, plan_id: int, *, content: bool = True) -> Plan:
    """The plan, if the caller may read it (else 404). ``content``: with its RHK and IKI, read in the
    same statement (joined; the mapping's ``selectin`` took two more); without, they are read only
    if something asks for them (a realisation never does), and the plan's cycle with its periods
    comes in the same statement instead (what recording a realisation checks)."""
    machine = reads_plans(p)  # plans:read (the operations that declare it; the others refuse it first)
    if not machine:
        refuse_machine_client(p)
    plan = load_by_id(s, Plan, plan_id, _PLAN_WITH_CONTENT if content else _PLAN_ALONE)
    if plan is None or not (
        (machine and plan.agency_code == p.agency) or can_read_person(s, p, plan.agency_code, plan.employee_nip)
    ):
        raise not_found("plan", plan_id)
    return plan


# built once (per process), run with the id (``load_by_id``)
_PLAN_WITH_CONTENT = by_id(Plan, joinedload(Plan.rhk).joinedload(Rhk.iki))
_PLAN_ALONE = by_id(Plan, lazyload(Plan.rhk), joinedload(Plan.cycle).joinedload(Cycle.periods))


def require_owner(p: Principal, plan: Plan) -> None:
    """Only the employee whose SKP it is (403 ``plan.only_owner``)."""
    if p.nip != plan.employee_nip:
        raise Problem(403, "plan.only_owner")


def update_plan(s: Session, p: Principal, plan: Plan, data: dict) -> Plan:
    require_owner(p, plan)
    guard_stage(cycle_for_guard(s, plan.cycle_id), "plan.edit")
    domain.plan_transition(plan.status, "edit")
    # the expectations the penilai wrote stay the penilai's: the employee's form sends the plan back whole,
    # so a changed or dropped text for such a value is kept as the penilai wrote it rather than refused
    kept = {k: v for k, v in (plan.behaviour or {}).items() if k in (plan.behaviour_by_penilai or ())}
    data = {**data, "behaviour": {**data["behaviour"], **kept}}
    with changing(
        s,
        p,
        "plan.updated",
        "plan",
        plan.id,
        lambda: plan_content_dict(plan),
        agency=plan.agency_code,
        subject=plan.employee_nip,
    ):
        _apply_content(s, plan, data)
        plan.updated_at = now()
        # always UPDATE the plan row, so its version check runs (and the version moves) even when only
        # RHK/IKI rows changed and the clock has not moved: two writers with one ETag give one 412
        flag_modified(plan, "updated_at")
        s.flush()
    return plan


def plan_query(s: Session, p: Principal, args: dict):
    machine = reads_plans(p)
    if not machine:
        refuse_machine_client(p)
    stmt = select(Plan).options(lazyload(Plan.rhk))  # list rows are summaries: no RHK/IKI loading
    if p.is_admin:
        pass
    elif p.has("hr") or machine:
        stmt = stmt.where(Plan.agency_code == p.agency)
    else:
        stmt = stmt.where(only_visible(s, p, Plan.employee_nip))
    for key in ("cycle_id", "status", "employee_nip", "penilai_nip"):
        if key in args:
            stmt = stmt.where(getattr(Plan, key) == args[key])
    if "unit_code" in args:
        stmt = stmt.join(Unit, Plan.unit_id == Unit.id).where(Unit.code == args["unit_code"])
    return stmt


#: the columns of a list row (:class:`PlanSummary`)
_SUMMARY = tuple(getattr(Plan, name) for name in PlanSummary._declared_fields)


def plan_versions(s: Session, plan: Plan) -> list[PlanVersion]:
    return list(s.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.revision)))


# ------------------------------------------------------------------ views


@blp.route("")
class Plans(MethodView):
    @accepts("plans:read")
    @blp.arguments(PlanQuery(), location="query")  # one instance, not one per request
    @blp.response(200, page_schema(PlanSummary))
    def get(self, args):
        """SKPs the caller may see, filtered by cycle, unit, status, employee or penilai."""
        p = current_principal()
        with platform().uow() as s:
            stmt = plan_query(s, p, args).options(load_only(*_SUMMARY))  # not the content's JSON columns
            return paginate(s, stmt, Plan.id, args.get("cursor"), args["limit"])

    @blp.arguments(PlanCreate)
    @blp.response(201, PlanOut)
    def post(self, data):
        """Draft my SKP for a cycle (the employee, in stage planning)."""
        with platform().uow() as s:
            return with_etag(create_plan(s, current_principal(), data))


@blp.route("/<int:plan_id>")
class PlanItem(MethodView):
    @accepts("plans:read")
    @blp.response(200, PlanOut)
    def get(self, plan_id):
        with platform().uow() as s:
            return with_etag(get_plan(s, current_principal(), plan_id))

    @blp.arguments(PlanContent)
    @blp.response(200, PlanOut)
    def put(self, data, plan_id):
        """Replace the content of my SKP while it is draft, returned or opened for revision; requires If-Match.
        RHK and IKI sent with their ``id`` keep it (realisations and cascade links stay attached)."""
        p = current_principal()
        with platform().uow() as s:
            plan = get_plan(s, p, plan_id)
            require_if_match(plan.version)
            return with_etag(update_plan(s, p, plan, data))


@blp.route("/<int:plan_id>/versions")
class PlanVersions(MethodView):
    @accepts("plans:read")
    @blp.response(200, PlanVersionOut(many=True))
    def get(self, plan_id):
        with platform().uow() as s:
            plan = get_plan(s, current_principal(), plan_id)
            stmt = select(PlanVersion).where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.revision)
            return capped(s, stmt, "versions")  # one per approval: bounded, and capped all the same


@blp.route("/<int:plan_id>/versions/<int:revision>")
class PlanVersionItem(MethodView):
    @accepts("plans:read")
    @blp.response(200, PlanVersionOut)
    def get(self, plan_id, revision):
        with platform().uow() as s:
            for v in plan_versions(s, get_plan(s, current_principal(), plan_id)):
                if v.revision == revision:
                    return v
            raise not_found("plan version", revision)
