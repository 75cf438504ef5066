"""The reviews service's rule book: ratings and predikat, the suggested rating, the
distribution curve, the evaluation and objection lifecycles, follow-up, rater
consistency, peer feedback and the evaluation document's content hash.

Pure functions and small value classes only — no Flask, no SQLAlchemy, no I/O and no
clock calls: every date is a parameter. Section references (``DOMAIN.md §n``) point to
``/work/shared/DOMAIN.md``.

Two suggested ratings, both explained per item with reason codes, both ours where the
regulation gives no formula: the rating hasil kerja from indicator achievement
(:func:`suggest_hasil`, the DOMAIN.md §4 rule), and the rating perilaku kerja from the
feedback recorded per BerAKHLAK value (:func:`suggest_perilaku`): each value takes the
level the penilai recorded with their feedback on it, else the level a strict majority
of the peers answered (when the peers' aggregate is shown), else it is not assessable;
the suggestion is **below** when any value is below (naming those values), **above**
when more than half of the assessable values are above and none below, otherwise
**meets**, and none when no value is assessable.

Errors carry *message-catalogue keys* (``"rating.invalid"``-style codes), a field name
and parameters, never user-facing prose: the API layer translates them (DESIGN.md §7).
Wrong *programming* input (a negative headcount, an unknown status in :func:`frozen`) is
a ``ValueError``, as in the plans rule book.

Numbers (targets, realisations, thresholds, percentages) are compared exactly: a float
is read through its shortest decimal form (``1.05`` is exactly 105/100), so a boundary
typed by a person lands on the boundary, not a binary rounding error either side of it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from numbers import Real

from services.common.rules import DomainError  # noqa: F401 (the rule book's error, re-exported)

__all__ = [
    "BERAKHLAK",
    "Band",
    "DECISIONS",
    "DEFAULT_RULES",
    "DistributionRule",
    "DomainError",
    "EVALUATION_ACTIONS",
    "EVALUATION_STATUSES",
    "FollowUp",
    "IKI_REASONS",
    "IkiClass",
    "IkiInput",
    "InvalidTransition",
    "LOWER_IS_BETTER",
    "OBJECTION_ACTIONS",
    "OBJECTION_DAYS",
    "OBJECTION_STATUSES",
    "ORG_RESULTS",
    "ORG_RESULT_HASIL",
    "ObjectionWindowClosed",
    "PEER_MIN_RATERS",
    "PERILAKU_REASONS",
    "PerilakuSuggestion",
    "PREDIKATS",
    "PREDIKAT_MATRIX",
    "RATINGS",
    "RATING_SCORE",
    "ROUNDINGS",
    "RaterStats",
    "RhkClass",
    "RhkInput",
    "SUGGESTION_REASONS",
    "Suggestion",
    "VALUE_REASONS",
    "ValueClass",
    "Violation",
    "allowed_count",
    "below_values",
    "check_distribution",
    "check_objection_window",
    "classify_iki",
    "classify_rhk",
    "classify_value",
    "content_hash",
    "curve",
    "evaluation_transition",
    "follow_up",
    "frozen",
    "objection_closes_on",
    "objection_transition",
    "org_result_to_hasil",
    "peer_aggregate",
    "predikat",
    "rater_consistency",
    "require_self_assessment_first",
    "rule_from_dict",
    "rule_to_dict",
    "suggest_hasil",
    "suggest_perilaku",
]


# --------------------------------------------------------------------------- errors


class InvalidTransition(DomainError):
    """The evaluation's or objection's status does not allow the action (HTTP 409).
    ``params``: ``status`` and ``action``."""


class ObjectionWindowClosed(DomainError):
    """The 14 days to object have passed (PP 30/2019 Pasal 59).
    ``params``: ``closed_on`` — the last day an objection was accepted, ISO date."""


# --------------------------------------------------------------------------- vocabularies (DOMAIN.md §3–5)

#: di atas / sesuai / di bawah ekspektasi (DOMAIN.md §4).
RATINGS = ("above", "meets", "below")
#: Predikat kinerja codes, best first; labels live in the message catalogue.
PREDIKATS = ("SANGAT_BAIK", "BAIK", "BUTUH_PERBAIKAN", "KURANG_MISCONDUCT", "SANGAT_KURANG")
#: Capaian kinerja organisasi, best first (DOMAIN.md §5).
ORG_RESULTS = ("ISTIMEWA", "BAIK", "BUTUH_PERBAIKAN", "KURANG", "SANGAT_KURANG")
#: The seven BerAKHLAK core values, in the regulation's order.
BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
#: IKI aspects where a realisation below target is the better result (DOMAIN.md §4).
LOWER_IS_BETTER = frozenset({"waktu", "biaya"})

_RHK_KINDS = ("utama", "tambahan")


def _rating(value, field: str) -> str:
    if not isinstance(value, str) or value not in RATINGS:
        raise DomainError("rating.invalid", field=field, value=value)
    return value


def _org_result(value) -> str:
    if not isinstance(value, str) or value not in ORG_RESULTS:
        raise DomainError("org_result.invalid", field="org_result", value=value)
    return value


def _predikat(value, field: str = "predikat") -> str:
    if not isinstance(value, str) or value not in PREDIKATS:
        raise DomainError("predikat.invalid", field=field, value=value)
    return value


# --------------------------------------------------------------------------- predikat (DOMAIN.md §4)

#: (rating hasil kerja, rating perilaku kerja) → predikat kinerja, the DOMAIN.md §4 table.
PREDIKAT_MATRIX: dict[tuple[str, str], str] = {
    ("above", "below"): "KURANG_MISCONDUCT",
    ("above", "meets"): "BAIK",
    ("above", "above"): "SANGAT_BAIK",
    ("meets", "below"): "KURANG_MISCONDUCT",
    ("meets", "meets"): "BAIK",
    ("meets", "above"): "BAIK",
    ("below", "below"): "SANGAT_KURANG",
    ("below", "meets"): "BUTUH_PERBAIKAN",
    ("below", "above"): "BUTUH_PERBAIKAN",
}


def predikat(hasil: str, perilaku: str) -> str:
    """The predikat kinerja from the two ratings (DOMAIN.md §4 matrix; rows hasil kerja,
    columns perilaku kerja). A rating outside :data:`RATINGS` raises
    ``DomainError("rating.invalid", field="rating_hasil" | "rating_perilaku", value=...)``,
    hasil checked first."""
    return PREDIKAT_MATRIX[(_rating(hasil, "rating_hasil"), _rating(perilaku, "rating_perilaku"))]


#: Our default reading of "a head of a unit gets the unit's organisational result as
#: rating hasil kerja" (DOMAIN.md §4): the regulation has five organisation results and
#: three ratings, and does not say how they correspond. Istimewa is above expectations,
#: Baik meets them, anything from Butuh Perbaikan down is below. Pass another mapping to
#: :func:`org_result_to_hasil` to configure it.
ORG_RESULT_HASIL: Mapping[str, str] = {
    "ISTIMEWA": "above",
    "BAIK": "meets",
    "BUTUH_PERBAIKAN": "below",
    "KURANG": "below",
    "SANGAT_KURANG": "below",
}


def org_result_to_hasil(org_result: str, mapping: Mapping[str, str] | None = None) -> str:
    """The rating hasil kerja of a head of unit: the unit's organisation result through
    ``mapping`` (default :data:`ORG_RESULT_HASIL`, ours, configurable). Unknown
    ``org_result`` → ``DomainError("org_result.invalid", field="org_result")``; a
    configured mapping that lacks it → ``DomainError("org_result.unmapped",
    field="org_result")`` and one that maps it outside :data:`RATINGS` →
    ``DomainError("rating.invalid", field="rating_hasil")``."""
    _org_result(org_result)
    table = ORG_RESULT_HASIL if mapping is None else mapping
    if org_result not in table:
        raise DomainError("org_result.unmapped", field="org_result", value=org_result)
    return _rating(table[org_result], "rating_hasil")


# --------------------------------------------------------------------------- exact numbers


def _exact(value) -> Fraction | None:
    """``value`` as an exact fraction (floats through their shortest decimal form), or
    None when it is missing, not a number, or not finite."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return Fraction(value) if value.is_finite() else None
    if isinstance(value, Fraction):
        return value
    if isinstance(value, Real):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
        return Fraction(repr(number)) if math.isfinite(number) else None
    return None


