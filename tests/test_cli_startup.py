"""``cachecost --version`` and ``--help`` answer without importing pandas (issue 23, item 5).

Before: ``import cachecost`` imported the dataset layer (pandas, pyarrow), and
the parser imported every command, so ``--version`` took 1.0-1.5 s. The time is
measured by ``scripts/bench_startup.py``; this test checks the cause: which
heavy modules a run imports (``python -X importtime`` lists every import).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "pyarrow", "plotly", "gitlab", "papermill", "requests")


def imported_modules(*args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "cachecost", *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["report", "--help"]])
def test_version_and_help_import_no_heavy_module(args):
    mods = imported_modules(*args)
    assert "cachecost.cli" in mods          # the run is seen at all
    assert not [m for m in mods if m.split(".")[0] in HEAVY]


def test_a_command_still_imports_what_it_needs():
    """``model --help`` imports the model (its defaults are in the help): pandas comes too."""
    assert "pandas" in imported_modules("model", "--help")


def test_the_dataset_api_is_still_at_the_top_level():
    import cachecost

    assert callable(cachecost.load_dataset) and cachecost.Dataset.__name__ == "Dataset"
    with pytest.raises(AttributeError):
        cachecost.no_such_name  # noqa: B018
