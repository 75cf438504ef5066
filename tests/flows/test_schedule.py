"""When stages are due and which reminder is due (pure rules), and the injectable clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from flows import schedule as sch
from flows.clock import ClockError, RealClock, SettableClock, SimulatedClock, get_clock, set_clock

UTC = timezone.utc
CYCLE = {
    "id": 1,
    "year": 2026,
    "planning_deadline": None,
    "periods": [
        {"seq": 1, "name_id": "Triwulan I", "start": "2026-01-01", "end": "2026-03-31", "deadline": "2026-04-05"},
        {"seq": 2, "name_id": "Triwulan II", "start": "2026-04-01", "end": "2026-06-30", "deadline": "2026-07-05"},
    ],
}


def test_a_deadline_date_ends_at_its_last_second_in_jakarta():
    assert sch.end_of_day("2026-01-31") == datetime(2026, 1, 31, 16, 59, 59, tzinfo=UTC)
    assert sch.local_date(datetime(2026, 1, 31, 17, 0, tzinfo=UTC)) == date(2026, 2, 1)


def test_stage_deadlines_come_from_the_cycle():
    assert sch.planning_due(CYCLE) == sch.end_of_day("2026-01-31")  # no planning deadline: start + 30 days
    assert sch.planning_due({**CYCLE, "planning_deadline": "2026-02-15"}) == sch.end_of_day("2026-02-15")
    p1 = sch.period(CYCLE, 1)
    assert sch.check_in_ends(p1) == sch.end_of_day("2026-03-31")
    assert sch.self_assessment_due(p1) == sch.end_of_day("2026-04-02")  # halfway to the 5-day deadline
    assert sch.rating_due(p1) == sch.end_of_day("2026-04-05")
    assert sch.window_due(datetime(2027, 1, 7, 1, 0, tzinfo=UTC), 14) == sch.end_of_day("2027-01-21")
    with pytest.raises(ValueError):
        sch.period(CYCLE, 3)


def test_the_objection_window_runs_from_the_later_of_opening_and_last_acknowledgement():
    opened = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
    assert sch.objection_window_end(opened, None, 14) == sch.end_of_day("2027-01-24")
    assert sch.objection_window_end(opened, opened + timedelta(days=3), 14) == sch.end_of_day("2027-01-27")
    assert sch.objection_window_end(opened, opened - timedelta(days=3), 14) == sch.end_of_day("2027-01-24")


def test_the_reminder_due_is_the_latest_threshold_passed_and_none_after_the_deadline():
    due = sch.end_of_day("2026-01-31")
    days = [7, 3, 1]
    assert sch.reminder_due(due - timedelta(days=8), due, days) is None
    assert sch.reminder_due(due - timedelta(days=7), due, days) == 7
    assert sch.reminder_due(due - timedelta(days=2), due, days) == 3  # 7 passed unnoticed: not sent late
    assert sch.reminder_due(due - timedelta(hours=1), due, days) == 1
    assert sch.reminder_due(due, due, days) is None
    assert sch.reminder_due(due - timedelta(days=1), due, [0, -2]) is None


def test_the_next_moment_walks_reminders_deadline_and_grace_then_none():
    due, grace = sch.end_of_day("2026-01-31"), timedelta(hours=48)
    start = due - timedelta(days=10)
    moments, now = [], start
    while (now := sch.next_moment(now, due, [7, 3, 1], grace)) is not None:
        moments.append(now)
    assert moments == [due - timedelta(days=7), due - timedelta(days=3), due - timedelta(days=1), due, due + grace]
    assert sch.next_moment(due, due, [7, 3, 1]) is None


def test_state_labels_parse():
    assert sch.parse_state("monitoring:2:self_assessment") == ("monitoring", 2, "self_assessment")
    assert sch.parse_state("planning") == ("planning", None, None)
    for bad in ("", "monitoring", "monitoring:x:check_in", "monitoring:1:rating", "a:b", "sign-off"):
        with pytest.raises(ValueError):
            sch.parse_state(bad)


def test_the_real_clock_never_waits_it_tells_whether_the_moment_came():
    clock = RealClock()
    now = clock.now()
    assert now.tzinfo is not None
    assert clock.wait_until(now - timedelta(seconds=1)) is True
    assert clock.wait_until(now + timedelta(days=1)) is False


def test_the_simulated_clock_moves_forward_to_the_moment_and_never_back():
    source = SettableClock(datetime(2026, 1, 5, tzinfo=UTC))
    clock = SimulatedClock(source)
    assert clock.wait_until(datetime(2026, 3, 1, tzinfo=UTC)) is True
    assert source() == datetime(2026, 3, 1, tzinfo=UTC)
    assert clock.wait_until(datetime(2026, 2, 1, tzinfo=UTC)) is True
    assert clock.now() == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.wait_until(datetime(2026, 4, 1))  # naive


def test_the_flow_parameter_names_the_clock():
    set_clock(None)
    assert get_clock("real").name == "real"
    with pytest.raises(ClockError, match="set_clock"):
        get_clock("simulated")
    with pytest.raises(ClockError):
        get_clock("sundial")
    source = SettableClock(datetime(2026, 1, 5, tzinfo=UTC))
    set_clock(source)
    try:
        assert get_clock("simulated").now() == datetime(2026, 1, 5, tzinfo=UTC)
    finally:
        set_clock(None)
    with pytest.raises(ClockError):
        set_clock(lambda: None)  # no set(): cannot be moved
