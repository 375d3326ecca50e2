r"""What would flip the decision, computed in the decision's own Monte Carlo.

The recommendation (:func:`cachecost.model.decide.choose`) compares the *expected*
(mean) totals of the run's samples, with its bootstrap bank, and keeps today's
strategy unless a challenger beats it by the status-quo margin
(:func:`cachecost.rules.tie_resolution_usd`). Break-evens and tornado swings here are
figures of that same decision: "input X set to v" means every sample of the run with
X = v and every other draw (and calibration replicate) as the run drew it, i.e.
common random numbers. For one strategy ``s``::

    m_s(v) = mean over the run's samples k of total_s(v, other draws_k)

* **Closed form** where the total is linear in the input. A price ``x`` enters one
  money component, ``c_s,k = x_k * b_s,k`` (runner time: ``minutes x node cost / 12 /
  measured minutes``; hosted overage: ``billed minutes x price / 1000``; packs
  ``x price / 12``; shadow ``GiB x rate / 120``, :mod:`cachecost.model.money`), so
  ``m_s(v) = mean(total_s - c_s) + v * mean(c_s / x)`` from the run itself, every
  sample, no re-simulation. A probability of a yes/no fact (drawn as a 0/1 outcome
  per sample) gives ``m_s(p) = (1 - p) m_s(0) + p m_s(1)``; each sample's drawn outcome
  is already simulated, so only the other one is re-simulated.
* **Bisection** (regula falsi) otherwise: a scan of :data:`SCAN_POINTS` + 1 values on
  the first :data:`SCAN_SAMPLES` samples finds the sign change; regula falsi then works
  on re-simulated totals of the first :data:`FLIP_SAMPLES` (pairs refining in the same
  scan cell share the strategies they have in common; a tornado end:
  :data:`TORNADO_SAMPLES`), anchored to the run's own means:
  ``m_s(v) = mean_K(total_s) + mean_n(total_s(v)) - mean_n(total_s)``, the subsample
  giving only the *shift* the input causes, which common random numbers make precise.

A break-even (:class:`BreakEven`) of kind :data:`COSTS_CROSS` is where two strategies'
expected totals are equal; of kind :data:`RECOMMENDATION_FLIPS`, where the
recommendation itself changes because the challenger's lead over today's strategy
reaches the status-quo margin ``max($1, 2 % of today's expected total)``. Each
says whether it lies inside the input's scenario range (support of a uniform or
triangular input, p10-p90 of a lognormal). Tornado rows (:class:`Swing`) are the
expected challenger-minus-baseline totals with the input at its p10 and p90 (a
probability: 0 and 1), the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from cachecost.model.distributions import Distribution
from cachecost.model.scenario import KEYS
from cachecost.model.simulate import Static, simulate
from cachecost.rules import TIE_FLOOR_USD, TIE_SHARE

#: Samples of the run re-simulated for an input that is not linear in the total
#: (the first ones: the run's own draws and replicates).
FLIP_SAMPLES = 4096
#: Samples of the run used to scan for a sign change before refining (the refinement
#: re-evaluates the bracket's ends on :data:`FLIP_SAMPLES`).
SCAN_SAMPLES = 1024
#: Points of the scan besides 0, geometric from 1/20 to 20 times today's value.
SCAN_POINTS = 16
#: Samples of the run re-simulated for a tornado end (its shift from the run's means:
#: common random numbers make it precise; every end of every input is one row block).
TORNADO_SAMPLES = 1024
#: Regula falsi stops when the expected difference is within this (USD/month).
TOLERANCE_USD = 0.01
#: The kinds of break-even.
COSTS_CROSS = "costs cross"
RECOMMENDATION_FLIPS = "recommendation flips"
#: How a break-even was found.
CLOSED_FORM = "closed form"
BISECTION = "bisection"

#: Prices whose total is linear in them: the kind of money and the metric of
#: :func:`cachecost.model.simulate.simulate` they multiply.
PRICE_METRICS: dict[str, tuple[str, str]] = {
    "compute.usd_per_1000_minutes": ("project_cash", "compute_cost_usd_per_month"),
    "compute.usd_per_runner_hour": ("project_cash", "compute_cost_usd_per_month"),
    "compute.node_cost_usd_per_year": ("project_cash", "compute_cost_usd_per_month"),
    "storage.usd_per_10gib_year": ("project_cash", "storage_cash_usd_per_month"),
    "storage.shadow_usd_per_10gib_year": ("shadow", "shadow_storage_usd_per_month"),
    "forks.usd_per_1000_minutes": ("fork_owners_cash", "fork_owners_cash_usd_per_month"),
}


class BreakEven(TypedDict):
    """One break-even: ``value`` of ``input`` (in ``unit``) where ``strategy_a`` and
    ``strategy_b`` cost the same in expectation (kind ``costs cross``) or where the
    recommendation between them changes (kind ``recommendation flips``); None when
    none lies in ``searched_low .. searched_high``. ``current`` is the input's expected
    value in the scenario (every sample at one value, as ``value`` is)."""

    strategy_a: str
    strategy_b: str
    input: str
    unit: str
    kind: str
    value: float | None
    current: float
    range_low: float
    range_high: float
    range_is: str
    is_within_range: bool
    method: str
    samples: int
    searched_low: float
    searched_high: float


class Swing(TypedDict):
    """A tornado row: ``strategy`` minus the baseline, expected USD/month, with
    ``input`` at ``low`` and at ``high`` (others as drawn)."""

    input: str
    unit: str
    strategy: str
    low: float
    high: float
    delta_low_usd_per_month: float
    delta_high_usd_per_month: float
    delta_at_p50_usd_per_month: float
    delta_expected_usd_per_month: float
    swing_usd_per_month: float
    samples: int


@dataclass
class Run:
    """The decision's own Monte Carlo: the static parts with the bank, the input
    distributions, the draws (name -> (K,)), the replicates ((K, I) or None) and
    the simulation (strategy -> metric -> (K,))."""

    st: Static
    dists: dict[str, Distribution]
    draws: dict[str, np.ndarray]
    replicate: np.ndarray | None
    sim: dict[str, dict[str, np.ndarray]]
    flip_samples: int = FLIP_SAMPLES
    cache: dict[tuple[str, str], Any] = dataclasses.field(default_factory=dict)

    @property
    def samples(self) -> int:
        """K, the run's sample count."""
        return len(next(iter(self.draws.values())))

    def mean(self, name: str, n: int | None = None) -> float:
        """Expected total of strategy ``name`` over the run's (first ``n``) samples."""
        key = (name, f"mean:{n}")
        if key not in self.cache:
            self.cache[key] = float(np.mean(self.sim[name]["total_cost_usd_per_month"][:n]))
        found: float = self.cache[key]
        return found


