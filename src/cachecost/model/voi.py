r"""What to measure next: the expected value of (partial) perfect information.

The decision is which caching strategy to run; its loss is the total monthly
cost. With ``K`` Monte Carlo samples and ``D`` strategies, ``C[k, d]`` is the
total cost of strategy ``d`` in sample ``k`` (USD/month; paired: every column
was computed from the same input draws of row ``k``).

**EVPI** - what knowing every input exactly would be worth::

    EVPI = min_d E[C_d] - E[min_d C_d]

(today we must pick one strategy for all samples; with perfect information we
would pick the cheapest in each sample).

**EVPPI** of one input ``x`` - what knowing ``x`` alone would be worth::

    EVPPI(x) = min_d E[C_d] - E_x[ min_d E[C_d | x] ]

estimated with the single-parameter ordering method: sort the samples by
``x``, cut them into ``J`` blocks of (nearly) equal size, take each block's
mean cost per strategy as ``E[C_d | x in block]``::

    EVPPI(x) ~= min_d mean(C_d) - sum_j (n_j / K) * min_d mean_{k in block j}(C_d)

Sources: Strong M, Oakley JE (2013), "An efficient method for computing
single-parameter partial expected value of perfect information", Medical
Decision Making 33(6):755-766; Sadatsafavi M, Bansback N, Zafari Z, Najafzadeh
M, Marra C (2013), "Need for speed: an efficient algorithm for calculation of
single-parameter expected value of partial perfect information", Value in
Health 16(2):438-448. An input with at most ``J`` distinct values is grouped by
value instead (the exact conditional expectation).

Properties of this estimator (tested): ``0 <= EVPPI(x) <= EVPI`` for every
sample, because the mean of block minima lies between the minimum of the
overall means and the mean of per-sample minima (Jensen). It is biased
upwards by noise within blocks; :func:`value_of_information` reports that
floor as the EVPPI of an independent random input (``noise_floor``).

Keys read from the model: per strategy, ``sim[strategy]["total_cost_usd_per_month"]``
(shape ``(K,)``): the per-sample cost the recommendation weighs, i.e. the sum of
the money kinds ``decision.weighs`` lists (:func:`cachecost.model.simulate.simulate`),
so the EVPI is about the same decision :mod:`cachecost.model.decide` makes (its
status-quo margin aside: the "today" term is the least expected cost). And the
input draws ``draws[name]`` (shape ``(K,)``), one per uncertain scenario input; the
kaniko digest-sharing probability arrives as its drawn 0/1 outcome
(``results.BERNOULLI_INPUTS``), so its EVPPI is exact (grouped by value): what
knowing whether kaniko's cache layers share the image's digests is worth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cachecost.model.keys import key_spec


def how_to_measure(name: str, has_thread: bool = True) -> str:
    """How to measure input ``name``: its scenario key's ``measure``
    (:data:`cachecost.model.keys.KEYS`; without a thread, ``thread: none``, its
    ``neutral_measure`` where it has one), else ``"measure <name> directly"``."""
    spec = key_spec(name)
    if spec is not None and not has_thread and spec.neutral_measure:
        return spec.neutral_measure
    return spec.measure if spec is not None and spec.measure else f"measure {name} directly"


def _usd(value: float) -> float:
    """A reported value: float rounding below a micro-dollar (1e-13 from subtracting
    equal means) reads 0, and so does a rounding-negative estimate."""
    return max(0.0, round(float(value), 6))


def _as_cost_matrix(costs: np.ndarray) -> np.ndarray:
    c = np.asarray(costs, dtype=float)
    if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
        raise ValueError(f"costs: expected a (samples, decisions) array, got shape {c.shape}")
    if not np.isfinite(c).all():
        raise ValueError("costs: every cost must be finite")
    return c


def evpi(costs: np.ndarray) -> float:
    """EVPI of a ``(K, D)`` matrix of costs: ``min_d mean(C_d) - mean(min_d C_d)``.

    Units: those of ``costs`` (USD/month here). Raises ValueError on a bad shape
    or a non-finite cost.
    """
    c = _as_cost_matrix(costs)
    return _evpi(c, float(c.mean(axis=0).min()))


def _evpi(c: np.ndarray, least_mean: float) -> float:
    """:func:`evpi` of a checked ``(K, D)`` matrix whose ``min_d mean(C_d)`` is
    ``least_mean``. The per-sample minima come from ``np.minimum`` one column at a
    time: the same values as ``c.min(axis=1)`` (a minimum rounds nothing), which
    reduces each ``D``-value row on its own and is ~9x slower at 100,000 x 6."""
    per_sample_min = c[:, 0].copy()
    for col in range(1, c.shape[1]):
        np.minimum(per_sample_min, c[:, col], out=per_sample_min)
    return least_mean - float(per_sample_min.mean())


def default_blocks(k: int) -> int:
    """Blocks for ``k`` samples: ``round(k ** (1/3))`` (27 for 20,000 samples).

    Few blocks keep the upward noise bias small (each block mean averages
    ~740 samples at 20,000); the cube root is the usual histogram trade-off between
    noise within blocks and detail across them. sqrt(k) (141 blocks) gave a noise
    floor as large as the EVPI on the bundled sample.
    """
    return max(1, int(round(k ** (1.0 / 3.0))))


def evppi(costs: np.ndarray, x: np.ndarray, blocks: int | None = None) -> float:
    """EVPPI of input ``x`` (shape ``(K,)``) for the costs ``(K, D)``.

    Ordering/blocking estimator (module docstring); ``blocks`` defaults to
    :func:`default_blocks`. An ``x`` with at most ``blocks`` distinct values is
    grouped by value. The result lies in ``[0, evpi(costs)]`` up to rounding
    (no clipping here, so tests can check it). Raises ValueError on a bad shape
    or a non-finite cost.
    """
    c = _as_cost_matrix(costs)
    xv = _input(x, c.shape[0])
    j = default_blocks(c.shape[0]) if blocks is None else max(1, int(blocks))
    return _evppi(c, float(c.mean(axis=0).min()), xv, j)


def _evppi(c: np.ndarray, least_mean: float, xv: np.ndarray, j: int) -> float:
    """:func:`evppi` of checked inputs: ``c`` ``(K, D)`` finite costs, ``least_mean``
    = ``min_d mean(C_d)`` (the "today" term, the same for every input: computed
    once by the caller), ``xv`` ``(K,)``, ``j >= 1`` blocks. The inner term
    ``sum_j n_j * min_d mean_j(C_d) / K`` is added block by block in block order."""
    sizes, sums = _block_sums(c, xv, j)
    mins = (sums / sizes[:, None]).min(axis=1)
    # Python's sum of the n_j-weighted block minima, in block order, then / K
    return float(least_mean - sum((sizes * mins).tolist()) / c.shape[0])


def _block_sums(c: np.ndarray, xv: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
    """The groups of the estimator: their sizes ``n_j`` (shape ``(G,)``, int) and
    per-strategy cost sums (shape ``(G, D)``, units of ``c``), in ascending ``x``.

    Groups: one per distinct value of ``xv`` if it has at most ``j`` of them, else
    ``j`` blocks of consecutive ranks of the stable sort of ``xv`` (ties keep sample
    order), sized as ``np.array_split`` sizes them: the first ``K mod j`` blocks
    hold ``K // j + 1`` samples, the others ``K // j``.

    Each sample's group is written at its place in the order (one scatter), then
    each strategy's sums are one ``np.bincount`` over the samples in sample order:
    the groups' sums to rounding (a few ulp; the order of the additions is not the
    ranks'), without gathering the cost rows in rank order. At 100,000 samples the
    stable order is most of what is left.
    """
    k, d = c.shape
    order, new_value = _stable_order(xv)
    n_values = int(np.count_nonzero(new_value)) + 1
    if n_values > j:        # implies k > j: every block holds at least one sample
        size, extra = divmod(k, j)
        sizes = np.array([size + 1] * extra + [size] * (j - extra))
        by_rank = np.repeat(np.arange(j), sizes)
    else:                   # one group per distinct value
        by_rank = np.concatenate([[0], np.cumsum(new_value)])
        sizes = np.bincount(by_rank)
    group = np.empty(k, dtype=np.intp)
    group[order] = by_rank
    sums = np.empty((len(sizes), d))
    for col in range(d):
        sums[:, col] = np.bincount(group, weights=c[:, col], minlength=len(sizes))
    return sizes, sums


def _stable_order(xv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``argsort(xv, kind="stable")`` and, along it, whether each value differs from
    the one before (shape (K-1,)).

    Without NaN this is an LSD radix sort (:func:`_radix_order`): the same order,
    and ~1.5x faster than numpy's comparison sort at 100,000 samples (~3.5 ms
    against ~5.3 ms per input, measured inside value_of_information). An ``xv``
    holding NaN keeps the comparison sort (NaN last; no two NaN compare equal, so
    their order is the unstable sort's unless other values tie)."""
    if not np.isnan(xv).any():
        order = _radix_order(xv)
        sorted_x = xv[order]
        return order, sorted_x[1:] != sorted_x[:-1]
    order = np.argsort(xv)
    sorted_x = xv[order]
    new_value = sorted_x[1:] != sorted_x[:-1]
    if not new_value.all():
        order = np.argsort(xv, kind="stable")
    return order, new_value


