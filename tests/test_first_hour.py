"""A new user's first hour (issue 14): synthetic demo data, output checks, clear errors,
scenario identity, warnings once, the registry figure, one report per --out at a time.

Every server here listens on 127.0.0.1; nothing leaves the machine.
"""

from __future__ import annotations

import fcntl
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from cachecost.cli import main
from cachecost.collect.gitlab.client import SYNTHETIC_HEADER, connect
from cachecost.config import SAMPLE_DATA_DIR, SCENARIOS_DIR
from cachecost.dataset.io import describe_dataset, load_dataset
from cachecost.dataset.sample import SampleSettings, generate_sample
from cachecost.errors import CachecostError
from cachecost.standin import StandinData, start_standin

TOKEN = "glpat-first-hour-0123456789"
SCENARIO = SCENARIOS_DIR / "qemu-private-runners.yaml"
ENV = {k: v for k, v in os.environ.items()
       if k not in ("GITLAB_TOKEN", "GITLAB_PRIVATE_TOKEN", "CI_SERVER_URL", "CI_JOB_TOKEN")}


def cli(*args: str, env: dict | None = None, cwd: Path | None = None
        ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cachecost", *args], capture_output=True,
                          text=True, env={**ENV, **(env or {})}, cwd=cwd, timeout=600)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The single stderr line of a clean failure (exit 2, no traceback)."""
    lines = [line for line in proc.stderr.splitlines()
             if line.strip() and not line.startswith("cachecost: fetching ")]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("cachecost: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def small() -> StandinData:
    return StandinData(generate_sample(SampleSettings(days=3)))


@pytest.fixture
def standin(small: StandinData):
    srv = start_standin(small, tokens={TOKEN: {"read_api"}})
    yield srv
    srv.stop()


class _Handler(http.server.BaseHTTPRequestHandler):
    body, ctype, status = b"", "text/html", 200

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(self.status)
        self.send_header("Content-Type", self.ctype)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


@pytest.fixture
def serve() -> Iterator:
    """Start a tiny server answering every GET with (status, content type, body)."""
    servers = []

    def start(status: int, ctype: str, body: bytes) -> str:
        handler = type("H", (_Handler,), {"status": status, "ctype": ctype, "body": body})
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


# ------------------------------------------------------------------ 1. synthetic end to end


def test_client_records_the_standin_marker_and_not_a_plain_json_server(standin, serve):
    client = connect(standin.url, environ={"GITLAB_TOKEN": TOKEN})
    client.get_json("/projects/qemu-project%2Fqemu", what="project")
    assert client.is_synthetic is True
    other = serve(200, "application/json", b'{"id": 1}')
    client = connect(other, environ={"GITLAB_TOKEN": TOKEN})
    assert client.get_json("/projects/1", what="project") == {"id": 1}
    assert client.is_synthetic is False
    assert SYNTHETIC_HEADER.lower().startswith("x-cachecost")   # not a GitLab header


def test_demo_fetch_then_report_is_synthetic_on_every_page(tmp_path):
    """`make demo-fetch` + `cachecost report --data data/raw/demo`, and a second report into
    the same --out waiting for the first (the lock is held by this test meanwhile)."""
    demo = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "cachecost.standin.demo", "--out", str(demo)],
                          capture_output=True, text=True, env=ENV, timeout=600)
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((demo / "metadata.json").read_text())
    assert meta["is_synthetic"] is True and meta["source"] == "gitlab"

    site = tmp_path / "site"
    site.mkdir()
    held = os.open(site, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)
    report = subprocess.Popen(
        [sys.executable, "-m", "cachecost", "report", "--data", str(demo), "--out", str(site),
         "--scenario", str(SCENARIO), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        first = report.stderr.readline()
        assert "another cachecost report is writing into" in first and "waiting" in first
        assert not (site / "index.html").exists()       # nothing written while it waits
    finally:
        os.close(held)                                  # the first report "finishes"
    out, err = report.communicate(timeout=600)
    assert report.returncode == 0, err

    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 3                              # index + two notebooks
    for page in pages:
        assert 'class="cc-synthetic"' in page.read_text(encoding="utf-8"), page
    folder = site / "qemu-private-runners"
    summary = (folder / "summary.txt").read_text()
    assert "synthetic" in summary.lower() and "127.0.0.1" not in summary
    results = json.loads((folder / "results.json").read_text())
    assert results["is_synthetic_data"] is True


# ------------------------------------------------------------------ 2. output checked first


@pytest.mark.parametrize("command", ["fetch", "report"])
def test_output_under_a_plain_file_fails_before_any_request(command, standin, tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x")
    bad = plain / "out"
    if command == "fetch":
        args = ["fetch", "--url", standin.url, "--project", "qemu-project/qemu",
                "--data", str(bad)]
    else:
        args = ["report", "--fetch", "--url", standin.url, "--project", "qemu-project/qemu",
                "--data", str(tmp_path / "d"), "--out", str(bad)]
    line = one_line_error(cli(*args, env={"GITLAB_TOKEN": TOKEN}))
    assert str(bad) in line and f"{plain} is a file, not a directory" in line
    assert standin.counts["total"] == 0


def _statvfs_read_only(real):
    def fake(path):
        st = real(path)
        return os.statvfs_result((*st[:8], st.f_flag | os.ST_RDONLY, st.f_namemax))
    return fake


@pytest.mark.parametrize(("option", "argv"), [
    ("--data", ["fetch", "--url", "http://127.0.0.1:9", "--project", "g/p", "--data"]),
    ("--out", ["report", "--out"]),
])
@pytest.mark.parametrize("how", ["read-only", "permission"])
def test_read_only_or_forbidden_output_is_one_line(option, argv, how, tmp_path, monkeypatch,
                                                   capsys):
    """Root ignores chmod, so the file system's answers are simulated here."""
    target = tmp_path / "out"
    if how == "read-only":
        monkeypatch.setattr(os, "statvfs", _statvfs_read_only(os.statvfs))
        reason = "read-only file system"
    else:
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: (
            False if Path(p) == tmp_path else real_access(p, mode, **kw)))
        reason = "permission denied"
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    assert main([*argv, str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{option} {target}: cannot write there" in err
    assert reason in err and not target.exists()


def test_report_no_wait_says_busy(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    held = os.open(site, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        line = one_line_error(cli("report", "--out", str(site), "--no-wait"))
    finally:
        os.close(held)
    assert f"--out {site}: busy" in line


def test_out_dir_lock_is_released_after_the_build(tmp_path):
    from cachecost.commands.report import out_dir_lock

    with out_dir_lock(tmp_path, wait=False):
        with pytest.raises(CachecostError, match="busy"):
            with out_dir_lock(tmp_path, wait=False):
                pass
    with out_dir_lock(tmp_path, wait=False):          # free again
        pass


# ------------------------------------------------------------------ 5. errors that say what


def test_plain_web_server_is_not_a_gitlab_api(serve, tmp_path):
    url = serve(404, "text/html", b"<!DOCTYPE HTML><html><body>404 File not found</body></html>")
    line = one_line_error(cli("fetch", "--url", url, "--project", "a/b", "--data",
                              str(tmp_path / "d"), env={"GITLAB_TOKEN": TOKEN}))
    assert f"{url}: not a GitLab API (" in line and "an HTML page" in line
    assert "token" not in line and "resume" not in line


def test_html_answer_is_not_a_gitlab_api(serve, tmp_path):
    url = serve(200, "text/html; charset=utf-8", b"<html><body>Sign in</body></html>")
    line = one_line_error(cli("fetch", "--url", url, "--project", "a/b", "--data",
                              str(tmp_path / "d"), env={"GITLAB_TOKEN": TOKEN}))
    assert f"{url}: not a GitLab API (" in line and "HTTP 200 an HTML page" in line
    assert "resume" not in line


def test_https_to_a_plain_http_port(standin, tmp_path):
    https = standin.url.replace("http://", "https://")
    line = one_line_error(cli("fetch", "--url", https, "--project", "qemu-project/qemu",
                              "--data", str(tmp_path / "d"), env={"GITLAB_TOKEN": TOKEN}))
    assert "TLS to a plain-HTTP port" in line and https in line and "resume" not in line


def test_report_fetch_error_is_the_fetch_line_without_notebook_framing(serve, tmp_path):
    url = serve(404, "text/html", b"<html>nope</html>")
    line = one_line_error(cli("report", "--fetch", "--url", url, "--project", "a/b",
                              "--data", str(tmp_path / "d"), "--out", str(tmp_path / "site"),
                              env={"GITLAB_TOKEN": TOKEN}))
    assert line.startswith(f"cachecost: error: {url}: not a GitLab API (")
    assert ".ipynb" not in line and "cell" not in line and "CachecostError" not in line


def test_non_ini_gitlab_config_is_one_line(tmp_path):
    cfg = tmp_path / "gl.cfg"
    cfg.write_text("not an ini file\n")
    line = one_line_error(cli("fetch", "--gitlab-config", "x", "--project", "a/b", "--data",
                              str(tmp_path / "d"), env={"PYTHON_GITLAB_CFG": str(cfg)}))
    assert str(cfg) in line and "not a python-gitlab config file" in line


# ------------------------------------------------------------------ 6. scenario identity


@pytest.mark.parametrize(("text", "missing"), [
    ("", "empty scenario"),
    ("# only a comment\n", "empty scenario"),
    ("title: t\nbaseline: no-cache\ncompute: {mode: private-runners}\n", "missing name;"),
    ("name: n\ncompute: {mode: private-runners}\n", "missing baseline;"),
    ("name: n\nbaseline: no-cache\n", "missing compute.mode;"),
    ("name: n\nbaseline: no-cache\ncompute: {cost_factor: 1}\n", "missing compute.mode;"),
    ("title: t\n", "missing name, baseline, compute.mode;"),
])
@pytest.mark.parametrize("command", ["model", "report"])
def test_scenario_must_name_itself_baseline_and_compute_mode(text, missing, command,
                                                              tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    extra = ["--out", str(tmp_path / "site")] if command == "report" else []
    assert main([command, "--scenario", str(path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and missing in err


def test_model_explain_lists_the_defaults_used(capsys):
    from cachecost.model.scenario import KEYS, load_scenario

    assert main(["model", "--explain", "--scenario", str(SCENARIO)]) == 0
    out = capsys.readouterr().out
    sc = load_scenario(SCENARIO)
    defaulted = [f"{s}.{k}" for s, keys in KEYS.items() for k in keys
                 if sc.source(f"{s}.{k}") == "default"]
    given = [f"{s}.{k}" for s, keys in KEYS.items() for k in keys
             if sc.source(f"{s}.{k}") == "scenario"]
    assert defaulted and given
    head, _, tail = out.partition("set by the scenario")
    assert f"defaults used ({len(defaulted)} of {len(defaulted) + len(given)}" in head
    for name in defaulted:
        assert f"  {name} = " in head and f"  {name} = " not in tail
    for name in given:
        assert f"  {name} = " in tail


# ------------------------------------------------------------------ 7. the registry figure


def test_data_json_dedup_is_the_project_figure_or_labelled_partial(tmp_path):
    ds = load_dataset(None)
    repos = ds.registry_repositories
    everyone = describe_dataset(ds)
    assert everyone["registry_dedup_size_bytes"] == int(repos["size_bytes"].sum())
    assert everyone["registry_dedup_partial"] is None

    one_known = repos.assign(size_bytes=[repos["size_bytes"].iloc[0]] + [float("nan")]
                             * (len(repos) - 1))
    ds.registry_repositories = one_known
    desc = describe_dataset(ds)
    assert desc["registry_dedup_size_bytes"] is None     # one repository is not the project
    part = desc["registry_dedup_partial"]
    assert part["size_bytes"] == int(repos["size_bytes"].iloc[0])
    assert (part["repositories"], part["of_repositories"]) == (1, len(repos))
    assert part["note"].startswith("partial")

    # a project figure at least its largest tag's size is a measurement (a smaller one,
    # GitLab's 0 without the metadata database, is not: case 12): 50 GiB is above any tag
    ds.metadata = {**ds.metadata, "container_registry_size_bytes": 50 * 1024**3}
    desc = describe_dataset(ds)
    assert desc["registry_dedup_size_bytes"] == 50 * 1024**3
    assert desc["registry_dedup_source"].startswith("project statistics")


def test_data_text_labels_a_partial_figure(tmp_path):
    from cachecost.commands.data import format_description

    ds = load_dataset(None)
    ds.registry_repositories = ds.registry_repositories.assign(
        size_bytes=[2 * 1024**3] + [float("nan")] * (len(ds.registry_repositories) - 1))
    text = format_description(describe_dataset(ds))
    assert f"2.0 GiB for 1 of {len(ds.registry_repositories)} repositories (partial)" in text


# ------------------------------------------------------------------ 4. make lab


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_lab_starts_as_this_user(tmp_path):
    """`make lab` adds --allow-root for root (CI, containers) and nothing for a user."""
    root = Path(__file__).resolve().parents[1]
    stamp = ".venv/.installed-stamp"
    dry = subprocess.run(["make", "-n", "-o", stamp, "lab"], cwd=root, capture_output=True,
                         text=True, check=True).stdout
    assert ("--allow-root" in dry) == (os.geteuid() == 0)
    port = _free_port()
    env = {**ENV, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    lab = subprocess.Popen(
        ["make", "-o", stamp, "lab", f"BIN={Path(sys.executable).parent}",
         f"LAB_ARGS=--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
         "--ServerApp.port_retries=0"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True)
    seen = []
    try:
        for line in lab.stderr:
            seen.append(line)
            if f"127.0.0.1:{port}/lab" in line or "Running as root" in line \
                    or lab.poll() is not None:
                break
    finally:
        os.killpg(lab.pid, 15)
        lab.wait(timeout=60)
    text = "".join(seen)
    assert "Running as root is not recommended" not in text, text
    assert f"127.0.0.1:{port}/lab" in text, text


# ------------------------------------------------------------------ bad-input sweep


def test_shipped_scenarios_and_sample_are_found():
    assert (SAMPLE_DATA_DIR / "metadata.json").is_file()
    assert len(sorted(SCENARIOS_DIR.glob("*.yaml"))) >= 3
    assert isinstance(pd.read_parquet(SAMPLE_DATA_DIR / "jobs.parquet"), pd.DataFrame)
