"""``evaluation_cycle``: the Prefect flow that moves an evaluation cycle (DESIGN.md §4).

Each run reads where the cycle stands in the plans service and carries it on from there, so a run
killed anywhere and started again continues where the cycle stands; every write it makes is
idempotent (``advance`` with ``expected``, reminder batches keyed per cycle/stage/threshold,
escalations once per level, the calibration check deduplicated by the reviews service), so a
repeated run duplicates nothing. Time comes from :mod:`flows.clock`: with the real clock a run
does what is due now and ends, saying what it waits for (the daily deployment continues); with the
simulated clock, waiting for a moment is moving the clock there, so one run can walk a year.

When a stage is complete, and when it may close incomplete, is in :mod:`flows.schedule`. The
flow sends reminders before a deadline to whoever still owes something (batched: one request,
and one task, per ``batch_size`` recipients — never one per employee), escalates at the deadline
(the superior, then HR ``GRACE`` later, each once), and reports what is missing. It never
decides for people: calibration violations are reported, not overridden (HR decides), and a
stage whose incompleteness would freeze work forever (unrated annual evaluations, undecided
objections) is not advanced.

Sub-flows: ``cycle-planning``, ``cycle-period`` (one per period: check-in, self-assessment,
supervisor evaluation, the period's calibration check), ``cycle-annual-evaluation``,
``cycle-calibration``, ``cycle-sign-off``, ``cycle-objections``, ``cycle-close`` (SIASN push).
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from . import schedule as sch
from .client import ServiceClient, ServiceError, resolve_token
from .clock import get_clock
from .runner import invoke, log

__all__ = ["evaluation_cycle", "Report", "Run"]

PLANS, REVIEWS, NOTIFY = "/plans/api/v1", "/reviews/api/v1", "/notifications/api/v1"
MAX_STEPS = 200  # state changes in one run (a monthly cycle has ~45): a guard against a loop, never reached
SETTLE_SECONDS = float(os.environ.get("KINERJA_FLOW_SETTLE_SECONDS", "10"))  # evaluations opened from events
RATED = ("rated", "signed", "acknowledged", "countersigned")
HAS_PLAN = ("approved", "revised")  # a revised plan keeps its approved content as the basis


def transient(task, task_run, state) -> bool:
    """Retry a task only when trying again may help: the service was unreachable or failed (5xx).
    A 4xx is an answer; a programming error stays one."""
    exc = getattr(state, "data", None)
    if isinstance(exc, ServiceError):
        return exc.transient
    import httpx

    return isinstance(exc, httpx.TransportError)


SERVICE_TASK = dict(retries=3, retry_delay_seconds=[1, 2, 4], retry_condition_fn=transient, cache_policy=NO_CACHE)


# ------------------------------------------------------------------ the run's shared state


class Report:
    """What a run did and found; returned by the flow (plain JSON) and logged as it goes."""

    def __init__(self, cycle_id: int, clock):
        self.cycle_id, self.clock = cycle_id, clock
        self.steps: list[str] = []
        self.reminders: dict[str, dict] = {}
        self.escalations: dict[str, int] = {}
        self.missing: dict[str, Any] = {}
        self.calibration: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.siasn: dict[str, Any] = {}
        self.status, self.state, self.detail = "running", None, ""
        self.summary: dict = {}

    def step(self, text: str) -> None:
        stamp = self.clock.now().astimezone(sch.JAKARTA).strftime("%Y-%m-%d %H:%M")
        self.steps.append(f"[{stamp}] {text}")
        log().info(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        log().warning(text)

    def reminded(self, key: str, result: dict) -> None:
        r = self.reminders.setdefault(key, {"created": 0, "already": 0, "unknown": []})
        r["created"] += len(result.get("created", []))
        r["already"] += len(result.get("already", []))
        r["unknown"] = sorted(set(r["unknown"]) | set(result.get("unknown", [])))

    def finish(self, status: str, state: str, detail: str) -> None:
        self.status, self.state, self.detail = status, state, detail
        log().info(f"cycle {self.cycle_id}: {status} at {state} — {detail}")

    def as_dict(self) -> dict:
        return {
            "cycle_id": self.cycle_id,
            "status": self.status,
            "state": self.state,
            "detail": self.detail,
            "steps": self.steps,
            "reminders": self.reminders,
            "escalations": self.escalations,
            "missing": self.missing,
            "calibration": self.calibration,
            "siasn": self.siasn,
            "warnings": self.warnings,
            "summary": self.summary,
        }


class Run(BaseModel):
    """What the stages of one flow run share. Prefect records only the plain fields as the
    sub-flows' parameters: the client (and its token), the clock and the report stay in memory."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    cycle_id: int
    base_url: str
    clock_name: str
    reminder_days: list[int]
    batch_size: int
    until: str | None = None
    may_advance: bool = True  # False: a reminder sweep (remind and escalate what is due now; move nothing)
    client: Any = Field(default=None, exclude=True)
    clock: Any = Field(default=None, exclude=True)
    report: Any = Field(default=None, exclude=True)
    settled: set[int] = Field(default_factory=set, exclude=True)  # periods whose evaluations were awaited once

    def evaluations(self, period_seq: int) -> dict:
        """The period's evaluations; the first look in a run waits briefly for ones still in flight."""
        wait = 0.0 if period_seq in self.settled else SETTLE_SECONDS
        self.settled.add(period_seq)
        return invoke(evaluation_status, self.client, self.cycle_id, period_seq, wait)