def unit_of(dotted: str) -> str:
    """The unit of a scenario input (``KEYS``)."""
    section, key = dotted.split(".", 1)
    return KEYS[section][key].unit


def is_probability(dotted: str) -> bool:
    """True for an input that is a probability (its unit)."""
    return unit_of(dotted) == "probability"


def range_kind(dist: Distribution) -> str:
    """What :func:`scenario_range` gives for ``dist``: ``support``, ``p10-p90`` or
    ``fixed``."""
    return {"uniform": "support", "triangular": "support", "lognormal": "p10-p90"}.get(
        dist.kind, "fixed")


def scenario_range(dist: Distribution) -> tuple[float, float]:
    """The input's range in its scenario: a uniform's or triangular's support, a
    lognormal's p10-p90, a fixed value itself."""
    if dist.kind in ("uniform", "triangular"):
        return float(dist.params[0]), float(dist.params[-1])
    if dist.kind == "lognormal":
        return dist.quantile(0.1), dist.quantile(0.9)
    return dist.median, dist.median


# --------------------------------------------------------------------------- expected totals


def _prices_here(run: Run, name: str) -> bool:
    """Whether price ``name`` is the one that sets its metric in this scenario: hosted
    minutes on GitLab-hosted runners, runner time on private ones (the hourly price when
    set, else the node cost; :func:`cachecost.model.simulate.usd_per_runner_minute`).
    A price the scenario does not charge moves nothing (before, the node cost scaled a
    hosted scenario's minutes bill, a $57 tornado swing where the true one is $0)."""
    mode = run.st.scenario.value("compute.mode")
    if name == "compute.usd_per_1000_minutes":
        return bool(mode == "gitlab-hosted")
    if name == "compute.usd_per_runner_hour":
        return bool(mode == "private-runners")
    if name == "compute.node_cost_usd_per_year":
        return bool(mode == "private-runners" and "compute.usd_per_runner_hour" not in run.draws)
    return True


