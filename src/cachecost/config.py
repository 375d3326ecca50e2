"""Paths: what ships with cachecost (read-only) and where it writes.

Every other module takes its locations from here, so the project behaves the
same whether it is run from the checkout, a notebook, or a test's temp dir.

Two layouts:

* **checkout** (``src/cachecost`` inside a clone, also an editable install): the
  notebooks, scenarios and sample are the checkout's ``notebooks/``,
  ``scenarios/`` and ``data/sample/`` (their single source in git); reports and
  fetched data go to the checkout's ``reports/`` and ``data/raw/``.
* **installed** (a wheel or sdist in site-packages): the same three folders ship
  inside the package as ``cachecost/_bundled/`` (copied at build time by
  ``setup.py``; never committed); reports and fetched data go to ``reports/`` and
  ``data/raw/`` under the working directory the command was started in, so
  nothing is written into the virtual environment.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from cachecost.errors import CachecostError

PACKAGE_DIR = Path(__file__).resolve().parent
#: Where a built wheel keeps notebooks/, scenarios/ and data/sample/ (setup.py's build_py).
BUNDLED_DIR = PACKAGE_DIR / "_bundled"
PROJ_ROOT = PACKAGE_DIR.parents[1]


def _is_checkout(root: Path) -> bool:
    return (PACKAGE_DIR.parent.name == "src" and (root / "pyproject.toml").is_file()
            and (root / "notebooks").is_dir())


#: True when running from a source checkout (plain or editable install).
IS_CHECKOUT = _is_checkout(PROJ_ROOT)

#: Read-only resources: the checkout's folders, else the copies inside the package.
RESOURCE_ROOT = PROJ_ROOT if IS_CHECKOUT else BUNDLED_DIR


def _working_directory() -> Path:
    try:
        return Path.cwd()
    except OSError:                 # the directory was removed under us
        return Path.home()


#: Where outputs go: the checkout, else the working directory at import (command start).
WORK_ROOT = PROJ_ROOT if IS_CHECKOUT else _working_directory()

SAMPLE_DATA_DIR = RESOURCE_ROOT / "data" / "sample"   # bundled synthetic dataset (committed)
NOTEBOOKS_DIR = RESOURCE_ROOT / "notebooks"
SCENARIOS_DIR = RESOURCE_ROOT / "scenarios"
SCRIPTS_DIR = PROJ_ROOT / "scripts"                   # checkout only

DATA_DIR = WORK_ROOT / "data"
RAW_DATA_DIR = DATA_DIR / "raw"            # fetched GitLab snapshots (never committed)
REPORTS_DIR = WORK_ROOT / "reports"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """Return the dataset directory: the given one, or the bundled sample when empty."""
    if data_dir is None or str(data_dir) == "":
        return SAMPLE_DATA_DIR
    try:
        return Path(data_dir).expanduser().resolve()
    except (RuntimeError, OSError) as exc:   # Python 3.11-3.12 raise RuntimeError on a loop
        reason = "a symlink loop" if isinstance(exc, RuntimeError) else exc.strerror
        raise CachecostError(f"{data_dir}: cannot use as a data directory ({reason})") from None


def default_data_dir(url: str, project_path: str) -> Path:
    """Where a fetch of ``project_path`` from ``url`` keeps its dataset, by default.

    ``data/raw/<host>[_<port>]/<project path>/``: ``https://gitlab.com`` and
    ``qemu-project/qemu`` give ``data/raw/gitlab.com/qemu-project/qemu``;
    ``http://127.0.0.1:8080`` gives ``data/raw/127.0.0.1_8080/...`` (no ``:``,
    which Windows paths and make targets refuse). The host is lowercased and
    any ``user@`` dropped. ``cachecost fetch`` and ``cachecost report --fetch``
    both use this, so each resumes the other's fetch.
    """
    parts = urlsplit(url if "//" in url else f"//{url}")
    try:
        port = parts.port
    except ValueError:                  # a port that is not a number: keep it as text
        port = None
    host = (parts.hostname or "gitlab") + (f"_{port}" if port else "")
    return RAW_DATA_DIR / host / project_path.strip("/")


def check_output_dir(path: str | os.PathLike[str], option: str) -> Path:
    """Check, before any work, that ``path`` is or can become a writable directory.

    Walks up to the nearest existing ancestor and checks it is a directory, on a
    file system mounted read-write, writable for this user, and that a directory
    can really be made in it (made and removed again, and the directory's times
    restored: nothing is left behind).

    Returns:
        ``path`` made absolute.

    Raises:
        CachecostError: ``"<option> <path>: cannot write there (<reason>)"``.
    """
    target = Path(path).expanduser().absolute()

    def fail(reason: str) -> CachecostError:
        return CachecostError(f"{option} {path}: cannot write there ({reason})")

    probe = target
    while not probe.exists() and probe.parent != probe:
        if os.path.lexists(probe):     # a symlink that resolves to nothing: mkdir would fail
            try:
                os.stat(probe)
            except OSError as exc:
                what = "a symlink loop" if exc.errno == errno.ELOOP else \
                    f"a symlink to a missing path ({exc.strerror})"
                raise fail(f"{probe} is {what}") from None
        probe = probe.parent

    if not probe.is_dir():
        raise fail(f"{probe} is a file, not a directory")
    try:
        if os.statvfs(probe).f_flag & os.ST_RDONLY:
            raise fail(f"{probe} is on a read-only file system")
    except OSError:
        pass
    if not os.access(probe, os.W_OK | os.X_OK):
        raise fail(f"{probe}: permission denied")
    try:
        times = os.stat(probe)
        tempfile.TemporaryDirectory(dir=probe, prefix=".cachecost-probe-").cleanup()
        # the probe came and went: give the directory back its times, so a run that
        # then fails leaves an existing --out exactly as it was
        os.utime(probe, ns=(times.st_atime_ns, times.st_mtime_ns))
    except OSError as exc:
        raise fail(f"cannot make a directory in {probe}: {exc.strerror or exc}") from None
    return target


@contextmanager
def removed_on_failure(path: str | os.PathLike[str], *,
                       keep: Callable[[], bool] = lambda: False) -> Iterator[Path]:
    """Undo the directories a failed run made for ``path``; never touch one that existed.

    Notes which ancestors of ``path`` (and ``path``) are missing on entry; when
    the block raises (Ctrl-C included) and ``keep()`` is false, removes the
    topmost of them with everything in it, so a run that fails before writing
    anything worth keeping leaves no empty or half-written folder behind. An
    existing ``path`` is left as it is, whatever the block did.

    Yields:
        ``path`` made absolute.
    """
    target = Path(path).expanduser().absolute()
    top = None
    probe = target
    while not probe.exists() and probe.parent != probe:
        top, probe = probe, probe.parent
    try:
        yield target
    except BaseException:
        if top is not None and top.is_dir() and not top.is_symlink() and not keep():
            shutil.rmtree(top, ignore_errors=True)
        raise
