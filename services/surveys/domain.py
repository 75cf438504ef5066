"""The surveys service's rule book: the public satisfaction survey (SKM) of PermenPANRB 14/2017.

Pure functions only — no Flask, no SQLAlchemy, no I/O, no clock (DOMAIN.md §8):

* the nine unsur ``U1``..``U9`` and their 1–4 answer wordings (labels live in the message
  catalogue under ``unsur.<code>`` and ``answer.<code>.<1..4>``);
* NRR per unsur (mean over the respondents who answered it), IKM = mean of the nine NRR
  (1–4), IKM unit = IKM × 25 (25–100), computed exactly from sums and counts and rounded
  only at the end (half up);
* the quality bands, applied to the IKM unit rounded to 2 decimals;
* the minimum sample: Krejcie & Morgan by its formula rounded to the *nearest* whole number
  (which reproduces the published table; 100,000 and above read the formula's limit, 384),
  or Slovin (rounded up), with a configurable margin of error.

Errors carry message-catalogue keys and a field name, never prose (DESIGN.md §7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Mapping

from services.common.rules import DomainError  # noqa: F401 (the rule book's error, re-exported)

__all__ = [
    "UNSUR",
    "QUESTION_ORDER",
    "ANSWER_MIN",
    "ANSWER_MAX",
    "SEXES",
    "EDUCATION",
    "OCCUPATIONS",
    "SAMPLE_METHODS",
    "KREJCIE_MORGAN_CAP_FROM",
    "STATUSES",
    "DomainError",
    "InvalidTransition",
    "Band",
    "BANDS",
    "IkmResult",
    "band_of",
    "compute_index",
    "krejcie_morgan",
    "slovin",
    "sample_size",
    "validate_answers",
    "campaign_transition",
    "accepts_responses",
    "round_half_up",
    "weakest",
    "index_of_answers",
    "validate_period",
]

# --------------------------------------------------------------------------- the questionnaire

UNSUR: tuple[str, ...] = ("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9")
# The regulation's sample questionnaire asks U9 (sarana dan prasarana) before U8 (pengaduan):
# the form follows it, answers are keyed by code, never by position.
QUESTION_ORDER: tuple[str, ...] = ("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U9", "U8")
ANSWER_MIN, ANSWER_MAX = 1, 4

SEXES = ("male", "female")
EDUCATION = ("sd", "smp", "sma", "diploma", "s1", "s2", "s3")
OCCUPATIONS = ("pns", "tni", "polri", "swasta", "wirausaha", "pelajar", "lainnya")
AGE_MIN, AGE_MAX = 10, 120

SAMPLE_METHODS = ("krejcie-morgan", "slovin")
DEFAULT_MARGIN = 0.05
KREJCIE_MORGAN_CAP_FROM = 100_000  # the published table's last rows read the formula's limit
CHI_SQUARE = 3.841  # χ² for 1 degree of freedom at 95 % confidence
PROPORTION = 0.5

STATUSES = ("draft", "open", "closed")


class InvalidTransition(DomainError):
    """The campaign's status does not allow the action (HTTP 409)."""


# --------------------------------------------------------------------------- rounding


def round_half_up(value: Fraction | Decimal | int | float, places: int) -> Decimal:
    """Round half up (the way a person rounds, not banker's rounding), exactly for fractions."""
    with localcontext() as ctx:
        ctx.prec = 60
        if isinstance(value, Fraction):
            d = Decimal(value.numerator) / Decimal(value.denominator)
        else:
            d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- bands


@dataclass(frozen=True)
class Band:
    lower: Decimal  # inclusive, on the 25–100 scale, 2 decimals
    mutu: str
    kinerja: str  # the regulation's own words (catalogue keys ``kinerja.<mutu>`` translate them)


BANDS: tuple[Band, ...] = (
    Band(Decimal("88.31"), "A", "Sangat Baik"),
    Band(Decimal("76.61"), "B", "Baik"),
    Band(Decimal("65.00"), "C", "Kurang Baik"),
    Band(Decimal("25.00"), "D", "Tidak Baik"),
)


