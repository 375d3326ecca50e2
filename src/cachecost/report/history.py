"""What the CI history says: tidy tables behind the ``01-ci-history`` notebook.

Every function takes a :class:`cachecost.dataset.io.Dataset` and returns a tidy
DataFrame (one row per observation, units in the column names) that a
:mod:`cachecost.report.figures` builder draws. Nothing here plots or prints.

    ds = load_dataset()
    count_pipelines_per_month(ds)          # month, source, pipelines
    summarize_build_durations(ds)          # image, build, jobs, p10..p90 minutes

Cached or not: a container build is *cached* when its log said ``hit``
(``jobs.cache_outcome``) and *uncached* when it said ``partial`` or ``miss``.
Most builds carry no log outcome; :func:`classify_container_builds` then uses
the cost model's own split, :func:`cachecost.model.calibrate.split_durations`, per
image (on a log scale, the first wide gap above the median separates cached
builds from rebuilds; logged outcomes move the threshold), so this page and
the model count the same builds as rebuilds. Failed and canceled jobs are not
classified: their durations are cut short.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from cachecost.dataset.io import Dataset, project_registry_size
from cachecost.model.calibrate import split_durations

#: Quantiles reported by the summaries (also the whiskers/box of the box plots).
QUANTILES = {"p10": 0.10, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p90": 0.90}
#: Log outcomes that mean the build was (not) served from cache.
_CACHED_OUTCOMES = {"hit": True, "partial": False, "miss": False}


def _naive_utc(ts: pd.Series) -> pd.Series:
    """Drop the UTC zone (periods cannot carry one) without shifting the clock."""
    return cast(pd.Series, ts.dt.tz_convert("UTC").dt.tz_localize(None))


def _month(ts: pd.Series) -> pd.Series:
    """Return ``YYYY-MM`` labels of UTC timestamps."""
    return cast(pd.Series, _naive_utc(ts).dt.to_period("M").astype(str))


def _week_start(ts: pd.Series) -> pd.Series:
    """Return the Monday (UTC date) starting each timestamp's ISO week."""
    return cast(pd.Series, _naive_utc(ts).dt.to_period("W-SUN").dt.start_time)


def _quantile_frame(grouped: Any, column: str, scale: float = 1.0) -> pd.DataFrame:
    """Count and :data:`QUANTILES` of ``column`` per group, divided by ``scale``."""
    out = grouped[column].agg(["count"]).rename(columns={"count": "jobs"})
    for label, q in QUANTILES.items():
        out[label] = grouped[column].quantile(q) / scale
    return cast(pd.DataFrame, out.reset_index())


def _container_jobs(ds: Dataset) -> pd.DataFrame:
    jobs = ds.jobs
    return jobs[jobs["is_container_build"].astype(bool)].copy()


# --------------------------------------------------------------------------- pipelines


def count_pipelines_per_month(ds: Dataset) -> pd.DataFrame:
    """Pipelines created per calendar month (UTC) and source.

    Columns: ``month`` (``YYYY-MM``), ``source``, ``pipelines``; every
    month x source pair that occurs at least once, sorted by month then source.
    """
    p = ds.pipelines.dropna(subset=["created_at"])
    frame = pd.DataFrame({"month": _month(p["created_at"]),
                          "source": p["source"].fillna("unknown").astype(str)})
    out = frame.groupby(["month", "source"]).size().rename("pipelines").reset_index()
    return out.sort_values(["month", "source"], ignore_index=True)


# --------------------------------------------------------------------------- container builds


