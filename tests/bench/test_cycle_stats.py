"""bench/cycle_stats.py: the pure figures of the cycle benchmark (no timing here)."""

from __future__ import annotations

import pytest

from bench.cycle_stats import is_flat, levels, percentile, rss_growth, scaling


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 95) == 95
    assert percentile(values, 50) == 50
    assert percentile(values, 100) == 100
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 95) is None
    assert percentile([3, 1, 2], 0) == 1  # unsorted input, rank at least 1


def test_levels_put_every_superior_before_their_staff():
    superior_of = {"top": None, "a": "top", "b": "top", "a1": "a", "a2": "a", "b1": "b", "x": "gone"}
    got = levels(superior_of)
    assert got == [["top", "x"], ["a", "b"], ["a1", "a2", "b1"]]  # a superior outside the directory: none
    assert sum(map(len, got)) == len(superior_of)


def test_levels_refuse_a_loop_in_the_reporting_line():
    with pytest.raises(ValueError, match="loop"):
        levels({"top": None, "a": "b", "b": "a"})


def test_rss_growth_compares_the_first_and_last_quarter_peaks():
    mb = 2**20
    steady = [(t, 100 * mb + (t % 3) * mb) for t in range(0, 100, 2)]
    g = rss_growth(steady)
    assert g["start_mb"] == pytest.approx(102.0) and g["end_mb"] == pytest.approx(102.0)
    assert is_flat(g) is True
    leaking = [(t, (100 + t) * mb) for t in range(0, 100, 2)]
    g = rss_growth(leaking)
    assert g["growth"] > 0.5 and g["peak_mb"] == pytest.approx(198.0)
    assert is_flat(g) is False
    assert rss_growth(leaking[:3]) is None and is_flat(None) is None


def test_scaling_gives_the_linear_floor_and_the_doubling_factor():
    linear = scaling(60.0, 1000, 600.0, 10000)
    assert linear["floor_s"] == 600.0 and linear["time_over_floor"] == 1.0
    assert linear["exponent"] == pytest.approx(1.0) and linear["doubling_factor"] == pytest.approx(2.0)
    worse = scaling(60.0, 1000, 1200.0, 10000)
    assert worse["time_over_floor"] == 2.0 and worse["doubling_factor"] > 2.2
