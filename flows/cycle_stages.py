"""The stages of an evaluation cycle as Prefect sub-flows (DESIGN.md §4): ``cycle-planning``,
``cycle-period`` (one per period: check-in, self-assessment, supervisor evaluation, the period's
calibration check), ``cycle-annual-evaluation``, ``cycle-calibration``, ``cycle-sign-off``,
``cycle-objections`` and ``cycle-close`` (SIASN push). Each assesses who still owes what by its
deadline and hands that to the loop of :mod:`flows.cycle_run`; none decides for people:
calibration violations are reported, not overridden (HR decides), and a stage whose
incompleteness would freeze work forever (unrated annual evaluations, undecided objections) is
not advanced."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from prefect import flow

from . import cycle_tasks as tasks
from . import schedule as sch
from .cycle_run import MAX_STEPS, Assessment, Duty, Run, advance, blocked, chase_stage, fmt_wib, opened_at, waiting
from .runner import invoke

RATED = ("rated", "signed", "acknowledged", "countersigned")


def _evaluation_duties(
    run: Run, status: dict, *, key: str, due: datetime, period_name: str, self_assessment: bool
) -> tuple[list[Duty], dict]:
    """Who still owes a self-assessment or a rating, as duties, and what is missing."""
    evs = status["evaluations"]
    missing: dict[str, Any] = {}
    duties = []
    if status["not_opened"]:
        missing["evaluations_not_opened"] = status["not_opened"]
    if self_assessment:
        owing = sorted(e["employee_nip"] for e in evs if e["status"] == "open")
        if owing:
            missing["self_assessment"] = owing
            duties.append(
                Duty(
                    f"{key}:self_assessment",
                    "reminder.self_assessment",
                    due,
                    {nip: {} for nip in owing},
                    "superior",
                    {"period_name": period_name},
                )
            )
    else:
        unrated = [e for e in evs if e["status"] not in RATED]
        if unrated:
            missing["rating"] = sorted(e["employee_nip"] for e in unrated)
            per_penilai = Counter(e["penilai_nip"] for e in unrated if e.get("penilai_nip"))
            hr_rates = sorted(e["employee_nip"] for e in unrated if not e.get("penilai_nip"))
            if hr_rates:
                missing["rating_by_hr"] = hr_rates  # the top official: HR records the rating
            if per_penilai:
                duties.append(
                    Duty(
                        f"{key}:rating",
                        "reminder.rating",
                        due,
                        {nip: {"pending": n} for nip, n in per_penilai.items()},
                        "hr",
                    )
                )
    return duties, missing


def _units_without_org_result(run: Run, evaluations: list[dict], seq: int) -> list[str]:
    units = {e["unit_code"] for e in evaluations}
    have = {r["unit_code"] for r in invoke(tasks.org_results, run.client, run.cycle_id) if r["period_seq"] == seq}
    return sorted(units - have)


def _calibration_report(run: Run, seq: int) -> dict:
    view = invoke(tasks.calibration_check, run.client, run.cycle_id, seq)
    units = view.get("units", [])
    out = {
        "units": len(units),
        "violations": {u["unit_code"]: u["violations"] for u in units if u.get("violations")},
        "blocked": sorted(u["unit_code"] for u in units if u.get("sign_off_blocked")),
        "overridden": sorted(u["unit_code"] for u in units if u.get("override")),
        "missing_org_result": sorted(u["unit_code"] for u in units if u.get("missing_org_result")),
    }
    run.report.calibration["annual" if seq == 0 else f"p{seq}"] = out
    if out["violations"]:
        run.report.step(
            f"calibration {'annual' if seq == 0 else f'period {seq}'}: units breaking the curve: "
            f"{', '.join(sorted(out['violations']))}"
            + (f" (HR overrode {', '.join(out['overridden'])})" if out["overridden"] else "")
        )
    return out


# ------------------------------------------------------------------ stages (sub-flows)


@flow(name="cycle-planning", flow_run_name="planning-{run.cycle_id}")
def planning_stage(run: Run) -> dict:
    cycle = invoke(tasks.read_cycle, run.client, run.cycle_id)
    due = sch.planning_due(cycle)

    def assess() -> Assessment:
        people = invoke(tasks.planning_status, run.client, cycle)["employees"]
        without = {nip: p for nip, p in people.items() if p["status"] not in tasks.HAS_PLAN}
        owing = sorted(nip for nip, p in without.items() if p["status"] != "submitted")
        awaiting = sorted(nip for nip, p in without.items() if p["status"] == "submitted")
        missing = {k: v for k, v in (("no_submitted_plan", owing), ("awaiting_approval", awaiting)) if v}
        duties = [
            Duty(f"cycle{run.cycle_id}:planning", "reminder.skp_submission", due, {nip: {} for nip in owing}, "hr")
        ]
        return Assessment(
            not without and bool(people), duties, missing, f"all {len(people)} employees have an approved SKP"
        )

    return chase_stage(run, "planning", assess, due=due, grace=sch.GRACE, may_close_late=True)


@flow(name="cycle-period", flow_run_name="period-{seq}")
def period_stage(run: Run, seq: int) -> dict:
    """One period: check-in until the period ends, self-assessment, supervisor evaluation, the
    period's calibration check."""
    outcome = {"status": "advanced", "state": None}
    for _ in range(MAX_STEPS):
        cycle = invoke(tasks.read_cycle, run.client, run.cycle_id)
        state = cycle["state"]
        stage, current, phase = sch.parse_state(state)
        if stage != "monitoring" or current != seq or state == run.until:
            return {"status": "advanced", "state": state}
        p = sch.period(cycle, seq)
        key = f"cycle{run.cycle_id}:p{seq}"
        if phase == "check_in":
            ends = sch.check_in_ends(p)
            if not run.may_advance:
                return waiting(state, "check-in: nothing to remind")
            if run.clock.now() >= ends:
                outcome = advance(run, state, f"{p['name_en']} ended {fmt_wib(ends)}")
            elif not run.clock.wait_until(ends):
                return waiting(state, f"{p['name_en']} runs until {fmt_wib(ends)}")
            continue
        self_assessment = phase == "self_assessment"
        due = sch.self_assessment_due(p) if self_assessment else sch.rating_due(p)

        # called within this round of the loop only; the defaults bind its values all the same
        def assess(key=key, due=due, p=p, self_assessment=self_assessment) -> Assessment:
            status = run.evaluations(seq)
            duties, missing = _evaluation_duties(
                run, status, key=key, due=due, period_name=p["name_id"], self_assessment=self_assessment
            )
            if not self_assessment and missing.get("rating"):
                without = _units_without_org_result(run, status["evaluations"], seq)
                if without:
                    missing["org_result"] = without  # a head of unit's rating follows it: HR sets it
            what = "self-assessed" if self_assessment else "rated"
            return Assessment(not missing, duties, missing, f"all {len(status['evaluations'])} evaluations {what}")

        outcome = chase_stage(
            run,
            state,
            assess,
            due=due,
            grace=None if self_assessment else sch.GRACE,
            may_close_late=True,
            before_close=None if self_assessment else (lambda: _calibration_report(run, seq)),
        )
        if outcome["status"] != "advanced":
            return outcome
    return outcome


