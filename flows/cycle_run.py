"""What one run of the cycle flow shares, and the loop every stage with a deadline follows.

:class:`Run` carries the cycle, the client, the clock and the :class:`Report`; a stage assesses
what people still owe (an :class:`Assessment` of :class:`Duty`), and :func:`chase_stage` reminds
before the deadline, escalates after it (the superior, then HR ``GRACE`` later, each once), and
either closes the stage (:func:`advance`) or waits for the next moment — moving a simulated clock
there, or ending a real run that the next daily run continues. When a stage is complete or may
close late is in :mod:`flows.schedule`; the stages themselves are in :mod:`flows.cycle_stages`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from . import cycle_tasks as tasks
from . import schedule as sch
from .runner import invoke, log

MAX_STEPS = 200  # state changes in one run (a monthly cycle has ~45): a guard against a loop, never reached


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
        wait = 0.0 if period_seq in self.settled else tasks.SETTLE_SECONDS
        self.settled.add(period_seq)
        return invoke(tasks.evaluation_status, self.client, self.cycle_id, period_seq, wait)


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


def fmt_wib(when: datetime) -> str:
    return when.astimezone(sch.JAKARTA).strftime("%Y-%m-%d %H:%M WIB")


def _short(nips, n: int = 5) -> str:
    nips = sorted(nips)
    return ", ".join(nips[:n]) + (f" and {len(nips) - n} more" if len(nips) > n else "")


def waiting(state: str, detail: str) -> dict:
    """A stage's outcome: it waits for a moment (a real run ends; the next run goes on)."""
    return {"status": "waiting", "state": state, "detail": detail}


def blocked(state: str, detail: str) -> dict:
    """A stage's outcome: only people can move it on (reported, never forced)."""
    return {"status": "blocked", "state": state, "detail": detail}


def advance(run: Run, expected: str, why: str) -> dict:
    if not run.may_advance:
        return waiting(expected, f"would close it ({why}); the sweep leaves that to the daily run")
    res = invoke(tasks.advance_cycle, run.client, run.cycle_id, expected)
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
            f"{duty.key}: the deadline {fmt_wib(duty.due)} and its grace passed more than "
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
            tasks.send_reminders,
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
        result = invoke(tasks.escalate_overdue, run.client, key, nips)
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
            return waiting(state, f"reminders and escalations sent; incomplete: {a.missing}")
        if may_close_late and now >= due + (grace or timedelta(0)):
            if run.clock_name == "real" and sch.is_stale(now, due, grace):
                detail = (
                    f"the deadline {fmt_wib(due)} passed more than {sch.STALE_AFTER.days} days ago "
                    f"(KINERJA_FLOW_STALE_DAYS) and the stage is incomplete: {a.missing}; the flow does not "
                    f"close a stage that late on its own: HR decides (kinerja hr cycle advance "
                    f"{run.cycle_id} --expected {state})"
                )
                run.report.warn(f"{state}: {detail}")
                return blocked(state, detail)
            if before_close:
                before_close()
            return advance(run, state, f"deadline {fmt_wib(due)} passed; incomplete: {a.missing}")
        moment = sch.next_moment(now, due, run.reminder_days, grace)
        if moment is None:
            return blocked(state, f"past its deadline ({fmt_wib(due)}) and incomplete; waiting for: {a.missing}")
        if not run.clock.wait_until(moment):
            return waiting(state, f"next step {fmt_wib(moment)} (deadline {fmt_wib(due)}); incomplete: {a.missing}")
    raise RuntimeError(f"{state}: no progress after {MAX_STEPS} rounds")


def opened_at(run: Run, state: str, fallback: datetime) -> datetime:
    at = invoke(tasks.stage_opened_at, run.client, run.cycle_id, state)
    if at:
        return sch.as_datetime(at)
    run.report.warn(f"{state}: no audit record of when it opened; counting from {fmt_wib(fallback)}")
    return fallback
