"""Project hygiene: environment.yml in step with pyproject, clean notebooks, docs in step."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from cachecost.config import NOTEBOOKS_DIR, PROJ_ROOT
from cachecost.dataset import schema


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", req.strip())
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(3).replace(" ", "")


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((PROJ_ROOT / "pyproject.toml").read_text())["project"]
    # the conda environment is for exploring too: the `lab` extra (jupyterlab) is in it
    wanted = dict(_split(r) for r in [*project["dependencies"],
                                      *project["optional-dependencies"]["lab"]])
    env = yaml.safe_load((PROJ_ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    have = dict(_split(d) for d in conda if _split(d)[0] not in ("python", "pip"))
    assert have == wanted
    assert any(f">={project['requires-python'].lstrip('>=')}" in d for d in conda
               if d.startswith("python"))
    assert "-e .[test,lab]" in pip


def notebooks():
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_notebook_committed_clean_with_typed_parameters(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert re.match(r"^\d\d-[a-z0-9-]+\.ipynb$", path.name)
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    source = "".join(params[0]["source"])
    tree = ast.parse(source)
    assigns = [n for n in tree.body if not isinstance(n, ast.Expr)]
    assert assigns and all(isinstance(n, ast.AnnAssign) for n in assigns), "typed parameters"
    for line in source.splitlines():
        if re.match(r"^\w+\s*:", line):
            assert "#" in line, f"parameter without a comment: {line}"
            name = line.split(":")[0].strip().lower()
            assert not re.search(r"token|password|secret", name), "no secrets as parameters"


def test_data_readme_documents_every_column():
    text = (PROJ_ROOT / "data" / "README.md").read_text()
    for table, cols in schema.ALL_TABLES.items():
        assert f"`{table}.parquet`" in text
        for col in cols:
            assert f"| `{col.name}` |" in text, f"{table}.{col.name} undocumented"


def test_generated_output_is_ignored_by_git():
    for path in ("reports/index.html", "data/raw/x/metadata.json", ".venv/bin/python"):
        proc = subprocess.run(["git", "check-ignore", "-q", path], cwd=PROJ_ROOT)
        assert proc.returncode == 0, f"{path} is not ignored"


def test_make_help_lists_documented_targets():
    out = subprocess.run(["make", "-s", "help"], cwd=PROJ_ROOT, capture_output=True, text=True)
    assert out.returncode == 0
    for target in ("report", "test", "lint", "sample-data", "lab"):
        assert re.search(rf"^\s+\S*{target}\S*\s+\S", out.stdout, re.M), target


def test_make_help_aligns_every_description():
    """Every target's description starts in one column: `demo-fetch-group` (16 characters)
    overran the 12-character name column and pushed its description 5 columns right."""
    out = subprocess.run(["make", "-s", "help"], cwd=PROJ_ROOT, capture_output=True, text=True)
    lines = out.stdout.splitlines()
    assert any(line.split()[0] == "demo-fetch-group" for line in lines)
    starts = {len(line) - len(line.lstrip()[len(line.split()[0]):].lstrip()) for line in lines}
    assert len(starts) == 1, out.stdout


def _locked_closure(lock: dict, roots: list[str]) -> set[str]:
    """Every package uv.lock says ``roots`` need (not their optional extras)."""
    deps = {p["name"]: [d["name"] for d in p.get("dependencies", [])] for p in lock["package"]}
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += deps.get(name, [])
    return seen


def test_jupyterlab_is_the_lab_extra_and_the_report_does_not_need_it():
    """Issue 23: jupyterlab (26 MB with jupyter_server) was needed even to build a report."""
    lock = tomllib.loads((PROJ_ROOT / "uv.lock").read_text())
    me = next(p for p in lock["package"] if p["name"] == "cachecost")
    assert [d["name"] for d in me["optional-dependencies"]["lab"]] == ["jupyterlab"]
    base = _locked_closure(lock, [d["name"] for d in me["dependencies"]])
    assert "papermill" in base and "nbconvert" in base and "ipykernel" in base
    assert not {"jupyterlab", "jupyter-server", "notebook"} & base
    with_tests = _locked_closure(lock, [d["name"] for d in me["optional-dependencies"]["test"]])
    assert "jupyterlab" not in with_tests | base
    makefile = (PROJ_ROOT / "Makefile").read_text()
    assert "--extra lab" in makefile.split("\nlab:")[0]      # `make lab` installs it first


def test_make_test_fast_runs_unit_and_model_tests_only():
    """`make test-fast` (issue 23): the model and unit tests, nothing that builds a site."""
    makefile = (PROJ_ROOT / "Makefile").read_text()
    block = makefile.split("FAST_TESTS := ", 1)[1].split("\n\n", 1)[0]
    paths = block.replace("\\", " ").split()
    assert "tests/model" in paths and "tests/test_cli.py" in paths
    assert all((PROJ_ROOT / p).exists() for p in paths), paths
    slow = ("tests/report", "tests/content", "tests/registry", "tests/fetch",
            "tests/test_install.py", "tests/test_pages_template.py", "tests/test_first_hour.py")
    assert not [p for p in paths if p.startswith(slow)]
    assert "\ntest-fast: $(STAMP)\n\t$(BIN)/python -m pytest -q $(FAST_TESTS)" in makefile


def _make(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["make", *args], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_install_uses_uv_from_path_and_never_pip(tmp_path):
    """Offline (issue 23): a uv on PATH is used as it is; pip (which needs PyPI) is not run."""
    fake = tmp_path / "bin" / "uv"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    dry = _make("-n", "-W", "uv.lock", "install", cwd=PROJ_ROOT,
                env={"PATH": f"{fake.parent}:{os.environ['PATH']}"})
    assert dry.returncode == 0, dry.stderr
    assert f"{fake} sync --frozen --extra test" in dry.stdout
    assert "pip install" not in dry.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_install_without_uv_offline_says_what_to_do(tmp_path):
    """No uv on PATH and no index: one line naming the two ways, not pip's bare error."""
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        shutil.copy(PROJ_ROOT / name, tmp_path / name)
    path = ":".join(d for d in os.environ["PATH"].split(":") if not Path(d, "uv").exists())
    run = _make("install", cwd=tmp_path, env={"PATH": path, "PIP_NO_INDEX": "1",
                                              "PIP_FIND_LINKS": "", "UV_OFFLINE": "1"})
    assert run.returncode != 0
    assert ("cannot install uv into .venv (offline?): put uv on PATH, or a uv wheel in a "
            "folder and set PIP_FIND_LINKS") in run.stderr
