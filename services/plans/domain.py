"""The plans service's rule book: NIP, cycle periods and stages, the SKP plan, cascading.

Pure functions and small value classes only — no Flask, no SQLAlchemy, no I/O and no
clock calls: every date is a parameter. Section references (``DOMAIN.md §n``) point to
``/work/shared/DOMAIN.md``; the cycle is ``DESIGN.md §4``.

Errors carry *message-catalogue keys* (``"nip.length"``-style codes), a field name and
parameters, never user-facing prose: the API layer translates them (DESIGN.md §7).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from numbers import Real

from services.common.rules import MONTHS, DomainError  # noqa: F401 (DomainError: the rule book's error, re-exported)

__all__ = [
    "ACTIONS",
    "ALLOWED",
    "ALLOWED_PHASES",
    "APPROACHES",
    "ASPECTS",
    "BERAKHLAK",
    "Coverage",
    "CycleState",
    "DomainError",
    "InvalidNip",
    "InvalidTransition",
    "LOWER_IS_BETTER",
    "MAX_EXPECTATION",
    "NipInfo",
    "PERIOD_COUNTS",
    "PERIOD_TYPES",
    "PHASES",
    "PLAN_ACTIONS",
    "PLAN_STATUSES",
    "PeriodSpec",
    "RHK_KINDS",
    "STAGES",
    "StageConflict",
    "allowed",
    "cascade_coverage",
    "creates_reporting_cycle",
    "editable",
    "guard",
    "is_in_reporting_line",
    "is_valid_nip",
    "make_periods",
    "missing_expectations",
    "next_state",
    "parse_nip",
    "parse_state_label",
    "plan_transition",
    "state_label",
    "validate_expectations",
    "validate_for_submit",
    "validate_plan_content",
]


# --------------------------------------------------------------------------- errors


class InvalidNip(DomainError):
    """The NIP is malformed or implausible (always ``field='nip'``)."""


class StageConflict(DomainError):
    """The cycle's current stage does not allow the action (HTTP 409).
    ``params``: ``stage`` (the state label) and ``action``."""


class InvalidTransition(DomainError):
    """The plan's status does not allow the action (HTTP 409).
    ``params``: ``status`` and ``action``."""


# --------------------------------------------------------------------------- NIP (DOMAIN.md §2)

_NIP_RE = re.compile(r"[0-9]{18}")  # ASCII only: ``\d`` would accept other scripts' digits
MIN_BIRTH_YEAR = 1940
MIN_APPOINTMENT_YEAR = 1960
MIN_APPOINTMENT_AGE = 17
_SEXES = {"1": "male", "2": "female"}


@dataclass(frozen=True)
class NipInfo:
    """What an 18-digit NIP encodes."""

    birth_date: date
    appointment_year: int  # TMT CPNS
    appointment_month: int
    sex: str  # 'male' | 'female'
    sequence: int  # 1..999


def parse_nip(nip: str, today: date | None = None) -> NipInfo:
    """Parse and validate a NIP (DOMAIN.md §2): ``YYYYMMDD`` birth date, ``YYYYMM``
    appointment (TMT CPNS), sex digit (1 male, 2 female), 3-digit sequence.

    Surrounding whitespace is ignored; anything else than exactly 18 ASCII digits is
    ``nip.format``. Checks run left to right, the first failure wins:
    ``nip.birth_date`` (not a calendar date, or before 1940), ``nip.appointment``
    (month not 1..12, or year before 1960), ``nip.appointment_before_birth``
    (appointed before the month the person turned 17), ``nip.future`` (birth date or
    appointment month after ``today``; only when ``today`` is given), ``nip.sex``,
    ``nip.sequence`` (000). Raises :class:`InvalidNip` with ``field='nip'``.
    """
    if not isinstance(nip, str):
        raise InvalidNip("nip.format", field="nip")
    value = nip.strip()
    if not _NIP_RE.fullmatch(value):
        raise InvalidNip("nip.format", field="nip")

    try:
        birth = date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise InvalidNip("nip.birth_date", field="nip") from None
    if birth.year < MIN_BIRTH_YEAR:
        raise InvalidNip("nip.birth_date", field="nip")

    appointment_year, appointment_month = int(value[8:12]), int(value[12:14])
    if not 1 <= appointment_month <= 12 or appointment_year < MIN_APPOINTMENT_YEAR:
        raise InvalidNip("nip.appointment", field="nip")
    if (appointment_year, appointment_month) < (birth.year + MIN_APPOINTMENT_AGE, birth.month):
        raise InvalidNip("nip.appointment_before_birth", field="nip")

    if today is not None:
        if isinstance(today, datetime):
            today = today.date()
        # A future birth date implies a future appointment (17 years later); both are
        # named so the rule reads as the regulation states it.
        if birth > today or (appointment_year, appointment_month) > (today.year, today.month):
            raise InvalidNip("nip.future", field="nip")

    sex = _SEXES.get(value[14])
    if sex is None:
        raise InvalidNip("nip.sex", field="nip")
    sequence = int(value[15:18])
    if sequence == 0:
        raise InvalidNip("nip.sequence", field="nip")
    return NipInfo(birth, appointment_year, appointment_month, sex, sequence)


def is_valid_nip(nip, today: date | None = None) -> bool:
    """True when :func:`parse_nip` accepts ``nip``."""
    try:
        parse_nip(nip, today)
    except InvalidNip:
        return False
    return True


# --------------------------------------------------------------------------- vocabularies (DOMAIN.md §3)

#: The seven BerAKHLAK core values, in the regulation's order.
BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
#: IKI aspects; at most one IKI per aspect within an RHK.
ASPECTS = ("kuantitas", "kualitas", "waktu", "biaya")
#: Aspects where a realisation below target is the better result (DOMAIN.md §4).
LOWER_IS_BETTER = frozenset({"waktu", "biaya"})
RHK_KINDS = ("utama", "tambahan")
APPROACHES = ("kuantitatif", "kualitatif")


# --------------------------------------------------------------------------- periods (DOMAIN.md §6)

PERIOD_TYPES = ("monthly", "quarterly", "semester")
#: Number of periodic evaluations in a cycle of each type.
PERIOD_COUNTS = {"monthly": 12, "quarterly": 4, "semester": 2}

_QUARTERS_ID = ("Triwulan I", "Triwulan II", "Triwulan III", "Triwulan IV-Akhir")
_QUARTERS_EN = ("Quarter I", "Quarter II", "Quarter III", "Quarter IV (final)")
_SEMESTERS = ("Semester I", "Semester II")


@dataclass(frozen=True)
class PeriodSpec:
    """One periodic evaluation of a cycle: names in both languages, first and last day,
    and the fill-in deadline (batas pengisian)."""

    seq: int
    name_id: str
    name_en: str
    start: date
    end: date
    deadline: date


def make_periods(year: int, period_type: str, deadline_days: int = 5) -> list[PeriodSpec]:
    """The periods of a calendar-year cycle (DOMAIN.md §6): 12 months, 4 quarters
    (Triwulan I–III and IV-Akhir, the last doubling as annual) or 2 semesters. Each
    period ends on its last calendar day; its deadline is ``deadline_days`` later.

    Unknown ``period_type`` → ``DomainError("cycle.period_type", field="period_type")``;
    a negative ``deadline_days`` → ``DomainError("cycle.deadline_days", field="deadline_days")``.
    """
    if period_type not in PERIOD_COUNTS:
        raise DomainError("cycle.period_type", field="period_type", period_type=period_type)
    if deadline_days < 0:
        raise DomainError("cycle.deadline_days", field="deadline_days")
    if period_type == "monthly":
        months_per_period, names = 1, list(zip(MONTHS["id"], MONTHS["en"]))
    elif period_type == "quarterly":
        months_per_period, names = 3, list(zip(_QUARTERS_ID, _QUARTERS_EN))
    else:
        months_per_period, names = 6, list(zip(_SEMESTERS, _SEMESTERS))

    periods = []
    for index, (name_id, name_en) in enumerate(names):
        first_month = index * months_per_period + 1
        last_month = first_month + months_per_period - 1
        start = date(year, first_month, 1)
        end = date(year, last_month, calendar.monthrange(year, last_month)[1])
        periods.append(PeriodSpec(index + 1, name_id, name_en, start, end, end + timedelta(days=deadline_days)))
    return periods


# --------------------------------------------------------------------------- cycle stages (DESIGN.md §4)

STAGES = ("draft", "planning", "monitoring", "annual_evaluation", "calibration", "sign_off", "objections", "closed")
PHASES = ("check_in", "self_assessment", "supervisor_evaluation")


@dataclass(frozen=True)
class CycleState:
    """Where a cycle stands. ``period_seq`` (1-based) and ``phase`` are set in the
    ``monitoring`` stage and only there; anything else is a ``ValueError``."""

    stage: str
    period_seq: int | None = None
    phase: str | None = None

    def __post_init__(self):
        if self.stage not in STAGES:
            raise ValueError(f"unknown cycle stage {self.stage!r}")
        if self.stage == "monitoring":
            if not isinstance(self.period_seq, int) or isinstance(self.period_seq, bool) or self.period_seq < 1:
                raise ValueError(f"monitoring needs a period_seq >= 1, got {self.period_seq!r}")
            if self.phase not in PHASES:
                raise ValueError(f"unknown monitoring phase {self.phase!r}")
        elif self.period_seq is not None or self.phase is not None:
            raise ValueError(f"period_seq and phase are only set in monitoring, not in {self.stage!r}")


def next_state(state: CycleState, period_count: int) -> CycleState:
    """The state after ``state`` in a cycle of ``period_count`` periods (DESIGN.md §4):
    draft → planning → monitoring (1, check_in) → each period's phases in order →
    (k+1, check_in) … → after the last period's supervisor evaluation, annual_evaluation
    → calibration → sign_off → objections → closed. Advancing a closed cycle raises
    ``StageConflict("cycle.closed", stage="closed", action="advance")``."""
    if period_count < 1:
        raise ValueError(f"a cycle has at least one period, got {period_count!r}")
    if state.stage == "closed":
        raise StageConflict("cycle.closed", stage="closed", action="advance")
    if state.stage != "monitoring":
        following = STAGES[STAGES.index(state.stage) + 1]
        if following == "monitoring":
            return CycleState("monitoring", 1, PHASES[0])
        return CycleState(following)
    if state.period_seq > period_count:
        raise ValueError(f"period {state.period_seq} is beyond the cycle's {period_count} periods")
    phase_index = PHASES.index(state.phase)
    if phase_index + 1 < len(PHASES):
        return CycleState("monitoring", state.period_seq, PHASES[phase_index + 1])
    if state.period_seq < period_count:
        return CycleState("monitoring", state.period_seq + 1, PHASES[0])
    return CycleState("annual_evaluation")


def state_label(state: CycleState) -> str:
    """A compact text form: ``"planning"``, ``"monitoring:2:self_assessment"``."""
    if state.stage == "monitoring":
        return f"monitoring:{state.period_seq}:{state.phase}"
    return state.stage


def parse_state_label(label: str) -> CycleState:
    """The inverse of :func:`state_label`; ``ValueError`` for anything it cannot produce."""
    parts = label.split(":")
    if parts[0] == "monitoring" and len(parts) == 3 and parts[1].isascii() and parts[1].isdigit():
        return CycleState("monitoring", int(parts[1]), parts[2])
    if len(parts) == 1 and label != "monitoring":
        return CycleState(label)
    raise ValueError(f"not a cycle state label: {label!r}")


_ALL_STAGES = frozenset(STAGES)

#: Which stages allow each action (DESIGN.md §4: every service refuses what the stage
#: does not allow). Plans may still be created, submitted and approved while monitoring
#: runs, because approved plans are revised during the year (DOMAIN.md §3).
ALLOWED: dict[str, frozenset[str]] = {
    "directory.edit": _ALL_STAGES,
    "cycle.edit_periods": frozenset({"draft", "planning"}),
    "plan.create": frozenset({"planning", "monitoring"}),
    "plan.edit": frozenset({"planning", "monitoring"}),
    "plan.submit": frozenset({"planning", "monitoring"}),
    "plan.return": frozenset({"planning", "monitoring"}),
    "plan.approve": frozenset({"planning", "monitoring"}),
    "plan.revise": frozenset({"monitoring", "annual_evaluation"}),
    "realisation.record": frozenset({"monitoring", "annual_evaluation"}),
    "dailylog.write": frozenset({"planning", "monitoring", "annual_evaluation"}),
    "feedback.give": frozenset({"monitoring", "annual_evaluation"}),
    "feedback.reply": frozenset({"monitoring", "annual_evaluation"}),
}

#: Optional narrowing inside ``monitoring``: action → the phases that allow it. An action
#: not listed is allowed in every phase. No plans action is phase-bound today.
ALLOWED_PHASES: dict[str, frozenset[str]] = {}

ACTIONS = frozenset(ALLOWED)


def allowed(state: CycleState, action: str) -> bool:
    """Whether ``action`` may run in ``state``. An unknown action is a programming
    error (``ValueError``), never a silent refusal."""
    if action not in ALLOWED:
        raise ValueError(f"unknown action {action!r}")
    if state.stage not in ALLOWED[action]:
        return False
    if state.stage == "monitoring" and action in ALLOWED_PHASES:
        return state.phase in ALLOWED_PHASES[action]
    return True


def guard(state: CycleState, action: str) -> None:
    """Raise ``StageConflict("stage.not_allowed", stage=<label>, action=action)`` unless
    :func:`allowed`."""
    if not allowed(state, action):
        raise StageConflict("stage.not_allowed", stage=state_label(state), action=action)


# --------------------------------------------------------------------------- SKP plan status (DOMAIN.md §3)

PLAN_STATUSES = ("draft", "submitted", "returned", "approved", "revised")
PLAN_ACTIONS = ("edit", "submit", "return", "approve", "revise")

_EDITABLE = frozenset({"draft", "returned", "revised"})
_PLAN_TRANSITIONS: dict[tuple[str, str], str] = {
    **{(status, "edit"): status for status in _EDITABLE},
    **{(status, "submit"): "submitted" for status in _EDITABLE},
    ("submitted", "return"): "returned",
    ("submitted", "approve"): "approved",
    ("approved", "revise"): "revised",
}


def plan_transition(status: str, action: str) -> str:
    """The plan status after ``action`` (DOMAIN.md §3): draft → submitted → returned
    (edited, resubmitted) or approved → revised (reopened when expectations change) →
    submitted → approved … ``edit`` keeps the status and is allowed only while the plan
    is editable. Anything else raises ``InvalidTransition("plan.transition",
    status=status, action=action)``."""
    try:
        return _PLAN_TRANSITIONS[(status, action)]
    except (KeyError, TypeError):
        raise InvalidTransition("plan.transition", status=status, action=action) from None


def editable(status: str) -> bool:
    """Whether the plan's content may change: draft, returned or revised."""
    return status in _EDITABLE