def _threshold(threshold) -> Fraction:
    t = _exact(threshold)
    if t is None or t < 0:
        raise DomainError("suggest.threshold", field="threshold", value=threshold)
    return t


# --------------------------------------------------------------------------- suggested rating (DOMAIN.md §4)


@dataclass(frozen=True)
class IkiInput:
    """One IKI as the suggestion sees it. ``judgement`` (in :data:`RATINGS`) is the
    penilai's per-IKI judgement of a qualitative IKI."""

    id: str
    aspect: str
    target_value: float | None
    realisation: float | None
    judgement: str | None = None


@dataclass(frozen=True)
class RhkInput:
    """One RHK: ``kind`` is ``'utama'`` or ``'tambahan'``."""

    id: str
    kind: str
    iki: tuple[IkiInput, ...]


@dataclass(frozen=True)
class IkiClass:
    """How one IKI was classified. ``achievement`` is a = realisation / target (target /
    realisation for :data:`LOWER_IS_BETTER` aspects), None when not computed; ``level``
    None means not assessable; ``reason`` is a catalogue key from :data:`IKI_REASONS`."""

    id: str
    achievement: float | None
    level: str | None
    reason: str


@dataclass(frozen=True)
class RhkClass:
    """How one RHK was classified from its IKI (``level`` None: none assessable)."""

    id: str
    kind: str
    level: str | None
    iki: tuple[IkiClass, ...]


