"""Table tests for the plans rule book (services/plans/domain.py).

The expected tables here are written out independently of the module's own tables, so a
change to a rule shows up as a failing row, not as a silently agreeing test.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import importlib
import inspect
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from services.plans import domain
from services.plans.domain import (
    ACTIONS,
    ALLOWED,
    APPROACHES,
    ASPECTS,
    BERAKHLAK,
    LOWER_IS_BETTER,
    MAX_EXPECTATION,
    PERIOD_TYPES,
    PHASES,
    PLAN_STATUSES,
    RHK_KINDS,
    STAGES,
    Coverage,
    CycleState,
    DomainError,
    InvalidNip,
    InvalidTransition,
    NipInfo,
    PeriodSpec,
    StageConflict,
    allowed,
    cascade_coverage,
    creates_reporting_cycle,
    editable,
    guard,
    is_in_reporting_line,
    is_valid_nip,
    make_periods,
    missing_expectations,
    next_state,
    parse_nip,
    parse_state_label,
    plan_transition,
    state_label,
    validate_expectations,
    validate_for_submit,
    validate_plan_content,
)

# =========================================================================== errors


def test_domain_error_carries_code_field_and_params():
    err = DomainError("nip.format", field="nip", length=17)
    assert (err.code, err.field, err.params) == ("nip.format", "nip", {"length": 17})
    assert str(err) == "nip.format"  # a catalogue key, not prose
    assert "nip.format" in repr(err)


def test_domain_error_defaults():
    err = DomainError("x.y")
    assert (err.field, err.params) == (None, {})


@pytest.mark.parametrize("cls", [InvalidNip, StageConflict, InvalidTransition])
def test_specific_errors_are_domain_errors(cls):
    err = cls("some.code", field="f", a=1)
    assert isinstance(err, DomainError)
    assert (err.code, err.field, err.params) == ("some.code", "f", {"a": 1})


# =========================================================================== NIP (DOMAIN.md §2)

VALID_NIPS = [
    # nip, birth date, appointment year, month, sex, sequence
    ("198503152010012003", date(1985, 3, 15), 2010, 1, "female", 3),
    ("196001011985031001", date(1960, 1, 1), 1985, 3, "male", 1),
    ("199202292015041999", date(1992, 2, 29), 2015, 4, "male", 999),  # leap day
    ("194001011960012010", date(1940, 1, 1), 1960, 1, "female", 10),  # earliest birth year and appointment year
    ("198503152002032001", date(1985, 3, 15), 2002, 3, "female", 1),  # appointed the month they turned 17
    ("197712312019121123", date(1977, 12, 31), 2019, 12, "male", 123),
]


@pytest.mark.parametrize("nip, birth, year, month, sex, seq", VALID_NIPS)
def test_parse_valid_nip(nip, birth, year, month, sex, seq):
    assert parse_nip(nip) == NipInfo(birth, year, month, sex, seq)
    assert is_valid_nip(nip)


def test_parse_nip_example_from_brief():
    info = parse_nip("198503152010012003")
    assert info.birth_date == date(1985, 3, 15)
    assert (info.appointment_year, info.appointment_month) == (2010, 1)
    assert info.sex == "female"
    assert info.sequence == 3


@pytest.mark.parametrize("nip", [" 198503152010012003", "198503152010012003 ", "\t198503152010012003\n"])
def test_surrounding_whitespace_is_ignored(nip):
    assert parse_nip(nip).sequence == 3


def test_nip_info_is_immutable():
    info = parse_nip("198503152010012003")
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.sex = "male"


INVALID_NIPS = [
    # --- nip.format
    ("", "nip.format"),
    ("   ", "nip.format"),
    ("19850315201001200", "nip.format"),  # 17 digits
    ("1985031520100120031", "nip.format"),  # 19 digits
    ("19850315 2010012003", "nip.format"),  # internal space (19 chars)
    ("19850315 201001200", "nip.format"),  # internal space (18 chars)
    ("1985-03-15-2010-01-2-003", "nip.format"),
    ("19850315201001200A", "nip.format"),
    ("+98503152010012003", "nip.format"),
    ("١٩٨٥٠٣١٥٢٠١٠٠١٢٠٠٣", "nip.format"),  # Arabic-Indic digits: not ASCII
    ("１９８５０３１５２０１００１２００３", "nip.format"),  # full-width digits
    (None, "nip.format"),
    (198503152010012003, "nip.format"),  # an int is not a NIP string
    # --- nip.birth_date
    ("198502302010012003", "nip.birth_date"),  # 30 February
    ("199302292015041001", "nip.birth_date"),  # 29 February in a common year
    ("190002292015041001", "nip.birth_date"),  # 1900 is not a leap year
    ("198513152010012003", "nip.birth_date"),  # month 13
    ("198500152010012003", "nip.birth_date"),  # month 00
    ("198503002010012003", "nip.birth_date"),  # day 00
    ("198504312010012003", "nip.birth_date"),  # 31 April
    ("193912311960011001", "nip.birth_date"),  # before 1940
    ("000001012010011001", "nip.birth_date"),  # year 0
    # --- nip.appointment
    ("198503152010002003", "nip.appointment"),  # month 00
    ("198503152010132003", "nip.appointment"),  # month 13
    ("194001011959121001", "nip.appointment"),  # year before 1960
    # --- nip.appointment_before_birth (before the month the person turned 17)
    ("198503152002022001", "nip.appointment_before_birth"),  # one month short of 17
    ("198503152001122001", "nip.appointment_before_birth"),
    ("198503151990012001", "nip.appointment_before_birth"),  # appointed aged 4
    ("198503151980012001", "nip.appointment_before_birth"),  # appointed before birth
    # --- nip.sex
    ("198503152010013003", "nip.sex"),
    ("198503152010010003", "nip.sex"),
    ("198503152010019003", "nip.sex"),
    # --- nip.sequence
    ("198503152010012000", "nip.sequence"),
    ("198503152010011000", "nip.sequence"),
]


@pytest.mark.parametrize("nip, code", INVALID_NIPS)
def test_parse_invalid_nip(nip, code):
    with pytest.raises(InvalidNip) as caught:
        parse_nip(nip)
    assert caught.value.code == code
    assert caught.value.field == "nip"
    assert not is_valid_nip(nip)


@pytest.mark.parametrize(
    "nip, today, code",
    [
        ("199001012024071001", date(2024, 6, 15), "nip.future"),  # appointed next month
        ("199001012025011001", date(2024, 12, 31), "nip.future"),  # appointed next year
        ("202406162041071001", date(2024, 6, 15), "nip.future"),  # born tomorrow
        ("199001012024061001", date(2024, 6, 15), None),  # appointed this month: fine
        ("199001012024061001", date(2024, 6, 1), None),
        ("198503152010012003", date(2010, 1, 1), None),
        ("198503152010012003", date(2009, 12, 31), "nip.future"),
        ("198503152010012003", datetime(2024, 6, 15, 23, 59), None),  # a datetime is taken as its date
        ("199001012024071001", datetime(2024, 6, 15, 8, 0), "nip.future"),
    ],
)
def test_future_is_checked_only_against_given_today(nip, today, code):
    if code is None:
        assert parse_nip(nip, today=today)
        assert is_valid_nip(nip, today=today)
    else:
        with pytest.raises(InvalidNip) as caught:
            parse_nip(nip, today=today)
        assert (caught.value.code, caught.value.field) == (code, "nip")
        assert not is_valid_nip(nip, today)
    assert is_valid_nip(nip)  # without today nothing is "future"


@pytest.mark.parametrize(
    "nip, code",
    [
        ("198502302010132000", "nip.birth_date"),  # bad birth date, month, sequence: birth date first
        ("198503152010133000", "nip.appointment"),  # bad month, sex: appointment first
        ("198503151990013000", "nip.appointment_before_birth"),  # before 17 and bad sex: the dates first
        ("198503152010013000", "nip.sex"),  # bad sex and sequence: sex first
    ],
)
def test_first_failure_wins_left_to_right(nip, code):
    with pytest.raises(InvalidNip) as caught:
        parse_nip(nip)
    assert caught.value.code == code


def test_future_comes_before_sex_and_sequence():
    with pytest.raises(InvalidNip) as caught:
        parse_nip("199001012030013000", today=date(2024, 1, 1))
    assert caught.value.code == "nip.future"


# =========================================================================== vocabularies (DOMAIN.md §3)


def test_vocabularies():
    assert BERAKHLAK == (
        "berorientasi_pelayanan",
        "akuntabel",
        "kompeten",
        "harmonis",
        "loyal",
        "adaptif",
        "kolaboratif",
    )
    assert ASPECTS == ("kuantitas", "kualitas", "waktu", "biaya")
    assert LOWER_IS_BETTER == frozenset({"waktu", "biaya"})
    assert LOWER_IS_BETTER <= set(ASPECTS)
    assert RHK_KINDS == ("utama", "tambahan")
    assert APPROACHES == ("kuantitatif", "kualitatif")
    assert PERIOD_TYPES == ("monthly", "quarterly", "semester")


# =========================================================================== periods (DOMAIN.md §6)

MONTHS_ID = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]
MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def test_monthly_periods_2024_leap_year():
    periods = make_periods(2024, "monthly")
    assert [p.seq for p in periods] == list(range(1, 13))
    assert [p.name_id for p in periods] == MONTHS_ID
    assert [p.name_en for p in periods] == MONTHS_EN
    last_days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    assert [(p.start, p.end) for p in periods] == [
        (date(2024, m, 1), date(2024, m, last_days[m - 1])) for m in range(1, 13)
    ]
    assert periods[1].deadline == date(2024, 3, 5)  # 29 Feb + 5
    assert periods[-1].deadline == date(2025, 1, 5)  # crosses the year


def test_monthly_february_in_a_common_year():
    feb = make_periods(2023, "monthly")[1]
    assert (feb.start, feb.end, feb.deadline) == (date(2023, 2, 1), date(2023, 2, 28), date(2023, 3, 5))


def test_quarterly_periods():
    assert make_periods(2024, "quarterly") == [
        PeriodSpec(1, "Triwulan I", "Quarter I", date(2024, 1, 1), date(2024, 3, 31), date(2024, 4, 5)),
        PeriodSpec(2, "Triwulan II", "Quarter II", date(2024, 4, 1), date(2024, 6, 30), date(2024, 7, 5)),
        PeriodSpec(3, "Triwulan III", "Quarter III", date(2024, 7, 1), date(2024, 9, 30), date(2024, 10, 5)),
        PeriodSpec(
            4, "Triwulan IV-Akhir", "Quarter IV (final)", date(2024, 10, 1), date(2024, 12, 31), date(2025, 1, 5)
        ),
    ]


def test_semester_periods():
    assert make_periods(2025, "semester", deadline_days=10) == [
        PeriodSpec(1, "Semester I", "Semester I", date(2025, 1, 1), date(2025, 6, 30), date(2025, 7, 10)),
        PeriodSpec(2, "Semester II", "Semester II", date(2025, 7, 1), date(2025, 12, 31), date(2026, 1, 10)),
    ]


@pytest.mark.parametrize("period_type, count", [("monthly", 12), ("quarterly", 4), ("semester", 2)])
@pytest.mark.parametrize("year", [2023, 2024, 2100])
def test_periods_tile_the_year(period_type, year, count):
    periods = make_periods(year, period_type)
    assert len(periods) == count == domain.PERIOD_COUNTS[period_type]
    assert periods[0].start == date(year, 1, 1)
    assert periods[-1].end == date(year, 12, 31)
    for before, after in zip(periods, periods[1:]):
        assert (after.start - before.end).days == 1  # no gap, no overlap
    assert sum((p.end - p.start).days + 1 for p in periods) == (date(year, 12, 31) - date(year, 1, 1)).days + 1


@pytest.mark.parametrize("days", [0, 1, 5, 14, 45])
@pytest.mark.parametrize("period_type", PERIOD_TYPES)
def test_deadline_is_end_plus_days(period_type, days):
    for p in make_periods(2024, period_type, deadline_days=days):
        assert (p.deadline - p.end).days == days


@pytest.mark.parametrize("period_type", ["annual", "Monthly", "", "weekly", None])
def test_unknown_period_type(period_type):
    with pytest.raises(DomainError) as caught:
        make_periods(2024, period_type)
    assert (caught.value.code, caught.value.field) == ("cycle.period_type", "period_type")


def test_negative_deadline_days():
    with pytest.raises(DomainError) as caught:
        make_periods(2024, "monthly", deadline_days=-1)
    assert (caught.value.code, caught.value.field) == ("cycle.deadline_days", "deadline_days")


# =========================================================================== cycle stages (DESIGN.md §4)


def expected_walk(period_count: int) -> list[str]:
    monitoring = [
        f"monitoring:{k}:{phase}"
        for k in range(1, period_count + 1)
        for phase in ("check_in", "self_assessment", "supervisor_evaluation")
    ]
    return ["draft", "planning", *monitoring, "annual_evaluation", "calibration", "sign_off", "objections", "closed"]


def walk(period_count: int) -> list[str]:
    state = CycleState("draft")
    labels = [state_label(state)]
    while state.stage != "closed":
        state = next_state(state, period_count)
        labels.append(state_label(state))
    return labels


@pytest.mark.parametrize("period_type, monitoring_steps", [("monthly", 36), ("quarterly", 12), ("semester", 6)])
def test_whole_cycle_walk(period_type, monitoring_steps):
    count = len(make_periods(2024, period_type))
    labels = walk(count)
    assert labels == expected_walk(count)
    assert sum(label.startswith("monitoring:") for label in labels) == monitoring_steps
    assert len(labels) == 7 + monitoring_steps


STEP_CASES = [
    pytest.param(period_type, before, after, id=f"{period_type}:{before}->{after}")
    for period_type in PERIOD_TYPES
    for before, after in zip(
        expected_walk(domain.PERIOD_COUNTS[period_type]), expected_walk(domain.PERIOD_COUNTS[period_type])[1:]
    )
]


@pytest.mark.parametrize("period_type, before, after", STEP_CASES)
def test_each_step(period_type, before, after):
    state = parse_state_label(before)
    assert state_label(next_state(state, domain.PERIOD_COUNTS[period_type])) == after


def test_single_period_cycle():
    assert walk(1) == [
        "draft",
        "planning",
        "monitoring:1:check_in",
        "monitoring:1:self_assessment",
        "monitoring:1:supervisor_evaluation",
        "annual_evaluation",
        "calibration",
        "sign_off",
        "objections",
        "closed",
    ]


@pytest.mark.parametrize("period_count", [1, 2, 4, 12])
def test_closed_cannot_advance(period_count):
    with pytest.raises(StageConflict) as caught:
        next_state(CycleState("closed"), period_count)
    assert caught.value.code == "cycle.closed"
    assert caught.value.params == {"stage": "closed", "action": "advance"}


def test_next_state_refuses_period_beyond_cycle():
    with pytest.raises(ValueError):
        next_state(CycleState("monitoring", 5, "check_in"), 4)


@pytest.mark.parametrize("period_count", [0, -1])
def test_next_state_needs_a_period(period_count):
    with pytest.raises(ValueError):
        next_state(CycleState("draft"), period_count)


@pytest.mark.parametrize(
    "stage, seq, phase",
    [
        ("opening", None, None),  # unknown stage
        ("monitoring", None, None),  # monitoring without period
        ("monitoring", 0, "check_in"),
        ("monitoring", 1, None),
        ("monitoring", 1, "review"),
        ("monitoring", True, "check_in"),
        ("monitoring", "1", "check_in"),
        ("planning", 1, None),  # period outside monitoring
        ("annual_evaluation", None, "check_in"),
    ],
)
def test_cycle_state_rejects_inconsistent_values(stage, seq, phase):
    with pytest.raises(ValueError):
        CycleState(stage, seq, phase)


@pytest.mark.parametrize(
    "state, label",
    [
        (CycleState("draft"), "draft"),
        (CycleState("planning"), "planning"),
        (CycleState("monitoring", 2, "self_assessment"), "monitoring:2:self_assessment"),
        (CycleState("monitoring", 12, "supervisor_evaluation"), "monitoring:12:supervisor_evaluation"),
        (CycleState("closed"), "closed"),
    ],
)
def test_state_label_round_trip(state, label):
    assert state_label(state) == label
    assert parse_state_label(label) == state


@pytest.mark.parametrize(
    "label",
    [
        "",
        "monitoring",
        "monitoring:1",
        "monitoring:x:check_in",
        "monitoring:1:nap",
        "monitoring:0:check_in",
        "planning:1:check_in",
        "closed:",
        "review",
        "monitoring:-1:check_in",
        "monitoring:²:check_in",
    ],
)
def test_parse_state_label_rejects(label):
    with pytest.raises(ValueError):
        parse_state_label(label)


# --- what each stage allows (written out per stage, independently of ALLOWED)

EXPECTED_BY_STAGE = {
    "draft": {"directory.edit", "cycle.edit_periods"},
    "planning": {
        "directory.edit",
        "cycle.edit_periods",
        "plan.create",
        "plan.edit",
        "plan.submit",
        "plan.return",
        "plan.approve",
        "dailylog.write",
    },
    "monitoring": {
        "directory.edit",
        "plan.create",
        "plan.edit",
        "plan.submit",
        "plan.return",
        "plan.approve",
        "plan.revise",
        "realisation.record",
        "dailylog.write",
        "feedback.give",
        "feedback.reply",
    },
    "annual_evaluation": {
        "directory.edit",
        "plan.revise",
        "realisation.record",
        "dailylog.write",
        "feedback.give",
        "feedback.reply",
    },
    "calibration": {"directory.edit"},
    "sign_off": {"directory.edit"},
    "objections": {"directory.edit"},
    "closed": {"directory.edit"},
}

ALL_ACTIONS = {
    "directory.edit",
    "cycle.edit_periods",
    "plan.create",
    "plan.edit",
    "plan.submit",
    "plan.return",
    "plan.approve",
    "plan.revise",
    "realisation.record",
    "dailylog.write",
    "feedback.give",
    "feedback.reply",
}

REPRESENTATIVE_STATES = [CycleState(stage) for stage in STAGES if stage != "monitoring"] + [
    CycleState("monitoring", seq, phase) for seq in (1, 12) for phase in PHASES
]


def test_action_set():
    assert ACTIONS == ALL_ACTIONS == set(ALLOWED)
    assert set(EXPECTED_BY_STAGE) == set(STAGES)


@pytest.mark.parametrize("state", REPRESENTATIVE_STATES, ids=state_label)
@pytest.mark.parametrize("action", sorted(ALL_ACTIONS))
def test_allowed_table(state, action):
    expected = action in EXPECTED_BY_STAGE[state.stage]
    assert allowed(state, action) is expected
    if expected:
        assert guard(state, action) is None
    else:
        with pytest.raises(StageConflict) as caught:
            guard(state, action)
        assert caught.value.code == "stage.not_allowed"
        assert caught.value.params == {"stage": state_label(state), "action": action}


def test_guard_reports_monitoring_position():
    with pytest.raises(StageConflict) as caught:
        guard(CycleState("monitoring", 3, "self_assessment"), "cycle.edit_periods")
    assert caught.value.params["stage"] == "monitoring:3:self_assessment"


@pytest.mark.parametrize("action", ["plan.delete", "", "PLAN.CREATE", "plan"])
def test_unknown_action_is_a_programming_error(action):
    with pytest.raises(ValueError):
        allowed(CycleState("planning"), action)
    with pytest.raises(ValueError):
        guard(CycleState("planning"), action)


def test_phase_restriction_narrows_monitoring_only(monkeypatch):
    monkeypatch.setitem(domain.ALLOWED_PHASES, "realisation.record", frozenset({"self_assessment"}))
    assert allowed(CycleState("monitoring", 1, "self_assessment"), "realisation.record")
    assert not allowed(CycleState("monitoring", 1, "check_in"), "realisation.record")
    assert not allowed(CycleState("monitoring", 1, "supervisor_evaluation"), "realisation.record")
    assert allowed(CycleState("annual_evaluation"), "realisation.record")  # other stages untouched
    with pytest.raises(StageConflict) as caught:
        guard(CycleState("monitoring", 2, "check_in"), "realisation.record")
    assert caught.value.params["stage"] == "monitoring:2:check_in"


def test_no_plans_action_is_phase_bound_today():
    assert domain.ALLOWED_PHASES == {}


# =========================================================================== plan status (DOMAIN.md §3)

# (status, action) -> new status; every pair missing here must be refused.
PLAN_MACHINE = {
    ("draft", "edit"): "draft",
    ("draft", "submit"): "submitted",
    ("returned", "edit"): "returned",
    ("returned", "submit"): "submitted",
    ("revised", "edit"): "revised",
    ("revised", "submit"): "submitted",
    ("submitted", "return"): "returned",
    ("submitted", "approve"): "approved",
    ("approved", "revise"): "revised",
}
PLAN_ACTIONS = ("edit", "submit", "return", "approve", "revise")


@pytest.mark.parametrize("status", PLAN_STATUSES)
@pytest.mark.parametrize("action", PLAN_ACTIONS)
def test_plan_transition_every_pair(status, action):
    if (status, action) in PLAN_MACHINE:
        assert plan_transition(status, action) == PLAN_MACHINE[(status, action)]
    else:
        with pytest.raises(InvalidTransition) as caught:
            plan_transition(status, action)
        assert caught.value.code == "plan.transition"
        assert caught.value.params == {"status": status, "action": action}


@pytest.mark.parametrize(
    "status, action",
    [
        ("draft", "delete"),
        ("approved", ""),
        ("closed", "submit"),
        ("", "edit"),
        (None, "edit"),
        ("DRAFT", "submit"),
        ("draft", None),
        (["draft"], "submit"),
    ],
)
def test_plan_transition_unknown_status_or_action(status, action):
    with pytest.raises(InvalidTransition) as caught:
        plan_transition(status, action)
    assert caught.value.params == {"status": status, "action": action}


def test_plan_life_story():
    """draft → submitted → returned → (edit) → submitted → approved → revised → submitted → approved."""
    status = "draft"
    for action, expected in [
        ("edit", "draft"),
        ("submit", "submitted"),
        ("return", "returned"),
        ("edit", "returned"),
        ("submit", "submitted"),
        ("approve", "approved"),
        ("revise", "revised"),
        ("edit", "revised"),
        ("submit", "submitted"),
        ("approve", "approved"),
    ]:
        status = plan_transition(status, action)
        assert status == expected


@pytest.mark.parametrize(
    "status, expected",
    [
        ("draft", True),
        ("submitted", False),
        ("returned", True),
        ("approved", False),
        ("revised", True),
        ("unknown", False),
        (None, False),
    ],
)
def test_editable(status, expected):
    assert editable(status) is expected
    if status in PLAN_STATUSES:  # editable exactly where "edit" is a transition
        assert ((status, "edit") in PLAN_MACHINE) is expected


# =========================================================================== plan content (DOMAIN.md §3)


def iki(aspect="kuantitas", indicator="Jumlah pasien yang dilayani", value=1200, unit="pasien", text=None):
    return {"aspect": aspect, "indicator": indicator, "target_value": value, "target_unit": unit, "target_text": text}


def rhk(
    kind="utama",
    description="Meningkatnya layanan kesehatan dasar di puskesmas",
    parent="sup-1",
    goal=None,
    indicators=None,
    rhk_id=None,
):
    item = {
        "kind": kind,
        "description": description,
        "parent_rhk_id": parent,
        "organisation_goal": goal,
        "iki": [iki()] if indicators is None else indicators,
    }
    if rhk_id is not None:
        item["id"] = rhk_id
    return item


FULL_BEHAVIOUR = {value: f"Ekspektasi untuk {value}" for value in BERAKHLAK}


def sound_plan():
    """A health-centre SKP (seed example): patients served and patient satisfaction."""
    return [
        rhk(
            rhk_id="r1",
            indicators=[
                iki("kuantitas", "Jumlah pasien yang dilayani", 1200, "pasien"),
                iki("kualitas", "Indeks kepuasan pasien", 85, "IKM"),
                iki("waktu", "Waktu tunggu rata-rata", 30, "menit"),
                iki("biaya", "Biaya per layanan", Decimal("15000.50"), "rupiah"),
            ],
        ),
        rhk(
            kind="tambahan",
            description="Laporan harian daring",
            parent="sup-2",
            rhk_id="r2",
            indicators=[iki("kuantitas", "Laporan harian", 240, "laporan")],
        ),
    ]


def test_sound_plan_has_no_errors():
    assert validate_plan_content("kuantitatif", sound_plan(), {}) == []
    assert validate_plan_content("kuantitatif", sound_plan(), FULL_BEHAVIOUR) == []
    assert validate_for_submit("kuantitatif", sound_plan(), FULL_BEHAVIOUR) == []


def test_inputs_are_not_mutated():
    plan, behaviour = sound_plan(), {"loyal": "x", "foo": "y"}
    before = copy.deepcopy((plan, behaviour))
    validate_for_submit("kuantitatif", plan, behaviour)
    assert (plan, behaviour) == before


def mutate(fn):
    plan = sound_plan()
    fn(plan)
    return plan


CONTENT_CASES = [
    # id, approach, rhk list, head of unit, expected errors
    ("no rhk", "kuantitatif", [], False, [("rhk", "rhk.utama_required")]),
    ("rhk None", "kuantitatif", None, False, [("rhk", "rhk.utama_required")]),
    ("only tambahan", "kuantitatif", [rhk(kind="tambahan")], False, [("rhk", "rhk.utama_required")]),
    ("unknown approach", "campuran", [rhk()], False, [("approach", "plan.approach")]),
    ("approach None", None, [rhk()], False, [("approach", "plan.approach")]),
    ("bad kind", "kuantitatif", [rhk(), rhk(kind="Utama")], False, [("rhk[1].kind", "rhk.kind")]),
    (
        "kind missing, no utama",
        "kuantitatif",
        [rhk(kind=None)],
        False,
        [("rhk", "rhk.utama_required"), ("rhk[0].kind", "rhk.kind")],
    ),
    ("empty description", "kuantitatif", [rhk(description="")], False, [("rhk[0].description", "rhk.description")]),
    ("blank description", "kuantitatif", [rhk(description="  \n")], False, [("rhk[0].description", "rhk.description")]),
    ("description None", "kuantitatif", [rhk(description=None)], False, [("rhk[0].description", "rhk.description")]),
    ("description not text", "kuantitatif", [rhk(description=42)], False, [("rhk[0].description", "rhk.description")]),
    ("no parent", "kuantitatif", [rhk(parent=None)], False, [("rhk[0].parent_rhk_id", "rhk.cascade_required")]),
    ("blank parent", "kuantitatif", [rhk(parent=" ")], False, [("rhk[0].parent_rhk_id", "rhk.cascade_required")]),
    (
        "goal but not head",
        "kuantitatif",
        [rhk(parent=None, goal="PK-2024-1")],
        False,
        [("rhk[0].parent_rhk_id", "rhk.cascade_required")],
    ),
    ("head with goal", "kuantitatif", [rhk(parent=None, goal="PK-2024-1")], True, []),
    ("head with parent", "kuantitatif", [rhk(parent="sup-1", goal=None)], True, []),
    (
        "head with neither",
        "kuantitatif",
        [rhk(parent=None, goal="")],
        True,
        [("rhk[0].parent_rhk_id", "rhk.cascade_required")],
    ),
    ("no iki", "kuantitatif", [rhk(indicators=[])], False, [("rhk[0].iki", "rhk.iki_required")]),
    ("iki None", "kuantitatif", [{**rhk(), "iki": None}], False, [("rhk[0].iki", "rhk.iki_required")]),
    (
        "iki key missing",
        "kuantitatif",
        [{k: v for k, v in rhk().items() if k != "iki"}],
        False,
        [("rhk[0].iki", "rhk.iki_required")],
    ),
    (
        "bad aspect",
        "kuantitatif",
        [rhk(indicators=[iki(aspect="kecepatan")])],
        False,
        [("rhk[0].iki[0].aspect", "iki.aspect")],
    ),
    (
        "aspect None",
        "kuantitatif",
        [rhk(indicators=[iki(aspect=None)])],
        False,
        [("rhk[0].iki[0].aspect", "iki.aspect")],
    ),
    (
        "duplicate aspect",
        "kuantitatif",
        [rhk(indicators=[iki("kuantitas"), iki("waktu", unit="hari"), iki("kuantitas"), iki("kuantitas")])],
        False,
        [("rhk[0].iki[2].aspect", "iki.aspect_duplicate"), ("rhk[0].iki[3].aspect", "iki.aspect_duplicate")],
    ),
    (
        "same aspect in two rhk is fine",
        "kuantitatif",
        [rhk(indicators=[iki("kuantitas")]), rhk(indicators=[iki("kuantitas")])],
        False,
        [],
    ),
    (
        "empty indicator",
        "kuantitatif",
        [rhk(indicators=[iki(indicator="")])],
        False,
        [("rhk[0].iki[0].indicator", "iki.indicator")],
    ),
    (
        "indicator None",
        "kuantitatif",
        [rhk(indicators=[iki(indicator=None)])],
        False,
        [("rhk[0].iki[0].indicator", "iki.indicator")],
    ),
    # --- kuantitatif targets
    (
        "value zero",
        "kuantitatif",
        [rhk(indicators=[iki(value=0)])],
        False,
        [("rhk[0].iki[0].target_value", "iki.target_value")],
    ),
    (
        "value negative",
        "kuantitatif",
        [rhk(indicators=[iki(value=-5)])],
        False,
        [("rhk[0].iki[0].target_value", "iki.target_value")],
    ),
    (
        "value None",
        "kuantitatif",
        [rhk(indicators=[iki(value=None)])],
        False,
        [("rhk[0].iki[0].target_value", "iki.target_value")],
    ),
    (
        "value text",
        "kuantitatif",
        [rhk(indicators=[iki(value="12")])],
        False,
        [("rhk[0].iki[0].target_value", "iki.target_value")],
    ),
    (
        "value bool",
        "kuantitatif",
        [rhk(indicators=[iki(value=True)])],
        False,
        [("rhk[0].iki[0].target_value", "iki.target_value")],
    ),
    (
        "value nan",
        "kuantitatif",
        [rhk(indicators=[iki(value=float("nan"))])],
        False,
        [("rhk[0].iki[0].target_value", "iki.target_value")],
    ),
    (
        "value inf",
        "kuantitatif",
        [rhk(indicators=[iki(value=float("inf"))])],
        False,
        [("rhk[0].iki[0].target_value", "iki.target_value")],
    ),
    (
        "value decimal nan",
        "kuantitatif",
        [rhk(indicators=[iki(value=Decimal("NaN"))])],
        False,
        [("rhk[0].iki[0].target_value", "iki.target_value")],
    ),
    (
        "value decimal snan",
        "kuantitatif",
        [rhk(indicators=[iki(value=Decimal("sNaN"))])],
        False,
        [("rhk[0].iki[0].target_value", "iki.target_value")],
    ),
    ("value fraction", "kuantitatif", [rhk(indicators=[iki(value=Fraction(1, 2))])], False, []),
    ("value small float", "kuantitatif", [rhk(indicators=[iki(aspect="kualitas", value=0.9, unit="%")])], False, []),
    (
        "unit empty",
        "kuantitatif",
        [rhk(indicators=[iki(unit="")])],
        False,
        [("rhk[0].iki[0].target_unit", "iki.target_unit")],
    ),
    (
        "unit None",
        "kuantitatif",
        [rhk(indicators=[iki(unit=None)])],
        False,
        [("rhk[0].iki[0].target_unit", "iki.target_unit")],
    ),
    (
        "text only, kuantitatif",
        "kuantitatif",
        [rhk(indicators=[iki(value=None, unit=None, text="Tepat waktu")])],
        False,
        [("rhk[0].iki[0].target_value", "iki.target_value"), ("rhk[0].iki[0].target_unit", "iki.target_unit")],
    ),
    # --- kualitatif targets
    (
        "kualitatif text",
        "kualitatif",
        [rhk(indicators=[iki(value=None, unit=None, text="Layanan sesuai standar")])],
        False,
        [],
    ),
    ("kualitatif numeric", "kualitatif", [rhk(indicators=[iki(value=12, unit="laporan")])], False, []),
    (
        "kualitatif nothing",
        "kualitatif",
        [rhk(indicators=[iki(value=None, unit=None, text=None)])],
        False,
        [("rhk[0].iki[0].target_text", "iki.target_required")],
    ),
    (
        "kualitatif blank text",
        "kualitatif",
        [rhk(indicators=[iki(value=None, unit=None, text="   ")])],
        False,
        [("rhk[0].iki[0].target_text", "iki.target_required")],
    ),
    (
        "kualitatif value without unit",
        "kualitatif",
        [rhk(indicators=[iki(value=12, unit=None)])],
        False,
        [("rhk[0].iki[0].target_text", "iki.target_required")],
    ),
    (
        "kualitatif unit without value",
        "kualitatif",
        [rhk(indicators=[iki(value=0, unit="laporan")])],
        False,
        [("rhk[0].iki[0].target_text", "iki.target_required")],
    ),
    (
        "unknown approach skips target checks",
        "campuran",
        [rhk(indicators=[iki(value=None, unit=None)])],
        False,
        [("approach", "plan.approach")],
    ),
    # --- many errors at once, in input order
    (
        "everything wrong",
        "kuantitatif",
        [
            rhk(
                kind="lain",
                description="",
                parent=None,
                indicators=[
                    iki(aspect="x", indicator="", value=-1, unit=""),
                    iki("waktu", value=3, unit="hari"),
                    iki("waktu", value=3, unit="hari"),
                ],
            ),
            rhk(kind="tambahan", indicators=[]),
        ],
        True,
        [
            ("rhk", "rhk.utama_required"),
            ("rhk[0].kind", "rhk.kind"),
            ("rhk[0].description", "rhk.description"),
            ("rhk[0].parent_rhk_id", "rhk.cascade_required"),
            ("rhk[0].iki[0].aspect", "iki.aspect"),
            ("rhk[0].iki[0].indicator", "iki.indicator"),
            ("rhk[0].iki[0].target_value", "iki.target_value"),
            ("rhk[0].iki[0].target_unit", "iki.target_unit"),
            ("rhk[0].iki[2].aspect", "iki.aspect_duplicate"),
            ("rhk[1].iki", "rhk.iki_required"),
        ],
    ),
    (
        "errors point at the right rhk",
        "kuantitatif",
        mutate(lambda p: p[1]["iki"][0].update(target_value=None)),
        False,
        [("rhk[1].iki[0].target_value", "iki.target_value")],
    ),
]


@pytest.mark.parametrize(
    "approach, items, head, expected", [c[1:] for c in CONTENT_CASES], ids=[c[0] for c in CONTENT_CASES]
)
def test_validate_plan_content(approach, items, head, expected):
    assert validate_plan_content(approach, items, {}, is_head_of_unit=head) == expected
    # submit checks are a superset: content errors first, then the behaviour expectations
    assert validate_for_submit(approach, items, FULL_BEHAVIOUR, is_head_of_unit=head) == expected


@pytest.mark.parametrize(
    "behaviour, expected",
    [
        ({}, []),
        (None, []),
        ({"loyal": ""}, []),  # missing expectations are fine while drafting
        ({"loyal": "Menjaga nama baik instansi", "akuntabel": None}, []),
        (FULL_BEHAVIOUR, []),
        ({"integritas": "x"}, [("behaviour.integritas", "behaviour.unknown_value")]),
        ({"Loyal": "x"}, [("behaviour.Loyal", "behaviour.unknown_value")]),  # keys are exact
        (
            {"loyal": "x", "foo": "y", "bar": ""},
            [("behaviour.foo", "behaviour.unknown_value"), ("behaviour.bar", "behaviour.unknown_value")],
        ),
    ],
)
def test_behaviour_keys(behaviour, expected):
    assert validate_plan_content("kuantitatif", sound_plan(), behaviour) == expected


@pytest.mark.parametrize("missing", BERAKHLAK)
@pytest.mark.parametrize("how", ["absent", "empty", "blank", "none"])
def test_approval_needs_every_expectation_submission_does_not(missing, how):
    behaviour = dict(FULL_BEHAVIOUR)
    if how == "absent":
        del behaviour[missing]
    else:
        behaviour[missing] = {"empty": "", "blank": "  ", "none": None}[how]
    assert validate_plan_content("kuantitatif", sound_plan(), behaviour) == []
    # the employee submits without them: the expectations are the penilai's to write
    assert validate_for_submit("kuantitatif", sound_plan(), behaviour) == []
    assert missing_expectations(behaviour) == [(f"behaviour.{missing}", "behaviour.expectation_required")]


@pytest.mark.parametrize("behaviour", [{}, None])
def test_approval_lists_all_seven_in_order(behaviour):
    assert validate_for_submit("kualitatif", sound_plan(), behaviour) == []
    assert missing_expectations(behaviour) == [
        (f"behaviour.{value}", "behaviour.expectation_required") for value in BERAKHLAK
    ]
    assert missing_expectations(FULL_BEHAVIOUR) == []


def test_submit_names_content_errors_and_unknown_values():
    behaviour = {**FULL_BEHAVIOUR, "kolaboratif": "", "gotong_royong": "x"}
    assert validate_for_submit("kuantitatif", [rhk(parent=None)], behaviour) == [
        ("rhk[0].parent_rhk_id", "rhk.cascade_required"),
        ("behaviour.gotong_royong", "behaviour.unknown_value"),
    ]


@pytest.mark.parametrize(
    "behaviour, expected",
    [
        ({}, []),
        ({"loyal": ""}, []),  # an empty text removes the value's expectation
        ({"loyal": "x" * MAX_EXPECTATION}, []),
        ({"loyal": " " + "x" * MAX_EXPECTATION + "\n"}, []),  # measured without the surrounding blanks
        ({"loyal": "x" * (MAX_EXPECTATION + 1)}, [("behaviour.loyal", "behaviour.too_long")]),
        ({"jujur": "x"}, [("behaviour.jujur", "behaviour.unknown_value")]),
    ],
)
def test_the_penilai_expectations(behaviour, expected):
    assert validate_expectations(behaviour) == expected


def test_head_of_unit_flag_reaches_submit():
    items = [rhk(parent=None, goal="Perjanjian kinerja 2024: IKM puskesmas >= 85")]
    assert validate_for_submit("kuantitatif", items, FULL_BEHAVIOUR, is_head_of_unit=True) == []
    assert validate_for_submit("kuantitatif", items, FULL_BEHAVIOUR) == [
        ("rhk[0].parent_rhk_id", "rhk.cascade_required")
    ]


# =========================================================================== cascade coverage (DOMAIN.md §3)

COVERAGE_CASES = [
    ("nothing", [], {}, Coverage({}, [], [], 0.0)),
    ("superior without rhk, subordinates idle", [], {"B": ["x"], "A": []}, Coverage({}, [], ["A", "B"], 0.0)),
    ("no subordinates", ["s1", "s2"], {}, Coverage({}, ["s1", "s2"], [], 0.0)),
    (
        "mixed",
        ["s1", "s2", "s3", "s4"],
        {
            "199001012015011002": ["s1", "s3", None],
            "198001012005011001": ["s1"],
            "198501012010012001": [None, "elsewhere"],
            "199501012020012001": [],
        },
        Coverage(
            supported={"s1": ["198001012005011001", "199001012015011002"], "s3": ["199001012015011002"]},
            unsupported=["s2", "s4"],
            idle_subordinates=["198501012010012001", "199501012020012001"],
            ratio=0.5,
        ),
    ),
    (
        "full",
        ["s1", "s2"],
        {"C": ["s2"], "A": ["s1", "s1"], "B": ["s2", "s1"]},
        Coverage({"s1": ["A", "B"], "s2": ["B", "C"]}, [], [], 1.0),
    ),
    ("unsupported keeps superior order", ["z", "a", "m"], {"X": ["a"]}, Coverage({"a": ["X"]}, ["z", "m"], [], 1 / 3)),
    ("duplicate superior ids count once", ["s1", "s1", "s2"], {"A": ["s1"]}, Coverage({"s1": ["A"]}, ["s2"], [], 0.5)),
    ("links None list", ["s1"], {"A": None}, Coverage({}, ["s1"], ["A"], 0.0)),
]


@pytest.mark.parametrize("ids, links, expected", [c[1:] for c in COVERAGE_CASES], ids=[c[0] for c in COVERAGE_CASES])
def test_cascade_coverage(ids, links, expected):
    result = cascade_coverage(ids, links)
    assert result == expected
    assert list(result.supported) == [i for i in dict.fromkeys(ids) if i in result.supported]  # superior's order


def test_coverage_ratio_matches_counts():
    result = cascade_coverage(["a", "b", "c"], {"N1": ["c"], "N2": ["b"]})
    assert result.ratio == pytest.approx(2 / 3)
    assert len(result.supported) + len(result.unsupported) == 3


# =========================================================================== reporting lines (DOMAIN.md §2)

# kepala dinas K <- kabid B <- kasi S <- staff E1, E2 ; X stands alone
LINE = {"E1": "S", "E2": "S", "S": "B", "B": "K", "K": None, "X": None}


def superior_in(mapping):
    calls = []

    def superior_of(nip):
        calls.append(nip)
        return mapping.get(nip)

    superior_of.calls = calls
    return superior_of


@pytest.mark.parametrize(
    "nip, new_superior, expected",
    [
        ("E1", "S", False),  # unchanged line
        ("E1", "K", False),  # skip levels
        ("E1", None, False),  # removing the superior
        ("X", "E1", False),  # join below someone
        ("E1", "E1", True),  # own superior
        ("K", "E1", True),  # 4-person loop: K -> E1 -> S -> B -> K
        ("B", "S", True),  # 2-person loop
        ("S", "E2", True),  # the subordinate becomes the superior
        ("K", "X", False),
        ("new", "E1", False),  # someone not yet in the directory
    ],
)
def test_creates_reporting_cycle(nip, new_superior, expected):
    assert creates_reporting_cycle(nip, new_superior, superior_in(LINE)) is expected


def test_three_person_loop():
    # A reports to B, B to C; making C report to A closes A -> B -> C -> A.
    line = {"A": "B", "B": "C", "C": None}
    assert creates_reporting_cycle("C", "A", superior_in(line))
    assert creates_reporting_cycle("B", "A", superior_in(line))  # 2-loop inside it as well
    assert not creates_reporting_cycle("A", "C", superior_in(line))  # already true indirectly: no loop
    assert not creates_reporting_cycle("D", "A", superior_in(line))


def test_existing_loop_elsewhere_terminates():
    line = {"P": "Q", "Q": "P"}  # corrupt data above, not through N
    superior_of = superior_in(line)
    assert not creates_reporting_cycle("N", "P", superior_of)
    assert len(superior_of.calls) <= 3


def test_too_deep_chain_is_refused():
    chain = {f"n{i}": f"n{i + 1}" for i in range(200)}  # n0 -> n1 -> ... -> n200 (top)
    assert creates_reporting_cycle("new", "n0", superior_in(chain), max_depth=100)
    assert not creates_reporting_cycle("new", "n150", superior_in(chain), max_depth=100)
    assert not creates_reporting_cycle("new", "n0", superior_in(chain), max_depth=300)


@pytest.mark.parametrize(
    "supervisor, employee, expected",
    [
        ("S", "E1", True),  # direct
        ("B", "E1", True),  # indirect
        ("K", "E2", True),  # top of the line
        ("E1", "S", False),  # upwards is not a reporting line
        ("E2", "E1", False),  # peers
        ("E1", "E1", False),  # the same person
        ("K", "K", False),
        ("X", "E1", False),  # another line
        ("K", "X", False),
        ("S", "unknown", False),
    ],
)
def test_is_in_reporting_line(supervisor, employee, expected):
    assert is_in_reporting_line(supervisor, employee, superior_in(LINE)) is expected


def test_reporting_line_with_loop_terminates():
    loop = {"A": "B", "B": "C", "C": "A"}
    assert is_in_reporting_line("C", "A", superior_in(loop))
    assert is_in_reporting_line("B", "C", superior_in(loop))
    superior_of = superior_in(loop)
    assert not is_in_reporting_line("Z", "A", superior_of)
    assert len(superior_of.calls) <= 4


def test_reporting_line_respects_max_depth():
    chain = {f"n{i}": f"n{i + 1}" for i in range(100)}
    assert is_in_reporting_line("n50", "n0", superior_in(chain))  # 50 levels up: just within the default
    assert not is_in_reporting_line("n51", "n0", superior_in(chain))
    assert is_in_reporting_line("n51", "n0", superior_in(chain), max_depth=51)
    assert is_in_reporting_line("n1", "n0", superior_in(chain), max_depth=1)
    assert not is_in_reporting_line("n2", "n0", superior_in(chain), max_depth=1)


# =========================================================================== purity


def test_domain_module_is_pure():
    tree = ast.parse(inspect.getsource(domain))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    from_modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    # the platform's pure building blocks are allowed (and are themselves checked to import nothing)
    assert {m for m in from_modules if m.startswith("services")} <= {"services.common.rules"}
    rules = ast.parse(inspect.getsource(importlib.import_module("services.common.rules")))
    assert {n.module for n in ast.walk(rules) if isinstance(n, ast.ImportFrom)} <= {"__future__"}
    assert not [n for n in ast.walk(rules) if isinstance(n, ast.Import)]
    imported |= {m.split(".")[0] for m in from_modules if not m.startswith("services")}
    assert imported <= {
        "__future__",
        "calendar",
        "collections",
        "dataclasses",
        "datetime",
        "decimal",
        "math",
        "numbers",
        "re",
        "typing",
    }
    source = inspect.getsource(domain)
    for clock_call in ("date.today(", "datetime.now(", "datetime.utcnow(", "time.time("):
        assert clock_call not in source