def _linear_coefficients(run: Run, name: str) -> dict[str, tuple[float, float]] | None:
    """Per strategy ``(intercept, slope)`` of the expected total in price ``name``,
    from the run's own samples; None when the price is not linear here (not a price,
    or a draw of 0 that hides the slope)."""
    if name not in PRICE_METRICS or name not in run.draws or not _prices_here(run, name):
        return None
    kind, metric = PRICE_METRICS[name]
    x = np.asarray(run.draws[name], dtype=float)
    if np.any(x <= 0):
        return None
    out = {}
    for s in run.st.names:
        total = run.sim[s]["total_cost_usd_per_month"]
        part = run.sim[s][metric] if kind in run.st.weighs else np.zeros_like(total)
        out[s] = (float(np.mean(total - part)), float(np.mean(part / x)))
    return out


def _resimulated(run: Run, name: str, values: np.ndarray, names: tuple[str, ...], n: int
                 ) -> dict[str, np.ndarray]:
    """Expected totals, shape (G,), of ``names`` with ``name`` set to each of ``values``:
    the run's means plus the shift on its first ``n`` samples (module docstring)."""
    n = min(n, run.samples)
    g = len(values)
    p = {k: np.tile(v[:n], g) for k, v in run.draws.items()}
    p[name] = np.repeat(np.asarray(values, dtype=float), n)
    rep = None if run.replicate is None else np.tile(run.replicate[:n], (g, 1))
    sim = simulate(dataclasses.replace(run.st, names=names), p, with_horizon=False,
                   replicate=rep)
    return {s: run.mean(s) - run.mean(s, n)
            + sim[s]["total_cost_usd_per_month"].reshape(g, n).mean(axis=1) for s in names}


Means = Callable[..., dict[str, np.ndarray]]


def _outcome_ends(run: Run, name: str) -> dict[str, np.ndarray]:
    """Expected totals, shape (2,), with yes/no input ``name`` at 0 and at 1 (module
    docstring: the run's means plus the shift on its first :data:`FLIP_SAMPLES`).
    Each sample already holds one outcome, and its total there is the run's own (bit
    for bit what re-simulating it gives), so only the other outcome is re-simulated:
    one row block instead of two. Draws that are not 0/1 outcomes: both ends
    re-simulated."""
    n = min(run.flip_samples, run.samples)
    drawn = np.asarray(run.draws[name][:n], dtype=float)
    if not np.all((drawn == 0.0) | (drawn == 1.0)):
        return _resimulated(run, name, np.array([0.0, 1.0]), run.st.names, n)
    p = {k: v[:n] for k, v in run.draws.items()}
    p[name] = 1.0 - drawn
    rep = None if run.replicate is None else run.replicate[:n]
    flipped = simulate(run.st, p, with_horizon=False, replicate=rep)
    out = {}
    for s in run.st.names:
        own = run.sim[s]["total_cost_usd_per_month"][:n]
        other = flipped[s]["total_cost_usd_per_month"]
        at = [float(np.mean(np.where(drawn == v, own, other))) for v in (0.0, 1.0)]
        out[s] = run.mean(s) - run.mean(s, n) + np.array(at)
    return out


def expected_totals(run: Run, name: str) -> tuple[Means, str]:
    """``(means, method)``: ``means(values, names, n)`` gives each strategy's expected
    total, shape (G,), with input ``name`` at each value; ``method`` is
    :data:`CLOSED_FORM` or :data:`BISECTION`. Made once per input and run."""
    if (name, "totals") not in run.cache:
        run.cache[name, "totals"] = _expected_totals(run, name)
    found: tuple[Means, str] = run.cache[name, "totals"]
    return found