@dataclass(frozen=True)
class Suggestion:
    """The suggested rating hasil kerja with its explanation. ``rating`` is None when no
    RHK can be assessed. ``counts`` has the keys ``above``, ``meets``, ``below`` (RHK per
    level) and ``not_assessable``; ``reason`` is a key from :data:`SUGGESTION_REASONS`."""

    rating: str | None
    rhk: tuple[RhkClass, ...]
    counts: dict[str, int]
    reason: str


#: Why an IKI got its level:
#: ``suggest.iki.above|meets|below`` — from the achievement against the threshold;
#: ``suggest.iki.zero_realisation`` — a lower-is-better IKI realised at 0 (no time, no
#: cost): a is infinite, so *above*, reported with ``achievement`` None;
#: ``suggest.iki.judgement`` — no usable numeric target or no realisation, the penilai's
#: judgement decides;
#: ``suggest.iki.no_target`` — no usable numeric target (missing or ≤ 0) and no judgement;
#: ``suggest.iki.no_realisation`` — a target but no realisation yet and no judgement.
IKI_REASONS = (
    "suggest.iki.above",
    "suggest.iki.meets",
    "suggest.iki.below",
    "suggest.iki.zero_realisation",
    "suggest.iki.judgement",
    "suggest.iki.no_target",
    "suggest.iki.no_realisation",
)
#: Why the suggestion is what it is: ``suggest.above`` / ``suggest.below`` — more than
#: half the assessable RHK; ``suggest.meets`` — neither; ``suggest.utama_below`` — more
#: than half above, but a utama RHK is below, so sesuai; ``suggest.not_assessable`` — no
#: RHK could be assessed (rating None).
SUGGESTION_REASONS = (
    "suggest.above",
    "suggest.meets",
    "suggest.below",
    "suggest.utama_below",
    "suggest.not_assessable",
)


def classify_iki(iki: IkiInput, threshold: float = 0.05) -> IkiClass:
    """Classify one IKI (DOMAIN.md §4, thresholds ours and configurable).

    With a numeric target > 0 and a realisation, a = realisation / target (for
    :data:`LOWER_IS_BETTER` aspects a = target / realisation); the IKI is *above* when
    a > 1 + ``threshold``, *below* when a < 1, otherwise *meets* (a == 1 + t is meets).
    A lower-is-better IKI realised at 0 is *above* (a infinite; ``achievement`` None,
    reason ``suggest.iki.zero_realisation``).

    Without a usable target (missing, ≤ 0 or not finite) or without a realisation, the
    ``judgement`` decides when given (reason ``suggest.iki.judgement``); otherwise the IKI
    is not assessable (level None, reason ``suggest.iki.no_target`` or
    ``suggest.iki.no_realisation``). A numeric result wins over a judgement.

    Errors: judgement outside :data:`RATINGS` → ``DomainError("rating.invalid",
    field="judgement")``; a realisation that is negative or not a finite number →
    ``DomainError("realisation.invalid", field="realisation")``; a negative threshold →
    ``DomainError("suggest.threshold", field="threshold")``. Both carry ``iki`` (the id).
    """
    t = _threshold(threshold)
    if iki.judgement is not None and iki.judgement not in RATINGS:
        raise DomainError("rating.invalid", field="judgement", value=iki.judgement, iki=iki.id)
    realisation = None
    if iki.realisation is not None:
        realisation = _exact(iki.realisation)
        if realisation is None or realisation < 0:
            raise DomainError("realisation.invalid", field="realisation", value=iki.realisation, iki=iki.id)
    target = _exact(iki.target_value)
    if target is not None and target <= 0:
        target = None

    if target is None or realisation is None:
        if iki.judgement is not None:
            return IkiClass(iki.id, None, iki.judgement, "suggest.iki.judgement")
        reason = "suggest.iki.no_target" if target is None else "suggest.iki.no_realisation"
        return IkiClass(iki.id, None, None, reason)

    if iki.aspect in LOWER_IS_BETTER:
        if realisation == 0:
            return IkiClass(iki.id, None, "above", "suggest.iki.zero_realisation")
        achievement = target / realisation
    else:
        achievement = realisation / target
    if achievement > 1 + t:
        level = "above"
    elif achievement < 1:
        level = "below"
    else:
        level = "meets"
    return IkiClass(iki.id, float(achievement), level, f"suggest.iki.{level}")


