"""A run that fails before writing anything leaves no folder behind, and an existing one as it was.

`cachecost report --out DIR` used to create DIR (its lock is taken on the directory)
and then fail on data that does not load, leaving an empty DIR; into an existing DIR
it made and removed a probe and staging directories, changing its modification time.
`cachecost fetch` could leave a new --data folder holding only ``fetch_state.json``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cachecost.cli import main
from cachecost.config import SAMPLE_DATA_DIR


def snapshot(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path under ``root`` (itself included): its mtime in ns and a file's bytes."""
    out = {}
    for path in [root, *sorted(root.rglob("*"))]:
        st = path.stat()
        out[str(path.relative_to(root))] = (st.st_mtime_ns,
                                            path.read_bytes() if path.is_file() else None)
    return out


@pytest.fixture
def corrupt_data(tmp_path: Path) -> Path:
    """The sample with a jobs table that is not Parquet: metadata loads, the data does not."""
    data = tmp_path / "corrupt"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    (data / "jobs.parquet").write_bytes(b"not parquet at all")
    return data


@pytest.fixture
def old_site(tmp_path: Path) -> Path:
    """An --out folder holding an earlier report, with old times."""
    site = tmp_path / "old-site"
    (site / "scenario").mkdir(parents=True)
    (site / "index.html").write_text("<p>the earlier report</p>", encoding="utf-8")
    (site / "scenario" / "summary.txt").write_text("older numbers", encoding="utf-8")
    # an earlier report's build record: the folder is cachecost's (else --out is refused)
    (site / ".cachecost-build.json").write_text('{"version": 0}', encoding="utf-8")
    for path in (site / "scenario" / "summary.txt", site / "index.html", site / "scenario",
                 site / ".cachecost-build.json", site):
        os.utime(path, ns=(1_577_836_800 * 10**9, 1_577_836_800 * 10**9))
    return site


@pytest.mark.parametrize("data", ["missing", "corrupt"])
def test_report_that_fails_leaves_no_new_out_folder(
        tmp_path: Path, corrupt_data: Path, data: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new" / "site"                # neither exists yet
    data_dir = tmp_path / "nowhere" if data == "missing" else corrupt_data
    rc = main(["report", "--data", str(data_dir), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("cachecost: error: ") and str(data_dir) in err[-1]
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("data", ["missing", "corrupt"])
def test_report_that_fails_leaves_an_existing_out_as_it_was(
        tmp_path: Path, corrupt_data: Path, old_site: Path, data: str) -> None:
    before = snapshot(old_site)
    data_dir = tmp_path / "nowhere" if data == "missing" else corrupt_data
    assert main(["report", "--data", str(data_dir), "--out", str(old_site)]) == 2
    assert snapshot(old_site) == before


def test_fetch_that_fails_before_saving_leaves_no_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The stand-in answers the project, then drops every connection: no table is saved."""
    import time

    from cachecost.dataset.sample import SampleSettings, generate_sample
    from cachecost.standin import StandinData, start_standin

    monkeypatch.setattr(time, "sleep", lambda s: None)        # python-gitlab's backoff
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-FAKE-standin-token-4711")
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(tmp_path / "none.cfg"))
    data = tmp_path / "raw" / "qemu"
    with start_standin(StandinData(generate_sample(SampleSettings(days=1))),
                       tokens={"glpat-FAKE-standin-token-4711": {"read_api"}}) as srv:
        srv.faults.die_after = 1
        rc = main(["fetch", "--url", srv.url, "--project", "qemu-project/qemu",
                   "--data", str(data), "--quiet", "--logs-per-image", "0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].endswith("nothing was written")
    assert not (tmp_path / "raw").exists()


@pytest.mark.parametrize("earlier_fetch", [False, True])
def test_report_fetch_that_fails_leaves_an_existing_out_as_it_was(
        tmp_path: Path, old_site: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], earlier_fetch: bool) -> None:
    """`report --fetch` against a port where nothing listens fails in the fetch notebook:
    no OUT/fetch/ folder appears, and an earlier run's executed fetch notebook stays as
    it was (it used to be replaced by the failed run's)."""
    import socket

    if earlier_fetch:
        (old_site / "fetch").mkdir()
        (old_site / "fetch" / "00-fetch-gitlab.ipynb").write_text("{}", encoding="utf-8")
        for path in (old_site / "fetch" / "00-fetch-gitlab.ipynb", old_site / "fetch",
                     old_site):
            os.utime(path, ns=(1_577_836_800 * 10**9, 1_577_836_800 * 10**9))
    with socket.socket() as s:                      # a free port, closed again
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-FAKE-standin-token-4711")
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(tmp_path / "none.cfg"))
    before = snapshot(old_site)
    rc = main(["report", "--fetch", "--url", f"http://127.0.0.1:{port}", "--project",
               "qemu-project/qemu", "--out", str(old_site), "--jobs", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("cachecost: error: cannot reach GitLab"), err
    assert snapshot(old_site) == before
