"""Caching strategies: one documented unit each, priced by the same formulas.

A strategy is described by a few answers, each a vectorized function of the
:class:`~cachecost.model.drivers.Drivers` (arrays of shape ``(images, samples)`` or
broadcastable):

* ``hit_minutes``    - a build when nothing relevant changed,
* ``change_minutes`` - a build right after the image's inputs changed,
* ``changes``        - the changes per month that trigger a rebuild,
* ``extra_full_builds_per_month`` - forced full builds besides changes
  (kaniko's cache TTL, a scheduled refresh),
* ``fork_reuse_share`` - how much of upstream's cache a fork pipeline can use,
* ``extra_gib`` / ``stale_gib_per_change`` / ``tags_per_change`` - what it
  stores besides the images, under either accounting,
* ``cleanup`` - the registry cleanup policy the strategy needs (None: nothing
  it stores piles up, so it needs none; :mod:`cachecost.model.cleanup`).

:meth:`Strategy.upstream_minutes`, :meth:`Strategy.fork_minutes_per_build`
and :meth:`Strategy.registry_gib` combine them with the formulas written out
in :mod:`cachecost.model` and ``docs/model.md``. Adding a strategy is one
subclass plus ``register(...)``::

    @register
    class MyStrategy(Strategy):
        name = "my-strategy"; title = "..."; description = "..."
        def extra_gib(self, d, accounting): ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numpy as np

from cachecost.model.cleanup import CleanupPolicy, stale_cap_months
from cachecost.model.drivers import IMAGE_AXIS, Arr, Drivers

#: The two ways of counting registry bytes: every tag's layers again, or each layer once
#: per root namespace (:meth:`Strategy.registry_gib`).
ACCOUNTINGS = ("per-tag", "root-namespace-dedup")
#: The builders a project's CI may be known to use (a scenario's ``builder:``): the group
#: catalog's (:func:`cachecost.collect.group.detect_builder`: dind, kaniko, buildah,
#: buildkit, ci-templates) and the job logs' (``jobs.builder``: docker, buildkit, kaniko,
#: buildah).
BUILDERS = ("dind", "docker", "buildkit", "kaniko", "buildah", "ci-templates")


@dataclass(frozen=True)
class Strategy:
    """Base strategy: the docker-in-docker inline-cache formulas; subclasses override."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    notes: ClassVar[tuple[str, ...]] = ()
    #: The same words for a scenario that answers no thread (``thread: none``): no QEMU
    #: path, job or patch; None where :attr:`title`, :attr:`description` or :attr:`notes`
    #: are neutral already (:meth:`words`).
    neutral_title: ClassVar[str | None] = None
    neutral_description: ClassVar[str | None] = None
    neutral_notes: ClassVar[tuple[str, ...] | None] = None
    #: The builder (one of :data:`BUILDERS`) the strategy's words name, None when they name
    #: none; with another builder known (the scenario's ``builder:``) the words are
    #: :attr:`other_builder_words` instead: what the strategy is, not that tool.
    tool: ClassVar[str | None] = None
    #: ``(title, description, notes)`` for a project whose builder is not :attr:`tool`.
    other_builder_words: ClassVar[tuple[str, str, tuple[str, ...]] | None] = None

    def words(self, has_thread: bool, builder: str | None = None
              ) -> tuple[str, str, tuple[str, ...]]:
        """``(title, description, notes)``: with ``builder`` known and not the strategy's
        :attr:`tool`, :attr:`other_builder_words`; else the thread's wording, or without a
        thread the neutral one where the strategy has it."""
        if builder is not None and self.tool not in (None, builder) \
                and self.other_builder_words is not None:
            return self.other_builder_words
        if has_thread:
            return self.title, self.description, self.notes
        return (self.neutral_title or self.title, self.neutral_description or self.description,
                self.notes if self.neutral_notes is None else self.neutral_notes)
    #: The cleanup policy the strategy needs (None: nothing it stores piles up).
    cleanup: ClassVar[CleanupPolicy | None] = None
    #: True when the builder takes one cache source only (kaniko's ``--cache-repo``).
    single_cache_source: ClassVar[bool] = False

    def part(self, d: Drivers, method: str) -> Any:
        """``getattr(self, method)(d)``, computed once per set of drivers and formula:
        strategies that inherit the same formula (dind and BuildKit min's
        ``hit_minutes``) get the same array, and a formula the totals, the fork
        minutes and the fork wait all read is evaluated once."""
        fn = getattr(type(self), method)
        if fn not in d.memo:
            d.memo[fn] = fn(self, d)
        return d.memo[fn]

    # -- compute ------------------------------------------------------------------------
    def hit_minutes(self, d: Drivers) -> Arr:
        """Minutes of a build with nothing changed: every layer comes from the cache."""
        return d.hit_min

    def change_minutes(self, d: Drivers) -> Arr:
        """Minutes of a build right after the image's inputs changed."""
        return d.change_min

    def changes(self, d: Drivers) -> Arr:
        """Rebuild-triggering changes per month (every measured rebuild by default)."""
        return d.changes_per_month

    def extra_full_builds_per_month(self, d: Drivers) -> Arr | None:
        """Full builds per month forced besides changes (None: none)."""
        return None

    def upstream_minutes(self, d: Drivers) -> np.ndarray:
        """Upstream runner minutes per month, summed over images:
        ``sum_i B*t_hit + n_c*(t_change - t_hit) + n_f*(t_miss - t_hit) + failed_i``
        (``changes`` is already capped at B, so it is n_c; a failed or canceled job
        costs its own measured minutes, ``failed_i``, whatever the strategy). Each
        product is summed on its own (``sum n_c*t_change - sum n_c*t_hit``), so the
        sums strategies share are computed once (:meth:`Drivers.image_dot`)."""
        hit, change = self.part(d, "hit_minutes"), self.part(d, "change_minutes")
        builds, c = d.builds_per_month, self.part(d, "changes")
        minutes = (d.image_dot(builds, hit) + (d.image_dot(c, change) - d.image_dot(c, hit))
                   + d.image_sum(d.failed_min_per_month))
        extra = self.part(d, "extra_full_builds_per_month")
        if extra is not None:
            n_full = np.minimum(extra, np.subtract(builds, c))
            minutes = minutes + (d.image_dot(n_full, d.miss_min) - d.image_dot(n_full, hit))
        return np.asarray(minutes)

    def fork_reuse_share(self, d: Drivers) -> Arr:
        """Share of fork builds that read any cache (h): 1, the fork's own image at least
        (QEMU's job: ``--cache-from $TAG --cache-from <upstream>:latest``)."""
        return 1.0

    def fork_change_builds_share(self, d: Drivers) -> Arr:
        """Share of fork builds (of those reading a cache) that rebuild from a changed
        step, per image: the fork reads its own tag after its first build, so only the
        pipeline that changes an image pays (d). Without upstream's registry (R = 0) its
        own tag also goes stale at each of the c upstream changes, a share ``u = min(1,
        c*O/F)`` of its builds (O owners, F fork pipelines a month): ``s = d + (1 - R)*
        (min(1, d + u) - d)``.

        Example: d = 0.02, c = 1/month, O = 15, F = 40: u = 0.375; R = 1: s = 0.02,
        R = 0: s = 0.395."""
        return cast(Arr, self.part(d, "own_cache_change_share"))

    def own_cache_change_share(self, d: Drivers) -> Arr:
        """:meth:`fork_change_builds_share` of a job that reads the fork's own cache."""
        share = d.fork_change_share
        reads = d.fork_reads_upstream
        if isinstance(reads, float) and reads == 1.0:
            return share
        with np.errstate(divide="ignore", invalid="ignore"):
            per_owner = np.divide(np.multiply(d.changes_per_month, d.fork_owners),
                                  d.fork_builds_per_month)
        stale = np.minimum(1.0, np.nan_to_num(per_owner, nan=0.0, posinf=1.0))
        out: Arr = np.add(share, np.multiply(np.subtract(1.0, reads), np.subtract(
            np.minimum(1.0, np.add(share, stale)), share)))
        return out

    def fork_minutes_per_build(self, d: Drivers) -> np.ndarray:
        """Expected minutes of one fork build of each image:
        ``h*(t_hit + s*(t_change - t_hit)) + (1 - h)*t_miss`` (h: reads a cache,
        :meth:`fork_reuse_share`; s: :meth:`fork_change_builds_share`)."""
        return self._fork_minutes(d, self.part(d, "fork_reuse_share"),
                                  self.part(d, "fork_change_builds_share"), image_sum=False)

    def fork_minutes_per_pipeline(self, d: Drivers) -> np.ndarray:
        """Expected minutes of one fork pipeline's container builds, summed over images:
        ``h*(sum_i t_hit,s + sum_i s_i*(t_change,s - t_hit,s)) + (1 - h)*sum_i t_miss``."""
        return self._fork_minutes(d, self.part(d, "fork_reuse_share"),
                                  self.part(d, "fork_change_builds_share"), image_sum=True)

    def fork_minutes_with_own_cache(self, d: Drivers) -> np.ndarray:
        """:meth:`fork_minutes_per_pipeline` had the job a second cache source, the
        fork's own (dind's mechanics with this strategy's build times)."""
        return self._fork_minutes(d, 1.0, self.part(d, "own_cache_change_share"),
                                  image_sum=True)

    def _fork_minutes(self, d: Drivers, h: Arr, share: Arr, image_sum: bool) -> np.ndarray:
        if isinstance(h, float) and h == 0.0:
            return np.asarray(d.image_sum(d.miss_min) if image_sum else d.miss_min)
        hit, change = self.part(d, "hit_minutes"), self.part(d, "change_minutes")
        if image_sum:
            sum_hit = d.image_sum(hit)
            reused: Arr = sum_hit + (d.image_dot(share, change) - d.image_dot(share, hit))
            miss: Arr = d.image_sum(d.miss_min)
            h = np.ravel(h) if not isinstance(h, float) else h
        else:
            reused = hit + np.multiply(share, np.subtract(change, hit))
            miss = d.miss_min
        if isinstance(h, float) and h == 1.0:
            return np.asarray(reused)
        return np.asarray(np.multiply(h, reused) + np.multiply(np.subtract(1.0, h), miss))

    def fork_wait_change_share(self, d: Drivers) -> Arr:
        """The fork wait's per-sample change share: the image mean of
        :meth:`fork_change_builds_share` (exact when every image has the same)."""
        key = ("fork_wait_change_share", type(self).fork_change_builds_share)
        if key not in d.memo:       # once per change-share formula (not via part: it varies)
            arr = np.asarray(share := self.part(d, "fork_change_builds_share"))
            d.memo[key] = (np.mean(arr, axis=0, keepdims=True)
                           if arr.ndim == 2 and arr.shape[0] > 1 else share)
        memo: Arr = d.memo[key]
        return memo

    #: The methods that decide compute; strategies sharing all of them share the minutes.
    COMPUTE_METHODS: ClassVar[tuple[str, ...]] = (
        "hit_minutes", "change_minutes", "changes", "extra_full_builds_per_month",
        "fork_reuse_share", "fork_change_builds_share")

    def compute_key(self) -> tuple[object, ...]:
        """Identity of this strategy's compute formulas (equal keys: equal minutes)."""
        return tuple(getattr(type(self), m) for m in self.COMPUTE_METHODS)

    # -- storage ------------------------------------------------------------------------
    def extra_gib(self, d: Drivers, accounting: str) -> Arr:
        """Steady extra GiB per image besides the images' own tags (inline cache: ~0)."""
        return 0.0

    def stale_gib_per_change(self, d: Drivers, accounting: str) -> Arr:
        """GiB per image left tagged but unused by each change (0: nothing piles up)."""
        return 0.0

    def tags_per_change(self, d: Drivers) -> Arr:
        """Stale tags a change leaves (what a keep_n cleanup rule counts)."""
        return np.ones_like(np.asarray(d.tags_kept, dtype=float))

    def current_stale_repo_tags(self, d: Drivers) -> Arr:
        """Current tags in the repository where the stale tags accumulate (in sets)."""
        return d.tags_kept

    def image_gib(self, d: Drivers, accounting: str) -> Arr:
        """The images' own GiB under an accounting."""
        return d.per_tag_gib if accounting == "per-tag" else d.dedup_gib

    def steady_gib(self, d: Drivers, accounting: str) -> Arr:
        """GiB per image before any stale tag: images plus steady cache."""
        return np.add(self.image_gib(d, accounting), self.extra_gib(d, accounting))

    def stale_cap(self, d: Drivers, policy: CleanupPolicy | None) -> np.ndarray:
        """Months after which a cleanup policy stops stale growth, per image."""
        return stale_cap_months(self.part(d, "changes"), policy,
                                self.current_stale_repo_tags(d), self.tags_per_change(d))

    def registry_gib(self, d: Drivers, accounting: str, months: float,
                     policy: CleanupPolicy | None = None) -> np.ndarray:
        """Registry GiB per sample after ``months`` (summed over images):
        ``sum_i steady_i + stale_i * c_i * min(m, cap_i)``."""
        steady = self.steady_gib(d, accounting)
        stale = self.stale_gib_per_change(d, accounting)
        total = np.sum(steady, axis=IMAGE_AXIS)
        if np.any(np.asarray(stale) > 0):
            kept = np.multiply(self.part(d, "changes"), np.minimum(months, self.stale_cap(d, policy)))
            total = total + np.sum(np.multiply(stale, kept), axis=IMAGE_AXIS)
        return np.asarray(total)


