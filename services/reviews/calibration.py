"""Calibration against the distribution curve (DOMAIN.md §5): per unit, the predikat counts
against the bands its organisation result allows, the check that publishes each violation once,
HR's override with a reason, the adjustment of a rating with a reason, and each penilai's rating
consistency (leniency or severity) against their unit and the agency."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal, require_roles
from services.common.errors import Problem
from services.common.http import UtcDateTime, capped
from services.common.scopes import accepts
from services.common.usecase import emit, now, platform, record, validation

from . import domain
from .access import (
    ANNUAL,
    PREFIX,
    agency_cycle,
    evaluation_action,
    get_evaluation,
    guard,
    not_frozen,
    penilai_or_hr,
    rated_ref,
    uow,
)
from .models import Adjustment, CalibrationOverride, CycleRef, Evaluation, OrgResult, Person, UnitRef
from .orgresults import rules_for
from .schemas import ID, RATING, SEQ, UNIT_CODE_DOC, CalibrationQuery, EvaluationOut

blp = Blueprint(
    "calibration",
    __name__,
    url_prefix=PREFIX,
    description="Calibration against the distribution curve, adjustments, overrides, rater consistency",
)


class CalibrationOut(Schema):
    cycle_id = fields.Integer()
    period_seq = fields.Integer()
    units = fields.List(fields.Dict())


class OverrideIn(Schema):
    cycle_id = fields.Integer(required=True, validate=ID)
    period_seq = fields.Integer(load_default=0, validate=SEQ)
    unit_code = fields.String(required=True, metadata=UNIT_CODE_DOC)
    reason = fields.String(required=True, validate=validate.Length(min=10, max=4000))


class OverrideOut(Schema):
    cycle_id = fields.Integer()
    period_seq = fields.Integer()
    unit_code = fields.String()
    reason = fields.String()
    violations = fields.List(fields.Dict())
    set_by = fields.String()
    set_at = UtcDateTime()


class AdjustIn(Schema):
    rating_hasil = fields.String(validate=RATING)
    rating_perilaku = fields.String(validate=RATING)
    perilaku_below_values = fields.List(
        fields.String(),
        load_default=list,
        metadata={
            "description": "BerAKHLAK value codes behind a 'below' rating_perilaku; required when adjusting to "
            "'below' from another rating (a rating already 'below' keeps its values when none are given)"
        },
    )
    reason = fields.String(required=True, validate=validate.Length(min=5, max=4000))


class AdjustmentOut(Schema):
    id = fields.Integer(required=True)
    evaluation_id = fields.Integer(required=True)
    before = fields.Dict(required=True)
    after = fields.Dict(required=True)
    reason = fields.String(required=True)
    by = fields.String(required=True)
    at = UtcDateTime(required=True)


class ConsistencyQuery(Schema):
    cycle_id = fields.Integer(required=True, validate=ID)
    period_seq = fields.Integer(validate=SEQ)


class ConsistencyOut(Schema):
    cycle_id = fields.Integer()
    period_seq = fields.Integer(allow_none=True)
    raters = fields.List(fields.Dict())


# ------------------------------------------------------------------ the calibration view


def _violation_dict(v: domain.Violation) -> dict:
    return {
        "code": v.code,
        "rule": domain.rule_to_dict(v.rule),
        "required": v.required,
        "actual": v.actual,
        "headcount": v.headcount,
    }


def calibration(s: Session, p: Principal, cycle_id: int, seq: int, unit_code: str | None = None) -> dict:
    c = agency_cycle(s, p, cycle_id)
    stmt = (
        select(Evaluation.unit_code, func.max(Evaluation.unit_name), Evaluation.predikat, func.count())
        .where(Evaluation.cycle_id == cycle_id, Evaluation.period_seq == seq)
        .group_by(Evaluation.unit_code, Evaluation.predikat)
    )
    if unit_code:
        stmt = stmt.where(Evaluation.unit_code == unit_code)
    per_unit: dict[str, dict] = {}
    for code, name, predikat, n in s.execute(stmt):
        u = per_unit.setdefault(code, {"unit_code": code, "unit_name": name, "counts": Counter(), "unrated": 0})
        if predikat:
            u["counts"][predikat] += n
        else:
            u["unrated"] += n
    rules = rules_for(s, c.agency_code)
    org_query = select(OrgResult).where(OrgResult.cycle_id == cycle_id, OrgResult.period_seq == seq)
    override_query = select(CalibrationOverride).where(
        CalibrationOverride.cycle_id == cycle_id, CalibrationOverride.period_seq == seq
    )
    if unit_code:  # one unit (each signature checks its own): not every unit's rows of a province
        org_query = org_query.where(OrgResult.unit_code == unit_code)
        override_query = override_query.where(CalibrationOverride.unit_code == unit_code)
    orgs = {r.unit_code: r.result for r in s.scalars(org_query)}
    overrides = {o.unit_code: o for o in s.scalars(override_query)}
    units = []
    for code in sorted(per_unit):
        u = per_unit[code]
        counts = {k: u["counts"].get(k, 0) for k in domain.PREDIKATS}
        org = orgs.get(code)
        violations = [_violation_dict(v) for v in domain.check_distribution(org, counts, rules)] if org else []
        bands = (
            [
                {
                    "predikat": b.predikat,
                    "count": b.count,
                    "percent": b.percent,
                    "min_count": b.min_count,
                    "max_count": b.max_count,
                }
                for b in domain.curve(org, counts, rules)
            ]
            if org
            else [
                {
                    "predikat": k,
                    "count": counts[k],
                    "percent": _pct(counts[k], sum(counts.values())),
                    "min_count": None,
                    "max_count": None,
                }
                for k in domain.PREDIKATS
            ]
        )
        ov = overrides.get(code)
        units.append(
            {
                "unit_code": code,
                "unit_name": u["unit_name"],
                "org_result": org,
                "headcount": sum(counts.values()),
                "unrated": u["unrated"],
                "bands": bands,
                "violations": violations,
                "override": {"reason": ov.reason, "set_by": ov.set_by, "set_at": ov.set_at} if ov else None,
                "sign_off_blocked": bool(violations) and ov is None,
                "missing_org_result": org is None,
            }
        )
    return {"cycle_id": cycle_id, "period_seq": seq, "units": units}


def _pct(n: int, total: int) -> float:
    return round(100.0 * n / total, 1) if total else 0.0


def check_calibration(s: Session, p: Principal, cycle_id: int, seq: int) -> dict:
    view = calibration(s, p, cycle_id, seq)
    c = s.get(CycleRef, cycle_id)
    outbox = platform().tables.outbox
    for u in view["units"]:
        if not u["violations"]:
            continue
        # the same finding published once: a deterministic event id from what was found
        finding = domain.content_hash(
            {
                "unit": u["unit_code"],
                "cycle": cycle_id,
                "seq": seq,
                "org": u["org_result"],
                "violations": u["violations"],
            }
        )
        event_id = str(uuid.UUID(finding[:32]))
        if s.scalar(select(outbox.c.id).where(outbox.c.event_id == event_id)):
            continue
        emit(
            s,
            "reviews.calibration.violation_found",
            f"{cycle_id}:{seq}:{u['unit_code']}",
            {
                "cycle_id": cycle_id,
                "agency_code": c.agency_code,
                "period_seq": seq,
                "unit_code": u["unit_code"],
                "org_result": u["org_result"],
                "violations": u["violations"],
            },
            event_id=event_id,
        )
    return view


def record_override(s: Session, p: Principal, data: dict) -> CalibrationOverride:
    c = agency_cycle(s, p, data["cycle_id"], ("hr",))
    seq = data.get("period_seq") or ANNUAL
    view = calibration(s, p, c.id, seq, data["unit_code"])
    if not view["units"] or not view["units"][0]["violations"]:
        raise Problem(409, "calibration.nothing_to_override", unit_code=data["unit_code"])
    row = s.scalar(
        select(CalibrationOverride).where(
            CalibrationOverride.cycle_id == c.id,
            CalibrationOverride.period_seq == seq,
            CalibrationOverride.unit_code == data["unit_code"],
        )
    )
    if row is None:
        row = CalibrationOverride(cycle_id=c.id, agency_code=c.agency_code, period_seq=seq, unit_code=data["unit_code"])
        s.add(row)
    row.reason, row.violations, row.set_by, row.set_at = data["reason"], view["units"][0]["violations"], p.sub, now()
    s.flush()
    record(
        s,
        p,
        "calibration.override",
        "calibration",
        f"{c.id}:{seq}:{row.unit_code}",
        after={"reason": row.reason, "violations": row.violations},
        agency=c.agency_code,
    )
    return row


def adjust(s: Session, p: Principal, ev: Evaluation, data: dict) -> Evaluation:
    if not penilai_or_hr(p, ev.agency_code, ev.penilai_nip):
        raise Problem(403, "evaluation.only_penilai")
    not_frozen(ev)
    guard(s, ev, "adjust")
    if ev.status != "rated":
        raise Problem(409, "evaluation.transition", status=ev.status, action="adjust")
    before = {"rating_hasil": ev.rating_hasil, "rating_perilaku": ev.rating_perilaku, "predikat": ev.predikat}
    perilaku = data.get("rating_perilaku", ev.rating_perilaku)
    kept = ev.perilaku_below_values if ev.rating_perilaku == "below" else None
    below, errors = domain.below_values(perilaku, data.get("perilaku_below_values"), kept)
    if errors:
        raise validation(errors)
    if ev.perilaku_below_values != below:
        before["perilaku_below_values"] = ev.perilaku_below_values
    ev.rating_hasil = data.get("rating_hasil", ev.rating_hasil)
    ev.rating_perilaku = perilaku
    ev.predikat = domain.predikat(ev.rating_hasil, ev.rating_perilaku)
    ev.perilaku_below_values = below  # none unless "below": the values went with the "below" they explained
    ev.updated_at = now()
    after = {"rating_hasil": ev.rating_hasil, "rating_perilaku": ev.rating_perilaku, "predikat": ev.predikat}
    if "perilaku_below_values" in before:
        after["perilaku_below_values"] = ev.perilaku_below_values
    s.add(Adjustment(evaluation_id=ev.id, before=before, after=after, reason=data["reason"], by=p.sub, at=now()))
    s.flush()
    record(
        s,
        p,
        "evaluation.adjusted",
        "evaluation",
        ev.id,
        before=before,
        after=after | {"reason": data["reason"]},
        agency=ev.agency_code,
        subject=ev.employee_nip,
        event="reviews.evaluation.rated",
        data=rated_ref(ev),
    )
    return ev


def adjustments_of(s: Session, p: Principal, ev: Evaluation) -> list[Adjustment]:
    """The calibration history of one rating, oldest first: who may adjust it (HR, the penilai)
    may see what was changed before, from what to what and why."""
    if not penilai_or_hr(p, ev.agency_code, ev.penilai_nip):
        raise Problem(403, "evaluation.only_penilai")
    stmt = select(Adjustment).where(Adjustment.evaluation_id == ev.id).order_by(Adjustment.at, Adjustment.id)
    return capped(s, stmt, "adjustments")  # one per calibration change of one rating


# ------------------------------------------------------------------ rater consistency


def _subtree(children: dict[str | None, list[str]], unit_code: str) -> set[str]:
    """The unit and every unit below it."""
    found, todo = set(), [unit_code]
    while todo:
        code = todo.pop()
        if code not in found:
            found.add(code)
            todo += children.get(code, [])
    return found


def rater_consistency(s: Session, p: Principal, cycle_id: int, seq: int | None) -> dict:
    """Each penilai under their own unit (the directory's, not a ratee's: a head of office rates the
    heads of the sections below), against the ratings given in that unit and the units below it —
    for a head of office, the whole office — and against the agency."""
    c = agency_cycle(s, p, cycle_id, ("hr",))
    stmt = select(
        Evaluation.penilai_nip,
        Evaluation.penilai_name,
        Evaluation.unit_code,
        Evaluation.rating_hasil,
        Evaluation.rating_perilaku,
    ).where(Evaluation.cycle_id == cycle_id, Evaluation.rating_hasil.is_not(None))
    if seq is not None:
        stmt = stmt.where(Evaluation.period_seq == seq)
    by_rater: dict[str, list[str]] = defaultdict(list)
    by_unit: dict[str, list[str]] = defaultdict(list)
    names = {}
    everything = []
    for nip, name, unit, hasil, perilaku in s.execute(stmt):
        key = nip or "-"
        by_rater[key] += [hasil, perilaku]
        by_unit[unit] += [hasil, perilaku]
        everything += [hasil, perilaku]
        names[key] = name
    units = dict(s.execute(select(Person.nip, Person.unit_code).where(Person.nip.in_(list(by_rater)))).all())
    children: dict[str | None, list[str]] = defaultdict(list)
    for code, parent in s.execute(
        select(UnitRef.code, UnitRef.parent_code).where(UnitRef.agency_code == c.agency_code)
    ):
        children[parent].append(code)
    unit_refs = {code: [r for u in _subtree(children, code) for r in by_unit[u]] for code in set(units.values())}
    agency_stats = {st.rater: st for st in domain.rater_consistency(by_rater, everything)}
    out = []
    for rater, st in agency_stats.items():
        unit = units.get(rater)  # None: a penilai outside the directory (HR recording the top official's)
        unit_ref = domain.rater_consistency({rater: by_rater[rater]}, unit_refs[unit] if unit else everything)[0]
        out.append(
            {
                "penilai_nip": rater,
                "penilai_name": names.get(rater),
                "unit_code": unit,
                "n": st.n,
                "counts": st.counts,
                "mean": st.mean,
                "agency_mean": st.reference_mean,
                "unit_mean": unit_ref.reference_mean,
                "index_vs_agency": st.index,
                "index_vs_unit": unit_ref.index,
            }
        )
    out.sort(key=lambda r: r["index_vs_agency"], reverse=True)
    return {"cycle_id": cycle_id, "period_seq": seq, "raters": out}


# ------------------------------------------------------------------ HTTP


@blp.route("/calibration")
class Calibration(MethodView):
    @accepts("results:read")
    @blp.arguments(CalibrationQuery, location="query")
    @blp.response(200, CalibrationOut)
    def get(self, args):
        """Per unit: counts and percentages per predikat against the allowed band, and every violation."""
        with uow() as s:
            return calibration(s, current_principal(), args["cycle_id"], args["period_seq"], args.get("unit_code"))


@blp.route("/calibration/check")
class CalibrationCheck(MethodView):
    @blp.arguments(CalibrationQuery, location="query")
    @blp.response(200, CalibrationOut)
    def post(self, args):
        """Run the check and publish ``reviews.calibration.violation_found`` per unit in violation (HR)."""
        p = require_roles("hr")
        with uow() as s:
            return check_calibration(s, p, args["cycle_id"], args["period_seq"])


@blp.route("/calibration/overrides")
class Overrides(MethodView):
    @blp.arguments(OverrideIn)
    @blp.response(201, OverrideOut)
    def post(self, data):
        """HR records an override with a reason so a unit in violation can be signed off."""
        with uow() as s:
            return record_override(s, current_principal(), data)


@blp.route("/evaluations/<int:evaluation_id>/adjust")
class Adjust(MethodView):
    @blp.arguments(AdjustIn)
    @blp.response(200, EvaluationOut)
    def post(self, data, evaluation_id):
        """Calibration adjustment with a reason (HR or the penilai); before and after are kept."""
        return evaluation_action(evaluation_id, adjust, data)


@blp.route("/evaluations/<int:evaluation_id>/adjustments")
class Adjustments(MethodView):
    @blp.response(200, AdjustmentOut(many=True))
    def get(self, evaluation_id):
        """The rating's calibration adjustments, oldest first, each with before, after and reason
        (HR or the penilai)."""
        p = current_principal()
        with uow() as s:
            return adjustments_of(s, p, get_evaluation(s, p, evaluation_id))


@blp.route("/rater-consistency")
class Consistency(MethodView):
    @blp.arguments(ConsistencyQuery, location="query")
    @blp.response(200, ConsistencyOut)
    def get(self, args):
        """Per penilai: their rating distribution against their unit and agency, with a leniency (+) /
        severity (−) index (HR)."""
        with uow() as s:
            return rater_consistency(s, current_principal(), args["cycle_id"], args.get("period_seq"))