def _expected_totals(run: Run, name: str) -> tuple[Means, str]:
    coef = _linear_coefficients(run, name)
    if coef is not None:
        def linear(values: np.ndarray, names: tuple[str, ...], n: int = 0
                   ) -> dict[str, np.ndarray]:
            v = np.asarray(values, dtype=float)
            return {s: coef[s][0] + coef[s][1] * v for s in names}
        return linear, CLOSED_FORM
    if is_probability(name):
        ends: dict[str, np.ndarray] = {}

        def mixed(values: np.ndarray, names: tuple[str, ...], n: int = 0
                  ) -> dict[str, np.ndarray]:
            if not ends:
                ends.update(_outcome_ends(run, name))
            v = np.asarray(values, dtype=float)
            return {s: (1.0 - v) * ends[s][0] + v * ends[s][1] for s in names}
        return mixed, CLOSED_FORM

    def resim(values: np.ndarray, names: tuple[str, ...], n: int = 0) -> dict[str, np.ndarray]:
        return _resimulated(run, name, values, names, n or run.flip_samples)
    return resim, BISECTION


# --------------------------------------------------------------------------- roots


def _gap(means: dict[str, np.ndarray], a: str, b: str, baseline: str | None
         ) -> np.ndarray:
    """``m_a - m_b``; with ``baseline`` (= ``a``), ``m_a - m_b - margin(m_a)``: zero
    where challenger ``b`` beats today's ``a`` by exactly the status-quo margin."""
    gap: np.ndarray = means[a] - means[b]
    if baseline is None:
        return gap
    margin: np.ndarray = np.maximum(TIE_FLOOR_USD, TIE_SHARE * np.abs(means[a]))
    out: np.ndarray = gap - margin
    return out


def search_grid(name: str, current: float, *, fine: bool) -> np.ndarray:
    """Values scanned for a sign change: 0 to 1 for a probability; else 0 and
    1/20 .. 20x today's value (``fine``: 2,001 points; else 25)."""
    if is_probability(name):
        return np.linspace(0.0, 1.0, 2001 if fine else 25)
    top = current if current > 0 else 1.0
    return np.concatenate([[0.0], top * np.geomspace(0.05, 20.0,
                                                     2000 if fine else SCAN_POINTS)])


def refine_root(f: Callable[[float], float], x0: float, x1: float, y0: float, y1: float,
            iterations: int) -> float:
    """Regula falsi (Illinois) between a sign change ``f(x0) = y0``, ``f(x1) = y1``:
    at most ``iterations`` evaluations of ``f``, stopping once ``|f| <=``
    :data:`TOLERANCE_USD`; returns the last estimate."""
    x = x0 - y0 * (x1 - x0) / (y1 - y0)
    side = 0
    for _ in range(iterations):
        y = f(x)
        if abs(y) <= TOLERANCE_USD:
            break
        if (y < 0) == (y0 < 0):
            x0, y0 = x, y
            if side == -1:
                y1 /= 2
            side = -1
        else:
            x1, y1 = x, y
            if side == 1:
                y0 /= 2
            side = 1
        x = x0 - y0 * (x1 - x0) / (y1 - y0)
    return float(x)


def _refined(grid: np.ndarray, gaps: np.ndarray, i: int, f: Callable[[float], float],
             iterations: int) -> float:
    """The root in the scan's sign change ``grid[i] .. grid[i + 1]``, refined on ``f``.
    When ``f`` (more samples than the scan) puts no sign change there, the one
    neighbouring cell toward the end nearer zero is tried; failing that, the scan's
    own linear interpolation."""
    lo, hi = float(grid[i]), float(grid[i + 1])
    y0, y1 = f(lo), f(hi)
    if y0 == 0 or y1 == 0:
        return lo if y0 == 0 else hi
    if (y0 < 0) != (y1 < 0):
        return refine_root(f, lo, hi, y0, y1, iterations)
    j = i - 1 if abs(y0) < abs(y1) else i + 2       # the scan's sign change moved
    if 0 <= j < len(grid):
        x = float(grid[j])
        y = f(x)
        ends = (x, lo, y, y0) if j < i else (hi, x, y1, y)
        if y == 0:
            return x
        if (ends[2] < 0) != (ends[3] < 0):
            return refine_root(f, *ends, iterations)
    return float(grid[i] - gaps[i] * (hi - lo) / (gaps[i + 1] - gaps[i]))


