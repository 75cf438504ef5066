"""Progress against an approved SKP: the realisation of each IKI per period (one at a time or a
period's whole form at once, all or none); the evidence files behind it are :mod:`.evidence`. The
blueprint, its schemas and its use cases; every change is recorded with ``plans.realisation.recorded``."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.http import ObjectSchema, UtcDateTime, capped
from services.common.scopes import accepts
from services.common.usecase import by_id, load_by_id, now, platform, record, validation

from .access import PREFIX
from .cycles import guard_stage, period_of
from .models import Cycle, Iki, Period, Plan, Realisation, Rhk
from .schemas import ID
from .skp import get_plan, require_owner

blp = Blueprint("progress", __name__, url_prefix=PREFIX, description="Realisation of IKI, per period")

#: items in one ``realisations:batch`` request (an SKP has a few dozen IKI; several periods at once fit)
REALISATION_BATCH_MAX = 100

# ------------------------------------------------------------------ schemas


class RealisationIn(Schema):
    iki_id = fields.String(required=True)
    period_seq = fields.Integer(required=True, validate=validate.Range(min=1, max=12))
    value = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    links = fields.List(fields.Url(schemes={"http", "https"}), load_default=list, validate=validate.Length(max=20))

    @validates_schema
    def _value_or_text(self, data, **kw):
        if data.get("value") is None and not data.get("text"):
            raise ValidationError("Give a numeric value or a text realisation.", "value")


class EvidenceOut(ObjectSchema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = UtcDateTime()
    review_status = fields.String(metadata={"description": "pending | accepted | needs_replacement"})
    review_note = fields.String(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = UtcDateTime(allow_none=True)


class RealisationOut(ObjectSchema):
    id = fields.Integer()
    plan_id = fields.Integer()
    iki_id = fields.String()
    period_seq = fields.Integer()
    value = fields.Float(allow_none=True)
    text = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    links = fields.List(fields.String())
    source = fields.String()
    recorded_by = fields.String()
    recorded_at = UtcDateTime()
    evidence = fields.List(fields.Nested(EvidenceOut))
    version = fields.Integer()


class RealisationQuery(Schema):
    period_seq = fields.Integer(validate=ID)


# ------------------------------------------------------------------ realisation


def _own_iki_and_realisations(
    s: Session, plan: Plan, wanted: set[str], period_ids: set[int]
) -> tuple[set[str], dict[tuple[str, int], Realisation]]:
    """Which of ``wanted`` are IKI of the plan, and their realisations (with evidence) already
    recorded for ``period_ids`` by (IKI, period): one statement — the IKI of the plan joined with
    their realisations of those periods."""
    rows = s.execute(
        _PLAN_IKI_REALISATIONS, {"plan": plan.id, "ids": sorted(wanted), "periods": sorted(period_ids)}
    ).unique()
    own, existing = set(), {}
    for iki_id, r in rows:
        own.add(iki_id)
        if r is not None:
            existing[(r.iki_id, r.period_id)] = r
    return own, existing


# built once (per process), run with their parameters
_CYCLE_WITH_PERIODS = by_id(Cycle, joinedload(Cycle.periods))
_PLAN_IKI_REALISATIONS = (
    select(Iki.id, Realisation)
    .join(Rhk, Iki.rhk_id == Rhk.id)
    .outerjoin(
        Realisation,
        (Realisation.iki_id == Iki.id) & Realisation.period_id.in_(bindparam("periods", expanding=True)),
    )
    .options(joinedload(Realisation.evidence))  # in the same statement
    .where(Rhk.plan_id == bindparam("plan"), Iki.id.in_(bindparam("ids", expanding=True)))
)


def realisation_out(r: Realisation, s: Session) -> Realisation:
    r.period_seq = s.scalar(select(Period.seq).where(Period.id == r.period_id))
    return r


def realisation_payload(plan: Plan, r: Realisation, seq: int) -> dict:
    """The ``plans.realisation.recorded`` payload of one realisation."""
    return {
        "realisation_id": r.id,
        "plan_id": plan.id,
        "cycle_id": plan.cycle_id,
        "agency_code": plan.agency_code,
        "employee_nip": plan.employee_nip,
        "iki_id": r.iki_id,
        "period_seq": seq,
        "value": r.value,
        "text": r.text,
        "evidence_count": len(r.evidence),
        "source": r.source,
    }


def _realisation_state(r: Realisation) -> dict:
    return {"value": r.value, "text": r.text, "note": r.note, "links": r.links}


def record_realisation(s: Session, p: Principal, plan: Plan, data: dict, *, source: str = "employee") -> Realisation:
    return record_realisations(s, p, plan, [data], source=source, batch=False)[0]


def record_realisations(
    s: Session,
    p: Principal,
    plan: Plan,
    items: list[dict],
    *,
    source: str = "employee",
    batch: bool = True,
    limit: int = 100,
) -> list[Realisation]:
    """Record (or correct) the realisation of several IKI at once — the period's form, all or none,
    at most ``limit``. In a batch errors name the item (``[3].iki_id``); one item is named plainly."""
    if not items:
        raise validation([("body", "realisation.batch_empty")])
    if len(items) > limit:
        raise validation([("body", "realisation.batch_too_large")], max=limit)
    if source == "employee":
        require_owner(p, plan)
    c = load_by_id(s, Cycle, plan.cycle_id, _CYCLE_WITH_PERIODS)  # one statement, not two
    guard_stage(c, "realisation.record")
    if plan.status not in ("approved", "revised"):
        raise Problem(409, "realisation.plan_not_approved", plan_status=plan.status)

    def name(i: int, field: str) -> str:
        return f"[{i}].{field}" if batch else field

    by_seq = {pr.seq: pr for pr in c.periods}
    # which IKI are the plan's and what is already recorded for them, in one statement
    own, existing = _own_iki_and_realisations(
        s, plan, {d["iki_id"] for d in items}, {by_seq[d["period_seq"]].id for d in items if d["period_seq"] in by_seq}
    )
    periods, seen = [], {}
    for n, data in enumerate(items):
        if data["iki_id"] not in own:
            raise validation([(name(n, "iki_id"), "iki.unknown")])
        period = period_of(c, data["period_seq"], name(n, "period_seq"))
        key = (data["iki_id"], period.id)
        if key in seen:
            raise validation([(name(n, "iki_id"), "realisation.repeated")], item=seen[key])
        seen[key] = n
        periods.append(period)
    recorded, befores = [], []
    for data, period in zip(items, periods):
        r = existing.get((data["iki_id"], period.id))
        if r is None:
            r = Realisation(
                plan_id=plan.id, iki_id=data["iki_id"], period_id=period.id, evidence=[]
            )  # none yet: no query
            s.add(r)
            befores.append(None)
        else:
            befores.append(_realisation_state(r))
        r.value, r.text, r.note, r.links = (
            data.get("value"),
            data.get("text"),
            data.get("note"),
            data.get("links") or [],
        )
        r.source, r.recorded_by, r.recorded_at = source, p.sub, now()
        r.period_seq = period.seq
        recorded.append(r)
    s.flush()
    for r, before in zip(recorded, befores):
        record(
            s,
            p,
            "realisation.recorded",
            "realisation",
            r.id,
            before=before,
            after=_realisation_state(r),
            agency=plan.agency_code,
            subject=plan.employee_nip,
            event="plans.realisation.recorded",
            data=realisation_payload(plan, r, r.period_seq),
        )
    return recorded


def list_realisations(s: Session, plan: Plan, period_seq: int | None) -> list[Realisation]:
    stmt = select(Realisation).where(Realisation.plan_id == plan.id)
    if period_seq is not None:
        stmt = stmt.join(Period, Realisation.period_id == Period.id).where(Period.seq == period_seq)
    return [realisation_out(r, s) for r in capped(s, stmt.order_by(Realisation.id), "realisations")]


# ------------------------------------------------------------------ views


@blp.route("/plans/<int:plan_id>/realisations")
class Realisations(MethodView):
    @accepts("plans:read")
    @blp.arguments(RealisationQuery, location="query")
    @blp.response(200, RealisationOut(many=True))
    def get(self, args, plan_id):
        with platform().uow() as s:
            plan = get_plan(s, current_principal(), plan_id)
            return list_realisations(s, plan, args.get("period_seq"))

    @blp.arguments(RealisationIn())  # one instance, not one per request
    @blp.response(201, RealisationOut)
    def post(self, data, plan_id):
        """Record (or correct) the realisation of one IKI for one period."""
        p = current_principal()
        with platform().uow() as s:
            return record_realisation(s, p, get_plan(s, p, plan_id, content=False), data)


@blp.route("/plans/<int:plan_id>/realisations:batch")
class RealisationsBatch(MethodView):
    @blp.arguments(RealisationIn(many=True))
    @blp.response(201, RealisationOut(many=True))
    def post(self, items, plan_id):
        """Record (or correct) several IKI at once — a period's whole form: all or none, errors
        name the item (``[3].value``); at most 100 items."""
        p = current_principal()
        with platform().uow() as s:
            plan = get_plan(s, p, plan_id, content=False)
            return record_realisations(s, p, plan, items, limit=REALISATION_BATCH_MAX)
