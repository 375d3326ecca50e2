"""EVPI and EVPPI (cachecost.model.voi): hand-worked and analytic cases, properties."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_test_helpers import make_calibration

from cachecost.model.keys import KEYS
from cachecost.model.voi import (
    _block_sums,
    _radix_order,
    _stable_order,
    default_blocks,
    evpi,
    evppi,
    value_of_information,
)


def test_evpi_hand_worked():
    """Costs (A, B) per sample: (1, 3) and (3, 1).
    Means: A 2, B 2 -> choose either, expected 2. Perfect information: 1 in each
    sample -> 1. EVPI = 2 - 1 = 1."""
    assert evpi(np.array([[1.0, 3.0], [3.0, 1.0]])) == pytest.approx(1.0)


def test_evpi_zero_when_one_decision_always_wins():
    """A always costs 1 less than B: choosing A is already right in every sample."""
    a = np.linspace(5.0, 9.0, 11)
    assert evpi(np.column_stack([a, a + 1.0])) == pytest.approx(0.0, abs=1e-12)


def test_evppi_of_a_binary_input_is_exact():
    """x in {0, 1}, two samples each. x=0: A 1, B 2; x=1: A 3, B 2.
    Means: A (1+1+3+3)/4 = 2, B 2 -> 2. Knowing x: x=0 -> 1, x=1 -> 2, mean 1.5.
    EVPPI = 2 - 1.5 = 0.5; costs depend on x only, so EVPPI = EVPI = 0.5."""
    costs = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 2.0], [3.0, 2.0]])
    x = np.array([0.0, 0.0, 1.0, 1.0])
    assert evppi(costs, x) == pytest.approx(0.5)
    assert evpi(costs) == pytest.approx(0.5)


def test_evppi_toy_two_decision_problem_matches_the_analytic_value():
    """x ~ U(0, 1); decision A costs x + e (e ~ N(0, 0.3), independent), B costs 0.5.
    E[A] = E[B] = 0.5. Knowing x: E[min(x, 0.5)] = int_0^0.5 x dx + 0.5 * 0.5
    = 0.125 + 0.25 = 0.375, so EVPPI(x) = 0.5 - 0.375 = 0.125 exactly.
    The noise e is worth information too, so EVPI > 0.125; an independent input z
    is worth nothing (EVPPI ~ 0)."""
    rng = np.random.default_rng(42)
    k = 60_000
    x = rng.uniform(size=k)
    e = rng.normal(0.0, 0.3, size=k)
    z = rng.uniform(size=k)
    costs = np.column_stack([x + e, np.full(k, 0.5)])
    assert evppi(costs, x) == pytest.approx(0.125, abs=0.01)
    assert evpi(costs) > evppi(costs, x) + 0.02
    assert evppi(costs, z) < 0.01


@pytest.mark.parametrize("seed", range(8))
def test_evppi_between_zero_and_evpi(seed):
    """For any costs and any input: 0 <= EVPPI <= EVPI (Jensen, block by block)."""
    rng = np.random.default_rng(seed)
    k, d = int(rng.integers(5, 400)), int(rng.integers(2, 6))
    costs = rng.normal(size=(k, d)) * rng.uniform(0.1, 10, size=d) + rng.normal(size=d)
    x = rng.normal(size=k) + 0.5 * costs[:, 0]
    for blocks in (1, 3, None, k):
        v = evppi(costs, x, blocks)
        assert -1e-9 <= v <= evpi(costs) + 1e-9


def test_evppi_with_one_block_is_zero_and_with_a_block_per_sample_is_evpi():
    """One block: the block's min of means is the overall min of means -> 0.
    One sample per block: min of means is each sample's min -> EVPI."""
    rng = np.random.default_rng(3)
    costs = rng.normal(size=(50, 3))
    x = rng.uniform(size=50)
    assert evppi(costs, x, 1) == pytest.approx(0.0, abs=1e-12)
    assert evppi(costs, x, 50) == pytest.approx(evpi(costs))


def test_bad_input_raises_one_clear_error():
    with pytest.raises(ValueError, match="costs"):
        evpi(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="finite"):
        evpi(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="x: expected shape"):
        evppi(np.ones((3, 2)), np.ones(4))