def nearest_root(grid: np.ndarray, gaps: np.ndarray, current: float,
          f: Callable[[float], float], iterations: int) -> float | None:
    """The crossing nearest ``current`` among the grid's sign changes, refined (an
    input at 0 where both costs vanish is no crossing)."""
    exact = [float(grid[i]) for i in np.nonzero((gaps == 0) & (grid > 0))[0]]
    sign = np.sign(gaps)
    idx = np.nonzero(sign[:-1] * sign[1:] < 0)[0]
    if not len(idx) and not exact:
        return None
    if len(gaps) and np.all(gaps == 0):
        return None
    near = sorted(idx, key=lambda i: abs(0.5 * (grid[i] + grid[i + 1]) - current))
    found = exact
    if near:
        found.append(_refined(grid, gaps, int(near[0]), f, iterations))
    return min(found, key=lambda x: abs(x - current))


def break_evens(run: Run, pairs: list[tuple[str, str]], inputs: list[str],
                margin_pairs: list[tuple[str, str]]) -> list[BreakEven]:
    """Break-evens of every pair in ``pairs`` (:data:`COSTS_CROSS`) and of every
    ``(baseline, challenger)`` in ``margin_pairs`` (:data:`RECOMMENDATION_FLIPS`),
    for every input in ``inputs``, in the order given (inputs within a pair)."""
    rows: list[BreakEven] = []
    for a, b, kind in ([(a, b, COSTS_CROSS) for a, b in pairs]
                       + [(a, b, RECOMMENDATION_FLIPS) for a, b in margin_pairs]):
        for name in inputs:
            rows.append(_break_even(run, name, a, b, kind))
    return rows


def first_flips(rows: list[BreakEven]) -> list[BreakEven]:
    """Of ``recommendation flips`` rows of one baseline against several challengers,
    per input the one nearest today's value (``|ln(value / current)|``; a row with
    no value only when no challenger has one: the first given). Moving the input
    from today's value, the recommendation changes at the first challenger's flip,
    which need not be today's runner-up: strategies sharing a quota edge with
    today's jump together past it, and the one that does not takes over."""
    best: dict[str, BreakEven] = {}
    for row in rows:
        name, old = row["input"], best.get(row["input"])
        if old is None or (row["value"] is not None and (
                old["value"] is None or _distance(row) < _distance(old))):
            best[name] = row
    return list(best.values())


def _distance(row: BreakEven) -> float:
    """How far a row's value lies from today's: ``|ln(value / current)|`` (or the
    plain difference where either is not positive)."""
    v, c = float(row["value"] or 0.0), row["current"]
    return abs(float(np.log(v / c))) if v > 0 and c > 0 else abs(v - c)


def _means_at(run: Run, name: str, means: Means, x: float, names: tuple[str, ...]
              ) -> dict[str, np.ndarray]:
    """``means`` of ``names`` at ``x`` on the flip samples, remembered per input, value
    and strategy: pairs refining in the same scan cell share their ends, and only the
    strategies not yet evaluated there are re-simulated."""
    got = run.cache.setdefault((name, "at"), {}).setdefault(float(x), {})
    missing = tuple(s for s in names if s not in got)
    if missing:
        got.update({s: float(v[0]) for s, v in
                    means(np.array([x]), missing, run.flip_samples).items()})
    return {s: np.array([got[s]]) for s in names}


