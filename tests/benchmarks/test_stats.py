"""The benchmark's effect arithmetic: paired by seed, t intervals."""
import math
import statistics

import pytest

from benchmarks import stats


def test_t_quantiles_are_students():
    """Known two-sided 95 % quantiles: 12.706 (1 df), 4.303 (2), 2.776 (4), 1.96 (inf)."""
    assert stats.t_quantile(0.975, 1) == pytest.approx(12.706, abs=1e-3)
    assert stats.t_quantile(0.975, 2) == pytest.approx(4.303, abs=1e-3)
    assert stats.t_quantile(0.975, 4) == pytest.approx(2.776, abs=1e-3)
    assert stats.t_quantile(0.975, 10 ** 6) == pytest.approx(1.960, abs=1e-3)


def test_t_interval_is_mean_plus_minus_t_standard_errors():
    values = [1.0, 2.5, 0.5, 2.0]
    mean, low, high = stats.t_interval(values)
    half = 3.182446 * statistics.stdev(values) / math.sqrt(4)
    assert mean == pytest.approx(1.5)
    assert (low, high) == (pytest.approx(1.5 - half, abs=1e-5),
                           pytest.approx(1.5 + half, abs=1e-5))
    assert stats.t_interval([3.0]) == (3.0, None, None)


def test_failed_seeds_are_dropped_from_both_sides():
    """fp32 seeds 0, 1, 2 score 10, 20, 30; amp seed 0 failed, seeds 1, 2 score 21, 31:
    Δ +1.0 over the 2 seeds both have (not 26 - 20 = +6 of the unpaired means)."""
    fp32 = stats.by_seed([dict(seed=0, value=10.0), dict(seed=1, value=20.0),
                          dict(seed=2, value=30.0)])
    amp = stats.by_seed([dict(seed=0, value=None), dict(seed=1, value=21.0),
                         dict(seed=2, value=31.0)])
    delta = stats.paired_delta(amp, fp32)
    assert delta.mean == pytest.approx(1.0) and delta.seeds == (1, 2) and delta.n == 2
    assert delta.low == pytest.approx(1.0) and delta.high == pytest.approx(1.0)


def test_above_needs_the_mean_and_an_interval_above_zero():
    assert stats.paired_delta({0: 3.0, 1: 1.5, 2: 2.0}, {0: 1.0, 1: 0.0, 2: 0.5}).above(1.0)
    wide = stats.paired_delta({0: 6.0, 1: -1.0, 2: 1.0}, {0: 0.0, 1: 0.0, 2: 0.0})
    assert wide.mean == pytest.approx(2.0) and wide.low < 0 and not wide.above(1.0)
    one = stats.paired_delta({0: 5.0}, {0: 0.0})
    assert one.low is None and not one.above(1.0) and one.text() == '+5.0'


def test_two_records_of_one_seed_are_an_error():
    with pytest.raises(ValueError, match='two records of seed 1'):
        stats.by_seed([dict(seed=1, value=2.0, name='a'), dict(seed=1, value=3.0, name='a')])


def test_no_shared_seed_gives_none():
    assert stats.paired_delta({0: 1.0}, {1: 1.0}) is None