@dataclass
class Duty:
    """Work people still owe before ``due``: who (NIP → their own template parameters), reminded
    with ``template`` in batches keyed ``<key>:d<days>`` and, once late, ``<key>:overdue``
    (escalated)."""

    key: str
    template: str
    due: datetime
    recipients: dict[str, dict]
    escalate_to: str = "hr"
    params: dict = field(default_factory=dict)


@dataclass
class Assessment:
    complete: bool
    duties: list[Duty]
    missing: dict
    note: str = ""


# ------------------------------------------------------------------ tasks: service calls


@task(name="read-cycle", **SERVICE_TASK)
def read_cycle(client: ServiceClient, cycle_id: int) -> dict:
    return client.get(f"{PLANS}/cycles/{cycle_id}")


@task(name="advance-cycle", task_run_name="advance {expected}", **SERVICE_TASK)
def advance_cycle(client: ServiceClient, cycle_id: int, expected: str) -> dict:
    """Move the cycle one step if it is still at ``expected``; when someone moved it first, the 409
    names where it is, and that is where the flow goes on from."""
    try:
        cycle = client.post(f"{PLANS}/cycles/{cycle_id}/advance", {"expected": expected})
        return {"advanced": True, "state": cycle["state"]}
    except ServiceError as exc:
        if exc.status == 409 and exc.code == "cycle.not_expected":
            return {"advanced": False, "state": exc.body.get("stage")}
        raise


@task(name="stage-opened-at", task_run_name="opened-at {state}", **SERVICE_TASK)
def stage_opened_at(client: ServiceClient, cycle_id: int, state: str) -> str | None:
    """When the cycle entered ``state``: the plans service's audit row of that advance."""
    at = None
    for row in client.pages(f"{PLANS}/audit", entity_type="cycle", entity_id=str(cycle_id)):
        if row.get("action") == "cycle.advanced" and (row.get("after") or {}).get("state") == state:
            at = row["at"]  # oldest first: the last one wins
    return at


@task(name="planning-status", **SERVICE_TASK)
def planning_status(client: ServiceClient, cycle: dict) -> dict:
    """Every active employee in the cycle's scope and the status of their SKP."""
    scope = set(cycle.get("unit_codes") or [])
    employees = {
        e["nip"]: e
        for e in client.pages(f"{PLANS}/employees", active="true")
        if not scope or e.get("unit_code") in scope
    }
    status = {p["employee_nip"]: p["status"] for p in client.pages(f"{PLANS}/plans", cycle_id=cycle["id"])}
    return {
        "employees": {
            nip: {"superior_nip": e.get("superior_nip"), "unit_code": e.get("unit_code"), "status": status.get(nip)}
            for nip, e in employees.items()
        }
    }


