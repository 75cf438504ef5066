"""When each stage of a cycle is due, and which reminder is due now: pure functions of the cycle
(as ``GET /plans/api/v1/cycles/{id}`` shows it) and a time. No I/O, no clock: the flows pass
``now``.

Deadlines are dates in Asia/Jakarta (the cycle's fill-in deadlines, ``planning_deadline``); a
date's moment is its last second, 23:59:59 WIB, so "by 31 January" means what it says.

| state | due | complete when | late |
|---|---|---|---|
| ``planning`` | ``planning_deadline`` (else the first period's start + 30 days) | every employee in scope has an approved SKP | escalate (superior, then HR after 48 h), then close planning and report missing plans |
| ``monitoring:k:check_in`` | the period's last day | — (the period's work is being done) | move to self-assessment |
| ``monitoring:k:self_assessment`` | halfway between the period's end and its deadline | every evaluation self-assessed | escalate to the superior (penilai), move to rating |
| ``monitoring:k:supervisor_evaluation`` | the period's deadline | every evaluation rated | escalate (superior, then HR), calibration check, next period |
| ``annual_evaluation`` | ``ANNUAL_DAYS`` after the stage opened | every annual evaluation rated | escalate; **waits**: an unrated annual evaluation could never be rated later |
| ``calibration`` | — | no unit breaks the curve without an HR override, every unit has its organisation result | **waits**: HR decides, the flow never overrides |
| ``sign_off`` | ``SIGN_OFF_DAYS`` after the stage opened | every annual evaluation countersigned | escalate, then open objections (signing goes on there) |
| ``objections`` | ``OBJECTION_DAYS`` after the stage opened or the last acknowledgement, whichever is later | the window passed, every objection decided, every evaluation countersigned | **waits** and reports |
"""  # noqa: E501 (the table above)

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = [
    "ANNUAL_DAYS",
    "GRACE",
    "JAKARTA",
    "OBJECTION_DAYS",
    "SIGN_OFF_DAYS",
    "STALE_AFTER",
    "is_stale",
    "check_in_ends",
    "end_of_day",
    "local_date",
    "next_moment",
    "objection_window_end",
    "period",
    "planning_due",
    "rating_due",
    "reminder_due",
    "self_assessment_due",
    "window_due",
    "parse_state",
]

JAKARTA = ZoneInfo("Asia/Jakarta")
#: The plans service's stage machine, as its API names it (the flows do not import the service).
STAGES = ("draft", "planning", "monitoring", "annual_evaluation", "calibration", "sign_off", "objections", "closed")
PHASES = ("check_in", "self_assessment", "supervisor_evaluation")


def _days(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


#: Between the escalation to the superior (at the deadline) and the one to HR; also the grace
#: after a deadline before the flow closes a stage that may close incomplete. Sent to the
#: notifications service as the batch's ``hr_after_hours`` so both sides agree.
GRACE = timedelta(hours=_days("KINERJA_FLOW_GRACE_HOURS", 48))
ANNUAL_DAYS = _days("KINERJA_FLOW_ANNUAL_DAYS", 14)  # self-assessment and rating of the annual evaluation
SIGN_OFF_DAYS = _days("KINERJA_FLOW_SIGN_OFF_DAYS", 7)  # sign, acknowledge, countersign
OBJECTION_DAYS = _days("REVIEWS_OBJECTION_DAYS", 14)  # PP 30/2019 Pasal 59 (the reviews service's setting)
#: With the real clock, a deadline that passed longer ago than this is *stale*: a cycle opened late
#: or a flow that did not run for weeks. Nobody could have met it, so the flow neither escalates
#: it nor closes its stage on its own; it warns, and HR decides (``kinerja hr cycle advance``).
STALE_AFTER = timedelta(days=_days("KINERJA_FLOW_STALE_DAYS", 7))


def as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def as_datetime(value: str | datetime) -> datetime:
    t = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc)


def end_of_day(day: str | date) -> datetime:
    """The last second of ``day`` in Jakarta, in UTC."""
    return datetime.combine(as_date(day), time(23, 59, 59), JAKARTA).astimezone(timezone.utc)


def local_date(when: datetime) -> date:
    return when.astimezone(JAKARTA).date()


def parse_state(label: str) -> tuple[str, int | None, str | None]:
    """``"monitoring:2:self_assessment"`` → ``("monitoring", 2, "self_assessment")``; ``"planning"``
    → ``("planning", None, None)``."""
    parts = label.split(":")
    if parts[0] == "monitoring" and len(parts) == 3 and parts[1].isdigit() and parts[2] in PHASES:
        return "monitoring", int(parts[1]), parts[2]
    if len(parts) == 1 and parts[0] in STAGES and parts[0] != "monitoring":
        return parts[0], None, None
    raise ValueError(
        f"not a cycle state: {label!r} (stages: {', '.join(STAGES)}; in monitoring "
        f"'monitoring:<period>:<{'|'.join(PHASES)}>')"
    )


def period(cycle: dict, seq: int) -> dict:
    for p in cycle["periods"]:
        if p["seq"] == seq:
            return p
    raise ValueError(f"cycle {cycle.get('id')} has no period {seq}")


def planning_due(cycle: dict) -> datetime:
    if cycle.get("planning_deadline"):
        return end_of_day(cycle["planning_deadline"])
    first = min(cycle["periods"], key=lambda p: p["seq"])
    return end_of_day(as_date(first["start"]) + timedelta(days=30))


def check_in_ends(p: dict) -> datetime:
    return end_of_day(p["end"])


def self_assessment_due(p: dict) -> datetime:
    end, deadline = as_date(p["end"]), as_date(p["deadline"])
    return end_of_day(end + timedelta(days=max(0, (deadline - end).days // 2)))


def rating_due(p: dict) -> datetime:
    return end_of_day(p["deadline"])


def window_due(opened_at: datetime, days: int) -> datetime:
    """``days`` after the day a stage opened (Jakarta), at that day's end."""
    return end_of_day(local_date(opened_at) + timedelta(days=days))


def objection_window_end(
    opened_at: datetime, last_acknowledged: datetime | None, days: int = OBJECTION_DAYS
) -> datetime:
    start = max(opened_at, last_acknowledged) if last_acknowledged else opened_at
    return window_due(start, days)


def is_stale(now: datetime, due: datetime, grace: timedelta | None = None) -> bool:
    """Whether ``due`` (plus the stage's grace) passed more than :data:`STALE_AFTER` before ``now``."""
    return now > due + (grace or timedelta(0)) + STALE_AFTER


def reminder_due(now: datetime, due: datetime, days: list[int]) -> int | None:
    """The reminder to send at ``now``: the smallest ``d`` of ``days`` whose moment (``d`` days
    before ``due``) has come, while ``due`` has not. Earlier reminders whose moment passed
    unnoticed (the flow did not run then) are not sent late: one reminder, the current one."""
    if now >= due:
        return None
    passed = [d for d in days if d > 0 and now >= due - timedelta(days=d)]
    return min(passed) if passed else None


def next_moment(now: datetime, due: datetime, days: list[int], grace: timedelta | None = None) -> datetime | None:
    """The next time after ``now`` the stage has something to do: a reminder, the deadline (first
    escalation), the end of the grace (HR escalation, closing); ``None`` when all have passed."""
    moments = {due - timedelta(days=d) for d in days if d > 0} | {due}
    if grace:
        moments.add(due + grace)
    later = sorted(m for m in moments if m > now)
    return later[0] if later else None
