"""Case 07 of issue 22: a job GitLab runs again under its own id after the fetch passed it.

Fixture ``tests/cases/07-jobs-that-change-in-place/`` (copied from the case): ``state1.json``
(pipeline 500 failed: build-image 2001 success 120 s, build-x 2002 failed 600 s, test-x 2003
skipped because build-x failed) and ``state2.json`` (build-x retried: clone 2005 success 580 s;
test-x 2003 then ran under its own id, success 300 s; pipeline 500 success, ``updated_at``
moved from 10:12:11 to 11:20:46), served by the case's own ``glserver.py`` on 127.0.0.1.

Worked by hand: state1 stores 120 + 600 = 720 job-seconds (2003 has none); GitLab in state2
has 120 + 600 + 300 + 580 = 1,600. Before the fix a re-fetch stored 1,300 (2003 stayed
skipped); right: 1,600, and the same tables as a fresh fetch of state2.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from cachecost.cli import main
from cachecost.dataset.io import load_dataset

from .fetchkit import case_server

CASE = Path(__file__).parent.parent / "cases" / "07-jobs-that-change-in-place"
TOKEN = "glpat-FAKE-case-07"


def _fetch(url: str, data_dir: Path, monkeypatch) -> int:
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(data_dir.parent / "none.cfg"))
    return main(["fetch", "--url", url, "--project", "group/project", "--data",
                 str(data_dir), "--quiet"])


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    ds = load_dataset(path)
    return {"jobs": ds.jobs.sort_values("job_id").reset_index(drop=True),
            "pipelines": ds.pipelines.sort_values("pipeline_id").reset_index(drop=True)}


def test_case_07_retry_reruns_skipped_job_under_its_id(tmp_path: Path, monkeypatch) -> None:
    scenario = tmp_path / "scenario.json"
    shutil.copy(CASE / "state1.json", scenario)
    with case_server(CASE / "glserver.py", scenario) as (url, asked):
        assert _fetch(url, tmp_path / "ds", monkeypatch) == 0
        first = _tables(tmp_path / "ds")["jobs"]
        assert first["duration_s"].sum() == 720.0
        assert first.set_index("job_id").loc[2003, "status"] == "skipped"

        shutil.copy(CASE / "state2.json", scenario)    # GitLab moves on: 2002 retried
        asked.clear()
        assert _fetch(url, tmp_path / "ds", monkeypatch) == 0
        second_asked = list(asked)
        assert _fetch(url, tmp_path / "fresh", monkeypatch) == 0

    got, fresh = _tables(tmp_path / "ds"), _tables(tmp_path / "fresh")
    jobs = got["jobs"].set_index("job_id")
    assert jobs.loc[2003, "status"] == "success" and jobs.loc[2003, "duration_s"] == 300.0
    assert got["jobs"]["duration_s"].sum() == 1600.0
    assert jobs["is_retried"].to_dict() == {2001: False, 2002: True, 2003: False, 2005: False}
    pipe = got["pipelines"].set_index("pipeline_id").loc[500]
    assert pipe["status"] == "success"
    assert pipe["updated_at"] == pd.Timestamp("2025-10-01T11:20:46Z")
    # the pipeline reopened: its finish is the rerun test-x's, 11:15:30, no longer 10:12:10
    assert pipe["finished_at"] == pd.Timestamp("2025-10-01T11:15:30Z")
    for table in ("jobs", "pipelines"):
        pd.testing.assert_frame_equal(got[table], fresh[table], obj=table)
    # the re-fetch's CI-history requests: both pipeline lists, the jobs walk's first page,
    # and one page walked down to job 2001 (as cheap as, so instead of, the pipeline's list)
    history = sorted(p for p in second_asked if p.endswith(("/pipelines", "/jobs")))
    assert history == ["/api/v4/projects/1/jobs", "/api/v4/projects/1/jobs",
                       "/api/v4/projects/1/pipelines", "/api/v4/projects/1/pipelines"]