@task(name="evaluation-status", task_run_name="evaluations p{period_seq}", **SERVICE_TASK)
def evaluation_status(
    client: ServiceClient, cycle_id: int, period_seq: int, settle_seconds: float = SETTLE_SECONDS
) -> dict:
    """The period's evaluations (0 = annual), and who has an approved SKP but no evaluation yet.
    Evaluations open from events: a short, bounded wait lets ones in flight arrive."""
    employees = {e["nip"] for e in client.pages(f"{PLANS}/employees", active="true")}
    expected = {
        p["employee_nip"] for p in client.pages(f"{PLANS}/plans", cycle_id=cycle_id) if p["status"] in HAS_PLAN
    } & employees
    stop, delay = time.monotonic() + settle_seconds, 0.05
    while True:
        evaluations = client.all(f"{REVIEWS}/evaluations", cycle_id=cycle_id, period_seq=period_seq)
        not_opened = sorted(expected - {e["employee_nip"] for e in evaluations})
        if not not_opened or time.monotonic() >= stop:
            return {"evaluations": evaluations, "not_opened": not_opened}
        time.sleep(delay)
        delay = min(1.0, delay * 2)


@task(name="send-reminders", task_run_name="remind {batch_key} #{chunk}", **SERVICE_TASK)
def send_reminders(
    client: ServiceClient,
    batch_key: str,
    template: str,
    recipients: list[dict],
    deadline: str,
    params: dict,
    escalate_to: str,
    chunk: int = 0,
) -> dict:
    """One batch of reminders (≤ batch_size recipients). The notifications service reminds each
    (batch key, recipient) once, ever: a repeated call reports them as ``already``."""
    return client.post(
        f"{NOTIFY}/reminders",
        {
            "batch_key": batch_key,
            "template": template,
            "recipients": recipients,
            "deadline": deadline,
            "params": params,
            "escalate_to": escalate_to,
            "hr_after_hours": int(sch.GRACE.total_seconds() // 3600),
        },
    )


@task(name="escalate-overdue", task_run_name="escalate {batch_key}", **SERVICE_TASK)
def escalate_overdue(client: ServiceClient, batch_key: str, overdue: list[str]) -> dict:
    """Escalate who is still overdue (the superior from the deadline, HR after the grace; each level
    once per person); the others in the batch are marked done."""
    result = client.post(f"{NOTIFY}/reminders/{batch_key}/escalate", {"recipients": overdue})
    levels = Counter(e.get("to") for i in result.get("items", []) for e in i.get("escalations", []))
    return {"escalated": result.get("escalated", 0), "levels": dict(levels)}


@task(name="calibration-check", task_run_name="calibration p{period_seq}", **SERVICE_TASK)
def calibration_check(client: ServiceClient, cycle_id: int, period_seq: int) -> dict:
    """Run the distribution check (the reviews service publishes each finding once)."""
    return client.post(f"{REVIEWS}/calibration/check", params={"cycle_id": cycle_id, "period_seq": period_seq})


@task(name="org-results", **SERVICE_TASK)
def org_results(client: ServiceClient, cycle_id: int) -> list[dict]:
    return client.get(f"{REVIEWS}/org-results", cycle_id=cycle_id) or []


@task(name="acknowledgements", **SERVICE_TASK)
def last_acknowledgement(client: ServiceClient, evaluation_ids: list[int]) -> str | None:
    """The latest acknowledgement among these evaluations (one GET each, at most the client's
    concurrency in flight)."""

    def acknowledged(eid: int) -> str | None:
        return client.get(f"{REVIEWS}/evaluations/{eid}").get("acknowledged_at")

    with ThreadPoolExecutor(max_workers=client.max_concurrency) as pool:
        stamps = [sch.as_datetime(t) for t in pool.map(acknowledged, evaluation_ids) if t]
    return max(stamps).isoformat() if stamps else None


@task(name="pending-objections", **SERVICE_TASK)
def pending_objections(client: ServiceClient, cycle_id: int) -> list[dict]:
    """The cycle's objections not decided yet (filed or under review)."""
    return [
        {
            "objection_id": o["id"],
            "evaluation_id": o["evaluation_id"],
            "employee_nip": o["employee_nip"],
            "atasan_nip": o.get("atasan_nip"),
            "status": o["status"],
        }
        for o in client.pages(f"{REVIEWS}/objections", cycle_id=cycle_id)
        if o["status"] != "decided"
    ]


@task(name="siasn-push", task_run_name="siasn {kind}", **SERVICE_TASK)
def siasn_push(client: ServiceClient, cycle_id: int, kind: str, day: str) -> dict:
    """Push the countersigned results to SIASN (the service skips those already sent; one push per
    cycle, kind and day even when a retry repeats the request); a service without SIASN settings
    answers 503 ``siasn.not_configured``: a warning, not a failure."""
    try:
        return client.post(
            f"{REVIEWS}/siasn/push",
            {"cycle_id": cycle_id, "kind": kind},
            retry=False,
            idempotency_key=f"flows:siasn:{cycle_id}:{kind}:{day}",
        )
    except ServiceError as exc:
        if exc.code == "siasn.not_configured":
            return {"kind": kind, "not_configured": True, "missing": exc.body.get("missing", [])}
        raise


@task(name="cycle-summary", **SERVICE_TASK)
def cycle_summary(client: ServiceClient, cycle_id: int) -> dict:
    cycle = client.get(f"{PLANS}/cycles/{cycle_id}")
    plans = Counter(p["status"] for p in client.pages(f"{PLANS}/plans", cycle_id=cycle_id))
    evaluations: dict[str, dict] = {}
    predikat: Counter = Counter()
    for e in client.pages(f"{REVIEWS}/evaluations", cycle_id=cycle_id):
        key = "annual" if e["period_seq"] == 0 else f"p{e['period_seq']}"
        evaluations.setdefault(key, Counter())[e["status"]] += 1
        if e["period_seq"] == 0 and e.get("predikat"):
            predikat[e["predikat"]] += 1
    return {
        "state": cycle["state"],
        "plans": dict(plans),
        "evaluations": {k: dict(v) for k, v in sorted(evaluations.items())},
        "annual_predikat": dict(predikat),
    }


# ------------------------------------------------------------------ helpers of the stages


def _fmt(when: datetime) -> str:
    return when.astimezone(sch.JAKARTA).strftime("%Y-%m-%d %H:%M WIB")


def _short(nips, n: int = 5) -> str:
    nips = sorted(nips)
    return ", ".join(nips[:n]) + (f" and {len(nips) - n} more" if len(nips) > n else "")


def advance(run: Run, expected: str, why: str) -> dict:
    if not run.may_advance:
        return {
            "status": "waiting",
            "state": expected,
            "detail": f"would close it ({why}); the sweep leaves that to the daily run",
        }
    res = invoke(advance_cycle, run.client, run.cycle_id, expected)
    if res["advanced"]:
        run.report.step(f"{expected} → {res['state']}: {why}")
    else:
        run.report.step(
            f"{expected}: the cycle is already at {res['state']} (moved by someone else); going on from there"
        )
    return {"status": "advanced", "state": res["state"]}


def chase(run: Run, duty: Duty, grace: timedelta | None = None) -> None:
    """Remind before the deadline, escalate after it; one task per batch of recipients. ``grace``:
    the stage's, for the stale rule (:func:`flows.schedule.is_stale`)."""
    if not duty.recipients:
        return
    now = run.clock.now()
    if now < duty.due:
        days = sch.reminder_due(now, duty.due, run.reminder_days)
        if days is None:
            return
        key = f"{duty.key}:d{days}"
    elif run.clock_name == "real" and sch.is_stale(now, duty.due, grace):
        run.report.warn(
            f"{duty.key}: the deadline {_fmt(duty.due)} and its grace passed more than "
            f"{sch.STALE_AFTER.days} days ago; no reminder or escalation sent for it "
            f"({len(duty.recipients)} still owing)"
        )
        return
    else:
        key = f"{duty.key}:overdue"
    nips = sorted(duty.recipients)
    for n, start in enumerate(range(0, len(nips), run.batch_size)):
        chunk = [{"nip": nip, "params": duty.recipients[nip]} for nip in nips[start : start + run.batch_size]]
        result = invoke(
            send_reminders,
            run.client,
            key,
            duty.template,
            chunk,
            duty.due.isoformat(),
            duty.params,
            duty.escalate_to,
            chunk=n,
        )
        run.report.reminded(key, result)
        if result.get("created"):
            run.report.step(f"reminder {key}: {len(result['created'])} sent ({duty.template})")
        if result.get("unknown"):
            run.report.warn(f"reminder {key}: unknown to the notifications service: {_short(result['unknown'])}")
    if now >= duty.due and duty.escalate_to != "none":
        result = invoke(escalate_overdue, run.client, key, nips)
        if result["escalated"]:
            run.report.escalations[key] = run.report.escalations.get(key, 0) + result["escalated"]
            run.report.step(f"escalated {key}: {result['escalated']} (so far: {result['levels']})")


def chase_stage(
    run: Run, state: str, assess, *, due: datetime, grace: timedelta | None, may_close_late: bool, before_close=None
) -> dict:
    """The loop of a stage with a deadline: complete → close it; else remind/escalate, and either
    close it late (when it may), or wait for the next moment (simulated: move the clock there;
    real: end the run), or stop and report when nothing but people can move it on."""
    for _ in range(MAX_STEPS):
        a: Assessment = assess()
        if a.complete:
            if before_close:
                before_close()
            run.report.missing.pop(state, None)
            return advance(run, state, a.note or "complete")
        run.report.missing[state] = a.missing
        for duty in a.duties:
            chase(run, duty, grace)
        now = run.clock.now()
        if not run.may_advance:
            return {
                "status": "waiting",
                "state": state,
                "detail": f"reminders and escalations sent; incomplete: {a.missing}",
            }
        if may_close_late and now >= due + (grace or timedelta(0)):
            if run.clock_name == "real" and sch.is_stale(now, due, grace):
                detail = (
                    f"the deadline {_fmt(due)} passed more than {sch.STALE_AFTER.days} days ago "
                    f"(KINERJA_FLOW_STALE_DAYS) and the stage is incomplete: {a.missing}; the flow does not "
                    f"close a stage that late on its own: HR decides (kinerja hr cycle advance "
                    f"{run.cycle_id} --expected {state})"
                )
                run.report.warn(f"{state}: {detail}")
                return {"status": "blocked", "state": state, "detail": detail}
            if before_close:
                before_close()
            return advance(run, state, f"deadline {_fmt(due)} passed; incomplete: {a.missing}")
        moment = sch.next_moment(now, due, run.reminder_days, grace)
        if moment is None:
            return {
                "status": "blocked",
                "state": state,
                "detail": f"past its deadline ({_fmt(due)}) and incomplete; waiting for: {a.missing}",
            }
        if not run.clock.wait_until(moment):
            return {
                "status": "waiting",
                "state": state,
                "detail": f"next step {_fmt(moment)} (deadline {_fmt(due)}); incomplete: {a.missing}",
            }
    raise RuntimeError(f"{state}: no progress after {MAX_STEPS} rounds")


def opened_at(run: Run, state: str, fallback: datetime) -> datetime:
    at = invoke(stage_opened_at, run.client, run.cycle_id, state)
    if at:
        return sch.as_datetime(at)
    run.report.warn(f"{state}: no audit record of when it opened; counting from {_fmt(fallback)}")
    return fallback


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
    have = {r["unit_code"] for r in invoke(org_results, run.client, run.cycle_id) if r["period_seq"] == seq}
    return sorted(units - have)


def _calibration_report(run: Run, seq: int) -> dict:
    view = invoke(calibration_check, run.client, run.cycle_id, seq)
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
    cycle = invoke(read_cycle, run.client, run.cycle_id)
    due = sch.planning_due(cycle)

    def assess() -> Assessment:
        people = invoke(planning_status, run.client, cycle)["employees"]
        without = {nip: p for nip, p in people.items() if p["status"] not in HAS_PLAN}
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
        cycle = invoke(read_cycle, run.client, run.cycle_id)
        state = cycle["state"]
        stage, current, phase = sch.parse_state(state)
        if stage != "monitoring" or current != seq or state == run.until:
            return {"status": "advanced", "state": state}
        p = sch.period(cycle, seq)
        key = f"cycle{run.cycle_id}:p{seq}"
        if phase == "check_in":
            ends = sch.check_in_ends(p)
            if not run.may_advance:
                return {"status": "waiting", "state": state, "detail": "check-in: nothing to remind"}
            if run.clock.now() >= ends:
                outcome = advance(run, state, f"{p['name_en']} ended {_fmt(ends)}")
            elif not run.clock.wait_until(ends):
                return {"status": "waiting", "state": state, "detail": f"{p['name_en']} runs until {_fmt(ends)}"}
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
    cycle = invoke(read_cycle, run.client, run.cycle_id)
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
    blocked = {"units_breaking_the_curve": out["blocked"], "units_without_org_result": out["missing_org_result"]}
    blocked = {k: v for k, v in blocked.items() if v}
    if blocked:
        run.report.missing["calibration"] = blocked | {"violations": {u: out["violations"][u] for u in out["blocked"]}}
        return {
            "status": "blocked",
            "state": "calibration",
            "detail": f"sign-off would be blocked: {blocked}; HR records overrides or ratings are adjusted",
        }
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
            return {"status": "waiting", "state": "objections", "detail": "objections: nothing to remind"}
        if run.clock.now() < earliest and not run.clock.wait_until(earliest):
            return {
                "status": "waiting",
                "state": "objections",
                "detail": f"objection window open until {_fmt(earliest)}",
            }
        annual = run.evaluations(0)["evaluations"]
        acked = [e["id"] for e in annual if e["status"] in ("acknowledged", "countersigned")]
        last_ack = invoke(last_acknowledgement, run.client, acked) if acked else None
        window_end = sch.objection_window_end(start, sch.as_datetime(last_ack) if last_ack else None)
        if run.clock.now() >= window_end:
            break
        if not run.clock.wait_until(window_end):
            return {
                "status": "waiting",
                "state": "objections",
                "detail": f"objection window open until {_fmt(window_end)} ({sch.OBJECTION_DAYS} days after the "
                "last acknowledgement)",
            }
    else:
        return {"status": "waiting", "state": "objections", "detail": "acknowledgements keep extending the window"}
    pending = invoke(pending_objections, run.client, run.cycle_id)
    unsigned = sorted(e["employee_nip"] for e in annual if e["status"] != "countersigned")
    missing = {k: v for k, v in (("objections_undecided", pending), ("not_countersigned", unsigned)) if v}
    if missing:
        run.report.missing["objections"] = missing
        return {
            "status": "blocked",
            "state": "objections",
            "detail": f"the objection window closed {_fmt(window_end)} but closing now would freeze: {missing}",
        }
    run.report.missing.pop("objections", None)
    return advance(run, "objections", f"objection window closed {_fmt(window_end)}; every objection decided")


@flow(name="cycle-close", flow_run_name="close-{run.cycle_id}")
def close_stage(run: Run) -> dict:
    """The cycle is closed: push the countersigned results to SIASN (annual and periodic)."""
    for kind in ("annual", "periodic"):
        result = invoke(siasn_push, run.client, run.cycle_id, kind, sch.local_date(run.clock.now()).isoformat())
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


# ------------------------------------------------------------------ the flow


@flow(name="evaluation-cycle", flow_run_name="cycle-{cycle_id}")
def evaluation_cycle(
    cycle_id: int,
    base_url: str,
    token: str | None = None,
    clock: str = "real",
    reminder_days: list[int] = [7, 3, 1],  # noqa: B006 (a Prefect parameter: plain data, never changed)
    batch_size: int = 200,
    until: str | None = None,
) -> dict:
    """Carry the cycle on from where it stands, as far as time and people allow.

    ``token``: an HR bearer token of the cycle's agency (default: ``$KINERJA_TOKEN``; deployments
    leave the parameter empty so the token is not stored with the run). ``until``: stop when the
    cycle reaches this state (e.g. ``"monitoring:1:supervisor_evaluation"``), before acting in it.
    Returns the run's report: steps, reminders, escalations, what is missing, calibration, SIASN,
    and a summary of the cycle.
    """
    token = resolve_token(token, "an HR token of the cycle's agency")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if until is not None:
        sch.parse_state(until)  # a typo would otherwise run the cycle to its end
    the_clock = get_clock(clock)
    client = ServiceClient(base_url, token)
    report = Report(cycle_id, the_clock)
    run = Run(
        cycle_id=cycle_id,
        base_url=base_url,
        clock_name=clock,
        reminder_days=sorted(set(reminder_days)),
        batch_size=batch_size,
        until=until,
        client=client,
        clock=the_clock,
        report=report,
    )
    try:
        drive(run)
        report.summary = invoke(cycle_summary, client, cycle_id)
    finally:
        client.close()
    return report.as_dict()


def drive(run: Run) -> None:
    report = run.report
    for _ in range(MAX_STEPS):
        cycle = invoke(read_cycle, run.client, run.cycle_id)
        state = cycle["state"]
        stage, seq, _ = sch.parse_state(state)
        if run.until and state == run.until:
            report.finish("stopped", state, f"reached {state} (until)")
            return
        if stage == "draft":
            report.finish(
                "waiting", state, "the cycle is a draft: HR opens planning once periods and deadlines are set"
            )
            return
        if stage == "closed":
            if not run.may_advance:
                report.finish("closed", state, "closed")
                return
            outcome = invoke(close_stage, run)
            report.finish("closed", state, outcome["detail"])
            return
        outcome = invoke(period_stage, run, seq) if stage == "monitoring" else invoke(STAGES[stage], run)
        if outcome["status"] != "advanced":
            report.finish(outcome["status"], outcome["state"], outcome.get("detail", ""))
            return
    raise RuntimeError(f"cycle {run.cycle_id}: more than {MAX_STEPS} stage changes in one run")


# ------------------------------------------------------------------ every open cycle (deployments)


@task(name="open-cycles", **SERVICE_TASK)
def open_cycles(client: ServiceClient) -> list[int]:
    """The cycles the token's agency runs (an admin token: every agency's) that are neither drafts nor closed."""
    return [c["id"] for c in client.pages(f"{PLANS}/cycles") if c["stage"] not in ("draft", "closed")]


def _every_open_cycle(
    base_url: str, token: str | None, clock: str, reminder_days: list[int], batch_size: int, may_advance: bool
) -> dict:
    token = resolve_token(token)
    the_clock = get_clock(clock)
    reports, failed = {}, {}
    with ServiceClient(base_url, token) as client:
        for cycle_id in invoke(open_cycles, client):
            report = Report(cycle_id, the_clock)
            run = Run(
                cycle_id=cycle_id,
                base_url=base_url,
                clock_name=clock,
                reminder_days=sorted(set(reminder_days)),
                batch_size=batch_size,
                may_advance=may_advance,
                client=client,
                clock=the_clock,
                report=report,
            )
            try:
                drive(run)
            except Exception as exc:  # one cycle's trouble does not stop the others
                failed[cycle_id] = f"{type(exc).__name__}: {exc}"
                log().error(f"cycle {cycle_id}: {failed[cycle_id]}")
            reports[cycle_id] = report.as_dict()
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(reports)} cycles failed: {failed}")
    return {"cycles": reports}


@flow(name="advance-open-cycles")
def advance_open_cycles(
    base_url: str,
    token: str | None = None,
    clock: str = "real",
    reminder_days: list[int] = [7, 3, 1],  # noqa: B006 (a Prefect parameter: plain data, never changed)
    batch_size: int = 200,
) -> dict:
    """The daily run: carry every open cycle of the agency on (see :func:`evaluation_cycle`)."""
    return _every_open_cycle(base_url, token, clock, reminder_days, batch_size, may_advance=True)


@flow(name="reminder-sweep")
def reminder_sweep(
    base_url: str,
    token: str | None = None,
    clock: str = "real",
    reminder_days: list[int] = [7, 3, 1],  # noqa: B006 (a Prefect parameter: plain data, never changed)
    batch_size: int = 200,
) -> dict:
    """Between the daily runs: send the reminders and escalations that came due, move no stage."""
    return _every_open_cycle(base_url, token, clock, reminder_days, batch_size, may_advance=False)