STRATEGIES: dict[str, Strategy] = {}


def strategy_title(name: str, baseline: str, has_thread: bool = True,
                   builder: str | None = None) -> str:
    """The strategy's title, marked ``(today's strategy)`` when it is the scenario's baseline
    (the status quo the model compares against: QEMU's dind in the default scenario, the
    strategy a project's CI runs in a group report); ``has_thread`` False: the neutral
    title; ``builder``: the project's builder (:meth:`Strategy.words`)."""
    title = STRATEGIES[name].words(has_thread, builder)[0]
    return f"{title} (today's strategy)" if name == baseline else title


def register(cls: type[Strategy]) -> type[Strategy]:
    """Add a strategy class to :data:`STRATEGIES` (use as a decorator)."""
    STRATEGIES[cls.name] = cls()
    return cls


@register
class DindInlineCache(Strategy):
    """What QEMU runs (container-template.yml, 2025); "today's" only as a scenario's baseline
    (:func:`strategy_title`)."""

    name = "dind-inline-cache"
    title = "docker-in-docker, inline cache"
    description = (
        "docker build --cache-from $TAG --cache-from <upstream>:latest with "
        "BUILDKIT_INLINE_CACHE=1. The image is the cache (min mode: final-stage layers); "
        "several cache sources; forks reuse upstream's image; a rebuilt latest replaces "
        "the old one, which is garbage-collected, so extra storage is about zero and no "
        "cleanup policy is needed.")
    notes = ("Docker >= 27.0.1's default driver uses cache backends only with the containerd "
             "image store; check cache-hit rates in job logs (GitLab docs 17.5).",)


