"""Rules the fetch shares with other commands are applied the same way (issue 10).

* the default data directory: ``cachecost fetch`` and ``cachecost report --fetch``
  pick the same one for a URL with a port, so each resumes the other's fetch;
* which registry repository is a cache: the fetch's ``is_cache_repository``
  column and the registry scan's summary agree on ``qemu/cache/debian``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import cachecost.config
from cachecost.cli import main
from cachecost.collect.oci.summary import summarize_scan
from cachecost.config import NOTEBOOKS_DIR
from cachecost.dataset.io import Dataset, load_dataset, read_metadata
from cachecost.report.build import run_fetch as report_run_fetch
from cachecost.standin import StandinData, start_standin

from .fetchkit import PROJECT, TOKEN


def test_fetch_and_report_fetch_use_one_default_directory(
        small_sample: Dataset, token_env: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    monkeypatch.setattr(cachecost.config, "RAW_DATA_DIR", raw)
    with start_standin(StandinData(small_sample), tokens={TOKEN: {"read_api"}}) as srv:
        port = urlsplit(srv.url).port
        assert port                      # the stand-in's URL carries a port: the case at hand
        assert main(["fetch", "--url", srv.url, "--project", PROJECT, "--quiet",
                     "--logs-per-image", "0"]) == 0
        fetched = [p.parent for p in raw.rglob("metadata.json")]
        assert fetched == [raw / f"127.0.0.1_{port}" / PROJECT]
        written_before = (fetched[0] / "metadata.json").stat().st_mtime_ns

        filled = report_run_fetch({"url": srv.url, "project": PROJECT, "logs_per_image": 0},
                                  NOTEBOOKS_DIR, tmp_path / "site")
    assert filled == fetched[0]
    assert [p.parent for p in raw.rglob("metadata.json")] == fetched   # no second directory
    # the report's fetch wrote into the first one's dataset (it resumed, did not start over)
    assert (filled / "metadata.json").stat().st_mtime_ns > written_before
    assert read_metadata(filled)["instance_url"] == srv.url
    assert len(load_dataset(filled).jobs) == len(small_sample.jobs)


def test_fetch_and_registry_scan_agree_on_cache_repositories(
        small_sample: Dataset, token_env: str, tmp_path: Path) -> None:
    repos = small_sample.registry_repositories.copy()
    renamed = {0: "qemu/cache/debian", 1: "qemu/debian-cache", 2: "qemu/cachecost"}
    for row, name in renamed.items():
        repos.loc[row, "name"] = name
        repos.loc[row, "path"] = f"{PROJECT}/{name}"
    dataset = Dataset(**{**small_sample.__dict__, "registry_repositories": repos})
    out = tmp_path / "data"
    with start_standin(StandinData(dataset), tokens={TOKEN: {"read_api"}}) as srv:
        assert main(["fetch", "--url", srv.url, "--project", PROJECT, "--data", str(out),
                     "--quiet", "--logs-per-image", "0"]) == 0
    fetched = load_dataset(out).registry_repositories.set_index("name")["is_cache_repository"]

    scan = summarize_scan({f"{PROJECT}/{n}": [] for n in renamed.values()}, [],
                          projects=[PROJECT], now=datetime(2026, 1, 1, tzinfo=UTC))
    scanned = {r["path"].removeprefix(PROJECT + "/"): r["is_cache_repository"]
               for r in scan["repositories"]}
    expected = {"qemu/cache/debian": True, "qemu/debian-cache": True, "qemu/cachecost": False}
    assert {n: bool(fetched[n]) for n in renamed.values()} == expected
    assert scanned == expected
