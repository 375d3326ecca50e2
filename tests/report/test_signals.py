"""A report stopped by a signal leaves no process running and nothing the next build keeps.

Real signals to a real ``cachecost report`` subprocess while its two workers
run a notebook that waits (a cell polls a flag file the test removes): SIGINT to
the whole process group (what a terminal's Ctrl-C does), SIGTERM to the parent
(``kill``, ``timeout``, a cancelled CI job), SIGKILL to the parent (nothing can
clean up). Before the fix, SIGTERM and SIGKILL left ``.<scenario>.build-*``
folders that later builds never removed, and the two workers (and their
kernels) kept running after the parent was gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cachecost.report.kernel_forkserver import KERNEL_PROCESS_NAME
from cachecost.report.outdir import find_debris

from .sitekit import write_notebook

# the CLI with the report notebooks taken from argv[1] (the command has no option for it)
DRIVER = (
    "import sys\n"
    "from pathlib import Path\n"
    "import cachecost.report.build as build\n"
    "build.NOTEBOOKS_DIR = Path(sys.argv[1])\n"
    "from cachecost.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(ppid, state, start time in ticks) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return int(fields[1]), fields[0], int(fields[19])


def descendants(root: int) -> set[tuple[int, int]]:
    """Every process below ``root`` as (pid, start time), so a reused pid is not mistaken."""
    children: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            children.setdefault(st[0], []).append(int(entry))
            starts[int(entry)] = st[2]
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add((child, starts[child]))
            todo.append(child)
    return found


def still_alive(procs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of ``procs`` still running (a zombie has ended)."""
    alive = set()
    for pid, start in procs:
        st = _stat(pid)
        if st is not None and st[2] == start and st[1] != "Z":
            alive.add((pid, start))
    return alive


def wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def slow_notebooks(tmp_path: Path) -> tuple[Path, Path]:
    """Two report notebooks that wait while ``flag`` exists; returns (notebooks, flag)."""
    flag = tmp_path / "flag"
    flag.touch()
    wait_cell = (f"import os, time\nwhile os.path.exists({str(flag)!r}):\n"
                 "    time.sleep(0.2)")
    for name in ("01-wait.ipynb", "02-wait.ipynb"):
        write_notebook(tmp_path / "nbs" / name, [wait_cell])
    return tmp_path / "nbs", flag


def start_report(notebooks: Path, out: Path, scenario: Path, jobs: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(notebooks), "report", "--scenario", str(scenario),
         "--out", str(out), "--jobs", str(jobs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def kernels_running(proc: subprocess.Popen, wanted: int) -> bool:
    """Whether ``wanted`` kernels run below ``proc``: started by jupyter_client (``python -m
    ipykernel_launcher``) or forked by a fork server (named ``cachecost-kern``)."""
    kernels = 0
    for pid, _ in descendants(proc.pid):
        try:
            kernels += (b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes()
                        or Path(f"/proc/{pid}/comm").read_text().strip() == KERNEL_PROCESS_NAME)
        except OSError:
            pass
    return kernels >= wanted


@contextlib.contextmanager
def reaped(proc: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """``proc`` for the block; if it still runs when the block ends (a failed check), its
    process group gets SIGKILL and is waited for, so no test leaves a build running."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def stop_and_check_nothing_left(proc: subprocess.Popen, signum: int, to_group: bool) -> str:
    """Send ``signum`` to the command (its whole process group with ``to_group``), wait
    for it, check that every process below it when the signal came is gone within 5 s;
    return its stderr."""
    procs = descendants(proc.pid)
    (os.killpg if to_group else os.kill)(proc.pid, signum)
    _, err = proc.communicate(timeout=30)
    deadline = time.monotonic() + 5
    while still_alive(procs) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not still_alive(procs), f"alive 5 s after {signum!r}: {still_alive(procs)}"
    return err


def check_stop_status(proc: subprocess.Popen, err: str, signum: int, status: int) -> None:
    """The command's exit status; for a signal it can answer, one last line, no traceback."""
    assert proc.returncode == status
    if signum != signal.SIGKILL:
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == (
            "cachecost: interrupted" if signum == signal.SIGINT
            else "cachecost: stopped by SIGTERM")


@pytest.mark.parametrize(("signum", "to_group", "status", "jobs"), [
    (signal.SIGINT, True, 130, 2),
    (signal.SIGTERM, False, 143, 2),
    (signal.SIGTERM, False, 143, 1),      # no pool: the kernel is the command's own child
    (signal.SIGKILL, False, -signal.SIGKILL, 2),
])
def test_a_stopped_report_leaves_no_process_and_no_debris(
        slow_notebooks, one_scenario, tmp_path, signum, to_group, status, jobs):
    notebooks, flag = slow_notebooks
    out = tmp_path / "site"
    with reaped(start_report(notebooks, out, one_scenario, jobs)) as proc:
        wait_until(lambda: kernels_running(proc, jobs), 120, "the kernels to run the notebooks")
        assert find_debris(out), "the build should be staging when the signal comes"
        err = stop_and_check_nothing_left(proc, signum, to_group)
    check_stop_status(proc, err, signum, status)
    if signum != signal.SIGKILL:
        # a first build stopped: nothing of it stays (its --out did not exist before)
        assert not out.exists() or not find_debris(out)
        return
    left = find_debris(out)
    assert left, "SIGKILL leaves the staging folders: the next build must sweep them"
    flag.unlink()                         # the next build's notebooks finish at once
    again = subprocess.run(
        [sys.executable, "-c", DRIVER, str(notebooks), "report", "--scenario",
         str(one_scenario), "--out", str(out), "--jobs", "2"],
        capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"removed {len(left)} leftover(s)" in again.stderr
    assert not find_debris(out)
    assert not any(p.name.startswith(".") and p.name != ".cachecost-build.json"
                   for p in out.iterdir())


@pytest.mark.parametrize("delay_s", [0.5, 1.5, 3.0])
def test_ctrl_c_at_any_moment_is_one_line_and_130(tmp_path, one_scenario, delay_s):
    """Ctrl-C (SIGINT to the process group) while the command imports, loads or builds."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cachecost", "report", "--scenario", str(one_scenario),
         "--out", str(tmp_path / "site"), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(delay_s)
    procs = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    with reaped(proc):
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "cachecost: interrupted"
    time.sleep(5)
    assert not still_alive(procs | descendants(proc.pid))