def band_of(ikm_unit: Decimal | float | str) -> Band:
    """The band of an IKM unit value: rounded to 2 decimals first (half up), then ≥ 88.31 A,
    ≥ 76.61 B, ≥ 65.00 C, else D — so no value falls between two bands."""
    value = round_half_up(Decimal(str(ikm_unit)) if not isinstance(ikm_unit, Decimal) else ikm_unit, 2)
    for band in BANDS:
        if value >= band.lower:
            return band
    return BANDS[-1]


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True)
class IkmResult:
    respondents: int
    nrr: dict[str, Fraction | None]  # exact means; None when nobody answered that unsur
    ikm: Fraction | None  # 1–4, exact
    counts: dict[str, int]

    @property
    def complete(self) -> bool:
        return self.ikm is not None

    @property
    def ikm_rounded(self) -> Decimal | None:
        return None if self.ikm is None else round_half_up(self.ikm, 4)

    @property
    def ikm_unit(self) -> Decimal | None:
        return None if self.ikm is None else round_half_up(self.ikm * 25, 2)

    @property
    def band(self) -> Band | None:
        return None if self.ikm is None else band_of(self.ikm_unit)

    def nrr_rounded(self, places: int = 4) -> dict[str, Decimal | None]:
        return {u: (None if v is None else round_half_up(v, places)) for u, v in self.nrr.items()}

    def as_dict(self) -> dict:
        """The public shape: ``respondents``, ``nrr`` (4 decimals), ``ikm`` (4 decimals),
        ``ikm_unit`` (2 decimals), ``mutu``, ``kinerja`` (None without a complete index)."""
        band = self.band
        return {
            "respondents": self.respondents,
            "nrr": {u: (None if v is None else float(v)) for u, v in self.nrr_rounded().items()},
            "ikm": None if self.ikm is None else float(self.ikm_rounded),
            "ikm_unit": None if self.ikm is None else float(self.ikm_unit),
            "mutu": band.mutu if band else None,
            "kinerja": band.kinerja if band else None,
        }


def compute_index(respondents: int, sums: Mapping[str, int | None], counts: Mapping[str, int | None]) -> IkmResult:
    """IKM from the per-unsur SUM and COUNT of the answers (what the database aggregates).

    NRR(u) = sum(u) / count(u) over the respondents who answered u; IKM = Σ NRR × 1/9, only
    when every unsur has at least one answer. Exact (fractions): nothing is rounded here."""
    nrr: dict[str, Fraction | None] = {}
    clean_counts: dict[str, int] = {}
    for u in UNSUR:
        n = int(counts.get(u) or 0)
        clean_counts[u] = n
        total = sums.get(u)
        nrr[u] = Fraction(int(total), n) if n and total is not None else None
    values = list(nrr.values())
    ikm = None if any(v is None for v in values) else sum(values, Fraction(0)) / len(UNSUR)
    return IkmResult(respondents=int(respondents or 0), nrr=nrr, ikm=ikm, counts=clean_counts)


def index_of_answers(answer_sets: list[Mapping[str, int | None]]) -> IkmResult:
    """The same index from answer dictionaries (used by tests and small in-memory checks)."""
    sums = {u: sum(a[u] for a in answer_sets if a.get(u) is not None) for u in UNSUR}
    counts = {u: sum(1 for a in answer_sets if a.get(u) is not None) for u in UNSUR}
    return compute_index(len(answer_sets), sums, counts)


def weakest(result: IkmResult) -> list[str]:
    """The unsur with the lowest NRR (ties: all of them, in code order): the improvement priority.
    None when every unsur scores the same (nothing stands out)."""
    known = {u: v for u, v in result.nrr.items() if v is not None}
    if not known or (len(known) > 1 and len(set(known.values())) == 1):
        return []
    low = min(known.values())
    return [u for u in UNSUR if known.get(u) == low]


# --------------------------------------------------------------------------- sample size


def _check_sample_args(population: int, margin: float) -> None:
    if isinstance(population, bool) or not isinstance(population, int) or population < 1:
        raise DomainError("sample.population", "population")
    if not (
        isinstance(margin, (int, float)) and not isinstance(margin, bool) and 0 < margin < 1 and math.isfinite(margin)
    ):
        raise DomainError("sample.margin", "margin")


