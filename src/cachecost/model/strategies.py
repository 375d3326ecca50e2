"""Caching strategies: one documented unit each, priced by the same formulas.

A strategy is described by a few answers, each a vectorized function of the
:class:`Drivers` (arrays of shape ``(images, samples)`` or broadcastable):

* ``hit_minutes``    - a build when nothing relevant changed,
* ``change_minutes`` - a build right after the image's inputs changed,
* ``extra_full_builds_per_month`` - forced full builds besides changes
  (kaniko's cache TTL, a scheduled refresh),
* ``fork_reuse_share`` - how much of upstream's cache a fork pipeline can use,
* ``extra_gib`` / ``stale_gib_per_change`` / ``tags_per_change`` - what it
  stores besides the images, under either accounting.

:meth:`Strategy.upstream_minutes`, :meth:`Strategy.fork_minutes_per_build`
and :meth:`Strategy.registry_gib` combine them with the formulas written out
in :mod:`cachecost.model.simulate`. Adding a strategy is one subclass plus
``register(...)``::

    @register
    class MyStrategy(Strategy):
        name = "my-strategy"; title = "..."; description = "..."
        def extra_gib(self, d, accounting): ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

ACCOUNTINGS = ("per-tag", "root-namespace-dedup")
#: Axis of the image dimension in every (images, samples) array.
IMAGE_AXIS = 0
HOURS_PER_MONTH = 730.5


@dataclass
class Drivers:
    """Everything a strategy's formulas read, as numpy arrays.

    Shapes: per-image values ``(I, 1)`` or ``(I, K)``; per-sample values ``(1, K)``,
    or a plain float when the input is the same for every sample.
    Images run down axis 0 (:data:`IMAGE_AXIS`) so that sums over images add
    whole contiguous rows of samples, which numpy does fast.
    Minutes are minutes of runner time per build; sizes are GiB (2**30 bytes).
    """

    builds_per_month: np.ndarray        # B: upstream builds of each image per month
    changes_per_month: np.ndarray       # c: changes of each image's inputs per month (<= B)
    hit_min: np.ndarray                 # t_hit: build with every layer cached
    change_min: np.ndarray              # t_change: build after a change (partial reuse)
    miss_min: np.ndarray                # t_miss: full build from scratch
    image_gib: np.ndarray               # S: compressed size of the image (latest tag)
    per_tag_gib: np.ndarray             # sum of the image's tag sizes (shared layers again)
    dedup_gib: np.ndarray               # the image's bytes counted once per root namespace
    tags_kept: np.ndarray               # T: tags of the image kept (latest, stable branches)
    run_steps: np.ndarray               # RUN steps in its Dockerfile (kaniko cache tags/set)
    fork_builds_per_month: np.ndarray   # F: fork builds of each image per month
    fork_change_share: np.ndarray       # d: share of fork builds that change an image
    refresh_per_month: np.ndarray       # R: scheduled forced rebuilds (rebuild-on-change)
    check_min: np.ndarray               # rebuild-on-change: check-the-tag job minutes
    changed_bytes_share: np.ndarray     # u: share of image bytes a change rewrites
    kaniko_cache_bytes_share: np.ndarray  # r: RUN-layer share of the image bytes
    kaniko_ttl_months: np.ndarray       # tau: kaniko --cache-ttl in months
    kaniko_fork_reuse_share: np.ndarray
    is_kaniko_layer_digest_shared: bool
    buildkit_max_extra_share: np.ndarray  # x: intermediate-stage bytes per cache ref / S
    buildkit_max_change_saving: np.ndarray


@dataclass(frozen=True)
class CleanupPolicy:
    """A registry cleanup policy: a tag is deleted when it is NOT among the ``keep_n``
    most recent AND is older than ``older_than_days`` (GitLab's rule; None = no limit
    on that side). Current tags (latest, stable branches) are assumed protected.
    """

    keep_n: float | None = None
    older_than_days: float | None = None


def image_dot(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Return ``sum_i a_i * b_i`` over images (axis 0) for broadcastable (I, 1)/(I, K)
    arrays; a per-image column times a matrix is one BLAS product, no temporary."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim == 2 and b.ndim == 2:
        if a.shape[1] == 1:
            return a[:, 0] @ b
        if b.shape[1] == 1:
            return b[:, 0] @ a
    return np.sum(a * b, axis=IMAGE_AXIS)


NEVER_MONTHS = 1e12   # "never" in months, finite so that the piecewise-linear solvers stay finite


def stale_cap_months(changes: np.ndarray, policy: CleanupPolicy | None,
                     current_tags: np.ndarray, tags_per_change: np.ndarray) -> np.ndarray:
    """Return, per image, the month after which stale tags stop accumulating.

    Stale sets kept at month m are ``min(c*m, cap)``: a cleanup policy keeps sets
    younger than D days (``c*D``) or among the keep_n most recent tags
    (``keep_n / tags_per_change - current sets``), whichever is more. The
    breakpoint ``cap / c`` is returned (``NEVER_MONTHS`` when nothing is ever deleted).
    """
    if policy is None or (policy.keep_n is None and policy.older_than_days is None):
        return np.full(np.broadcast(changes, current_tags).shape, NEVER_MONTHS)
    age_months = (policy.older_than_days / 30.4375 if policy.older_than_days is not None
                  else NEVER_MONTHS)
    keep_sets = (np.maximum(0.0, policy.keep_n / tags_per_change - current_tags)
                 if policy.keep_n is not None else 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_keep = np.where(changes > 0, keep_sets / changes, NEVER_MONTHS)
    if policy.older_than_days is None:
        return np.minimum(by_keep, NEVER_MONTHS)
    if policy.keep_n is None:
        return np.full(np.broadcast(changes, current_tags).shape, age_months)
    return np.minimum(np.maximum(age_months, by_keep), NEVER_MONTHS)


@dataclass(frozen=True)
class Strategy:
    """Base strategy: the docker-in-docker inline-cache formulas; subclasses override."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    notes: ClassVar[tuple[str, ...]] = ()

    # -- compute ------------------------------------------------------------------------
    def hit_minutes(self, d: Drivers) -> np.ndarray:
        """Minutes of a build with nothing changed: every layer comes from the cache."""
        return d.hit_min

    def change_minutes(self, d: Drivers) -> np.ndarray:
        """Minutes of a build right after the image's inputs changed."""
        return d.change_min

    def extra_full_builds_per_month(self, d: Drivers) -> np.ndarray | None:
        """Full builds per month forced besides changes (None: none)."""
        return None

    def fork_reuse_share(self, d: Drivers) -> np.ndarray | float:
        """Share of fork builds that reuse upstream's cache (1: all of them)."""
        return 1.0

    def upstream_minutes(self, d: Drivers) -> np.ndarray:
        """Upstream runner minutes per month, summed over images:
        ``sum_i B*t_hit + n_c*(t_change - t_hit) + n_f*(t_miss - t_hit)``
        (``d.changes_per_month`` is already capped at B, so it is n_c)."""
        hit, change = self.hit_minutes(d), self.change_minutes(d)
        builds = d.builds_per_month
        minutes = image_dot(builds, hit) + image_dot(d.changes_per_month, change - hit)
        extra = self.extra_full_builds_per_month(d)
        if extra is not None:
            n_full = np.minimum(extra, builds - d.changes_per_month)
            minutes = minutes + image_dot(n_full, d.miss_min - hit)
        return minutes

    def fork_minutes_per_build(self, d: Drivers) -> np.ndarray:
        """Expected minutes of one fork build of each image:
        ``h*(t_hit + d*(t_change - t_hit)) + (1 - h)*t_miss``."""
        h = self.fork_reuse_share(d)
        if isinstance(h, float) and h == 0.0:
            return d.miss_min
        hit, change = self.hit_minutes(d), self.change_minutes(d)
        reused = hit + d.fork_change_share * (change - hit)
        if isinstance(h, float) and h == 1.0:
            return reused
        return h * reused + (1 - h) * d.miss_min

    # -- storage ------------------------------------------------------------------------
    def extra_gib(self, d: Drivers, accounting: str) -> np.ndarray | float:
        """Steady extra GiB per image besides the images' own tags (inline cache: ~0)."""
        return 0.0

    def stale_gib_per_change(self, d: Drivers, accounting: str) -> np.ndarray | float:
        """GiB per image left tagged but unused by each change (0: nothing piles up)."""
        return 0.0

    def tags_per_change(self, d: Drivers) -> np.ndarray:
        """Stale tags a change leaves (what a keep_n cleanup rule counts)."""
        return np.ones_like(d.tags_kept)

    def current_stale_repo_tags(self, d: Drivers) -> np.ndarray:
        """Current tags in the repository where the stale tags accumulate (in sets)."""
        return d.tags_kept

    def image_gib(self, d: Drivers, accounting: str) -> np.ndarray:
        """The images' own GiB under an accounting."""
        return d.per_tag_gib if accounting == "per-tag" else d.dedup_gib

    def steady_gib(self, d: Drivers, accounting: str) -> np.ndarray:
        """GiB per image before any stale tag: images plus steady cache."""
        return self.image_gib(d, accounting) + self.extra_gib(d, accounting)

    def stale_cap(self, d: Drivers, policy: CleanupPolicy | None) -> np.ndarray:
        """Months after which a cleanup policy stops stale growth, per image."""
        return stale_cap_months(d.changes_per_month, policy,
                                self.current_stale_repo_tags(d), self.tags_per_change(d))

    def registry_gib(self, d: Drivers, accounting: str, months: float,
                     policy: CleanupPolicy | None = None) -> np.ndarray:
        """Registry GiB per sample after ``months`` (summed over images):
        ``sum_i steady_i + stale_i * c_i * min(m, cap_i)``."""
        steady = self.steady_gib(d, accounting)
        stale = self.stale_gib_per_change(d, accounting)
        total = np.sum(steady, axis=IMAGE_AXIS)
        if np.any(np.asarray(stale) > 0):
            kept = d.changes_per_month * np.minimum(months, self.stale_cap(d, policy))
            total = total + np.sum(stale * kept, axis=IMAGE_AXIS)
        return total