def _radix_order(xv: np.ndarray) -> np.ndarray:
    """The stable ascending order of a NaN-free float64 ``xv`` (shape ``(K,)``): the
    indices ``np.argsort(xv, kind="stable")`` returns, ties in sample order.

    Each value becomes a 64-bit unsigned key that sorts as the value does (the
    IEEE 754 total-order trick: set the sign bit of a positive value, flip every
    bit of a negative one; -0.0 is first made +0.0, which compares equal to it).
    Then four stable passes, least significant 16 bits first, each an
    ``argsort(kind="stable")`` of ``uint16`` digits, which numpy runs as a
    counting (radix) sort in linear time: after the pass over bits 48-63 the
    keys are in order, and equal keys are still in sample order because every
    pass was stable (Knuth, TAOCP vol. 3, 5.2.5, "Sorting by distribution").
    Hand-worked: xv = [2.0, -1.0, 2.0] -> keys sort -1.0 < 2.0 = 2.0 -> [1, 0, 2].
    """
    bits = (xv + 0.0).view(np.int64)      # + 0.0 turns -0.0 into +0.0
    # all ones where the sign bit is set (arithmetic shift), else just the sign bit
    flip = (bits >> 63) | np.int64(-(1 << 63))
    keys = (bits ^ flip).view(np.uint64)
    # astype(uint16) keeps a key's low 16 bits (unsigned casts wrap modulo 2**16)
    order = np.argsort(keys.astype(np.uint16), kind="stable")
    for shift in (16, 32, 48):
        digits = (keys >> np.uint64(shift)).astype(np.uint16)   # in sample order
        order = order[np.argsort(digits[order], kind="stable")]
    return order


