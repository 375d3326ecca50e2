"""Edge cases of issue 12's exact rewrites (review): the fork wait's E[max], the
registry series, the stale caps, kaniko's TTL misses, the chunk join, the drivers'
in-place scaling and the EVPPI groups, each against an independent computation
(enumeration of outcomes, a month-by-month sum, ``np.concatenate``, Python lists)."""

from __future__ import annotations

import itertools
import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from cachecost.model.chunks import merge_chunks
from cachecost.model.cleanup import NEVER_MONTHS, CleanupPolicy, stale_cap_months
from cachecost.model.decide import sort_tornado
from cachecost.model.drivers import DAYS_PER_MONTH
from cachecost.model.registry import (
    months_to_reach,
    peak_and_growth,
    registry_series,
    stale_growth,
)
from cachecost.model.results import draw_inputs
from cachecost.model.scenario import load_scenario
from cachecost.model.simulate import make_static, simulate, uncertain_inputs
from cachecost.model.strategies import STRATEGIES
from cachecost.model.uncertainty import build_bank
from cachecost.model.voi import _block_sums
from cachecost.model.wait import BLOCK_ROWS, expected_max_wait

# ----------------------------------------------------------------------- E[max]


def _enumerated_max(hit, change, miss, h, d):
    """E[slowest job] by listing every outcome of every image: a cached build with
    probability h*(1 - d), a change build h*d, a build from scratch 1 - h."""
    probs = (h * (1.0 - d), h * d, 1.0 - h)
    total = 0.0
    for outcome in itertools.product(range(3), repeat=len(hit)):
        p = math.prod(probs[o] for o in outcome)
        total += p * max((hit[i], change[i], miss[i])[o] for i, o in enumerate(outcome))
    return total


def _times(rng, n, k, *, integer=False):
    """hit <= change <= miss (I, K), some changes at the hit time, some misses at the
    change time; ``integer`` rounds them so that ties with M0 and each other abound."""
    hit = rng.uniform(1.0, 4.0, (n, k))
    change = hit + rng.uniform(0.0, 4.0, (n, k)) * (rng.random((n, k)) < 0.6)
    miss = change + rng.uniform(0.0, 4.0, (n, k)) * (rng.random((n, k)) < 0.6)
    if integer:
        hit, change, miss = np.round(hit), np.round(change), np.round(miss)
    return hit, change, miss


def _check_every_sample(got, hit, change, miss, h, d, columns):
    k = len(got)
    hs = np.broadcast_to(np.reshape(np.asarray(h, dtype=float), (-1,)), (k,))
    ds = np.broadcast_to(np.reshape(np.asarray(d, dtype=float), (-1,)), (k,))
    hb, cb, mb = (np.broadcast_to(x, (hit.shape[0], k)) for x in (hit, change, miss))
    for i in columns:
        want = _enumerated_max(hb[:, i], cb[:, i], mb[:, i], hs[i], ds[i])
        assert got[i] == pytest.approx(want, rel=1e-12, abs=1e-12), (i, hs[i], ds[i])


