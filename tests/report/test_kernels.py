"""Report kernels forked from the warm fork server: fresh, isolated, stopped like any kernel.

Each test runs real kernels (ipykernel over ZeroMQ) through jupyter_client or papermill,
as the report runner does.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import papermill
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.provisioning.local_provisioner import LocalPortCache

from cachecost.report.kernel_forkserver import KERNEL_PROCESS_NAME
from cachecost.report.kernels import (
    ForkedKernelManager,
    ForkedKernelProvisioner,
    ForkServer,
    launcher_arguments,
)
from cachecost.report.runner import KERNEL_ARGUMENTS, KERNEL_NAME

from .sitekit import write_notebook


def test_only_this_interpreters_ipykernel_is_forked():
    """The kernel spec's command is forked only when it is ``sys.executable -m
    ipykernel_launcher``; ipykernel's spec puts ``-Xfrozen_modules=off`` between, which
    becomes the fork server's interpreter option."""
    me = sys.executable
    assert launcher_arguments([me, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f",
                               "c.json", "--x=1"]) == (("-Xfrozen_modules=off",),
                                                       ["-f", "c.json", "--x=1"])
    assert launcher_arguments([me, "-m", "ipykernel_launcher", "-f", "c.json"]) == \
        ((), ["-f", "c.json"])
    assert launcher_arguments(["/usr/bin/python3-other", "-m", "ipykernel_launcher"]) is None
    assert launcher_arguments([me, "-m", "other_kernel", "-f", "c.json"]) is None
    assert launcher_arguments([me, "-c", "pass"]) is None
    assert launcher_arguments([]) is None


def _run(notebook: Path, out: Path, **parameters) -> nbformat.NotebookNode:
    papermill.execute_notebook(str(notebook), str(out), parameters=parameters,
                               kernel_name=KERNEL_NAME, progress_bar=False, log_output=False,
                               cwd=str(notebook.parent), extra_arguments=KERNEL_ARGUMENTS,
                               kernel_manager_class=ForkedKernelManager)
    return nbformat.read(str(out), as_version=4)


def _text(nb: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.get("output_type") == "stream")


def test_each_notebook_gets_a_fresh_forked_kernel(tmp_path, monkeypatch):
    """Two notebooks in a row: the second sees none of the first's names, counts its cells
    from 1, runs in a forked kernel (its process name) whose modules were preloaded
    (pandas is in ``sys.modules`` before any cell imports it), in the working directory and
    with the environment jupyter_client gives it."""
    monkeypatch.setenv("CACHECOST_TEST_MARK", "from-the-manager")
    first = write_notebook(tmp_path / "nbs" / "01-first.ipynb", ["leaked = 42"])
    second = write_notebook(tmp_path / "nbs" / "02-second.ipynb", [
        "import os, sys\n"
        "print('leaked' in globals(), 'pandas' in sys.modules)\n"
        "print(open('/proc/self/comm').read().strip(), os.getcwd())\n"
        "print(os.environ.get('CACHECOST_TEST_MARK'), os.getppid() != int(os.environ['JPY_PARENT_PID']))\n"
        "print(sorted(f'-X{k}' + ('' if v is True else f'={v}') for k, v in sys._xoptions.items()))"])
    _run(first, tmp_path / "first.ipynb")
    nb = _run(second, tmp_path / "second.ipynb")
    lines = _text(nb).splitlines()
    assert lines[0] == "False True"
    assert lines[1] == f"{KERNEL_PROCESS_NAME} {tmp_path / 'nbs'}"
    assert lines[2] == "from-the-manager False"
    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv   # its -X options, if any
    assert lines[3] == str(sorted(a for a in spec[1:spec.index("-m")] if a.startswith("-X")))
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))


