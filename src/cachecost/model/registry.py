"""Registry GiB over time under a cleanup policy: steady state, growth, quota.

Per image: ``steady_i`` GiB that do not grow (images plus current cache sets) and
``stale_i`` GiB each change leaves tagged (kaniko cache sets, old hash tags),
kept up to a cleanup policy's cap (:func:`cachecost.model.cleanup.stale_cap_months`)::

    G(m)     = sum_i steady_i + stale_i * c_i * min(m, cap_i)
    G_steady = sum_i steady_i + stale_i * c_i * cap_i          (every cap finite)
    growth   = sum_{i: no cap} stale_i * c_i                    GiB/month without end

Every strategy is priced along its path: ``G(12)``, the GiB held at the end of the
pack year (:func:`priced_path`); the steady state and the months to reach it are
reported beside it, and growth no cleanup caps as a risk (months to quota).
"""

from __future__ import annotations

import numpy as np

from cachecost.model.cleanup import NEVER_MONTHS
from cachecost.model.drivers import Arr, image_dot
from cachecost.model.money import PACK_MONTHS


def registry_series(steady: np.ndarray, stale_rate: Arr | None, caps: np.ndarray | None,
                    months: np.ndarray) -> np.ndarray:
    """Registry GiB at each whole month 0..H, shape (K, H+1): ``steady + sum_i r_i*min(m, cap_i)``
    (:func:`stale_growth` added to the steady GiB; a read-only view when nothing grows)."""
    steady = np.asarray(steady, dtype=float)
    if stale_rate is None:           # flat: a read-only view, no copy per month
        return np.broadcast_to(steady[:, None], (len(steady), len(months)))
    return np.asarray(steady[:, None] + stale_growth(stale_rate, caps, months, len(steady)))


def stale_growth(stale_rate: Arr, caps: np.ndarray | None, months: np.ndarray, k: int
                 ) -> np.ndarray:
    """GiB of stale sets kept at each month, ``sum_i r_i*min(m, cap_i)``, shape (K, M)
    for M ``months`` (whole months: ``0, 1, ..., H`` or the single month ``[H]``);
    ``stale_rate`` is (I, K) or (I, 1) GiB/month, ``caps`` (I, K) months or None
    (no cleanup: ``m * sum_i r_i``).

    A month no later than every cap is ``m * sum_i r_i``, one no earlier than every
    cap ``sum_i r_i*cap_i``; only the months between take a pass over (I, K), a
    ``min`` and an :func:`image_dot`. The result may be a transposed view.
    """
    rate_sum = np.broadcast_to(np.sum(stale_rate, axis=0), (k,))
    if caps is None:
        return np.asarray(rate_sum[:, None] * months[None, :])
    if len(months) == 1:
        return np.broadcast_to(image_dot(stale_rate, np.minimum(months[0], caps)), (k,))[:, None]
    full = np.broadcast_to(image_dot(stale_rate, caps), (k,))     # once every cap is past
    first_cap, last_cap = float(np.min(caps)), float(np.max(caps))
    grown = np.empty((len(months), k))
    work = np.empty(np.broadcast_shapes(np.shape(stale_rate), np.shape(caps)))
    for m, month in enumerate(months):
        if month <= first_cap:          # no cap reached yet: every set still growing
            np.multiply(rate_sum, month, out=grown[m])
        elif month >= last_cap:
            grown[m] = full
        else:
            np.minimum(caps, month, out=work)
            grown[m] = image_dot(stale_rate, work)
    return grown.T


def priced_path(steady: np.ndarray, stale_rate: Arr | None, caps: np.ndarray | None, k: int,
                months: float = PACK_MONTHS) -> dict[str, np.ndarray]:
    """The registry along the path a strategy's cleanup really takes, shapes (K,):

    * ``priced``: ``G(months)``, the GiB held at the end of the months priced (the pack
      year: GitLab sells annual packs bought for the year's peak, and G only grows);
      a cleanup caps each image at ``min(months, cap_i)``, so it never prices more
      than no cleanup (``min(m, cap) <= m``), and a keep_n state reached only after
      years is not today's price;
    * ``steady``: ``G(inf) = steady + sum_i r_i*cap_i``, inf where a growing image has
      no cap; ``months_to_steady``: the last cap of a growing image (0 when nothing
      grows, inf when something grows for ever);
    * ``growth``: GiB/month no cleanup ever stops (a risk: months to quota).

    Example: steady 1.25 GiB, 2 changes/month of 0.8 GiB each (1.6 GiB/month): with a
    14-day cap (0.46 months) priced = steady = 1.25 + 1.6*0.46 = 1.986 GiB, reached
    after 0.46 months; with keep 5 of 1 tag a change at 0.1 changes a month (cap 50
    months, rate 0.08): priced 1.25 + 0.08*12 = 2.21, steady 1.25 + 0.08*50 = 5.25 GiB
    after 50 months; no cleanup: priced 1.25 + 1.6*12 = 20.45, growth 1.6 GiB/month.
    """
    steady = np.asarray(np.broadcast_to(np.asarray(steady, dtype=float), (k,)))
    zero = np.zeros(k)
    if stale_rate is None:
        return {"priced": steady, "steady": steady, "months_to_steady": zero,
                "growth": zero}
    rate = np.asarray(stale_rate, dtype=float)
    if caps is None or np.size(caps) == 1 or not any(np.asarray(caps).strides):
        cap = NEVER_MONTHS if caps is None else float(np.asarray(caps).flat[0])   # one cap
        return _one_cap_path(steady, np.broadcast_to(np.sum(rate, axis=0), (k,)), cap, months)
    grows = rate > 0
    unbounded = (np.asarray(caps) >= NEVER_MONTHS / 2) & grows
    priced = steady + np.broadcast_to(image_dot(rate, np.minimum(caps, months)), (k,))
    if not unbounded.any():         # every growing image is capped (the usual case)
        final = steady + np.broadcast_to(image_dot(rate, np.where(grows, caps, 0.0)), (k,))
        last = np.broadcast_to(np.max(np.where(grows, caps, 0.0), axis=0), (k,))
        return {"priced": np.asarray(priced), "steady": np.asarray(final),
                "months_to_steady": np.asarray(last, dtype=float), "growth": zero}
    growth = np.broadcast_to(np.sum(np.where(unbounded, rate, 0.0), axis=0), (k,))
    forever = np.broadcast_to(np.any(unbounded, axis=0), (k,))
    capped = np.where(unbounded | ~grows, 0.0, caps)
    final = steady + np.broadcast_to(image_dot(rate, capped), (k,))
    last = np.broadcast_to(np.max(capped, axis=0), (k,))
    return {"priced": np.asarray(priced),
            "steady": np.where(forever, np.inf, final),
            "months_to_steady": np.where(forever, np.inf, last),
            "growth": np.asarray(growth, dtype=float)}


