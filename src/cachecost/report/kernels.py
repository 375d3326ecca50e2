"""Report kernels forked from a warm fork server instead of started from scratch.

    papermill.execute_notebook(..., kernel_manager_class=ForkedKernelManager)

Each report notebook runs in a kernel of its own, as in JupyterLab. Started the usual way
(jupyter_client's :class:`~jupyter_client.provisioning.LocalProvisioner`: ``python -m
ipykernel_launcher``), a kernel costs about 0.9 s of CPU before it runs a cell (the
interpreter, IPython and ipykernel) and its first cells about 0.5 s more importing
pandas, plotly and cachecost's report modules: most of the 2 s a page takes on a small
dataset, paid again for every notebook of every scenario of every project of a group
report (``scripts/bench_group.py report-pages``).

:class:`ForkedKernelProvisioner` starts the same kernel as a child of a fork server
(:mod:`cachecost.report.kernel_forkserver`: one per process that runs notebooks, started
at its first kernel) that has imported those modules once
(:mod:`cachecost.report.kernel_preload`). Each kernel is still a new process that runs
ipykernel's own entry point with the kernel spec's arguments, the connection file, the
working directory and the environment jupyter_client gives it: no notebook shares a
kernel, a namespace or an execution count with another; only modules already imported
are not imported again.

The kernel spec must be this interpreter's ipykernel (``python -m ipykernel_launcher``
run by :data:`sys.executable`); any other kernel (another interpreter, another language)
starts the usual way. A fork server that cannot start or dies makes its kernels fail to
start, with the reason on stderr, as a kernel that cannot start does.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path
from typing import IO, Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from cachecost.config import PACKAGE_DIR

#: The kernel spec command this interpreter's ipykernel installs: ``[python, -m, ipykernel_launcher, ...]``
LAUNCHER = ("-m", "ipykernel_launcher")
#: Seconds to wait for the fork server's reply to a fork (its first includes its imports)
FORK_TIMEOUT_S = 120.0
#: The source the fork server preloads from; an edit to it starts a new server
PRELOADED_SOURCE_DIR = PACKAGE_DIR
#: Longest ipc socket path a forked kernel binds (``sun_path`` holds 108 bytes on Linux,
#: less elsewhere); a longer temporary folder keeps jupyter_client's tcp ports
MAX_SOCKET_PATH_BYTES = 100


def source_stamp(root: Path | None = None) -> tuple[tuple[str, int, int], ...]:
    """``(path, mtime_ns, size_bytes)`` of every ``.py`` file under ``root`` (default
    :data:`PRELOADED_SOURCE_DIR`): what the fork server imported is stale once it changes.

    A stat per file (about a millisecond for cachecost's source), no reading.
    """
    found = []
    for path in sorted((root or PRELOADED_SOURCE_DIR).rglob("*.py")):
        try:
            st = path.stat()
        except OSError:
            continue
        found.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(found)


def launcher_arguments(cmd: list[str]) -> tuple[tuple[str, ...], list[str]] | None:
    """``(interpreter options, kernel arguments)`` when ``cmd`` (a formatted kernel spec
    command) is this interpreter's ipykernel (``python [-X option ...] -m
    ipykernel_launcher ARGS``), else None.

    The ``-X`` options (ipykernel's spec passes ``-Xfrozen_modules=off``, for debuggers)
    are the fork server's, so a forked kernel runs with the interpreter options its spec
    asks for.
    """
    if not cmd or os.path.abspath(cmd[0]) != os.path.abspath(sys.executable):
        return None
    i = 1
    while i < len(cmd) and cmd[i].startswith("-X") and cmd[i] != "-X":
        i += 1
    if tuple(cmd[i:i + 2]) != LAUNCHER:
        return None
    return tuple(cmd[1:i]), list(cmd[i + 2:])


class ForkServer:
    """This process's kernel fork server (:mod:`cachecost.report.kernel_forkserver`).

    :meth:`fork` asks it for a kernel and returns its pid; :meth:`exit_code` is None
    while that kernel runs. A thread reads the server's replies. The server ends when
    this process does (its stdin closes; at a normal exit :meth:`close` also waits for it)
or by :meth:`close`.
    """

    _instances: dict[tuple[str, ...], ForkServer] = {}
    _instances_lock = threading.Lock()

    @classmethod
    def get(cls, options: tuple[str, ...] = ()) -> ForkServer:
        """This process's fork server for interpreter ``options``, started on first use
        (again if it has ended, or if cachecost's source changed since it preloaded it:
        a second ``build_report`` in the same process after an edit runs the edited
        code, as the rebuild its fingerprint asks for must). A replaced server ends once
        its running kernels have."""
        stamp = source_stamp()
        with cls._instances_lock:
            server = cls._instances.get(options)
            if server is None or server.process.poll() is not None \
                    or server.pid_of_starter != os.getpid() or server.stamp != stamp:
                if server is not None and server.pid_of_starter == os.getpid():
                    server.retire()
                server = cls._instances[options] = cls(options)
                server.stamp = stamp
                atexit.register(server.close)
            return server

    def __init__(self, options: tuple[str, ...] = ()) -> None:
        self.pid_of_starter = os.getpid()
        self.socket_dir = tempfile.mkdtemp(prefix="cachecost-kernels-")
        reply_r, reply_w = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, *options, "-m", "cachecost.report.kernel_forkserver",
             str(reply_w), str(os.getpid()), self.socket_dir],
            stdin=subprocess.PIPE, pass_fds=(reply_w,), close_fds=True)
        os.close(reply_w)
        self._stdin: IO[bytes] = self.process.stdin  # type: ignore[assignment]
        self._cond = threading.Condition()
        self._pids: list[int] = []
        self._forked: set[int] = set()
        self._exits: dict[int, int] = {}
        self._ended = False
        self._retired = False
        self.stamp: tuple[tuple[str, int, int], ...] = ()
        self._request_lock = threading.Lock()
        threading.Thread(target=self._read, args=(os.fdopen(reply_r, "rb"),),
                         name="cachecost-forkserver-replies", daemon=True).start()

    def _read(self, replies: IO[bytes]) -> None:
        with replies:
            for line in replies:
                message = json.loads(line)
                with self._cond:
                    if "pid" in message:
                        self._pids.append(int(message["pid"]))
                        self._forked.add(int(message["pid"]))
                    else:
                        self._exits[int(message["exited"])] = int(message["code"])
                    self._cond.notify_all()
                    idle = self._retired and self._running() == 0
                if idle:
                    self._stdin.close()   # a replaced server with no kernel left: it ends
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def fork(self, argv: list[str], cwd: str | None, env: dict[str, str] | None) -> int:
        """Fork a kernel running ipykernel with ``argv``; return its pid.

        Raises:
            RuntimeError: the fork server has ended or did not answer in time.
        """
        request = json.dumps({"argv": argv, "cwd": cwd, "env": env}) + "\n"
        with self._request_lock, self._cond:
            try:
                self._stdin.write(request.encode())
                self._stdin.flush()
            except OSError as exc:
                raise RuntimeError(f"the kernel fork server has ended ({exc})") from None
            if not self._cond.wait_for(lambda: self._pids or self._ended, FORK_TIMEOUT_S) \
                    or not self._pids:
                raise RuntimeError("the kernel fork server did not fork a kernel "
                                   f"(exit status {self.process.poll()})")
            return self._pids.pop(0)

    def _running(self) -> int:
        """Kernels forked and not yet ended (call with ``_cond`` held)."""
        return len(self._forked - set(self._exits))

    def retire(self) -> None:
        """End the server now if no kernel of its runs, else when the last one ends."""
        with self._cond:
            self._retired = True
            idle = self._running() == 0
        if idle:
            self.close()

    def exit_code(self, pid: int) -> int | None:
        """The kernel's exit code (minus the signal that ended it), None while it runs.

        Once the server has ended its kernels have too (SIGKILL): -9.
        """
        with self._cond:
            return self._exits.get(pid, -9 if self._ended else None)

    def wait(self, pid: int, timeout: float | None) -> int | None:
        """Wait ``timeout`` seconds at most for the kernel to end; its exit code or None."""
        with self._cond:
            self._cond.wait_for(lambda: pid in self._exits or self._ended, timeout)
        return self.exit_code(pid)

    def close(self) -> None:
        """End the server (its kernels get SIGKILL) and reap it (at exit too: its CPU time
        and its kernels' then count in this process's children, as a kernel's did)."""
        try:
            self._stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.socket_dir, ignore_errors=True)


class ForkedKernel:
    """A forked kernel with the parts of :class:`subprocess.Popen` the provisioner uses."""

    stdin = stdout = stderr = None

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server, self.pid = server, pid

    def poll(self) -> int | None:
        """The exit code, or None while the kernel runs."""
        return self.server.exit_code(self.pid)

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the kernel to end (``timeout`` seconds at most); its exit code."""
        return self.server.wait(self.pid, timeout)

    def send_signal(self, signum: int) -> None:
        """Send ``signum`` to the kernel while it runs (ProcessLookupError once it ended)."""
        if self.poll() is not None:
            raise ProcessLookupError(3, "the kernel has ended")
        os.kill(self.pid, signum)

    def terminate(self) -> None:
        """SIGTERM."""
        self.send_signal(15)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(9)


def socket_paths(server: ForkServer, kernel_id: str) -> tuple[str, str] | None:
    """``(connection file, ipc socket prefix)`` for a kernel of ``server``, in its
    :attr:`~ForkServer.socket_dir`; None when the sockets' paths would be too long
    (:data:`MAX_SOCKET_PATH_BYTES`)."""
    prefix = os.path.join(server.socket_dir, kernel_id.replace("-", "")[:16])
    if len(os.fsencode(prefix)) + len("-99") > MAX_SOCKET_PATH_BYTES:
        return None
    return prefix + ".json", prefix


class ForkedKernelProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, the kernel forked from the warm fork server.

    A forked kernel talks over ZeroMQ ``ipc`` sockets (Unix domain sockets) in its fork
    server's private folder, not over tcp ports on 127.0.0.1. With tcp, jupyter_client
    picks five free ports by binding and closing them and the kernel binds them later;
    in between, any process on the machine may take one (another worker's connections
    to its own kernel are given such ports as their local end), and the kernel dies with
    "Address already in use" (jupyter_client retries only under a restarter, which
    papermill does not run). A socket path no other process uses cannot be taken. The
    connection file goes to the same folder, which the fork server removes when it ends.

    Everything else is :class:`LocalProvisioner`'s: the connection file's content, the
    command, and signals (to the kernel's process group, which is the kernel's own
    session once it runs, else to the kernel).
    """

    server: ForkServer | None = None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Pick the fork server, and the ipc sockets in its folder, before jupyter_client
        writes the connection file (a kernel spec that is not forked keeps tcp)."""
        km = self.parent
        parts = launcher_arguments(list(self.kernel_spec.argv)) if self.kernel_spec else None
        if km is not None and parts is not None:
            self.server = ForkServer.get(parts[0])
            paths = socket_paths(self.server, self.kernel_id)
            if paths is not None and not km.connection_file:
                km.transport, km.cache_ports = "ipc", False
                km.connection_file, km.ip = paths
        result: dict[str, Any] = await super().pre_launch(**kwargs)
        return result

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Fork the kernel ``cmd`` describes (or launch it the usual way: :func:`launcher_arguments`)."""
        parts = launcher_arguments(cmd)
        if parts is None:
            return await super().launch_kernel(cmd, **kwargs)
        options, argv = parts
        cwd = kwargs.get("cwd")
        server = self.server
        if server is None or server.process.poll() is not None:
            server = ForkServer.get(options)
        pid = server.fork(argv, None if cwd is None else str(cwd), kwargs.get("env"))
        # ForkedKernel has the parts of Popen that LocalProvisioner uses
        self.process = ForkedKernel(server, pid)  # type: ignore[assignment]
        self.pid = self.pgid = pid   # its own session, hence group, once it runs
        self.cwd = cwd or os.getcwd()
        return self.connection_info


class ForkedKernelManager(AsyncKernelManager):
    """An async kernel manager whose kernels are :class:`ForkedKernelProvisioner`'s.

    jupyter_client picks the provisioner in ``_async_pre_start_kernel`` when none is set
    (from the kernel spec's metadata, else its local provisioner); this sets ours first.
    """

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkedKernelProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        result: tuple[list[str], dict[str, Any]] = await super()._async_pre_start_kernel(**kw)
        return result