def classify_rhk(iki_levels: Iterable) -> str | None:
    """An RHK's level from its IKI levels (DOMAIN.md §4): *below* if any IKI is below,
    *above* if all are above, otherwise *meets*. Levels None (not assessable) are
    ignored; all None (or none at all) → None. Accepts level strings or
    :class:`IkiClass` objects. A level outside :data:`RATINGS` →
    ``DomainError("rating.invalid", field="level")``."""
    levels = []
    for item in iki_levels:
        level = item.level if isinstance(item, IkiClass) else item
        if level is not None:
            levels.append(_rating(level, "level"))
    if not levels:
        return None
    if "below" in levels:
        return "below"
    if all(level == "above" for level in levels):
        return "above"
    return "meets"


def suggest_hasil(rhk: Sequence[RhkInput], threshold: float = 0.05) -> Suggestion:
    """The suggested rating hasil kerja (DOMAIN.md §4; the rule is ours, the threshold
    configurable): each IKI by :func:`classify_iki`, each RHK by :func:`classify_rhk`;
    then, over the RHK that can be assessed, **above** when strictly more than half are
    above and no utama RHK is below, **below** when strictly more than half are below,
    otherwise **meets**. No assessable RHK → rating None. RHK of a kind other than
    utama/tambahan → ``DomainError("rhk.kind", field="kind", rhk=id)``."""
    _threshold(threshold)
    classes = []
    for item in rhk:
        if item.kind not in _RHK_KINDS:
            raise DomainError("rhk.kind", field="kind", value=item.kind, rhk=item.id)
        iki = tuple(classify_iki(indicator, threshold) for indicator in item.iki)
        classes.append(RhkClass(item.id, item.kind, classify_rhk(iki), iki))

    counts = {level: sum(1 for c in classes if c.level == level) for level in RATINGS}
    counts["not_assessable"] = sum(1 for c in classes if c.level is None)
    assessed = len(classes) - counts["not_assessable"]
    utama_below = any(c.kind == "utama" and c.level == "below" for c in classes)

    if assessed == 0:
        rating, reason = None, "suggest.not_assessable"
    elif 2 * counts["above"] > assessed:
        rating, reason = ("meets", "suggest.utama_below") if utama_below else ("above", "suggest.above")
    elif 2 * counts["below"] > assessed:
        rating, reason = "below", "suggest.below"
    else:
        rating, reason = "meets", "suggest.meets"
    return Suggestion(rating, tuple(classes), counts, reason)


# --------------------------------------------------------------------------- suggested rating perilaku (DOMAIN.md §4)


@dataclass(frozen=True)
class ValueClass:
    """How one BerAKHLAK value was classified for the suggested rating perilaku kerja.
    ``level`` None means not assessable; ``reason`` is a key from :data:`VALUE_REASONS`;
    ``peers`` is the peers' answer count per level (``above``, ``meets``, ``below``,
    ``n``) when their aggregate was available, else None."""

    code: str
    level: str | None
    reason: str
    peers: dict[str, int] | None = None


@dataclass(frozen=True)
class PerilakuSuggestion:
    """The suggested rating perilaku kerja with its explanation: ``rating`` None when no
    value can be assessed; ``values`` one :class:`ValueClass` per BerAKHLAK value in
    order; ``counts`` values per level plus ``not_assessable``; ``reason`` a key from
    :data:`PERILAKU_REASONS`; ``below_values`` the values below, in BerAKHLAK order
    (what a "below" rating names, and what the development plan uses)."""

    rating: str | None
    values: tuple[ValueClass, ...]
    counts: dict[str, int]
    reason: str
    below_values: tuple[str, ...]


#: Why a value got its level: ``suggest.value.penilai`` — the level the penilai recorded
#: with their feedback on the value; ``suggest.value.peers`` — no level from the penilai,
#: and strictly more than half of the peers who answered on the value chose this level;
#: ``suggest.value.peers_split`` — the peers answered but no level has a majority (not
#: assessable); ``suggest.value.no_level`` — neither the penilai nor (enough) peers gave
#: a level (not assessable).
VALUE_REASONS = (
    "suggest.value.penilai",
    "suggest.value.peers",
    "suggest.value.peers_split",
    "suggest.value.no_level",
)
#: Why the perilaku suggestion is what it is: ``suggest.perilaku.below`` — a value is
#: below; ``suggest.perilaku.above`` — none below and more than half of the assessable
#: values above; ``suggest.perilaku.meets`` — otherwise; ``suggest.perilaku.not_assessable``
#: — no value could be assessed (rating None).
PERILAKU_REASONS = (
    "suggest.perilaku.above",
    "suggest.perilaku.meets",
    "suggest.perilaku.below",
    "suggest.perilaku.not_assessable",
)


