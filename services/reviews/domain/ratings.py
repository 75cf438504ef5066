"""Ratings, predikat and organisation results: the vocabularies, the DOMAIN.md §4 matrix, the
rule book's errors and exact numbers.

Part of the reviews rule book (:mod:`services.reviews.domain`): pure, no I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from numbers import Real

from services.common.rules import DomainError

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