def classify_container_builds(ds: Dataset) -> pd.DataFrame:
    """Label each successful container build cached or uncached (see the module doc).

    Columns: ``job_id``, ``pipeline_id``, ``name``, ``image``, ``created_at``,
    ``duration_s``, ``cache_outcome`` (from the log, or null), ``is_cached``
    (bool), ``classified_by`` (``"log"`` or ``"duration split"``).
    Jobs without an image or a duration are left out.
    """
    jobs = _container_jobs(ds)
    jobs = jobs[(jobs["status"] == "success") & jobs["duration_s"].notna()
                & jobs["image"].notna()]
    cols = ["job_id", "pipeline_id", "name", "image", "created_at", "duration_s",
            "cache_outcome"]
    out = jobs[cols].reset_index(drop=True)
    out["image"] = out["image"].astype(str)
    outcome = out["cache_outcome"].astype(object)
    is_rebuild = pd.Series(False, index=out.index)
    for _, part in out.groupby("image"):
        mask = split_durations(part["duration_s"].to_numpy(dtype=float) / 60.0,
                               outcome[part.index].to_numpy(dtype=object))
        is_rebuild[part.index] = mask
    from_log = outcome.map(_CACHED_OUTCOMES)  # NaN for null/"unknown"
    has_log = from_log.notna().to_numpy()
    out["is_cached"] = np.where(has_log, from_log.fillna(False).astype(bool),
                                ~is_rebuild.to_numpy(dtype=bool)).astype(bool)
    out["classified_by"] = np.where(has_log, "log", "duration split")
    return out


def summarize_build_durations(ds: Dataset) -> pd.DataFrame:
    """Container-build minutes per image, cached vs uncached.

    Columns: ``image``, ``build`` (``"cached"``/``"uncached"``), ``jobs``, and
    ``p10``, ``p25``, ``p50``, ``p75``, ``p90`` in minutes. Pairs with no
    build are absent. Sorted by image, cached first.
    """
    builds = classify_container_builds(ds)
    builds["build"] = np.where(builds["is_cached"], "cached", "uncached")
    out = _quantile_frame(builds.groupby(["image", "build"]), "duration_s", scale=60.0)
    return out.sort_values(["image", "build"], ignore_index=True)


def compute_cache_outcome_rate(ds: Dataset) -> pd.DataFrame:
    """Weekly share of cache outcomes among container builds.

    Two bases, kept apart: ``"sampled logs"`` (the jobs whose build log was
    read: shares of ``hit``/``partial``/``miss``/``unknown``) and
    ``"inferred"`` (every classified build, log or duration split: shares of
    ``cached``/``uncached``). Columns: ``week`` (Monday, UTC), ``basis``,
    ``outcome``, ``jobs``, ``share`` (0..1 within week and basis).
    """
    jobs = _container_jobs(ds).dropna(subset=["created_at"])
    logged = jobs[jobs["cache_outcome"].notna()]
    sampled = pd.DataFrame({
        "week": _week_start(logged["created_at"]),
        "basis": "sampled logs",
        "outcome": logged["cache_outcome"].astype(str),
    })
    builds = classify_container_builds(ds)
    inferred = pd.DataFrame({
        "week": _week_start(builds["created_at"]),
        "basis": "inferred",
        "outcome": np.where(builds["is_cached"], "cached", "uncached"),
    })
    both = pd.concat([sampled, inferred], ignore_index=True)
    if both.empty:
        return pd.DataFrame({"week": pd.Series(dtype="datetime64[us]"), "basis": [],
                             "outcome": [], "jobs": pd.Series(dtype="int64"),
                             "share": pd.Series(dtype="float64")})
    counts = both.groupby(["week", "basis", "outcome"]).size().rename("jobs").reset_index()
    totals = counts.groupby(["week", "basis"])["jobs"].transform("sum")
    counts["share"] = counts["jobs"] / totals
    return counts.sort_values(["basis", "week", "outcome"], ignore_index=True)


# --------------------------------------------------------------------------- queues


