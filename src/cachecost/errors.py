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


def read_user_file(path: str | Path, what: str) -> bytes:
    """Return the bytes of a file the user named (``what``: e.g. ``"build log"``).

    Raises:
        CachecostError: the file is missing, a directory or unreadable; the one
            line names the file and ``what`` it should have been.
    """
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CachecostError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise CachecostError(f"{path}: is a directory, not a {what}") from None
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