@register
class KanikoCacheRepo(Strategy):
    """The May-2024 patch."""

    name = "kaniko-cache-repo"
    title = "kaniko, separate cache repository (the 2024 patch)"
    description = (
        "kaniko --cache=true --cache-repo=$CI_REGISTRY/qemu-project/qemu/qemu/$NAME-cache: "
        "one single-layer cache image per RUN step per cache key; one cache source, "
        "upstream's, which a fork reads when it may read upstream's registry but never "
        "writes (a fork that changed an image rebuilds from the changed step on every "
        "pipeline); a cache hit still pulls and extracts every cached layer; "
        "--cache-ttl (336 h) ages each entry from its own push and turns older entries into "
        "misses but deletes nothing, so the cache repository needs a cleanup policy "
        "(keep 1 tag, delete tags older than 14 days: older entries are misses anyway).")
    notes = ("--reproducible loads the whole image into memory (kaniko#862); QEMU left it "
             "off after OOM. Not priced.",
             "kaniko was archived on 2025-06-03; forks: chainguard-dev, osscontainertools.",)
    neutral_title = "kaniko, separate cache repository"
    neutral_description = description.replace(
        "$CI_REGISTRY/qemu-project/qemu/qemu/$NAME-cache", "$CI_REGISTRY_IMAGE/$NAME-cache")
    neutral_notes = ("--reproducible loads the whole image into memory (kaniko#862). "
                     "Not priced.", notes[1])
    tool = "kaniko"
    # a project building with another tool the same way (buildah --cache-to/--cache-from,
    # cachecost.collect.group.strategy_note): the mechanics, not kaniko's flags or fate
    other_builder_words = (
        "separate cache repository",
        "A separate cache repository ($CI_REGISTRY_IMAGE/$NAME-cache, e.g. buildah --layers "
        "--cache-to/--cache-from): one cache image per build step per cache key; one cache "
        "source, upstream's, which a fork reads when it may read upstream's registry but "
        "never writes (a fork that changed an image rebuilds from the changed step on every "
        "pipeline); a cache hit still pulls and extracts every cached layer. Priced with "
        "kaniko's mechanics, the ones the model has for this strategy: entries older than "
        "the cache TTL (336 h by default) are misses but nothing is deleted, so the cache "
        "repository needs a cleanup policy (keep 1 tag, delete tags older than 14 days).",
        ())
    cleanup = CleanupPolicy(keep_n=1, older_than_days=14)

    def hit_minutes(self, d: Drivers) -> Arr:
        """An all-hit kaniko build pulls and extracts every cached layer
        (pkg/commands/run.go ``CachingRunCommand.ExecuteCommand``: "Found cached layer,
        extracting to filesystem", ``util.GetFSFromLayers``): ``d.kaniko_hit_min``."""
        return d.kaniko_hit_min

    def change_minutes(self, d: Drivers) -> Arr:
        """A change build is no faster than a kaniko hit build."""
        return np.maximum(d.change_min, d.kaniko_hit_min)

    def extra_full_builds_per_month(self, d: Drivers) -> np.ndarray:
        """TTL misses. kaniko ages each entry from its own push (pkg/cache/cache.go
        ``RetrieveLayer``: ``expiry := cf.Created.Add(opts.CacheTTL)``), so the first
        cached layer is renewed only by the changes that rewrite it, a share phi of
        them: ``c' = phi*c``. It expires ``tau`` after its push unless renewed first,
        a renewal rate of ``c' / (1 - exp(-c'*tau))``; the renewals beyond the c'
        changes are TTL misses, and a miss on the first layer rebuilds every later
        one (README: after the first miss no later layer consults the cache).

        Example: c = 2/month, phi = 0.5, tau = 0.5 month: c' = 1, 1/(1 - e^-0.5)
        = 2.541 renewals, 1.541 of them full rebuilds a month.

        Computed as ``c'/(1 - e^-x) - c' = c'/(e^x - 1) = (x/expm1(x))/tau`` with
        ``x = c'*tau``: no cancellation when x is small, and 1/tau at x = 0 (a TTL
        miss every tau when nothing renews the layer)."""
        x = np.multiply(d.changes_per_month,
                        np.multiply(d.kaniko_full_change_share, d.kaniko_ttl_months))
        with np.errstate(over="ignore", divide="ignore"):   # x > 709: the ratio 0; tau = 0: inf
            ratio = np.divide(x, np.expm1(x), out=np.ones(np.shape(x)), where=x > 0)
            return np.asarray(np.divide(ratio, d.kaniko_ttl_months))

    #: ``--cache-repo`` is one string (cmd/executor/cmd/root.go): one cache source.
    single_cache_source: ClassVar[bool] = True

    def fork_reuse_share(self, d: Drivers) -> Arr:
        """The patch's ``--cache-repo`` is upstream's fixed path
        (``$CI_REGISTRY/qemu-project/qemu/qemu/$NAME-cache``): a fork's job reads it when
        it may read upstream's registry (R, drawn yes/no) and otherwise has no cache."""
        return d.fork_reads_upstream

    def fork_change_builds_share(self, d: Drivers) -> Arr:
        """A fork cannot push to upstream's cache repository (kaniko only warns,
        pkg/executor/build.go), so a fork that changed an image rebuilds from the changed
        step on every pipeline carrying the change: ``min(1, d*n)``.

        Example: d = 0.02, n = 3: 0.06 of fork builds (dind: 0.02)."""
        return np.minimum(1.0, np.multiply(d.fork_change_share, d.fork_pipelines_per_change))

    def extra_gib(self, d: Drivers, accounting: str) -> Arr:
        """The current cache sets (one per kept tag): RUN-layer bytes, counted again
        per tag; under dedup free when the layers share the image's digests
        (``kaniko_digest_shared`` = 1), so ``(1 - shared) * T*r*S``."""
        share = d.kaniko_cache_bytes_share          # per sample: the image columns once
        if accounting == "root-namespace-dedup":
            share = np.multiply(np.subtract(1.0, d.kaniko_digest_shared), share)
        return np.multiply(np.multiply(d.tags_kept, d.image_gib), share)

    def stale_gib_per_change(self, d: Drivers, accounting: str) -> Arr:
        """A change orphans the cache layers it rewrote: ``min(u, r) * S`` (both modes:
        no tagged image holds those layers any more; one array for both)."""
        return cast(Arr, self.part(d, "orphaned_gib_per_change"))

    def orphaned_gib_per_change(self, d: Drivers) -> Arr:
        """GiB of cache layers a change orphans, per image: ``min(u, r) * S``."""
        return np.multiply(np.minimum(d.changed_bytes_share, d.kaniko_cache_bytes_share),
                           d.image_gib)

    def tags_per_change(self, d: Drivers) -> Arr:
        """One cache tag per RUN step the change rewrote, at least one: ``max(run_steps, 1)``
        tags per image, shape ``(I, 1)`` or ``(I, K)`` (kaniko tags each RUN layer)."""
        return np.maximum(d.run_steps, 1.0)

    def current_stale_repo_tags(self, d: Drivers) -> Arr:
        """The cache repository's current cache sets, one per kept tag: ``T`` (in sets
        of ``run_steps`` tags, the unit :meth:`tags_per_change` counts in)."""
        return d.tags_kept


