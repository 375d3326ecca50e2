"""Errors a user can act on: one line, exit status 2, no traceback, nothing half-written."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cachecost.cli import main
from cachecost.standin import StandinServer

from .fetchkit import NO_SCOPE_TOKEN, PROJECT, TOKEN


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    rc = main(list(argv))
    err = capsys.readouterr().err
    return rc, err


def assert_one_line(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cachecost: error: ")
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_url(token_env, tmp_path: Path, capsys) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    rc, err = run_cli(capsys, "fetch", "--url", url, "--project", PROJECT,
                      "--data", str(tmp_path / "d"))
    assert rc == 2
    assert_one_line(err, "cannot reach GitLab", url, "connection refused")
    assert not (tmp_path / "d" / "metadata.json").exists()


def test_bad_token_401(standin: StandinServer, monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-wrong-token")
    rc, err = run_cli(capsys, "fetch", "--url", standin.url, "--project", PROJECT,
                      "--data", str(tmp_path))
    assert rc == 2
    assert_one_line(err, "401", "GITLAB_TOKEN", "expired")
    assert "glpat-wrong-token" not in err


def test_token_without_read_api_403(standin: StandinServer, monkeypatch, tmp_path: Path,
                                    capsys) -> None:
    monkeypatch.setenv("GITLAB_PRIVATE_TOKEN", NO_SCOPE_TOKEN)
    rc, err = run_cli(capsys, "fetch", "--url", standin.url, "--project", PROJECT,
                      "--data", str(tmp_path))
    assert rc == 2
    assert_one_line(err, "403", "read_api", "GITLAB_PRIVATE_TOKEN")
    assert NO_SCOPE_TOKEN not in err


def test_unknown_project_404(standin: StandinServer, token_env, tmp_path: Path, capsys) -> None:
    rc, err = run_cli(capsys, "fetch", "--url", standin.url, "--project", "nobody/nothing",
                      "--data", str(tmp_path))
    assert rc == 2
    assert_one_line(err, "project nobody/nothing not found", "404")


@pytest.mark.parametrize("since", ["2025-13-01", "yesterday", "01/09/2025"])
def test_since_that_does_not_parse(standin: StandinServer, token_env, tmp_path: Path, capsys,
                                   since: str) -> None:
    rc, err = run_cli(capsys, "fetch", "--url", standin.url, "--project", PROJECT,
                      "--since", since, "--data", str(tmp_path))
    assert rc == 2
    assert_one_line(err, "--since", since, "YYYY-MM-DD")
    assert standin.counts["total"] == 0


@pytest.mark.parametrize("workers", ["0", "17"])
def test_workers_out_of_bounds(standin: StandinServer, token_env, tmp_path: Path, capsys,
                               workers: str) -> None:
    rc, err = run_cli(capsys, "fetch", "--url", standin.url, "--project", PROJECT,
                      "--workers", workers, "--data", str(tmp_path))
    assert rc == 2
    assert_one_line(err, "--workers", "between 1 and 16", workers)
    assert standin.counts["total"] == 0 and not any(tmp_path.iterdir())


def test_only_the_job_token(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("CI_JOB_TOKEN", "job-token-value")
    monkeypatch.setenv("CI_SERVER_URL", "http://127.0.0.1:9")
    rc, err = run_cli(capsys, "fetch", "--project", PROJECT, "--data", str(tmp_path))
    assert rc == 2
    assert_one_line(err, "CI_JOB_TOKEN", "cannot read the jobs and pipelines APIs", "read_api")


def test_no_token_at_all(tmp_path: Path, capsys) -> None:
    rc, err = run_cli(capsys, "fetch", "--url", "http://127.0.0.1:9", "--project", PROJECT,
                      "--data", str(tmp_path))
    assert rc == 2
    assert_one_line(err, "no GitLab token", "GITLAB_TOKEN")


def test_token_is_not_a_cli_option(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["fetch", "--url", "http://127.0.0.1:9", "--project", PROJECT, "--token", "x"])
    assert exc.value.code == 2


def test_data_dir_of_another_project(standin: StandinServer, token_env, tmp_path: Path,
                                     capsys) -> None:
    assert main(["fetch", "--url", standin.url, "--project", PROJECT, "--data", str(tmp_path),
                 "--quiet", "--logs-per-image", "0"]) == 0
    state = (tmp_path / "fetch_state.json").read_text()
    rc, err = run_cli(capsys, "fetch", "--url", standin.url, "--project", "other/project",
                      "--data", str(tmp_path))
    assert rc == 2
    assert_one_line(err, "holds qemu-project/qemu", "choose another --data")
    assert (tmp_path / "fetch_state.json").read_text() == state


def test_subprocess_error_has_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB", "CI_"))}
    env.update(GITLAB_TOKEN=TOKEN, PYTHON_GITLAB_CFG=str(tmp_path / "none.cfg"))
    proc = subprocess.run(
        [sys.executable, "-m", "cachecost", "fetch", "--url",
         f"http://127.0.0.1:{free_port()}", "--project", PROJECT, "--data", str(tmp_path / "d")],
        capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert_one_line(proc.stderr, "cannot reach GitLab")
    assert TOKEN not in proc.stdout + proc.stderr


def test_since_in_the_future(token_env, tmp_path: Path, capsys) -> None:
    rc, err = run_cli(capsys, "fetch", "--url", "http://127.0.0.1:9", "--project", PROJECT,
                      "--data", str(tmp_path / "d"), "--since", "2099-01-01")
    assert rc == 2
    assert_one_line(err, "--since 2099-01-01", "future")


def test_api_path_instead_of_the_instance_root(token_env, tmp_path: Path, capsys) -> None:
    """``--url https://host/api/v4``: python-gitlab would ask /api/v4/api/v4/... and the
    answer, a 404, would read as an unknown project; say what is wrong instead."""
    rc, err = run_cli(capsys, "fetch", "--url", "http://127.0.0.1:9/api/v4/", "--project",
                      PROJECT, "--data", str(tmp_path / "d"))
    assert rc == 2
    assert_one_line(err, "root URL", "/api/v4")
    assert not (tmp_path / "d").exists()
