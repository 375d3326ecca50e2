"""cachecost.model.quantile: the same bits as np.percentile, on every kind of sample.

Every comparison is of the float64 bit patterns (``_bits``), so -0.0 against +0.0
and a last-bit difference in the interpolation both fail; samples are drawn by
numpy from a hypothesis-chosen seed, kind and size (1 to 300,000 values), or
drawn value by value by hypothesis for small ones with the size threshold lowered
so that selection, not numpy, answers them.
"""

from __future__ import annotations

import math
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cachecost.model import quantile
from cachecost.model.claims import quantiles as claims_quantiles
from cachecost.model.quantile import order_statistics, percentiles
from cachecost.model.results import quantiles as results_quantiles

PERCENTS = (10, 50, 90)


def _bits(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64)).view(np.int64)


def _same(a, b) -> bool:
    return bool(np.array_equal(_bits(a), _bits(b)))


def _with(v: np.ndarray, where: Any, value: float) -> np.ndarray:
    v[where] = value
    return v


def _one_different(rng: np.random.Generator, n: int) -> np.ndarray:
    """All equal but one, anywhere, above or below."""
    return _with(np.full(n, 2.5), rng.integers(0, n), rng.choice([-1e9, 1e9]))


def _signed_zeros(rng: np.random.Generator, n: int) -> np.ndarray:
    """-0.0 and +0.0 (equal values with different bits) and some others."""
    v = np.where(rng.random(n) < 0.5, -0.0, 0.0)
    some = rng.random(n) < 0.3
    v[some] = rng.normal(size=int(some.sum()))
    return v


def _periodic(rng: np.random.Generator, n: int) -> np.ndarray:
    """The strided sample sees one planted value only."""
    stride = max(1, n // quantile.SAMPLE_SIZE)
    v = np.tile(rng.normal(size=stride), n // stride + 1)[:n]
    v[stride // 2::stride] = rng.choice([-1e6, 1e6])
    return v


KINDS = {
    "lognormal": lambda rng, n: rng.lognormal(3.0, 1.5, n),
    "normal": lambda rng, n: rng.normal(0.0, 1.0, n),
    # few distinct values: brackets full of ties
    "ties": lambda rng, n: rng.integers(0, 1 + int(rng.integers(1, 6)), n) * 0.1,
    "constant": lambda rng, n: np.full(n, rng.normal()),
    "one_different": _one_different,
    "sorted": lambda rng, n: np.sort(rng.normal(size=n)),
    "reversed": lambda rng, n: np.sort(rng.normal(size=n))[::-1].copy(),
    # months_to_quota: +inf where the quota is never reached
    "with_inf": lambda rng, n: _with(rng.gamma(2.0, 10.0, n),
                                     rng.random(n) < rng.uniform(0.0, 0.6), math.inf),
    "with_neg_inf": lambda rng, n: _with(rng.normal(size=n), rng.random(n) < 0.2, -math.inf),
    "signed_zeros": _signed_zeros,
    # a cost that is 0 in many samples
    "zero_mass": lambda rng, n: _with(rng.gamma(1.5, 100.0, n),
                                      rng.random(n) < rng.uniform(0.05, 0.95), 0.0),
    "periodic": _periodic,
    # neighbours one ulp apart
    "tiny_range": lambda rng, n: 1.0 + rng.integers(0, 50, n) * np.finfo(float).eps,
    "with_nan": lambda rng, n: _with(rng.normal(size=n), rng.integers(0, n), math.nan),
}


def _sample(kind: str, n: int, seed: int) -> np.ndarray:
    """A float64 sample of ``n`` values of the named kind."""
    return np.asarray(KINDS[kind](np.random.default_rng(seed), n), dtype=np.float64)


sizes = st.one_of(st.integers(1, 4095), st.integers(4096, 300_000))
samples = st.tuples(st.sampled_from(sorted(KINDS)), sizes, st.integers(0, 2**32 - 1))


@settings(max_examples=150, deadline=None)
@given(samples, st.sampled_from(["linear", "inverted_cdf"]))
def test_percentiles_are_numpys_bits(drawn, method):
    kind, n, seed = drawn
    v = _sample(kind, n, seed)
    with np.errstate(invalid="ignore"):
        expected = np.percentile(v, PERCENTS, method=method)
        got = percentiles(v, PERCENTS, method=method)
    assert _same(got, expected), (kind, n, seed, method, got, expected)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(KINDS)), st.integers(4096, 300_000), st.integers(0, 2**32 - 1),
       st.lists(st.floats(0, 100), min_size=1, max_size=6))
def test_any_percents(kind, n, seed, percents):
    """Other percents than 10/50/90, 0 and 100 included (ranks at the ends)."""
    v = _sample(kind, n, seed)
    for method in ("linear", "inverted_cdf"):
        with np.errstate(invalid="ignore"):
            expected = np.percentile(v, percents, method=method)
            got = percentiles(v, percents, method=method)
        assert _same(got, expected), (kind, n, seed, method, percents)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
small_arrays = hnp.arrays(np.float64, st.integers(1, 3000), elements=st.one_of(
    finite, st.sampled_from([0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, 5e-324])))


@settings(max_examples=200, deadline=None)
@given(small_arrays, st.sampled_from(["linear", "inverted_cdf"]))
def test_selection_on_small_samples(v, method):
    """With the threshold at 1 every sample goes through selection, however small."""
    with mock.patch.object(quantile, "MIN_SIZE", 1), np.errstate(invalid="ignore", over="ignore"):
        got = percentiles(v, PERCENTS, method=method)
        expected = np.percentile(v, PERCENTS, method=method)
    assert _same(got, expected), (v.tolist(), method, got, expected)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(KINDS)), st.integers(2, 200_000), st.integers(0, 2**32 - 1),
       st.data())