def classify_value(code: str, level: str | None = None, peers: Mapping[str, int] | None = None) -> ValueClass:
    """Classify one BerAKHLAK value (our rule, DOMAIN.md §4 gives none): the penilai's
    recorded ``level`` decides when given; otherwise the peers' answers on the value
    (``peers``: count per level, from :func:`peer_aggregate`, None when not available)
    decide by strict majority; otherwise the value is not assessable. A ``code`` outside
    :data:`BERAKHLAK` → ``DomainError("behaviour.unknown_value")``; a level outside
    :data:`RATINGS` → ``DomainError("rating.invalid", field="value_feedback.<code>")``."""
    if code not in BERAKHLAK:
        raise DomainError("behaviour.unknown_value", field=f"value_feedback.{code}", value=code)
    counts = None
    if peers is not None:
        counts = {r: int(peers.get(r, 0) or 0) for r in RATINGS}
        counts["n"] = sum(counts[r] for r in RATINGS)
    if level is not None:
        return ValueClass(code, _rating(level, f"value_feedback.{code}"), "suggest.value.penilai", counts)
    if counts and counts["n"]:
        for r in RATINGS:
            if 2 * counts[r] > counts["n"]:
                return ValueClass(code, r, "suggest.value.peers", counts)
        return ValueClass(code, None, "suggest.value.peers_split", counts)
    return ValueClass(code, None, "suggest.value.no_level", counts)


def suggest_perilaku(
    levels: Mapping[str, str | None], peers: Mapping[str, Mapping[str, int]] | None = None
) -> PerilakuSuggestion:
    """The suggested rating perilaku kerja "from the feedback recorded per BerAKHLAK
    value" (DOMAIN.md §4; the rule is ours): each value by :func:`classify_value` — the
    penilai's recorded level (``levels``, value → level, None or missing: none), else the
    peers' majority (``peers``: the :func:`peer_aggregate`, None while not shown), else
    not assessable. Then, over the assessable values: **below** when any value is below
    (those values are ``below_values``); **above** when strictly more than half are above
    (and none below); otherwise **meets**. No assessable value → rating None. A key of
    ``levels`` or ``peers`` outside :data:`BERAKHLAK` →
    ``DomainError("behaviour.unknown_value")``."""
    for code in list(levels) + list(peers or {}):
        if code not in BERAKHLAK:
            raise DomainError("behaviour.unknown_value", field=f"value_feedback.{code}", value=code)
    values = tuple(classify_value(code, levels.get(code), (peers or {}).get(code)) for code in BERAKHLAK)
    counts = {level: sum(1 for v in values if v.level == level) for level in RATINGS}
    counts["not_assessable"] = sum(1 for v in values if v.level is None)
    assessed = len(values) - counts["not_assessable"]
    below = tuple(v.code for v in values if v.level == "below")
    if assessed == 0:
        rating, reason = None, "suggest.perilaku.not_assessable"
    elif below:
        rating, reason = "below", "suggest.perilaku.below"
    elif 2 * counts["above"] > assessed:
        rating, reason = "above", "suggest.perilaku.above"
    else:
        rating, reason = "meets", "suggest.perilaku.meets"
    return PerilakuSuggestion(rating, values, counts, reason, below)


def below_values(
    rating_perilaku: str | None, given: Sequence | None, kept: Sequence | None = None
) -> tuple[list[str] | None, list[tuple[str, str]]]:
    """The BerAKHLAK values a rating perilaku names below (issue 15), for a change of rating after the
    penilai's (an objection decided, a calibration adjustment): ``(values, errors)``. ``values``: None when
    the rating is not "below"; else the ``given`` codes in BerAKHLAK order, once each, or — none given —
    ``kept`` (the values already named by an earlier "below"). ``errors``: ``(field, code)`` pairs —
    ``perilaku_below_values[i]`` ``behaviour.unknown_value`` for a code outside :data:`BERAKHLAK`, and
    ``perilaku_below_values`` ``rating.perilaku_below_values_required`` for a "below" naming none."""
    given = list(given or [])
    errors = [
        (f"perilaku_below_values[{i}]", "behaviour.unknown_value") for i, v in enumerate(given) if v not in BERAKHLAK
    ]
    if rating_perilaku != "below":
        return None, errors
    chosen = [v for v in BERAKHLAK if v in given] if given else [v for v in BERAKHLAK if v in (kept or ())]
    if not chosen and not errors:
        errors.append(("perilaku_below_values", "rating.perilaku_below_values_required"))
    return chosen, errors


