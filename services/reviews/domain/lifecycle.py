"""The lifecycles (DOMAIN.md §6–7): evaluations, objections within 14 days, follow-up.

Part of the reviews rule book (:mod:`services.reviews.domain`): pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.common.rules import DomainError

from .ratings import BERAKHLAK, InvalidTransition, ObjectionWindowClosed, _predikat, _rating

# --------------------------------------------------------------------------- evaluation lifecycle (DOMAIN.md §6)

EVALUATION_STATUSES = ("open", "self_assessed", "rated", "signed", "acknowledged", "countersigned")
EVALUATION_ACTIONS = ("self_assess", "rate", "sign", "acknowledge", "countersign")

_EVALUATION_TRANSITIONS: dict[tuple[str, str], str] = {
    ("open", "self_assess"): "self_assessed",
    ("open", "rate"): "rated",
    ("self_assessed", "rate"): "rated",
    ("rated", "rate"): "rated",
    ("rated", "sign"): "signed",
    ("signed", "acknowledge"): "acknowledged",
    ("acknowledged", "countersign"): "countersigned",
}
_FROZEN = frozenset({"signed", "acknowledged", "countersigned"})


def evaluation_transition(status: str, action: str) -> str:
    """The evaluation status after ``action`` (DOMAIN.md §6 sign-off chain): the employee
    self-assesses (open → self_assessed); the penilai rates (open, self_assessed or rated
    → rated — re-rating is allowed until signed) and signs (rated → signed); the employee
    acknowledges receipt (signed → acknowledged); the atasan penilai countersigns
    (acknowledged → countersigned). Anything else raises
    ``InvalidTransition("evaluation.transition", status=status, action=action)``."""
    try:
        return _EVALUATION_TRANSITIONS[(status, action)]
    except (KeyError, TypeError):
        raise InvalidTransition("evaluation.transition", status=status, action=action) from None


def frozen(status: str) -> bool:
    """Whether the evaluation's content can no longer change: from ``signed`` on. An
    unknown status is a ``ValueError`` (never silently editable)."""
    if status not in EVALUATION_STATUSES:
        raise ValueError(f"unknown evaluation status {status!r}")
    return status in _FROZEN


def require_self_assessment_first(status: str, demanded: bool) -> None:
    """When the cycle demands a self-assessment before the penilai rates, refuse to rate
    an evaluation still ``open``: ``DomainError("evaluation.self_assessment_required")``."""
    if demanded and status == "open":
        raise DomainError("evaluation.self_assessment_required", status=status)


# ------------------------------------------------------------- objections (DOMAIN.md §6, PP 30/2019 Pasal 59)

#: Days after receiving the result within which the employee may object.
OBJECTION_DAYS = 14


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def objection_closes_on(acknowledged_on: date, days: int = OBJECTION_DAYS) -> date:
    """The last day an objection may be filed: ``acknowledged_on`` + ``days`` (filing on
    that day is still allowed). Day 0 is the day the employee acknowledged receipt."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(f"days must be a non-negative int, got {days!r}")
    return _day(acknowledged_on) + timedelta(days=days)


def check_objection_window(acknowledged_on: date, today: date, days: int = OBJECTION_DAYS) -> None:
    """Refuse an objection outside the window: before the result was received →
    ``DomainError("objection.before_acknowledgement")``; from day ``days`` + 1 on →
    ``ObjectionWindowClosed("objection.window_closed", closed_on=<last allowed day,
    ISO>)``."""
    closes_on = objection_closes_on(acknowledged_on, days)
    today = _day(today)
    if today < _day(acknowledged_on):
        raise DomainError("objection.before_acknowledgement", acknowledged_on=_day(acknowledged_on).isoformat())
    if today > closes_on:
        raise ObjectionWindowClosed("objection.window_closed", closed_on=closes_on.isoformat())


OBJECTION_STATUSES = ("filed", "under_review", "decided")
OBJECTION_ACTIONS = ("review", "statement", "decide")
#: The atasan penilai's final decision: the result stands, or is changed.
DECISIONS = ("upheld", "changed")

_OBJECTION_TRANSITIONS: dict[tuple[str, str], str] = {
    ("filed", "review"): "under_review",
    ("filed", "statement"): "under_review",
    ("under_review", "statement"): "under_review",
    ("filed", "decide"): "decided",
    ("under_review", "decide"): "decided",
}


def objection_transition(status: str, action: str) -> str:
    """The objection status after ``action``: the atasan penilai takes it up (``review``:
    filed → under_review), hears a side (``statement``: filed or under_review →
    under_review) and decides (``decide``: filed or under_review → decided). The decision
    is final. Anything else raises ``InvalidTransition("objection.transition",
    status=status, action=action)``."""
    try:
        return _OBJECTION_TRANSITIONS[(status, action)]
    except (KeyError, TypeError):
        raise InvalidTransition("objection.transition", status=status, action=action) from None