def _break_even(run: Run, name: str, a: str, b: str, kind: str) -> BreakEven:
    dist = run.dists[name]
    # today's value as the break-even is computed, every sample at one value: the
    # scenario's expected value (a lognormal "mean 1" factor is 1, not its 0.864 median)
    current = dist.mean
    means, method = expected_totals(run, name)
    cheap = method == CLOSED_FORM
    grid = search_grid(name, current, fine=cheap)
    baseline = a if kind == RECOMMENDATION_FLIPS else None
    if (name, "scan") not in run.cache:     # one scan per input serves every pair
        run.cache[name, "scan"] = means(grid, run.st.names, SCAN_SAMPLES)
    scan = run.cache[name, "scan"]

    def f(x: float) -> float:
        at = (means(np.array([x]), (a, b), run.flip_samples) if cheap
              else _means_at(run, name, means, x, (a, b)))
        return float(_gap(at, a, b, baseline)[0])
    value = nearest_root(grid, _gap(scan, a, b, baseline), current, f, 60 if cheap else 8)
    low, high = scenario_range(dist)
    return BreakEven(
        strategy_a=a, strategy_b=b, input=name, unit=unit_of(name), kind=kind,
        value=value, current=current, range_low=low, range_high=high,
        range_is=range_kind(dist), is_within_range=value is not None and low <= value <= high, method=method,
        samples=run.samples if method == CLOSED_FORM and not is_probability(name)
        else min(run.flip_samples, run.samples),
        searched_low=float(grid[0]), searched_high=float(grid[-1]))


# --------------------------------------------------------------------------- tornado


def swing_ends(name: str, dist: Distribution) -> tuple[float, float]:
    """The tornado's two ends: p10 and p90, or a probability's outcomes 0 and 1."""
    if is_probability(name):
        return 0.0, 1.0
    return dist.quantile(0.1), dist.quantile(0.9)


def swung_inputs(dists: dict[str, Distribution]) -> list[str]:
    """Inputs the tornado swings: every uncertain one, and a probability strictly
    between 0 and 1."""
    return [n for n, dist in dists.items() if not dist.is_fixed or (
        is_probability(n) and 0.0 < dist.median < 1.0)]


def _ends_means(run: Run, swing: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """Expected totals at each swung input's two ends: closed form where linear, the
    rest re-simulated together in one call (rows ``2j``, ``2j + 1``)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    rest: list[str] = []
    for name in swing:
        means, method = expected_totals(run, name)
        if method == CLOSED_FORM:
            out[name] = means(np.array(swing_ends(name, run.dists[name])), run.st.names)
        else:
            rest.append(name)
    if not rest:
        return out
    n = min(TORNADO_SAMPLES, run.samples)
    g = 2 * len(rest)
    p = {k: np.tile(v[:n], g) for k, v in run.draws.items()}
    for j, name in enumerate(rest):
        lo, hi = swing_ends(name, run.dists[name])
        p[name][2 * j * n:(2 * j + 1) * n] = lo
        p[name][(2 * j + 1) * n:(2 * j + 2) * n] = hi
    rep = None if run.replicate is None else np.tile(run.replicate[:n], (g, 1))
    sim = simulate(run.st, p, with_horizon=False, replicate=rep)
    for j, name in enumerate(rest):
        out[name] = {s: run.mean(s) - run.mean(s, n) + sim[s]["total_cost_usd_per_month"]
                     .reshape(g, n)[2 * j:2 * j + 2].mean(axis=1) for s in run.st.names}
    return out


def tornado(run: Run, baseline: str) -> list[Swing]:
    """Every challenger's expected difference from ``baseline`` with each swung input
    at its two ends (:func:`swing_ends`), unsorted."""
    swing = swung_inputs(run.dists)
    ends = _ends_means(run, swing)
    rows: list[Swing] = []
    for s in run.st.names:
        if s == baseline:
            continue
        expected = run.mean(s) - run.mean(baseline)
        for name in swing:
            lo_v, hi_v = swing_ends(name, run.dists[name])
            d = ends[name][s] - ends[name][baseline]
            method = expected_totals(run, name)[1]
            rows.append(Swing(
                input=name, unit=unit_of(name), strategy=s, low=lo_v, high=hi_v,
                delta_low_usd_per_month=float(d[0]), delta_high_usd_per_month=float(d[1]),
                delta_at_p50_usd_per_month=expected, delta_expected_usd_per_month=expected,
                swing_usd_per_month=abs(float(d[1] - d[0])),
                samples=run.samples if method == CLOSED_FORM and not is_probability(name)
                else min(run.flip_samples if is_probability(name) else TORNADO_SAMPLES,
                         run.samples)))
    return rows