# --------------------------------------------------------------------------- distribution curve (DOMAIN.md §5)

BOUNDS = ("max", "min")
#: How percent × headcount becomes a whole number of people: ``floor``, ``ceil`` or
#: ``nearest`` (halves round up). DOMAIN.md §5 leaves this unspecified; ``nearest`` is
#: our default.
ROUNDINGS = ("floor", "ceil", "nearest")


@dataclass(frozen=True)
class DistributionRule:
    """One row of the distribution table (DOMAIN.md §5, SE MenPANRB 3/2023), as data HR
    can edit: under ``org_result``, the number of employees whose predikat is one of
    ``predikats`` is at most (``bound='max'``) or at least (``'min'``) either ``percent``
    (0–100) of the unit's evaluated headcount, rounded by ``rounding``, or an absolute
    ``count`` — exactly one of the two.

    Invalid rules cannot be built: ``DomainError`` with the offending ``field`` —
    ``org_result.invalid``, ``curve.bound``, ``predikat.invalid`` / ``curve.predikats``
    (empty or repeated), ``curve.percent``, ``curve.count``, ``curve.amount`` (neither or
    both of percent and count), ``curve.rounding``.
    """

    org_result: str
    bound: str
    predikats: tuple[str, ...]
    percent: float | None = None
    count: int | None = None
    rounding: str = "nearest"

    def __post_init__(self):
        _org_result(self.org_result)
        if self.bound not in BOUNDS:
            raise DomainError("curve.bound", field="bound", value=self.bound)
        if not isinstance(self.predikats, tuple) or not self.predikats:
            raise DomainError("curve.predikats", field="predikats")
        for index, code in enumerate(self.predikats):
            _predikat(code, "predikats")
            if code in self.predikats[:index]:
                raise DomainError("curve.predikats", field="predikats", value=code)
        if (self.percent is None) == (self.count is None):
            raise DomainError("curve.amount", field="percent")
        if self.percent is not None:
            percent = _exact(self.percent)
            if percent is None or not 0 <= percent <= 100:
                raise DomainError("curve.percent", field="percent", value=self.percent)
        if self.count is not None and (
            not isinstance(self.count, int) or isinstance(self.count, bool) or self.count < 0
        ):
            raise DomainError("curve.count", field="count", value=self.count)
        if self.rounding not in ROUNDINGS:
            raise DomainError("curve.rounding", field="rounding", value=self.rounding)


#: The DOMAIN.md §5 table ("check: secondary source" — hence data, not code).
DEFAULT_RULES: tuple[DistributionRule, ...] = (
    DistributionRule("ISTIMEWA", "max", ("SANGAT_BAIK",), percent=70.0),
    DistributionRule("BAIK", "max", ("BAIK",), percent=70.0),
    DistributionRule("BAIK", "min", ("BUTUH_PERBAIKAN", "KURANG_MISCONDUCT"), count=1),
    DistributionRule("BUTUH_PERBAIKAN", "min", ("BUTUH_PERBAIKAN",), percent=60.0),
    DistributionRule("BUTUH_PERBAIKAN", "max", ("SANGAT_BAIK",), percent=10.0),
    DistributionRule("KURANG", "min", ("KURANG_MISCONDUCT",), percent=60.0),
    DistributionRule("KURANG", "min", ("BUTUH_PERBAIKAN",), percent=10.0),
    DistributionRule("KURANG", "max", ("SANGAT_BAIK",), percent=10.0),
    DistributionRule("SANGAT_KURANG", "min", ("SANGAT_KURANG",), percent=60.0),
    DistributionRule("SANGAT_KURANG", "min", ("KURANG_MISCONDUCT", "BUTUH_PERBAIKAN"), percent=10.0),
    DistributionRule("SANGAT_KURANG", "max", ("SANGAT_BAIK",), count=0),
)

_RULE_KEYS = ("org_result", "bound", "predikats", "percent", "count", "rounding")


def rule_to_dict(rule: DistributionRule) -> dict:
    """A JSON-ready dict of ``rule`` (``predikats`` as a list); :func:`rule_from_dict`
    reads it back to an equal rule."""
    return {
        "org_result": rule.org_result,
        "bound": rule.bound,
        "predikats": list(rule.predikats),
        "percent": rule.percent,
        "count": rule.count,
        "rounding": rule.rounding,
    }


