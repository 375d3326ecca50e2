"""Paths, anchored on this file, never on the working directory.

Every other module takes its locations from here, so the project behaves the
same whether it is run from the checkout, a notebook, or a test's temp dir.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

PACKAGE_DIR = Path(__file__).resolve().parent
PROJ_ROOT = PACKAGE_DIR.parents[1]

DATA_DIR = PROJ_ROOT / "data"
SAMPLE_DATA_DIR = DATA_DIR / "sample"      # bundled synthetic dataset (committed)
RAW_DATA_DIR = DATA_DIR / "raw"            # fetched GitLab snapshots (never committed)

NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
REPORTS_DIR = PROJ_ROOT / "reports"
SCENARIOS_DIR = PROJ_ROOT / "scenarios"
SCRIPTS_DIR = PROJ_ROOT / "scripts"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """Return the dataset directory: the given one, or the bundled sample when empty."""
    if data_dir is None or str(data_dir) == "":
        return SAMPLE_DATA_DIR
    return Path(data_dir).expanduser().resolve()


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
