"""Measured image changes, fork activity and registry usage in the model (hand-worked)."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest
from model_test_helpers import IDENTITY, write_scenario

from cachecost.model.calibrate import DAYS_PER_MONTH, calibrate
from cachecost.model.measured import (
    DURATION_SPLIT,
    apply_image_changes,
    fork_inputs,
    registry_today,
    with_measured_inputs,
)
from cachecost.model.results import run_model
from cachecost.model.scenario import load_scenario

T0 = pd.Timestamp("2025-01-01", tz="UTC")
GIB = 2.0**30



@pytest.fixture(scope="module")
def sample(sample_unmeasured):
    """These tests add their own measurements to a sample that has none (the bundled
    sample carries synthetic ones since issue 24)."""
    return sample_unmeasured

def _changes(rows):
    return pd.DataFrame(rows, columns=["image", "commit", "time", "path"])


def _with(sample, **kw):
    return replace(sample, metadata={**sample.metadata, **kw.pop("metadata", {})}, **kw)


def test_measured_changes_replace_the_duration_split_where_present(sample) -> None:
    """Window: the sample's pipelines, M months. alpine: commits a, b, c inside (b touches
    two inputs: counted once) and d before the window: 3 / M. debian: named by the CI
    files, no commit: 0. python: not named: keeps the split's value."""
    lo, hi = sample.pipelines["created_at"].min(), sample.pipelines["created_at"].max()
    months = (hi - lo).total_seconds() / 86400 / DAYS_PER_MONTH
    mid = lo + (hi - lo) / 2
    ds = _with(sample, image_changes=_changes([
        ("alpine", "a", lo, "tests/docker/dockerfiles/alpine.docker"),
        ("alpine", "b", mid, "tests/docker/dockerfiles/alpine.docker"),
        ("alpine", "b", mid, "tests/docker/alpine-extra.sh"),
        ("alpine", "c", hi, "tests/docker/dockerfiles/alpine.docker"),
        ("alpine", "d", lo - pd.Timedelta(days=1), "tests/docker/dockerfiles/alpine.docker"),
    ]), metadata={"image_inputs": {"alpine": ["tests/docker/dockerfiles/alpine.docker"],
                                   "debian": ["tests/docker/dockerfiles/debian.docker"]}})
    split = calibrate(sample).images
    cal = calibrate(ds)
    assert cal.images.loc["alpine", "changes_per_month"] == pytest.approx(3 / months)
    assert cal.images.loc["debian", "changes_per_month"] == 0.0
    assert cal.images.loc["python", "changes_per_month"] == \
        pytest.approx(split.loc["python", "changes_per_month"])
    assert cal.images.loc["alpine", "changes_method"].startswith("measured: 3 commit(s)")
    assert cal.images.loc["python", "changes_method"] == DURATION_SPLIT
    assert any("measured change commits for 2 image(s)" in n for n in cal.notes)


def test_no_measured_changes_keeps_the_split_and_says_so(sample) -> None:
    images = calibrate(sample).images.copy()
    before = images["changes_per_month"].copy()
    notes: list[str] = []
    apply_image_changes(images, sample, 3.0, notes)
    pd.testing.assert_series_equal(images["changes_per_month"], before)
    assert (images["changes_method"] == DURATION_SPLIT).all()
    assert "build-duration split" in notes[0]


def _forks(sample, *, months: float = 3.0):
    """4 active forks, 2 sampled (f = 0.5): 20 + 10 pipelines, 4 + 2 changing an image,
    owners u1 and u2; one inactive fork. Window: the last ``months`` of the sample."""
    end = sample.pipelines["created_at"].max()
    start = end - pd.Timedelta(days=months * DAYS_PER_MONTH)
    rows = []
    for i, (owner, active, sampled, pipes, changing) in enumerate([
            ("u1", True, True, 20, 4), ("u2", True, True, 10, 2), ("u3", True, False, None,
                                                                   None),
            ("u4", True, False, None, None), ("u5", False, False, None, None)]):
        rows.append({"fork_id": i, "path": f"{owner}/qemu", "owner": owner,
                     "created_at": start, "last_activity_at": end if active else start,
                     "is_active": active, "is_sampled": sampled, "pipelines": pipes,
                     "image_change_pipelines": changing, "sampling_fraction": 0.5,
                     "window_start": start, "read_at": end})
    df = pd.DataFrame(rows)
    for c in ("pipelines", "image_change_pipelines"):
        df[c] = pd.array(df[c], dtype="Int64")
    # upstream: each change commit touches 2 images; the CI files name 24 images
    changes = _changes([(img, f"c{k}", end, f"{img}.docker")
                        for k in range(3) for img in (f"i{k}a", f"i{k}b")])
    inputs = {f"img{n}": [f"img{n}.docker"] for n in range(24)}
    return _with(sample, forks=df, image_changes=changes,
                 metadata={"image_inputs": inputs})


