"""Errors a user can act on.

Every failure the user can fix (bad input, a wrong URL, a bad token, a corrupt
file) is raised as a :class:`CachecostError` whose message is one line naming
what and where. The CLI prints it as ``cachecost: error: <message>`` and exits
with :attr:`CachecostError.exit_code`; no traceback.

Every exception of the package lives here (this module imports nothing from
cachecost, so any module may import it)::

* CachecostError            exit 2 unless told otherwise
  + DatasetError            a dataset directory, file or column is missing or mistyped
  + FetchInterrupted        GitLab stopped answering; a rerun of the fetch resumes
  + ApiError                GitLab refused a request (401, 403, 404); ``status``
  + RegistryUnavailable     the project's registry is disabled or forbidden
  + RegistryError           a container registry refused or failed a request
    + RegistryNotFound      a repository, tag or blob the registry does not know (404)
* GraphqlUnavailable        an optional GraphQL figure could not be read (never shown
                            as an error: the fetch records why and goes on)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class CachecostError(Exception):
    """A failure the user can act on; its message is one line."""

    exit_code: int = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(" ".join(str(message).split()))
        if exit_code is not None:
            self.exit_code = exit_code


class DatasetError(CachecostError):
    """A dataset directory, file or column is missing, unreadable or mistyped."""


class FetchInterrupted(CachecostError):
    """GitLab stopped answering (or answered errors); a rerun of the fetch resumes.

    The message says what failed, not what was saved: the fetch
    (:func:`cachecost.collect.fetch.fetch_project_history`) adds that, as it
    knows what it wrote.
    """


class ApiError(CachecostError):
    """GitLab refused a request (401, 403, 404); :attr:`status` holds the HTTP code."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class RegistryUnavailable(CachecostError):
    """The project's registry is disabled (404) or forbidden to this token (403)."""


class RegistryError(CachecostError):
    """The registry refused or failed a request; the message names URL and cause."""


class RegistryNotFound(RegistryError):
    """A repository, tag or blob the registry does not know (HTTP 404)."""


class GraphqlUnavailable(Exception):
    """The figure could not be read; the message says why in a few words."""


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
        # bytes as plain numbers: this module imports nothing from cachecost (it is the
        # one every other may import), so not cachecost.textfmt
        raise CachecostError(f"{path}: {size_bytes:,} bytes, larger than the "
                             f"{max_bytes:,} bytes a {what} may be")
    try:
        with open(path, "rb") as fh:
            return fh.read(max_bytes)
    except OSError as exc:
        raise CachecostError(f"{path}: cannot read {what} ({exc.strerror})") from None


def user_error_names() -> set[str]:
    """Class names of :class:`CachecostError` and every subclass (all defined here).

    A notebook run by papermill reports an exception by class name (``ename``)
    and message (``evalue``); a name in this set means the message is already
    the one line for the user.
    """
    names, todo = set(), [CachecostError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names
