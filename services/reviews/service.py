"""Use cases of the reviews service. HTTP views and event consumers call these; each enforces
object-level access and the cycle's stage, applies ``domain.py``, and writes the audit row and
the outbox events in the same transaction."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, forbid
from services.common.errors import FieldError, Problem
from services.common.http import walk_pages
from services.common.readmodel import is_stale
from services.common.usecase import audit, emit, not_found, now, platform, settings, today, validation

from . import domain
from .models import (
    Adjustment,
    CalibrationOverride,
    CycleRef,
    DistributionRuleRow,
    Evaluation,
    EvaluationDocument,
    FeedbackRef,
    FollowUp,
    Objection,
    OrgResult,
    PeerRater,
    Person,
    PlanRef,
    RealisationRef,
    UnitRef,
)

ANNUAL = 0  # period_seq of the annual evaluation


# ------------------------------------------------------------------ read model from plans events


def rm_unit(s: Session, d: dict, as_of: datetime | None = None) -> None:
    u = s.get(UnitRef, d["id"])
    if u is not None and is_stale(u.as_of, as_of):
        return
    u = u or UnitRef(id=d["id"])
    u.as_of = as_of
    u.agency_code, u.code, u.name, u.parent_code, u.head_nip = (
        d["agency_code"],
        d["code"],
        d["name"],
        d.get("parent_code"),
        d.get("head_nip"),
    )
    s.add(u)


def rm_employee(s: Session, d: dict, as_of: datetime | None = None) -> None:
    p = s.get(Person, d["nip"])
    if p is not None and is_stale(p.as_of, as_of):
        return
    p = p or Person(nip=d["nip"])
    p.as_of = as_of
    for key in (
        "agency_code",
        "name",
        "position",
        "grade",
        "unit_code",
        "unit_name",
        "superior_nip",
        "active",
        "language",
    ):
        setattr(p, key, d.get(key))
    s.add(p)


def rm_cycle_opened(s: Session, d: dict) -> None:
    c = s.get(CycleRef, d["cycle_id"]) or CycleRef(id=d["cycle_id"], stage=d["stage"])
    c.agency_code, c.year, c.name, c.period_type = d["agency_code"], d["year"], d["name"], d["period_type"]
    c.periods = [{k: str(v) if isinstance(v, date) else v for k, v in pr.items()} for pr in d["periods"]]
    s.add(c)


_STAGE_ORDER = (
    "draft",
    "planning",
    "monitoring",
    "annual_evaluation",
    "calibration",
    "sign_off",
    "objections",
    "closed",
)
_PHASE_ORDER = ("check_in", "self_assessment", "supervisor_evaluation")


def _position(stage: str, seq: int | None, phase: str | None) -> tuple:
    return (_STAGE_ORDER.index(stage), seq or 0, _PHASE_ORDER.index(phase) if phase in _PHASE_ORDER else -1)


def rm_stage_changed(s: Session, d: dict) -> None:
    c = s.get(CycleRef, d["cycle_id"])
    if c is None:  # stage change before cycle.opened (a retry reordered them): keep what it tells
        c = CycleRef(
            id=d["cycle_id"],
            agency_code=d["agency_code"],
            year=d["year"],
            name=f"Periode {d['year']}",
            period_type="quarterly",
            stage="draft",
            periods=[],
        )
        s.add(c)
    if _position(d["stage"], d.get("period_seq"), d.get("phase")) <= _position(c.stage, c.period_seq, c.phase):
        return  # the cycle only moves forward: an older stage change arriving late changes nothing
    c.stage, c.period_seq, c.phase = d["stage"], d.get("period_seq"), d.get("phase")
    s.flush()
    if c.stage == "monitoring" and c.phase == "check_in":
        open_evaluations(s, c, c.period_seq)
    elif c.stage == "annual_evaluation":
        open_evaluations(s, c, ANNUAL)


def rm_plan_approved(s: Session, d: dict) -> None:
    plan = s.get(PlanRef, d["plan_id"])
    if plan is not None and plan.revision > d["revision"]:
        return  # an older version arriving late
    plan = plan or PlanRef(id=d["plan_id"])
    plan.cycle_id, plan.agency_code, plan.employee_nip = d["cycle_id"], d["agency_code"], d["employee_nip"]
    plan.penilai_nip, plan.unit_code, plan.revision, plan.status = (
        d.get("penilai_nip"),
        d["unit_code"],
        d["revision"],
        "approved",
    )
    plan.is_head_of_unit = d.get("is_head_of_unit", False)
    plan.content = {"approach": d["approach"], "rhk": d["rhk"], "behaviour": d["behaviour"]}
    s.add(plan)
    s.flush()
    c = s.get(CycleRef, plan.cycle_id)
    if c is not None and c.stage == "monitoring" and c.period_seq:
        open_evaluations(s, c, c.period_seq, only_plan=plan.id)  # approved late: still evaluated this period
    elif c is not None and c.stage == "annual_evaluation":
        open_evaluations(s, c, ANNUAL, only_plan=plan.id)


def rm_plan_revised(s: Session, d: dict) -> None:
    plan = s.get(PlanRef, d["plan_id"])
    if plan is not None:
        plan.status = "revised"  # the last approved content stays the basis until the revision is approved


def rm_realisation(s: Session, d: dict) -> None:
    r = s.get(RealisationRef, d["realisation_id"]) or RealisationRef(id=d["realisation_id"])
    r.plan_id, r.iki_id, r.period_seq = d["plan_id"], d["iki_id"], d["period_seq"]
    r.value, r.text, r.evidence_count, r.source = d.get("value"), d.get("text"), d["evidence_count"], d["source"]
    s.add(r)


def rm_feedback(s: Session, d: dict) -> None:
    f = s.get(FeedbackRef, d["feedback_id"]) or FeedbackRef(id=d["feedback_id"])
    f.plan_id, f.giver_nip, f.rhk_id, f.value_code = d["plan_id"], d["giver_nip"], d.get("rhk_id"), d.get("value_code")
    f.period_seq, f.text = d.get("period_seq"), d["text"]
    s.add(f)


def rebuild_read_model(s: Session, fetch) -> dict:
    """Replay the read model from the plans API. ``fetch(path) -> json`` calls plans with a
    token that sees the agency (HR or agency role)."""

    def pages(path):
        return walk_pages(fetch, path)

    snapshot = now()  # the API's answer is newer than any event sent before it
    counts = Counter()
    for u in pages("/plans/api/v1/units"):
        rm_unit(s, u, snapshot)
        counts["units"] += 1
    for e in pages("/plans/api/v1/employees"):
        rm_employee(s, e, snapshot)
        counts["people"] += 1
    for c in pages("/plans/api/v1/cycles"):
        rm_cycle_opened(s, {**c, "cycle_id": c["id"]})
        ref = s.get(CycleRef, c["id"])
        ref.stage, ref.period_seq, ref.phase = c["stage"], c.get("period_seq"), c.get("phase")
        counts["cycles"] += 1
        for summary in pages(f"/plans/api/v1/plans?cycle_id={c['id']}"):
            if summary["revision"] < 1:
                continue
            version = fetch(f"/plans/api/v1/plans/{summary['id']}/versions/{summary['revision']}")
            snap = version["snapshot"]
            plan = fetch(f"/plans/api/v1/plans/{summary['id']}")
            unit = s.scalar(select(UnitRef).where(UnitRef.id == plan["unit_id"]))
            existing = s.get(PlanRef, summary["id"]) or PlanRef(id=summary["id"])
            existing.cycle_id, existing.agency_code, existing.employee_nip = (
                c["id"],
                c["agency_code"],
                plan["employee_nip"],
            )
            existing.penilai_nip, existing.unit_code = plan["penilai_nip"], unit.code if unit else ""
            existing.revision, existing.status = summary["revision"], plan["status"]
            existing.is_head_of_unit = plan["is_head_of_unit"]
            existing.content = {"approach": snap["approach"], "rhk": snap["rhk"], "behaviour": snap["behaviour"]}
            s.add(existing)
            counts["plans"] += 1
            for r in fetch(f"/plans/api/v1/plans/{summary['id']}/realisations"):
                rm_realisation(
                    s,
                    {
                        "realisation_id": r["id"],
                        "plan_id": r["plan_id"],
                        "iki_id": r["iki_id"],
                        "period_seq": r["period_seq"],
                        "value": r["value"],
                        "text": r["text"],
                        "evidence_count": len(r["evidence"]),
                        "source": r["source"],
                    },
                )
                counts["realisations"] += 1
            for f in fetch(f"/plans/api/v1/plans/{summary['id']}/feedback"):
                rm_feedback(s, {**f, "feedback_id": f["id"]})
                counts["feedback"] += 1
    return dict(counts)


# ------------------------------------------------------------------ opening evaluations


def period_name(c: CycleRef, seq: int) -> str:
    if seq == ANNUAL:
        return f"Tahunan {c.year}"
    for pr in c.periods or []:
        if pr["seq"] == seq:
            return pr["name_id"]
    return f"Periode {seq}"


def open_evaluations(s: Session, c: CycleRef, seq: int, only_plan: int | None = None) -> int:
    """One evaluation per approved SKP for the period (idempotent), snapshotting the parties."""
    stmt = select(PlanRef).where(PlanRef.cycle_id == c.id)
    if only_plan is not None:
        stmt = stmt.where(PlanRef.id == only_plan)
    plans = s.scalars(stmt).all()
    kind = "annual" if seq == ANNUAL else "periodic"
    existing = set(
        s.scalars(select(Evaluation.plan_id).where(Evaluation.cycle_id == c.id, Evaluation.period_seq == seq))
    )
    if only_plan is None:
        people = {p.nip: p for p in s.scalars(select(Person).where(Person.agency_code == c.agency_code))}
    else:  # one late-approved plan: the employee, their penilai and atasan only
        people = {}
        nip = plans[0].employee_nip if plans else None
        for _ in range(3):
            person = s.get(Person, nip) if nip else None
            if person is None:
                break
            people[person.nip] = person
            nip = person.superior_nip
    opened = 0
    for plan in plans:
        if plan.id in existing:
            continue
        emp = people.get(plan.employee_nip)
        if emp is None or not emp.active:
            continue
        penilai = people.get(emp.superior_nip) if emp.superior_nip else None
        atasan = people.get(penilai.superior_nip) if penilai and penilai.superior_nip else None
        ev = Evaluation(
            cycle_id=c.id,
            agency_code=c.agency_code,
            kind=kind,
            period_seq=seq,
            period_name=period_name(c, seq),
            plan_id=plan.id,
            plan_revision=plan.revision,
            employee_nip=emp.nip,
            employee_name=emp.name,
            position=emp.position,
            grade=emp.grade,
            unit_code=emp.unit_code,
            unit_name=emp.unit_name,
            is_head_of_unit=plan.is_head_of_unit,
            penilai_nip=penilai.nip if penilai else None,
            penilai_name=penilai.name if penilai else None,
            penilai_position=penilai.position if penilai else None,
            penilai_grade=penilai.grade if penilai else None,
            penilai_unit_name=penilai.unit_name if penilai else None,
            atasan_nip=atasan.nip if atasan else None,
            atasan_name=atasan.name if atasan else None,
            status="open",
            self_assessment={},
            iki_feedback={},
            value_feedback={},
            created_at=now(),
            updated_at=now(),
        )
        s.add(ev)
        s.flush()
        emit(s, "reviews.evaluation.opened", ev.id, ev_ref(ev))
        opened += 1
    return opened


def ev_ref(ev: Evaluation) -> dict:
    return {
        "evaluation_id": ev.id,
        "cycle_id": ev.cycle_id,
        "agency_code": ev.agency_code,
        "kind": ev.kind,
        "period_seq": ev.period_seq,
        "period_name": ev.period_name,
        "employee_nip": ev.employee_nip,
        "penilai_nip": ev.penilai_nip,
        "atasan_nip": ev.atasan_nip,
        "unit_code": ev.unit_code,
        "status": ev.status,
        "predikat": ev.predikat,
    }


# ------------------------------------------------------------------ access and stage


def in_agency(p: Principal, agency: str, roles=("hr", "agency")) -> bool:
    return p.is_admin or (p.has(*roles) and p.agency == agency)


def can_read(p: Principal, ev: Evaluation) -> bool:
    return in_agency(p, ev.agency_code) or (
        p.nip is not None and p.nip in (ev.employee_nip, ev.penilai_nip, ev.atasan_nip)
    )


def get_evaluation(s: Session, p: Principal, evaluation_id: int) -> Evaluation:
    ev = s.get(Evaluation, evaluation_id)
    if ev is None or not can_read(p, ev):
        raise not_found("evaluation", evaluation_id)
    return ev


def evaluation_query(p: Principal, args: dict):
    stmt = select(Evaluation)
    if p.is_admin:
        pass
    elif p.has("hr", "agency"):
        stmt = stmt.where(Evaluation.agency_code == p.agency)
    else:
        nip = p.nip or "\0"
        role = args.get("role")
        if role == "penilai":
            stmt = stmt.where(Evaluation.penilai_nip == nip)
        elif role == "atasan":
            stmt = stmt.where(Evaluation.atasan_nip == nip)
        elif role == "employee":
            stmt = stmt.where(Evaluation.employee_nip == nip)
        else:
            stmt = stmt.where(
                (Evaluation.employee_nip == nip) | (Evaluation.penilai_nip == nip) | (Evaluation.atasan_nip == nip)
            )
    for key in ("cycle_id", "period_seq", "unit_code", "status", "predikat", "employee_nip"):
        if key in args:
            stmt = stmt.where(getattr(Evaluation, key) == args[key])
    return stmt


def _owner(p: Principal, ev: Evaluation) -> None:
    if p.nip != ev.employee_nip:
        raise Problem(403, "evaluation.only_employee")


def _penilai(p: Principal, ev: Evaluation) -> None:
    if ev.penilai_nip is None and in_agency(p, ev.agency_code, ("hr",)):
        return  # the top official's penilai is outside the directory: HR records it
    if p.nip is None or p.nip != ev.penilai_nip:
        raise Problem(403, "evaluation.only_penilai")


def _atasan(p: Principal, ev: Evaluation) -> None:
    if ev.atasan_nip is None and in_agency(p, ev.agency_code, ("hr",)):
        return
    if p.nip is None or p.nip != ev.atasan_nip:
        raise Problem(403, "evaluation.only_atasan")


def state_label(c: CycleRef) -> str:
    return f"monitoring:{c.period_seq}:{c.phase}" if c.stage == "monitoring" else c.stage


def _stage_ok(c: CycleRef, ev: Evaluation, action: str) -> bool:
    annual = ev.period_seq == ANNUAL
    here = c.stage == "monitoring" and c.period_seq == ev.period_seq
    later_stages = ("annual_evaluation", "calibration", "sign_off", "objections")
    past = (c.stage == "monitoring" and (c.period_seq or 0) > ev.period_seq) or c.stage in later_stages
    if action == "self_assess":
        return c.stage == "annual_evaluation" if annual else here and c.phase in ("check_in", "self_assessment")
    if action == "rate":
        return c.stage == "annual_evaluation" if annual else here and c.phase == "supervisor_evaluation"
    if action == "adjust":
        return (
            c.stage in ("annual_evaluation", "calibration")
            if annual
            else (here and c.phase == "supervisor_evaluation") or c.stage == "calibration"
        )
    if action in ("sign", "acknowledge", "countersign"):
        return (
            c.stage in ("sign_off", "objections") if annual else (here and c.phase == "supervisor_evaluation") or past
        )
    if action == "object":
        return c.stage != "closed"
    raise ValueError(action)


def guard(s: Session, ev: Evaluation, action: str) -> CycleRef:
    c = s.get(CycleRef, ev.cycle_id)
    if c is None or not _stage_ok(c, ev, action):
        raise Problem(409, "stage.not_allowed", stage=state_label(c) if c else "unknown", action=f"evaluation.{action}")
    return c


def _not_frozen(ev: Evaluation) -> None:
    if domain.frozen(ev.status):
        raise Problem(409, "evaluation.frozen", status=ev.status, content_hash=ev.content_hash)


# ------------------------------------------------------------------ self-assessment


def save_self_assessment(s: Session, p: Principal, ev: Evaluation, data: dict, *, submit: bool = False) -> Evaluation:
    _owner(p, ev)
    _not_frozen(ev)
    guard(s, ev, "self_assess")
    if ev.status != "open":
        raise Problem(409, "evaluation.transition", status=ev.status, action="self_assess")
    plan = s.get(PlanRef, ev.plan_id)
    iki_ids = {i["id"] for r in plan.content["rhk"] for i in r["iki"]}
    unknown = [k for k in (data.get("iki_comments") or {}) if k not in iki_ids]
    if unknown:
        raise validation([(f"iki_comments.{k}", "iki.unknown") for k in unknown])
    before = dict(ev.self_assessment or {})
    ev.self_assessment = {**before, **data}
    if submit:
        missing = [f for f in ("achievements", "challenges", "improvement_plan") if not ev.self_assessment.get(f)]
        if missing:
            raise validation([(f, "field.required") for f in missing])
        ev.status = domain.evaluation_transition(ev.status, "self_assess")
        ev.self_submitted_at = now()
    ev.updated_at = now()
    s.flush()
    audit(
        s,
        p,
        "self_assessment.submitted" if submit else "self_assessment.saved",
        "evaluation",
        ev.id,
        before=before,
        after=ev.self_assessment,
        agency=ev.agency_code,
        subject=ev.employee_nip,
    )
    if submit:
        emit(s, "reviews.self_assessment.submitted", ev.id, ev_ref(ev))
    return ev


# ------------------------------------------------------------------ supervisor evaluation


def _threshold() -> float:
    return float(settings().suggest_threshold)


def suggestion_for(s: Session, ev: Evaluation, judgements: dict | None = None) -> domain.Suggestion:
    plan = s.get(PlanRef, ev.plan_id)
    rows = s.scalars(select(RealisationRef).where(RealisationRef.plan_id == ev.plan_id)).all()
    latest: dict[str, RealisationRef] = {}
    for r in rows:
        if ev.period_seq == ANNUAL or r.period_seq == ev.period_seq:
            if r.iki_id not in latest or r.period_seq > latest[r.iki_id].period_seq:
                latest[r.iki_id] = r  # annual: the realisation of the latest period recorded
    judgements = judgements or {}
    rhk = []
    for r in plan.content["rhk"]:
        iki = tuple(
            domain.IkiInput(
                id=i["id"],
                aspect=i["aspect"],
                target_value=i.get("target_value"),
                realisation=latest[i["id"]].value if i["id"] in latest else None,
                judgement=judgements.get(i["id"]),
            )
            for i in r["iki"]
        )
        rhk.append(domain.RhkInput(id=r["id"], kind=r["kind"], iki=iki))
    return domain.suggest_hasil(rhk, _threshold())


def suggestion_dict(sug: domain.Suggestion) -> dict:
    return {
        "rating": sug.rating,
        "reason": sug.reason,
        "counts": dict(sug.counts),
        "rhk": [
            {
                "id": r.id,
                "kind": r.kind,
                "level": r.level,
                "iki": [
                    {"id": i.id, "achievement": i.achievement, "level": i.level, "reason": i.reason} for i in r.iki
                ],
            }
            for r in sug.rhk
        ],
    }


def org_result_of(s: Session, ev: Evaluation) -> str | None:
    return s.scalar(
        select(OrgResult.result).where(
            OrgResult.cycle_id == ev.cycle_id,
            OrgResult.period_seq == ev.period_seq,
            OrgResult.unit_code == ev.unit_code,
        )
    )


def rate(s: Session, p: Principal, ev: Evaluation, data: dict) -> Evaluation:
    _penilai(p, ev)
    _not_frozen(ev)
    guard(s, ev, "rate")
    if settings().require_self_assessment and ev.status == "open":
        raise Problem(409, "evaluation.self_assessment_required")
    new_status = domain.evaluation_transition(ev.status, "rate")
    before = {"status": ev.status, "rating_hasil": ev.rating_hasil, "rating_perilaku": ev.rating_perilaku}
    _apply_rating(s, ev, data)
    ev.status, ev.rated_at, ev.rated_by, ev.updated_at = new_status, now(), p.sub, now()
    s.flush()
    audit(
        s,
        p,
        "evaluation.rated",
        "evaluation",
        ev.id,
        before=before,
        after={
            "rating_hasil": ev.rating_hasil,
            "rating_perilaku": ev.rating_perilaku,
            "predikat": ev.predikat,
            "suggested_hasil": ev.suggested_hasil,
            "deviation_reason": ev.deviation_reason,
        },
        agency=ev.agency_code,
        subject=ev.employee_nip,
    )
    emit(
        s,
        "reviews.evaluation.rated",
        ev.id,
        ev_ref(ev)
        | {
            "rating_hasil": ev.rating_hasil,
            "rating_perilaku": ev.rating_perilaku,
            "suggested_hasil": ev.suggested_hasil,
        },
    )
    return ev


def _apply_rating(s: Session, ev: Evaluation, data: dict) -> None:
    plan = s.get(PlanRef, ev.plan_id)
    iki_ids = {i["id"] for r in plan.content["rhk"] for i in r["iki"]}
    errors = [(f"iki_feedback.{k}", "iki.unknown") for k in (data.get("iki_feedback") or {}) if k not in iki_ids]
    errors += [(f"iki_judgements.{k}", "iki.unknown") for k in (data.get("iki_judgements") or {}) if k not in iki_ids]
    errors += [
        (f"value_feedback.{k}", "behaviour.unknown_value")
        for k in (data.get("value_feedback") or {})
        if k not in domain.BERAKHLAK
    ]
    if errors:
        raise validation(errors)
    sug = suggestion_for(s, ev, data.get("iki_judgements"))
    hasil = data["rating_hasil"]
    org = org_result_of(s, ev)
    if ev.is_head_of_unit and settings().head_takes_org_result:
        if org is None:
            raise Problem(409, "org_result.missing", unit_code=ev.unit_code, period=ev.period_name)
        hasil = domain.org_result_to_hasil(org)
    elif sug.rating is not None and hasil != sug.rating and not (data.get("deviation_reason") or "").strip():
        raise validation([("deviation_reason", "rating.deviation_reason_required")], suggested=sug.rating)
    ev.iki_feedback = data.get("iki_feedback") or {}
    ev.value_feedback = data.get("value_feedback") or {}
    ev.suggestion, ev.suggested_hasil = suggestion_dict(sug), sug.rating
    ev.rating_hasil, ev.rating_perilaku = hasil, data["rating_perilaku"]
    ev.deviation_reason = (data.get("deviation_reason") or None) if hasil != sug.rating else None
    ev.predikat = domain.predikat(ev.rating_hasil, ev.rating_perilaku)
    ev.org_result = org
    ev.notes, ev.recommendations = data.get("notes"), data.get("recommendations")


def suggest_preview(s: Session, p: Principal, ev: Evaluation) -> dict:
    return suggestion_dict(suggestion_for(s, ev))


# ------------------------------------------------------------------ peer feedback


def nominate_peers(s: Session, p: Principal, ev: Evaluation, nips: list[str]) -> list[PeerRater]:
    _penilai(p, ev)
    _not_frozen(ev)
    errors = []
    for i, nip in enumerate(nips):
        person = s.get(Person, nip)
        if person is None or person.agency_code != ev.agency_code:
            errors.append((f"rater_nips[{i}]", "peer.unknown"))
        elif nip == ev.employee_nip:
            errors.append((f"rater_nips[{i}]", "peer.self"))
    if errors:
        raise validation(errors)
    existing = {r.rater_nip for r in s.scalars(select(PeerRater).where(PeerRater.evaluation_id == ev.id))}
    for nip in nips:
        if nip not in existing:
            s.add(PeerRater(evaluation_id=ev.id, rater_nip=nip, nominated_by=p.sub))
    s.flush()
    audit(
        s,
        p,
        "peers.nominated",
        "evaluation",
        ev.id,
        after={"raters": sorted(set(nips) | existing)},
        agency=ev.agency_code,
        subject=ev.employee_nip,
    )
    return list(s.scalars(select(PeerRater).where(PeerRater.evaluation_id == ev.id)))


def answer_peer(s: Session, p: Principal, evaluation_id: int, data: dict) -> PeerRater:
    rater = s.scalar(
        select(PeerRater).where(PeerRater.evaluation_id == evaluation_id, PeerRater.rater_nip == (p.nip or "\0"))
    )
    if rater is None:
        raise not_found("evaluation", evaluation_id)
    ev = s.get(Evaluation, evaluation_id)
    _not_frozen(ev)
    unknown = [k for k in data["answers"] if k not in domain.BERAKHLAK]
    if unknown:
        raise validation([(f"answers.{k}", "behaviour.unknown_value") for k in unknown])
    if rater.answered_at is not None:
        raise Problem(409, "peer.already_answered")
    rater.answers, rater.comment, rater.answered_at = data["answers"], data.get("comment"), now()
    s.flush()
    audit(s, p, "peer.answered", "evaluation", ev.id, after={"rater": "anonymous"}, agency=ev.agency_code)
    return rater


def peer_summary(s: Session, p: Principal, ev: Evaluation) -> dict:
    raters = s.scalars(select(PeerRater).where(PeerRater.evaluation_id == ev.id)).all()
    answers = [r.answers for r in raters if r.answers]
    minimum = int(settings().peer_min_raters)
    return {
        "nominated": len(raters),
        "answered": len(answers),
        "minimum": minimum,
        "aggregate": domain.peer_aggregate(answers, minimum),
    }


# ------------------------------------------------------------------ organisation results, rules, calibration


def unit_heads(s: Session, agency: str, unit_code: str) -> set[str]:
    unit = s.scalar(select(UnitRef).where(UnitRef.agency_code == agency, UnitRef.code == unit_code))
    if unit is not None and unit.head_nip:
        return {unit.head_nip}
    people = s.scalars(select(Person).where(Person.agency_code == agency, Person.unit_code == unit_code)).all()
    units_of = {p.nip: p.unit_code for p in s.scalars(select(Person).where(Person.agency_code == agency))}
    return {p.nip for p in people if not p.superior_nip or units_of.get(p.superior_nip) != unit_code}


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
    audit(
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


def rules_for(s: Session, agency: str) -> list[domain.DistributionRule]:
    rows = s.scalars(
        select(DistributionRuleRow)
        .where(DistributionRuleRow.agency_code == agency)
        .order_by(DistributionRuleRow.position)
    ).all()
    if not rows:
        return list(domain.DEFAULT_RULES)
    return [domain.rule_from_dict(r.rule) for r in rows]


def replace_rules(s: Session, p: Principal, rules: list[dict]) -> list[domain.DistributionRule]:
    agency = p.agency or ""
    if not in_agency(p, agency, ("hr",)):
        raise forbid()
    parsed, errors = [], []
    for i, r in enumerate(rules):
        try:
            parsed.append(domain.rule_from_dict(r))
        except domain.DomainError as exc:
            errors.append(FieldError(f"rules[{i}].{exc.field or 'rule'}", exc.code, exc.params))
    if errors:
        raise Problem(422, "validation", errors=errors)
    before = [domain.rule_to_dict(r) for r in rules_for(s, agency)]
    for row in s.scalars(select(DistributionRuleRow).where(DistributionRuleRow.agency_code == agency)):
        s.delete(row)
    for i, rule in enumerate(parsed):
        s.add(DistributionRuleRow(agency_code=agency, position=i, rule=domain.rule_to_dict(rule)))
    s.flush()
    audit(
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


def _violation_dict(v: domain.Violation) -> dict:
    return {
        "code": v.code,
        "rule": domain.rule_to_dict(v.rule),
        "required": v.required,
        "actual": v.actual,
        "headcount": v.headcount,
    }


def calibration(s: Session, p: Principal, cycle_id: int, seq: int, unit_code: str | None = None) -> dict:
    c = s.get(CycleRef, cycle_id)
    if c is None or not in_agency(p, c.agency_code):
        raise not_found("cycle", cycle_id)
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
    orgs = {
        r.unit_code: r.result
        for r in s.scalars(select(OrgResult).where(OrgResult.cycle_id == cycle_id, OrgResult.period_seq == seq))
    }
    overrides = {
        o.unit_code: o
        for o in s.scalars(
            select(CalibrationOverride).where(
                CalibrationOverride.cycle_id == cycle_id, CalibrationOverride.period_seq == seq
            )
        )
    }
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
    c = s.get(CycleRef, data["cycle_id"])
    if c is None or not in_agency(p, c.agency_code, ("hr",)):
        raise not_found("cycle", data["cycle_id"])
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
    audit(
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
    if not (in_agency(p, ev.agency_code, ("hr",)) or (p.nip and p.nip == ev.penilai_nip)):
        raise Problem(403, "evaluation.only_penilai")
    _not_frozen(ev)
    guard(s, ev, "adjust")
    if ev.status != "rated":
        raise Problem(409, "evaluation.transition", status=ev.status, action="adjust")
    before = {"rating_hasil": ev.rating_hasil, "rating_perilaku": ev.rating_perilaku, "predikat": ev.predikat}
    ev.rating_hasil = data.get("rating_hasil", ev.rating_hasil)
    ev.rating_perilaku = data.get("rating_perilaku", ev.rating_perilaku)
    ev.predikat = domain.predikat(ev.rating_hasil, ev.rating_perilaku)
    ev.updated_at = now()
    after = {"rating_hasil": ev.rating_hasil, "rating_perilaku": ev.rating_perilaku, "predikat": ev.predikat}
    s.add(Adjustment(evaluation_id=ev.id, before=before, after=after, reason=data["reason"], by=p.sub, at=now()))
    s.flush()
    audit(
        s,
        p,
        "evaluation.adjusted",
        "evaluation",
        ev.id,
        before=before,
        after=after | {"reason": data["reason"]},
        agency=ev.agency_code,
        subject=ev.employee_nip,
    )
    emit(
        s,
        "reviews.evaluation.rated",
        ev.id,
        ev_ref(ev)
        | {
            "rating_hasil": ev.rating_hasil,
            "rating_perilaku": ev.rating_perilaku,
            "suggested_hasil": ev.suggested_hasil,
        },
    )
    return ev


# ------------------------------------------------------------------ sign-off chain and documents


def document_content(s: Session, ev: Evaluation) -> dict:
    """What the evaluation document shows (DOMAIN.md §6); its hash freezes the signed version."""
    plan = s.get(PlanRef, ev.plan_id)
    real = {}
    for r in s.scalars(select(RealisationRef).where(RealisationRef.plan_id == ev.plan_id)):
        if ev.period_seq == ANNUAL or r.period_seq == ev.period_seq:
            if r.iki_id not in real or r.period_seq > real[r.iki_id]["period_seq"]:
                real[r.iki_id] = {
                    "value": r.value,
                    "text": r.text,
                    "evidence_count": r.evidence_count,
                    "period_seq": r.period_seq,
                }
    view = calibration_for_document(s, ev)
    return {
        "evaluation_id": ev.id,
        "cycle_id": ev.cycle_id,
        "kind": ev.kind,
        "period": ev.period_name,
        "employee": {
            "nip": ev.employee_nip,
            "name": ev.employee_name,
            "position": ev.position,
            "grade": ev.grade,
            "unit": ev.unit_name,
        },
        "penilai": {
            "nip": ev.penilai_nip,
            "name": ev.penilai_name,
            "position": ev.penilai_position,
            "grade": ev.penilai_grade,
            "unit": ev.penilai_unit_name,
        },
        "atasan_penilai": {"nip": ev.atasan_nip, "name": ev.atasan_name},
        "org_result": ev.org_result,
        "distribution": view,
        "rhk": [
            {
                "id": r["id"],
                "kind": r["kind"],
                "description": r["description"],
                "iki": [
                    {
                        "id": i["id"],
                        "aspect": i["aspect"],
                        "indicator": i["indicator"],
                        "target": _target(i),
                        "realisation": real.get(i["id"]),
                        "feedback": (ev.iki_feedback or {}).get(i["id"]),
                    }
                    for i in r["iki"]
                ],
            }
            for r in plan.content["rhk"]
        ],
        "behaviour": [
            {"value": v, "expectation": plan.content["behaviour"].get(v), "feedback": (ev.value_feedback or {}).get(v)}
            for v in domain.BERAKHLAK
        ],
        "rating_hasil": ev.rating_hasil,
        "rating_perilaku": ev.rating_perilaku,
        "predikat": ev.predikat,
        "suggested_hasil": ev.suggested_hasil,
        "deviation_reason": ev.deviation_reason,
        "notes": ev.notes,
        "recommendations": ev.recommendations,
        "signatures": {
            "penilai": _iso(ev.signed_at),
            "employee": _iso(ev.acknowledged_at),
            "atasan_penilai": _iso(ev.countersigned_at),
        },
    }


def _iso(d):
    return d.isoformat() if d else None


def _target(i: dict) -> str:
    if i.get("target_value") is not None:
        v = i["target_value"]
        return f"{int(v) if float(v).is_integer() else v} {i.get('target_unit') or ''}".strip()
    return i.get("target_text") or ""


def calibration_for_document(s: Session, ev: Evaluation) -> dict | None:
    org = org_result_of(s, ev)
    if org is None:
        return None
    c = s.get(CycleRef, ev.cycle_id)
    return {
        "org_result": org,
        "rules": [domain.rule_to_dict(r) for r in rules_for(s, c.agency_code) if r.org_result == org],
    }


def _store_document(s: Session, ev: Evaluation, reason: str) -> EvaluationDocument:
    content = document_content(s, ev)
    previous = s.scalar(
        select(EvaluationDocument)
        .where(EvaluationDocument.evaluation_id == ev.id)
        .order_by(EvaluationDocument.version.desc())
        .limit(1)
    )
    doc = EvaluationDocument(
        evaluation_id=ev.id,
        version=(previous.version + 1) if previous else 1,
        content=content,
        content_hash=domain.content_hash(content),
        previous_hash=previous.content_hash if previous else None,
        reason=reason,
        created_at=now(),
    )
    s.add(doc)
    ev.content_hash, ev.document_version = doc.content_hash, doc.version
    return doc


def sign(s: Session, p: Principal, ev: Evaluation) -> Evaluation:
    _penilai(p, ev)
    guard(s, ev, "sign")
    new_status = domain.evaluation_transition(ev.status, "sign")
    unit = calibration(
        s, Principal(sub="system", roles=frozenset({"admin"})), ev.cycle_id, ev.period_seq, ev.unit_code
    )["units"]
    if unit and unit[0]["sign_off_blocked"]:
        raise Problem(409, "calibration.blocked", unit_code=ev.unit_code, violations=unit[0]["violations"])
    ev.status, ev.signed_at, ev.signed_by, ev.updated_at = new_status, now(), p.sub, now()
    s.flush()
    _store_document(s, ev, "signed")
    s.flush()
    audit(
        s,
        p,
        "evaluation.signed",
        "evaluation",
        ev.id,
        after={"content_hash": ev.content_hash},
        agency=ev.agency_code,
        subject=ev.employee_nip,
    )
    emit(s, "reviews.evaluation.signed", ev.id, ev_ref(ev) | {"content_hash": ev.content_hash})
    return ev


def acknowledge(s: Session, p: Principal, ev: Evaluation) -> Evaluation:
    _owner(p, ev)
    guard(s, ev, "acknowledge")
    ev.status = domain.evaluation_transition(ev.status, "acknowledge")
    ev.acknowledged_at, ev.updated_at = now(), now()
    s.flush()
    audit(s, p, "evaluation.acknowledged", "evaluation", ev.id, agency=ev.agency_code, subject=ev.employee_nip)
    emit(
        s,
        "reviews.evaluation.acknowledged",
        ev.id,
        ev_ref(ev)
        | {
            "objection_closes_on": domain.objection_closes_on(
                platform().local_date(ev.acknowledged_at), _objection_days()
            )
        },
    )
    return ev


def countersign(s: Session, p: Principal, ev: Evaluation) -> Evaluation:
    _atasan(p, ev)
    guard(s, ev, "countersign")
    ev.status = domain.evaluation_transition(ev.status, "countersign")
    ev.countersigned_at, ev.countersigned_by, ev.updated_at = now(), p.sub, now()
    s.flush()
    audit(s, p, "evaluation.countersigned", "evaluation", ev.id, agency=ev.agency_code, subject=ev.employee_nip)
    emit(s, "reviews.evaluation.countersigned", ev.id, ev_ref(ev) | {"content_hash": ev.content_hash})
    plan_follow_up(s, ev)
    return ev


def documents(s: Session, ev: Evaluation) -> list[EvaluationDocument]:
    return list(
        s.scalars(
            select(EvaluationDocument)
            .where(EvaluationDocument.evaluation_id == ev.id)
            .order_by(EvaluationDocument.version)
        )
    )


# ------------------------------------------------------------------ objections


def _objection_days() -> int:
    return int(settings().objection_days)


def file_objection(s: Session, p: Principal, ev: Evaluation, reasons: str) -> Objection:
    _owner(p, ev)
    guard(s, ev, "object")
    if ev.status not in ("acknowledged", "countersigned") or ev.acknowledged_at is None:
        raise Problem(409, "objection.not_acknowledged", status=ev.status)
    if s.scalar(select(Objection.id).where(Objection.evaluation_id == ev.id)):
        raise Problem(409, "objection.exists")
    domain.check_objection_window(platform().local_date(ev.acknowledged_at), today(), _objection_days())
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
    audit(
        s,
        p,
        "objection.filed",
        "objection",
        obj.id,
        after={"reasons": reasons},
        agency=ev.agency_code,
        subject=ev.employee_nip,
    )
    emit(s, "reviews.objection.filed", obj.id, objection_ref(obj, ev))
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
    obj = s.get(Objection, objection_id)
    if obj is None:
        raise not_found("objection", objection_id)
    ev = get_evaluation(s, p, obj.evaluation_id)
    return obj, ev


def add_statement(s: Session, p: Principal, obj: Objection, ev: Evaluation, text: str) -> Objection:
    if p.nip == ev.employee_nip:
        party = "employee"
    elif p.nip and p.nip == ev.penilai_nip:
        party = "penilai"
    else:
        raise Problem(403, "objection.only_parties")
    obj.status = domain.objection_transition(obj.status, "statement")
    obj.statements = [*obj.statements, {"party": party, "nip": p.nip, "text": text, "at": now().isoformat()}]
    s.flush()
    audit(
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
    _atasan(p, ev)
    obj.status = domain.objection_transition(obj.status, "decide")
    before = {
        "rating_hasil": ev.rating_hasil,
        "rating_perilaku": ev.rating_perilaku,
        "predikat": ev.predikat,
        "content_hash": ev.content_hash,
    }
    obj.decision, obj.decision_reason, obj.decided_at, obj.decided_by = (data["decision"], data["reason"], now(), p.sub)
    obj.before = before
    if data["decision"] == "changed":
        missing = [f for f in ("rating_hasil", "rating_perilaku") if not data.get(f)]
        if missing:
            raise validation([(f, "objection.new_rating_required") for f in missing])
        ev.rating_hasil, ev.rating_perilaku = data["rating_hasil"], data["rating_perilaku"]
        ev.predikat = domain.predikat(ev.rating_hasil, ev.rating_perilaku)
        ev.notes = ((ev.notes or "") + f"\nKeberatan #{obj.id}: {data['reason']}").strip()
        ev.updated_at = now()
        s.flush()
        _store_document(s, ev, "objection_changed")  # a new version linked to the old by previous_hash
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
    audit(
        s,
        p,
        "objection.decided",
        "objection",
        obj.id,
        before=before,
        after=obj.after | {"decision": obj.decision, "reason": obj.decision_reason},
        agency=ev.agency_code,
        subject=ev.employee_nip,
    )
    emit(
        s,
        "reviews.objection.decided",
        obj.id,
        objection_ref(obj, ev) | {"predikat": ev.predikat, "document_version": ev.document_version},
    )
    return obj


# ------------------------------------------------------------------ follow-up and consistency

RECOMMENDATIONS = {
    "development": "Bimbingan kinerja oleh atasan langsung dan pelatihan terkait indikator/nilai di bawah ekspektasi.",
    "recognition": "Penghargaan kinerja dan prioritas pengembangan kompetensi.",
}


def plan_follow_up(s: Session, ev: Evaluation, replace: bool = False) -> FollowUp | None:
    suggestion = ev.suggestion or {}
    iki_levels = {i["id"]: i["level"] for r in suggestion.get("rhk", []) for i in r["iki"]}
    value_levels = {v: (f or {}).get("level") for v, f in (ev.value_feedback or {}).items()}
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


def update_follow_up(s: Session, p: Principal, fu: FollowUp, data: dict) -> FollowUp:
    ev = s.get(Evaluation, fu.evaluation_id)
    if not (in_agency(p, fu.agency_code, ("hr",)) or (p.nip and p.nip == ev.penilai_nip)):
        raise forbid()
    before = {"recommendation": fu.recommendation, "owner_nip": fu.owner_nip, "due_date": str(fu.due_date)}
    for key in ("recommendation", "owner_nip", "due_date"):
        if key in data:
            setattr(fu, key, data[key])
    s.flush()
    audit(
        s,
        p,
        "followup.updated",
        "followup",
        fu.id,
        before=before,
        after={"recommendation": fu.recommendation, "owner_nip": fu.owner_nip, "due_date": str(fu.due_date)},
        agency=fu.agency_code,
        subject=fu.employee_nip,
    )
    return fu


def rater_consistency(s: Session, p: Principal, cycle_id: int, seq: int | None) -> dict:
    c = s.get(CycleRef, cycle_id)
    if c is None or not in_agency(p, c.agency_code, ("hr",)):
        raise not_found("cycle", cycle_id)
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
    names, units = {}, {}
    everything = []
    for nip, name, unit, hasil, perilaku in s.execute(stmt):
        key = nip or "-"
        by_rater[key] += [hasil, perilaku]
        by_unit[unit] += [hasil, perilaku]
        everything += [hasil, perilaku]
        names[key], units[key] = name, unit
    agency_stats = {st.rater: st for st in domain.rater_consistency(by_rater, everything)}
    out = []
    for rater, st in agency_stats.items():
        unit_ref = domain.rater_consistency({rater: by_rater[rater]}, by_unit[units[rater]])[0]
        out.append(
            {
                "penilai_nip": rater,
                "penilai_name": names.get(rater),
                "unit_code": units.get(rater),
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
