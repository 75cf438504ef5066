"""Evaluation cycles (periode penilaian): creating a cycle with its periods, their fill-in deadlines
and the stage machine that moves it (DESIGN.md §4) — the blueprint, its schemas and its use cases,
plus the stage guard every other capability asks before it acts."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.grants import act_for, agency_arg
from services.common.http import PageArgs, page_schema, paginate, require_if_match, with_etag
from services.common.scopes import accepts
from services.common.usecase import not_found, now, platform, record, validation

from . import domain
from .access import PREFIX, require_hr
from .directory import get_agency, unit_by_code
from .models import Cycle, Grant, Period
from .schemas import ID

blp = Blueprint("cycles", __name__, url_prefix=f"{PREFIX}/cycles", description="Evaluation cycles and stages")


class PeriodOut(Schema):
    seq = fields.Integer()
    name_id = fields.String()
    name_en = fields.String()
    start = fields.Date()
    end = fields.Date()
    deadline = fields.Date()


class CycleIn(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2022, max=2100))
    name = fields.String(load_default=None, validate=validate.Length(min=2, max=200))
    period_type = fields.String(required=True, validate=validate.OneOf(domain.PERIOD_TYPES))
    planning_deadline = fields.Date(load_default=None)
    deadline_days = fields.Integer(load_default=5, validate=validate.Range(min=0, max=60))
    unit_codes = fields.List(fields.String(), load_default=None)


class CycleOut(Schema):
    id = fields.Integer()
    agency_code = fields.String()
    year = fields.Integer()
    name = fields.String()
    period_type = fields.String()
    stage = fields.String()
    period_seq = fields.Integer(allow_none=True)
    phase = fields.String(allow_none=True)
    state = fields.String()
    planning_deadline = fields.Date(allow_none=True)
    unit_codes = fields.List(fields.String(), allow_none=True)
    periods = fields.List(fields.Nested(PeriodOut))
    version = fields.Integer()


class CycleQuery(PageArgs):
    year = fields.Integer(validate=ID)
    stage = fields.String(validate=validate.OneOf(domain.STAGES))
    agency = agency_arg()


class PeriodUpdate(Schema):
    deadline = fields.Date(required=True, metadata={"description": "batas pengisian (fill-in deadline)"})


class AdvanceIn(Schema):
    expected = fields.String(
        load_default=None,
        metadata={
            "description": "The state the caller believes the cycle is in (e.g. 'planning' or "
            "'monitoring:2:self_assessment'); when given and different, 409 and nothing changes."
        },
    )


# ------------------------------------------------------------------ use cases


def cycle_state(c: Cycle) -> domain.CycleState:
    return domain.CycleState(c.stage, c.period_seq, c.phase)


def cycle_out(c: Cycle) -> Cycle:
    c.state = domain.state_label(cycle_state(c))
    return c


def cycle_for_guard(s: Session, cycle_id: int) -> Cycle | None:
    """The cycle a stage check reads (its stage, agency and id), without loading its periods, which the
    mapping would read with a second statement and no stage check needs (they load if asked for)."""
    return s.get(Cycle, cycle_id, options=[lazyload(Cycle.periods)])


def guard_stage(c: Cycle, action: str) -> None:
    """409 with the stage when the cycle's current stage does not allow ``action``."""
    domain.guard(cycle_state(c), action)


def period_of(c: Cycle, seq: int | None, field: str = "period_seq") -> Period | None:
    if seq is None:
        return None
    for pr in c.periods:
        if pr.seq == seq:
            return pr
    raise validation([(field, "period.unknown")], seq=seq)


def period_payload(pr: Period) -> dict:
    return {
        "seq": pr.seq,
        "name_id": pr.name_id,
        "name_en": pr.name_en,
        "start": pr.start,
        "end": pr.end,
        "deadline": pr.deadline,
    }


def create_cycle(s: Session, p: Principal, data: dict) -> Cycle:
    agency_code = p.agency or ""
    require_hr(p, agency_code)
    get_agency(s, agency_code)
    name = data.get("name") or f"Penilaian Kinerja {data['year']}"
    if s.scalar(
        select(Cycle.id).where(Cycle.agency_code == agency_code, Cycle.year == data["year"], Cycle.name == name)
    ):
        raise Problem(409, "cycle.exists", year=data["year"], name=name)
    for code in data.get("unit_codes") or []:
        if unit_by_code(s, agency_code, code) is None:
            raise validation([("unit_codes", "employee.unit_unknown")], unit_code=code)
    specs = domain.make_periods(data["year"], data["period_type"], data.get("deadline_days", 5))
    c = Cycle(
        agency_code=agency_code,
        year=data["year"],
        name=name,
        period_type=data["period_type"],
        stage="draft",
        planning_deadline=data.get("planning_deadline"),
        unit_codes=data.get("unit_codes"),
        created_at=now(),
        updated_at=now(),
    )
    c.periods = [
        Period(seq=sp.seq, name_id=sp.name_id, name_en=sp.name_en, start=sp.start, end=sp.end, deadline=sp.deadline)
        for sp in specs
    ]
    s.add(c)
    s.flush()
    record(
        s,
        p,
        "cycle.created",
        "cycle",
        c.id,
        after={"year": c.year, "name": c.name, "period_type": c.period_type},
        agency=agency_code,
        event="plans.cycle.opened",
        data={
            "cycle_id": c.id,
            "agency_code": agency_code,
            "year": c.year,
            "name": c.name,
            "period_type": c.period_type,
            "stage": c.stage,
            "planning_deadline": c.planning_deadline,
            "unit_codes": c.unit_codes,
            "periods": [period_payload(pr) for pr in c.periods],
        },
    )
    return cycle_out(c)


