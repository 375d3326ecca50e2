"""A full fetch stores exactly what the stand-in served, in a dataset the tools read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cachecost.cli import main
from cachecost.dataset.catalog import QEMU_IMAGES
from cachecost.dataset.io import load_dataset
from cachecost.standin import StandinServer
from cachecost.standin.buildlog import builder_for_image

from .fetchkit import TOKEN, WALK_SLACK, by_id, fetch_cli


def assert_jobs_match(ds_jobs: pd.DataFrame, truth: pd.DataFrame) -> None:
    """Every served job stored once, with the served values."""
    assert ds_jobs["job_id"].is_unique
    got, want = by_id(ds_jobs, "job_id"), by_id(truth, "job_id")
    assert got["job_id"].tolist() == want["job_id"].tolist()
    for col in ("pipeline_id", "name", "stage", "status", "is_retried", "is_allowed_failure"):
        assert got[col].tolist() == want[col].tolist(), col
    np.testing.assert_allclose(got["duration_s"], want["duration_s"], rtol=1e-9)
    np.testing.assert_allclose(got["queued_duration_s"], want["queued_duration_s"], rtol=1e-9)
    assert (got["started_at"].isna() == want["started_at"].isna()).all()
    # a containers-stage job that builds nothing (the stand-in's weekly-container-builds)
    # is not a container build: what the served truth says, not the stage alone
    assert got["is_container_build"].tolist() == want["is_container_build"].tolist()
    assert ((want["stage"] == "containers") & ~want["is_container_build"]).any()


def test_full_fetch_equals_what_was_served(standin: StandinServer, token_env: str,
                                           tmp_path: Path) -> None:
    data = standin.data
    assert fetch_cli(standin, tmp_path, "--logs-per-image", "3") == 0
    ds = load_dataset(tmp_path)
    truth_jobs = data.jobs_frame()
    assert_jobs_match(ds.jobs, truth_jobs)
    # skipped / canceled jobs keep null durations; retried attempts are kept and flagged
    assert ds.jobs.loc[ds.jobs["status"] == "skipped", "duration_s"].isna().all()
    assert (ds.jobs["status"] == "skipped").any() and ds.jobs["is_retried"].any()

    truth_p = by_id(data.pipelines_frame(), "pipeline_id")
    got_p = by_id(ds.pipelines, "pipeline_id")
    assert got_p["pipeline_id"].tolist() == truth_p["pipeline_id"].tolist()
    assert got_p["status"].tolist() == truth_p["status"].tolist()
    assert (got_p["updated_at"] == truth_p["updated_at"]).all()

    # container jobs: every one mapped, by the log rule, to the image the stand-in built
    cont = ds.jobs[ds.jobs["is_container_build"]]
    want_img = truth_jobs.set_index("job_id").loc[cont["job_id"], "image"].to_numpy()
    assert (cont["image"].to_numpy() == want_img).all()
    # sampled logs: outcome equals what the stand-in's log showed; 3 per job name
    sampled = ds.jobs[ds.jobs["cache_outcome"].notna()]
    assert sampled.groupby("name").size().max() == 3
    truth_outcome = truth_jobs.set_index("job_id").loc[sampled["job_id"], "true_outcome"]
    assert sampled["cache_outcome"].tolist() == truth_outcome.tolist()
    assert (sampled["cached_steps"] + sampled["executed_steps"] > 0).all()
    # the stand-in's builds are FROM + RUNs only: every step read is a RUN, as many as the
    # catalog's Dockerfile has (other images: 4; standin/buildlog.py)
    runs = {c.image: c.run_steps for c in QEMU_IMAGES}
    want_runs = sampled["image"].map(lambda i: runs.get(i, 4))
    assert sampled["run_steps"].tolist() == want_runs.tolist()
    # and the builder whose markers the log showed (the backtest reads switches from it)
    want_builder = sampled["image"].map(builder_for_image)
    assert sampled["builder"].tolist() == want_builder.tolist()

    repos = by_id(ds.registry_repositories, "repository_id")
    want_r = by_id(data.repositories_frame(), "repository_id")
    assert repos["repository_id"].tolist() == want_r["repository_id"].tolist()
    np.testing.assert_array_equal(repos["size_bytes"].to_numpy(), want_r["size_bytes"].to_numpy())
    assert repos["size_bytes"].isna().any()          # some repos predate GitLab's sizes
    assert repos["image"].tolist() == want_r["image"].tolist()
    tags = ds.registry_tags.sort_values(["repository_id", "tag_name"]).reset_index(drop=True)
    want_t = data.tags_frame().sort_values(["repository_id", "tag_name"]).reset_index(drop=True)
    assert tags["digest"].tolist() == want_t["digest"].tolist()
    assert tags["total_size_bytes"].tolist() == want_t["total_size_bytes"].tolist()

    meta = ds.metadata
    # the stand-in marks its answers (X-Cachecost-Synthetic): its data are invented
    assert meta["source"] == "gitlab" and meta["is_synthetic"] is True
    assert meta["instance_url"] == standin.url and meta["project_path"] == "qemu-project/qemu"
    assert meta["container_registry_size_bytes"] == data.container_registry_size_bytes()


def test_fetched_dataset_works_with_cachecost_data(standin: StandinServer, token_env: str,
                                                   tmp_path: Path, capsys) -> None:
    assert fetch_cli(standin, tmp_path) == 0
    capsys.readouterr()
    assert main(["data", "--data", str(tmp_path), "--json"]) == 0
    desc = json.loads(capsys.readouterr().out)
    truth = standin.data.jobs_frame()
    assert desc["is_synthetic"] is True
    assert desc["tables"]["jobs"] == len(truth)
    # some repositories have no size (they predate GitLab's): the project's own figure counts
    assert desc["registry_dedup_size_bytes"] == standin.data.container_registry_size_bytes()
    assert desc["registry_dedup_source"].startswith("project statistics")
    assert desc["unmapped_container_jobs"] == 0
    assert desc["images"]["debian-arm64-cross"]["container_jobs"] == int(
        (truth["name"] == "arm64-debian-cross-container").sum())


def test_pipeline_details_mode_stores_served_durations(standin: StandinServer, token_env: str,
                                                       tmp_path: Path) -> None:
    assert fetch_cli(standin, tmp_path, "--pipeline-details") == 0
    ds = load_dataset(tmp_path)
    got = by_id(ds.pipelines, "pipeline_id")
    want = by_id(standin.data.pipelines_frame(), "pipeline_id")
    np.testing.assert_array_equal(got["duration_s"].to_numpy(), want["duration_s"].to_numpy())
    assert standin.counts["pipelines/:id"] == len(want)


def test_derived_pipeline_times_come_from_the_jobs(standin: StandinServer, token_env: str,
                                                   tmp_path: Path) -> None:
    assert fetch_cli(standin, tmp_path) == 0
    ds = load_dataset(tmp_path)
    jobs = standin.data.jobs_frame()
    latest = jobs[~jobs["is_retried"]]
    first = latest.groupby("pipeline_id")["started_at"].min()
    last = jobs.groupby("pipeline_id")["finished_at"].max()
    p = ds.pipelines.set_index("pipeline_id")
    assert (p["started_at"] == first.reindex(p.index)).all()
    assert (p["finished_at"] == last.reindex(p.index)).all()
    # the union of job intervals never exceeds first start .. last finish
    span = (p["finished_at"] - p["started_at"]).dt.total_seconds()
    assert (p["duration_s"] <= span + 1e-6).all() and (p["duration_s"] > 0).all()
    assert standin.counts["pipelines/:id"] == 0


def test_one_listing_for_all_jobs_never_one_per_pipeline(standin: StandinServer,
                                                         token_env: str, tmp_path: Path) -> None:
    assert fetch_cli(standin, tmp_path, "--logs-per-image", "0") == 0
    n_jobs = len(standin.data.jobs_frame())
    assert standin.counts["pipelines/:id/jobs"] == 0
    # one page per 100 jobs, plus what the parallel walk asks past the oldest job
    assert -(-n_jobs // 100) <= standin.counts["jobs"] <= -(-n_jobs // 100) + WALK_SLACK


def test_token_is_never_stored_or_printed(standin: StandinServer, token_env: str,
                                          tmp_path: Path, capsys) -> None:
    assert main(["fetch", "--url", standin.url, "--project", "qemu-project/qemu",
                 "--data", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "Fetched" in out.out
    assert TOKEN not in out.out + out.err
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert TOKEN.encode() not in f.read_bytes(), f
    assert {p.name for p in tmp_path.iterdir()} >= {"metadata.json", "fetch_state.json",
                                                    "jobs.parquet", "pipelines.parquet"}
