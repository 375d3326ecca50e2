"""Job logs as GitLab sends them: ``text/plain`` with no charset (UTF-8 bytes), and cut by
GitLab Runner at its output limit (issue 22, "also seen").

Served by case 07's own server (``tests/cases/07-jobs-that-change-in-place/glserver.py``),
which sends traces as GitLab does: ``Content-Type: text/plain``, no charset.
"""

from __future__ import annotations

import json
from pathlib import Path

from cachecost.cli import main
from cachecost.collect.gitlab.client import connect
from cachecost.collect.gitlab.joblogs import fetch_trace, log_cut_at

from .fetchkit import case_server

CASE = Path(__file__).parent.parent / "cases" / "07-jobs-that-change-in-place"
TOKEN = "glpat-FAKE-job-logs"
#: GitLab Runner's own lines at its 4 MiB default (helpers/trace/buffer.go), as they arrive
CUT = ("\n\x1b[33;1mJob's log exceeded limit of 4194304 bytes.\n"
       "Job execution will continue but no more output will be collected.\x1b[0;m\n")
BUILD = ("$ docker build -t img .\nStep 1/3 : FROM debian:12\n ---> 4f1a2b3c4d5e\n"
         "Step 2/3 : RUN echo 'Grüße ✓ — naïve'\n ---> Using cache\n ---> 0123456789ab\n")


def _scenario(tmp: Path, trace: str) -> Path:
    state = json.loads((CASE / "state1.json").read_text(encoding="utf-8"))
    raw = tmp / "trace_2001.log"
    raw.write_bytes(trace.encode("utf-8"))          # the bytes the runner wrote
    state["traces"] = {"2001": f"@{raw}"}
    path = tmp / "scenario.json"
    path.write_text(json.dumps(state), encoding="utf-8")
    return path


def test_log_without_charset_is_read_as_utf8(tmp_path: Path) -> None:
    """'Grüße ✓ — naïve' as UTF-8 bytes, sent as text/plain: read back as written (as
    ISO-8859-1 it would read 'GrÃ¼ÃŸe âœ“ â€” naÃ¯ve')."""
    with case_server(CASE / "glserver.py", _scenario(tmp_path, BUILD)) as (url, _):
        client = connect(url, environ={"GITLAB_TOKEN": TOKEN})
        assert fetch_trace(client, 1, 2001) == BUILD
        client.close()


def test_log_cut_at_the_runner_limit_is_marked(tmp_path: Path, monkeypatch) -> None:
    """A sampled container-build log ending in the runner's limit lines: the fetch records
    job 2001's log as cut at 4,194,304 bytes (its counts are a lower bound); a whole log is
    not marked."""
    assert log_cut_at(BUILD + CUT) == 4_194_304 and log_cut_at(BUILD) is None
    stamped = "2025-10-01T10:00:05.000000Z 01O Job's log exceeded limit of 1048576 bytes.\n"
    assert log_cut_at(stamped) == 1_048_576          # behind a FF_TIMESTAMPS prefix
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(tmp_path / "none.cfg"))
    with case_server(CASE / "glserver.py", _scenario(tmp_path, BUILD + CUT)) as (url, asked):
        assert main(["fetch", "--url", url, "--project", "group/project", "--data",
                     str(tmp_path / "ds"), "--quiet"]) == 0
    assert "/api/v4/projects/1/jobs/2001/trace" in asked
    md = json.loads((tmp_path / "ds" / "metadata.json").read_text(encoding="utf-8"))
    assert md["job_logs_cut_bytes"] == {"2001": 4_194_304}