def get_cycle(s: Session, p: Principal, cycle_id: int) -> Cycle:
    c = s.get(Cycle, cycle_id)
    if c is None or not (p.is_admin or p.agency == c.agency_code):
        raise not_found("cycle", cycle_id)
    return cycle_out(c)


def cycle_query(p: Principal, args: dict):
    stmt = select(Cycle)
    if not p.is_admin:
        stmt = stmt.where(Cycle.agency_code == (p.agency or "\0"))
    for key in ("year", "stage"):
        if key in args:
            stmt = stmt.where(getattr(Cycle, key) == args[key])
    return stmt


def update_period(s: Session, p: Principal, c: Cycle, seq: int, data: dict) -> Cycle:
    """HR sets a period's fill-in deadline (batas pengisian) while the cycle is draft or planning."""
    require_hr(p, c.agency_code)
    guard_stage(c, "cycle.edit_periods")
    period = period_of(c, seq, field="seq")
    if data["deadline"] < period.start:
        raise validation([("deadline", "period.deadline_before_start")], start=str(period.start))
    before = {"deadline": str(period.deadline), "seq": seq}
    period.deadline = data["deadline"]
    c.updated_at = now()  # bumps the cycle's version: its ETag changes
    s.flush()
    after = {"seq": seq, "deadline": str(period.deadline)}
    record(s, p, "period.updated", "cycle", c.id, before=before, after=after, agency=c.agency_code)
    return cycle_out(c)


def advance_cycle(s: Session, p: Principal, c: Cycle, expected: str | None) -> Cycle:
    require_hr(p, c.agency_code)
    current = cycle_state(c)
    label = domain.state_label(current)
    if expected is not None and expected != label:
        raise Problem(409, "cycle.not_expected", stage=label, expected=expected)
    nxt = domain.next_state(current, len(c.periods))
    c.stage, c.period_seq, c.phase = nxt.stage, nxt.period_seq, nxt.phase
    c.updated_at = now()
    s.flush()
    new_label = domain.state_label(nxt)
    record(
        s,
        p,
        "cycle.advanced",
        "cycle",
        c.id,
        before={"state": label},
        after={"state": new_label},
        agency=c.agency_code,
        event="plans.cycle.stage_changed",
        data={
            "cycle_id": c.id,
            "agency_code": c.agency_code,
            "year": c.year,
            "previous": label,
            "stage": nxt.stage,
            "period_seq": nxt.period_seq,
            "phase": nxt.phase,
            "state": new_label,
        },
    )
    return cycle_out(c)


# ------------------------------------------------------------------ views


@blp.route("")
class Cycles(MethodView):
    @accepts("plans:read", "results:read")
    @blp.arguments(CycleQuery, location="query")
    @blp.response(200, page_schema(CycleOut))
    def get(self, args):
        """The caller's agency's cycles; a machine client with a grant of another agency names it with ``agency``."""
        with platform().uow() as s:
            p = act_for(s, Grant, args.get("agency"))
            page = paginate(s, cycle_query(p, args), Cycle.id, args.get("cursor"), args["limit"])
            page["items"] = [cycle_out(c) for c in page["items"]]
            return page

    @blp.arguments(CycleIn)
    @blp.response(201, CycleOut)
    def post(self, data):
        """Create an evaluation cycle with its periods (HR); it starts in stage ``draft``."""
        with platform().uow() as s:
            return with_etag(create_cycle(s, current_principal(), data))


@blp.route("/<int:cycle_id>")
class CycleItem(MethodView):
    @accepts("plans:read", "results:read")
    @blp.response(200, CycleOut)
    def get(self, cycle_id):
        with platform().uow() as s:
            return with_etag(get_cycle(s, current_principal(), cycle_id))


@blp.route("/<int:cycle_id>/periods/<int:seq>")
class CyclePeriod(MethodView):
    @blp.arguments(PeriodUpdate)
    @blp.response(200, CycleOut)
    def patch(self, data, cycle_id, seq):
        """Set a period's fill-in deadline (HR, stage draft or planning); requires If-Match of the cycle."""
        p = current_principal()
        with platform().uow() as s:
            c = get_cycle(s, p, cycle_id)
            require_if_match(c.version)
            return with_etag(update_period(s, p, c, seq, data))


@blp.route("/<int:cycle_id>/advance")
class CycleAdvance(MethodView):
    @blp.arguments(AdvanceIn)
    @blp.response(200, CycleOut)
    def post(self, data, cycle_id):
        """Move the cycle to its next stage (or period/phase). Send ``expected`` to make the call
        safe to repeat: when the cycle is no longer there, 409 names the current stage."""
        p = current_principal()
        with platform().uow() as s:
            c = get_cycle(s, p, cycle_id)
            return with_etag(advance_cycle(s, p, c, data.get("expected")))