def rule_from_dict(d: Mapping) -> DistributionRule:
    """Read a rule from a dict as HR edits it. ``percent``, ``count`` (one of them) and
    ``rounding`` (default ``nearest``) are optional; ``predikats`` is a list of codes.
    Anything invalid → ``DomainError`` with the offending ``field`` (see
    :class:`DistributionRule`); a key that is not a rule field →
    ``DomainError("curve.unknown_field", field=key)``, so a misspelt key is not silently
    dropped; a missing ``org_result``/``bound``/``predikats`` →
    ``DomainError("curve.required", field=key)``; not a mapping at all →
    ``DomainError("curve.rule")``."""
    if not isinstance(d, Mapping):
        raise DomainError("curve.rule")
    for key in d:
        if key not in _RULE_KEYS:
            raise DomainError("curve.unknown_field", field=str(key))
    for key in ("org_result", "bound", "predikats"):
        if d.get(key) is None:
            raise DomainError("curve.required", field=key)
    predikats = d["predikats"]
    if isinstance(predikats, str) or not isinstance(predikats, (list, tuple)):
        raise DomainError("curve.predikats", field="predikats")
    percent = d.get("percent")
    if percent is not None:
        if isinstance(percent, bool) or _exact(percent) is None:
            raise DomainError("curve.percent", field="percent", value=percent)
        percent = float(percent)
    rounding = d.get("rounding")
    return DistributionRule(
        org_result=d["org_result"],
        bound=d["bound"],
        predikats=tuple(predikats),
        percent=percent,
        count=d.get("count"),
        rounding="nearest" if rounding is None else rounding,
    )


def allowed_count(rule: DistributionRule, headcount: int) -> int:
    """The whole number of people the rule speaks of in a unit of ``headcount``: the
    absolute ``count``, or ``percent`` × headcount / 100 rounded by ``rounding``
    (computed exactly: 70 % of 10 is 7, not 7.000000000000001). A negative headcount is
    a ``ValueError``."""
    if isinstance(headcount, bool) or not isinstance(headcount, int) or headcount < 0:
        raise ValueError(f"headcount must be a non-negative int, got {headcount!r}")
    if rule.count is not None:
        return rule.count
    share = _exact(rule.percent) * headcount / 100
    if rule.rounding == "floor":
        return math.floor(share)
    if rule.rounding == "ceil":
        return math.ceil(share)
    return math.floor(share + Fraction(1, 2))


def _required(rule: DistributionRule, headcount: int) -> int:
    """:func:`allowed_count`, with a minimum capped at the headcount: a unit cannot be
    asked for more people than it has (only an absolute count can exceed it)."""
    required = allowed_count(rule, headcount)
    return min(required, headcount) if rule.bound == "min" else required


@dataclass(frozen=True)
class Violation:
    """A rule the unit's predikat counts break. ``required`` is the bound in people,
    ``actual`` the count of the rule's predikats; ``code`` is ``curve.max_exceeded`` or
    ``curve.min_missing``."""

    rule: DistributionRule
    required: int
    actual: int
    headcount: int
    code: str


def _counts(counts: Mapping[str, int]) -> dict[str, int]:
    clean = {}
    for key, value in counts.items():
        _predikat(key, "counts")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"count of {key} must be a non-negative int, got {value!r}")
        clean[key] = value
    return clean


def check_distribution(
    org_result: str, counts: Mapping[str, int], rules: Sequence[DistributionRule] = DEFAULT_RULES
) -> list[Violation]:
    """The rules of ``org_result`` that the unit's predikat ``counts`` break, in the
    rules' order (DOMAIN.md §5). The headcount is the sum of the counts; an empty unit
    breaks nothing. A minimum is capped at the headcount (see :func:`_required`).
    Unknown ``org_result`` → ``DomainError("org_result.invalid")``; a key of ``counts``
    outside :data:`PREDIKATS` → ``DomainError("predikat.invalid", field="counts")``."""
    _org_result(org_result)
    counts = _counts(counts)
    headcount = sum(counts.values())
    if headcount == 0:
        return []
    violations = []
    for rule in rules:
        if rule.org_result != org_result:
            continue
        required = _required(rule, headcount)
        actual = sum(counts.get(code, 0) for code in rule.predikats)
        if rule.bound == "max" and actual > required:
            violations.append(Violation(rule, required, actual, headcount, "curve.max_exceeded"))
        elif rule.bound == "min" and actual < required:
            violations.append(Violation(rule, required, actual, headcount, "curve.min_missing"))
    return violations


@dataclass(frozen=True)
class Band:
    """One predikat on the curve chart: its ``count``, its ``percent`` of the headcount
    (0.0 in an empty unit), and the allowed band in people (None: unbounded)."""

    predikat: str
    count: int
    percent: float
    min_count: int | None
    max_count: int | None