# --------------------------------------------------------------------------- follow-up (DOMAIN.md §7)


@dataclass(frozen=True)
class FollowUp:
    """What follows the predikat: ``recognition``, ``development`` or ``none``. For
    development, the IKI ids and BerAKHLAK values rated below expectations that the
    training or coaching is tied to; empty for the other kinds."""

    kind: str
    below_iki: tuple[str, ...]
    below_values: tuple[str, ...]


def follow_up(predikat: str, iki_levels: Mapping[str, str | None], value_levels: Mapping[str, str | None]) -> FollowUp:
    """The follow-up of a predikat (DOMAIN.md §7): Sangat Baik → ``recognition``;
    Butuh Perbaikan, Kurang/Misconduct, Sangat Kurang → ``development`` naming the IKI
    (in the given order) and values (in BerAKHLAK order) rated below; Baik → ``none``.
    Unknown predikat → ``DomainError("predikat.invalid")``; a level outside
    :data:`RATINGS` (None is fine: not rated) → ``DomainError("rating.invalid")``; a value
    outside :data:`BERAKHLAK` → ``DomainError("behaviour.unknown_value")``."""
    _predikat(predikat)
    for iki_id, level in iki_levels.items():
        if level is not None:
            _rating(level, f"iki.{iki_id}")
    for value, level in value_levels.items():
        if value not in BERAKHLAK:
            raise DomainError("behaviour.unknown_value", field=f"behaviour.{value}", value=value)
        if level is not None:
            _rating(level, f"behaviour.{value}")
    if predikat == "SANGAT_BAIK":
        return FollowUp("recognition", (), ())
    if predikat == "BAIK":
        return FollowUp("none", (), ())
    below_iki = tuple(iki_id for iki_id, level in iki_levels.items() if level == "below")
    below_values = tuple(value for value in BERAKHLAK if value_levels.get(value) == "below")
    return FollowUp("development", below_iki, below_values)


#: A follow-up's progress: planned → in_progress → completed, or cancelled (with a reason) before it is
#: completed; completed and cancelled are final.
FOLLOWUP_STATUSES = ("planned", "in_progress", "completed", "cancelled")
FOLLOWUP_OPEN = ("planned", "in_progress")

_FOLLOWUP_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("planned", "in_progress"),
        ("planned", "completed"),  # e.g. a recognition given at once
        ("planned", "cancelled"),
        ("in_progress", "completed"),
        ("in_progress", "cancelled"),
    }
)


def followup_transition(status: str, to: str) -> str:
    """The follow-up status after asking for ``to`` (the same status is no change). Anything the
    table does not allow — leaving completed or cancelled, going back to planned — raises
    ``InvalidTransition("followup.transition", status=status, action=to)`` (HTTP 409)."""
    if to == status and to in FOLLOWUP_STATUSES:
        return to
    if (status, to) not in _FOLLOWUP_TRANSITIONS:
        raise InvalidTransition("followup.transition", status=status, action=to)
    return to


def check_followup(before: Mapping, after: Mapping, today: date) -> list[tuple[str, str, dict]]:
    """The field errors of a follow-up as it would be after an update (``before`` as stored; both
    with ``status``, ``due_date``, ``completion_note``, ``cancel_reason``, ``completed_at``;
    ``today`` the agency's date): a completion names what was done (``completion_note``) and is not
    dated in the future; a cancellation gives its reason; a reason or completion date belongs only to
    a cancelled or completed one; a due date newly set on an open follow-up is not in the past.
    Returns ``(field, code, params)`` triples, empty when all is well."""
    errors: list[tuple[str, str, dict]] = []
    status = after["status"]
    if status == "completed" and not (after.get("completion_note") or "").strip():
        errors.append(("completion_note", "followup.completion_note_required", {}))
    if status == "cancelled" and not (after.get("cancel_reason") or "").strip():
        errors.append(("cancel_reason", "followup.cancel_reason_required", {}))
    if status != "cancelled" and (after.get("cancel_reason") or "").strip():
        errors.append(("cancel_reason", "followup.cancel_reason_unexpected", {}))
    done_on = after.get("completed_at")
    if done_on is not None and status != "completed":
        errors.append(("completed_at", "followup.completed_at_unexpected", {}))
    elif done_on is not None and done_on > today:
        errors.append(("completed_at", "followup.completed_in_future", {"today": today.isoformat()}))
    due = after.get("due_date")
    if status in FOLLOWUP_OPEN and due is not None and due != before.get("due_date") and due < today:
        errors.append(("due_date", "followup.due_in_past", {"today": today.isoformat()}))
    return errors
