"""Case 12 of issue 22: ``container_registry_size: 0`` from a GitLab that did not measure it.

Fixture ``tests/cases/12-registry-size-zero-is-not-a-measurement/state.json`` (copied from the
case), served by the case's ``glserver.py``: statistics ``container_registry_size`` 0, one
repository with tags ``0.0.1`` and ``latest`` of the same manifest, ``total_size``
350,224,384 each, no repository ``size`` (GitLab Self-Managed sends it only with the
registry metadata database).

By hand: the tags sum to 2 x 350,224,384 = 700,448,768 B = 668.0 MiB; one manifest, so the
registry stores at least 350,224,384 B = 334.0 MiB; the deduplicated size is unknown, never 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cachecost.cli import main
from cachecost.dataset.io import describe_dataset, load_dataset, project_registry_size
from cachecost.report.history import registry_usage_frame

from .fetchkit import case_server

CASES = Path(__file__).parent.parent / "cases"
CASE = CASES / "12-registry-size-zero-is-not-a-measurement"
#: the case's server is byte for byte case 07's
SERVER = CASES / "07-jobs-that-change-in-place" / "glserver.py"
TOKEN = "glpat-FAKE-case-12"
TAG = 350_224_384


def _fetch(tmp: Path, monkeypatch, edit=None) -> Path:
    state = json.loads((CASE / "state.json").read_text(encoding="utf-8"))
    if edit is not None:
        edit(state)
    scenario = tmp / "scenario.json"
    scenario.write_text(json.dumps(state), encoding="utf-8")
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(tmp / "none.cfg"))
    with case_server(SERVER, scenario) as (url, _):
        assert main(["fetch", "--url", url, "--project", "group/project", "--data",
                     str(tmp / "ds"), "--quiet"]) == 0
    return tmp / "ds"


def _data_text(ds: Path, capsys) -> str:
    capsys.readouterr()
    assert main(["data", "--data", str(ds)]) == 0
    return capsys.readouterr().out


def test_case_12_zero_is_unknown_not_zero(tmp_path: Path, monkeypatch, capsys) -> None:
    ds = _fetch(tmp_path, monkeypatch)
    desc = describe_dataset(load_dataset(ds))
    assert desc["registry_dedup_size_bytes"] is None
    assert desc["registry_dedup_source"].startswith(
        "unknown: the project statistics say 0 B, less than its largest image (334.0 MiB)")
    assert desc["registry_total_size_bytes"] == 2 * TAG == 700_448_768
    assert desc["registry_dedup_at_least_bytes"] == TAG
    md = json.loads((ds / "metadata.json").read_text(encoding="utf-8"))
    assert md["container_registry_size_bytes"] is None
    assert md["container_registry_size_reported_bytes"] == 0
    assert "metadata database" in md["container_registry_size_note"]
    assert md["registry_usage"]["container_registry_size_bytes"] is None
    text = _data_text(ds, capsys)
    assert "0 B deduplicated" not in text
    assert "668.0 MiB (sum of tag sizes)" in text
    assert "deduplicated size unknown: the project statistics say 0 B" in text
    assert "at least 334.0 MiB stored (its largest image)" in text
    assert registry_usage_frame(load_dataset(ds)).empty       # no 0 B bar on the history page


def test_a_measured_figure_is_kept(tmp_path: Path, monkeypatch, capsys) -> None:
    """GitLab.com (or the metadata database): 400,000,000 B >= the largest tag: a measurement."""
    def measured(s: dict) -> None:
        s["project"]["statistics"]["container_registry_size"] = 400_000_000

    ds = _fetch(tmp_path, monkeypatch, measured)
    desc = describe_dataset(load_dataset(ds))
    assert desc["registry_dedup_size_bytes"] == 400_000_000
    assert desc["registry_dedup_source"] == "project statistics (container_registry_size)"
    assert desc["registry_dedup_at_least_bytes"] is None
    md = json.loads((ds / "metadata.json").read_text(encoding="utf-8"))
    assert md["container_registry_size_bytes"] == 400_000_000
    assert "container_registry_size_note" not in md
    assert "381.5 MiB deduplicated" in _data_text(ds, capsys)       # 400e6 / 2**20
    frame = registry_usage_frame(load_dataset(ds))
    assert frame["size_bytes"].tolist() == [400_000_000.0]


def test_zero_for_an_empty_registry_is_a_measurement(tmp_path: Path, monkeypatch) -> None:
    """No repository, no tag: 0 B is what the registry holds."""
    def empty(s: dict) -> None:
        s["repositories"], s["tag_details"] = [], {}

    ds = _fetch(tmp_path, monkeypatch, empty)
    desc = describe_dataset(load_dataset(ds))
    assert desc["registry_dedup_size_bytes"] == 0
    assert json.loads((ds / "metadata.json").read_text())["container_registry_size_bytes"] == 0


def test_a_figure_below_one_tag_is_not_a_measurement(tmp_path: Path, monkeypatch) -> None:
    """1,000 B while one image is 334 MiB: not measured either (not only 0)."""
    def tiny(s: dict) -> None:
        s["project"]["statistics"]["container_registry_size"] = 1000

    ds = _fetch(tmp_path, monkeypatch, tiny)
    desc = describe_dataset(load_dataset(ds))
    assert desc["registry_dedup_size_bytes"] is None
    assert "1000 B, less than its largest image" in desc["registry_dedup_source"]


def test_a_dataset_fetched_before_the_check_reads_right(tmp_path: Path, monkeypatch) -> None:
    """An older fetch stored GitLab's 0 as the figure (no note): read as unknown all the same."""
    ds = _fetch(tmp_path, monkeypatch)
    md_path = ds / "metadata.json"
    md = json.loads(md_path.read_text(encoding="utf-8"))
    md["container_registry_size_bytes"] = 0
    md["registry_usage"]["container_registry_size_bytes"] = 0
    for key in ("container_registry_size_note", "container_registry_size_reported_bytes"):
        md.pop(key)
    md_path.write_text(json.dumps(md), encoding="utf-8")
    old = load_dataset(ds)
    desc = describe_dataset(old)
    assert desc["registry_dedup_size_bytes"] is None
    assert desc["registry_dedup_at_least_bytes"] == TAG
    assert registry_usage_frame(old).empty


@pytest.mark.parametrize(("reported", "tags", "want"), [
    (0, [TAG, TAG], None), (TAG, [TAG, TAG], TAG), (TAG - 1, [TAG], None),
    (0, [], 0), (5, [float("nan")], 5), (None, [TAG], None),
])
def test_project_registry_size_rule(reported, tags, want) -> None:
    """The rule, by hand: a figure below the largest tag (NaN tags ignored) is not measured."""
    size, why = project_registry_size(reported, pd.Series(tags, dtype=float))
    assert size == want and (why is None) == (want is not None)
