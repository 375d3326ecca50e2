"""The command line: `cachecost data`, --help everywhere, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cachecost.cli import _command_modules, build_parser, main
from cachecost.dataset.catalog import QEMU_IMAGES
from cachecost.dataset.sample import SampleSettings


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cachecost", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300,
    )


def test_data_json_matches_generator_settings(sample):
    proc = run_cli("data", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    s = SampleSettings()
    assert out["is_synthetic"] is True
    assert set(out["tables"]) >= {"pipelines", "jobs", "registry_repositories", "registry_tags"}
    assert set(out["images"]) == {c.image for c in QEMU_IMAGES}
    n_pipelines = out["tables"]["pipelines"]
    expected = sum(s.pipelines_per_day.values()) * s.days
    assert abs(n_pipelines - expected) < 4 * expected**0.5
    retried = int(sample.jobs.loc[sample.jobs["is_container_build"], "is_retried"].sum())
    assert sum(i["container_jobs"] for i in out["images"].values()) == 24 * n_pipelines + retried
    assert out["unmapped_container_jobs"] == 0
    assert out["tables"]["registry_repositories"] == 24
    for image in out["images"].values():
        assert image["median_duration_s"] > 0 and image["registry_size_bytes"] > 0


def test_data_text_says_synthetic():
    proc = run_cli("data")
    assert proc.returncode == 0
    assert proc.stdout.startswith("SYNTHETIC SAMPLE DATA")
    assert "debian-arm64-cross" in proc.stdout


@pytest.mark.parametrize(
    ("make_bad", "needle"),
    [
        (lambda d: d / "missing", "no such data directory"),
        (lambda d: d, "metadata.json: missing"),
    ],
)
def test_bad_data_dir_is_one_line_exit_2(tmp_path: Path, make_bad, needle):
    bad = make_bad(tmp_path)
    proc = run_cli("data", "--data", str(bad))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and str(bad) in lines[0]
    assert "Traceback" not in proc.stderr


def test_corrupt_data_file_is_one_line_exit_2(tmp_path: Path):
    import shutil

    from cachecost.config import SAMPLE_DATA_DIR

    shutil.copytree(SAMPLE_DATA_DIR, tmp_path / "ds")
    (tmp_path / "ds" / "jobs.parquet").write_text("garbage")
    proc = run_cli("data", "--data", str(tmp_path / "ds"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "jobs.parquet" in proc.stderr


def test_every_command_has_help(capsys):
    names = [c.dest for c in build_parser()._subparsers._group_actions[0]._choices_actions]
    assert "data" in names and len(names) == len(_command_modules())
    for name in names:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert "usage: cachecost " + name in capsys.readouterr().out


def test_console_script_and_module_agree():
    exe = Path(sys.executable).with_name("cachecost")
    proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("cachecost ")
    assert run_cli("--version").stdout == proc.stdout
