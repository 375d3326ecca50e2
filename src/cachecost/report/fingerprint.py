"""The build state: what each scenario was built from (``OUT/.cachecost-build.json``).

A scenario is rebuilt only when the sha256 of one of its inputs changes: the
data files, the notebooks, the package's source files, the options.
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from cachecost import __version__
from cachecost.config import (
    PACKAGE_DIR,
)

BUILD_STATE_FILE = ".cachecost-build.json"

STATE_VERSION = 1

def _hash_tree(h: Any, root: Path, label: str, *, skip_dirs: frozenset[str] = frozenset()) -> None:
    """Feed every regular file under ``root`` (relative path and bytes) into ``h``."""
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and not (set(p.relative_to(root).parts[:-1]) & skip_dirs)
        and not p.name.endswith((".pyc", ".tmp"))
    )
    for p in files:
        h.update(f"{label}:{p.relative_to(root).as_posix()}\0".encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())


def _package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0], "cachecost": __version__}
    for dist in ("plotly", "papermill", "nbconvert", "nbclient", "ipykernel", "pandas", "numpy"):
        try:
            versions[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            versions[dist] = "absent"
    return versions


def package_fingerprint() -> str:
    """The sha256 of cachecost's source files (what a rebuild after an edit must see)."""
    h = hashlib.sha256()
    _hash_tree(h, PACKAGE_DIR, "package", skip_dirs=frozenset({"__pycache__"}))
    return h.hexdigest()


def fingerprint_inputs(
    data_path: Path, notebooks: list[Path], options: dict[str, Any]
) -> dict[str, str]:
    """Return the sha256 of each input every scenario shares: data, notebooks, package, options.

    Kept per part so a rebuild can say what changed.
    """
    parts = {}
    h = hashlib.sha256()
    _hash_tree(h, data_path, "data")
    parts["data"] = h.hexdigest()
    h = hashlib.sha256()
    for nb in notebooks:
        h.update(f"notebook:{nb.name}\0".encode())
        h.update(hashlib.sha256(nb.read_bytes()).digest())
    parts["notebooks"] = h.hexdigest()
    parts["package"] = package_fingerprint()
    parts["options"] = hashlib.sha256(
        json.dumps({**options, "versions": _package_versions()}, sort_keys=True).encode()
    ).hexdigest()
    return parts


def read_build_state(out_dir: Path) -> dict[str, Any]:
    """Return the last build's record (empty when absent or unreadable)."""
    try:
        state = json.loads((out_dir / BUILD_STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return {}
    return state