# --------------------------------------------------------------------------- SKP plan content (DOMAIN.md §3)


def _text(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _positive_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (Real, Decimal)):
        return False
    try:
        return math.isfinite(value) and value > 0
    except (TypeError, ValueError, ArithmeticError):  # e.g. Decimal('sNaN')
        return False


def validate_plan_content(
    approach: str, rhk: list[dict], behaviour: dict[str, str], *, is_head_of_unit: bool = False
) -> list[tuple[str, str]]:
    """Check an SKP's content while it is drafted (DOMAIN.md §3). Returns
    ``(field_path, code)`` pairs in input order; empty when the content is sound.

    - ``approach`` in :data:`APPROACHES` (``("approach", "plan.approach")``);
    - at least one RHK of kind ``utama`` (``("rhk", "rhk.utama_required")``);
    - per RHK ``rhk[i]``: ``kind`` in :data:`RHK_KINDS` (``rhk.kind``), a ``description``
      (``rhk.description``), a cascade link — ``parent_rhk_id``, or for a head of unit
      an ``organisation_goal`` instead (``rhk[i].parent_rhk_id``, ``rhk.cascade_required``),
      at least one IKI (``rhk[i].iki``, ``rhk.iki_required``);
    - per IKI ``rhk[i].iki[j]``: ``aspect`` in :data:`ASPECTS` (``iki.aspect``), not
      repeated within its RHK (``iki.aspect_duplicate`` on the repeat), an ``indicator``
      (``iki.indicator``), and its target: kuantitatif needs ``target_value`` > 0
      (``iki.target_value``) and ``target_unit`` (``iki.target_unit``); kualitatif
      needs ``target_text`` or a complete numeric target (``rhk[i].iki[j].target_text``,
      ``iki.target_required``);
    - ``behaviour`` keys within :data:`BERAKHLAK` (``behaviour.<key>``,
      ``behaviour.unknown_value``); missing expectations are fine while drafting.
    """
    errors: list[tuple[str, str]] = []
    if approach not in APPROACHES:
        errors.append(("approach", "plan.approach"))
    rhk = rhk or []
    if not any(item.get("kind") == "utama" for item in rhk):
        errors.append(("rhk", "rhk.utama_required"))

    for i, item in enumerate(rhk):
        path = f"rhk[{i}]"
        if item.get("kind") not in RHK_KINDS:
            errors.append((f"{path}.kind", "rhk.kind"))
        if not _text(item.get("description")):
            errors.append((f"{path}.description", "rhk.description"))
        cascades = _text(item.get("parent_rhk_id")) or (is_head_of_unit and _text(item.get("organisation_goal")))
        if not cascades:
            errors.append((f"{path}.parent_rhk_id", "rhk.cascade_required"))
        indicators = item.get("iki") or []
        if not indicators:
            errors.append((f"{path}.iki", "rhk.iki_required"))
        seen_aspects: set[str] = set()
        for j, iki in enumerate(indicators):
            errors.extend(_iki_errors(f"{path}.iki[{j}]", iki, approach, seen_aspects))

    for key in behaviour or {}:
        if key not in BERAKHLAK:
            errors.append((f"behaviour.{key}", "behaviour.unknown_value"))
    return errors


