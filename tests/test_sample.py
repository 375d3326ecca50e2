"""The bundled synthetic sample: deterministic, QEMU-shaped, labeled synthetic."""

from __future__ import annotations

import pandas as pd
import pytest

from cachecost.dataset import schema
from cachecost.dataset.catalog import QEMU_IMAGES, QEMU_JOB_TO_IMAGE
from cachecost.dataset.io import load_dataset
from cachecost.dataset.sample import SampleSettings, generate_sample


def test_committed_sample_is_what_the_generator_makes(sample, tmp_path):
    fresh = generate_sample(SampleSettings())
    from cachecost.dataset.io import write_dataset

    write_dataset(fresh, tmp_path)
    again = load_dataset(tmp_path)
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(sample.table(name), again.table(name))
    assert sample.metadata == again.metadata


def test_generator_is_deterministic_and_seed_sensitive():
    a = generate_sample(SampleSettings(days=10))
    b = generate_sample(SampleSettings(days=10))
    c = generate_sample(SampleSettings(days=10, seed=1))
    pd.testing.assert_frame_equal(a.jobs, b.jobs)
    assert not a.jobs["duration_s"].equals(c.jobs["duration_s"])


def test_every_pipeline_builds_all_24_images_once_plus_retries(sample):
    jobs = sample.jobs[sample.jobs["is_container_build"]]
    first_attempts = jobs[~jobs["is_retried"]]
    per_pipeline = first_attempts.groupby("pipeline_id")["image"].nunique()
    assert len(QEMU_IMAGES) == 24
    assert (per_pipeline == 24).all()
    assert len(per_pipeline) == len(sample.pipelines)
    # a retried job is followed by exactly one more attempt of the same job
    assert len(jobs) == 24 * len(sample.pipelines) + int(jobs["is_retried"].sum())


def test_job_names_are_not_image_names(sample):
    builds = sample.jobs[sample.jobs["is_container_build"]]
    assert (builds["name"] != builds["image"]).all()
    pairs = builds[["name", "image"]].drop_duplicates()
    assert dict(zip(pairs["name"], pairs["image"], strict=True)) == QEMU_JOB_TO_IMAGE
    assert QEMU_JOB_TO_IMAGE["arm64-debian-cross-container"] == "debian-arm64-cross"


def test_shape_matches_the_settings(sample):
    s = SampleSettings()
    p = sample.pipelines
    span_days = (p["created_at"].max() - p["created_at"].min()).days
    assert s.days - 3 <= span_days <= s.days
    assert set(p["source"]) == set(s.pipelines_per_day)
    for source, per_day in s.pipelines_per_day.items():
        n = (p["source"] == source).sum()
        assert abs(n - per_day * s.days) < 4 * (per_day * s.days) ** 0.5 + 3
    assert {"containers", "build", "test"} == set(sample.jobs["stage"])
    logged = sample.jobs.dropna(subset=["cache_outcome"])
    assert (logged.groupby("image").size() == s.logs_per_image).all()


def test_cached_builds_are_minutes_and_uncached_tens_of_minutes(sample):
    builds = sample.jobs[sample.jobs["is_container_build"] & (sample.jobs["status"] == "success")]
    logged = builds.dropna(subset=["cache_outcome"])
    hits = logged[logged["cache_outcome"] == "hit"]["duration_s"]
    assert hits.median() < 5 * 60
    slow = builds[builds["image"] == "emsdk-wasm32-cross"]["duration_s"]
    assert slow.max() > 20 * 60  # its full rebuilds take tens of minutes


def test_null_durations_for_jobs_that_never_ran(sample):
    never = sample.jobs[sample.jobs["started_at"].isna()]
    assert len(never) > 0
    assert never["duration_s"].isna().all()
    assert (never["status"] == "canceled").all()


def test_registry_repositories_are_qemu_images(sample):
    repos = sample.registry_repositories
    assert sorted(repos["name"]) == sorted(f"qemu/{c.image}" for c in QEMU_IMAGES)
    sizes = sample.registry_tags["total_size_bytes"]
    assert sizes.between(200e6, 2e9).all()  # compressed CI images: hundreds of MB to ~2 GB


def test_metadata_says_synthetic(sample):
    assert sample.metadata["is_synthetic"] is True
    assert sample.metadata["source"] == "synthetic-sample"
    counts = sample.metadata["generator"]["counts"]
    assert counts["jobs"] == len(sample.jobs)
    assert counts["pipelines"] == len(sample.pipelines)


def test_committed_optional_tables_are_what_the_generator_makes(sample):
    fresh = generate_sample(SampleSettings())
    for name in ("image_changes", "forks"):
        pd.testing.assert_frame_equal(sample.table(name).reset_index(drop=True),
                                      fresh.table(name).reset_index(drop=True),
                                      check_dtype=False)


def test_sample_spans_twelve_calendar_months(sample):
    months = sample.pipelines["created_at"].dt.strftime("%Y-%m").unique()
    assert sorted(months) == ["2024-12"] + [f"2025-{m:02d}" for m in range(1, 12)]


def test_sample_carries_what_the_history_page_shows_labelled_synthetic(sample):
    """Issue 23 item 3: image changes, fork activity and registry usage, not empty.

    Registry usage, recomputed here: the project's figure is the sum of its
    repositories' deduplicated sizes; the namespace adds the settings' 6 GiB of other
    projects (6 * 2**30 bytes)."""
    from cachecost.report import history

    assert sample.metadata["is_synthetic"] is True
    changes = history.list_image_changes(sample)
    assert len(changes) == len(sample.image_changes) > 0
    inputs = sample.metadata["image_inputs"]
    assert set(inputs) == {c.image for c in QEMU_IMAGES}
    # an lcitool refresh is one commit touching every lcitool image's Dockerfile
    lcitool = {c.image for c in QEMU_IMAGES if c.is_lcitool}
    per_commit = sample.image_changes.groupby("commit")["image"].agg(set)
    assert any(images == lcitool for images in per_commit)
    forks = history.fork_activity_figures(sample)
    s = SampleSettings()
    assert (forks["forks_listed"], forks["forks_active"], forks["forks_sampled"]) == (
        s.forks_listed, s.forks_active, s.forks_sampled)
    usage = history.registry_usage_frame(sample)
    assert len(usage) == 2
    project = float(sample.registry_repositories["size_bytes"].sum())
    assert usage["size_bytes"].iloc[0] == pytest.approx(project, abs=1)
    assert usage["size_bytes"].iloc[1] - usage["size_bytes"].iloc[0] == pytest.approx(
        6 * 2**30, abs=2)


def test_switch_setting_moves_builds_to_kaniko_on_its_day():
    """Every logged build before the switch day shows BuildKit markers, after it kaniko."""
    ds = generate_sample(SampleSettings(days=20, switch_to_kaniko_day=10, logs_per_image=6,
                                        pipelines_per_day={"push": 3.0}))
    c = ds.jobs[ds.jobs["is_container_build"]]
    created = c["pipeline_id"].map(ds.pipelines.set_index("pipeline_id")["created_at"])
    day = (created - created.min().normalize()).dt.days
    logged = c[c["builder"].notna()]
    assert set(logged.loc[day[logged.index] < 10, "builder"]) <= {"buildkit"}
    assert set(logged.loc[day[logged.index] >= 10, "builder"]) <= {"kaniko"}
    assert {"buildkit", "kaniko"} <= set(logged["builder"])
