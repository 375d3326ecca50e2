"""Calibrate the cost model from a dataset: per image, what building it costs today.

For every CI image the model needs build minutes (cached, after a change, from
scratch), how often its inputs change, how many builds run, and its size in
the registry. :func:`calibrate` derives them from a
:class:`~cachecost.dataset.io.Dataset`::

    cal = calibrate(load_dataset())
    cal.images.loc["debian-hexagon-cross", ["cached_build_min", "uncached_build_min"]]

Method (``docs/model.md`` has the long form)
--------------------------------------------
* Window: ``months_of_data`` = span of pipeline creation times / 30.4375 days.
* ``builds_per_month``: successful container jobs of the image / months;
  ``failed_min_per_month``: the measured minutes of its failed and canceled
  jobs / months (a failed job costs its own minutes, not a cached build's).
* **Split of the durations into cached builds and rebuilds.** Successful build
  durations of one image, on a log scale, sorted. Cached builds dominate, so
  the median is a cached build. The threshold is the middle (in log) of the
  first gap above the median wider than ``GAP_RATIO`` (25 %): a cluster of
  rebuilds tens of minutes long sits well apart from a few-minute cached
  cluster. Where build logs were read (``jobs.cache_outcome``), they take
  precedence: the threshold is raised above every logged ``hit`` and lowered
  below every logged ``miss``. A logged ``partial`` is evidence of neither
  (a BuildKit build with a changed ``COPY`` reruns every later step; a kaniko
  build always runs its ``COPY``/``WORKDIR``, so one whose ``RUN`` layers all
  hit is a cached build in time, and the dataset's step counts do not say
  which kind of step ran): its duration alone places it. No gap and no logged
  rebuild means the image was never rebuilt in the window.
* ``cached_build_min``: mean of logged hits when there are at least 3, else
  the mean of the cached class (minutes are summed, so the typical build is a
  mean, not a median).
* ``uncached_build_min``: mean of logged misses when any, else the mean of
  the upper half of the rebuild class (partial rebuilds fill its lower half);
  NaN when the image was never rebuilt (the model then uses the scenario's
  ``uncached_to_cached_ratio``).
* ``change_build_min``: mean of the rebuild class (full and partial rebuilds): the
  expected cost of a build after a change.
* ``changes_per_month``: measured change commits of the image's inputs / months where
  the dataset has them (:mod:`cachecost.model.measured`), else pipelines with a rebuild
  of the image / months; ``changes_method`` says which. ``change_events`` of them in
  the window: the Monte Carlo draws the rate from its Gamma-Poisson posterior
  (:mod:`cachecost.model.uncertainty`).
* Registry: ``compressed_size_gib`` is the ``latest`` tag's size (else the
  largest tag), ``per_tag_gib`` sums the image's tag sizes, ``tags_kept``
  counts them. ``dedup_gib`` counts each layer once: measured unique blob bytes
  when the dataset has a ``registry_layers`` table (blobs shared across images
  count for the first image by name), else the repositories' deduplicated
  ``size_bytes``, else the per-tag sum (an overestimate, flagged). Tagged
  cache repositories of an image count in its dedup bytes (GitLab counts every
  tagged manifest's layers); those mapping to no image are
  ``other_registry_gib``.
* ``is_multi_stage``: 1 for the images in :data:`MULTI_STAGE_IMAGES`, else 0.
* ``kaniko_hit_build_min``: NaN (the model adds pull-and-extract time to
  t_hit); a scenario override gives a measured kaniko all-hit build.
* CI minutes: ``other_minutes_per_month`` holds every measured CI minute that is
  not a mapped container build, including container jobs mapping to no image.
* ``run_steps``: median of logged ``run_steps`` (RUN steps per build), else 5
  (:func:`logged_run_steps`).
* ``monthly_minutes_cv`` (share): how much a calendar month's CI minutes vary, the
  coefficient of variation (sample sd / mean) of every job's minutes per full calendar
  month (UTC, by pipeline creation; a month the pipelines cover at least
  :data:`FULL_MONTH_COVERAGE` of, its minutes / coverage). GitLab bills each calendar
  month against the quota (:mod:`cachecost.model.money`). Fewer than
  :data:`MIN_CV_MONTHS` full months: 0, with the reason in ``notes``
  (:func:`monthly_minutes_cv`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cachecost.dataset.io import Dataset
from cachecost.errors import CachecostError
from cachecost.model.measured import MIN_CV_MONTHS, apply_image_changes, cv_interval

DAYS_PER_MONTH = 30.4375
GIB = 2.0**30
#: A gap in sorted build times wider than this ratio separates cached builds from rebuilds.
GAP_RATIO = 1.25
#: Logged hits needed before their median replaces the cached class's median.
MIN_LOGGED_HITS = 3
DEFAULT_RUN_STEPS = 5.0
#: Images with a multi-stage Dockerfile (BuildKit mode=max matters only for them):
#: emsdk-wasm32-cross (QEMU emsdk-wasm32-cross.docker; debian-hexagon-cross was made single-stage,
#: QEMU commit b9052d36). A scenario override ``is_multi_stage`` sets it per image.
MULTI_STAGE_IMAGES = ("emsdk-wasm32-cross",)
#: Compressed size of an image with no registry data: 1.5 GB uncompressed x 0.5
#: (dockcross sizes, rule of thumb), used only when no other image has a size either.
DEFAULT_IMAGE_GIB = 0.75e9 / GIB
#: share of a calendar month the pipelines must cover for it to count as a full month
#: (the backtest scores the same months)
FULL_MONTH_COVERAGE = 0.9

#: ``images["size_method"]`` of an image whose sizes are the fallback, not its registry's
FALLBACK_SIZE_METHOD = "fallback: no registry data"

COLUMNS = (
    "builds_per_month", "changes_per_month", "cached_build_min", "change_build_min",
    "uncached_build_min", "compressed_size_gib", "per_tag_gib", "dedup_gib", "tags_kept",
    "run_steps", "failed_min_per_month", "change_events", "is_multi_stage",
    "kaniko_hit_build_min",
)


@dataclass
class ImageSamples:
    """The measured builds one image's calibrated minutes rest on (minutes), for the
    bootstrap: ``hit`` (the builds t_hit is the mean of), ``rebuild`` (the rebuild
    class: t_change is its mean, t_miss the mean of its upper half unless ``miss``,
    logged misses, are given)."""

    hit: np.ndarray
    rebuild: np.ndarray
    miss: np.ndarray


@dataclass
class Calibration:
    """Per-image model inputs derived from data, plus dataset-wide figures."""

    images: pd.DataFrame                      # index: image; columns: COLUMNS + *_method
    months_of_data: float
    pipelines_per_month_by_source: dict[str, float]
    container_minutes_per_month: float        # measured container-build runner minutes
    other_minutes_per_month: float            # measured minutes of every other CI job
    dedup_method: str                         # registry_layers | repository size | tag sum
    notes: list[str] = field(default_factory=list)
    samples: dict[str, ImageSamples] = field(default_factory=dict)   # image -> its builds
    other_registry_gib: float = 0.0           # tagged cache repos mapping to no image
    monthly_minutes_cv: float = 0.0           # share: month-to-month spread of CI minutes
    monthly_minutes_months: int = 0           # full calendar months it was measured on
    overridden: list[tuple[str, str]] = field(default_factory=list)   # (image, column)

    @property
    def upstream_pipelines_per_month(self) -> float:
        """All upstream pipelines per month."""
        return float(sum(self.pipelines_per_month_by_source.values()))


def split_durations(duration_min: np.ndarray, outcomes: np.ndarray | None = None) -> np.ndarray:
    """Return a boolean mask: True for rebuilds, False for cached builds.

    ``duration_min`` are successful build durations of one image; ``outcomes``
    the logged cache outcome per build (None/NaN where the log was not read).
    A logged ``hit`` is a cached build and a logged ``miss`` a rebuild; a logged
    ``partial`` (or ``unknown``) moves nothing: the duration split places it, as
    it places a build whose log was not read.
    """
    d = np.asarray(duration_min, dtype=float)
    if d.size == 0:
        return np.zeros(0, dtype=bool)
    logs = np.log(np.maximum(d, 1e-6))
    order = np.sort(logs)
    median = float(np.median(logs))
    threshold = np.inf
    for lo, hi in zip(order[:-1], order[1:], strict=True):
        if lo >= median and hi - lo > np.log(GAP_RATIO):
            threshold = 0.5 * (lo + hi)
            break
    if outcomes is not None:
        out = pd.Series(outcomes, dtype=object)
        hits = logs[(out == "hit").to_numpy()]
        rebuilds = logs[(out == "miss").to_numpy()]
        if len(hits) and threshold <= hits.max():
            above = order[order > hits.max()]
            threshold = 0.5 * (hits.max() + above.min()) if len(above) else np.inf
        if len(rebuilds) and threshold > rebuilds.min():
            below = order[order < rebuilds.min()]
            threshold = 0.5 * (below.max() + rebuilds.min()) if len(below) else -np.inf
    return np.asarray(logs > threshold)


def _image_minutes(jobs: pd.DataFrame, months: float
                   ) -> tuple[dict[str, float | str], ImageSamples]:
    """Calibrate one image's build minutes and change rate from its container jobs;
    return the row and the measured builds behind it (for the bootstrap)."""
    ran = jobs[jobs["duration_s"].notna()]
    ok = ran[ran["status"] == "success"]
    minutes = ok["duration_s"].to_numpy(dtype=float) / 60.0
    outcomes = ok["cache_outcome"].to_numpy(dtype=object)
    is_rebuild = split_durations(minutes, outcomes)
    cached, rebuilt = minutes[~is_rebuild], minutes[is_rebuild]
    logged = pd.Series(outcomes, dtype=object)
    logged_hits = minutes[(logged == "hit").to_numpy()]
    logged_misses = minutes[(logged == "miss").to_numpy()]
    failed = ran.loc[ran["status"] != "success", "duration_s"].sum() / 60.0
    row: dict[str, float | str] = {"builds_per_month": len(ok) / months,
                                   "failed_min_per_month": float(failed) / months}
    hit_sample = logged_hits if len(logged_hits) >= MIN_LOGGED_HITS else cached
    if len(logged_hits) >= MIN_LOGGED_HITS:
        row["cached_method"] = f"mean of {len(logged_hits)} logged hits"
    else:
        row["cached_method"] = f"mean of the cached class ({len(cached)} builds)"
    row["cached_build_min"] = float(np.mean(hit_sample)) if len(hit_sample) else np.nan
    if len(logged_misses):
        row["uncached_build_min"] = float(np.mean(logged_misses))
        row["uncached_method"] = f"mean of {len(logged_misses)} logged misses"
    elif len(rebuilt):
        row["uncached_build_min"] = float(np.mean(upper_half(rebuilt)))
        row["uncached_method"] = f"mean of the upper half of {len(rebuilt)} rebuilds"
    else:
        row["uncached_build_min"] = np.nan
        row["uncached_method"] = "no rebuild in the window: scenario ratio x cached"
    row["change_build_min"] = float(np.mean(rebuilt)) if len(rebuilt) else np.nan
    rebuild_pipelines = ok.loc[is_rebuild, "pipeline_id"].nunique()
    row["change_events"] = float(rebuild_pipelines)
    row["changes_per_month"] = rebuild_pipelines / months
    row["run_steps"] = logged_run_steps(jobs)
    return row, ImageSamples(hit=np.asarray(hit_sample, dtype=float),
                             rebuild=np.asarray(rebuilt, dtype=float),
                             miss=np.asarray(logged_misses, dtype=float))


def monthly_minutes(ds: Dataset) -> pd.Series:
    """Every CI job's minutes per full calendar month (index ``YYYY-MM``, UTC, by the
    pipeline's ``created_at``), each divided by the share of the month the pipelines
    cover; months covered less than :data:`FULL_MONTH_COVERAGE` are left out."""
    created = ds.pipelines.set_index("pipeline_id")["created_at"].dropna()
    if created.empty:
        return pd.Series(dtype=float)
    utc = created.dt.tz_convert("UTC").dt.tz_localize(None)
    lo, hi = utc.min(), utc.max()
    month = utc.dt.to_period("M")
    jobs = ds.jobs[["pipeline_id", "duration_s"]]
    minutes = (jobs["duration_s"].groupby(jobs["pipeline_id"].map(month)).sum() / 60.0)
    out: dict[str, float] = {}
    for p in pd.period_range(lo.to_period("M"), hi.to_period("M"), freq="M"):
        start, end = p.start_time, (p + 1).start_time
        coverage = (min(end, hi) - max(start, lo)) / (end - start)
        if coverage >= FULL_MONTH_COVERAGE:
            out[p.strftime("%Y-%m")] = float(minutes.get(p, 0.0)) / coverage
    return pd.Series(out, dtype=float)


def monthly_minutes_cv(ds: Dataset) -> tuple[float, int, str]:
    """(coefficient of variation, full months, a one-line note) of the CI minutes of
    :func:`monthly_minutes`: sample sd (ddof 1) / mean; 0 with fewer than
    :data:`MIN_CV_MONTHS` full months or no minutes (the note says why).

    Hand-worked: months of 90, 100 and 110 minutes: mean 100, sd sqrt((100 + 0 + 100)
    / 2) = 10, cv 0.1."""
    per_month = monthly_minutes(ds)
    n = len(per_month)
    if n < MIN_CV_MONTHS or not per_month.mean() > 0:
        return 0.0, n, (f"month-to-month spread: {n} full calendar month(s) of CI minutes, "
                        f"fewer than {MIN_CV_MONTHS}: taken as 0 (every month the mean)")
    cv = float(per_month.std(ddof=1) / per_month.mean())
    low, high = cv_interval(cv, n)
    return cv, n, (f"month-to-month spread (a quota is billed per calendar month, so busy "
                   f"months cost more than quiet ones save): CI minutes of {n} full "
                   f"calendar months {per_month.index[0]}..{per_month.index[-1]} run "
                   f"{per_month.min():,.0f}-{per_month.max():,.0f}, coefficient of "
                   f"variation {cv:.3f} (80 % interval about {low:.3f}-{high:.3f} on {n} "
                   f"months, which the model draws it from)")


def logged_run_steps(jobs: pd.DataFrame) -> float:
    """RUN steps per build of one image (the model's ``run_steps``, kaniko's cache tags per
    change): the median over its logged builds of ``jobs.run_steps`` (the RUN instructions
    the log shows, cached or executed), else :data:`DEFAULT_RUN_STEPS`.

    A build read before that column existed (``run_steps`` null, the step counts known)
    counts ``cached_steps + executed_steps`` instead: every ``RUN``, ``COPY``, ``ADD`` and
    ``WORKDIR``, an upper bound on its RUN steps (kaniko pushes one cache layer per ``RUN``
    it executes, ``pkg/executor/build.go``; ``COPY`` only under ``--cache-copy-layers``).
    """
    steps = jobs["cached_steps"].astype("Float64") + jobs["executed_steps"].astype("Float64")
    if "run_steps" in jobs.columns:
        runs = jobs["run_steps"].astype("Float64")
        steps = runs.where(runs.notna(), steps)
    steps = steps.dropna()
    return float(steps.median()) if len(steps) else DEFAULT_RUN_STEPS


def upper_half(values: np.ndarray) -> np.ndarray:
    """The upper half of a sample (its largest ceil(n/2) values): the full rebuilds
    of a rebuild class whose lower half is partial rebuilds."""
    v = np.sort(np.asarray(values, dtype=float))
    return v[len(v) // 2:]


def _registry(ds: Dataset) -> tuple[pd.DataFrame, str]:
    """Per image: compressed size, per-tag sum, dedup size, tags kept (bytes -> GiB)."""
    all_repos = ds.registry_repositories[ds.registry_repositories["image"].notna()]
    repos = all_repos[~all_repos["is_cache_repository"].fillna(False).astype(bool)]
    tags = ds.registry_tags.merge(repos[["repository_id", "image"]], on="repository_id")
    rows = {}
    for image, grp in tags.groupby("image"):
        latest = grp.loc[grp["tag_name"] == "latest", "total_size_bytes"].dropna()
        size = latest.iloc[0] if len(latest) else grp["total_size_bytes"].max()
        rows[image] = {
            "compressed_size_gib": float(size) / GIB,
            "per_tag_gib": float(grp["total_size_bytes"].fillna(0).sum()) / GIB,
            "tags_kept": float(len(grp)),
        }
    # the columns exist even when no repository maps to an image (no registry at all)
    out = pd.DataFrame.from_dict(rows, orient="index", columns=[
        "compressed_size_gib", "per_tag_gib", "tags_kept", "dedup_gib"]).astype(float)
    layers = ds.registry_layers
    if layers is not None and len(layers):
        paths = all_repos.set_index("path")["image"]      # cache repos' tagged layers count
        blobs = layers.assign(image=layers["repository_path"].map(paths)).dropna(subset=["image"])
        unique = blobs.sort_values(["image", "blob_digest"]).drop_duplicates("blob_digest")
        out["dedup_gib"] = unique.groupby("image")["size_bytes"].sum() / GIB
        return out, "registry_layers (unique blob bytes per root namespace)"
    repo_sizes = all_repos.groupby("image")["size_bytes"].sum(min_count=1)
    # per image: its repositories' sizes where GitLab gave any, else its tag sum
    dedup = repo_sizes.reindex(out.index) / GIB
    if len(out) and dedup.notna().all():
        out["dedup_gib"] = dedup
        return out, "repository size_bytes (deduplicated within each repository)"
    if len(out):
        out["dedup_gib"] = dedup.fillna(out["per_tag_gib"])
    if len(out) and dedup.notna().any():
        return out, (f"repository size_bytes for {int(dedup.notna().sum())} of {len(out)} "
                     "images, the sum of tag sizes for the rest (no dedup figure in the "
                     "data for them: an overestimate)")
    return out, "sum of tag sizes (no dedup figure in the data: an overestimate)"


def _unmapped_cache_gib(ds: Dataset) -> float:
    """Tagged cache repositories that map to no image: GiB GitLab counts all the same."""
    repos = ds.registry_repositories
    lost = repos[repos["image"].isna() & repos["is_cache_repository"].fillna(False).astype(bool)]
    return float(lost["size_bytes"].fillna(0).sum()) / GIB


def calibrate(ds: Dataset, overrides: dict[str, dict[str, float]] | None = None,
              *, source: object = "scenario") -> Calibration:
    """Derive the per-image model inputs from a dataset; apply scenario overrides.

    ``overrides`` maps an image name (or ``"*"`` for every image) to column values;
    ``source`` names where they came from in error messages (the scenario file).
    Raises CachecostError when the dataset has no container build with a duration.
    """
    jobs = ds.jobs
    # every job's minutes land in exactly one total: image builds, or every other job
    # (a container-stage job with no known image included)
    is_image_build = jobs["is_container_build"].astype(bool) & jobs["image"].notna()
    container = jobs[is_image_build]
    if not container["duration_s"].notna().any():
        raise CachecostError(f"{ds.path}: no container-build job with a duration; "
                             "cannot calibrate the model")
    created = ds.pipelines["created_at"].dropna()
    span_days = (created.max() - created.min()).total_seconds() / 86400 if len(created) else 0
    months = max(span_days, 1.0) / DAYS_PER_MONTH
    notes: list[str] = []

    per_image = {image: _image_minutes(grp, months) for image, grp in container.groupby("image")}
    images = pd.DataFrame.from_dict({k: v[0] for k, v in per_image.items()},
                                    orient="index").sort_index()
    images["is_multi_stage"] = [float(i in MULTI_STAGE_IMAGES) for i in images.index]
    images["kaniko_hit_build_min"] = np.nan
    apply_image_changes(images, ds, months, notes)     # measured change events, if any
    registry, dedup_method = _registry(ds)
    images = images.join(registry, how="left")
    missing = images["compressed_size_gib"].isna()
    images["size_method"] = "registry"
    if missing.any():
        fallback = registry["compressed_size_gib"].median() if len(registry) else np.nan
        fallback = DEFAULT_IMAGE_GIB if np.isnan(fallback) else float(fallback)
        notes.append(f"{int(missing.sum())} image(s) without registry data use a "
                     f"compressed size of {fallback:.2f} GiB")
        images.loc[missing, ["compressed_size_gib", "per_tag_gib", "dedup_gib"]] = fallback
        images.loc[missing, "tags_kept"] = 1.0
        images.loc[missing, "size_method"] = FALLBACK_SIZE_METHOD
    images["dedup_gib"] = images["dedup_gib"].fillna(images["per_tag_gib"])
    dropped = images.index[images["cached_build_min"].isna()]
    if len(dropped):
        notes.append(f"skipped {len(dropped)} image(s) with no successful build: "
                     + ", ".join(dropped))
        images = images.drop(index=dropped)
    if images.empty:
        raise CachecostError(f"{ds.path}: no image has a successful container build; "
                             "cannot calibrate the model")

    by_source = (ds.pipelines.groupby("source").size() / months).sort_index()
    # every CI minute that is not a mapped image build: other jobs and container-stage
    # jobs mapping to no image (same runners, same quota)
    other = jobs.loc[~is_image_build, "duration_s"].sum() / 60.0 / months
    cv, cv_months, cv_note = monthly_minutes_cv(ds)
    notes.append(cv_note)
    cal = Calibration(
        images=images,
        months_of_data=months,
        pipelines_per_month_by_source={str(k): float(v) for k, v in by_source.items()},
        container_minutes_per_month=float(container["duration_s"].sum() / 60.0 / months),
        other_minutes_per_month=float(other),
        dedup_method=dedup_method,
        notes=notes,
        samples={str(k): v[1] for k, v in per_image.items() if k in images.index},
        other_registry_gib=_unmapped_cache_gib(ds),
        monthly_minutes_cv=cv,
        monthly_minutes_months=cv_months,
    )
    apply_overrides(cal, overrides or {}, source=source)
    return cal


def apply_overrides(cal: Calibration, overrides: dict[str, dict[str, float]],
                    *, source: object = "scenario") -> None:
    """Replace calibrated values in place (``"*"`` first, then named images)."""
    for image in sorted(overrides, key=lambda k: k != "*"):
        targets = list(cal.images.index) if image == "*" else [image]
        if image != "*" and image not in cal.images.index:
            raise CachecostError(f"{source}: overrides.{image}: no such image in the data; "
                                 f"expected one of {', '.join(cal.images.index)}")
        for column, value in overrides[image].items():
            cal.images.loc[targets, column] = float(value)
            if column == "uncached_build_min":
                cal.images.loc[targets, "uncached_method"] = "scenario override"
            if column == "cached_build_min":
                cal.images.loc[targets, "cached_method"] = "scenario override"
            cal.overridden.extend((t, column) for t in targets)