@flow(name="cycle-annual-evaluation", flow_run_name="annual-{run.cycle_id}")
def annual_stage(run: Run) -> dict:
    cycle = invoke(tasks.read_cycle, run.client, run.cycle_id)
    last = max(cycle["periods"], key=lambda p: p["seq"])
    start = opened_at(run, "annual_evaluation", sch.rating_due(last))
    due = sch.window_due(start, sch.ANNUAL_DAYS)
    key = f"cycle{run.cycle_id}:annual"

    def assess() -> Assessment:
        status = run.evaluations(0)
        name = f"Penilaian Tahunan {cycle['year']}"
        d1, m1 = _evaluation_duties(run, status, key=key, due=due, period_name=name, self_assessment=True)
        d2, m2 = _evaluation_duties(run, status, key=key, due=due, period_name=name, self_assessment=False)
        missing = {**m1, **m2}
        without = _units_without_org_result(run, status["evaluations"], 0)
        if without:
            missing["org_result"] = without  # heads of unit and calibration need it; HR or the head above sets it
        complete = not status["not_opened"] and "rating" not in missing
        return Assessment(complete, d1 + d2, missing, f"all {len(status['evaluations'])} annual evaluations rated")

    return chase_stage(run, "annual_evaluation", assess, due=due, grace=sch.GRACE, may_close_late=False)


@flow(name="cycle-calibration", flow_run_name="calibration-{run.cycle_id}")
def calibration_stage(run: Run) -> dict:
    """Report the curve; go on to sign-off only when no unit is blocked. The flow never overrides:
    HR records an override with a reason, or the penilai adjust their ratings."""
    out = _calibration_report(run, 0)
    stuck = {"units_breaking_the_curve": out["blocked"], "units_without_org_result": out["missing_org_result"]}
    stuck = {k: v for k, v in stuck.items() if v}
    if stuck:
        run.report.missing["calibration"] = stuck | {"violations": {u: out["violations"][u] for u in out["blocked"]}}
        return blocked(
            "calibration", f"sign-off would be blocked: {stuck}; HR records overrides or ratings are adjusted"
        )
    run.report.missing.pop("calibration", None)
    return advance(run, "calibration", f"{out['units']} units within the curve or overridden by HR")