STRATEGIES: dict[str, Strategy] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Add a strategy class to :data:`STRATEGIES` (use as a decorator)."""
    STRATEGIES[cls.name] = cls()
    return cls


@register
class DindInlineCache(Strategy):
    """QEMU today."""

    name = "dind-inline-cache"
    title = "docker-in-docker, inline cache (QEMU today)"
    description = (
        "docker build --cache-from $TAG --cache-from <upstream>:latest with "
        "BUILDKIT_INLINE_CACHE=1. The image is the cache (min mode: final-stage layers); "
        "several cache sources; forks reuse upstream's image; a rebuilt latest replaces "
        "the old one, which is garbage-collected, so extra storage is about zero.")
    notes = ("Docker >= 27.0.1's default driver uses cache backends only with the containerd "
             "image store; check cache-hit rates in job logs (GitLab docs 17.5).",)


@register
class KanikoCacheRepo(Strategy):
    """The May-2024 patch."""

    name = "kaniko-cache-repo"
    title = "kaniko, separate cache repository (the 2024 patch)"
    description = (
        "kaniko --cache=true --cache-repo=.../$NAME-cache: one single-layer cache image "
        "per RUN step per cache key; one cache source; forks cannot read upstream's cache "
        "and build from scratch; --cache-ttl (336 h) turns older entries into full misses "
        "but deletes nothing, so every change leaves its cache tags behind unless a "
        "cleanup policy removes them.")
    notes = ("--reproducible loads the whole image into memory (kaniko#862); QEMU left it "
             "off after OOM. Not priced.",
             "kaniko was archived on 2025-06-03; forks: chainguard-dev, osscontainertools.",)

    def extra_full_builds_per_month(self, d: Drivers) -> np.ndarray:
        """TTL misses: renewals happen at ``min(next change, TTL)``, a rate of
        ``c / (1 - exp(-c*tau))``; those beyond the c changes are full rebuilds."""
        c, tau = d.changes_per_month, d.kaniko_ttl_months
        x = c * tau
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(x > 1e-9, c / -np.expm1(-x), 1.0 / tau)
        rate -= c
        return np.maximum(rate, 0.0, out=rate)

    def fork_reuse_share(self, d: Drivers) -> np.ndarray:
        """Forks cannot use upstream's cache repo (Berrange 2024-05), unless told."""
        return d.kaniko_fork_reuse_share

    def extra_gib(self, d: Drivers, accounting: str) -> np.ndarray | float:
        """The current cache sets (one per kept tag): RUN-layer bytes, counted again
        per tag; under dedup free when the layers share the image's digests."""
        current = d.tags_kept * d.kaniko_cache_bytes_share * d.image_gib
        if accounting == "root-namespace-dedup" and d.is_kaniko_layer_digest_shared:
            return 0.0
        return current

    def stale_gib_per_change(self, d: Drivers, accounting: str) -> np.ndarray:
        """A change orphans the cache layers it rewrote: ``min(u, r) * S`` (both modes:
        no tagged image holds those layers any more)."""
        return np.minimum(d.changed_bytes_share, d.kaniko_cache_bytes_share) * d.image_gib

    def tags_per_change(self, d: Drivers) -> np.ndarray:
        return np.maximum(d.run_steps, 1.0)

    def current_stale_repo_tags(self, d: Drivers) -> np.ndarray:
        return d.tags_kept       # in sets of run_steps tags: the current cache sets


