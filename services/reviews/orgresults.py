"""The yardsticks of calibration: each unit's organisation result per period (set by HR or the
head one level up; a head of unit's rating hasil kerja follows it) and the agency's distribution
rules of predikats per organisation result (DOMAIN.md §5; the SE MenPANRB 3/2023 defaults until HR
replaces them)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal, forbid
from services.common.errors import Problem
from services.common.http import UtcDateTime, capped
from services.common.scopes import accepts
from services.common.usecase import now, parse_each, record, validation

from . import domain
from .access import ANNUAL, PREFIX, in_agency, uow
from .models import CycleRef, DistributionRuleRow, Evaluation, OrgResult, Person, UnitRef
from .schemas import ID, SEQ, CalibrationQuery

blp = Blueprint(
    "orgresults",
    __name__,
    url_prefix=PREFIX,
    description="Organisation results per unit and period, and the agency's distribution rules",
)

ORG_RESULT = validate.OneOf(domain.ORG_RESULTS)
ORG_RESULTS_CAP = 5000  # a cycle's organisation results (units × periods) answered at once; more: per unit_code


class OrgResultIn(Schema):
    cycle_id = fields.Integer(required=True, validate=ID)
    period_seq = fields.Integer(load_default=0, validate=SEQ)
    unit_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    result = fields.String(required=True, validate=ORG_RESULT)


class OrgResultOut(Schema):
    id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    period_seq = fields.Integer(required=True)
    unit_code = fields.String(required=True)
    result = fields.String(required=True, metadata={"enum": list(domain.ORG_RESULTS)})
    set_by = fields.String(required=True)
    set_at = UtcDateTime(required=True)


class RuleSchema(Schema):
    # the enums and ranges are checked by domain.DistributionRule (curve.* codes): documented here
    org_result = fields.String(required=True, metadata={"enum": list(domain.ORG_RESULTS)})
    bound = fields.String(required=True, metadata={"enum": list(domain.BOUNDS)})
    predikats = fields.List(
        fields.String(metadata={"enum": list(domain.PREDIKATS)}),
        required=True,
        metadata={"minItems": 1, "uniqueItems": True},
    )
    percent = fields.Float(load_default=None, allow_none=True, allow_nan=False, metadata={"minimum": 0, "maximum": 100})
    count = fields.Integer(load_default=None, allow_none=True, metadata={"minimum": 0})
    rounding = fields.String(load_default="nearest", metadata={"enum": list(domain.ROUNDINGS)})


class RulesIn(Schema):
    rules = fields.List(fields.Nested(RuleSchema), required=True)


class RulesOut(Schema):
    rules = fields.List(fields.Dict())


# ------------------------------------------------------------------ organisation results


def org_result_of(s: Session, ev: Evaluation) -> str | None:
    return s.scalar(
        select(OrgResult.result).where(
            OrgResult.cycle_id == ev.cycle_id,
            OrgResult.period_seq == ev.period_seq,
            OrgResult.unit_code == ev.unit_code,
        )
    )


def unit_heads(s: Session, agency: str, unit_code: str) -> set[str]:
    unit = s.scalar(select(UnitRef).where(UnitRef.agency_code == agency, UnitRef.code == unit_code))
    if unit is not None and unit.head_nip:
        return {unit.head_nip}
    people = s.scalars(select(Person).where(Person.agency_code == agency, Person.unit_code == unit_code)).all()
    units_of = {p.nip: p.unit_code for p in s.scalars(select(Person).where(Person.agency_code == agency))}
    return {p.nip for p in people if not p.superior_nip or units_of.get(p.superior_nip) != unit_code}


def _refuse_after_sign_off(s: Session, c: CycleRef, seq: int, unit_code: str) -> None:
    """The organisation result comes first (DOMAIN.md §5: it sets the curve the penilai rate within)
    and is part of each signed document. So it is fixed once the cycle is closed, and once any of the
    unit's evaluations of that period is signed: a signed rating can no longer be calibrated to a new
    curve, and its document would state a result the unit no longer has (409 either way)."""
    if c.stage == "closed":
        raise Problem(409, "org_result.cycle_closed", unit_code=unit_code, cycle=c.name)
    signed = s.scalar(
        select(func.count()).where(
            Evaluation.cycle_id == c.id,
            Evaluation.period_seq == seq,
            Evaluation.unit_code == unit_code,
            Evaluation.status.in_([st for st in domain.EVALUATION_STATUSES if domain.frozen(st)]),
        )
    )
    if signed:
        raise Problem(409, "org_result.signed", unit_code=unit_code, signed=signed)


def set_org_result(s: Session, p: Principal, data: dict) -> OrgResult:
    c = s.get(CycleRef, data["cycle_id"])
    if c is None or not (p.is_admin or p.agency == c.agency_code):
        raise validation([("cycle_id", "cycle.unknown")])
    seq = data.get("period_seq") or ANNUAL
    if seq != ANNUAL and seq not in {pr["seq"] for pr in c.periods or []}:
        raise validation([("period_seq", "period.unknown")])
    if (
        s.scalar(select(UnitRef.id).where(UnitRef.agency_code == c.agency_code, UnitRef.code == data["unit_code"]))
        is None
    ):
        raise validation([("unit_code", "unit.unknown")])
    if not in_agency(p, c.agency_code, ("hr",)):
        heads = unit_heads(s, c.agency_code, data["unit_code"])
        superiors = {s.scalar(select(Person.superior_nip).where(Person.nip == h)) for h in heads}
        if not p.nip or p.nip not in superiors:
            raise Problem(403, "org_result.only_head_above")
    _refuse_after_sign_off(s, c, seq, data["unit_code"])
    row = s.scalar(
        select(OrgResult).where(
            OrgResult.cycle_id == c.id, OrgResult.period_seq == seq, OrgResult.unit_code == data["unit_code"]
        )
    )
    before = {"result": row.result} if row else None
    if row is None:
        row = OrgResult(cycle_id=c.id, agency_code=c.agency_code, period_seq=seq, unit_code=data["unit_code"])
        s.add(row)
    row.result, row.set_by, row.set_at = data["result"], p.sub, now()
    s.flush()
    record(
        s,
        p,
        "org_result.set",
        "org_result",
        row.id,
        before=before,
        after={"result": row.result, "seq": seq, "unit_code": row.unit_code},
        agency=c.agency_code,
    )
    return row


# ------------------------------------------------------------------ distribution rules


_RULES_MEMO = "reviews.distribution_rules"  # key in ``Session.info``: the agency's rules, read once per session


def rules_for(s: Session, agency: str) -> list[domain.DistributionRule]:
    """The agency's distribution rules (its own, else the defaults), read once per session: a signature
    checks the unit's curve and writes the rules into the document (one statement, not two).
    :func:`replace_rules` forgets what was read."""
    memo = s.info.setdefault(_RULES_MEMO, {})
    if agency not in memo:
        rows = s.scalars(
            select(DistributionRuleRow)
            .where(DistributionRuleRow.agency_code == agency)
            .order_by(DistributionRuleRow.position)
        ).all()
        memo[agency] = tuple(domain.rule_from_dict(r.rule) for r in rows) if rows else tuple(domain.DEFAULT_RULES)
    return list(memo[agency])


def replace_rules(s: Session, p: Principal, rules: list[dict]) -> list[domain.DistributionRule]:
    agency = p.agency or ""
    if not in_agency(p, agency, ("hr",)):
        raise forbid()
    parsed = parse_each(rules, domain.rule_from_dict, "rules", "rule")
    before = [domain.rule_to_dict(r) for r in rules_for(s, agency)]
    s.info.pop(_RULES_MEMO, None)  # replaced below: a later read in this session reads the new rules
    for row in s.scalars(select(DistributionRuleRow).where(DistributionRuleRow.agency_code == agency)):
        s.delete(row)
    for i, rule in enumerate(parsed):
        s.add(DistributionRuleRow(agency_code=agency, position=i, rule=domain.rule_to_dict(rule)))
    s.flush()
    record(
        s,
        p,
        "distribution_rules.replaced",
        "distribution_rules",
        agency,
        before=before,
        after=[domain.rule_to_dict(r) for r in parsed],
        agency=agency,
    )
    return parsed


# ------------------------------------------------------------------ HTTP


@blp.route("/org-results")
class OrgResults(MethodView):
    @accepts("results:read")
    @blp.arguments(CalibrationQuery, location="query")
    @blp.response(200, OrgResultOut(many=True))
    def get(self, args):
        p = current_principal()
        with uow() as s:
            stmt = select(OrgResult).where(
                OrgResult.cycle_id == args["cycle_id"], OrgResult.agency_code == (p.agency or "\0")
            )
            if "unit_code" in args:
                stmt = stmt.where(OrgResult.unit_code == args["unit_code"])
            # units × periods of one cycle: bounded by the directory; past the cap, ask per unit_code
            stmt = stmt.order_by(OrgResult.period_seq, OrgResult.unit_code)
            return capped(s, stmt, "org-results", cap=ORG_RESULTS_CAP)

    @blp.arguments(OrgResultIn)
    @blp.response(200, OrgResultOut)
    def put(self, data):
        """Set a unit's organisation result for a period (HR, or the head one level up)."""
        with uow() as s:
            return set_org_result(s, current_principal(), data)


@blp.route("/distribution-rules")
class Rules(MethodView):
    @accepts("results:read")
    @blp.response(200, RulesOut)
    def get(self):
        """The agency's distribution rules (defaults from SE MenPANRB 3/2023 until HR edits them)."""
        p = current_principal()
        with uow() as s:
            return {"rules": [domain.rule_to_dict(r) for r in rules_for(s, p.agency or "")]}

    @blp.arguments(RulesIn)
    @blp.response(200, RulesOut)
    def put(self, data):
        """Replace the agency's distribution rules (HR)."""
        with uow() as s:
            rules = replace_rules(s, current_principal(), data["rules"])
            return {"rules": [domain.rule_to_dict(r) for r in rules]}