def test_value_of_information_rows_sorted_and_total():
    """Two strategies; input a decides between them (A = a, B = 0.5), b is noise,
    c is constant (skipped). a's EVPPI ~ 0.125 (the toy above), b's ~ 0."""
    rng = np.random.default_rng(7)
    k = 20_000
    a, b = rng.uniform(size=k), rng.uniform(size=k)
    sim = {"s1": {"total_cost_usd_per_month": a}, "s2": {"total_cost_usd_per_month":
                                                         np.full(k, 0.5)}}
    draws = {"workload.image_changes_factor": b, "forks.pipelines_per_month": a,
             "compute.cost_factor": np.full(k, 0.5)}
    rows, total = value_of_information(sim, draws, ["s1", "s2", "absent"], seed=1)
    assert [r["input"] for r in rows] == ["forks.pipelines_per_month",
                                          "workload.image_changes_factor"]
    assert rows[0]["evppi_usd_per_month"] == pytest.approx(0.125, abs=0.01)
    assert rows[1]["evppi_usd_per_month"] < 0.01
    assert rows[0]["how_to_measure"] == KEYS["forks"]["pipelines_per_month"].measure
    assert total["decisions"] == ["s1", "s2"]
    assert total["evpi_usd_per_month"] == pytest.approx(0.125, abs=0.01)
    assert total["noise_floor_usd_per_month"] < 0.01
    json.dumps([rows, total])


def test_run_model_value_of_information(sample, fixed_scenario):
    """run_model adds the list (largest first, each <= EVPI) and the total."""
    from cachecost.model.results import run_model

    cal = make_calibration({"a": {}, "b": {"compressed_size_gib": 2.0}})
    r = run_model(sample, fixed_scenario, samples=50, calibration=cal)
    total = r["value_of_information_total"]
    values = [row["evppi_usd_per_month"] for row in r["value_of_information"]]
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= v <= total["evpi_usd_per_month"] + 1e-9 for v in values)
    # every input of the fixed scenario is fixed except the node cost, which the
    # model ignores there (usd_per_runner_hour is given): nothing to learn
    assert [row["input"] for row in r["value_of_information"]] == [
        "compute.node_cost_usd_per_year"]
    assert values == [pytest.approx(0.0, abs=1e-9)]
    assert total["evpi_usd_per_month"] == pytest.approx(0.0, abs=1e-9)


def test_run_model_digest_outcome_is_an_input_of_the_decision(sample, tmp_path):
    """Digest sharing at probability 0.5: each sample holds its drawn outcome, 0 or 1,
    so the input is ranked (grouped by value, exact). kaniko costs more than dind in
    every sample whatever the outcome (runner minutes 2 x (208 + 8*TTL extra) > 2 x 208
    at 0.1 USD/min, and at least dind's GiB), so knowing the outcome cannot change the
    choice: its EVPPI is 0. The total says which cost it weighs."""
    from model_test_helpers import FIXED_SCENARIO, write_scenario

    from cachecost.model.results import run_model
    from cachecost.model.scenario import load_scenario

    text = FIXED_SCENARIO.replace("kaniko_layer_digest_shared_probability: 1",
                                  "kaniko_layer_digest_shared_probability: 0.5")
    sc = load_scenario(write_scenario(tmp_path, text))
    cal = make_calibration({"a": {}, "b": {"compressed_size_gib": 2.0}})
    r = run_model(sample, sc, samples=200, calibration=cal)
    rows = {row["input"]: row for row in r["value_of_information"]}
    digest = rows["assumptions.kaniko_layer_digest_shared_probability"]
    assert digest["evppi_usd_per_month"] == 0.0
    assert "digests" in digest["how_to_measure"]
    kaniko = r["strategies"]["kaniko-cache-repo"]["total_cost_usd_per_month"]
    dind = r["strategies"]["dind-inline-cache"]["total_cost_usd_per_month"]
    assert kaniko["p10"] > dind["p90"]
    total = r["value_of_information_total"]
    assert total["weighs"] == ["project_cash", "shadow", "fork_owners_cash"]
    assert total["cost"].startswith("total_cost_usd_per_month")


# --- the fast paths against a plain reference --------------------------------------
# evppi sorts each input with a radix sort and sums each decision's blocks with one
# bincount; the reference below does the same estimator with Python lists: rank the
# samples by (value, sample index), cut the ranks into groups, add each group's rows
# one after another, and weigh each group's least mean cost by its size.