@register
class NoCache(Strategy):
    """Always from scratch."""

    name = "no-cache"
    title = "no cache: every job builds from scratch"
    description = ("Every container job builds its image from scratch (docker build "
                   "--no-cache) and pushes it; nothing extra is stored.")

    def hit_minutes(self, d: Drivers) -> np.ndarray:
        return d.miss_min

    def change_minutes(self, d: Drivers) -> np.ndarray:
        return d.miss_min

    def fork_reuse_share(self, d: Drivers) -> float:
        return 0.0


@register
class RebuildOnChange(Strategy):
    """Content-addressed tags."""

    name = "rebuild-on-change"
    title = "rebuild on change: tag by input hash, skip when present"
    description = (
        "Images are tagged with a hash of their Dockerfile and inputs; the job checks the "
        "registry and skips the build when the tag exists. It rebuilds on change (with "
        "the inline cache) plus a scheduled full refresh; every change leaves the old "
        "hash tag behind unless a cleanup policy removes it.")

    def hit_minutes(self, d: Drivers) -> np.ndarray:
        return np.minimum(d.check_min, d.hit_min)

    def extra_full_builds_per_month(self, d: Drivers) -> np.ndarray:
        return d.refresh_per_month

    def stale_gib_per_change(self, d: Drivers, accounting: str) -> np.ndarray:
        """An old hash tag: its whole size per tag; under dedup only the rewritten layers."""
        if accounting == "per-tag":
            return d.image_gib
        return d.changed_bytes_share * d.image_gib


