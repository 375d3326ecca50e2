"""The site folder (``--out``): whose it is, and the debris an interrupted build left there.

    check_site_dir(out, data_dir, is_forced=False)   # before any work: raises CachecostError
    sweep_debris(out)                                # under the build lock: returns what it removed

A build writes each scenario into a hidden staging folder ``.<scenario>.build-XXXX``
and renames it into place; the old folder becomes ``.<scenario>.old-<pid>`` for
a moment, and single files are written as ``.<name>.XXXX.tmp`` first
(:func:`cachecost.dataset.io.atomic_path`). A build stopped by a signal removes
its own; one killed outright (SIGKILL, a power cut) cannot, so the next build
into the same folder sweeps them before it starts (it holds the folder's lock,
so none of them belongs to a build still running).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from cachecost.config import REPORTS_DIR, resolve_data_dir
from cachecost.dataset.io import METADATA_FILE
from cachecost.errors import CachecostError
from cachecost.report.fingerprint import BUILD_STATE_FILE

#: Names a build gives its temporary folders and files (tempfile's letters: [a-z0-9_]).
DEBRIS_NAME = re.compile(r"^\..+\.(?:build-[a-z0-9_]+|old-\d+|[a-z0-9_]+\.tmp)$")

#: Sub-folders of the site whose temporary files are swept too.
_SWEPT_SUBDIRS = ("assets",)

#: The one file the checkout's reports/ folder holds before any build (committed).
_REPORTS_README = "README.md"


def find_debris(out_dir: Path) -> list[Path]:
    """Return the staging folders and temporary files of earlier builds in ``out_dir``."""
    found: list[Path] = []
    for folder in (out_dir, *(out_dir / sub for sub in _SWEPT_SUBDIRS)):
        if folder.is_dir() and not folder.is_symlink():
            found += sorted(p for p in folder.iterdir() if DEBRIS_NAME.match(p.name))
    return found


def sweep_debris(out_dir: Path) -> list[Path]:
    """Remove what :func:`find_debris` finds; return it. Call it holding the folder's lock."""
    found = find_debris(out_dir)
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found


def _is_assets_of_a_build(path: Path) -> bool:
    """An ``assets/`` folder holding only what a build writes there (a build killed after it)."""
    return path.name == "assets" and path.is_dir() and not path.is_symlink() and all(
        DEBRIS_NAME.match(p.name) or p.suffix in (".js", ".css") for p in path.iterdir())


def _holds_a_site(path: Path) -> bool:
    """A folder with a cachecost build record in it or below (``reports/demo/``,
    ``reports/gitlab.com/g/p/``, a group site's project folders)."""
    return path.is_dir() and not path.is_symlink() and \
        next(path.rglob(BUILD_STATE_FILE), None) is not None


def _foreign_entries(out_dir: Path) -> list[str]:
    """Names in ``out_dir`` no cachecost build wrote (empty when it holds a build record).

    In the checkout's ``reports/``, the sites other reports write there by default
    (``reports/<dataset>/``, ``reports/group/<group>/``) are cachecost's too.
    """
    if (out_dir / BUILD_STATE_FILE).is_file():
        return []
    debris = {p.name for p in find_debris(out_dir)}
    is_default = out_dir.resolve() == REPORTS_DIR.resolve()
    return sorted(name for name in os.listdir(out_dir)
                  if name not in debris
                  and not (is_default and (name == _REPORTS_README
                                           or _holds_a_site(out_dir / name)))
                  and not _is_assets_of_a_build(out_dir / name))


def _dataset_around(path: Path) -> Path | None:
    """The dataset folder (one holding ``metadata.json``) that is ``path`` or holds it."""
    for folder in (path, *path.parents):
        if (folder / METADATA_FILE).is_file():
            return folder
    return None


def check_site_dir(out_dir: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None,
                   *, is_forced: bool = False, option: str = "--out") -> Path:
    """Check, before any work, that a site may be written into ``out_dir``; return it absolute.

    Refused (one line):

    * a folder inside a dataset folder (one holding ``metadata.json``), or the
      dataset ``data_dir`` itself or a folder in it: a site is never written
      into data (not even with ``is_forced``);
    * an existing, non-empty folder that holds no build record
      (``.cachecost-build.json``): each build replaces ``<scenario>/`` folders
      and ``index.html`` whole, which would lose the user's files there, unless
      ``is_forced`` (``--force-out``). Debris of earlier builds and the
      checkout's ``reports/README.md`` do not count.

    Raises:
        CachecostError: ``"--out DIR: ..."``, naming the dataset or a file found there.
    """
    target = Path(out_dir).expanduser().absolute()
    try:
        resolved = target.resolve()
    except RuntimeError:                       # Python 3.11-3.12: a symlink loop
        raise CachecostError(f"{option} {out_dir}: cannot write there (a symlink loop)"
                             ) from None
    data = resolve_data_dir(data_dir) if data_dir else None
    dataset = _dataset_around(resolved)
    if dataset is None and data is not None and resolved.is_relative_to(data):
        dataset = data
    if dataset is not None:
        raise CachecostError(
            f"{option} {out_dir}: is inside the dataset {dataset}; a site is never written "
            "into a dataset folder, choose another --out")
    if not is_forced and target.is_dir():
        foreign = _foreign_entries(target)
        if foreign:
            more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
            raise CachecostError(
                f"{option} {out_dir}: holds files cachecost did not write ({foreign[0]!r}"
                f"{more}) and no build record; a build replaces folders there, so choose a "
                "new or empty folder, or pass --force-out to build there anyway")
    return target