def reference_groups(x: list[float], blocks: int) -> list[list[int]]:
    """Sample indices per group, groups in ascending x: one group per distinct value
    when there are at most ``blocks`` of them, else ``blocks`` runs of consecutive
    ranks sized like np.array_split (the first k mod blocks runs one longer)."""
    k = len(x)
    ranked = sorted(range(k), key=lambda i: (x[i], i))
    if len(set(x)) <= blocks:
        return [[i for i in ranked if x[i] == v] for v in sorted(set(x))]
    size, extra = divmod(k, blocks)
    groups, start = [], 0
    for n in [size + 1] * extra + [size] * (blocks - extra):
        groups.append(ranked[start:start + n])
        start += n
    return groups


def reference_sums(costs: list[list[float]], group: list[int]) -> list[float]:
    """The group's cost per decision, its rows added one after another in rank order."""
    total = list(costs[group[0]])
    for i in group[1:]:
        total = [t + c for t, c in zip(total, costs[i], strict=True)]
    return total


def reference_evppi(costs: list[list[float]], x: list[float], blocks: int) -> float:
    """min_d mean(C_d) - sum_j (n_j / K) min_d mean_j(C_d) (Strong & Oakley 2013)."""
    k, d = len(costs), len(costs[0])
    least_mean = min(sum(row[j] for row in costs) / k for j in range(d))
    inner = sum(len(g) * min(s / len(g) for s in reference_sums(costs, g))
                for g in reference_groups(x, blocks))
    return least_mean - inner / k


def _check_against_reference(costs: np.ndarray, x: np.ndarray, blocks: int) -> None:
    groups = reference_groups(x.tolist(), blocks)
    sizes, sums = _block_sums(costs, x, blocks)
    assert sizes.tolist() == [len(g) for g in groups]
    scale = float(np.abs(costs).max()) + 1.0
    assert sums.ravel().tolist() == pytest.approx(
        [s for g in groups for s in reference_sums(costs.tolist(), g)],
        rel=1e-12, abs=1e-12 * scale * len(x))
    assert evppi(costs, x, blocks) == pytest.approx(
        reference_evppi(costs.tolist(), x.tolist(), blocks), rel=1e-12, abs=1e-12 * scale)


_finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@st.composite
def cost_problems(draw):
    """A (K, D) cost matrix, an input x (often with ties, sometimes -0.0 next to 0.0)
    and a block count from 1 to K + 2."""
    k = draw(st.integers(1, 60))
    d = draw(st.integers(1, 4))
    costs = np.array(draw(st.lists(_finite, min_size=k * d, max_size=k * d))).reshape(k, d)
    if draw(st.booleans()):
        values = st.sampled_from(draw(st.lists(_finite | st.just(-0.0), min_size=1,
                                               max_size=6)))
    else:
        values = st.floats(allow_nan=False)     # infinities and subnormals included
    x = np.array(draw(st.lists(values, min_size=k, max_size=k)), dtype=float)
    return costs, x, draw(st.integers(1, k + 2))


@settings(max_examples=300, deadline=None)
@given(cost_problems())
def test_evppi_matches_the_plain_reference(problem):
    """Groups, their sizes and their sums equal the reference's, by value groups or
    by blocks, with ties inside and across block boundaries, for one decision or
    several."""
    _check_against_reference(*problem)


@pytest.mark.parametrize("seed", range(4))
def test_evppi_matches_the_plain_reference_on_larger_blocks(seed):
    """3,001 samples (14 blocks: the first 5 hold 215, the others 214), an input with
    200 tied values (ties straddle block boundaries), one with 14 values (grouped by
    value), and one with distinct values."""
    rng = np.random.default_rng(seed)
    k = 3001
    costs = rng.normal(100.0, 30.0, size=(k, 3))
    for x in (rng.integers(0, 200, size=k).astype(float),
              rng.integers(0, 14, size=k).astype(float), rng.lognormal(size=k)):
        _check_against_reference(costs, x, default_blocks(k))


# 1 + i * 2**-52: neighbours that differ in the lowest bits of the mantissa only
_close_to_one = st.integers(-70_000, 70_000).map(lambda i: (1.0 + abs(i) * 2.0**-52)
                                                 * (1.0 if i >= 0 else -1.0))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0, 1.5, -1.5])
                | _close_to_one, max_size=80))