def test_fork_inputs_hand_worked(sample) -> None:
    """P = 30 pipelines / f 0.5 / 3 months = 20 a month; owners 2 / 0.5 = 4;
    share = 6/30 x 2 images per commit / 24 images = 1/60."""
    dists, desc = fork_inputs(_forks(sample))
    ppm = dists["forks.pipelines_per_month"]
    assert ppm.kind == "triangular"
    lo, mode, hi = ppm.params
    assert mode == pytest.approx(20.0)
    assert lo == pytest.approx((30 - 2 * math.sqrt(30)) / 1.5)
    assert hi == pytest.approx((30 + 2 * math.sqrt(30)) / 1.5)
    assert dists["forks.owners"].params[1] == pytest.approx(4.0)
    assert dists["forks.image_change_share"].params[1] == pytest.approx(6 / 30 * 2 / 24)
    assert "30 pipelines of 2 sampled forks (50% of the active ones)" in desc


def test_fork_measurements_replace_defaults_only(sample, tmp_path) -> None:
    ds = _forks(sample)
    default = load_scenario(write_scenario(tmp_path, IDENTITY + "forks: {cost_factor: 0.008}\n"))
    notes: list[str] = []
    got = with_measured_inputs(default, ds, notes)
    assert got.source("forks.pipelines_per_month") == "measured"
    assert got.value("forks.pipelines_per_month").params[1] == pytest.approx(20.0)
    assert got.source("forks.cost_factor") == "scenario"
    assert default.source("forks.pipelines_per_month") == "default"     # a copy
    set_ = load_scenario(write_scenario(tmp_path, IDENTITY + "forks: {owners: 7}\n", "t.yaml"))
    got = with_measured_inputs(set_, ds, [])
    assert got.source("forks.owners") == "scenario" and got.value("forks.owners").median == 7
    assert got.source("forks.pipelines_per_month") == "measured"


def test_registry_today_feeds_other_usage_and_the_results(sample, tmp_path) -> None:
    """Namespace 30 GiB, this project 22 GiB: 8 GiB of other projects count as other usage
    unless the scenario sets other_usage_gib."""
    usage = {"project_path": "qemu-project/qemu", "namespace": "qemu-project",
             "container_registry_size_bytes": int(22 * GIB),
             "namespace_container_registry_size_bytes": int(30 * GIB),
             "is_estimated": False, "read_at": "2026-11-29T10:00:00Z"}
    ds = _with(sample, metadata={"registry_usage": usage})
    today = registry_today(ds)
    assert today["other_projects_gib"] == pytest.approx(8.0)
    scenario = load_scenario(write_scenario(tmp_path, IDENTITY + "storage: {quota_gib: 50}\n"))
    result = run_model(ds, scenario, samples=200)
    assert result["registry_today"]["namespace_gib"] == pytest.approx(30.0)
    assert result["storage_over_horizon"]["other_usage_gib"] == pytest.approx(8.0)
    row = next(r for r in result["inputs"] if r["name"] == "storage.other_usage_gib")
    assert row["source"] == "measured" and row["citation"] == "the dataset (fetch)"
    assert any(n.startswith("registry today (2026-11-29T10:00:00Z)")
               for n in result["calibration"]["notes"])
    fixed = load_scenario(write_scenario(tmp_path, IDENTITY + "storage: {other_usage_gib: 1}\n", "u.yaml"))
    assert run_model(ds, fixed, samples=200)["storage_over_horizon"]["other_usage_gib"] == 1.0


def test_sample_without_measurements_runs_as_before(sample) -> None:
    result = run_model(sample, load_scenario(None), samples=200)
    assert result["registry_today"] is None
    sources = {r["name"]: r["source"] for r in result["inputs"]}
    assert sources["forks.pipelines_per_month"] == "default"
