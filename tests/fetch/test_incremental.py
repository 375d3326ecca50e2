"""Incremental and resumable: a second run fetches only what changed; an interrupted run
resumed equals an uninterrupted one; faults lose and duplicate nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import cachecost.collect.gitlab.jobwalk as jobwalk
from cachecost.cli import main
from cachecost.collect.fetch import FetchOptions, fetch_project_history
from cachecost.collect.gitlab.client import connect
from cachecost.dataset.io import Dataset, load_dataset
from cachecost.errors import CachecostError
from cachecost.standin import StandinServer
from cachecost.standin.extra import MEASURE_KINDS

from .fetchkit import PROJECT, WALK_SLACK, by_id, fetch_cli

TABLE_KEYS = {"pipelines": "pipeline_id", "jobs": "job_id", "registry_repositories":
              "repository_id", "registry_tags": ["repository_id", "tag_name"]}


def assert_same_dataset(a: Dataset, b: Dataset) -> None:
    """Equal tables, row for row (order-independent); jobs first, the others derive from it."""
    for table, key in sorted(TABLE_KEYS.items(), key=lambda kv: kv[0] != "jobs"):
        x = a.table(table).sort_values(key).reset_index(drop=True)
        y = b.table(table).sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(x, y, check_dtype=True, obj=table)


def test_second_run_fetches_only_what_changed(standin: StandinServer, token_env: str,
                                              tmp_path: Path, reference: Dataset) -> None:
    data = standin.data
    data.now = data.end - pd.Timedelta(hours=20)      # a live project, mid-history
    assert fetch_cli(standin, tmp_path) == 0
    first = load_dataset(tmp_path)
    assert (first.jobs["status"].isin(["running", "pending"])).any()
    assert len(first.jobs) < len(reference.jobs)

    data.now = None                                   # time passes: everything finishes
    standin.reset_counts()
    assert fetch_cli(standin, tmp_path) == 0
    second = load_dataset(tmp_path)
    new_jobs = int((reference.jobs["job_id"] > first.jobs["job_id"].max()).sum())
    # the walk reads only above the newest job stored, one page per 100 jobs (+1 edge); the
    # jobs stored unfinished are read again with their pipelines' lists, one page each
    assert standin.counts["jobs"] <= -(-new_jobs // 100) + 1
    unfinished = first.jobs.loc[~first.jobs["status"].isin(["success", "failed", "canceled"]),
                                "pipeline_id"].nunique()
    assert 0 < standin.counts["pipelines/:id/jobs"] <= unfinished
    assert standin.counts["registry/tag"] == 0       # registry size unchanged: skipped
    for table in ("pipelines", "jobs"):
        got = by_id(second.table(table), TABLE_KEYS[table])
        want = by_id(reference.table(table), TABLE_KEYS[table])
        cols = [c for c in got.columns if c not in ("cache_outcome", "cached_steps",
                                                    "executed_steps", "builder", "run_steps")]
        pd.testing.assert_frame_equal(got[cols], want[cols], obj=table)
    assert second.jobs["job_id"].is_unique


def test_refetch_with_nothing_new_makes_few_requests(standin: StandinServer, token_env: str,
                                                     tmp_path: Path) -> None:
    assert fetch_cli(standin, tmp_path) == 0
    before = load_dataset(tmp_path)
    standin.reset_counts()
    assert fetch_cli(standin, tmp_path) == 0
    measure = sum(standin.counts[k] for k in MEASURE_KINDS)
    assert standin.counts["total"] - measure <= 5          # CI-history requests
    assert standin.counts["pipelines"] == 2         # the list, then its child pipelines
    # the measurements: a probe per directory (CI files, Dockerfiles), a forks page, GraphQL
    assert standin.counts["repository/commits"] == 2 and standin.counts["forks"] == 1
    assert measure == 4
    assert_same_dataset(load_dataset(tmp_path), before)


def test_dropped_server_then_resume_equals_uninterrupted(standin: StandinServer, token_env,
                                                         tmp_path: Path,
                                                         reference: Dataset) -> None:
    standin.faults.die_after = 6          # project, pipelines, then a few job pages
    client = connect(standin.url, max_retries=1)
    opts = FetchOptions(checkpoint_pages=2, checkpoint_s=0)
    with pytest.raises(CachecostError, match="run the same command again to resume"):
        fetch_project_history(client, PROJECT, tmp_path, opts)
    partial = pd.read_parquet(tmp_path / "jobs.parquet")
    assert 0 < len(partial) < len(reference.jobs) and partial["job_id"].is_unique
    standin.faults.die_after = 0
    standin.reset_counts()
    client = connect(standin.url)
    result = fetch_project_history(client, PROJECT, tmp_path, opts)
    # resumed from the saved cursors: the jobs already stored are not asked for again, but
    # for pipelines whose jobs the first run stored while its pipelines list died before
    # them: unknown whether they changed since, so their jobs are read again (a short walk)
    reread = -(-result.jobs_reread // 100) + WALK_SLACK if result.pipelines_reread else 0
    assert standin.counts["jobs"] <= -(-(len(reference.jobs) - len(partial)) // 100) + 1 \
        + WALK_SLACK + reread
    assert_same_dataset(load_dataset(tmp_path), reference)


def test_ctrl_c_then_resume_equals_uninterrupted(standin: StandinServer, token_env: str,
                                                 tmp_path: Path, reference: Dataset,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys) -> None:
    real = jobwalk.fetch_job_page
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(jobwalk, "fetch_job_page", interrupted)
    assert fetch_cli(standin, tmp_path) == 130
    assert "interrupted" in capsys.readouterr().err
    partial = pd.read_parquet(tmp_path / "jobs.parquet")
    assert 100 <= len(partial) < len(reference.jobs) and partial["job_id"].is_unique
    monkeypatch.setattr(jobwalk, "fetch_job_page", real)
    assert fetch_cli(standin, tmp_path) == 0
    assert_same_dataset(load_dataset(tmp_path), reference)


@pytest.mark.parametrize("faults", [
    {"every_429": 3, "retry_after_s": 0},
    {"every_5xx": 4},
    {"every_drop": 5},
    {"every_429": 7, "retry_after_s": 0, "every_5xx": 5, "every_drop": 11},
], ids=["429s", "5xx-storm", "dropped-connections", "all-at-once"])
def test_faults_lose_and_duplicate_nothing(standin: StandinServer, token_env: str,
                                           tmp_path: Path, reference: Dataset,
                                           faults: dict) -> None:
    for k, v in faults.items():
        setattr(standin.faults, k, v)
    assert fetch_cli(standin, tmp_path) == 0
    assert_same_dataset(load_dataset(tmp_path), reference)
    injected = {k: n for k, n in standin.counts.items() if k.startswith("fault:")}
    expected = {"every_429": "fault:429", "every_5xx": "fault:5xx", "every_drop": "fault:drop"}
    assert {expected[k] for k in faults if k in expected} == set(injected), injected


def _fetch_said(srv: StandinServer, data_dir: Path, capsys) -> str:
    """``cachecost fetch`` (not quiet) against the stand-in: what it printed."""
    capsys.readouterr()
    assert main(["fetch", "--url", srv.url, "--project", PROJECT, "--data", str(data_dir),
                 ]) == 0
    return capsys.readouterr().out


def test_refetch_counts_only_pipelines_that_changed(standin: StandinServer, token_env: str,
                                                    tmp_path: Path, capsys) -> None:
    """The pipelines list is asked from one second before the stored watermark (GitLab's
    ``updated_after`` is inclusive, and a pipeline updated in the watermark's second may
    have come after the stored ones), so it lists again the pipelines updated in that
    second. Those come back as stored: a re-fetch with nothing new says 0 pipelines.
    Mid-history first (clock 20 h before the end), then the whole history: the count is
    the pipelines new since, or whose status or ``updated_at`` changed, by the stored
    tables themselves."""
    data = standin.data
    data.now = data.end - pd.Timedelta(hours=20)
    said = _fetch_said(standin, tmp_path, capsys)
    first = load_dataset(tmp_path).pipelines.set_index("pipeline_id")
    assert f"Fetched {len(first):,} new or updated pipelines" in said
    data.now = None
    said = _fetch_said(standin, tmp_path, capsys)
    second = load_dataset(tmp_path).pipelines.set_index("pipeline_id")
    old = first.reindex(second.index)
    changed = int((old["status"].isna() | (old["status"] != second["status"])
                   | (old["updated_at"] != second["updated_at"])).sum())
    assert 0 < changed < len(second)
    assert f"Fetched {changed:,} new or updated pipelines" in said, said
    for _ in range(2):
        standin.reset_counts()
        said = _fetch_said(standin, tmp_path, capsys)
        assert standin.counts["pipelines"] == 2      # the list and its child pipelines
        assert "Fetched 0 new or updated pipelines" in said, said
