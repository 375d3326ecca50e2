"""Measurements from the dataset that replace the model's assumptions where present.

A fetch (:mod:`cachecost.collect.measure`) may store three kinds of data; each is
used when present and the model says which it used:

* **Image changes** (``image_changes`` table, ``metadata.image_inputs``): an image's
  ``changes_per_month`` = distinct commits on the default branch that touched its
  inputs (its Dockerfile) inside the pipelines' window / months of the window. Every
  such commit gives rebuild-on-change a new input-hash tag and kaniko new cache keys
  for the layers after the changed step (kaniko cache keys hash the command and its
  inputs: kaniko pkg/executor/build.go populateCompositeKey). An image the CI files name with no commit in the window
  measured 0 changes. Images the CI files do not name keep the duration split.
* **Fork activity** (``forks`` table): with ``s`` forks sampled of ``a`` active
  (fraction ``f = s/a``), ``P`` pipelines of the sampled forks in the ``M`` months from
  the window start to the upstream data's last pipeline, ``C``
  of them on a commit that changed an image, ``O`` distinct owners with a pipeline:
  ``forks.pipelines_per_month`` = P / f / M, ``forks.owners`` = O / f, and
  ``forks.image_change_share`` (per image) = C / P x k / N, where k is the mean number
  of images an upstream change commit touches and N the number of images. Each is a
  triangular distribution over the count +- 2 sqrt(count) (Poisson counting error).
  They replace the scenario's values only where the scenario leaves them at their
  defaults.
* **Registry usage** (``metadata.registry_usage``): the root namespace's
  ``containerRegistrySize`` counts every project of the namespace, the project's
  ``container_registry_size`` this one; the difference is registry storage of other
  projects that counts against the same quota, so it becomes
  ``storage.other_usage_gib`` when the scenario leaves that at its default. The
  figure and the date it was read are reported as "today".
* **Month-to-month spread** (the calibration's ``monthly_minutes_cv``, measured on at
  least 3 full calendar months): ``workload.monthly_minutes_cv`` when the scenario leaves
  it at its default.

    apply_image_changes(cal.images, ds, months, cal.notes)   # in calibrate()
    scenario = with_measured_inputs(scenario, ds, cal)       # in run_model()
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtri

from cachecost.dataset.io import Dataset
from cachecost.model.distributions import Distribution, fixed

GIB = 2.0**30
DAYS_PER_MONTH = 30.4375
DURATION_SPLIT = "duration split: pipelines with a rebuild of the image"


def _window(ds: Dataset) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    created = ds.pipelines["created_at"].dropna()
    return (created.min(), created.max()) if len(created) else None


def apply_image_changes(images: pd.DataFrame, ds: Dataset, months: float,
                        notes: list[str]) -> None:
    """Replace ``changes_per_month`` by measured change commits where the data has them.

    ``images`` is the calibration table (index: image), changed in place; it gains a
    ``changes_method`` column naming the source of each value. ``months`` is the
    pipelines' window in months (the calibration's ``months_of_data``).

    Hand-worked: 3 commits touching ``alpine.docker`` inside a 2-month window give
    alpine 1.5 changes/month; a named image with no commit gets 0.
    """
    images["changes_method"] = DURATION_SPLIT
    changes = ds.image_changes
    inputs = ds.metadata.get("image_inputs") or {}
    window = _window(ds)
    if changes is None or not inputs or window is None:
        notes.append("image changes: no measured change events in the data; "
                     "changes_per_month from the build-duration split")
        return
    lo, hi = window
    inside = changes[(changes["time"] >= lo) & (changes["time"] <= hi)]
    counts = inside.groupby("image")["commit"].nunique()
    measured = [i for i in images.index if i in inputs]
    for image in measured:
        n = int(counts.get(image, 0))
        images.loc[image, "changes_per_month"] = n / months
        images.loc[image, "change_events"] = float(n)      # the rate's posterior reads it
        images.loc[image, "changes_method"] = (
            f"measured: {n} commit(s) touching {', '.join(inputs[image])} in the window")
    rest = len(images) - len(measured)
    notes.append(f"image changes: measured change commits for {len(measured)} image(s)"
                 + (f"; {rest} image(s) not in the CI files use the build-duration split"
                    if rest else ""))


def _around(count: float, scale: float) -> Distribution:
    """Triangular over ``count +- 2 sqrt(count)`` (Poisson), times ``scale``."""
    if count <= 0:
        return fixed(0.0)
    half = 2.0 * math.sqrt(count)
    lo, hi = max(0.0, count - half), count + half
    return Distribution("triangular", (lo * scale, count * scale, hi * scale))


def fork_inputs(ds: Dataset) -> tuple[dict[str, Distribution], str] | None:
    """The fork inputs the ``forks`` table measures, and a one-line description; None if none.

    Hand-worked: 2 of 4 active forks sampled (f = 0.5), 30 pipelines in 3 months, 6 of
    them changing an image, 2 owners: 20 pipelines/month, 4 owners, and with upstream
    commits touching 2 images each out of 24: share 6/30 x 2/24 = 0.0167.
    """
    forks = ds.forks
    if forks is None or forks.empty:
        return None
    sampled = forks[forks["is_sampled"] & forks["is_active"]]
    fraction = float(forks["sampling_fraction"].iloc[0])
    if sampled.empty or not fraction > 0:
        return None
    start = forks["window_start"].min()
    created = ds.pipelines["created_at"].dropna()   # the upstream data's "now"
    end = created.max() if len(created) and created.max() > start else forks["read_at"].max()
    months = max((end - start).total_seconds() / 86400.0, 1.0) / DAYS_PER_MONTH
    pipes = float(sampled["pipelines"].astype(float).sum())
    changing = float(sampled["image_change_pipelines"].astype(float).sum())
    owners = float(sampled.loc[sampled["pipelines"].astype(float) > 0, "owner"].nunique())
    changes = ds.image_changes
    n_images = max(1, len(ds.metadata.get("image_inputs") or {}) or
                   int(ds.jobs["image"].nunique()))
    per_commit = (float(changes.groupby("commit")["image"].nunique().mean())
                  if changes is not None and len(changes) else 1.0)
    share = (changing / pipes) * per_commit / n_images if pipes else 0.0
    share_dist = (_around(changing, per_commit / n_images / pipes) if pipes and changing
                  else fixed(share))
    if share_dist.kind == "triangular":       # a share: at most 1
        share_dist = Distribution("triangular", tuple(min(p, 1.0) for p in share_dist.params))
    out = {
        "forks.pipelines_per_month": _around(pipes, 1.0 / fraction / months),
        "forks.owners": _around(owners, 1.0 / fraction) if owners else fixed(1.0),
        "forks.image_change_share": share_dist,
    }
    read = pd.Timestamp(forks["read_at"].max()).strftime("%Y-%m-%d")
    desc = (f"measured {read}: {int(pipes)} pipelines of {len(sampled)} sampled forks "
            f"({fraction:.0%} of the active ones) in {months:.1f} months, "
            f"{int(changing)} changing an image, {int(owners)} owners")
    return out, desc


def registry_today(ds: Dataset) -> dict[str, Any] | None:
    """The registry figures read at fetch time (bytes and GiB, with the date); None if none."""
    usage = ds.metadata.get("registry_usage")
    if not usage:
        return None
    ns = usage.get("namespace_container_registry_size_bytes")
    proj = usage.get("container_registry_size_bytes")
    return {
        "read_at": usage.get("read_at"), "namespace": usage.get("namespace"),
        "namespace_gib": None if ns is None else ns / GIB,
        "project_gib": None if proj is None else proj / GIB,
        "is_estimated": usage.get("is_estimated"),
        "other_projects_gib": (None if ns is None or proj is None
                               else max(0.0, (ns - proj) / GIB)),
    }


CV_KEY = "workload.monthly_minutes_cv"
#: full calendar months a month-to-month spread needs (fewer: none measured, 0)
MIN_CV_MONTHS = 3

#: The defaults :func:`with_measured_inputs` replaces by a measurement, and when: what
#: ``cachecost model --explain`` (which reads no data) says beside their default values.
MEASURED_WHEN = {
    CV_KEY: f"the data's month-to-month spread when it has {MIN_CV_MONTHS} or more full "
            "calendar months",
    **dict.fromkeys(("forks.pipelines_per_month", "forks.owners", "forks.image_change_share"),
                    "the figures measured from the project's forks when the dataset has them"),
    "storage.other_usage_gib": "the namespace's other projects' registry when the dataset "
                               "read the namespace's usage",
}


def cv_interval(cv: float, months: int, level: float = 0.8) -> tuple[float, float]:
    """About a ``level`` interval of a coefficient of variation measured on ``months``
    values (>= 2): the sample sd's chi-square interval with ``months - 1`` degrees of
    freedom (months about normal; the mean taken as known), ``cv * sqrt(df / q)`` at the
    chi-square quantiles q of ``(1 +- level) / 2``.

    Hand-worked: cv 0.1 on 3 months, df 2: chi-square 0.9 and 0.1 quantiles 4.605 and
    0.2107 (tables): 0.1 * sqrt(2 / 4.605) = 0.066, 0.1 * sqrt(2 / 0.2107) = 0.308."""
    df = months - 1
    tail = (1.0 - level) / 2.0      # chdtri(df, y): the chi-square value with y above it
    return (cv * math.sqrt(df / float(chdtri(df, tail))),
            cv * math.sqrt(df / float(chdtri(df, 1.0 - tail))))


def measured_spread(cv: float, months: int) -> Distribution:
    """The month-to-month spread as measured, with its sampling error: a lognormal whose
    p10 and p90 are :func:`cv_interval`'s 80 % interval (``months`` >= 2); 0 stays 0.

    Twelve months say little about a spread: 0.066 measured on 12 months is 0.053 to
    0.093 at 80 %, wide enough to hold a value that changes a recommendation, so the
    model samples it instead of taking 0.066 as exact (its flips and value of
    information then count it). Example: cv 0.1 on 3 months: lognormal(p10=0.066,
    p90=0.308)."""
    if cv <= 0.0 or months < 2:
        return fixed(max(cv, 0.0))
    return Distribution("lognormal", cv_interval(cv, months))


def with_measured_inputs(scenario: Any, ds: Dataset, notes: list[str],
                         cal: Any = None) -> Any:
    """A copy of ``scenario`` whose default fork, other-usage and month-spread inputs are
    the measured ones (the spread from ``cal``, a
    :class:`~cachecost.model.calibrate.Calibration`, when it measured one).

    Inputs the scenario file sets stay as set; the copy's ``sources`` say
    ``measured`` for the replaced ones. ``notes`` gets one line per replacement.
    """
    values, sources = dict(scenario.values), dict(scenario.sources)
    if cal is not None and cal.monthly_minutes_months >= MIN_CV_MONTHS and \
            sources.get(CV_KEY) == "default":
        values[CV_KEY] = measured_spread(float(cal.monthly_minutes_cv),
                                         int(cal.monthly_minutes_months))
        sources[CV_KEY] = "measured"
    elif cal is not None and sources.get(CV_KEY) == "scenario":
        # the calibration's note states the data's spread: say it is not the one used
        notes.append(f"month-to-month spread: the scenario's {CV_KEY} "
                     f"{values[CV_KEY].describe()} (its file sets it), not the data's")
    forks = fork_inputs(ds)
    if forks is not None:
        dists, desc = forks
        for key, dist in dists.items():
            if sources.get(key) == "default":
                values[key], sources[key] = dist, "measured"
        notes.append(f"fork inputs: {desc}" if any(
            sources.get(k) == "measured" for k in dists) else
            f"fork inputs: the scenario's (its file sets them); data: {desc}")
    today = registry_today(ds)
    if today and today["other_projects_gib"] is not None and \
            sources.get("storage.other_usage_gib") == "default":
        values["storage.other_usage_gib"] = float(today["other_projects_gib"])
        sources["storage.other_usage_gib"] = "measured"
        notes.append(
            f"registry today ({today['read_at']}): namespace {today['namespace']} "
            f"{today['namespace_gib']:.1f} GiB, this project {today['project_gib']:.1f} GiB; "
            f"the other {today['other_projects_gib']:.1f} GiB count as other usage")
    return replace(scenario, values=values, sources=sources)


def fork_measured_summary(ds: Dataset) -> dict[str, float] | None:
    """Point estimates for reports: pipelines/month, owners, image-change share (p50)."""
    forks = fork_inputs(ds)
    if forks is None:
        return None
    return {k.split(".", 1)[1]: float(np.round(v.median, 4)) for k, v in forks[0].items()}
