"""Exact percentiles of large samples, faster than ``np.percentile``.

    percentiles(v, (10, 50, 90))                       # == np.percentile(v, (10, 50, 90))
    percentiles(v, (10, 50, 90), method="inverted_cdf")

:func:`percentiles` returns, bit for bit, what ``np.percentile(v, q, method=method)``
returns for a 1-D sample ``v`` (methods ``"linear"``, numpy's default, and
``"inverted_cdf"``): about 0.4 ms instead of 1.9 ms for 100,000 values
(``scripts/bench_quantile.py``). It is exact because it does what numpy does in two
separable steps and changes only how the first step is done:

1. **The order statistics.** numpy's ``_quantile`` (numpy/lib/_function_base_impl.py)
   partitions the whole sample so that the needed ranks hold the values they would
   hold once sorted. Here those same values are found by selection
   (:func:`order_statistics`): a sorted strided sample of about
   :data:`SAMPLE_SIZE` values gives each needed rank ``r`` a value bracket
   ``[lo, hi]`` that holds it with high probability; with ``c`` the count of values
   ``< lo`` and ``w`` the values in ``[lo, hi]``, the rank-``r`` value of the sample
   *is* the rank-``(r - c)`` value of ``w`` whenever ``c <= r < c + len(w)`` -- an
   identity of order statistics, whatever the bracket. Bisection on counts narrows
   ``w`` further the same way, and ``np.partition`` picks the rank from what is left.
   When a rank falls outside its bracket (the strided sample was unrepresentative:
   periodic data with the stride's period, say) the answer comes from
   ``np.percentile`` itself, so it is exact either way; only the speed differs.
2. **The interpolation.** numpy's own formulas, replayed with the same float64
   operations in the same order: for ``"linear"`` the virtual index
   ``(n - 1) * q`` with ``q = percent / 100``, the neighbouring ranks ``floor`` and
   ``floor + 1`` (both ``n - 1``, numpy's index ``-1``, once the index reaches
   ``n - 1``), ``gamma = index - that integer index`` and numpy's ``_lerp``:
   ``a + (b - a) * gamma``, or ``b - (b - a) * (1 - gamma)`` where ``gamma >= 0.5``;
   for ``"inverted_cdf"`` the rank ``floor(n * q - 1)``, plus one where the fraction
   is not 0, clipped at 0, and that order statistic as it is.

Values numpy would pick among equal-comparing ones (a mix of ``-0.0`` and ``+0.0``
where the needed order statistic is zero) and NaN anywhere (numpy answers NaN)
go to ``np.percentile`` as well, and so do samples smaller than :data:`MIN_SIZE`,
other dtypes than float64 and other shapes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

#: Samples smaller than this go to ``np.percentile`` (selection gains nothing there).
MIN_SIZE = 4096
#: About how many values the strided sample that places the brackets holds.
SAMPLE_SIZE = 2048
#: Half-width of a bracket, in standard deviations of a sample rank (binomial).
MARGIN_SD = 3.0
#: The methods of ``np.percentile`` this module reproduces.
Method = Literal["linear", "inverted_cdf"]


def _ranks(n: int, q: np.ndarray, method: Method) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy's ranks for ``q`` (fractions, float64) in a sample of ``n``: the lower and
    upper neighbour (equal for ``inverted_cdf``) and the interpolation weight ``gamma``
    (numpy's ``_get_indexes``/``_get_gamma``; ``_inverted_cdf`` for the other)."""
    if method == "linear":
        virtual = (n - 1) * q
        previous = np.floor(virtual)
        following = previous + 1
        above = virtual >= n - 1
        previous[above] = -1
        following[above] = -1
        below = virtual < 0
        previous[below] = 0
        following[below] = 0
        prev_i = previous.astype(np.intp)
        next_i = following.astype(np.intp)
        gamma = np.asanyarray(virtual - prev_i, dtype=virtual.dtype)
        return prev_i % n, next_i % n, gamma
    index = n * q - 1
    previous = np.floor(index)
    gamma = index - previous
    rank = np.where(gamma == 0, previous, previous + 1).astype(np.intp)
    rank[rank < 0] = 0
    return rank, rank, np.zeros_like(q)


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's ``_lerp``, operation for operation."""
    diff_b_a = b - a
    out = np.add(a, diff_b_a * t)
    np.subtract(b, diff_b_a * (1 - t), out=out, where=t >= 0.5, casting="unsafe")
    return np.asarray(out)