@pytest.mark.parametrize("h", [0.6, 1.0, 1e-12, 1.0 - 1e-12, 0.0])
@pytest.mark.parametrize("d", [0.3, 0.0, 1.0, 1e-9])
def test_expected_max_one_image_one_sample(h, d):
    """I = 1, K = 1: E[max] = h(1-d) t_hit + h d t_change + (1-h) t_miss; as a float
    h/d and as (1, 1) arrays (the general path) alike."""
    hit, change, miss = np.array([[2.0]]), np.array([[5.0]]), np.array([[11.0]])
    want = h * (1 - d) * 2.0 + h * d * 5.0 + (1 - h) * 11.0
    for hh, dd in ((h, d), (np.array([[h]]), np.array([[d]]))):
        got = expected_max_wait(hit, change, miss, hh, dd, 1)
        assert got.shape == (1,)
        assert got[0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("k", [1, 7, BLOCK_ROWS - 1, BLOCK_ROWS, BLOCK_ROWS + 1,
                               2 * BLOCK_ROWS + 3])
def test_expected_max_block_edges_per_sample(k):
    """K below, at and past one block of :data:`BLOCK_ROWS` samples (the last block
    short), h and d per sample including 0, 1, 1e-12 and 1 - 1e-12, integer times
    (ties between images, with M0 and change = miss): each sample is its own
    enumeration, checked at the block edges."""
    rng = np.random.default_rng(k)
    n = 3
    hit, change, miss = _times(rng, n, k, integer=True)
    special = np.array([0.0, 1.0, 1e-12, 1.0 - 1e-12, 0.5])
    h = rng.choice(special, (1, k)) if k > 5 else special[:k][None, :]
    d = rng.uniform(0.0, 1.0, (1, k))
    d[0, ::3] = 0.0
    d[0, 1::4] = 1.0
    got = expected_max_wait(hit, change, miss, h, d, k)
    edges = sorted({0, k - 1, min(k - 1, BLOCK_ROWS - 1), min(k - 1, BLOCK_ROWS),
                    min(k - 1, 2 * BLOCK_ROWS), k // 2})
    _check_every_sample(got, hit, change, miss, h, d, edges)
    # h = 1 everywhere as a float (the weighted-mean form) and as (1, K) ones
    ones = expected_max_wait(hit, change, miss, 1.0, d, k)
    np.testing.assert_allclose(ones, expected_max_wait(hit, change, miss, np.ones((1, k)),
                                                       d, k), rtol=1e-13)
    _check_every_sample(ones, hit, change, miss, 1.0, d, edges)


def test_expected_max_columns_equal_their_broadcast():
    """(I, 1) times give what the same times repeated as (I, K) give; every time
    equal (hit = change = miss) is exactly M0 to rounding whatever h and d are."""
    rng = np.random.default_rng(2)
    n, k = 4, 9
    hit, change, miss = (x[:, :1] for x in _times(rng, n, 1))
    h, d = rng.uniform(0, 1, (1, k)), rng.uniform(0, 1, (1, k))
    wide = [np.repeat(x, k, axis=1) for x in (hit, change, miss)]
    for hh in (h, 1.0, 0.4):
        a = expected_max_wait(hit, change, miss, hh, d, k)
        b = expected_max_wait(*wide, hh, d, k)
        np.testing.assert_allclose(a, b, rtol=1e-14)
        _check_every_sample(a, hit, change, miss, hh, d, range(k))
    same = np.array([[3.0], [7.0], [7.0], [1.0]])
    for hh in (h, 1.0, 0.4):
        got = expected_max_wait(same, same, same, hh, d, k)
        np.testing.assert_allclose(got, 7.0, rtol=1e-15)


def test_expected_max_mixed_shapes_and_orders():
    """hit (I, 1), change (I, K) Fortran-ordered, miss (I, K) a strided view, h an int
    1 (not the float fast path), d a (K,) vector: each sample is its enumeration."""
    rng = np.random.default_rng(4)
    n, k = 3, 6
    hit = rng.uniform(1, 2, (n, 1))
    change = np.asfortranarray(hit + rng.uniform(0, 3, (n, k)))
    miss = (change + rng.uniform(0, 3, (n, k)))[:, ::-1][:, ::-1]
    d = rng.uniform(0, 1, k)
    for h in (1, 1.0, 0.3, rng.uniform(0, 1, (1, k))):
        got = expected_max_wait(hit, change, miss, h, d, k)
        _check_every_sample(got, hit, change, miss, h, d, range(k))


def test_expected_max_shared_sort_cache_with_another_change_share():
    """One sort cache, two calls with the same change times and a different d: the
    second is not the first's result (the cache keeps the sort only)."""
    rng = np.random.default_rng(5)
    hit, change, miss = _times(rng, 4, 5)
    cache: dict = {}
    a = expected_max_wait(hit, change, miss, 1.0, 0.2, 5, cache)
    b = expected_max_wait(hit, change, miss, 1.0, 0.8, 5, cache)
    _check_every_sample(a, hit, change, miss, 1.0, 0.2, range(5))
    _check_every_sample(b, hit, change, miss, 1.0, 0.8, range(5))


# ----------------------------------------------------------------------- registry series


def _series_by_months(steady, rate, caps, months):
    """steady + sum_i r_i * min(m, cap_i), month by month in Python."""
    k = len(steady)
    r = np.broadcast_to(rate, (rate.shape[0], k))
    c = None if caps is None else np.broadcast_to(caps, (rate.shape[0], k))
    out = np.empty((k, len(months)))
    for s in range(k):
        for j, m in enumerate(months):
            out[s, j] = steady[s] + sum(
                float(r[i, s]) * (m if c is None else min(m, float(c[i, s])))
                for i in range(r.shape[0]))
    return out


def _caps_cases(rng, n, k, horizon):
    yield "integer months", rng.integers(0, horizon + 2, (n, k)).astype(float)
    yield "within the first month", rng.uniform(0, 1, (n, k))
    yield "one column", rng.uniform(0, horizon + 1, (n, 1))
    flat = np.broadcast_to(14 / DAYS_PER_MONTH, (n, k))       # stale_cap_months' broadcast
    yield "read-only broadcast", flat
    yield "never and capped", np.where(rng.random((n, k)) < 0.5, NEVER_MONTHS,
                                       rng.uniform(0, horizon + 1, (n, k)))
    yield "none", None


@pytest.mark.parametrize("horizon", [0, 1, 2, 12])
@pytest.mark.parametrize("rate_shape", ["matrix", "column"])
def test_registry_series_month_by_month(horizon, rate_shape):
    """Every month 0..H and the single month [H], for caps on whole months, below one
    month, one column, a read-only zero-stride broadcast, "never" mixed with caps,
    and no caps: the month-by-month sum; ``stale_growth`` is (K, M) in every case."""
    rng = np.random.default_rng(horizon * 10 + len(rate_shape))
    n, k = 3, 5
    steady = rng.uniform(0, 10, k)
    rate = rng.uniform(0, 2, (n, k) if rate_shape == "matrix" else (n, 1))
    rate[0] = 0.0                                   # an image that never piles up
    for label, caps in _caps_cases(rng, n, k, horizon):
        for months in (np.arange(horizon + 1, dtype=float), np.array([float(horizon)])):
            got = registry_series(steady, rate, caps, months)
            want = _series_by_months(steady, rate, caps, months)
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-12, err_msg=label)
            assert stale_growth(rate, caps, months, k).shape == (k, len(months)), label
    flat = registry_series(steady, None, None, np.arange(horizon + 1, dtype=float))
    np.testing.assert_array_equal(flat, np.repeat(steady[:, None], horizon + 1, axis=1))


def test_stale_growth_columns_single_month_is_k_by_one():
    """Rates and caps both (I, 1) (no per-sample input varies) at the single month
    [H]: stale_growth is documented (K, M); hand value 2*min(3, 1) + 1*min(3, 5) = 5
    GiB for each of the K = 4 samples."""
    rate, caps = np.array([[2.0], [1.0]]), np.array([[1.0], [5.0]])
    got = stale_growth(rate, caps, np.array([3.0]), 4)
    assert got.shape == (4, 1)
    np.testing.assert_array_equal(got[:, 0], 5.0)


# ----------------------------------------------------------------------- stale caps

D14 = 14 / DAYS_PER_MONTH


def test_stale_cap_months_of_plain_floats():
    """One image as plain floats (the signature's ``Arr``): keep_n 5 with no current
    tag and one tag per change keeps 5 old sets; at c = 2/month they last 2.5 months,
    longer than the 14-day rule's 0.46: the cap is 2.5."""
    got = stale_cap_months(2.0, CleanupPolicy(keep_n=5, older_than_days=14), 0.0, 1.0)
    assert float(got) == pytest.approx(2.5)
    assert float(stale_cap_months(2.0, CleanupPolicy(keep_n=5), 0.0, 1.0)) == 2.5


def test_stale_cap_months_extreme_rates():
    """keep_n 5, T = 1 current tag, 1 tag per change: 4 sets kept. c = 0: never;
    c = 1e-300: 4e300 months, more than "never", so never; c = 1e300: 4e-300 months
    (keep_n alone) or the age rule's 0.46 (with 14 days); c = 5e-324 (4/c overflows
    to inf): never. keep 0 (T = 6) with c = 0: 0/0, never without an age rule."""
    c = np.array([[0.0], [1e-300], [1e300], [5e-324]])
    one = np.array([[1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keep = stale_cap_months(c, CleanupPolicy(keep_n=5), one, one)[:, 0]
        both = stale_cap_months(c, CleanupPolicy(keep_n=5, older_than_days=14), one, one)[:, 0]
        none_kept = stale_cap_months(c, CleanupPolicy(keep_n=5), np.array([[6.0]]), one)
    assert keep.tolist() == pytest.approx([NEVER_MONTHS, NEVER_MONTHS, 4e-300, NEVER_MONTHS],
                                          rel=1e-15, abs=0)
    assert both.tolist() == pytest.approx([NEVER_MONTHS, NEVER_MONTHS, D14, NEVER_MONTHS])
    assert none_kept[:, 0].tolist() == [NEVER_MONTHS, 0.0, 0.0, 0.0]


def test_read_only_caps_are_only_read():
    """The age rule alone is one read-only broadcast; peak_and_growth, months_to_reach,
    stale_growth and registry_series read it and leave it as it was. Hand values:
    rates 1 and 2 GiB/month capped at 0.46 months: peak 3 + 3*0.46 = 4.38 GiB."""
    c = np.array([[1.0, 1.0], [2.0, 2.0]])
    caps = stale_cap_months(c, CleanupPolicy(older_than_days=14), np.array([[1.0]]),
                            np.array([[1.0]]))
    assert not caps.flags.writeable and caps.shape == (2, 2)
    before = caps.copy()
    steady = np.array([3.0, 3.0])
    peak, growth = peak_and_growth(steady, c, caps, 2)
    np.testing.assert_allclose(peak, 3.0 + 3.0 * D14)
    np.testing.assert_array_equal(growth, 0.0)
    assert months_to_reach(steady, c, caps, 3.5).tolist() == pytest.approx([0.5 / 3] * 2)
    registry_series(steady, c, caps, np.arange(4.0))
    stale_growth(c, caps, np.array([3.0]), 2)
    np.testing.assert_array_equal(caps, before)


# ----------------------------------------------------------------------- kaniko TTL


def test_kaniko_ttl_zero_misses_every_time_without_a_warning():
    """kaniko_cache_ttl_hours = 0 is allowed (minimum 0): every cached layer has
    expired, c'/(e^0 - 1) = inf TTL misses a month (the caller caps them at B - c),
    with no divide-by-zero warning on the CLI's stderr. tau = 0.5 month, c' = 0:
    one miss every tau, 2 a month."""
    d = SimpleNamespace(changes_per_month=np.array([[0.0], [2.0]]),
                        kaniko_full_change_share=1.0,
                        kaniko_ttl_months=np.array([[0.0, 0.5]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = STRATEGIES["kaniko-cache-repo"].extra_full_builds_per_month(d)
    assert got[0, 0] == math.inf and got[1, 0] == math.inf
    assert got[0, 1] == 2.0
    assert got[1, 1] == pytest.approx(2.0 / (math.e - 1.0), rel=1e-15)


# ----------------------------------------------------------------------- chunk join


def test_merge_chunks_mixed_kinds_match_concatenation():
    """Three chunks: a figure constant in one chunk only, a (K, M) series repeating a
    column in some chunks only and in all, a constant (K, M), NaN and inf constants,
    equal-in-content arrays under two strategies: each joined figure is exactly
    ``np.concatenate`` of its chunks, read-only, and equal figures are one array."""
    rng = np.random.default_rng(8)
    sizes, m = (5, 3, 4), 4
    shared = [rng.normal(size=k) for k in sizes]
    parts = []
    for i, k in enumerate(sizes):
        column = np.broadcast_to(rng.normal(size=(k, 1)), (k, m))
        parts.append({
            "x": {"const_in_one": np.full(k, 2.0) if i == 0 else rng.normal(size=k),
                  "col_in_some": column if i != 1 else rng.normal(size=(k, m)),
                  "col_in_all": column,
                  "const_2d": np.broadcast_to(1.5, (k, m)),
                  "nan": np.full(k, np.nan), "inf": np.full(k, np.inf),
                  "shared": shared[i], "copy": shared[i].copy()},
            "y": {"shared": shared[i], "series": rng.normal(size=(k, m))}})
    out = merge_chunks(parts)
    for name, figures in out.items():
        for key, merged in figures.items():
            want = np.concatenate([p[name][key] for p in parts])
            np.testing.assert_array_equal(merged, want, err_msg=f"{name}.{key}")
            assert merged.shape == want.shape and not merged.flags.writeable
            with pytest.raises(ValueError):
                merged[(0,) * merged.ndim] = 0.0
    assert out["x"]["shared"] is out["y"]["shared"] is out["x"]["copy"]
    assert out["x"]["col_in_all"].strides[1] == 0
    assert out["x"]["col_in_some"].strides[1] != 0


# ----------------------------------------------------------------------- in-place scaling


def test_simulate_leaves_calibration_and_bank_columns_alone(sample_calibration, tmp_path):
    """The drivers scale fresh bootstrap gathers in place (factors != 1 here): the
    calibration columns and the bank's replicate columns are what they were before,
    and a second run gives the first's numbers."""
    path = tmp_path / "s.yaml"
    path.write_text("name: t\nbaseline: dind-inline-cache\ncompute: {mode: private-runners}\n"
                    "workload:\n  build_minutes_factor: {uniform: {low: 0.5, high: 2}}\n"
                    "  image_changes_factor: {uniform: {low: 0.5, high: 2}}\n"
                    "  upstream_pipelines_factor: {uniform: {low: 0.5, high: 2}}\n")
    scenario = load_scenario(path)
    st = make_static(sample_calibration, scenario,
                     build_bank(sample_calibration, np.random.default_rng(1), 64))
    assert st.bank is not None
    cols = {n: v.copy() for n, v in st.col.items()}
    bank = {n: v.copy() for n, v in st.bank.columns.items()}
    draws, replicate = draw_inputs(st, uncertain_inputs(scenario), 300, 7)
    first = simulate(st, draws, replicate=replicate)
    for n, v in cols.items():
        np.testing.assert_array_equal(st.col[n], v, err_msg=n)
    for n, v in bank.items():
        np.testing.assert_array_equal(st.bank.columns[n], v, err_msg=n)
    second = simulate(st, draws, replicate=replicate)
    for name, figures in first.items():
        for key, value in figures.items():
            np.testing.assert_array_equal(second[name][key], value, err_msg=f"{name}.{key}")


# ----------------------------------------------------------------------- EVPPI groups


def _groups(x, blocks):
    """Python lists: ranks by (value, index); one group per value when at most
    ``blocks`` values, else array_split-sized runs of ranks."""
    ranked = sorted(range(len(x)), key=lambda i: (x[i], i))
    if len(set(x)) <= blocks:
        return [[i for i in ranked if x[i] == v] for v in sorted(set(x))]
    size, extra = divmod(len(x), blocks)
    out, start = [], 0
    for n in [size + 1] * extra + [size] * (blocks - extra):
        out.append(ranked[start:start + n])
        start += n
    return out


@pytest.mark.parametrize(("x", "blocks"), [
    ([1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0], 2),      # ties across a block boundary
    ([3.0, 1.0, 3.0, 1.0], 2),                      # exactly `blocks` values: by value
    ([5.0, 4.0, 3.0], 7),                           # K < blocks
    ([2.0] * 6, 3),                                 # one value
    ([0.5, -1.0, 0.5, 2.0, -1.0, 7.0, 0.5, 2.0, 3.0], 4),
])
@pytest.mark.parametrize("decisions", [1, 3])
def test_block_sums_groups(x, blocks, decisions):
    """Group sizes equal the Python ranking's and each group's sums its rows' sums."""
    rng = np.random.default_rng(len(x) * blocks + decisions)
    costs = rng.normal(100.0, 30.0, (len(x), decisions))
    sizes, sums = _block_sums(costs, np.array(x), blocks)
    groups = _groups(x, blocks)
    assert sizes.tolist() == [len(g) for g in groups]
    np.testing.assert_allclose(sums, [costs[g].sum(axis=0) for g in groups], rtol=1e-13)


# ----------------------------------------------------------------------- tornado order


def test_tornado_ties_across_a_rounding_boundary_go_by_name():
    """5.0000000004999995 and 5.000000000500001 differ by rounding noise (1.6e-15) but
    would round to 5.0 and 5.000000001 (the review found rounded buckets order them by
    the noise): a run within 1e-9 of its largest is one tie, so they go by name."""
    rows = [{"swing_usd_per_month": 5.000000000500001, "strategy": "s", "input": "b"},
            {"swing_usd_per_month": 5.0000000004999995, "strategy": "s", "input": "a"}]
    assert [r["input"] for r in sort_tornado(rows)] == ["a", "b"]