def test_a_cell_error_is_reported_as_from_any_kernel(tmp_path):
    nb = write_notebook(tmp_path / "nbs" / "01-fails.ipynb", ["raise ValueError('boom 7')"])
    with pytest.raises(papermill.PapermillExecutionError, match="boom 7"):
        _run(nb, tmp_path / "out.ipynb")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pid: int, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def test_shutdown_and_exit_code_reach_the_manager():
    """jupyter_client's shutdown ends the forked kernel, and its exit reaches the manager
    through the fork server (poll: None while it runs, an exit code after)."""
    async def scenario() -> tuple[int, int | None, int | None, bool]:
        km = ForkedKernelManager(kernel_name=KERNEL_NAME)
        await km.start_kernel(extra_arguments=KERNEL_ARGUMENTS)
        assert isinstance(km.provisioner, ForkedKernelProvisioner)
        pid = km.provisioner.pid
        running = await km.provisioner.poll()
        await km.shutdown_kernel(now=False)
        return pid, running, km.provisioner.process, await km.is_alive()

    # in a thread of its own: a test before this one may leave this thread's loop running
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pid, running, process, alive = pool.submit(asyncio.run, scenario()).result()
    assert running is None
    assert process is None and not alive
    assert _wait_gone(pid)


def test_kernels_end_with_their_fork_server(tmp_path):
    """A fork server that ends (its starter died, or closed it) takes its kernels along
    (``PR_SET_PDEATHSIG``): no kernel outlives the worker that asked for it."""
    server = ForkServer()
    pid = server.fork(["-f", str(tmp_path / "kernel.json"), *KERNEL_ARGUMENTS], None, None)
    deadline = time.monotonic() + 30
    while not (tmp_path / "kernel.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)            # the kernel writes its connection file once it runs
    assert _alive(pid)
    assert server.exit_code(pid) is None
    server.close()
    assert _wait_gone(pid)
    assert server.exit_code(pid) is not None


def test_an_edit_to_the_preloaded_source_starts_a_new_fork_server(tmp_path, monkeypatch):
    """``build_report(jobs=1)`` runs its kernels from this process's fork server, which
    outlives the build. After an edit to cachecost's source the fingerprint rebuilds
    ("changed: package"), so the next kernel must come from a server that imported the
    edited source, not from the one that preloaded the old: same files -> same server;
    one file rewritten (new size) -> a new server, and the old one, idle, ends."""
    source = tmp_path / "pkg"
    source.mkdir()
    (source / "mod.py").write_text("MARK = 1\n")
    monkeypatch.setattr("cachecost.report.kernels.PRELOADED_SOURCE_DIR", source)
    first = ForkServer.get(("-Xfrozen_modules=off",))
    assert ForkServer.get(("-Xfrozen_modules=off",)) is first
    (source / "mod.py").write_text("MARK = 22\n")
    second = ForkServer.get(("-Xfrozen_modules=off",))
    try:
        assert second is not first
        assert first.process.wait(10) is not None    # the replaced server, no kernel: ended
        assert ForkServer.get(("-Xfrozen_modules=off",)) is second
    finally:
        second.close()


def test_the_fork_server_outlives_the_thread_that_started_it(tmp_path):
    """The fork server is shared by every thread of its process: two builds in two
    threads (``build_report(jobs=1)`` each) fork from one server. It must not end when
    the thread that happened to start it ends (``PR_SET_PDEATHSIG`` is per thread: the
    other build's kernel died, DeadKernelError), only when the process does."""
    box: dict[str, ForkServer] = {}

    def start() -> None:
        box["server"] = ForkServer()
        time.sleep(3)              # past the server's start-up, then this thread ends

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    server = box["server"]
    try:
        time.sleep(1.5)
        assert server.process.poll() is None
        pid = server.fork(["-f", str(tmp_path / "kernel.json"), *KERNEL_ARGUMENTS], None, None)
        assert server.exit_code(pid) is None
    finally:
        server.close()
    assert _wait_gone(pid)


_WHERE_AM_I = ("import json, os, stat\n"
               "from ipykernel.kernelapp import IPKernelApp\n"
               "app = IPKernelApp.instance()\n"
               "folder = os.path.dirname(app.ip)\n"
               "print(json.dumps([app.transport, app.ip, app.connection_file,\n"
               "                  stat.S_IMODE(os.stat(folder).st_mode)]))")


def test_forked_kernels_talk_over_ipc_sockets_in_the_servers_private_folder(tmp_path):
    """A forked kernel binds ZeroMQ ``ipc`` sockets (Unix domain sockets), not tcp ports,
    and its sockets and connection file are in its fork server's folder, mode 0700 (the
    connection file holds the session key): ``<folder>/<16 hex>-1`` ... ``-5`` and
    ``<folder>/<16 hex>.json``. After the notebook, the manager has removed both."""
    nb = write_notebook(tmp_path / "nbs" / "01-where.ipynb", [_WHERE_AM_I])
    transport, ip, connection_file, mode = json.loads(_text(_run(nb, tmp_path / "o.ipynb")))
    folder = Path(ip).parent
    assert transport == "ipc"
    assert folder.name.startswith("cachecost-kernels-") and mode & 0o777 == 0o700
    assert connection_file == f"{ip}.json" and len(Path(ip).name) == 16
    servers = [s for s in ForkServer._instances.values() if s.process.poll() is None]
    assert str(folder) in [s.socket_dir for s in servers]
    assert not Path(connection_file).exists()
    assert not list(folder.glob(f"{Path(ip).name}-*"))


def test_a_port_taken_before_the_kernel_binds_cannot_stop_it(tmp_path, monkeypatch):
    """The race that failed CI once (``ZMQError: Address already in use`` from a kernel of
    a two-worker report): over tcp, jupyter_client picks free ports by binding and closing
    them, and the kernel binds them later; a port taken in between (here: held open by
    this test, and handed out as every port) kills the kernel. A forked kernel's ipc
    socket paths are its own, so the same taken port cannot touch it."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    monkeypatch.setattr(LocalPortCache, "find_available_port",
                        lambda self, ip: taken.getsockname()[1])
    try:
        nb = write_notebook(tmp_path / "nbs" / "01-runs.ipynb", ["print(6 * 7)"])
        assert _text(_run(nb, tmp_path / "o.ipynb")) == "42\n"
    finally:
        taken.close()


def test_the_socket_folder_goes_with_a_killed_starter(tmp_path):
    """SIGKILL of the process that runs notebooks (no clean-up of its own can run) still
    removes its kernels' sockets and connection files: the fork server notices its starter
    is gone (within :data:`PARENT_POLL_S`), its kernels die with it, and it removes its
    folder. Before, each kernel left a ``/tmp/tmpXXXXXXXX.json`` connection file."""
    script = tmp_path / "starter.py"
    script.write_text(
        "import sys, time\n"
        "from cachecost.report.kernels import ForkServer\n"
        "server = ForkServer()\n"
        f"server.fork(['-f', server.socket_dir + '/k.json', *{KERNEL_ARGUMENTS!r}], None, None)\n"
        "print(server.socket_dir, flush=True)\n"
        "time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        folder = Path(proc.stdout.readline().strip())
        deadline = time.monotonic() + 30
        while not (folder / "k.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)        # the kernel has written its connection file: it runs
        assert (folder / "k.json").exists()
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not folder.exists()


def test_a_starter_gone_mid_fork_ends_the_server_quietly(tmp_path):
    """A report stopped while its worker waits for a kernel (CI, a group report's Ctrl-C)
    closes the reply pipe before the server has answered: the server's reply breaks. It
    must end as on any stop, with no traceback on the command's stderr (before:
    ``BrokenPipeError`` from ``_reply``) and its folder removed; its kernel dies with it."""
    replies_r, replies_w = os.pipe()
    folder = tmp_path / "sockets"
    folder.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cachecost.report.kernel_forkserver", str(replies_w),
         str(os.getpid()), str(folder)],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(replies_w,))
    os.close(replies_w)
    os.close(replies_r)              # the starter's end of the replies: gone
    request = {"argv": ["-f", str(folder / "k.json"), *KERNEL_ARGUMENTS], "cwd": None,
               "env": None}
    _, err = proc.communicate(json.dumps(request).encode() + b"\n", timeout=120)
    assert b"Traceback" not in err, err.decode()
    assert proc.returncode == 0
    assert not folder.exists()