def _iki_errors(path: str, iki: Mapping, approach: str, seen_aspects: set[str]) -> list[tuple[str, str]]:
    errors = []
    aspect = iki.get("aspect")
    if aspect not in ASPECTS:
        errors.append((f"{path}.aspect", "iki.aspect"))
    elif aspect in seen_aspects:
        errors.append((f"{path}.aspect", "iki.aspect_duplicate"))
    else:
        seen_aspects.add(aspect)
    if not _text(iki.get("indicator")):
        errors.append((f"{path}.indicator", "iki.indicator"))
    has_value = _positive_number(iki.get("target_value"))
    has_unit = _text(iki.get("target_unit"))
    if approach == "kuantitatif":
        if not has_value:
            errors.append((f"{path}.target_value", "iki.target_value"))
        if not has_unit:
            errors.append((f"{path}.target_unit", "iki.target_unit"))
    elif approach == "kualitatif":
        if not _text(iki.get("target_text")) and not (has_value and has_unit):
            errors.append((f"{path}.target_text", "iki.target_required"))
    return errors


def validate_for_submit(
    approach: str, rhk: list[dict], behaviour: dict[str, str], *, is_head_of_unit: bool = False
) -> list[tuple[str, str]]:
    """What submitting needs: :func:`validate_plan_content`. The behaviour expectations are not the
    employee's to write (ekspektasi khusus pimpinan, DOMAIN.md §3): the penilai writes them, before
    approving — see :func:`missing_expectations`."""
    return validate_plan_content(approach, rhk, behaviour, is_head_of_unit=is_head_of_unit)


