"""Table tests for the reviews rule book (services/reviews/domain/).

The expected tables here are written out independently of the module's own tables (the
predikat matrix and the distribution curve literally as DOMAIN.md §4–5 print them), so a
change to a rule shows up as a failing row, not as a silently agreeing test.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from services.reviews import domain
from services.reviews.domain import (
    BERAKHLAK,
    DECISIONS,
    DEFAULT_RULES,
    EVALUATION_STATUSES,
    LOWER_IS_BETTER,
    OBJECTION_DAYS,
    OBJECTION_STATUSES,
    ORG_RESULTS,
    PEER_MIN_RATERS,
    PREDIKATS,
    RATING_SCORE,
    RATINGS,
    Band,
    DistributionRule,
    DomainError,
    FollowUp,
    IkiClass,
    IkiInput,
    InvalidTransition,
    ObjectionWindowClosed,
    RhkInput,
    Violation,
    allowed_count,
    check_distribution,
    check_objection_window,
    classify_iki,
    classify_rhk,
    content_hash,
    curve,
    evaluation_transition,
    follow_up,
    frozen,
    objection_closes_on,
    objection_transition,
    org_result_to_hasil,
    peer_aggregate,
    predikat,
    rater_consistency,
    require_self_assessment_first,
    rule_from_dict,
    rule_to_dict,
    suggest_hasil,
)

SB, B, BP, KM, SK = "SANGAT_BAIK", "BAIK", "BUTUH_PERBAIKAN", "KURANG_MISCONDUCT", "SANGAT_KURANG"


# =========================================================================== errors and vocabularies


def test_domain_error_carries_code_field_and_params():
    err = DomainError("rating.invalid", field="rating_hasil", value="x")
    assert (err.code, err.field, err.params) == ("rating.invalid", "rating_hasil", {"value": "x"})
    assert str(err) == "rating.invalid"
    assert "rating.invalid" in repr(err)
    assert (DomainError("x.y").field, DomainError("x.y").params) == (None, {})


@pytest.mark.parametrize("cls", [InvalidTransition, ObjectionWindowClosed])
def test_specific_errors_are_domain_errors(cls):
    err = cls("some.code", field="f", a=1)
    assert isinstance(err, DomainError)
    assert (err.code, err.field, err.params) == ("some.code", "f", {"a": 1})


def test_vocabularies():
    assert RATINGS == ("above", "meets", "below")
    assert PREDIKATS == (SB, B, BP, KM, SK)
    assert ORG_RESULTS == ("ISTIMEWA", "BAIK", "BUTUH_PERBAIKAN", "KURANG", "SANGAT_KURANG")
    assert BERAKHLAK == (
        "berorientasi_pelayanan",
        "akuntabel",
        "kompeten",
        "harmonis",
        "loyal",
        "adaptif",
        "kolaboratif",
    )
    assert LOWER_IS_BETTER == {"waktu", "biaya"}
    assert EVALUATION_STATUSES == ("open", "self_assessed", "rated", "signed", "acknowledged", "countersigned")
    assert OBJECTION_STATUSES == ("filed", "under_review", "decided")
    assert DECISIONS == ("upheld", "changed")
    assert OBJECTION_DAYS == 14
    assert PEER_MIN_RATERS == 3
    assert RATING_SCORE == {"above": 1, "meets": 0, "below": -1}


def test_every_name_in_all_exists():
    for name in domain.__all__:
        assert hasattr(domain, name), name


# =========================================================================== predikat matrix (DOMAIN.md §4)

# | hasil \ perilaku | di bawah          | sesuai          | di atas         |
MATRIX_COLUMNS = ("below", "meets", "above")
MATRIX = {
    "above": ("KURANG_MISCONDUCT", "BAIK", "SANGAT_BAIK"),
    "meets": ("KURANG_MISCONDUCT", "BAIK", "BAIK"),
    "below": ("SANGAT_KURANG", "BUTUH_PERBAIKAN", "BUTUH_PERBAIKAN"),
}
MATRIX_CELLS = [(hasil, perilaku, row[i]) for hasil, row in MATRIX.items() for i, perilaku in enumerate(MATRIX_COLUMNS)]


def test_matrix_table_has_nine_cells():
    assert len(MATRIX_CELLS) == 9
    assert {(h, p) for h, p, _ in MATRIX_CELLS} == {(h, p) for h in RATINGS for p in RATINGS}


@pytest.mark.parametrize("hasil, perilaku, expected", MATRIX_CELLS)
def test_predikat_matrix(hasil, perilaku, expected):
    assert predikat(hasil, perilaku) == expected


@pytest.mark.parametrize(
    "hasil, perilaku, field, value",
    [
        ("excellent", "meets", "rating_hasil", "excellent"),
        (None, "meets", "rating_hasil", None),
        ("meets", "Above", "rating_perilaku", "Above"),
        ("meets", "", "rating_perilaku", ""),
        ("bad", "worse", "rating_hasil", "bad"),  # hasil is checked first
        (["above"], "meets", "rating_hasil", ["above"]),
    ],
)
def test_predikat_invalid_rating(hasil, perilaku, field, value):
    with pytest.raises(DomainError) as exc:
        predikat(hasil, perilaku)
    assert (exc.value.code, exc.value.field, exc.value.params) == ("rating.invalid", field, {"value": value})


@pytest.mark.parametrize(
    "org_result, hasil",
    [
        ("ISTIMEWA", "above"),
        ("BAIK", "meets"),
        ("BUTUH_PERBAIKAN", "below"),
        ("KURANG", "below"),
        ("SANGAT_KURANG", "below"),
    ],
)
def test_org_result_to_hasil_default(org_result, hasil):
    assert org_result_to_hasil(org_result) == hasil


def test_org_result_to_hasil_configurable():
    mapping = {
        "ISTIMEWA": "above",
        "BAIK": "above",
        "BUTUH_PERBAIKAN": "meets",
        "KURANG": "below",
        "SANGAT_KURANG": "below",
    }
    assert org_result_to_hasil("BAIK", mapping) == "above"
    assert org_result_to_hasil("BUTUH_PERBAIKAN", mapping) == "meets"


@pytest.mark.parametrize(
    "org_result, mapping, code, field",
    [
        ("LUAR_BIASA", None, "org_result.invalid", "org_result"),
        ("baik", None, "org_result.invalid", "org_result"),
        ("BAIK", {"ISTIMEWA": "above"}, "org_result.unmapped", "org_result"),
        ("BAIK", {"BAIK": "good"}, "rating.invalid", "rating_hasil"),
    ],
)
def test_org_result_to_hasil_errors(org_result, mapping, code, field):
    with pytest.raises(DomainError) as exc:
        org_result_to_hasil(org_result, mapping)
    assert (exc.value.code, exc.value.field) == (code, field)


# =========================================================================== suggestion: IKI (DOMAIN.md §4)

IKI_CASES = [
    # aspect, target, realisation, judgement, threshold, level, achievement, reason
    ("kuantitas", 100, 100, None, 0.05, "meets", 1.0, "suggest.iki.meets"),
    ("kuantitas", 100, 105, None, 0.05, "meets", 1.05, "suggest.iki.meets"),  # a == 1 + t is meets
    ("kuantitas", 100, 105.01, None, 0.05, "above", 1.0501, "suggest.iki.above"),  # just above
    ("kuantitas", 100, 120, None, 0.05, "above", 1.2, "suggest.iki.above"),
    ("kuantitas", 100, 99.99, None, 0.05, "below", 0.9999, "suggest.iki.below"),  # a < 1 is below
    ("kuantitas", 12, 0, None, 0.05, "below", 0.0, "suggest.iki.below"),
    ("kualitas", 90, 94.5, None, 0.05, "meets", 1.05, "suggest.iki.meets"),
    # 10.71 / 10.2 is exactly 1.05, though float division gives 1.0500000000000003
    ("kuantitas", 10.2, 10.71, None, 0.05, "meets", 1.05, "suggest.iki.meets"),
    ("kuantitas", Decimal("10.2"), Decimal("10.71"), None, 0.05, "meets", 1.05, "suggest.iki.meets"),
    # lower is better: a = target / realisation
    ("waktu", 12, 10, None, 0.05, "above", 1.2, "suggest.iki.above"),
    ("waktu", 12, 12, None, 0.05, "meets", 1.0, "suggest.iki.meets"),
    ("waktu", 105, 100, None, 0.05, "meets", 1.05, "suggest.iki.meets"),
    ("waktu", 12, 13, None, 0.05, "below", 12 / 13, "suggest.iki.below"),
    ("biaya", 1000, 800, None, 0.05, "above", 1.25, "suggest.iki.above"),
    ("biaya", 1000, 1100, None, 0.05, "below", 1000 / 1100, "suggest.iki.below"),
    ("biaya", 1000, 0, None, 0.05, "above", None, "suggest.iki.zero_realisation"),  # a infinite
    ("waktu", 5, 0.0, None, 0.05, "above", None, "suggest.iki.zero_realisation"),
    # the threshold is configuration
    ("kuantitas", 100, 101, None, 0, "above", 1.01, "suggest.iki.above"),
    ("kuantitas", 100, 100, None, 0, "meets", 1.0, "suggest.iki.meets"),
    ("kuantitas", 100, 108, None, 0.1, "meets", 1.08, "suggest.iki.meets"),
    ("kuantitas", 100, 110, None, 0.1, "meets", 1.1, "suggest.iki.meets"),
    ("kuantitas", 100, 111, None, 0.1, "above", 1.11, "suggest.iki.above"),
    # a numeric result wins over a judgement
    ("kuantitas", 100, 80, "above", 0.05, "below", 0.8, "suggest.iki.below"),
    # qualitative: the judgement decides
    ("kualitas", None, None, "above", 0.05, "above", None, "suggest.iki.judgement"),
    ("kualitas", None, 3, "below", 0.05, "below", None, "suggest.iki.judgement"),
    ("kualitas", 0, 5, "meets", 0.05, "meets", None, "suggest.iki.judgement"),
    ("kualitas", 100, None, "meets", 0.05, "meets", None, "suggest.iki.judgement"),
    ("kuantitas", -4, 5, "above", 0.05, "above", None, "suggest.iki.judgement"),
    # not assessable
    ("kuantitas", 100, None, None, 0.05, None, None, "suggest.iki.no_realisation"),
    ("kuantitas", None, None, None, 0.05, None, None, "suggest.iki.no_target"),
    ("kuantitas", None, 50, None, 0.05, None, None, "suggest.iki.no_target"),
    ("kuantitas", 0, 50, None, 0.05, None, None, "suggest.iki.no_target"),
    ("waktu", -1, 50, None, 0.05, None, None, "suggest.iki.no_target"),
    ("kuantitas", float("nan"), 50, None, 0.05, None, None, "suggest.iki.no_target"),
]


@pytest.mark.parametrize("aspect, target, realisation, judgement, threshold, level, achievement, reason", IKI_CASES)
def test_classify_iki(aspect, target, realisation, judgement, threshold, level, achievement, reason):
    result = classify_iki(IkiInput("iki-1", aspect, target, realisation, judgement), threshold)
    assert result.id == "iki-1"
    assert (result.level, result.reason) == (level, reason)
    if achievement is None:
        assert result.achievement is None
    else:
        assert result.achievement == pytest.approx(achievement)
        assert isinstance(result.achievement, float)
    assert result.reason in domain.IKI_REASONS


def test_classify_iki_default_threshold_is_five_percent():
    assert classify_iki(IkiInput("a", "kuantitas", 100, 105)).level == "meets"
    assert classify_iki(IkiInput("a", "kuantitas", 100, 105.0001)).level == "above"


@pytest.mark.parametrize(
    "iki, threshold, code, field",
    [
        (IkiInput("a", "kualitas", None, None, "great"), 0.05, "rating.invalid", "judgement"),
        (IkiInput("a", "kuantitas", 100, 90, "Meets"), 0.05, "rating.invalid", "judgement"),
        (IkiInput("a", "kuantitas", 100, -1), 0.05, "realisation.invalid", "realisation"),
        (IkiInput("a", "kuantitas", 100, float("nan")), 0.05, "realisation.invalid", "realisation"),
        (IkiInput("a", "kuantitas", 100, float("inf")), 0.05, "realisation.invalid", "realisation"),
        (IkiInput("a", "kuantitas", 100, "12"), 0.05, "realisation.invalid", "realisation"),
        (IkiInput("a", "kuantitas", 100, True), 0.05, "realisation.invalid", "realisation"),
        (IkiInput("a", "kuantitas", 100, 100), -0.01, "suggest.threshold", "threshold"),
        (IkiInput("a", "kuantitas", 100, 100), float("nan"), "suggest.threshold", "threshold"),
    ],
)
def test_classify_iki_errors(iki, threshold, code, field):
    with pytest.raises(DomainError) as exc:
        classify_iki(iki, threshold)
    assert (exc.value.code, exc.value.field) == (code, field)


def test_classify_iki_error_names_the_iki():
    with pytest.raises(DomainError) as exc:
        classify_iki(IkiInput("iki-7", "kuantitas", 10, -3))
    assert exc.value.params["iki"] == "iki-7"


# =========================================================================== suggestion: RHK


@pytest.mark.parametrize(
    "levels, expected",
    [
        (["above"], "above"),
        (["above", "above", "above"], "above"),
        (["above", "meets"], "meets"),
        (["meets", "meets"], "meets"),
        (["above", "above", "below"], "below"),  # any below
        (["below"], "below"),
        (["meets", "below", None], "below"),
        (["above", None], "above"),  # None ignored
        (["above", None, "meets"], "meets"),
        ([None, None], None),
        ([], None),
    ],
)
def test_classify_rhk(levels, expected):
    assert classify_rhk(levels) == expected
    assert classify_rhk(iter(levels)) == expected


def test_classify_rhk_accepts_iki_classes():
    classes = [IkiClass("a", 1.2, "above", "suggest.iki.above"), IkiClass("b", None, None, "suggest.iki.no_target")]
    assert classify_rhk(classes) == "above"


def test_classify_rhk_invalid_level():
    with pytest.raises(DomainError) as exc:
        classify_rhk(["above", "fine"])
    assert exc.value.code == "rating.invalid"


# =========================================================================== suggestion: rating hasil kerja

# One IKI per RHK whose level is known: target 100, realisation below.
_REALISATION = {"above": 120, "meets": 100, "below": 80, None: None}


def _rhk(spec: str, index: int) -> RhkInput:
    """``"U+"`` utama above, ``"T="`` tambahan meets, ``"U-"`` utama below, ``"T?"`` not assessable."""
    kind = {"U": "utama", "T": "tambahan"}[spec[0]]
    level = {"+": "above", "=": "meets", "-": "below", "?": None}[spec[1]]
    return RhkInput(f"rhk-{index}", kind, (IkiInput(f"iki-{index}", "kuantitas", 100, _REALISATION[level]),))


SUGGESTION_CASES = [
    # RHK specs, rating, reason
    (["U+"], "above", "suggest.above"),
    (["U="], "meets", "suggest.meets"),
    (["U-"], "below", "suggest.below"),
    (["U+", "T="], "meets", "suggest.meets"),  # 1 of 2 is not more than half
    (["U+", "T+", "U=", "T="], "meets", "suggest.meets"),  # 2 of 4 above → sesuai
    (["U+", "T+", "U+", "T="], "above", "suggest.above"),  # 3 of 4 above
    (["U+", "T+", "T+", "U-"], "meets", "suggest.utama_below"),  # utama below blocks above
    (["U+", "U+", "U+", "T-"], "above", "suggest.above"),  # a tambahan below does not
    (["U-", "T-", "U=", "T+"], "meets", "suggest.meets"),  # 2 of 4 below → sesuai
    (["U-", "T-", "U-", "T+"], "below", "suggest.below"),  # 3 of 4 below
    (["T-", "T-", "U="], "below", "suggest.below"),
    (["U+", "T+", "U?", "T?"], "above", "suggest.above"),  # not assessable RHK are ignored
    (["U+", "U=", "T?"], "meets", "suggest.meets"),
    (["U-", "T?", "T?"], "below", "suggest.below"),
    (["U?", "T?"], None, "suggest.not_assessable"),
    ([], None, "suggest.not_assessable"),
]


@pytest.mark.parametrize("specs, rating, reason", SUGGESTION_CASES)
def test_suggest_hasil(specs, rating, reason):
    suggestion = suggest_hasil([_rhk(spec, i) for i, spec in enumerate(specs)])
    assert (suggestion.rating, suggestion.reason) == (rating, reason)
    expected_counts = {
        "above": sum(s[1] == "+" for s in specs),
        "meets": sum(s[1] == "=" for s in specs),
        "below": sum(s[1] == "-" for s in specs),
        "not_assessable": sum(s[1] == "?" for s in specs),
    }
    assert suggestion.counts == expected_counts
    assert [c.id for c in suggestion.rhk] == [f"rhk-{i}" for i in range(len(specs))]
    assert suggestion.reason in domain.SUGGESTION_REASONS


def test_suggestion_is_explainable():
    rhk = [
        RhkInput(
            "r1",
            "utama",
            (
                IkiInput("k1", "kuantitas", 12, 14),  # 1.1667 above
                IkiInput("w1", "waktu", 12, 10),  # 1.2 above
            ),
        ),
        RhkInput(
            "r2",
            "utama",
            (
                IkiInput("k2", "kuantitas", 10, 10.5),  # 1.05 meets
                IkiInput("q2", "kualitas", None, None, "above"),  # judgement
                IkiInput("b2", "biaya", 100, None),  # no realisation, ignored
            ),
        ),
        RhkInput("r3", "tambahan", (IkiInput("q3", "kualitas", None, None, "above"),)),
    ]
    s = suggest_hasil(rhk)
    assert (s.rating, s.reason) == ("above", "suggest.above")
    assert [(c.id, c.kind, c.level) for c in s.rhk] == [
        ("r1", "utama", "above"),
        ("r2", "utama", "meets"),
        ("r3", "tambahan", "above"),
    ]
    assert [(i.id, i.level, i.reason) for i in s.rhk[1].iki] == [
        ("k2", "meets", "suggest.iki.meets"),
        ("q2", "above", "suggest.iki.judgement"),
        ("b2", None, "suggest.iki.no_realisation"),
    ]
    assert s.rhk[0].iki[1].achievement == pytest.approx(1.2)


def test_suggest_hasil_threshold_passes_through():
    rhk = [RhkInput("r", "utama", (IkiInput("k", "kuantitas", 100, 103),))]
    assert suggest_hasil(rhk).rating == "meets"
    assert suggest_hasil(rhk, threshold=0.02).rating == "above"


@pytest.mark.parametrize(
    "rhk, threshold, code, field",
    [
        ([RhkInput("r", "main", ())], 0.05, "rhk.kind", "kind"),
        (
            [RhkInput("r", "utama", (IkiInput("k", "kualitas", None, None, "good"),))],
            0.05,
            "rating.invalid",
            "judgement",
        ),
        ([], -1, "suggest.threshold", "threshold"),
    ],
)
def test_suggest_hasil_errors(rhk, threshold, code, field):
    with pytest.raises(DomainError) as exc:
        suggest_hasil(rhk, threshold)
    assert (exc.value.code, exc.value.field) == (code, field)


def test_suggestion_values_are_immutable():
    s = suggest_hasil([_rhk("U+", 0)])
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.rating = "below"


# =========================================================================== distribution rules (DOMAIN.md §5)

# The DOMAIN.md §5 table, row by row.
DOMAIN_TABLE = [
    # Istimewa: at most 70 % Sangat Baik; rest any
    {"org_result": "ISTIMEWA", "bound": "max", "predikats": [SB], "percent": 70, "count": None},
    # Baik: at most 70 % Baik; at least one Butuh Perbaikan or Kurang/Misconduct; rest any
    {"org_result": "BAIK", "bound": "max", "predikats": [B], "percent": 70, "count": None},
    {"org_result": "BAIK", "bound": "min", "predikats": [BP, KM], "percent": None, "count": 1},
    # Butuh Perbaikan: at least 60 % Butuh Perbaikan; at most 10 % Sangat Baik
    {"org_result": "BUTUH_PERBAIKAN", "bound": "min", "predikats": [BP], "percent": 60, "count": None},
    {"org_result": "BUTUH_PERBAIKAN", "bound": "max", "predikats": [SB], "percent": 10, "count": None},
    # Kurang: at least 60 % Kurang/Misconduct; at least 10 % Butuh Perbaikan; at most 10 % Sangat Baik
    {"org_result": "KURANG", "bound": "min", "predikats": [KM], "percent": 60, "count": None},
    {"org_result": "KURANG", "bound": "min", "predikats": [BP], "percent": 10, "count": None},
    {"org_result": "KURANG", "bound": "max", "predikats": [SB], "percent": 10, "count": None},
    # Sangat Kurang: at least 60 % Sangat Kurang; at least 10 % Kurang/Misconduct or Butuh Perbaikan;
    # no Sangat Baik
    {"org_result": "SANGAT_KURANG", "bound": "min", "predikats": [SK], "percent": 60, "count": None},
    {"org_result": "SANGAT_KURANG", "bound": "min", "predikats": [KM, BP], "percent": 10, "count": None},
    {"org_result": "SANGAT_KURANG", "bound": "max", "predikats": [SB], "percent": None, "count": 0},
]


def test_default_rules_are_the_domain_table():
    assert [rule_to_dict(rule) for rule in DEFAULT_RULES] == [{**row, "rounding": "nearest"} for row in DOMAIN_TABLE]
    assert {rule.org_result for rule in DEFAULT_RULES} == set(ORG_RESULTS)


@pytest.mark.parametrize("rule", DEFAULT_RULES)
def test_rule_dict_round_trip(rule):
    assert rule_from_dict(rule_to_dict(rule)) == rule


def test_rule_from_dict_defaults_and_types():
    rule = rule_from_dict({"org_result": "BAIK", "bound": "max", "predikats": ["BAIK"], "percent": 70})
    assert rule == DistributionRule("BAIK", "max", ("BAIK",), percent=70.0, rounding="nearest")
    assert isinstance(rule.percent, float)
    rule = rule_from_dict(
        {
            "org_result": "KURANG",
            "bound": "min",
            "predikats": ("BUTUH_PERBAIKAN",),
            "percent": Decimal("12.5"),
            "rounding": "ceil",
            "count": None,
        }
    )
    assert (rule.percent, rule.rounding) == (12.5, "ceil")


_OK = {"org_result": "BAIK", "bound": "max", "predikats": ["BAIK"], "percent": 70}


@pytest.mark.parametrize(
    "changes, code, field",
    [
        ({"org_result": "LUAR_BIASA"}, "org_result.invalid", "org_result"),
        ({"org_result": "baik"}, "org_result.invalid", "org_result"),
        ({"bound": "at_most"}, "curve.bound", "bound"),
        ({"predikats": ["BAIK", "CUKUP"]}, "predikat.invalid", "predikats"),
        ({"predikats": []}, "curve.predikats", "predikats"),
        ({"predikats": "BAIK"}, "curve.predikats", "predikats"),
        ({"predikats": ["BAIK", "BAIK"]}, "curve.predikats", "predikats"),
        ({"rounding": "bankers"}, "curve.rounding", "rounding"),
        ({"percent": 101}, "curve.percent", "percent"),
        ({"percent": -1}, "curve.percent", "percent"),
        ({"percent": "70"}, "curve.percent", "percent"),
        ({"percent": True}, "curve.percent", "percent"),
        ({"percent": float("inf")}, "curve.percent", "percent"),
        ({"percent": None}, "curve.amount", "percent"),  # neither percent nor count
        ({"count": 2}, "curve.amount", "percent"),  # both
        ({"percent": None, "count": -1}, "curve.count", "count"),
        ({"percent": None, "count": 1.5}, "curve.count", "count"),
        ({"percent": None, "count": True}, "curve.count", "count"),
        ({"percentage": 70}, "curve.unknown_field", "percentage"),
        ({"org_result": None}, "curve.required", "org_result"),
        ({"bound": None}, "curve.required", "bound"),
        ({"predikats": None}, "curve.required", "predikats"),
    ],
)
def test_rule_from_dict_errors(changes, code, field):
    with pytest.raises(DomainError) as exc:
        rule_from_dict({**_OK, **changes})
    assert (exc.value.code, exc.value.field) == (code, field)


def test_rule_from_dict_needs_a_mapping():
    with pytest.raises(DomainError) as exc:
        rule_from_dict(["BAIK"])
    assert exc.value.code == "curve.rule"


def test_rules_cannot_be_built_invalid():
    with pytest.raises(DomainError):
        DistributionRule("BAIK", "max", ["BAIK"], percent=70)  # predikats must be a tuple
    with pytest.raises(DomainError):
        DistributionRule("BAIK", "most", ("BAIK",), percent=70)


# =========================================================================== allowed_count


def _pct(percent, rounding="nearest", bound="max"):
    return DistributionRule("BAIK", bound, ("BAIK",), percent=percent, rounding=rounding)


@pytest.mark.parametrize(
    "percent, headcount, floor, ceil, nearest",
    [
        (70, 10, 7, 7, 7),  # exact: 0.7 × 10 is not 7.000000000000001
        (70, 7, 4, 5, 5),  # 4.9
        (70, 3, 2, 3, 2),  # 2.1
        (70, 1, 0, 1, 1),  # 0.7
        (60, 3, 1, 2, 2),  # 1.8
        (60, 10, 6, 6, 6),
        (60, 5, 3, 3, 3),
        (10, 7, 0, 1, 1),  # 0.7
        (10, 3, 0, 1, 0),  # 0.3
        (10, 5, 0, 1, 1),  # 0.5 → half up
        (10, 15, 1, 2, 2),  # 1.5 → half up
        (50, 1, 0, 1, 1),
        (12.5, 4, 0, 1, 1),  # 0.5
        (0, 9, 0, 0, 0),
        (100, 9, 9, 9, 9),
        (70, 0, 0, 0, 0),
    ],
)
def test_allowed_count_rounding(percent, headcount, floor, ceil, nearest):
    assert allowed_count(_pct(percent, "floor"), headcount) == floor
    assert allowed_count(_pct(percent, "ceil"), headcount) == ceil
    assert allowed_count(_pct(percent, "nearest"), headcount) == nearest
    assert allowed_count(_pct(percent), headcount) == nearest  # nearest is the default


@pytest.mark.parametrize("count, headcount", [(1, 10), (1, 1), (0, 5), (3, 0)])
def test_allowed_count_absolute(count, headcount):
    assert allowed_count(DistributionRule("BAIK", "min", ("BAIK",), count=count), headcount) == count


@pytest.mark.parametrize("headcount", [-1, 2.5, True])
def test_allowed_count_bad_headcount(headcount):
    with pytest.raises(ValueError):
        allowed_count(_pct(70), headcount)


# =========================================================================== check_distribution


def _rule(org_result, bound, *predikats):
    [rule] = [r for r in DEFAULT_RULES if (r.org_result, r.bound, r.predikats) == (org_result, bound, predikats)]
    return rule


DISTRIBUTION_CASES = [
    # org result, counts, expected violations as (bound, predikats, required, actual, code)
    # --- ISTIMEWA: at most 70 % Sangat Baik
    ("ISTIMEWA", {SB: 7, B: 3}, []),
    ("ISTIMEWA", {SB: 8, B: 2}, [("max", (SB,), 7, 8, "curve.max_exceeded")]),
    ("ISTIMEWA", {SB: 1}, []),  # one-person unit: 0.7 rounds to 1
    ("ISTIMEWA", {SB: 3}, [("max", (SB,), 2, 3, "curve.max_exceeded")]),  # 2.1 → 2
    ("ISTIMEWA", {SB: 2, SK: 1}, []),
    ("ISTIMEWA", {B: 5, BP: 3, KM: 1, SK: 1}, []),  # rest any
    # --- BAIK: at most 70 % Baik; at least one Butuh Perbaikan or Kurang/Misconduct
    ("BAIK", {B: 7, BP: 1, SB: 2}, []),
    ("BAIK", {B: 8, BP: 1, SB: 1}, [("max", (B,), 7, 8, "curve.max_exceeded")]),
    ("BAIK", {B: 7, SB: 3}, [("min", (BP, KM), 1, 0, "curve.min_missing")]),
    ("BAIK", {B: 8, SB: 2}, [("max", (B,), 7, 8, "curve.max_exceeded"), ("min", (BP, KM), 1, 0, "curve.min_missing")]),
    ("BAIK", {B: 7, KM: 1, SB: 2}, []),  # Kurang/Misconduct also satisfies the minimum
    ("BAIK", {B: 7, SK: 3}, [("min", (BP, KM), 1, 0, "curve.min_missing")]),  # Sangat Kurang does not
    ("BAIK", {B: 1}, [("min", (BP, KM), 1, 0, "curve.min_missing")]),  # one-person unit
    ("BAIK", {BP: 1}, []),
    ("BAIK", {B: 5, BP: 2}, []),  # headcount 7: 4.9 rounds to 5
    ("BAIK", {B: 6, BP: 1}, [("max", (B,), 5, 6, "curve.max_exceeded")]),
    ("BAIK", {B: 2, KM: 1}, []),  # headcount 3: 2.1 → 2
    ("BAIK", {B: 3, KM: 1}, []),  # headcount 4: 2.8 → 3
    ("BAIK", {B: 4, KM: 1}, []),  # headcount 5: 3.5 → 4 (halves round up)
    ("BAIK", {B: 5, KM: 1}, [("max", (B,), 4, 5, "curve.max_exceeded")]),  # headcount 6: 4.2 → 4
    # --- BUTUH_PERBAIKAN: at least 60 % Butuh Perbaikan; at most 10 % Sangat Baik
    ("BUTUH_PERBAIKAN", {BP: 6, B: 3, SB: 1}, []),  # 60 % exactly, 10 % exactly
    ("BUTUH_PERBAIKAN", {BP: 5, B: 5}, [("min", (BP,), 6, 5, "curve.min_missing")]),
    ("BUTUH_PERBAIKAN", {BP: 6, B: 2, SB: 2}, [("max", (SB,), 1, 2, "curve.max_exceeded")]),
    ("BUTUH_PERBAIKAN", {BP: 2, B: 1}, []),  # headcount 3: 1.8 → 2
    ("BUTUH_PERBAIKAN", {BP: 1, B: 2}, [("min", (BP,), 2, 1, "curve.min_missing")]),
    ("BUTUH_PERBAIKAN", {BP: 1}, []),  # one-person unit: 0.6 → 1
    ("BUTUH_PERBAIKAN", {B: 1}, [("min", (BP,), 1, 0, "curve.min_missing")]),
    ("BUTUH_PERBAIKAN", {BP: 5, SB: 1, B: 1}, []),  # headcount 7: SB 0.7 → 1; BP 4.2 → 4
    ("BUTUH_PERBAIKAN", {BP: 3, SB: 1}, [("max", (SB,), 0, 1, "curve.max_exceeded")]),  # headcount 4: 0.4 → 0
    # --- KURANG: at least 60 % Kurang/Misconduct; at least 10 % Butuh Perbaikan; at most 10 % Sangat Baik
    ("KURANG", {KM: 6, BP: 1, SB: 1, B: 2}, []),
    ("KURANG", {KM: 5, BP: 1, B: 4}, [("min", (KM,), 6, 5, "curve.min_missing")]),
    ("KURANG", {KM: 6, B: 4}, [("min", (BP,), 1, 0, "curve.min_missing")]),
    ("KURANG", {KM: 6, BP: 1, SB: 2, B: 1}, [("max", (SB,), 1, 2, "curve.max_exceeded")]),
    (
        "KURANG",
        {KM: 5, SB: 2, B: 3},
        [
            ("min", (KM,), 6, 5, "curve.min_missing"),
            ("min", (BP,), 1, 0, "curve.min_missing"),
            ("max", (SB,), 1, 2, "curve.max_exceeded"),
        ],
    ),
    ("KURANG", {KM: 2, B: 1}, []),  # headcount 3: BP 0.3 → 0
    ("KURANG", {KM: 1}, []),  # one-person unit: KM 0.6 → 1, BP 0.1 → 0
    ("KURANG", {B: 1}, [("min", (KM,), 1, 0, "curve.min_missing")]),
    # --- SANGAT_KURANG: at least 60 % Sangat Kurang; at least 10 % KM or BP; no Sangat Baik
    ("SANGAT_KURANG", {SK: 6, KM: 1, B: 3}, []),
    ("SANGAT_KURANG", {SK: 6, BP: 1, B: 3}, []),
    ("SANGAT_KURANG", {SK: 6, B: 4}, [("min", (KM, BP), 1, 0, "curve.min_missing")]),
    ("SANGAT_KURANG", {SK: 5, KM: 1, B: 4}, [("min", (SK,), 6, 5, "curve.min_missing")]),
    ("SANGAT_KURANG", {SK: 6, KM: 1, SB: 1, B: 2}, [("max", (SB,), 0, 1, "curve.max_exceeded")]),
    ("SANGAT_KURANG", {SK: 1}, []),
    ("SANGAT_KURANG", {SB: 1}, [("min", (SK,), 1, 0, "curve.min_missing"), ("max", (SB,), 0, 1, "curve.max_exceeded")]),
    # --- zero entries count as absent
    ("ISTIMEWA", {SB: 0, B: 0, BP: 0, KM: 0, SK: 0}, []),
]


@pytest.mark.parametrize("org_result, counts, expected", DISTRIBUTION_CASES)
def test_check_distribution(org_result, counts, expected):
    headcount = sum(counts.values())
    want = [
        Violation(_rule(org_result, bound, *predikats), required, actual, headcount, code)
        for bound, predikats, required, actual, code in expected
    ]
    assert check_distribution(org_result, counts) == want


@pytest.mark.parametrize("org_result", ORG_RESULTS)
def test_empty_unit_has_no_violations(org_result):
    assert check_distribution(org_result, {}) == []
    assert check_distribution(org_result, {SB: 0}) == []


@pytest.mark.parametrize(
    "rounding, counts, violated",
    [
        # headcount 3 under BUTUH_PERBAIKAN, 60 % = 1.8
        ("floor", {BP: 1, B: 2}, False),
        ("ceil", {BP: 1, B: 2}, True),
        ("nearest", {BP: 1, B: 2}, True),
        # headcount 7, 60 % = 4.2
        ("floor", {BP: 4, B: 3}, False),
        ("nearest", {BP: 4, B: 3}, False),
        ("ceil", {BP: 4, B: 3}, True),
    ],
)
def test_rounding_changes_the_verdict_of_a_minimum(rounding, counts, violated):
    rules = [DistributionRule("BUTUH_PERBAIKAN", "min", (BP,), percent=60, rounding=rounding)]
    assert bool(check_distribution("BUTUH_PERBAIKAN", counts, rules)) is violated


@pytest.mark.parametrize(
    "rounding, counts, violated",
    [
        # headcount 7 under BAIK, 70 % = 4.9
        ("floor", {B: 5, BP: 2}, True),
        ("nearest", {B: 5, BP: 2}, False),
        ("ceil", {B: 5, BP: 2}, False),
        # headcount 3, 70 % = 2.1
        ("nearest", {B: 3}, True),
        ("ceil", {B: 3}, False),
        ("floor", {B: 2, BP: 1}, False),
    ],
)
def test_rounding_changes_the_verdict_of_a_maximum(rounding, counts, violated):
    rules = [DistributionRule("BAIK", "max", (B,), percent=70, rounding=rounding)]
    assert bool(check_distribution("BAIK", counts, rules)) is violated


def test_check_distribution_uses_only_the_rules_of_the_org_result():
    rules = [DistributionRule("ISTIMEWA", "max", (SB,), count=0), DistributionRule("BAIK", "max", (SB,), count=1)]
    [violation] = check_distribution("BAIK", {SB: 2}, rules)
    assert violation == Violation(rules[1], 1, 2, 2, "curve.max_exceeded")
    assert check_distribution("KURANG", {SB: 2}, rules) == []


def test_absolute_minimum_is_capped_at_the_headcount():
    rule = DistributionRule("BAIK", "min", (BP, KM), count=2)
    assert allowed_count(rule, 1) == 2
    assert check_distribution("BAIK", {BP: 1}, [rule]) == []
    assert check_distribution("BAIK", {B: 1}, [rule]) == [Violation(rule, 1, 0, 1, "curve.min_missing")]
    assert check_distribution("BAIK", {BP: 1, B: 2}, [rule]) == [Violation(rule, 2, 1, 3, "curve.min_missing")]


@pytest.mark.parametrize(
    "org_result, counts, exc_type, code, field",
    [
        ("LUAR_BIASA", {B: 1}, DomainError, "org_result.invalid", "org_result"),
        ("BAIK", {"CUKUP": 1}, DomainError, "predikat.invalid", "counts"),
        ("BAIK", {B: -1}, ValueError, None, None),
        ("BAIK", {B: 1.5}, ValueError, None, None),
    ],
)
def test_check_distribution_errors(org_result, counts, exc_type, code, field):
    for func in (check_distribution, curve):
        with pytest.raises(exc_type) as exc:
            func(org_result, counts)
        if code:
            assert (exc.value.code, exc.value.field) == (code, field)


# =========================================================================== curve bands


def test_curve_baik_unit_of_ten():
    bands = curve("BAIK", {B: 7, BP: 1, SB: 2})
    assert bands == [
        Band(SB, 2, 20.0, None, None),
        Band(B, 7, 70.0, None, 7),
        Band(BP, 1, 10.0, None, None),  # the multi-predikat minimum is a violation matter only
        Band(KM, 0, 0.0, None, None),
        Band(SK, 0, 0.0, None, None),
    ]


def test_curve_kurang_unit_of_seven():
    bands = {band.predikat: band for band in curve("KURANG", {KM: 4, BP: 1, SB: 1, B: 1})}
    assert [p for p in bands] == list(PREDIKATS)
    assert (bands[KM].min_count, bands[KM].max_count) == (4, None)  # 4.2 → 4
    assert (bands[BP].min_count, bands[BP].max_count) == (1, None)  # 0.7 → 1
    assert (bands[SB].min_count, bands[SB].max_count) == (None, 1)  # 0.7 → 1
    assert (bands[B].min_count, bands[B].max_count) == (None, None)
    assert bands[KM].percent == pytest.approx(400 / 7)
    assert sum(b.count for b in bands.values()) == 7


@pytest.mark.parametrize(
    "org_result, bounds",
    [
        ("ISTIMEWA", {SB: (None, 7)}),
        ("BAIK", {B: (None, 7)}),
        ("BUTUH_PERBAIKAN", {BP: (6, None), SB: (None, 1)}),
        ("KURANG", {KM: (6, None), BP: (1, None), SB: (None, 1)}),
        ("SANGAT_KURANG", {SK: (6, None), SB: (None, 0)}),
    ],
)
def test_curve_bounds_per_org_result(org_result, bounds):
    bands = curve(org_result, {B: 10})
    assert [b.predikat for b in bands] == list(PREDIKATS)
    for band in bands:
        assert (band.min_count, band.max_count) == bounds.get(band.predikat, (None, None))


def test_curve_of_an_empty_unit():
    bands = curve("KURANG", {})
    assert [(b.count, b.percent) for b in bands] == [(0, 0.0)] * 5
    assert {b.predikat: (b.min_count, b.max_count) for b in bands}[KM] == (0, None)


def test_curve_takes_the_tightest_bound():
    rules = [
        DistributionRule("BAIK", "max", (B,), percent=70),
        DistributionRule("BAIK", "max", (B,), count=5),
        DistributionRule("BAIK", "min", (BP,), count=1),
        DistributionRule("BAIK", "min", (BP,), percent=20),
    ]
    bands = {b.predikat: b for b in curve("BAIK", {B: 10}, rules)}
    assert (bands[B].min_count, bands[B].max_count) == (None, 5)
    assert (bands[BP].min_count, bands[BP].max_count) == (2, None)


# =========================================================================== evaluation lifecycle (DOMAIN.md §6)

EVALUATION_ACTIONS = ("self_assess", "rate", "sign", "acknowledge", "countersign", "reopen")
EVALUATION_TABLE = {
    ("open", "self_assess"): "self_assessed",
    ("open", "rate"): "rated",
    ("self_assessed", "rate"): "rated",
    ("rated", "rate"): "rated",
    ("rated", "sign"): "signed",
    ("signed", "acknowledge"): "acknowledged",
    ("acknowledged", "countersign"): "countersigned",
}


@pytest.mark.parametrize("status", EVALUATION_STATUSES)
@pytest.mark.parametrize("action", EVALUATION_ACTIONS)
def test_evaluation_transition(status, action):
    expected = EVALUATION_TABLE.get((status, action))
    if expected is not None:
        assert evaluation_transition(status, action) == expected
    else:
        with pytest.raises(InvalidTransition) as exc:
            evaluation_transition(status, action)
        assert exc.value.code == "evaluation.transition"
        assert exc.value.params == {"status": status, "action": action}


def test_evaluation_actions_constant():
    assert domain.EVALUATION_ACTIONS == EVALUATION_ACTIONS[:-1]


@pytest.mark.parametrize("status, action", [("closed", "rate"), (None, "rate"), ("open", None), (["open"], "rate")])
def test_evaluation_transition_unknown(status, action):
    with pytest.raises(InvalidTransition):
        evaluation_transition(status, action)


@pytest.mark.parametrize(
    "status, expected",
    [
        ("open", False),
        ("self_assessed", False),
        ("rated", False),
        ("signed", True),
        ("acknowledged", True),
        ("countersigned", True),
    ],
)
def test_frozen(status, expected):
    assert frozen(status) is expected


def test_frozen_unknown_status():
    with pytest.raises(ValueError):
        frozen("archived")


@pytest.mark.parametrize(
    "status, demanded, raises",
    [
        ("open", True, True),
        ("open", False, False),
        ("self_assessed", True, False),
        ("rated", True, False),
        ("self_assessed", False, False),
    ],
)
def test_require_self_assessment_first(status, demanded, raises):
    if raises:
        with pytest.raises(DomainError) as exc:
            require_self_assessment_first(status, demanded)
        assert exc.value.code == "evaluation.self_assessment_required"
    else:
        assert require_self_assessment_first(status, demanded) is None


# =========================================================================== objections (PP 30/2019 Pasal 59)

ACK = date(2025, 1, 20)


def test_objection_closes_on():
    assert objection_closes_on(ACK) == date(2025, 2, 3)
    assert objection_closes_on(ACK, 7) == date(2025, 1, 27)
    assert objection_closes_on(date(2024, 12, 25)) == date(2025, 1, 8)  # across the year
    assert objection_closes_on(date(2024, 2, 20)) == date(2024, 3, 5)  # leap February
    assert objection_closes_on(datetime(2025, 1, 20, 16, 30)) == date(2025, 2, 3)
    with pytest.raises(ValueError):
        objection_closes_on(ACK, -1)


@pytest.mark.parametrize(
    "day, outcome",
    [
        (-1, "objection.before_acknowledgement"),
        (0, None),
        (1, None),
        (13, None),
        (14, None),  # filing on the last day is still allowed
        (15, "objection.window_closed"),
        (30, "objection.window_closed"),
    ],
)
def test_objection_window(day, outcome):
    today = ACK + timedelta(days=day)
    if outcome is None:
        assert check_objection_window(ACK, today) is None
        return
    with pytest.raises(DomainError) as exc:
        check_objection_window(ACK, today)
    assert exc.value.code == outcome
    if outcome == "objection.window_closed":
        assert isinstance(exc.value, ObjectionWindowClosed)
        assert exc.value.params["closed_on"] == "2025-02-03"
    else:
        assert not isinstance(exc.value, ObjectionWindowClosed)


def test_objection_window_configurable_days_and_datetimes():
    check_objection_window(ACK, ACK + timedelta(days=7), days=7)
    with pytest.raises(ObjectionWindowClosed) as exc:
        check_objection_window(ACK, ACK + timedelta(days=8), days=7)
    assert exc.value.params == {"closed_on": "2025-01-27"}
    check_objection_window(datetime(2025, 1, 20, 23, 0), datetime(2025, 2, 3, 23, 59))
    with pytest.raises(ObjectionWindowClosed):
        check_objection_window(datetime(2025, 1, 20, 23, 0), datetime(2025, 2, 4, 0, 1))


OBJECTION_ACTIONS = ("review", "statement", "decide", "withdraw")
OBJECTION_TABLE = {
    ("filed", "review"): "under_review",
    ("filed", "statement"): "under_review",
    ("under_review", "statement"): "under_review",
    ("filed", "decide"): "decided",
    ("under_review", "decide"): "decided",
}


@pytest.mark.parametrize("status", OBJECTION_STATUSES)
@pytest.mark.parametrize("action", OBJECTION_ACTIONS)
def test_objection_transition(status, action):
    expected = OBJECTION_TABLE.get((status, action))
    if expected is not None:
        assert objection_transition(status, action) == expected
    else:
        with pytest.raises(InvalidTransition) as exc:
            objection_transition(status, action)
        assert exc.value.code == "objection.transition"
        assert exc.value.params == {"status": status, "action": action}


# =========================================================================== follow-up (DOMAIN.md §7)

IKI_LEVELS = {"k1": "above", "k2": "below", "w1": None, "q1": "meets", "b1": "below"}
VALUE_LEVELS = {"kolaboratif": "below", "akuntabel": "below", "loyal": "meets", "adaptif": None}


@pytest.mark.parametrize(
    "pred, expected",
    [
        (SB, FollowUp("recognition", (), ())),
        (B, FollowUp("none", (), ())),
        (BP, FollowUp("development", ("k2", "b1"), ("akuntabel", "kolaboratif"))),
        (KM, FollowUp("development", ("k2", "b1"), ("akuntabel", "kolaboratif"))),
        (SK, FollowUp("development", ("k2", "b1"), ("akuntabel", "kolaboratif"))),
    ],
)
def test_follow_up(pred, expected):
    assert follow_up(pred, IKI_LEVELS, VALUE_LEVELS) == expected


def test_follow_up_development_with_nothing_below():
    assert follow_up(BP, {"k1": "meets"}, {"loyal": "meets"}) == FollowUp("development", (), ())


@pytest.mark.parametrize(
    "pred, iki, values, code",
    [
        ("CUKUP", {}, {}, "predikat.invalid"),
        (BP, {"k1": "bad"}, {}, "rating.invalid"),
        (BP, {}, {"loyal": "bad"}, "rating.invalid"),
        (BP, {}, {"jujur": "below"}, "behaviour.unknown_value"),
    ],
)
def test_follow_up_errors(pred, iki, values, code):
    with pytest.raises(DomainError) as exc:
        follow_up(pred, iki, values)
    assert exc.value.code == code


# =========================================================================== rater consistency


def test_rater_consistency_signs():
    stats = rater_consistency(
        {
            "severe": ["below", "below", "meets", "meets"],  # mean -0.5
            "lenient": ["above", "above", "above", "meets"],  # mean 0.75
            "middle": ["meets", "meets", "above", "below"],  # mean 0
        }
    )
    reference_mean = (-2 + 3 + 0) / 12
    assert [s.rater for s in stats] == ["lenient", "middle", "severe"]
    by_rater = {s.rater: s for s in stats}
    assert by_rater["lenient"].index > 0
    assert by_rater["severe"].index < 0
    assert by_rater["lenient"].mean == pytest.approx(0.75)
    assert by_rater["severe"].mean == pytest.approx(-0.5)
    assert by_rater["middle"].index == pytest.approx(-reference_mean)
    for s in stats:
        assert s.reference_mean == pytest.approx(reference_mean)
        assert s.index == pytest.approx(s.mean - reference_mean)
        assert s.n == 4
    assert by_rater["lenient"].counts == {"above": 3, "meets": 1, "below": 0}
    assert by_rater["severe"].counts == {"above": 0, "meets": 2, "below": 2}


def test_rater_consistency_explicit_reference_and_empty_rater():
    stats = rater_consistency({"a": ["meets", "meets"], "b": []}, reference=["above", "meets"])
    by_rater = {s.rater: s for s in stats}
    assert by_rater["a"].reference_mean == pytest.approx(0.5)
    assert by_rater["a"].index == pytest.approx(-0.5)
    assert (by_rater["b"].n, by_rater["b"].mean, by_rater["b"].index) == (0, 0.0, 0.0)
    assert [s.rater for s in stats] == ["b", "a"]  # index 0 before -0.5


def test_rater_consistency_ties_sort_by_rater_and_empty_input():
    stats = rater_consistency({"z": ["meets"], "a": ["meets"]})
    assert [s.rater for s in stats] == ["a", "z"]
    assert all(s.index == 0 for s in stats)
    assert rater_consistency({}) == []


def test_rater_consistency_invalid_rating():
    with pytest.raises(DomainError) as exc:
        rater_consistency({"a": ["meets", "great"]})
    assert exc.value.code == "rating.invalid"


# =========================================================================== peer feedback


def _peer(**ratings):
    return dict(ratings)


def test_peer_aggregate_needs_three_raters():
    two = [_peer(loyal="above", adaptif="meets"), _peer(loyal="meets")]
    assert peer_aggregate(two) is None
    three = two + [_peer(loyal="below", kolaboratif="above")]
    result = peer_aggregate(three)
    assert list(result) == list(BERAKHLAK)
    assert result["loyal"] == {"above": 1, "meets": 1, "below": 1, "n": 3}
    assert result["adaptif"] == {"above": 0, "meets": 1, "below": 0, "n": 1}
    assert result["kolaboratif"] == {"above": 1, "meets": 0, "below": 0, "n": 1}
    assert result["akuntabel"] == {"above": 0, "meets": 0, "below": 0, "n": 0}


def test_peer_aggregate_counts_only_peers_who_answered():
    answers = [_peer(loyal="above"), _peer(loyal="meets"), {}, _peer(loyal=None)]
    assert peer_aggregate(answers) is None
    assert peer_aggregate(answers, minimum=2)["loyal"] == {"above": 1, "meets": 1, "below": 0, "n": 2}


def test_peer_aggregate_minimum_is_configurable():
    assert peer_aggregate([_peer(harmonis="above")], minimum=1)["harmonis"]["n"] == 1
    assert peer_aggregate([], minimum=0) == {v: {"above": 0, "meets": 0, "below": 0, "n": 0} for v in BERAKHLAK}


@pytest.mark.parametrize(
    "answers, code",
    [
        ([_peer(jujur="above")] * 3, "behaviour.unknown_value"),
        ([_peer(loyal="excellent")] * 3, "rating.invalid"),
    ],
)
def test_peer_aggregate_errors(answers, code):
    with pytest.raises(DomainError) as exc:
        peer_aggregate(answers)
    assert exc.value.code == code


# =========================================================================== content hash


def test_content_hash_is_stable_under_key_order():
    a = {"employee": "198503152010012003", "ratings": {"hasil": "meets", "perilaku": "above"}, "predikat": "BAIK"}
    b = {"predikat": "BAIK", "ratings": {"perilaku": "above", "hasil": "meets"}, "employee": "198503152010012003"}
    assert content_hash(a) == content_hash(b)
    assert len(content_hash(a)) == 64 and int(content_hash(a), 16) >= 0


def test_content_hash_is_of_canonical_json():
    document = {"b": [1, 2], "a": "Sangat Baik — é", "d": date(2025, 1, 20)}
    canonical = '{"a":"Sangat Baik — é","b":[1,2],"d":"2025-01-20"}'
    assert content_hash(document) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_content_hash_changes_with_content():
    assert content_hash({"predikat": "BAIK"}) != content_hash({"predikat": "SANGAT_BAIK"})
    assert content_hash({"a": [1, 2]}) != content_hash({"a": [2, 1]})
