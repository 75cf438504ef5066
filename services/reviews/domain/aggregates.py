"""Rater consistency (calibration), peer feedback aggregates and the evaluation document's
content hash.

Part of the reviews rule book (:mod:`services.reviews.domain`): pure, no I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.common.rules import DomainError

from .ratings import BERAKHLAK, RATINGS, _rating

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