#: the longest ekspektasi khusus pimpinan for one value (characters)
MAX_EXPECTATION = 2000


def validate_expectations(behaviour: dict[str, str]) -> list[tuple[str, str]]:
    """The penilai's texts per value: keys within :data:`BERAKHLAK` (``behaviour.unknown_value``), each
    text at most :data:`MAX_EXPECTATION` characters (``behaviour.too_long``); an empty text removes one."""
    errors = []
    for key, text in (behaviour or {}).items():
        if key not in BERAKHLAK:
            errors.append((f"behaviour.{key}", "behaviour.unknown_value"))
        elif isinstance(text, str) and len(text.strip()) > MAX_EXPECTATION:
            errors.append((f"behaviour.{key}", "behaviour.too_long"))
    return errors


def missing_expectations(behaviour: dict[str, str] | None) -> list[tuple[str, str]]:
    """What approving needs besides a submitted SKP: every BerAKHLAK value has its leader's
    expectation (ekspektasi khusus pimpinan, DOMAIN.md §3) —
    ``("behaviour.<value>", "behaviour.expectation_required")`` in BerAKHLAK order."""
    behaviour = behaviour or {}
    return [(f"behaviour.{v}", "behaviour.expectation_required") for v in BERAKHLAK if not _text(behaviour.get(v))]