def _one_cap_path(steady: np.ndarray, rate_sum: np.ndarray, cap: float, months: float
                  ) -> dict[str, np.ndarray]:
    """:func:`priced_path` when every image has the same cap (the age rule, or none):
    only the per-sample sum of the rates is needed."""
    grows = rate_sum > 0
    if cap >= NEVER_MONTHS / 2:
        return {"priced": steady + rate_sum * months,
                "steady": np.where(grows, np.inf, steady),
                "months_to_steady": np.where(grows, np.inf, 0.0),
                "growth": np.asarray(rate_sum, dtype=float)}
    return {"priced": steady + rate_sum * min(cap, months), "steady": steady + rate_sum * cap,
            "months_to_steady": np.where(grows, cap, 0.0), "growth": np.zeros(len(steady))}


def months_to_reach(level0: np.ndarray, slopes: np.ndarray, caps: np.ndarray | None,
                    target: float) -> np.ndarray:
    """First month m with ``level0 + sum_i slopes_i * min(m, caps_i) >= target``.

    Exact for this concave piecewise-linear growth: sort the breakpoints, find
    the segment where the target is crossed, interpolate. ``inf`` when never.
    Shapes: ``level0`` (K,), ``slopes`` and ``caps`` (I, K); ``caps`` None means no
    cleanup, i.e. straight-line growth ``level0 + m * sum_i slopes_i``.
    """
    if caps is None:
        rate = slopes.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            m = np.where(rate > 0, (target - level0) / rate, np.inf)
        return np.asarray(np.where(level0 >= target, 0.0, m))
    slopes, caps, _ = np.broadcast_arrays(slopes, caps, np.empty((1, len(level0))))
    final = level0 + np.sum(slopes * np.minimum(caps, NEVER_MONTHS), axis=0)
    reach = final >= target           # only these rows ever get there: solve just them
    out = np.full(len(level0), np.inf)
    if reach.any():
        out[reach] = _months_to_reach_rows(level0[reach], slopes[:, reach], caps[:, reach],
                                           target)
    return out


def _months_to_reach_rows(level0: np.ndarray, slopes: np.ndarray, caps: np.ndarray,
                          target: float) -> np.ndarray:
    """:func:`months_to_reach` for rows with caps (sorting the breakpoints)."""
    slopes, caps = slopes.T, caps.T
    order = np.argsort(caps, axis=1)
    b = np.take_along_axis(caps, order, axis=1)
    s = np.take_along_axis(slopes, order, axis=1)
    suffix = np.cumsum(s[:, ::-1], axis=1)[:, ::-1]                 # slope on [b_{k-1}, b_k]
    prefix = np.cumsum(s * b, axis=1) - s * b                        # sum_{j<k} s_j b_j
    at_break = level0[:, None] + prefix + b * suffix                 # G(b_k)
    crossed = at_break >= target
    k = np.argmax(crossed, axis=1)
    has = crossed.any(axis=1)
    rows = np.arange(len(level0))
    prev_b = np.where(k > 0, b[rows, np.maximum(k - 1, 0)], 0.0)
    prev_g = np.where(k > 0, at_break[rows, np.maximum(k - 1, 0)], level0)
    slope = suffix[rows, k]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        m = prev_b + (target - prev_g) / slope
    m = np.where(has, m, np.inf)
    m = np.where(level0 >= target, 0.0, m)
    return np.asarray(np.where(m >= NEVER_MONTHS / 2, np.inf, m))


def peak_and_growth(steady: np.ndarray, stale_rate: Arr | None, caps: np.ndarray | None,
                    k: int) -> tuple[np.ndarray, np.ndarray]:
    """(the priced GiB, the unbounded growth in GiB/month) of :func:`priced_path`."""
    path = priced_path(steady, stale_rate, caps, k)
    return path["priced"], path["growth"]