def curve(org_result: str, counts: Mapping[str, int], rules: Sequence[DistributionRule] = DEFAULT_RULES) -> list[Band]:
    """The curve of a unit (DOMAIN.md §5): one :class:`Band` per :data:`PREDIKATS`
    entry, in order, bounded by the single-predikat rules of ``org_result`` (the tightest
    when several apply). Rules over several predikats are reported by
    :func:`check_distribution` only. Errors as :func:`check_distribution`."""
    _org_result(org_result)
    counts = _counts(counts)
    headcount = sum(counts.values())
    lower: dict[str, int] = {}
    upper: dict[str, int] = {}
    for rule in rules:
        if rule.org_result != org_result or len(rule.predikats) != 1:
            continue
        code, required = rule.predikats[0], _required(rule, headcount)
        if rule.bound == "min":
            lower[code] = max(lower.get(code, required), required)
        else:
            upper[code] = min(upper.get(code, required), required)
    bands = []
    for code in PREDIKATS:
        count = counts.get(code, 0)
        percent = 100.0 * count / headcount if headcount else 0.0
        bands.append(Band(code, count, percent, lower.get(code), upper.get(code)))
    return bands


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


# --------------------------------------------------------------------------- rater consistency (calibration)

RATING_SCORE = {"above": 1, "meets": 0, "below": -1}


@dataclass(frozen=True)
class RaterStats:
    """One penilai's ratings against a reference: ``mean`` score (above 1, meets 0,
    below −1) and ``index`` = mean − reference_mean (positive: lenient, negative:
    severe). A rater with no ratings has mean 0 and index 0."""

    rater: str
    n: int
    counts: dict[str, int]
    mean: float
    reference_mean: float
    index: float


def _mean_score(ratings: Sequence[str], field: str) -> float:
    scores = [RATING_SCORE[_rating(r, field)] for r in ratings]
    return sum(scores) / len(scores) if scores else 0.0


def rater_consistency(
    ratings_by_rater: Mapping[str, Sequence[str]], reference: Sequence[str] | None = None
) -> list[RaterStats]:
    """Leniency/severity of each rater for calibration: the mean score of their ratings
    against the mean of ``reference`` (default: all raters' ratings pooled; an empty
    reference has mean 0). Sorted by index, most lenient first, then by rater. A rating
    outside :data:`RATINGS` → ``DomainError("rating.invalid", field="ratings")``."""
    if reference is None:
        reference = [r for ratings in ratings_by_rater.values() for r in ratings]
    reference_mean = _mean_score(list(reference), "reference")
    stats = []
    for rater, ratings in ratings_by_rater.items():
        ratings = list(ratings)
        counts = {level: 0 for level in RATINGS}
        for r in ratings:
            counts[_rating(r, "ratings")] += 1
        if ratings:
            mean = _mean_score(ratings, "ratings")
            index = mean - reference_mean
        else:
            mean = index = 0.0
        stats.append(RaterStats(rater, len(ratings), counts, mean, reference_mean, index))
    stats.sort(key=lambda s: (-s.index, s.rater))
    return stats


# --------------------------------------------------------------------------- peer feedback

#: Fewer peers than this and their answers are not shown (anonymity).
PEER_MIN_RATERS = 3


def peer_aggregate(answers: Sequence[Mapping[str, str]], minimum: int = PEER_MIN_RATERS) -> dict | None:
    """Aggregate peer feedback per BerAKHLAK value. ``answers`` holds one mapping per
    peer, value → rating (a missing or None rating: not answered). A peer who answered
    nothing does not count. Fewer than ``minimum`` answering peers → None, so no single
    peer's answer can be told apart. Otherwise ``{value: {"above": n, "meets": n,
    "below": n, "n": answered}}`` for every value in BerAKHLAK order. Unknown value →
    ``DomainError("behaviour.unknown_value")``; a rating outside :data:`RATINGS` →
    ``DomainError("rating.invalid")``."""
    result = {value: {"above": 0, "meets": 0, "below": 0, "n": 0} for value in BERAKHLAK}
    answering = 0
    for answer in answers:
        answered = False
        for value, rating in answer.items():
            if value not in BERAKHLAK:
                raise DomainError("behaviour.unknown_value", field=f"behaviour.{value}", value=value)
            if rating is None:
                continue
            result[value][_rating(rating, f"behaviour.{value}")] += 1
            result[value]["n"] += 1
            answered = True
        answering += answered
    if answering < minimum:
        return None
    return result


# --------------------------------------------------------------------------- evaluation document


def content_hash(document: Mapping) -> str:
    """The SHA-256 (hex) of ``document`` as canonical JSON — sorted keys, no spaces,
    UTF-8 without escapes, anything else through ``str`` — so the signed evaluation
    document can be checked for later change. Key order does not matter."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
