"""Paths, anchored on this file, never on the working directory.

Every other module takes its locations from here, so the project behaves the
same whether it is run from the checkout, a notebook, or a test's temp dir.
"""

from __future__ import annotations

import os
from pathlib import Path

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
