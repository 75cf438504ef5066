"""A whole cycle through HTTP with the real flow (Prefect engine, simulated clock): the smaller
agency of tests.plans.support (9 employees, a quarterly 2026 cycle). Between flow runs the test
acts as the people — writes and approves SKPs, self-assesses, rates, sets organisation results,
records HR's calibration overrides, signs, objects, decides — and ``until=`` stops the flow where
they must act. A second test kills the flow mid-stage twice and restarts it: nothing is
duplicated (evaluations, reminders, notifications)."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

import flows.client as flows_client
from flows import schedule as sch
from flows.cycle import evaluation_cycle
from tests.flows.support import ALL, HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, P, R, wait_for

UNITS = ("DINAS", "SEK-A", "SEK-B")


def run(stack, **params):
    """One real flow run; returns (report, its Prefect state)."""
    state = evaluation_cycle(**stack.flow_params(**params), return_state=True)
    return state.result(), state


def org_results(stack, period_seq: int, result: str = "BAIK") -> None:
    for unit in UNITS:
        stack.call(
            "PUT",
            f"{R}/org-results",
            stack.hr,
            {"cycle_id": stack.cycle_id, "period_seq": period_seq, "unit_code": unit, "result": result},
        )


def no_duplicate_notifications(stack) -> dict[str, Counter]:
    """Every inbox holds each notification once (one event id per recipient); returns the templates."""
    seen = {}
    for nip in ALL:
        inbox = stack.inbox(nip)
        ids = [n["event_id"] for n in inbox]
        assert len(ids) == len(set(ids)), f"duplicate notifications for {nip}: {Counter(ids).most_common(2)}"
        seen[nip] = Counter(n["template"] for n in inbox)
    return seen


def prefect_runs(flow_run_id) -> tuple[list[str], list[str], str]:
    """(sub-flow run names, task run names, the run's state) of one flow run, from the Prefect API."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort

    def runs_of(ids):
        return FlowRunFilter(id=FlowRunFilterId(any_=list(ids)))

    with get_client(sync_client=True) as client:

        def every(read, **kw):  # (this Prefect's client sends null for an unset sort: the server refuses it)
            out, offset = [], 0
            while True:
                page = read(limit=200, offset=offset, **kw)
                out += page
                if len(page) < 200:
                    return out
                offset += 200

        parent = client.read_flow_run(flow_run_id)
        tasks = every(
            client.read_task_runs, flow_run_filter=runs_of([flow_run_id]), sort=TaskRunSort.EXPECTED_START_TIME_ASC
        )
        tasks = [t for t in tasks if t.state is not None]  # a run whose first state the API has not recorded yet
        child_ids = [t.state.state_details.child_flow_run_id for t in tasks if t.state.state_details.child_flow_run_id]
        children = (
            every(client.read_flow_runs, flow_run_filter=runs_of(child_ids), sort=FlowRunSort.EXPECTED_START_TIME_ASC)
            if child_ids
            else []
        )
        tasks += (
            every(client.read_task_runs, flow_run_filter=runs_of(child_ids), sort=TaskRunSort.EXPECTED_START_TIME_ASC)
            if child_ids
            else []
        )
    task_names = {
        re.sub(r"-[0-9a-f]{3}$", "", t.name)
        for t in tasks
        if t.state is not None and not t.state.state_details.child_flow_run_id
    }
    return sorted(c.name for c in children), sorted(task_names), parent.state.name


def test_a_year_of_the_cycle_driven_by_the_flow(semester_stack):
    stack = semester_stack
    started = time.monotonic()
    people = stack.people
    plans = people.plans(leave_out=(STAFF_B[2],), draft=(STAFF_B[1],))  # 7 approved, 1 draft, 1 missing

    # planning (the semester cycle: two periods): reminders before the deadline, the superior then
    # HR after it, planning closes late
    report, state = run(stack, until="monitoring:1:self_assessment")
    assert state.is_completed() and report["status"] == "stopped"
    assert stack.state() == "monitoring:1:self_assessment"
    planning = {k.split(":")[-1]: v["created"] for k, v in report["reminders"].items() if ":planning:" in k}
    assert planning == {"d7": 2, "d3": 2, "d1": 2, "overdue": 2}
    assert report["missing"]["planning"] == {"no_submitted_plan": sorted([STAFF_B[1], STAFF_B[2]])}
    c = stack.cycle_id
    # runs reach the Prefect API as events, recorded a moment later: bounded waits
    subflows, tasks, parent_state = wait_for(
        lambda: (r := prefect_runs(state.state_details.flow_run_id))[0] == ["period-1", f"planning-{c}"] and r,
        what="the sub-flow runs in the Prefect API",
    )
    assert parent_state == "Completed"
    expected_tasks = {
        "read-cycle",
        "planning-status",
        "advance planning",
        f"escalate cycle{c}:planning:overdue",
        f"remind cycle{c}:planning:d7 #0",
        "advance monitoring:1:check_in",
        "cycle-summary",
    }
    wait_for(
        lambda: expected_tasks <= set(prefect_runs(state.state_details.flow_run_id)[1]),
        what=f"task runs {expected_tasks - set(tasks)} in the Prefect API",
    )

    # period 1: everyone self-assesses: the phase closes without waiting for its deadline
    evs = wait_for(lambda: len(stack.evaluations(1)) == 7 and stack.evaluations(1), what="7 periodic evaluations")
    people.self_assess(evs)
    report, _ = run(stack, until="monitoring:1:supervisor_evaluation")
    assert any("all 7 evaluations self-assessed" in s for s in report["steps"])
    assert stack.clock() == sch.end_of_day("2026-06-30")  # the semester's end, not the self-assessment deadline
    org_results(stack, 1)
    people.realise(plans, 1)
    people.rate(stack.evaluations(1))

    # the second semester passes with nobody acting: reminded, escalated, closed late
    report, _ = run(stack, until="annual_evaluation")
    assert stack.state() == "annual_evaluation" and "p1" in report["calibration"]
    for seq in (2,):
        assert report["reminders"][f"cycle{stack.cycle_id}:p{seq}:rating:overdue"]["created"] == 3
        assert report["missing"][f"monitoring:{seq}:supervisor_evaluation"]["rating"]

    # annual evaluation: organisation results, self-assessment, ratings
    evs = wait_for(lambda: len(stack.evaluations(0)) == 7 and stack.evaluations(0), what="7 annual evaluations")
    org_results(stack, 0)
    people.self_assess(evs)
    people.realise(plans, 2, 1.02)
    people.rate(stack.evaluations(0))

    # calibration: the flow reports the units breaking the curve and stops; it never overrides
    report, state = run(stack, until="sign_off")
    assert state.is_completed() and report["status"] == "blocked" and stack.state() == "calibration"
    blocked = report["missing"]["calibration"]["units_breaking_the_curve"]
    assert blocked and set(blocked) <= set(UNITS)
    again, _ = run(stack, until="sign_off")  # nothing changed: still blocked, still nothing done
    assert again["status"] == "blocked" and stack.state() == "calibration"
    for unit in blocked:  # HR decides, on the record
        stack.call(
            "POST",
            f"{R}/calibration/overrides",
            stack.hr,
            {
                "cycle_id": stack.cycle_id,
                "period_seq": 0,
                "unit_code": unit,
                "reason": "Unit kecil; distribusi ditinjau bersama pimpinan dan dipertahankan.",
            },
        )
    report, _ = run(stack, until="sign_off")
    assert report["status"] == "stopped" and stack.state() == "sign_off"

    # sign-off: penilai sign, employees acknowledge, atasan countersign
    people.sign_all(stack.evaluations(0))
    report, _ = run(stack, until="objections")
    assert stack.state() == "objections"

    # one employee objects; the window passes with the objection undecided: the flow waits
    objected = next(e for e in stack.evaluations(0) if e["employee_nip"] == STAFF_A[0])
    objection = people.act(
        "POST",
        f"{R}/evaluations/{objected['id']}/objections",
        stack.person(STAFF_A[0]),
        {"reasons": "Bukti dukung triwulan IV belum dipertimbangkan."},
    ).json()
    report, _ = run(stack)
    assert report["status"] == "blocked" and stack.state() == "objections"
    assert [o["objection_id"] for o in report["missing"]["objections"]["objections_undecided"]] == [objection["id"]]
    people.act(
        "POST",
        f"{R}/objections/{objection['id']}/decide",
        stack.person(HEAD),
        {"decision": "upheld", "reason": "Penilaian sesuai bukti dukung."},
    )

    # the window closed, every objection decided: the cycle closes; SIASN is not configured here
    report, state = run(stack)
    assert state.is_completed() and report["status"] == "closed" and stack.state() == "closed"
    assert report["siasn"]["annual"]["not_configured"] and any("SIASN" in w for w in report["warnings"])
    summary = report["summary"]
    assert summary["state"] == "closed"
    assert summary["plans"] == {"approved": 7, "draft": 1}
    assert summary["evaluations"]["annual"] == {"countersigned": 7}
    assert summary["evaluations"]["p1"] == {"rated": 7}
    assert summary["evaluations"]["p2"] == {"open": 7}
    assert sum(summary["annual_predikat"].values()) == 7

    # what people saw: each reminder once, escalations where they were due, nothing twice
    inbox = no_duplicate_notifications(stack)
    assert inbox[STAFF_B[2]]["reminder.skp_submission"] == 4  # d7, d3, d1, overdue
    assert inbox[KASI_B]["escalation.superior"] >= 2  # the two missing SKPs of their staff
    assert inbox[KASI_A]["reminder.rating"] == 3  # period 2: d3, d1, overdue
    hr_mail = Counter(m["template"] for m in stack.hr_mails())
    assert hr_mail["escalation.hr"] >= 2
    assert time.monotonic() - started < 120


class Killed(BaseException):
    """A kill: not an error the flow could catch or Prefect could retry."""


def test_a_flow_killed_mid_stage_restarts_where_the_cycle_stands_and_duplicates_nothing(stack, monkeypatch):
    stack.people.plans(leave_out=tuple(STAFF_B))  # three without an SKP
    original = flows_client.ServiceClient.post
    kill = {"path": "/notifications/api/v1/reminders", "after": 2, "seen": 0}

    def post(self, path, json=None, **kw):
        out = original(self, path, json, **kw)  # the service acted …
        if kill["path"] and path.endswith(kill["path"]):
            kill["seen"] += 1
            if kill["seen"] == kill["after"]:
                raise Killed(f"killed after {path}")  # … and the flow died before it knew
        return out

    monkeypatch.setattr(flows_client.ServiceClient, "post", post)

    # killed in the middle of the first reminder round (batches of one: three tasks)
    with pytest.raises(Killed):
        evaluation_cycle(**stack.flow_params(batch_size=1, until="monitoring:1:self_assessment"))
    d7 = f"cycle{stack.cycle_id}:planning:d7"
    assert len(stack.batch(d7)["items"]) == 2 and stack.state() == "planning"

    # killed right after advancing check-in → self-assessment (the evaluations are already open)
    kill.update(path="/advance", after=2, seen=0)
    with pytest.raises(Killed):
        evaluation_cycle(**stack.flow_params(batch_size=1, until="monitoring:1:supervisor_evaluation"))
    assert stack.state() == "monitoring:1:self_assessment"

    kill["path"] = None
    report, state = run(stack, batch_size=1, until="monitoring:1:supervisor_evaluation")
    assert state.is_completed() and stack.state() == "monitoring:1:supervisor_evaluation"

    # nothing twice: three reminders per planning batch, six evaluations, one notification each
    for suffix in ("d7", "d3", "d1", "overdue"):
        items = stack.batch(f"cycle{stack.cycle_id}:planning:{suffix}")["items"]
        assert sorted(i["recipient_nip"] for i in items) == sorted(STAFF_B)
    evs = wait_for(lambda: stack.evaluations(1), what="periodic evaluations")
    assert sorted(e["employee_nip"] for e in evs) == sorted([HEAD, KASI_A, KASI_B, *STAFF_A])
    assert len(stack.all(f"{P}/plans", cycle_id=stack.cycle_id)) == 6
    inbox = no_duplicate_notifications(stack)
    for nip in STAFF_B:
        assert inbox[nip]["reminder.skp_submission"] == 4
    assert inbox[KASI_B]["escalation.superior"] == 3
    hr_mail = Counter(m["template"] for m in stack.hr_mails())
    assert hr_mail["escalation.hr"] == 3, hr_mail  # one HR escalation per missing SKP
