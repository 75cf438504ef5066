"""The suggested ratings (DOMAIN.md §4): rating hasil kerja from indicator achievement and
rating perilaku kerja from the feedback per BerAKHLAK value, each explained per item.

Part of the reviews rule book (:mod:`services.reviews.domain`): pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.common.rules import DomainError

from .ratings import _RHK_KINDS, BERAKHLAK, LOWER_IS_BETTER, RATINGS, _exact, _rating, _threshold

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