# --------------------------------------------------------------------------- cascade (DOMAIN.md §3)


@dataclass(frozen=True)
class Coverage:
    """How a superior's RHK are supported by the subordinates' plans."""

    supported: dict[str, list[str]]  # superior RHK id -> sorted NIPs of subordinates supporting it
    unsupported: list[str]  # superior RHK ids nobody supports, in the superior's order
    idle_subordinates: list[str]  # sorted NIPs whose plans support none of the superior's RHK
    ratio: float  # supported / all superior RHK; 0.0 when the superior has none


def cascade_coverage(superior_rhk_ids: list[str], subordinate_links: dict[str, list[str | None]]) -> Coverage:
    """The cascade matrix in numbers (DOMAIN.md §3, "RHK pimpinan yang diintervensi").
    ``subordinate_links`` maps each subordinate NIP to the ``parent_rhk_id`` of each of
    their RHK; links to ids outside ``superior_rhk_ids`` (or None) are ignored. Repeated
    ids and links count once. ``supported`` follows the superior's order."""
    ids = list(dict.fromkeys(superior_rhk_ids))
    supporters: dict[str, set[str]] = {rhk_id: set() for rhk_id in ids}
    idle = []
    for nip, links in subordinate_links.items():
        relevant = {link for link in links or () if link in supporters}
        for link in relevant:
            supporters[link].add(nip)
        if not relevant:
            idle.append(nip)
    supported = {rhk_id: sorted(nips) for rhk_id, nips in supporters.items() if nips}
    unsupported = [rhk_id for rhk_id in ids if not supporters[rhk_id]]
    ratio = len(supported) / len(ids) if ids else 0.0
    return Coverage(supported, unsupported, sorted(idle), ratio)


