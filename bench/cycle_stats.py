"""Pure figures of the cycle benchmark (``bench/cycle_bench.py``): percentiles, the top-down levels
of a reporting line, the RSS flatness of a process over a run, and how time grows with size.
Standard library only, no I/O: ``tests/bench/test_cycle_stats.py`` checks them."""

from __future__ import annotations

import math
from collections import defaultdict


def percentile(values, q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; ``None`` when empty."""
    data = sorted(values)
    if not data:
        return None
    rank = max(1, math.ceil(q / 100 * len(data)))
    return data[min(rank, len(data)) - 1]


def levels(superior_of: dict[str, str | None]) -> list[list[str]]:
    """Everyone grouped by depth below the top (top first), each level sorted: a superior is always
    in an earlier level than their staff, so a level's SKPs can be drafted at once. A superior who
    is not in the mapping counts as none; a loop in the reporting line raises ``ValueError``."""
    reports: dict[str | None, list[str]] = defaultdict(list)
    for nip, sup in superior_of.items():
        reports[sup if sup in superior_of else None].append(nip)
    out, current, seen = [], sorted(reports[None]), set()
    while current:
        out.append(current)
        seen.update(current)
        current = sorted(n for nip in current for n in reports.get(nip, []))
    if len(seen) != len(superior_of):
        raise ValueError(f"{len(superior_of) - len(seen)} employees sit in a loop of the reporting line")
    return out


def rss_growth(samples: list[tuple[float, int]], edge: float = 0.25) -> dict | None:
    """How one process's resident memory moved over a run: the peak over the first ``edge`` of its
    samples' time span against the peak over the last ``edge``. ``samples``: ``(seconds, bytes)``.
    ``None`` with fewer than 4 samples (too short to say)."""
    if len(samples) < 4:
        return None
    samples = sorted(samples)
    t0, t1 = samples[0][0], samples[-1][0]
    span = t1 - t0
    if span <= 0:
        return None
    first = [rss for t, rss in samples if t <= t0 + edge * span]
    last = [rss for t, rss in samples if t >= t1 - edge * span]
    start, end = max(first), max(last)
    return {
        "start_mb": round(start / 2**20, 1),
        "end_mb": round(end / 2**20, 1),
        "peak_mb": round(max(rss for _, rss in samples) / 2**20, 1),
        "growth": round(end / start - 1, 3) if start else None,
    }


def is_flat(growth: dict | None, tolerance: float = 0.2) -> bool | None:
    """Flat: the last quarter's peak is at most ``tolerance`` above the first quarter's."""
    if not growth or growth.get("growth") is None:
        return None
    return growth["growth"] <= tolerance


def scaling(t_small: float, n_small: int, t_large: float, n_large: int) -> dict:
    """How time grows with size: the linear floor (``t_small`` scaled by ``n_large / n_small``),
    time over that floor, the exponent ``k`` of ``t ∝ n^k`` and what doubling the size costs
    (``2**k``; the target is ≤ 2.2)."""
    floor = t_small * n_large / n_small
    k = math.log(t_large / t_small) / math.log(n_large / n_small)
    return {
        "floor_s": round(floor, 2),
        "time_over_floor": round(t_large / floor, 3),
        "exponent": round(k, 3),
        "doubling_factor": round(2**k, 3),
    }
