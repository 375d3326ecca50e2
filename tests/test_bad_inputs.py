"""Bad inputs found by trying the CLI: each is one true line, exit 2, nothing left behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cachecost.cli import main
from cachecost.config import SAMPLE_DATA_DIR


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cachecost: error: "), err
    return err[0]


def test_report_data_that_is_a_file(tmp_path: Path, capsys) -> None:
    """It was "no such data directory" for a path that exists."""
    data = tmp_path / "afile"
    data.write_text("x", encoding="utf-8")
    assert main(["report", "--data", str(data), "--out", str(tmp_path / "site")]) == 2
    assert one_line(capsys).endswith(f"{data}: is a file, not a data directory")
    assert not (tmp_path / "site").exists()


def test_a_fetch_that_did_not_finish_says_so(tmp_path: Path, capsys) -> None:
    """A fetch cut off (Ctrl-C) leaves its tables and fetch_state.json but no
    metadata.json; "metadata.json: missing (not a cachecost dataset directory)" did not
    say that running the fetch again finishes it."""
    data = tmp_path / "half"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    (data / "metadata.json").unlink()
    (data / "fetch_state.json").write_text("{}", encoding="utf-8")
    for cmd in (["data", "--data", str(data)],
                ["report", "--data", str(data), "--out", str(tmp_path / "site")]):
        assert main(cmd) == 2
        assert one_line(capsys) == (
            f"cachecost: error: {data}: a fetch into this folder has not finished "
            "(fetch_state.json is there, metadata.json not yet); run the same cachecost "
            "fetch again to finish it")
    assert not (tmp_path / "site").exists()


def test_report_on_data_that_does_not_load_prints_only_the_error(tmp_path: Path,
                                                                 capsys) -> None:
    """It said "building <scenario>" for every scenario before failing to load the data."""
    data = tmp_path / "corrupt"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    (data / "pipelines.parquet").write_bytes(b"junk")
    assert main(["report", "--data", str(data), "--out", str(tmp_path / "site")]) == 2
    assert f"{data / 'pipelines.parquet'}: not a readable Parquet file" in one_line(capsys)


def test_python_gitlab_config_that_is_a_directory(tmp_path: Path, monkeypatch,
                                                  capsys) -> None:
    """It said "no python-gitlab config file found (set PYTHON_GITLAB_CFG ...)", set already."""
    for var in ("GITLAB_TOKEN", "GITLAB_PRIVATE_TOKEN", "CI_JOB_TOKEN", "CI_SERVER_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(tmp_path))
    rc = main(["fetch", "--gitlab-config", "work", "--project", "a/b",
               "--data", str(tmp_path / "data")])
    assert rc == 2
    assert one_line(capsys).endswith(
        f"PYTHON_GITLAB_CFG={tmp_path}: is a directory, not a python-gitlab config file")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("bad", [1e300, float("inf"), 2_629_747.0])
def test_a_job_longer_than_gitlab_lets_one_run_is_refused(tmp_path: Path, capsys,
                                                          bad: float) -> None:
    """A hand-edited (or corrupt) jobs table with a 1e300 s job made the model print a
    ninety-digit monthly cost; GitLab's job timeout is at most one month (2,629,746 s)."""
    import pandas as pd

    data = tmp_path / "long"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    jobs = pd.read_parquet(data / "jobs.parquet")
    jobs.loc[jobs.index[0], "duration_s"] = bad
    jobs.to_parquet(data / "jobs.parquet")
    assert main(["model", "--data", str(data)]) == 2
    assert f"{data / 'jobs.parquet'}: column 'duration_s' holds" in one_line(capsys)


def test_a_group_folder_given_as_data_points_to_report_group(tmp_path: Path,
                                                             capsys) -> None:
    """`report --data` on a fetched group said "metadata.json: missing (not a cachecost
    dataset directory)"; the folder is a group, which `report --group` reads."""
    group = tmp_path / "grp"
    group.mkdir()
    (group / "group.json").write_text("{}", encoding="utf-8")
    assert main(["report", "--data", str(group), "--out", str(tmp_path / "site")]) == 2
    assert one_line(capsys) == (f"cachecost: error: {group}: a fetched group, not one "
                                f"project's dataset; report it with cachecost report "
                                f"--group {group}")
    assert not (tmp_path / "site").exists()


def _sample_with_jobs(tmp_path: Path, edit) -> Path:
    """A copy of the sample whose jobs table ``edit`` changed (the other tables as they are)."""
    import pandas as pd

    data = tmp_path / "edited"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    jobs = pd.read_parquet(data / "jobs.parquet")
    edit(jobs).to_parquet(data / "jobs.parquet")
    return data


def test_repeated_job_ids_are_refused(tmp_path: Path, capsys) -> None:
    """Three jobs written twice (a jobs table joined by hand) loaded, and every sum over
    them counted those jobs twice. GitLab gives every job its own id: a retry is a new
    job with a new id, a skipped job run after a retry keeps its one row (case 07)."""
    import pandas as pd

    first = {}

    def repeat_three(jobs: pd.DataFrame) -> pd.DataFrame:
        first["id"] = int(jobs["job_id"].iloc[10])
        return pd.concat([jobs, jobs.iloc[10:13]], ignore_index=True)

    data = _sample_with_jobs(tmp_path, repeat_three)
    for cmd in (["data", "--data", str(data)],
                ["report", "--data", str(data), "--out", str(tmp_path / "site")]):
        assert main(cmd) == 2
        assert one_line(capsys) == (f"cachecost: error: {data / 'jobs.parquet'}: 3 job ids "
                                    f"appear more than once (first: {first['id']})")
    assert not (tmp_path / "site").exists()


def test_jobs_of_pipelines_the_dataset_lacks_are_refused(tmp_path: Path, capsys) -> None:
    """Jobs pointing to no stored pipeline loaded: the pipeline counts and the jobs'
    minutes then described different histories. Two jobs are moved to pipeline ids the
    sample does not hold (9e12 and 9e12 + 1): 2 jobs, 2 pipelines."""
    def move_two(jobs):
        jobs.loc[jobs.index[5], "pipeline_id"] = 9_000_000_000_000
        jobs.loc[jobs.index[7], "pipeline_id"] = 9_000_000_000_001
        return jobs

    data = _sample_with_jobs(tmp_path, move_two)
    job = int(__import__("pandas").read_parquet(data / "jobs.parquet")["job_id"].iloc[5])
    assert main(["model", "--data", str(data)]) == 2
    assert one_line(capsys) == (
        f"cachecost: error: {data / 'jobs.parquet'}: 2 jobs belong to 2 pipelines not in "
        f"pipelines.parquet (first: job {job} of pipeline 9000000000000)")


def test_a_jobs_table_that_is_a_directory_is_not_called_missing(tmp_path: Path,
                                                                capsys) -> None:
    """A jobs.parquet that is a directory (a Spark- or Hive-style partitioned export)
    was reported as "missing"; it is there, and is not the one file a table is."""
    data = tmp_path / "dir"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    (data / "jobs.parquet").unlink()
    (data / "jobs.parquet").mkdir()
    assert main(["data", "--data", str(data)]) == 2
    assert one_line(capsys) == (f"cachecost: error: {data / 'jobs.parquet'}: is a directory, "
                                "not a Parquet file (table 'jobs' is one file)")