def test_stable_order_is_numpys_stable_argsort(values):
    """The radix order equals np.argsort(kind="stable") for any NaN-free floats:
    negatives, -0.0 tied with 0.0, infinities, subnormals, ties in sample order,
    values whose keys differ in their lowest bits only."""
    x = np.array(values, dtype=float)
    assert _radix_order(x).tolist() == np.argsort(x, kind="stable").tolist()
    order, new_value = _stable_order(x)
    assert order.tolist() == np.argsort(x, kind="stable").tolist()
    assert new_value.tolist() == [bool(x[b] != x[a])
                                  for a, b in zip(order[:-1], order[1:], strict=True)]


def test_stable_order_with_nan_sorts_nan_last():
    """NaN has no place in the radix keys; numpy's order (NaN last) is kept."""
    x = np.array([np.nan, 2.0, -1.0, np.nan, 2.0])
    order, _ = _stable_order(x)
    assert order.tolist() == [2, 1, 4, 0, 3]


def test_radix_order_hand_worked():
    """[2.0, -1.0, 2.0, -0.0, 0.0]: -1.0 first, then -0.0 and 0.0 (equal, sample
    order: 3, 4), then the two 2.0 in sample order (0, 2).
    [1 + 2**-52, 1.0, 1 + 2**-51]: keys equal but for their low 16 bits, so the
    first pass orders them: 1.0 (1), 1 + 2**-52 (0), 1 + 2**-51 (2)."""
    assert _radix_order(np.array([2.0, -1.0, 2.0, -0.0, 0.0])).tolist() == [1, 3, 4, 0, 2]
    assert _radix_order(np.array([1 + 2.0**-52, 1.0, 1 + 2.0**-51])).tolist() == [1, 0, 2]


def test_value_of_information_reports_evppi_of_each_input():
    """The rows and the noise floor are exactly the rounded public evppi() of each
    input and of the seeded noise draw (value_of_information shares the least mean
    cost across inputs instead of recomputing it)."""
    rng = np.random.default_rng(11)
    k = 5000
    a, b = rng.uniform(size=k), rng.integers(0, 2, size=k).astype(float)
    costs = np.column_stack([100 * a + rng.normal(size=k), np.full(k, 50.0), 60 + 30 * b])
    sim = {f"s{i}": {"total_cost_usd_per_month": costs[:, i]} for i in range(3)}
    draws = {"forks.owners": a, "assumptions.kaniko_layer_digest_shared_probability": b}
    rows, total = value_of_information(sim, draws, ["s0", "s1", "s2"], seed=5)
    assert {r["input"]: r["evppi_usd_per_month"] for r in rows} == {
        name: round(evppi(costs, x), 6) for name, x in draws.items()}
    noise = np.random.default_rng([5, 13]).uniform(size=k)
    assert total["noise_floor_usd_per_month"] == max(0.0, round(evppi(costs, noise), 6))
    assert total["blocks"] == default_blocks(k) == 17


@pytest.mark.parametrize(("k", "d", "blocks"), [(200, 1, 3), (200, 3, 1), (200, 2, 2),
                                                  (201, 6, 5)])
def test_evppi_matches_the_plain_reference_at_edge_shapes(k, d, blocks):
    """One decision, one block, two of each, and the model's six decisions: the
    groups and their sums are the reference's (sums to rounding)."""
    rng = np.random.default_rng(k * 100 + d * 10 + blocks)
    _check_against_reference(rng.lognormal(4.0, 1.0, size=(k, d)), rng.normal(size=k),
                             blocks)


@settings(max_examples=200, deadline=None)
@given(cost_problems())
def test_evpi_is_the_formula_to_the_last_bit(problem):
    """evpi takes the per-sample minima one column at a time; a minimum rounds
    nothing, so the value is exactly min_d mean(C_d) - mean(min_d C_d) written
    with numpy's row reductions."""
    costs, _, _ = problem
    assert evpi(costs) == float(costs.mean(axis=0).min() - costs.min(axis=1).mean())


def test_stable_order_with_nan_and_no_ties_is_the_comparison_sort():
    """NaN values never compare equal: with no other ties the comparison sort's
    order is kept as it comes, the NaN last."""
    x = np.array([np.nan, 2.0, -1.0, np.nan, 3.0])
    order, new_value = _stable_order(x)
    assert order.tolist() == np.argsort(x).tolist()
    assert order[:3].tolist() == [2, 1, 4]
    assert new_value.all()
