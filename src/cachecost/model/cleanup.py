"""A registry cleanup policy and when it stops stale tags piling up.

:class:`CleanupPolicy` is GitLab's rule (keep the ``keep_n`` most recent tags, delete
those older than ``older_than_days``); :func:`stale_cap_months` turns it into the month,
per image, after which a strategy's stale tags stop accumulating, the cap
:mod:`cachecost.model.registry` grows the registry up to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from cachecost.model.drivers import DAYS_PER_MONTH, Arr


@dataclass(frozen=True)
class CleanupPolicy:
    """A registry cleanup policy: a tag is deleted when it is NOT among the ``keep_n``
    most recent AND is older than ``older_than_days`` (GitLab's rule; None = no limit
    on that side). Current tags (latest, stable branches) are assumed protected.
    """

    keep_n: float | None = None
    older_than_days: float | None = None

    def to_json(self) -> dict[str, float | None]:
        """``{"keep_n": N, "older_than_days": D}``."""
        return {"keep_n": self.keep_n, "older_than_days": self.older_than_days}


NEVER_MONTHS = 1e12   # "never" in months, finite so that the piecewise-linear solvers stay finite


def stale_cap_months(changes: Arr, policy: CleanupPolicy | None,
                     current_tags: Arr, tags_per_change: Arr) -> np.ndarray:
    """Return, per image, the month after which stale tags stop accumulating.

    Stale sets kept at month m are ``min(c*m, cap)``: a cleanup policy keeps sets
    younger than D days (``c*D``) or among the keep_n most recent tags
    (``keep_n / tags_per_change - current sets``), whichever is more. The
    breakpoint ``cap / c`` is returned (``NEVER_MONTHS`` when nothing is ever deleted).

    Example: c = 2/month, D = 14 days, keep_n = 1, 5 tags per set, T = 2: keep_n
    keeps max(0, 1/5 - 2) = 0 sets, the age rule c*D = 0.92 sets: the cap is
    max(14/30.4375, 0/2) = 0.46 months. An image with no change (c = 0) never
    reaches its cap. A cap the same for every image and sample is a read-only
    broadcast, shape as ``changes`` and ``current_tags`` broadcast.
    """
    shape = np.broadcast(np.asarray(changes), np.asarray(current_tags)).shape
    if policy is None or (policy.keep_n is None and policy.older_than_days is None):
        return np.broadcast_to(NEVER_MONTHS, shape)
    age_months = (policy.older_than_days / DAYS_PER_MONTH if policy.older_than_days is not None
                  else NEVER_MONTHS)
    keep_sets: Arr = (np.maximum(0.0, policy.keep_n / np.asarray(tags_per_change)
                                 - np.asarray(current_tags))
                      if policy.keep_n is not None else 0.0)
    if policy.older_than_days is not None and not np.any(np.asarray(keep_sets) > 0):
        return np.broadcast_to(age_months, shape)   # keep_n keeps no old set: the age rule
    # keep/c; with c = 0 that is inf or NaN (0/0), and fmin turns both into "never"
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cap = np.asarray(np.divide(keep_sets, np.asarray(changes, dtype=float)))  # 0-d too
    if policy.older_than_days is not None:
        np.maximum(cap, age_months, out=cap)        # NaN stays NaN
    return cast(np.ndarray, np.fmin(cap, NEVER_MONTHS, out=cap))

