"""The follow-up's rule book (issue 15): every (status, asked status) pair against the table, and the
field checks of a follow-up as an update would leave it."""

from __future__ import annotations

from datetime import date

import pytest

from services.reviews.domain import FOLLOWUP_STATUSES, InvalidTransition, check_followup, followup_transition

ALLOWED = {
    ("planned", "in_progress"),
    ("planned", "completed"),
    ("planned", "cancelled"),
    ("in_progress", "completed"),
    ("in_progress", "cancelled"),
}
TODAY = date(2026, 7, 1)


@pytest.mark.parametrize("status", FOLLOWUP_STATUSES)
@pytest.mark.parametrize("to", FOLLOWUP_STATUSES)
def test_every_transition_against_the_table(status, to):
    if status == to or (status, to) in ALLOWED:
        assert followup_transition(status, to) == to
    else:
        with pytest.raises(InvalidTransition) as exc:
            followup_transition(status, to)
        assert exc.value.code == "followup.transition" and exc.value.params == {"status": status, "action": to}


def test_an_unknown_status_is_no_transition():
    with pytest.raises(InvalidTransition):
        followup_transition("planned", "done")
    with pytest.raises(InvalidTransition):
        followup_transition("done", "done")


def _errors(after, before=None):
    base = {"status": "planned", "due_date": date(2026, 9, 1), "completion_note": None, "cancel_reason": None}
    before = base | (before or {})
    return {(f, c) for f, c, _ in check_followup(before, before | after, TODAY)}


def test_field_checks():
    assert _errors({}) == set()
    assert _errors({"status": "completed"}) == {("completion_note", "followup.completion_note_required")}
    assert _errors({"status": "completed", "completion_note": " x "}) == set()
    assert _errors({"status": "completed", "completion_note": "x", "completed_at": TODAY}) == set()
    assert _errors({"status": "completed", "completion_note": "x", "completed_at": date(2026, 7, 2)}) == {
        ("completed_at", "followup.completed_in_future")
    }
    assert _errors({"completed_at": TODAY}) == {("completed_at", "followup.completed_at_unexpected")}
    assert _errors({"status": "cancelled"}) == {("cancel_reason", "followup.cancel_reason_required")}
    assert _errors({"cancel_reason": "x"}) == {("cancel_reason", "followup.cancel_reason_unexpected")}
    # a due date newly set in the past on an open follow-up; today is fine, an overdue one kept is fine
    assert _errors({"due_date": date(2026, 6, 30)}) == {("due_date", "followup.due_in_past")}
    assert _errors({"due_date": date(2026, 6, 30), "status": "in_progress"}) == {("due_date", "followup.due_in_past")}
    assert _errors({"due_date": TODAY}) == set()
    assert _errors({"status": "in_progress"}, before={"due_date": date(2026, 1, 1)}) == set()
    assert _errors({"due_date": date(2026, 6, 30), "status": "completed", "completion_note": "x"}) == set()
