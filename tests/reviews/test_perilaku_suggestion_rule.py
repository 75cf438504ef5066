"""The suggested rating perilaku kerja (issue 15, Deliver 2): per BerAKHLAK value the penilai's recorded
level, else the peers' majority, else not assessable — each with its reason; overall below when a value is
below (naming them), above when more than half of the assessable values are above, else meets, none when
no value is assessable. And the values a changed "below" names (objections, calibration)."""

from __future__ import annotations

import pytest

from services.reviews.domain import (
    BERAKHLAK,
    PERILAKU_REASONS,
    VALUE_REASONS,
    DomainError,
    below_values,
    classify_value,
    suggest_perilaku,
)


def _peers(above=0, meets=0, below=0):
    return {"above": above, "meets": meets, "below": below, "n": above + meets + below}


@pytest.mark.parametrize(
    ("level", "peers", "expected", "reason"),
    [
        ("above", None, "above", "suggest.value.penilai"),
        ("below", _peers(above=3), "below", "suggest.value.penilai"),  # the penilai's level wins over peers
        (None, _peers(above=2, meets=1), "above", "suggest.value.peers"),
        (None, _peers(meets=2, below=1), "meets", "suggest.value.peers"),
        (None, _peers(below=3, above=2), "below", "suggest.value.peers"),
        (None, _peers(above=2, below=2), None, "suggest.value.peers_split"),  # half is no majority
        (None, _peers(above=1, meets=1, below=1), None, "suggest.value.peers_split"),
        (None, _peers(), None, "suggest.value.no_level"),  # the peers answered on other values only
        (None, None, None, "suggest.value.no_level"),
    ],
)
def test_classify_value(level, peers, expected, reason):
    c = classify_value("akuntabel", level, peers)
    assert (c.level, c.reason) == (expected, reason)
    assert c.reason in VALUE_REASONS
    assert c.peers == (None if peers is None else peers)


def test_classify_value_errors():
    with pytest.raises(DomainError) as e:
        classify_value("jujur", "above")
    assert e.value.code == "behaviour.unknown_value"
    with pytest.raises(DomainError) as e:
        classify_value("loyal", "great")
    assert (e.value.code, e.value.field) == ("rating.invalid", "value_feedback.loyal")


@pytest.mark.parametrize(
    ("levels", "rating", "reason", "below"),
    [
        ({}, None, "suggest.perilaku.not_assessable", ()),
        ({"loyal": None}, None, "suggest.perilaku.not_assessable", ()),
        ({"loyal": "meets"}, "meets", "suggest.perilaku.meets", ()),
        ({"loyal": "above"}, "above", "suggest.perilaku.above", ()),  # 1 of 1 assessable
        ({"loyal": "above", "adaptif": "meets"}, "meets", "suggest.perilaku.meets", ()),  # half is not more
        ({"loyal": "above", "adaptif": "above", "kompeten": "meets"}, "above", "suggest.perilaku.above", ()),
        (
            dict.fromkeys(BERAKHLAK, "above") | {"kolaboratif": "below"},
            "below",
            "suggest.perilaku.below",
            ("kolaboratif",),
        ),
        (
            {"kolaboratif": "below", "akuntabel": "below"},
            "below",
            "suggest.perilaku.below",
            ("akuntabel", "kolaboratif"),
        ),
    ],
)
def test_suggest_perilaku(levels, rating, reason, below):
    s = suggest_perilaku(levels)
    assert (s.rating, s.reason, s.below_values) == (rating, reason, below)
    assert s.reason in PERILAKU_REASONS
    assert [v.code for v in s.values] == list(BERAKHLAK)  # every value explained, in order
    assert s.counts["not_assessable"] == sum(1 for v in s.values if v.level is None)
    assert sum(s.counts.values()) == len(BERAKHLAK)


def test_suggest_perilaku_takes_the_peers_where_the_penilai_gave_no_level():
    peers = {code: _peers(meets=3) for code in BERAKHLAK} | {"harmonis": _peers(below=2, above=1)}
    s = suggest_perilaku({"loyal": "above", "harmonis": "meets"}, peers)
    by = {v.code: v for v in s.values}
    assert (by["loyal"].level, by["loyal"].reason) == ("above", "suggest.value.penilai")
    assert (by["harmonis"].level, by["harmonis"].reason) == ("meets", "suggest.value.penilai")
    assert (by["adaptif"].level, by["adaptif"].reason) == ("meets", "suggest.value.peers")
    assert by["adaptif"].peers == _peers(meets=3)
    assert (s.rating, s.reason) == ("meets", "suggest.perilaku.meets")
    # without the penilai's level the peers' majority below decides — and names the value
    s = suggest_perilaku({}, peers)
    assert (s.rating, s.reason, s.below_values) == ("below", "suggest.perilaku.below", ("harmonis",))


def test_suggest_perilaku_refuses_unknown_values():
    with pytest.raises(DomainError) as e:
        suggest_perilaku({"jujur": "above"})
    assert e.value.code == "behaviour.unknown_value"
    with pytest.raises(DomainError):
        suggest_perilaku({}, {"jujur": _peers(above=3)})


@pytest.mark.parametrize(
    ("rating", "given", "kept", "values", "errors"),
    [
        ("meets", [], None, None, []),
        ("meets", ["loyal"], ["adaptif"], None, []),  # not "below": no values, whatever was named
        ("below", ["kolaboratif", "loyal", "loyal"], None, ["loyal", "kolaboratif"], []),
        ("below", [], ["adaptif"], ["adaptif"], []),  # already "below": its values are kept
        ("below", ["harmonis"], ["adaptif"], ["harmonis"], []),  # given replace them
        ("below", [], None, [], [("perilaku_below_values", "rating.perilaku_below_values_required")]),
        ("below", ["loyal", "jujur"], None, ["loyal"], [("perilaku_below_values[1]", "behaviour.unknown_value")]),
        ("above", ["jujur"], None, None, [("perilaku_below_values[0]", "behaviour.unknown_value")]),
    ],
)
def test_below_values(rating, given, kept, values, errors):
    assert below_values(rating, given, kept) == (values, errors)