@flow(name="cycle-sign-off", flow_run_name="sign-off-{run.cycle_id}")
def sign_off_stage(run: Run) -> dict:
    start = opened_at(run, "sign_off", run.clock.now())
    due = sch.window_due(start, sch.SIGN_OFF_DAYS)

    def assess() -> Assessment:
        evs = run.evaluations(0)["evaluations"]
        waiting = defaultdict(list)  # who must act → for whom
        hr = []
        for e in evs:
            who = {"rated": e.get("penilai_nip"), "signed": e["employee_nip"], "acknowledged": e.get("atasan_nip")}.get(
                e["status"], ""
            )
            if e["status"] == "countersigned":
                continue
            if who:
                waiting[who].append(e["employee_nip"])
            else:
                hr.append(e["employee_nip"])  # HR signs for the top official, or the evaluation is not rated
        pending = sorted(e["employee_nip"] for e in evs if e["status"] != "countersigned")
        missing = {"not_countersigned": pending, **({"hr_to_act": sorted(hr)} if hr else {})} if pending else {}
        duties = [Duty(f"cycle{run.cycle_id}:sign_off", "reminder.sign_off", due, {nip: {} for nip in waiting}, "hr")]
        return Assessment(not pending, duties, missing, f"all {len(evs)} annual evaluations countersigned")

    return chase_stage(run, "sign_off", assess, due=due, grace=sch.GRACE, may_close_late=True)


@flow(name="cycle-objections", flow_run_name="objections-{run.cycle_id}")
def objections_stage(run: Run) -> dict:
    start = opened_at(run, "objections", run.clock.now())
    for _ in range(5):  # each lap can only move the window's end later (a later acknowledgement)
        earliest = sch.objection_window_end(start, None)
        if not run.may_advance:
            return waiting("objections", "objections: nothing to remind")
        if run.clock.now() < earliest and not run.clock.wait_until(earliest):
            return waiting("objections", f"objection window open until {fmt_wib(earliest)}")
        annual = run.evaluations(0)["evaluations"]
        acked = [e["id"] for e in annual if e["status"] in ("acknowledged", "countersigned")]
        last_ack = invoke(tasks.last_acknowledgement, run.client, acked) if acked else None
        window_end = sch.objection_window_end(start, sch.as_datetime(last_ack) if last_ack else None)
        if run.clock.now() >= window_end:
            break
        if not run.clock.wait_until(window_end):
            return waiting(
                "objections",
                f"objection window open until {fmt_wib(window_end)} ({sch.OBJECTION_DAYS} days after the "
                "last acknowledgement)",
            )
    else:
        return waiting("objections", "acknowledgements keep extending the window")
    pending = invoke(tasks.pending_objections, run.client, run.cycle_id)
    unsigned = sorted(e["employee_nip"] for e in annual if e["status"] != "countersigned")
    missing = {k: v for k, v in (("objections_undecided", pending), ("not_countersigned", unsigned)) if v}
    if missing:
        run.report.missing["objections"] = missing
        return blocked(
            "objections", f"the objection window closed {fmt_wib(window_end)} but closing now would freeze: {missing}"
        )
    run.report.missing.pop("objections", None)
    return advance(run, "objections", f"objection window closed {fmt_wib(window_end)}; every objection decided")


@flow(name="cycle-close", flow_run_name="close-{run.cycle_id}")
def close_stage(run: Run) -> dict:
    """The cycle is closed: push the countersigned results to SIASN (annual and periodic)."""
    for kind in ("annual", "periodic"):
        result = invoke(tasks.siasn_push, run.client, run.cycle_id, kind, sch.local_date(run.clock.now()).isoformat())
        run.report.siasn[kind] = result
        if result.get("not_configured"):
            run.report.warn(
                f"SIASN push ({kind}) skipped: SIASN is not configured on the reviews service "
                f"(missing {', '.join(result.get('missing') or []) or 'settings'})"
            )
        else:
            run.report.step(
                f"SIASN push ({kind}): {result.get('sent', 0)} sent, {result.get('failed', 0)} failed, "
                f"{result.get('skipped', 0)} already sent"
            )
    pushed = [k for k, r in run.report.siasn.items() if not r.get("not_configured")]
    return {
        "status": "closed",
        "state": "closed",
        "detail": f"cycle closed; SIASN: {'pushed ' + ', '.join(pushed) if pushed else 'not configured'}",
    }


STAGES = {
    "planning": planning_stage,
    "annual_evaluation": annual_stage,
    "calibration": calibration_stage,
    "sign_off": sign_off_stage,
    "objections": objections_stage,
}