@register
class NoCache(Strategy):
    """Always from scratch."""

    name = "no-cache"
    title = "no cache: every job builds from scratch"
    description = ("Every container job builds its image from scratch (docker build "
                   "--no-cache) and pushes it; nothing extra is stored.")

    def hit_minutes(self, d: Drivers) -> Arr:
        """Nothing is cached: a build with nothing changed still takes ``t_miss`` minutes."""
        return d.miss_min

    def change_minutes(self, d: Drivers) -> Arr:
        """A build after a change takes ``t_miss`` minutes, like every other build."""
        return d.miss_min

    def fork_reuse_share(self, d: Drivers) -> float:
        """No fork build reuses anything: 0 (a plain float, the same for every sample)."""
        return 0.0

    def fork_change_builds_share(self, d: Drivers) -> float:
        """Nothing is cached, so no build is a change build: 0."""
        return 0.0


@register
class RebuildOnChange(Strategy):
    """Content-addressed tags."""

    name = "rebuild-on-change"
    title = "rebuild on change: tag by input hash, skip when present"
    description = (
        "Images are tagged with a hash of their Dockerfile and inputs; the job checks the "
        "registry and skips the build when the tag exists. It rebuilds on input changes "
        "(with the inline cache) plus a scheduled full refresh, which overwrites the same "
        "tag (base-image refreshes need no new hash); every input change leaves the old "
        "hash tag behind, so it needs a cleanup policy (keep 5, delete older than 14 days).")
    cleanup = CleanupPolicy(keep_n=5, older_than_days=14)

    def hit_minutes(self, d: Drivers) -> Arr:
        """Nothing changed: the tag exists and the job only checks for it, so
        ``min(t_check, t_hit)`` minutes (never more than a cached build)."""
        return np.minimum(d.check_min, d.hit_min)

    def changes(self, d: Drivers) -> Arr:
        """Only input changes make a new hash; base-image refreshes are left out."""
        return d.input_changes_per_month

    def extra_full_builds_per_month(self, d: Drivers) -> Arr:
        """The scheduled full refreshes, ``R`` builds per image per month (they pick up
        base-image updates that no input hash sees)."""
        return d.refresh_per_month

    def stale_gib_per_change(self, d: Drivers, accounting: str) -> Arr:
        """An old hash tag: its whole size per tag; under dedup only the rewritten layers."""
        if accounting == "per-tag":
            return d.image_gib
        return np.multiply(d.changed_bytes_share, d.image_gib)


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

    def extra_gib(self, d: Drivers, accounting: str) -> Arr:
        """One cache manifest per kept tag holding the final-stage layers: ``T*S`` GiB per
        image counted per tag; 0 under root-namespace dedup (the image's own layers)."""
        if accounting == "per-tag":
            return np.multiply(d.tags_kept, d.image_gib)
        return 0.0


