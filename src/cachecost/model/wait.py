"""A fork pipeline's wait for its container stage: the expected slowest job, E[max].

The container jobs of a pipeline run in parallel, so the stage lasts as long as its
slowest job. Each image's job is a cached build (``t_hit``) with probability
``q1 = h*(1 - d)``, a build after a change (``t_change``) with ``q2 = h*d`` and a
build from scratch (``t_miss``) with ``q3 = 1 - h``, independently of the other
images (h: share of fork builds reusing upstream's cache, d: share of fork
pipelines changing a given image). With ``t_hit <= t_change <= t_miss``, each
image's distribution function is::

    F_i(t) = 0 (t < hit_i),  q1 (hit_i <= t < change_i),  q1 + q2 (change_i <= t < miss_i),
             1 (t >= miss_i)

and, with M0 = max_i hit_i, a(t) = #{i: change_i > t}, m(t) = #{i: miss_i > t}::

    E[max] = M0 + integral_{M0}^inf [1 - q1^a(t) * (q1 + q2)^(m(t) - a(t))] dt

(the max is >= M0 always; above it P(max <= t) = prod_i F_i(t)). This is the
expected slowest job, not the slowest expected job (``max_i E[T_i]``), which is
smaller whenever d > 0: Jensen's inequality for the convex max.
"""

from __future__ import annotations

import numpy as np

from cachecost.model.strategies import Arr


def _as_rows(x: Arr, n_images: int, k: int) -> np.ndarray:
    """(I, K) or (I, 1) image arrays as a (K, I) matrix."""
    return np.ascontiguousarray(_rows_view(x, n_images, k))


def _rows_view(x: Arr, n_images: int, k: int) -> np.ndarray:
    """(I, K) or (I, 1) image arrays as a (K, I) view (no copy; strided)."""
    return np.broadcast_to(np.asarray(x, dtype=float), (n_images, k)).T


def expected_max_wait(hit: Arr, change: Arr, miss: Arr, reuse: Arr, change_share: Arr,
                      k: int, cache: dict[int, tuple[object, np.ndarray]] | None = None
                      ) -> np.ndarray:
    """E[slowest container job] per sample, shape (K,), in the units of the times.

    ``hit``/``change``/``miss`` are (I, K) or (I, 1) minutes with hit <= change <= miss;
    ``reuse`` (h) and ``change_share`` (d) are floats or (1, K) shares.

    Example: two images, h = 1, d = 0.5; A: hit 2, change 6; B: hit 3, change 4. The
    four equally likely outcomes have maxima 3, 4, 6, 6: E[max] = 4.75 (the formula:
    3 + (1 - 0.5^2)*(4 - 3) + (1 - 0.5)*(6 - 4) = 4.75), while max_i E[T_i] = 4.

    ``cache`` (optional, one per set of drivers) keeps each change array's sorted rows
    for the next call with the same array (clipping sorted rows at M0 keeps them sorted).
    """
    n_images = np.asarray(hit).shape[0]
    if isinstance(reuse, float) and reuse == 0.0:       # every job builds from scratch
        return np.asarray(np.broadcast_to(np.max(miss, axis=0), (k,)), dtype=float)
    h = np.reshape(np.asarray(reuse, dtype=float), (-1, 1))     # (K, 1) or (1, 1)
    d = np.reshape(np.asarray(change_share, dtype=float), (-1, 1))
    q1 = np.broadcast_to(h * (1.0 - d), (k, 1))
    m0 = np.broadcast_to(np.max(hit, axis=0), (k,))[:, None]               # (K, 1)
    if isinstance(reuse, float) and reuse == 1.0:
        cache = {} if cache is None else cache
        if id(change) not in cache:
            cache[id(change)] = (change, np.sort(_as_rows(change, n_images, k), axis=1))
        if id(change_share) not in cache:       # 1 - q1^I .. 1 - q1^1, (K, I)
            powers = np.cumprod(np.concatenate(
                [np.ones((k, 1)), np.broadcast_to(q1, (k, n_images))], axis=1), axis=1)
            cache[id(change_share)] = (change_share, np.subtract(1.0, powers[:, :0:-1]))
        return _two_level(m0, cache[id(change)][1], cache[id(change_share)][1])
    q12 = np.broadcast_to(h, (k, 1))                                        # q1 + q2 = h
    return _three_level(m0, _rows_view(change, n_images, k), _rows_view(miss, n_images, k),
                        q1, q12)


