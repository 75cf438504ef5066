"""The distribution curve (DOMAIN.md §5): how many of a unit may hold each predikat, given
its organisational result.

Part of the reviews rule book (:mod:`services.reviews.domain`): pure, no I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from services.common.rules import DomainError

from .ratings import PREDIKATS, _exact, _org_result, _predikat

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
