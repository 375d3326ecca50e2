"""A group report stopped by a signal leaves no worker, fork server or kernel running.

Real signals to a real ``cachecost report --group`` subprocess once its workers run a
project's notebooks (a kernel is up): SIGINT to the process group (a terminal's Ctrl-C),
SIGTERM to the parent, SIGKILL to the parent (nothing can clean up). Before the group's
workers were the report's (``start_pool``: they ignore Ctrl-C and die with the parent),
a killed group report left its workers building the other projects' pages.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

# tests/ is on sys.path (pytest puts a test package's parent there)
from report.test_signals import (
    check_stop_status,
    kernels_running,
    reaped,
    stop_and_check_nothing_left,
    wait_until,
)


@pytest.mark.parametrize(("signum", "to_group", "status"), [
    (signal.SIGINT, True, 130),
    (signal.SIGTERM, False, 143),
    (signal.SIGKILL, False, -signal.SIGKILL),
])
def test_a_stopped_group_report_leaves_no_process(fetched_group, tmp_path, signum, to_group,
                                                  status):
    group_dir = fetched_group[0]
    with reaped(subprocess.Popen(
            [sys.executable, "-m", "cachecost", "report", "--group", str(group_dir), "--out",
             str(tmp_path / "site"), "--jobs", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)) as proc:
        wait_until(lambda: kernels_running(proc, 1) or proc.poll() is not None, 120,
                   "a project's kernel to run")
        assert proc.poll() is None, "the group report ended before a kernel was seen"
        err = stop_and_check_nothing_left(proc, signum, to_group)
    check_stop_status(proc, err, signum, status)