def _two_level(m0: np.ndarray, sorted_change: np.ndarray, complement: np.ndarray
               ) -> np.ndarray:
    """h = 1: no miss; only the changed jobs' times above M0 matter. Segment j of the
    sorted times [s_j, s_{j+1}) has I - 1 - j changes still above it; ``complement``
    is 1 - q1^I .. 1 - q1^1 per sample, (K, I): the chance some change is above."""
    s = np.maximum(sorted_change, m0)
    lengths = np.empty_like(s)                  # [M0, s0), [s0, s1), ...
    np.subtract(s[:, :1], m0, out=lengths[:, :1])
    np.subtract(s[:, 1:], s[:, :-1], out=lengths[:, 1:])
    lengths *= complement
    return np.asarray(m0[:, 0] + np.sum(lengths, axis=1))


#: Rows of the (K, 2I) work arrays of :func:`_three_level` per pass: 2,048 keep them
#: in the CPU cache (~3x faster than 8,192 rows at once; rows are independent).
BLOCK_ROWS = 2048


def _three_level(m0: np.ndarray, change: np.ndarray, miss: np.ndarray, q1: np.ndarray,
                 q12: np.ndarray) -> np.ndarray:
    """General h: sort change and miss times together (the lowest bit of each float
    marks a miss, a relative change of 1e-16), then count those above each segment.
    ``m0``, ``q1``, ``q12`` are (K, 1); ``change``, ``miss`` (K, I); returns (K,).
    Blocks of :data:`BLOCK_ROWS` rows share one set of work arrays."""
    k = change.shape[0]
    work = _Work(min(k, BLOCK_ROWS), change.shape[1])
    out = np.empty(k)
    for i in range(0, k, BLOCK_ROWS):
        rows = slice(i, i + BLOCK_ROWS)
        out[rows] = work.block(m0[rows], change[rows], miss[rows], q1[rows], q12[rows])
    return out


class _Work:
    """Work arrays for :meth:`block` on up to ``rows`` rows of ``n`` images, and the
    index offsets that do not depend on the data. After the j-th sorted time
    (j = 1 .. 2I-1), with n_miss misses among them, a = I - j + n_miss changes are
    still above the segment and b = j - 2 n_miss images sit between their change and
    miss times; P(max <= t) there is q1^a (q1 + q2)^b, read from per-row tables of
    q^0 .. q^I at flat offsets ``row*(I+1) + a`` and ``row*(I+1) + b``."""

    def __init__(self, rows: int, n: int) -> None:
        self.n = n
        self.times = np.empty((rows, 2 * n))
        self.misses = np.empty((rows, 2 * n), dtype=np.int64)
        self.a = np.empty((rows, 2 * n - 1), dtype=np.int64)
        self.b = np.empty((rows, 2 * n - 1), dtype=np.int64)
        self.prod = np.empty((rows, 2 * n - 1))
        self.other = np.empty((rows, 2 * n - 1))
        self.pow1 = np.empty((rows, n + 1))
        self.pow12 = np.empty((rows, n + 1))
        self.exponents = np.arange(n + 1, dtype=float)[None, :]
        j = np.arange(1, 2 * n)[None, :]
        row = (np.arange(rows) * (n + 1))[:, None]
        self.a_offset = row + n - j
        self.b_offset = row + j

    def block(self, m0: np.ndarray, change: np.ndarray, miss: np.ndarray,
              q1: np.ndarray, q12: np.ndarray) -> np.ndarray:
        """E[max] for one block of rows (at most the rows the work arrays hold)."""
        k, n = change.shape[0], self.n
        v = self.times[:k]
        np.maximum(change, m0, out=v[:, :n])
        np.maximum(miss, m0, out=v[:, n:])
        bits = v.view(np.int64)
        bits &= ~np.int64(1)
        bits[:, n:] |= 1
        v.sort(axis=1)
        n_miss = self.misses[:k]
        np.bitwise_and(v.view(np.int64), 1, out=n_miss)
        np.cumsum(n_miss, axis=1, out=n_miss)
        seen = n_miss[:, :-1]               # the segment after the last time is empty
        a, b = self.a[:k], self.b[:k]
        np.add(seen, self.a_offset[:k], out=a)
        np.left_shift(seen, 1, out=b)
        np.subtract(self.b_offset[:k], b, out=b)
        pow1, pow12 = self.pow1[:k], self.pow12[:k]
        np.power(q1, self.exponents, out=pow1)
        np.power(q12, self.exponents, out=pow12)
        prod, other = self.prod[:k], self.other[:k]
        np.take(pow1.ravel(), a, out=prod, mode="clip")     # indices are in range
        np.take(pow12.ravel(), b, out=other, mode="clip")
        prod *= other
        np.subtract(1.0, prod, out=prod)
        np.subtract(v[:, 1:], v[:, :-1], out=other)         # segment lengths
        prod *= other
        lead = (v[:, 0] - m0[:, 0]) * (1.0 - q1[:, 0] ** n)
        return np.asarray(m0[:, 0] + lead + np.sum(prod, axis=1))

