"""The report kernels' fork server: imports once, forks a fresh kernel per request.

    python -m cachecost.report.kernel_forkserver REPLY_FD PARENT_PID SOCKET_DIR

Started by :class:`cachecost.report.kernels.ForkServer` (one per process that runs report
notebooks, at its first kernel). It imports :mod:`cachecost.report.kernel_preload`, then
reads requests from stdin, one JSON object a line::

    {"argv": [...], "cwd": "/path" | null, "env": {...} | null}

and for each forks a child that runs ipykernel with ``argv`` (:func:`run_kernel`), replying
``{"pid": N}`` on ``REPLY_FD``. It reaps its children and reports each end as
``{"exited": N, "code": C}`` (``C`` as :attr:`subprocess.Popen.returncode`: the exit
status, or minus the signal). It ends when stdin closes (the process that started it
ended or closed it) or, within :data:`PARENT_POLL_S`, when ``PARENT_PID`` ends (SIGKILL
included, and when a child of that process holds the stdin pipe open), and ignores
Ctrl-C (its starter answers it). A reply it cannot send (its starter stopped
mid-fork: the pipe is broken) ends it quietly too. When it ends it removes ``SOCKET_DIR``, the private
folder of its kernels' connection files and ipc sockets (its kernels end with it). Not ``PR_SET_PDEATHSIG``: that fires when the *thread*
that started the server ends, and the server is shared by every thread of its starter
(a build in one thread would kill the kernels of a build in another).

Nothing here runs a cell: the server holds imported modules, no kernel, thread or socket.
It is its own module, not :mod:`multiprocessing`'s fork server, whose children import the
starter's ``__main__`` again (a user's script that calls the report, run twice).
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import shutil
import signal
import sys
from typing import Any

from cachecost.stopping import die_with_parent

#: The kernels' process name (``ps -o comm``, ``top``; their command line is the server's)
KERNEL_PROCESS_NAME = "cachecost-kern"
_PR_SET_NAME = 15  # <linux/prctl.h>
#: Seconds between the server's checks that its starter still runs
PARENT_POLL_S = 0.5
#: The kernels this server forked that have not ended (pids)
_KERNELS: set[int] = set()


def name_process(name: str) -> None:
    """Set this process's name as ``ps -o comm`` shows it (15 bytes, Linux; else nothing)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):
        pass


def run_kernel(argv: list[str], cwd: str | None, env: dict[str, str] | None) -> None:
    """A forked child's body: what ``python -m ipykernel_launcher *argv`` does.

    A session of its own (as jupyter_client's launcher starts kernels), ``env`` and
    ``cwd`` as jupyter_client asked, SIGKILL when the fork server ends, and the fork
    server as the parent ipykernel watches (``parent_handle``: ipykernel read
    ``JPY_PARENT_PID`` when the server imported it, so it is passed as an argument).
    Returns when the kernel shuts down.
    """
    os.setsid()
    die_with_parent(os.getppid())
    name_process(KERNEL_PROCESS_NAME)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    os.environ["JPY_PARENT_PID"] = str(os.getppid())
    if cwd:
        os.chdir(cwd)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = ["ipykernel_launcher", *argv, f"--IPKernelApp.parent_handle={os.getppid()}"]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def _fork(request: dict[str, Any], keep_out: list[int]) -> int:
    """Fork a kernel for ``request``; in the child this never returns."""
    pid = os.fork()
    if pid:
        _KERNELS.add(pid)
        return pid
    code = 0
    try:
        signal.set_wakeup_fd(-1)
        for fd in keep_out:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115  (fd 0, /dev/null, as a kernel has)
        run_kernel(list(request["argv"]), request.get("cwd"), request.get("env"))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001  (the kernel's own traceback, then exit 1)
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _reply(fd: int, message: dict[str, Any]) -> None:
    os.write(fd, (json.dumps(message) + "\n").encode())


def _reap(reply_fd: int) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _KERNELS.discard(pid)
        _reply(reply_fd, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def serve(reply_fd: int, parent_pid: int) -> None:
    """Preload, then fork a kernel per request line on stdin until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != parent_pid:     # the starter has already gone
        return
    import cachecost.report.kernel_preload  # noqa: F401  (the point of the server)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    pending = b""
    while os.getppid() == parent_pid:
        for key, _ in selector.select(PARENT_POLL_S):
            if key.fd == wake_r:
                os.read(wake_r, 4096)
                _reap(reply_fd)
                continue
            data = os.read(0, 1 << 16)
            if not data:
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                pid = _fork(json.loads(line), [reply_fd, wake_r, wake_w, selector.fileno()])
                _reply(reply_fd, {"pid": pid})
        _reap(reply_fd)


def end_kernels() -> None:
    """SIGKILL every kernel still running and reap it: the server is ending, so its
    kernels would get SIGKILL anyway, and none may write into its folder once that is
    removed."""
    for pid in sorted(_KERNELS):
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    _KERNELS.clear()


def main(argv: list[str]) -> None:
    """``REPLY_FD PARENT_PID SOCKET_DIR``: :func:`serve`, then end the kernels left and
    remove ``SOCKET_DIR``."""
    try:
        serve(int(argv[0]), int(argv[1]))
    except BrokenPipeError:
        pass    # its starter has gone (stopped mid-fork)
    finally:
        end_kernels()
        shutil.rmtree(argv[2], ignore_errors=True)


if __name__ == "__main__":
    # as ipykernel_launcher does: the starter's folder is not on the kernels' path (their
    # shell puts its working directory there, as it does in any kernel)
    if sys.path and (sys.path[0] in ("", os.getcwd())):
        del sys.path[0]
    main(sys.argv[1:])