def summarize_queue_times(ds: Dataset) -> pd.DataFrame:
    """How long work waited for a runner, in seconds.

    One row per level: ``"pipelines"`` (``pipelines.queued_duration_s``),
    ``"container jobs"`` and ``"other jobs"`` (``jobs.queued_duration_s``).
    Columns: ``level``, ``jobs`` (observations with a known queue time),
    ``p10``..``p90`` in seconds, and ``max_s``.
    """
    jobs = ds.jobs
    parts = [
        pd.DataFrame({"level": "pipelines", "queued_duration_s":
                      ds.pipelines["queued_duration_s"].astype(float)}),
        pd.DataFrame({"level": np.where(jobs["is_container_build"].astype(bool),
                                        "container jobs", "other jobs"),
                      "queued_duration_s": jobs["queued_duration_s"].astype(float)}),
    ]
    tidy = pd.concat(parts, ignore_index=True).dropna(subset=["queued_duration_s"])
    grouped = tidy.groupby("level")
    out = _quantile_frame(grouped, "queued_duration_s")
    out["max_s"] = grouped["queued_duration_s"].max().to_numpy()
    order = {"pipelines": 0, "container jobs": 1, "other jobs": 2}
    return out.sort_values("level", key=lambda s: s.map(order), ignore_index=True)


# --------------------------------------------------------------------------- registry


def summarize_registry_size(ds: Dataset) -> pd.DataFrame:
    """Registry bytes per repository.

    Columns: ``repository`` (name within the project), ``image`` (null if
    unmapped), ``is_cache_repository``, ``tags``, ``tag_sum_bytes`` (sum of
    each tag's total size: shared layers counted again, the figure per-project
    views show) and ``dedup_bytes`` (the repository's deduplicated size where
    the server reported it, NaN otherwise). Largest tag sum first.
    """
    repos = ds.registry_repositories
    tags = ds.registry_tags
    tag_sum = tags.groupby("repository_id")["total_size_bytes"].sum(min_count=1)
    tag_count = tags.groupby("repository_id").size()
    ids = repos["repository_id"]
    out = pd.DataFrame({
        "repository": repos["name"].astype(str).to_numpy(),
        "image": repos["image"].to_numpy(),
        "is_cache_repository": repos["is_cache_repository"].astype(bool).to_numpy(),
        "tags": ids.map(tag_count).fillna(0).astype("int64").to_numpy(),
        "tag_sum_bytes": ids.map(tag_sum).fillna(0.0).astype(float).to_numpy(),
        "dedup_bytes": repos["size_bytes"].astype(float).to_numpy(),
    })
    return out.sort_values(["tag_sum_bytes", "repository"], ascending=[False, True],
                           ignore_index=True)


# --------------------------------------------------------------------------- billing


def sum_billed_build_minutes(ds: Dataset) -> pd.DataFrame:
    """Runner minutes spent on container builds per month (UTC, by job start).

    Every attempt that ran is billed, retried ones and failures included; a
    canceled job that never started has no duration and costs nothing.
    Columns: ``month``, ``attempt`` (``"retried attempt"`` for jobs a later
    attempt replaced, ``"final attempt"`` otherwise), ``jobs``, ``minutes``.
    """
    jobs = _container_jobs(ds)
    ran = jobs[jobs["duration_s"].notna()]
    when = ran["started_at"].fillna(ran["created_at"])
    frame = pd.DataFrame({
        "month": _month(when),
        "attempt": np.where(ran["is_retried"].astype(bool), "retried attempt", "final attempt"),
        "minutes": ran["duration_s"].astype(float) / 60.0,
    })
    grouped = frame.groupby(["month", "attempt"])["minutes"]
    out = grouped.agg(jobs="count", minutes="sum").reset_index()
    return out.sort_values(["month", "attempt"], ignore_index=True)


# --------------------------------------------------------------------------- measured inputs


