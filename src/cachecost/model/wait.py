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

from cachecost.model.drivers import Arr


def _rows_view(x: Arr, n_images: int, k: int) -> np.ndarray:
    """(I, K) or (I, 1) image arrays as a (K, I) view (no copy; strided)."""
    return np.broadcast_to(np.asarray(x, dtype=float), (n_images, k)).T


def _per_sample(x: Arr, k: int) -> np.ndarray:
    """A float or (1, K) share as a (K,) array (a read-only view for a float)."""
    return np.broadcast_to(np.reshape(np.asarray(x, dtype=float), (-1,)), (k,))


def expected_max_wait(hit: Arr, change: Arr, miss: Arr, reuse: Arr, change_share: Arr,
                      k: int, cache: dict[int, tuple[object, np.ndarray]] | None = None
                      ) -> np.ndarray:
    """E[slowest container job] per sample, shape (K,), in the units of the times.

    ``hit``/``change``/``miss`` are (I, K) or (I, 1) minutes with hit <= change <= miss;
    ``reuse`` (h) and ``change_share`` (d) are floats or (1, K) shares.

    Example: two images, h = 1, d = 0.5; A: hit 2, change 6; B: hit 3, change 4. The
    four equally likely outcomes have maxima 3, 4, 6, 6: E[max] = 4.75 (the formula:
    3 + (1 - 0.5^2)*(4 - 3) + (1 - 0.5)*(6 - 4) = 4.75), while max_i E[T_i] = 4.

    ``cache`` (optional, one per set of drivers) keeps each change array's times
    sorted per sample for the next call with the same array (clipping sorted times
    at M0 keeps them sorted).
    """
    n_images = np.asarray(hit).shape[0]
    if isinstance(reuse, float) and reuse == 0.0:       # every job builds from scratch
        return np.asarray(np.broadcast_to(np.max(miss, axis=0), (k,)), dtype=float)
    m0 = np.broadcast_to(np.max(hit, axis=0), (k,))
    unchanged = 1.0 - _per_sample(change_share, k)                          # q = 1 - d
    if isinstance(reuse, float) and reuse == 1.0:
        cache = {} if cache is None else cache
        if id(change) not in cache:
            cache[id(change)] = (change, _sorted_images(change, n_images, k))
        return _two_level(m0, cache[id(change)][1], unchanged)
    return _three_level(m0, _rows_view(change, n_images, k), _rows_view(miss, n_images, k),
                        _per_sample(reuse, k), unchanged)


def _sorted_images(x: Arr, n_images: int, k: int) -> np.ndarray:
    """Each sample's image times in ascending order, shape (I, K): row j holds every
    sample's j-th smallest (sorted as (K, I) rows, numpy's fast case, and turned back)."""
    rows = np.empty((k, n_images))
    np.copyto(rows, _rows_view(x, n_images, k))
    rows.sort(axis=1)
    return np.ascontiguousarray(rows.T)


def _two_level(m0: np.ndarray, sorted_change: np.ndarray, q: np.ndarray) -> np.ndarray:
    """h = 1: no miss; only the changed jobs' times above M0 matter. With the clipped,
    sorted times s_0 <= .. <= s_{I-1} and q = 1 - d, the slowest job is s_j when
    image j changed and the I-1-j above it did not, probability ``(1 - q) q^(I-1-j)``,
    and M0 when none changed, ``q^I``: ``E[max] = M0 q^I + (1 - q) sum_j s_j q^(I-1-j)``
    (a weighted mean: the weights sum to 1), the sum by Horner's rule down the rows of
    ``sorted_change`` (I, K); ``m0`` and ``q`` are (K,)."""
    n, k = sorted_change.shape
    acc = np.maximum(sorted_change[0], m0)
    clipped = np.empty(k)
    for row in sorted_change[1:]:
        acc *= q
        np.maximum(row, m0, out=clipped)
        acc += clipped
    return np.asarray(m0 * q ** n + (1.0 - q) * acc)


#: Samples per pass of :func:`_three_level`: its (2I, 2,048) work arrays stay in the
#: CPU cache (rows are independent).
BLOCK_ROWS = 2048


def _three_level(m0: np.ndarray, change: np.ndarray, miss: np.ndarray, h: np.ndarray,
                 q: np.ndarray) -> np.ndarray:
    """General h: sort each sample's change and miss times together (the lowest bit
    of each float marks a miss, a relative change of 1e-16), then walk down them.

    Above the last time P(max <= t) is 1; passing a miss time downwards multiplies it
    by h (that image may have reused the cache), passing a change time by
    q = 1 - d (it may not have changed): so on the segment below the sorted time
    t_j it is ``G_j = prod_{l >= j} f_l``, f_l = h or q, and
    ``E[max] = M0 + sum_j (1 - G_j) (t_j - t_{j-1})`` with t_{-1} = M0.
    ``m0``, ``h``, ``q`` are (K,); ``change``, ``miss`` (K, I); returns (K,).
    Blocks of :data:`BLOCK_ROWS` samples share one set of work arrays."""
    k = change.shape[0]
    work = _Work(min(k, BLOCK_ROWS), change.shape[1])
    out = np.empty(k)
    for i in range(0, k, BLOCK_ROWS):
        rows = slice(i, i + BLOCK_ROWS)
        out[rows] = work.block(m0[rows], change[rows], miss[rows], h[rows], q[rows])
    return out


class _Work:
    """Work arrays for :meth:`block` on up to ``rows`` samples of ``n`` images: the
    times sorted per sample (rows, 2n), then the same turned to (2n, rows) so that
    every later step is a pass over a row of samples."""

    def __init__(self, rows: int, n: int) -> None:
        self.n = n
        self.times = np.empty((rows, 2 * n))
        self.by_rank = np.empty((2 * n, rows))
        self.is_miss = np.empty((2 * n, rows), dtype=np.int64)
        self.factor = np.empty((2 * n, rows))
        self.lengths = np.empty((2 * n, rows))

    def block(self, m0: np.ndarray, change: np.ndarray, miss: np.ndarray,
              h: np.ndarray, q: np.ndarray) -> np.ndarray:
        """E[max] for one block of samples (at most the rows the work arrays hold)."""
        k, n = change.shape[0], self.n
        v = self.times[:k]
        np.maximum(change, m0[:, None], out=v[:, :n])
        np.maximum(miss, m0[:, None], out=v[:, n:])
        bits = v.view(np.int64)
        bits &= ~np.int64(1)
        bits[:, n:] |= 1
        v.sort(axis=1)
        t = self.by_rank[:, :k]                         # t[j]: every sample's j-th time
        np.copyto(t, v.T)
        is_miss = self.is_miss[:, :k]
        np.bitwise_and(t.view(np.int64), 1, out=is_miss)
        f = self.factor[:, :k]                          # f = q + is_miss * (h - q)
        np.multiply(is_miss, h - q, out=f)
        f += q
        g = f                                           # in place: G_j, top down
        for j in range(2 * n - 2, -1, -1):
            g[j] *= g[j + 1]
        lengths = self.lengths[:, :k]
        np.subtract(t[0], m0, out=lengths[0])
        np.subtract(t[1:], t[:-1], out=lengths[1:])
        np.subtract(1.0, g, out=g)
        return np.asarray(m0 + np.einsum("jk,jk->k", g, lengths))
