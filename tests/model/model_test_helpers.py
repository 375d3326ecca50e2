"""Helpers for the model tests: hand-made calibrations, scenario files, one-row runs."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from cachecost.model.calibrate import Calibration
from cachecost.model.simulate import make_static, median_params, simulate, uncertain_inputs


def make_calibration(rows: dict[str, dict[str, float]], *, other_minutes: float = 0.0
                     ) -> Calibration:
    """A Calibration built by hand: image -> its columns (defaults filled in)."""
    defaults = {"builds_per_month": 100.0, "changes_per_month": 2.0, "cached_build_min": 2.0,
                "change_build_min": 6.0, "uncached_build_min": 10.0,
                "compressed_size_gib": 1.0, "per_tag_gib": 2.0, "dedup_gib": 1.25,
                "tags_kept": 2.0, "run_steps": 5.0, "failed_min_per_month": 0.0,
                "change_events": 6.0, "is_multi_stage": 1.0,
                "kaniko_hit_build_min": np.nan}
    images = pd.DataFrame.from_dict({k: {**defaults, **v} for k, v in rows.items()},
                                    orient="index")
    return Calibration(images=images, months_of_data=3.0,
                       pipelines_per_month_by_source={"push": 100.0},
                       container_minutes_per_month=1000.0,
                       other_minutes_per_month=other_minutes, dedup_method="hand-made")


#: What every scenario must say itself (issue 14): name, baseline, compute mode.
IDENTITY = "name: t\nbaseline: dind-inline-cache\ncompute: {mode: private-runners}\n"


def write_scenario(tmp: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


#: A scenario with every uncertain input fixed, for hand-worked numbers.
FIXED_SCENARIO = """\
    # Hand-worked example: every input fixed.
    name: hand-worked
    baseline: dind-inline-cache
    horizon_months: 12
    workload:
      upstream_pipelines_factor: 1
      image_changes_factor: 1
      build_minutes_factor: 1
      scheduled_refresh_per_month: 4
      base_image_refresh_share: 0
    compute:
      mode: private-runners
      usd_per_runner_hour: 6          # 0.1 USD per minute
    forks:
      pipelines_per_month: 10
      owners: 2
      image_change_share: 0.1
      cost_factor: 0.008
      quota_minutes_per_month: 400
      reads_upstream_registry_probability: 0
      pipelines_per_image_change: 1
      other_ci_minutes_per_pipeline: 0
    storage:
      accounting: root-namespace-dedup
      usd_per_10gib_year: 60          # packs: 5 USD per 10 GiB-month, if billed
      shadow_usd_per_10gib_year: 120  # shadow: 1 USD per GiB-month
      quota_gib: 10
    assumptions:
      changed_bytes_share: 0.8
      kaniko_cache_bytes_share: 0.9
      kaniko_cache_ttl_hours: 365.25  # half a month
      kaniko_layer_digest_shared_probability: 1
      kaniko_full_change_share: 1
      kaniko_pull_extract_min_per_gib: 0
      buildkit_max_extra_bytes_share: 0.1
      buildkit_max_change_saving_share: 0.25
      rebuild_check_minutes: 0.5
"""


def evaluate(cal: Calibration, scenario, **inputs) -> dict:
    """Simulate one row: every input at its p50 unless given; return {strategy: {metric}}."""
    st = make_static(cal, scenario)
    p = median_params(uncertain_inputs(scenario))
    for name, value in inputs.items():
        p[name.replace("__", ".")] = np.array([float(value)])
    sim = simulate(st, p)
    return {s: {k: (v[0] if v.ndim == 1 else v[0]) for k, v in m.items()} for s, m in sim.items()}


def with_input(sc, key: str, value):
    """A copy of scenario ``sc`` with ``key`` set to ``value`` as if its file stated it."""
    values, sources = dict(sc.values), dict(sc.sources)
    values[key], sources[key] = value, "scenario"
    return dataclasses.replace(sc, values=values, sources=sources)


def assert_rerun_agrees(dataset, sc, cal, flip, below: str, above: str, rel: float) -> None:
    """Re-run the model with ``flip``'s input fixed ``rel`` either side of its stated
    value: the recommendation is ``below`` under it and ``above`` over it."""
    from cachecost.model.distributions import fixed
    from cachecost.model.results import run_model

    for v, want in ((flip["value"] * (1 - rel), below), (flip["value"] * (1 + rel), above)):
        again = run_model(dataset, with_input(sc, flip["input"], fixed(v)), samples=20_000,
                          calibration=cal)
        assert again["recommendation"]["winner"] == want, (v, again["recommendation"])