def list_image_changes(ds: Dataset) -> pd.DataFrame:
    """Measured change events: one row per (image, commit) from the ``image_changes`` table.

    Columns: ``image``, ``commit`` (short SHA), ``time`` (UTC), ``paths`` (the inputs it
    touched, joined by ", "). Sorted by time. Empty when the dataset has none.
    """
    changes = ds.image_changes
    cols = ["image", "commit", "time", "paths"]
    if changes is None or changes.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out = (changes.groupby(["image", "commit"], as_index=False)
           .agg(time=("time", "min"), paths=("path", lambda p: ", ".join(sorted(set(p))))))
    out["commit"] = out["commit"].astype(str).str[:8]
    return out[cols].sort_values(["time", "image"], ignore_index=True)


def summarize_fork_activity(ds: Dataset) -> pd.DataFrame:
    """The sampled active forks: one row per fork with its pipelines in the window.

    Columns: ``fork`` (path), ``owner``, ``pipelines``, ``image_change_pipelines``,
    ``other_pipelines``. Most pipelines first. Empty when no fork was sampled.
    """
    forks = ds.forks
    cols = ["fork", "owner", "pipelines", "image_change_pipelines", "other_pipelines"]
    if forks is None or forks.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    s = forks[forks["is_sampled"] & forks["is_active"]]
    pipes = s["pipelines"].astype("float64").fillna(0).astype("int64")
    changing = s["image_change_pipelines"].astype("float64").fillna(0).astype("int64")
    out = pd.DataFrame({"fork": s["path"].astype(str).to_numpy(),
                        "owner": s["owner"].astype(str).to_numpy(),
                        "pipelines": pipes.to_numpy(),
                        "image_change_pipelines": changing.to_numpy(),
                        "other_pipelines": (pipes - changing).to_numpy()})
    return out.sort_values(["pipelines", "fork"], ascending=[False, True], ignore_index=True)


def fork_activity_figures(ds: Dataset) -> dict[str, float | int | str] | None:
    """The fork figures the model uses, as measured (p50), and how they were sampled.

    Keys: ``forks_listed``, ``forks_active``, ``forks_sampled``, ``sampling_fraction``,
    ``pipelines_per_month``, ``owners``, ``image_change_share`` (per image),
    ``read_at`` (YYYY-MM-DD). None when the dataset has no sampled fork.
    """
    from cachecost.model.measured import fork_measured_summary

    forks = ds.forks
    est = fork_measured_summary(ds)
    if forks is None or est is None:
        return None
    return {"forks_listed": len(forks), "forks_active": int(forks["is_active"].sum()),
            "forks_sampled": int((forks["is_active"] & forks["is_sampled"]).sum()),
            "sampling_fraction": float(forks["sampling_fraction"].iloc[0]),
            **est, "read_at": pd.Timestamp(forks["read_at"].max()).strftime("%Y-%m-%d")}


def registry_usage_frame(ds: Dataset) -> pd.DataFrame:
    """The registry as GitLab counted it when the data was fetched.

    One row per level: ``"this project"`` (``container_registry_size``, project
    statistics) and ``"root namespace <path>"`` (GraphQL ``rootStorageStatistics``, what
    counts against the namespace's quota). Columns: ``level``, ``size_bytes``,
    ``is_estimated`` (null for the project), ``read_at`` (ISO UTC). Empty if not read.
    """
    usage = ds.metadata.get("registry_usage") or {}
    rows = []
    # a figure below the project's own tags was not measured (a dataset fetched before
    # that was checked may hold GitLab's 0): no bar for it
    project, _ = project_registry_size(usage.get("container_registry_size_bytes"),
                                       ds.registry_tags["total_size_bytes"])
    if project is not None:
        rows.append({"level": "this project", "size_bytes": float(project),
                     "is_estimated": None, "read_at": usage.get("read_at")})
    if usage.get("namespace_container_registry_size_bytes") is not None:
        rows.append({"level": f"root namespace {usage.get('namespace')}",
                     "size_bytes": float(usage["namespace_container_registry_size_bytes"]),
                     "is_estimated": usage.get("is_estimated"), "read_at": usage.get("read_at")})
    return pd.DataFrame(rows, columns=["level", "size_bytes", "is_estimated", "read_at"])