def _mixed_zeros(w: np.ndarray) -> bool:
    """Whether ``w`` holds both ``-0.0`` and ``+0.0`` (equal, but not the same bits)."""
    signs = np.signbit(w[w == 0])
    return bool(signs.any()) and not bool(signs.all())


def _narrow(pool: np.ndarray, bracket: tuple[float, float, int, int], pivots: np.ndarray,
            first: int, last: int) -> tuple[int, np.ndarray]:
    """The values of ``pool`` that hold its rank-``first`` to rank-``last`` values
    (0-based) and few others, found by searching on counts.

    ``bracket``: ``(lo, hi, below, upto)``, values known to hold those ranks, the
    count of ``pool``'s values below ``lo`` and at or below ``hi``; ``pivots``: sorted
    values in ``[lo, hi]``. Returns ``(k, part)``: ``part`` every value ``x`` of
    ``pool`` with ``a <= x <= b`` (in ``pool``'s order), ``k`` the count of values
    below ``a``, where ``a`` is the largest of ``lo`` and the pivots with at most
    ``first`` values below it, ``b`` the smallest of the pivots after it and ``hi``
    with more than ``last`` values at or below it. Each probe counts the values below
    a pivot; the next pivot is guessed by interpolating the counts (the sample put
    the pivots at even steps of rank), or halves the interval when that shrank it
    less than by half."""
    a, b, below_a, count_right = bracket
    left, right = -1, pivots.size        # a is pivots[left] (lo at -1)
    halve = False
    while right - left > 1:               # the largest pivot with count(< p) <= first
        width = right - left
        guess = ((left + right) // 2 if halve else
                 left + int((first + 0.5 - below_a) * width / (count_right - below_a)))
        guess = min(max(guess, left + 1), right - 1)
        k = int(np.count_nonzero(pool < pivots[guess]))
        if k <= first:
            left, a, below_a = guess, float(pivots[guess]), k
        else:
            right, count_right = guess, k
        halve = 2 * (right - left) > width
    lo = right
    # the smallest pivot from there with count(<= p) > last: most often the next one,
    # so gallop (1, 2, 4, ... pivots on) before bisecting
    start, step, hi = lo, 1, pivots.size
    while lo < pivots.size:
        if int(np.count_nonzero(pool <= pivots[lo])) > last:
            hi = lo
            break
        lo, step = lo + step, step * 2
    lo = max(start, (lo if hi == pivots.size else hi) - step // 2 + 1)
    while lo < hi:
        mid = (lo + hi) // 2
        if int(np.count_nonzero(pool <= pivots[mid])) > last:
            hi = mid
        else:
            lo = mid + 1
    if hi < pivots.size:
        b = float(pivots[hi])
    return below_a, pool[(pool >= a) & (pool <= b)]


def order_statistics(v: np.ndarray, ranks: Sequence[int]) -> np.ndarray | None:
    """The values at ``ranks`` (0-based) of ``v`` once sorted, found by selection.

    ``v``: 1-D float64 without NaN, shape ``(n,)``; ``ranks``: integers in
    ``[0, n)``. Returns a float64 array of ``len(ranks)`` values, each exactly
    ``np.sort(v)[rank]``, or None when the strided sample placed a bracket badly
    or a value picked is a zero of which ``v`` holds both signs (numpy's answer
    then depends on how its partition moved the values; the caller asks numpy).

    How: a sorted strided sample of about :data:`SAMPLE_SIZE` values gives each
    rank a value bracket (the sample's values at the rank's expected place plus and
    minus :data:`MARGIN_SD` standard deviations); brackets that touch merge, so
    they are disjoint. Two comparison passes per bracket count the values below it
    and mark those inside; the marked values of every bracket are extracted at
    once (the pool). A rank ``r`` of ``v`` in bracket ``g`` is rank
    ``r - c_g + s_g`` of the pool (``c_g`` values of ``v`` below the bracket,
    ``s_g`` pool values in the brackets before). Bisection on counts over the
    sample values inside the bracket narrows the pool to the values between two
    neighbouring ones (:func:`_narrow`), which are partitioned at the ranks.
    """
    n = v.size
    stride = max(1, n // SAMPLE_SIZE)
    sample = np.sort(v[stride // 2::stride])
    m = sample.size
    # brackets as positions in the sample, then values; a bracket that reaches the
    # next one merges with it, so that they are disjoint
    groups: list[list[Any]] = []              # [lo_pos, hi_pos, lo, hi, rank, ...]
    for r in sorted({int(r) for r in ranks}):
        p = (r + 0.5) / n
        centre = p * m - 0.5
        half = MARGIN_SD * math.sqrt(m * p * (1.0 - p)) + 1.0
        lo_pos = max(0, math.floor(centre - half))
        hi_pos = min(m - 1, math.ceil(centre + half))
        lo = -math.inf if lo_pos == 0 else float(sample[lo_pos])
        hi = math.inf if hi_pos == m - 1 else float(sample[hi_pos])
        if groups and lo <= groups[-1][3]:
            groups[-1][1] = max(groups[-1][1], hi_pos)
            groups[-1][3] = max(groups[-1][3], hi)
            groups[-1].append(r)
        else:
            groups.append([lo_pos, hi_pos, lo, hi, r])
    found: dict[int, float] = {}
    pooled: list[tuple[list[Any], int, int, int]] = []  # bracket, below, size, shift
    union: np.ndarray | None = None
    in_pool = 0
    for bracket in groups:
        _, _, lo, hi, *group = bracket
        below = np.less(v, lo)
        c = int(np.count_nonzero(below))
        inside = np.bitwise_xor(np.less_equal(v, hi), below, out=below)
        size = int(np.count_nonzero(inside))
        if not c <= group[0] <= group[-1] < c + size:
            return None
        if lo == hi and lo != 0:              # every value inside is lo, bit for bit
            found.update((r, lo) for r in group)
            continue
        pooled.append((bracket, in_pool, size, in_pool - c))
        in_pool += size
        union = inside if union is None else np.bitwise_or(union, inside, out=union)
    pool = v if union is None else np.compress(union, v)
    for (lo_pos, hi_pos, lo, hi, *group), before, size, shift in pooled:
        pivots = sample[lo_pos + 1:hi_pos]         # sorted, inside [lo, hi]
        skipped, part = _narrow(pool, (lo, hi, before, before + size), pivots,
                                group[0] + shift, group[-1] + shift)
        kth = [r + shift - skipped for r in group]
        picked = np.partition(part, kth)[kth]
        if (picked == 0).any() and _mixed_zeros(part):
            return None
        found.update(zip(group, picked.tolist(), strict=True))
    return np.array([found[int(r)] for r in ranks], dtype=np.float64)


def percentiles(values: np.ndarray, percents: Sequence[float] = (10, 50, 90),
                method: Method = "linear") -> np.ndarray:
    """``np.percentile(values, percents, method=method)``, bit for bit, faster for a
    large 1-D float64 sample.

    ``values``: shape ``(n,)``; ``percents``: in [0, 100]; returns float64 of shape
    ``(len(percents),)``. How it stays exact: the module docstring. Raises what
    ``np.percentile`` raises (an empty sample gives NaN and a warning, as there).
    """
    v = np.asarray(values)
    if v.ndim != 1 or v.size < MIN_SIZE or v.dtype != np.float64:
        return np.asarray(np.percentile(v, percents, method=method))
    q = np.true_divide(np.asarray(percents, dtype=np.float64), 100)   # as np.percentile
    if (q.ndim != 1 or q.size == 0 or not ((q >= 0).all() and (q <= 1).all())
            or math.isnan(v.max())):          # NaN anywhere: numpy answers NaN
        return np.asarray(np.percentile(v, percents, method=method))
    lower, upper, gamma = _ranks(v.size, q, method)
    stats = order_statistics(v, [*lower.tolist(), *upper.tolist()])
    if stats is None:
        return np.asarray(np.percentile(v, percents, method=method))
    if method == "inverted_cdf":
        return stats[:q.size]
    return _lerp(stats[:q.size], stats[q.size:], gamma)
