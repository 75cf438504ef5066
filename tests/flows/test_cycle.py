"""``evaluation_cycle`` as plain functions (``.fn``) against the real services over HTTP: reminders
are sent once however often the flow runs, escalation goes to the superior and then to HR, an
advance someone else made first is read and followed, a service that is down fails clearly."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

import flows.cycle_tasks as fc
from flows import schedule as sch
from flows.client import ServiceError
from flows.cycle import evaluation_cycle, reminder_sweep
from tests.flows.support import HR_EMAIL, KASI_B, STAFF_B, SUPERIOR, P, wait_for

PLANNING_DUE = sch.end_of_day("2026-01-31")  # the seeded cycle has no planning deadline: Jan 1 + 30 days
MISSING = sorted([STAFF_B[1], STAFF_B[2]])  # one never writes an SKP, one leaves it in draft


def key(stack, rest: str) -> str:
    return f"cycle{stack.cycle_id}:{rest}"


def test_planning_reminders_are_sent_once_however_often_the_flow_runs(stack, frozen_real):
    stack.people.plans(leave_out=(STAFF_B[2],), draft=(STAFF_B[1],))
    stack.clock.set(PLANNING_DUE - timedelta(days=5))  # past the 7-day reminder, before the 3-day one
    first = evaluation_cycle.fn(**stack.flow_params(clock="real"))
    assert first["status"] == "waiting" and first["state"] == "planning"
    assert first["reminders"] == {key(stack, "planning:d7"): {"created": 2, "already": 0, "unknown": []}}
    assert first["missing"]["planning"] == {"no_submitted_plan": MISSING}

    second = evaluation_cycle.fn(**stack.flow_params(clock="real"))
    assert second["reminders"] == {key(stack, "planning:d7"): {"created": 0, "already": 2, "unknown": []}}
    for nip in MISSING:
        assert stack.inbox_templates(nip)["reminder.skp_submission"] == 1
    batch = stack.batch(key(stack, "planning:d7"))
    assert sorted(i["recipient_nip"] for i in batch["items"]) == MISSING
    assert batch["deadline"] == "2026-01-31T16:59:59+00:00"

    # the employee in draft submits: the next reminder goes to the other one only
    plan = [p for p in stack.all(f"{P}/plans", cycle_id=stack.cycle_id) if p["employee_nip"] == STAFF_B[1]][0]
    stack.call("POST", f"{P}/plans/{plan['id']}/submit", stack.person(STAFF_B[1]))
    stack.clock.set(PLANNING_DUE - timedelta(days=2))
    third = evaluation_cycle.fn(**stack.flow_params(clock="real"))
    assert third["reminders"] == {key(stack, "planning:d3"): {"created": 1, "already": 0, "unknown": []}}
    assert third["missing"]["planning"] == {"no_submitted_plan": [STAFF_B[2]], "awaiting_approval": [STAFF_B[1]]}
    assert stack.inbox_templates(STAFF_B[1])["reminder.skp_submission"] == 1
    assert stack.inbox_templates(STAFF_B[2])["reminder.skp_submission"] == 2
    assert stack.state() == "planning"


def test_overdue_plans_escalate_to_the_superior_then_to_hr_each_once_then_planning_closes(stack, frozen_real):
    stack.people.plans(leave_out=(STAFF_B[2],), draft=(STAFF_B[1],))
    overdue = key(stack, "planning:overdue")
    stack.clock.set(PLANNING_DUE + timedelta(hours=1))
    at_deadline = evaluation_cycle.fn(**stack.flow_params(clock="real"))
    assert at_deadline["status"] == "waiting" and stack.state() == "planning"  # the grace before HR and closing
    assert at_deadline["escalations"] == {overdue: 2}
    assert stack.inbox_templates(KASI_B)["escalation.superior"] == 2  # their superior, once per person
    assert stack.hr_mails("escalation.hr") == []  # HR only after the grace

    again = evaluation_cycle.fn(**stack.flow_params(clock="real"))  # the same day: nothing new
    assert again["escalations"] == {} and stack.inbox_templates(KASI_B)["escalation.superior"] == 2

    stack.clock.set(PLANNING_DUE + sch.GRACE + timedelta(hours=1))
    after_grace = evaluation_cycle.fn(**stack.flow_params(clock="real", until="monitoring:1:check_in"))
    assert after_grace["escalations"] == {overdue: 2}
    # HR's e-mails about the overdue plans (the stage change also mails HR, whenever the bus delivers it)
    assert len(stack.hr_mails("escalation.hr")) == 2
    items = {i["recipient_nip"]: i["escalations"] for i in stack.batch(overdue)["items"]}
    assert set(items) == set(MISSING)
    for nip, escalations in items.items():
        assert [(e["level"], e["to"]) for e in escalations] == [(1, "superior"), (2, "hr")]
        assert escalations[0]["recipients"] == [SUPERIOR[nip]]
        assert escalations[0]["at"] < escalations[1]["at"]
    # planning closed late: the missing plans are reported, the cycle moved on
    assert after_grace["state"] == "monitoring:1:check_in" and stack.state() == "monitoring:1:check_in"
    assert after_grace["missing"]["planning"] == {"no_submitted_plan": MISSING}
    assert any("planning → monitoring:1:check_in: deadline" in s for s in after_grace["steps"])
    assert stack.inbox_templates(KASI_B)["escalation.superior"] == 2
    assert len(stack.hr_mails("escalation.hr")) == 2


def test_planning_closes_early_when_every_plan_is_approved(stack):
    stack.people.plans()
    report = evaluation_cycle.fn(**stack.flow_params(until="monitoring:1:check_in"))
    assert report["status"] == "stopped" and report["state"] == "monitoring:1:check_in"
    assert report["reminders"] == {} and report["escalations"] == {}
    assert stack.clock() < PLANNING_DUE  # no waiting for the deadline
    assert any("all 9 employees have an approved SKP" in s for s in report["steps"])


def test_an_advance_someone_made_first_is_read_again_and_followed(stack, monkeypatch):
    stack.people.plans()
    original = fc.advance_cycle.fn

    class HrClicksFirst:
        """HR advances the cycle by hand just before the flow's own advance reaches the service."""

        calls = 0

        @staticmethod
        def fn(client, cycle_id, expected):
            HrClicksFirst.calls += 1
            if HrClicksFirst.calls == 1:
                stack.call("POST", f"{P}/cycles/{cycle_id}/advance", stack.hr, {"expected": expected})
            return original(client, cycle_id, expected)

    monkeypatch.setattr(fc, "advance_cycle", HrClicksFirst)
    report = evaluation_cycle.fn(**stack.flow_params(until="monitoring:1:self_assessment"))
    assert report["status"] == "stopped" and stack.state() == "monitoring:1:self_assessment"
    assert any(
        "planning: the cycle is already at monitoring:1:check_in (moved by someone else)" in s for s in report["steps"]
    )
    # it went on from where the cycle stood: check-in closed at the end of the quarter, nothing skipped
    assert any("monitoring:1:check_in → monitoring:1:self_assessment" in s for s in report["steps"])
    assert stack.clock() == sch.end_of_day("2026-03-31")