# --------------------------------------------------------------------------- reporting lines (DOMAIN.md §2)


def creates_reporting_cycle(
    nip: str, new_superior: str | None, superior_of: Callable[[str], str | None], max_depth: int = 100
) -> bool:
    """True if making ``new_superior`` the direct superior of ``nip`` closes a loop
    (including ``new_superior == nip``): walking up from ``new_superior`` reaches ``nip``.

    A loop already present above, not through ``nip``, is not created by this change
    (False). A chain still going after ``max_depth`` lookups is refused (True): a line
    that deep cannot be verified and is certainly wrong."""
    if new_superior is None:
        return False
    current: str | None = new_superior
    seen: set[str] = set()
    for _ in range(max_depth):
        if current is None:
            return False
        if current == nip:
            return True
        if current in seen:
            return False
        seen.add(current)
        current = superior_of(current)
    return current is not None


def is_in_reporting_line(
    supervisor_nip: str, employee_nip: str, superior_of: Callable[[str], str | None], max_depth: int = 50
) -> bool:
    """True if ``supervisor_nip`` is a direct or indirect superior of ``employee_nip``
    within ``max_depth`` levels (DESIGN.md §6: a supervisor sees only their reporting
    line). False for the same person, and when the line loops or runs too deep."""
    if supervisor_nip == employee_nip:
        return False
    current = superior_of(employee_nip)
    seen = {employee_nip}
    for _ in range(max_depth):
        if current is None or current in seen:
            return False
        if current == supervisor_nip:
            return True
        seen.add(current)
        current = superior_of(current)
    return False