@register
class BuildkitRegistryCacheMax(Strategy):
    """Separate cache ref, max mode."""

    name = "buildkit-registry-cache-max"
    title = "BuildKit registry cache, mode=max"
    description = (
        "As mode=min, but the cache ref also exports every layer of intermediate stages: "
        "for a multi-stage Dockerfile more bytes (new ones even under dedup) and cheaper "
        "rebuilds after a change; for a single-stage one the same as mode=min.")

    def change_minutes(self, d: Drivers) -> Arr:
        """``t_change - saving * multi_stage * (t_change - t_hit)``. A single-stage
        image's row is t_change as it is (multi_stage 0), so only the multi-stage rows
        are computed; with none, t_change itself is returned (BuildKit min's array)."""
        change, hit = np.asarray(d.change_min), np.asarray(d.hit_min)
        multi = np.asarray(d.is_multi_stage, dtype=float)
        if multi.ndim != 2 or change.ndim != 2 or multi.shape[0] != change.shape[0]:
            return cast(Arr, np.subtract(change, np.multiply(
                np.multiply(d.buildkit_max_change_saving, multi), np.subtract(change, hit))))
        rows = np.flatnonzero(np.any(multi != 0.0, axis=1))
        if rows.size == 0:
            return d.change_min
        saving = np.multiply(d.buildkit_max_change_saving, multi[rows])
        changed = np.subtract(change[rows], np.multiply(
            saving, np.subtract(change[rows], hit[rows] if hit.shape[0] > 1 else hit)))
        out = np.array(np.broadcast_to(change, (change.shape[0], max(change.shape[1],
                                                                   changed.shape[1]))))
        out[rows] = changed
        return out

    def extra_gib(self, d: Drivers, accounting: str) -> Arr:
        """Intermediate-stage layers, multi-stage images only: ``T*x*S*multi``."""
        intermediate = np.multiply(            # per-image columns first, then per sample
            np.multiply(np.multiply(d.tags_kept, d.is_multi_stage), d.image_gib),
            d.buildkit_max_extra_share)
        if accounting == "per-tag":
            return np.add(np.multiply(d.tags_kept, d.image_gib), intermediate)
        return intermediate


STRATEGY_NAMES: tuple[str, ...] = tuple(STRATEGIES)