def _input(x: np.ndarray, k: int) -> np.ndarray:
    """One input's draws as float, checked to hold one value per sample ``(K,)``."""
    xv = np.asarray(x, dtype=float)
    if xv.shape != (k,):
        raise ValueError(f"x: expected shape ({k},), got {xv.shape}")
    return xv


def value_of_information(
    sim: Mapping[str, Mapping[str, np.ndarray]],
    draws: Mapping[str, np.ndarray],
    strategies: Sequence[str],
    *, blocks: int | None = None, seed: int = 0, weighs: Sequence[str] = (),
    has_thread: bool = True,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """EVPPI of every uncertain input and the overall EVPI, in USD a month.

    Reads ``sim[s]["total_cost_usd_per_month"]`` for each strategy ``s`` and
    ``draws[name]`` for each input (constant inputs are skipped: their EVPPI is
    0). Returns ``(rows, total)``: rows ``{input, evppi_usd_per_month,
    how_to_measure}`` sorted largest first, and ``total`` ``{evpi_usd_per_month,
    noise_floor_usd_per_month, method, blocks, samples, decisions}``.
    The noise floor is the EVPPI of an independent uniform draw (seeded by
    ``seed``): values near it are indistinguishable from zero. ``weighs`` (the money
    kinds in the total, ``decision.weighs``) is echoed in ``total``; ``has_thread``
    False words ``how_to_measure`` for any project (:func:`how_to_measure`).
    """
    names = [s for s in strategies if s in sim]
    costs = _as_cost_matrix(np.column_stack(
        [np.asarray(sim[s]["total_cost_usd_per_month"], dtype=float) for s in names]))
    k = costs.shape[0]
    j = default_blocks(k) if blocks is None else blocks
    n_blocks = max(1, int(j))
    least_mean = float(costs.mean(axis=0).min())   # the "today" term of every EVPPI
    rows: list[dict[str, Any]] = []
    for name, x in draws.items():
        xv = np.asarray(x, dtype=float)
        if xv.size == 0 or xv.min() == xv.max():
            continue
        rows.append({
            "input": name,
            "evppi_usd_per_month": _usd(_evppi(costs, least_mean, _input(xv, k), n_blocks)),
            "how_to_measure": how_to_measure(name, has_thread),
        })
    rows.sort(key=lambda r: (-r["evppi_usd_per_month"], r["input"]))
    # its own stream: the scenario's draws come from default_rng(seed), whose first
    # uniforms would otherwise order this "noise" exactly like the first input
    noise = np.asarray(np.random.default_rng([seed, 13]).uniform(size=k), dtype=float)
    total = {
        "evpi_usd_per_month": _usd(_evpi(costs, least_mean)),
        "noise_floor_usd_per_month": _usd(_evppi(costs, least_mean, noise, n_blocks)),
        "method": ("single-parameter ordering estimator (Strong & Oakley 2013; "
                   "Sadatsafavi et al. 2013) over the paired Monte Carlo samples"),
        "blocks": int(j),
        "samples": int(k),
        "decisions": names,
        "cost": "total_cost_usd_per_month (the per-sample cost the recommendation weighs)",
        "weighs": list(weighs),
    }
    return rows, total
