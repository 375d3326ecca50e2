"""Helpers shared by the fetch tests (constants, CLI runner, table comparison)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
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


@contextmanager
def case_server(server_py: Path, scenario: Path) -> Iterator[tuple[str, list[str]]]:
    """A case's own ``glserver.py`` on 127.0.0.1 (an OS-chosen port) serving ``scenario``
    (re-read on every request); yields its URL and the paths it was asked for (GET)."""
    spec = importlib.util.spec_from_file_location(f"glserver_{id(scenario)}", server_py)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    asked: list[str] = []

    class Counting(mod.H):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            asked.append(self.path.split("?")[0])
            super().do_GET()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    srv.daemon_threads = True
    mod.SCEN, mod.PORT = str(scenario), srv.server_address[1]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", asked
    finally:
        srv.shutdown()
        srv.server_close()