@register
class BuildkitRegistryCacheMin(Strategy):
    """Separate cache ref, min mode."""

    name = "buildkit-registry-cache-min"
    title = "BuildKit registry cache, mode=min"
    description = (
        "docker buildx build --cache-to type=registry,ref=...:cache,mode=min --cache-from "
        "(several refs; forks read upstream's). A separate cache manifest per image tag "
        "holding the final-stage layers: counted again per tag, about free under "
        "root-namespace dedup. Needs a non-default builder driver.")

    def extra_gib(self, d: Drivers, accounting: str) -> np.ndarray | float:
        if accounting == "per-tag":
            return d.tags_kept * d.image_gib
        return 0.0


@register
class BuildkitRegistryCacheMax(Strategy):
    """Separate cache ref, max mode."""

    name = "buildkit-registry-cache-max"
    title = "BuildKit registry cache, mode=max"
    description = (
        "As mode=min, but the cache ref also exports every layer of intermediate stages: "
        "more bytes (new ones even under dedup), cheaper rebuilds of multi-stage images "
        "after a change.")

    def change_minutes(self, d: Drivers) -> np.ndarray:
        return d.change_min - d.buildkit_max_change_saving * (d.change_min - d.hit_min)

    def extra_gib(self, d: Drivers, accounting: str) -> np.ndarray:
        intermediate = d.tags_kept * d.buildkit_max_extra_share * d.image_gib
        if accounting == "per-tag":
            return d.tags_kept * d.image_gib + intermediate
        return intermediate


STRATEGY_NAMES: tuple[str, ...] = tuple(STRATEGIES)