def test_the_advance_task_returns_where_the_cycle_stands_when_it_was_moved(stack):
    from flows.client import ServiceClient

    with ServiceClient(stack.base_url, stack.hr_token) as client:
        assert fc.advance_cycle.fn(client, stack.cycle_id, "draft") == {"advanced": False, "state": "planning"}
        assert stack.state() == "planning"


def test_a_service_that_is_down_is_retried_then_the_run_fails_clearly(stack):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(ServiceError) as err:
        evaluation_cycle.fn(**stack.flow_params(base_url=f"http://127.0.0.1:{port}"))
    assert err.value.code == "service.unreachable" and err.value.status is None
    assert f"no answer from http://127.0.0.1:{port} after 4 attempt(s)" in str(err.value)
    assert time.monotonic() - started < 10
    assert stack.state() == "planning"


def test_a_run_without_a_token_or_with_a_wrong_until_refuses_to_start(stack, monkeypatch):
    for name in ("KINERJA_TOKEN", "KINERJA_TOKEN_URL", "KINERJA_CLIENT_ID", "KINERJA_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="KINERJA_TOKEN"):
        evaluation_cycle.fn(**stack.flow_params(token=None))
    with pytest.raises(ValueError, match="not a cycle state"):
        evaluation_cycle.fn(**stack.flow_params(until="monitoring:1:rating"))
    monkeypatch.setenv("KINERJA_TOKEN", stack.hr_token)
    report = evaluation_cycle.fn(**stack.flow_params(token=None, until="planning"))
    assert report["status"] == "stopped" and report["summary"]["state"] == "planning"


def test_a_token_that_is_not_hr_fails_with_the_services_answer(stack):
    token = stack.tokens.token("employee", agency="PKMB", nip=STAFF_B[0])
    with pytest.raises(ServiceError) as err:
        evaluation_cycle.fn(**stack.flow_params(token=token))
    assert err.value.status in (403, 404)


def test_the_reminder_sweep_reminds_what_is_due_and_moves_nothing(stack, frozen_real):
    stack.people.plans(leave_out=(STAFF_B[2],))
    stack.clock.set(PLANNING_DUE - timedelta(hours=12))
    out = reminder_sweep.fn(base_url=stack.base_url, token=stack.hr_token)
    report = out["cycles"][stack.cycle_id]
    assert report["reminders"] == {key(stack, "planning:d1"): {"created": 1, "already": 0, "unknown": []}}
    stack.clock.set(PLANNING_DUE + sch.GRACE + timedelta(days=1))
    out = reminder_sweep.fn(base_url=stack.base_url, token=stack.hr_token)
    assert out["cycles"][stack.cycle_id]["escalations"] == {key(stack, "planning:overdue"): 2}  # superior and HR
    assert stack.state() == "planning"  # the daily run closes stages, not the sweep


def test_periods_remind_self_assessment_and_rating_and_check_calibration(stack):
    stack.people.plans()
    report = evaluation_cycle.fn(**stack.flow_params(until="monitoring:2:check_in"))
    assert report["state"] == "monitoring:2:check_in"
    wait_for(lambda: len(stack.evaluations(1)) == 9, what="nine periodic evaluations")
    sa, rating = key(stack, "p1:self_assessment"), key(stack, "p1:rating")
    # the self-assessment window (Apr 1–2) starts after the 7-day mark: the 3- and 1-day reminders
    assert report["reminders"][f"{sa}:d3"]["created"] == 9 and f"{sa}:d7" not in report["reminders"]
    assert report["reminders"][f"{rating}:d3"]["created"] == 3  # the head and the two kasi rate
    # three penilai overdue, each escalated to their superior and then to HR (the head has no superior)
    assert report["escalations"] == {f"{sa}:overdue": 9, f"{rating}:overdue": 6}
    assert "p1" in report["calibration"]
    assert report["missing"]["monitoring:1:supervisor_evaluation"]["rating_by_hr"] == [stack.people.s.org.HEAD]
    assert {e["status"] for e in stack.evaluations(1)} == {"open"}
    assert stack.inbox_templates(KASI_B)["reminder.rating"] == 3  # d3, d1, overdue
    assert stack.batch(f"{rating}:d3")["items"][0]["escalation_level"] == 0
    assert HR_EMAIL in {m["target"] for m in stack.hr_mails()}


def test_with_the_real_clock_a_deadline_long_past_is_reported_not_escalated_or_closed(stack, frozen_real):
    """A cycle opened late (or a flow that did not run for weeks): nobody could have met the
    deadline, so the run warns and leaves the stage to HR instead of escalating and sweeping on."""
    stack.people.plans(leave_out=(STAFF_B[2],), draft=(STAFF_B[1],))
    stack.clock.set(PLANNING_DUE + sch.GRACE + sch.STALE_AFTER + timedelta(days=1))
    out = evaluation_cycle.fn(**stack.flow_params(clock="real"))
    assert out["status"] == "blocked" and out["state"] == "planning" and stack.state() == "planning"
    assert out["escalations"] == {} and out["reminders"] == {}
    assert stack.inbox_templates(KASI_B)["escalation.superior"] == 0 and stack.hr_mails("escalation.hr") == []
    assert any("passed more than" in w and "no reminder or escalation" in w for w in out["warnings"]), out["warnings"]
    assert f"kinerja hr cycle advance {stack.cycle_id} --expected planning" in out["detail"]
    # HR moves it on by hand; the simulated clock (demo, tests) is never held back by this rule
    stack.call("POST", f"{P}/cycles/{stack.cycle_id}/advance", stack.hr, {"expected": "planning"})
    assert stack.state() == "monitoring:1:check_in"


def test_within_the_stale_window_the_real_clock_still_escalates_and_closes(stack, frozen_real):
    stack.people.plans(leave_out=(STAFF_B[2],))
    stack.clock.set(PLANNING_DUE + sch.GRACE + sch.STALE_AFTER - timedelta(hours=1))
    out = evaluation_cycle.fn(**stack.flow_params(clock="real", until="monitoring:1:check_in"))
    assert out["escalations"] == {key(stack, "planning:overdue"): 2} and out["warnings"] == []
    assert stack.state() == "monitoring:1:check_in"
