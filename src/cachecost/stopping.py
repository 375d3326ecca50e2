"""How a ``cachecost`` process stops on a signal, and how its workers die with it.

    with stop_on_signals():          # SIGINT, SIGTERM, SIGHUP raise Stopped in the main thread
        ...                          # finally blocks remove staging folders, tear pools down

* **The command** (:func:`stop_on_signals`): SIGTERM (``kill``, ``timeout``, a
  cancelled CI job) and SIGHUP (a closed terminal) become :class:`Stopped`, a
  :class:`KeyboardInterrupt`, like Ctrl-C: every ``finally`` runs, the CLI
  prints one line and exits ``128 + signal``. After the first signal the
  others are ignored, so the cleanup itself is not interrupted half-way.
* **Worker processes** (:func:`start_worker`, a pool's initializer): they ignore
  SIGINT (the terminal sends Ctrl-C to the whole process group; the parent
  alone answers it) and get SIGKILL when the parent dies, however it dies
  (``prctl(PR_SET_PDEATHSIG)``, Linux; SIGKILL to the parent included).
  A worker's Jupyter kernel is a process of its own session and stops within
  a second of the worker (ipykernel polls ``JPY_PARENT_PID``, which
  jupyter_client sets).
* **Between spawn and the initializer** (:func:`signals_held`): the parent
  blocks the three signals while it starts workers; a blocked mask is inherited
  through ``fork`` and ``exec``, so a Ctrl-C that lands while a worker is still
  importing waits for :func:`start_worker`, which ignores it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

#: The signals that stop a command (each raises :class:`Stopped` in the main thread).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Stopped(KeyboardInterrupt):
    """The process was asked to stop by ``signum`` (SIGINT, SIGTERM or SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    for sig in STOP_SIGNALS:     # the cleanup that follows runs once, uninterrupted
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`Stopped` inside the block (main thread).

    The handlers in place before are put back on exit. Outside the main thread
    (where Python cannot set handlers) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_stopped)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Block the stop signals in the block (the processes started inside inherit the mask).

    A signal that arrives meanwhile is delivered when the block ends.
    """
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent ends; exit now if it already has.

    Elsewhere than Linux this does nothing (the pool's teardown still ends the worker).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:   # the parent died before the prctl: no signal will come
        os._exit(1)


def start_worker(parent_pid: int) -> None:
    """A pool initializer: ignore Ctrl-C, die with the parent, then take signals again."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent_pid)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def exit_status(exc: KeyboardInterrupt) -> int:
    """The exit status for a stop: ``128 + signal`` (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))
