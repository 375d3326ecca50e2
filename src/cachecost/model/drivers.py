"""What a strategy's formulas read: :class:`Drivers`, the per-image/per-sample inputs
as numpy arrays, the units they are in, and the image sums every strategy shares.

Every array is ``(images, samples)`` or broadcastable to it (images down axis 0,
:data:`IMAGE_AXIS`); minutes are runner minutes per build, sizes GiB (2**30 bytes).
:mod:`cachecost.model.simulate` builds the drivers, :mod:`cachecost.model.strategies`
prices them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

#: A value that is a per-sample/per-image array or, when the same everywhere, a float.
Arr = np.ndarray | float

#: Axis of the image dimension in every (images, samples) array.
IMAGE_AXIS = 0
HOURS_PER_MONTH = 730.5
DAYS_PER_MONTH = 30.4375


@dataclass
class Drivers:
    """Everything a strategy's formulas read, as numpy arrays.

    Shapes: per-image values ``(I, 1)`` or ``(I, K)``; per-sample values ``(1, K)``,
    or a plain float when the input is the same for every sample.
    Images run down axis 0 (:data:`IMAGE_AXIS`) so that sums over images add
    whole contiguous rows of samples, which numpy does fast.
    Minutes are minutes of runner time per build; sizes are GiB (2**30 bytes).
    """

    builds_per_month: Arr               # B: successful upstream builds of each image per month
    changes_per_month: Arr              # c: rebuild-triggering changes per month (<= B)
    input_changes_per_month: Arr        # c minus base-image refreshes (rebuild-on-change)
    failed_min_per_month: Arr           # measured minutes of failed/canceled jobs per month
    hit_min: Arr                        # t_hit: build with every layer cached (mean)
    change_min: Arr                     # t_change: build after a change (mean)
    miss_min: Arr                       # t_miss: full build from scratch (mean)
    image_gib: Arr                      # S: compressed size of the image (latest tag)
    per_tag_gib: Arr                    # sum of the image's tag sizes (shared layers again)
    dedup_gib: Arr                      # the image's bytes counted once per root namespace
    tags_kept: Arr                      # T: tags of the image kept (latest, stable branches)
    run_steps: Arr                      # RUN steps per build (kaniko cache tags/set), logged
    is_multi_stage: Arr                 # 1 for a multi-stage Dockerfile, else 0
    kaniko_hit_min: Arr                 # kaniko all-hit build: t_hit + pull/extract of layers
    fork_builds_per_month: Arr          # F: fork builds of each image per month
    fork_change_share: Arr              # d: share of fork builds that change an image
    fork_reads_upstream: Arr            # R: 1 a fork's job can read upstream's registry, 0 not
    fork_pipelines_per_change: Arr      # n: fork pipelines carrying one image change
    fork_owners: Arr                    # O: fork owners (namespaces)
    refresh_per_month: Arr              # R: scheduled forced rebuilds (rebuild-on-change)
    check_min: Arr                      # rebuild-on-change: check-the-tag job minutes
    changed_bytes_share: Arr            # u: share of image bytes a change rewrites
    kaniko_cache_bytes_share: Arr       # r: RUN-layer share of the image bytes
    kaniko_ttl_months: Arr              # tau: kaniko --cache-ttl in months
    kaniko_full_change_share: Arr       # phi: changes that rewrite the first cached layer
    kaniko_digest_shared: Arr           # 1 shared, 0 not (a draw), or a probability
    buildkit_max_extra_share: Arr       # x: intermediate-stage bytes per cache ref / S
    buildkit_max_change_saving: Arr
    #: :meth:`Strategy.part`'s results for these drivers, by formula, and
    #: :meth:`image_sum`'s and :meth:`image_dot`'s, by array
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def image_sum(self, x: Arr) -> np.ndarray:
        """``sum_i x_i`` over images (axis 0), once per array: the failed minutes and
        the miss minutes are summed for every strategy."""
        key = ("image_sum", id(x))
        if key not in self.memo:
            self.memo[key] = (x, np.sum(x, axis=IMAGE_AXIS))    # x kept: its id stays its
        return cast(np.ndarray, self.memo[key][1])

    def image_dot(self, a: Arr, b: Arr) -> np.ndarray:
        """:func:`image_dot` once per pair of arrays: strategies sharing a formula
        (dind's builds x t_hit, changes x t_hit) share the sum."""
        key = ("image_dot", id(a), id(b))
        if key not in self.memo:
            self.memo[key] = (a, b, image_dot(a, b))              # a, b kept: ids stay theirs
        return cast(np.ndarray, self.memo[key][2])


def image_dot(a: Arr, b: Arr) -> np.ndarray:
    """Return ``sum_i a_i * b_i`` over images (axis 0) for broadcastable (I, 1)/(I, K)
    arrays, shape (K,) (or () for two columns): a per-image column times a matrix is
    one BLAS product, two (I, K) matrices one einsum pass, neither with a temporary."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim == 2 and b.ndim == 2:
        if a.shape[1] == 1:
            return np.asarray(a[:, 0] @ b)
        if b.shape[1] == 1:
            return np.asarray(b[:, 0] @ a)
        if a.shape == b.shape:      # one pass, no (I, K) temporary; the same sum order
            return cast(np.ndarray, np.einsum("ik,ik->k", a, b))
    return np.asarray(np.sum(a * b, axis=IMAGE_AXIS))