def test_order_statistics_are_the_sorted_values(kind, n, seed, data):
    """Where selection answers, its values are exactly those of the sorted sample."""
    v = _sample(kind, n, seed)
    v = v[~np.isnan(v)]
    ranks = data.draw(st.lists(st.integers(0, v.size - 1), min_size=1, max_size=8))
    got = order_statistics(v, ranks)
    if got is not None:                  # None: a badly placed bracket or mixed zeros
        assert _same(got, np.sort(v)[ranks])


def test_periodic_sample_takes_the_fallback_and_stays_exact():
    """The strided sample sees only the planted value; selection gives up (None)
    and numpy answers."""
    n = 100_000
    stride = n // quantile.SAMPLE_SIZE
    rng = np.random.default_rng(7)
    v = rng.normal(size=n)
    v[stride // 2::stride] = 1e6
    assert order_statistics(v, [9_999, 10_000, 49_999, 50_000]) is None
    assert _same(percentiles(v), np.percentile(v, PERCENTS))


def test_mixed_signed_zeros_go_to_numpy():
    """A zero picked from a mix of -0.0 and +0.0: numpy's partition decides the sign."""
    v = np.where(np.random.default_rng(3).random(50_000) < 0.5, -0.0, 0.0)
    v[:1000] = 1.0
    assert order_statistics(v, [25_000]) is None
    for method in ("linear", "inverted_cdf"):
        assert _same(percentiles(v, method=method), np.percentile(v, PERCENTS, method=method))


def test_selection_answers_a_plain_sample():
    """On an ordinary Monte Carlo sample selection itself answers (not the fallback)."""
    v = np.random.default_rng(11).lognormal(2.0, 1.0, 100_000)
    ranks = [9_999, 10_000, 49_999, 50_000, 89_999, 90_000]
    got = order_statistics(v, ranks)
    assert got is not None
    assert _same(got, np.sort(v)[ranks])
    with mock.patch.object(quantile.np, "percentile", side_effect=AssertionError("numpy")):
        q = percentiles(v)
    assert _same(q, np.percentile(v, PERCENTS))


def test_interpolation_is_numpys_lerp():
    """A hand-worked case, n = 100,000. p10's virtual index is (n - 1) * 0.1 =
    9999.900000000001 (0.1 is not exact), so gamma = 0.9000000000014552, between
    ranks 9,999 (here 33.79) and 10,000 (82.56). gamma >= 0.5, so numpy's _lerp takes
    b - (b - a) * (1 - gamma) = 77.68300000007098, where a + (b - a) * gamma would give
    77.68300000007096: the branch shows in the last bit."""
    rng = np.random.default_rng(5)
    v = rng.permutation(np.concatenate([np.linspace(0.0, 30.0, 9_999), [33.79, 82.56],
                                        np.linspace(90.0, 200.0, 89_999)]))
    gamma = 99_999 * 0.1 - 9_999
    assert gamma == 0.9000000000014552
    got = percentiles(v)
    assert _same(got, np.percentile(v, PERCENTS))
    assert got[0] == 82.56 - (82.56 - 33.79) * (1 - gamma) == 77.68300000007098
    assert got[0] != 33.79 + (82.56 - 33.79) * gamma


def test_results_and_claims_quantiles_unchanged():
    """results.quantiles and claims.quantiles against their np.percentile formulas."""
    rng = np.random.default_rng(9)
    finite_v = rng.gamma(2.0, 3.0, 100_000)
    with_inf = finite_v.copy()
    with_inf[rng.random(100_000) < 0.3] = math.inf
    for v in (finite_v, with_inf):
        is_finite = bool(np.isfinite(v).all())
        q = np.percentile(v, PERCENTS, method="linear" if is_finite else "inverted_cdf")
        got = results_quantiles(v)             # +inf shows as None
        assert [got["p10"], got["p50"], got["p90"]] == [
            float(x) if math.isfinite(x) else None for x in q]
        kept = v[np.isfinite(v)]
        c = claims_quantiles(v, "GiB")
        assert [c["p10"], c["p50"], c["p90"]] == [float(x) for x in np.percentile(kept, PERCENTS)]


@pytest.mark.parametrize("bad", [(-1,), (101,), (50, 150)])
def test_out_of_range_percents_raise_as_numpy(bad):
    v = np.random.default_rng(1).normal(size=10_000)
    with pytest.raises(ValueError, match="Percentiles must be in the range"):
        percentiles(v, bad)


def test_series_quantiles_per_month_unchanged():
    """_series_quantiles (transposed copy, flat stretches and broadcast months reused)
    against np.percentile of each column, for a growing series capped after month 5,
    and a broadcast one."""
    from cachecost.model.results import _series_quantiles

    rng = np.random.default_rng(4)
    k, months = 20_000, 9
    steady = rng.gamma(2.0, 1.0, k)
    rate = rng.gamma(1.0, 0.3, k)
    grown = steady[:, None] + rate[:, None] * np.minimum(np.arange(months), 5)[None, :]
    flat = np.broadcast_to(steady[:, None], (k, months))
    for series in (grown, flat):
        got = _series_quantiles(series)
        for m in range(months):
            expected = np.percentile(series[:, m], PERCENTS)
            assert [got[f"p{p}"][m] for p in PERCENTS] == expected.tolist(), m