def krejcie_morgan(population: int, margin: float = DEFAULT_MARGIN) -> int:
    """S = X²·N·P(1−P) / (d²(N−1) + X²·P(1−P)), X² = 3.841, P = 0.5, rounded to the nearest whole
    number (half up) — the published table; from N = 100,000 on, the formula's limit
    X²·P(1−P)/d² rounded (384 at d = 0.05), as the table's last rows read."""
    _check_sample_args(population, margin)
    x2pq = Fraction(str(CHI_SQUARE)) * Fraction(str(PROPORTION)) * (1 - Fraction(str(PROPORTION)))
    d2 = Fraction(str(margin)) ** 2
    if population >= KREJCIE_MORGAN_CAP_FROM:
        s = x2pq / d2
    else:
        s = x2pq * population / (d2 * (population - 1) + x2pq)
    return min(population, int(round_half_up(s, 0)))


def slovin(population: int, margin: float = DEFAULT_MARGIN) -> int:
    """n = N / (1 + N·e²), rounded up (a sample is whole respondents)."""
    _check_sample_args(population, margin)
    n = Fraction(population) / (1 + population * Fraction(str(margin)) ** 2)
    return min(population, math.ceil(n))


def sample_size(population: int, method: str = "krejcie-morgan", margin: float = DEFAULT_MARGIN) -> int:
    if method == "krejcie-morgan":
        return krejcie_morgan(population, margin)
    if method == "slovin":
        return slovin(population, margin)
    raise DomainError("sample.method", "method", methods=", ".join(SAMPLE_METHODS))


# --------------------------------------------------------------------------- answers


def validate_answers(answers, *, allow_blank: bool = False) -> list[tuple[str, str, dict]]:
    """Field errors ``(field, code, params)`` of an answers mapping keyed by unsur code.

    Every unsur must be present (``answer.missing``), no other key (``answer.unknown_unsur``),
    each an integer 1–4 (``answer.range``; booleans and strings are refused). ``allow_blank``
    (paper questionnaires) lets a value be None: the respondent left that question empty —
    but not every one of them (``answer.none``)."""
    if not isinstance(answers, Mapping):
        return [("answers", "answer.type", {})]
    errors: list[tuple[str, str, dict]] = []
    for key in answers:
        if key not in UNSUR:
            errors.append((f"answers.{key}", "answer.unknown_unsur", {"code": str(key)[:20]}))
    answered = 0
    for u in UNSUR:
        if u not in answers:
            errors.append((f"answers.{u}", "answer.missing", {"unsur": u}))
            continue
        v = answers[u]
        if v is None and allow_blank:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or not ANSWER_MIN <= v <= ANSWER_MAX:
            errors.append((f"answers.{u}", "answer.range", {"unsur": u, "min": ANSWER_MIN, "max": ANSWER_MAX}))
            continue
        answered += 1
    if allow_blank and not errors and answered == 0:
        errors.append(("answers", "answer.none", {}))
    return errors


# --------------------------------------------------------------------------- campaign lifecycle

_TRANSITIONS = {("draft", "open"): "open", ("open", "close"): "closed"}


def campaign_transition(status: str, action: str) -> str:
    """draft —open→ open —close→ closed; anything else is an :class:`InvalidTransition`."""
    nxt = _TRANSITIONS.get((status, action))
    if nxt is None:
        raise InvalidTransition("campaign.transition", None, status=status, action=action)
    return nxt


def accepts_responses(status: str, start: date, end: date, today: date | None = None) -> str | None:
    """None when responses may be recorded; otherwise the catalogue key of the reason.
    ``today`` is checked against the period only for the public channels (None skips it)."""
    if status != "open":
        return "campaign.not_open"
    if today is not None and not (start <= today <= end):
        return "campaign.outside_period"
    return None


def validate_period(start: date, end: date) -> list[tuple[str, str, dict]]:
    if end < start:
        return [("end_date", "campaign.end_before_start", {})]
    return []
