"""Errors a user can act on.

Every failure the user can fix (bad input, a wrong URL, a bad token, a corrupt
file) is raised as a :class:`CachecostError` whose message is one line naming
what and where. The CLI prints it as ``cachecost: error: <message>`` and exits
with :attr:`CachecostError.exit_code`; no traceback.

* CachecostError            exit 2 unless told otherwise
  + DatasetError            a dataset directory, file or column is missing or mistyped
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cachecost.textfmt import format_bytes


class CachecostError(Exception):
    """A failure the user can act on; its message is one line."""

    exit_code: int = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(" ".join(str(message).split()))
        if exit_code is not None:
            self.exit_code = exit_code


class DatasetError(CachecostError):
    """A dataset directory, file or column is missing, unreadable or mistyped."""


#: What a path is when it is not a regular file (``stat.S_IFMT`` -> words for the one line).
_FILE_KINDS = {
    stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket",
}


def check_user_file(path: str | Path, what: str) -> int:
    """Check that ``path`` is a regular file (symlinks followed); return its size in bytes.

    Checked with ``stat`` before anything opens it, so a FIFO never blocks and a
    device (``/dev/zero``) is never read.

    Raises:
        CachecostError: missing, a directory, a device, FIFO or socket, a symlink
            loop, or not readable; the one line names the file and ``what``.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise CachecostError(f"{path}: no such {what}") from None
    except OSError as exc:           # ELOOP (a symlink loop), EACCES, ENAMETOOLONG ...
        raise CachecostError(f"{path}: cannot read {what} ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise CachecostError(f"{path}: is a directory, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        kind = _FILE_KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise CachecostError(f"{path}: is {kind}, not a {what}")
    return st.st_size


def read_user_file(path: str | Path, what: str, *, max_bytes: int = 64 * 1024 * 1024,
                   is_cut_allowed: bool = False) -> bytes:
    """Return the bytes of a regular file the user named (``what``: e.g. ``"build log"``).

    At most ``max_bytes`` are read: a larger file is an error, or with
    ``is_cut_allowed`` its first ``max_bytes`` are returned (the caller says so).

    Raises:
        CachecostError: see :func:`check_user_file`; or larger than ``max_bytes``.
    """
    size_bytes = check_user_file(path, what)
    if size_bytes > max_bytes and not is_cut_allowed:
        raise CachecostError(f"{path}: {format_bytes(size_bytes)}, larger than the "
                             f"{format_bytes(max_bytes)} a {what} may be")
    try:
        with open(path, "rb") as fh:
            return fh.read(max_bytes)
    except OSError as exc:
        raise CachecostError(f"{path}: cannot read {what} ({exc.strerror})") from None


def user_error_names() -> set[str]:
    """Class names of :class:`CachecostError` and every subclass (the fetch's included).

    A notebook run by papermill reports an exception by class name (``ename``)
    and message (``evalue``); a name in this set means the message is already
    the one line for the user.
    """
    import cachecost.collect.gitlab.client  # noqa: F401 - defines FetchInterrupted, ApiError

    names, todo = set(), [CachecostError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names
