"""The bundled synthetic sample: deterministic, QEMU-shaped, labeled synthetic."""

from __future__ import annotations

import pandas as pd

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
