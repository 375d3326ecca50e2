"""Kind 3 of issue 11: child pipelines, which GitLab's pipelines list omits unless asked
with ``source=parent_pipeline``, while their jobs are in the jobs list.

Case 03 (tests/cases/03-child-pipelines/gitlab.json): pipelines 287 (push), 288 (its
child, source parent_pipeline, one 68 s job) and 290 (schedule). Right: all three stored,
every job's pipeline stored.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cachecost.cli import main
from cachecost.dataset.io import load_dataset
from cachecost.standin import StandinData, start_standin

from .servers import gitlab_server

HERE = Path(__file__).parent / "03-child-pipelines"
TOKEN = "glpat-FAKE-child-pipelines-1"


def _fetch(url: str, project: str, data_dir: Path, monkeypatch) -> int:
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(data_dir.parent / "none.cfg"))
    return main(["fetch", "--url", url, "--project", project, "--data", str(data_dir),
                 "--quiet"])


def test_case_03_child_pipeline_stored(tmp_path, monkeypatch) -> None:
    with gitlab_server(HERE / "gitlab.json", {1001: HERE / "trace_1001.log",
                                              1011: HERE / "trace_1011.log"}) as srv:
        assert _fetch(srv.url, "group/project", tmp_path / "ds", monkeypatch) == 0
        first = srv.counts.copy()
        srv.counts.clear()
        # nothing new: project, the pipelines list, the child pipelines list, one jobs page
        assert _fetch(srv.url, "group/project", tmp_path / "ds", monkeypatch) == 0
        again = srv.counts.copy()
    ds = load_dataset(tmp_path / "ds")
    assert sorted(ds.pipelines["pipeline_id"]) == [287, 288, 290]
    assert dict(zip(ds.pipelines["pipeline_id"], ds.pipelines["source"], strict=True)) == {
        287: "push", 288: "parent_pipeline", 290: "schedule"}
    assert set(ds.jobs["pipeline_id"]) <= set(ds.pipelines["pipeline_id"])
    child = ds.jobs[ds.jobs["pipeline_id"] == 288]
    assert child["duration_s"].sum() == 68.0
    # the child pipeline's duration comes from its one job: 01:05:31 -> 01:06:39
    assert ds.pipelines.set_index("pipeline_id").loc[288, "duration_s"] == 68.0
    assert first["pipelines"] == 2 and again["pipelines"] == 2
    assert again["total"] == 4


def test_standin_lists_child_pipelines_only_when_asked() -> None:
    data = StandinData.from_sample(days=3)
    truth = data.pipelines_frame()
    children = set(truth.loc[truth["source"] == "parent_pipeline", "pipeline_id"])
    assert len(children) >= 2
    listed = {p["id"] for p in data.pipelines(None, "id", "desc")}
    asked = {p["id"] for p in data.pipelines(None, "id", "desc", "parent_pipeline")}
    assert listed == set(truth["pipeline_id"]) - children
    assert asked == children
    # their jobs are in the jobs list
    assert children <= {int(r.pipeline_id) for r in data.job_records()}


def test_standin_child_pipelines_fetched_incrementally(tmp_path, monkeypatch) -> None:
    """Mid-history fetch, then the rest: every pipeline once, children included."""
    data = StandinData.from_sample(days=3)
    truth = data.pipelines_frame()
    children = truth.loc[truth["source"] == "parent_pipeline"].sort_values("created_at")
    # the clock stops just before the last child pipeline is created
    data.now = children["created_at"].iloc[-1] - pd.Timedelta(seconds=1)
    with start_standin(data, tokens={TOKEN: {"read_api"}}) as srv:
        assert _fetch(srv.url, data.project_path, tmp_path / "ds", monkeypatch) == 0
        first = load_dataset(tmp_path / "ds")
        assert children["pipeline_id"].iloc[-1] not in set(first.pipelines["pipeline_id"])
        assert set(children["pipeline_id"].iloc[:-1]) <= set(first.pipelines["pipeline_id"])
        data.now = None
        srv.reset_counts()
        assert _fetch(srv.url, data.project_path, tmp_path / "ds", monkeypatch) == 0
        assert srv.counts["pipelines"] == 2
        srv.reset_counts()
        assert _fetch(srv.url, data.project_path, tmp_path / "ds", monkeypatch) == 0
        nothing_new = dict(srv.counts)
    ds = load_dataset(tmp_path / "ds")
    assert sorted(ds.pipelines["pipeline_id"]) == sorted(data.pipelines_frame()["pipeline_id"])
    assert ds.pipelines["pipeline_id"].is_unique
    assert set(ds.jobs["pipeline_id"]) <= set(ds.pipelines["pipeline_id"])
    assert nothing_new["pipelines"] == 2 and nothing_new["total"] <= 4
