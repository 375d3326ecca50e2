"""Helpers shared by the fetch tests (constants, CLI runner, table comparison)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cachecost.cli import main
from cachecost.collect.fetch import FetchOptions
from cachecost.standin import StandinServer

TOKEN = "glpat-FAKE-standin-token-4711"
NO_SCOPE_TOKEN = "glpat-FAKE-read-user-only-0815"
PROJECT = "qemu-project/qemu"
DAYS = 3
#: Job pages a parallel walk may ask for past the end of what it needs: each other
#: worker's segment can start below the oldest job before the end is seen.
WALK_SLACK = FetchOptions().workers - 1


def fetch_cli(srv: StandinServer, data_dir: Path, *extra: str) -> int:
    """Run ``cachecost fetch`` against the stand-in; return the exit status."""
    return main(["fetch", "--url", srv.url, "--project", PROJECT, "--data", str(data_dir),
                 "--quiet", *extra])


def by_id(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """Sorted by id with a fresh index, for comparing tables."""
    return df.sort_values(key).reset_index(drop=True)
