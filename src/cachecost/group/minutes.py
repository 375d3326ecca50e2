"""The root namespace's compute quota, shared by every project of a group.

GitLab.com counts each job's compute minutes, ``duration / 60 x cost factor``, against
the quota of the job's **top-level namespace** ("added to the count of used units in
the job's top-level namespace", GitLab doc ``ci/pipelines/compute_minutes.md`` 2025),
so the projects of one root namespace draw on one monthly quota. For each fetched
project this module measures the billed minutes its CI uses a month, with the model's
own calibration (:func:`cachecost.model.calibrate.calibrate`: the mapped container
builds and every other CI job, as measured, so at the strategies in use today) and the
model's own billed factors (:func:`cachecost.model.money.billing_classes`: the lower of
the runner's size factor and the discount, at the scenario's p50)::

    billed = container_minutes x f_container + other_minutes x f_other     (minutes/month)

and each project's model sees the rest, the other fetched projects' billed minutes, as
``compute.other_usage_minutes_per_month`` (:func:`others_minutes`). Projects the group
fetch did not fetch (building no image, forbidden) are not counted: their minutes are
not in any dataset, so the quota left is an upper bound.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cachecost.dataset.io import load_dataset
from cachecost.model.calibrate import calibrate
from cachecost.model.money import billing_classes
from cachecost.model.scenario import Scenario

#: The scenario key each project's model reads the rest of the namespace from.
OTHER_MINUTES_KEY = "compute.other_usage_minutes_per_month"


def shares_the_quota(scenario: Scenario) -> bool:
    """True when the scenario bills GitLab-hosted minutes against a quota (private
    runners are not subject to the compute quota, ``administration/cicd/compute_minutes.md``
    2025: "Group and project runners are not subject to the compute quota")."""
    return (scenario.value("compute.mode") == "gitlab-hosted"
            and bool(scenario.value("compute.quota_minutes_per_month")))


def measured_minutes(ds_dir: Path, scenario: Scenario) -> dict[str, float]:
    """One project's measured CI minutes a month: ``{"runner_minutes_per_month",
    "quota_minutes_per_month"}`` (runner minutes, and billed minutes as GitLab counts
    them against the quota; 0 billed without a hosted quota).

    Hand-worked: 1,000 container-build runner minutes and 3,000 other CI minutes a
    month at the Open Source program's 0.5 on small runners (1): 500 + 1,500 = 2,000
    billed minutes. Raises :class:`cachecost.errors.CachecostError` when the dataset
    cannot be read or calibrated (as the model would).
    """
    cal = calibrate(load_dataset(ds_dir), scenario.overrides, source=scenario.path)
    runner = cal.container_minutes_per_month + cal.other_minutes_per_month
    if not shares_the_quota(scenario):
        return {"runner_minutes_per_month": runner, "quota_minutes_per_month": 0.0}
    factor = {str(r["job_class"]): float(r["billed_factor"])  # type: ignore[arg-type]
              for r in billing_classes(scenario.value, "gitlab-hosted")}
    billed = (cal.container_minutes_per_month * factor["container builds"]
              + cal.other_minutes_per_month * factor["other CI"])
    return {"runner_minutes_per_month": runner, "quota_minutes_per_month": billed}


def others_minutes(billed: list[float]) -> list[float]:
    """For each project, the other projects' billed minutes: the sum minus its own.

    Example: [2,000, 45,000, 8,000] -> [53,000, 10,000, 47,000]."""
    total = sum(billed)
    return [max(0.0, total - own) for own in billed]


def quota_summary(scenario: Scenario, billed: list[float]) -> dict[str, Any]:
    """The group's compute figures: whether the quota is shared (GitLab-hosted with a
    quota), the quota, the fetched projects' billed minutes together and their share of
    it, and whether each project's model sees the others as measured (the scenario
    leaves ``compute.other_usage_minutes_per_month`` at its default) or the scenario's
    own value."""
    quota = scenario.value("compute.quota_minutes_per_month")
    together = float(sum(billed))
    is_measured = scenario.source(OTHER_MINUTES_KEY) == "default"
    return {"is_shared": shares_the_quota(scenario),
            "quota_minutes_per_month": quota,
            "fetched_quota_minutes_per_month": together,
            "share_of_quota": together / quota if quota else None,
            "other_usage_is_measured": is_measured,
            "scenario_other_usage_minutes_per_month": (
                None if is_measured else scenario.value(OTHER_MINUTES_KEY))}
