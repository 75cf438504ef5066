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

Here: the flows ``evaluation-cycle`` (one cycle) and, for the deployments, ``advance-open-cycles``
and ``reminder-sweep`` (every open cycle). The stages are sub-flows in :mod:`flows.cycle_stages`
(``cycle-planning``, ``cycle-period`` — one per period: check-in, self-assessment, supervisor
evaluation, the period's calibration check —, ``cycle-annual-evaluation``, ``cycle-calibration``,
``cycle-sign-off``, ``cycle-objections``, ``cycle-close`` with the SIASN push); what a run shares
and the remind/escalate/advance loop are in :mod:`flows.cycle_run`; the calls to the services are
the tasks of :mod:`flows.cycle_tasks`.
"""

from __future__ import annotations

from prefect import flow

from . import cycle_tasks as tasks
from . import schedule as sch
from .client import ServiceClient, resolve_token
from .clock import get_clock
from .cycle_run import MAX_STEPS, Report, Run
from .cycle_stages import STAGES, close_stage, period_stage
from .runner import invoke, log

__all__ = ["evaluation_cycle", "Report", "Run"]


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
    client = ServiceClient(base_url, token)
    run = new_run(cycle_id, base_url, client, clock, get_clock(clock), reminder_days, batch_size, until=until)
    try:
        drive(run)
        run.report.summary = invoke(tasks.cycle_summary, client, cycle_id)
    finally:
        client.close()
    return run.report.as_dict()


def new_run(cycle_id: int, base_url: str, client, clock_name: str, clock, reminder_days, batch_size: int, **kw) -> Run:
    """A run of one cycle, with its own report."""
    return Run(
        cycle_id=cycle_id,
        base_url=base_url,
        clock_name=clock_name,
        reminder_days=sorted(set(reminder_days)),
        batch_size=batch_size,
        client=client,
        clock=clock,
        report=Report(cycle_id, clock),
        **kw,
    )


def drive(run: Run) -> None:
    report = run.report
    for _ in range(MAX_STEPS):
        cycle = invoke(tasks.read_cycle, run.client, run.cycle_id)
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


def _every_open_cycle(
    base_url: str, token: str | None, clock: str, reminder_days: list[int], batch_size: int, may_advance: bool
) -> dict:
    token = resolve_token(token)
    the_clock = get_clock(clock)
    reports, failed = {}, {}
    with ServiceClient(base_url, token) as client:
        for cycle_id in invoke(tasks.open_cycles, client):
            run = new_run(
                cycle_id, base_url, client, clock, the_clock, reminder_days, batch_size, may_advance=may_advance
            )
            try:
                drive(run)
            except Exception as exc:  # one cycle's trouble does not stop the others
                failed[cycle_id] = f"{type(exc).__name__}: {exc}"
                log().error(f"cycle {cycle_id}: {failed[cycle_id]}")
            reports[cycle_id] = run.report.as_dict()
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
