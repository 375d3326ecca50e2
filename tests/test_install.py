"""`pip install` (sdist, then the wheel built from it) gives a cachecost that works anywhere.

The sdist and wheel are built offline with setuptools' own PEP 517 hooks (what
pip and ``uv build`` call), from a copy of the tracked files. The wheel goes
into a fresh venv with ``pip install --no-deps``; the venv reaches its
dependencies through a ``.pth`` line naming this test environment's
site-packages (read as a plain path: the editable cachecost there is not
seen) and its nbconvert templates through a link, so nothing is downloaded.
Then, from an empty directory, ``cachecost report`` builds the default report
into ``./reports`` and the demo fetch writes ``./data/raw/demo``: nothing is
written into the venv or read from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from cachecost.config import PROJ_ROOT

BUNDLED = {"notebooks": "*.ipynb", "scenarios": "*.yaml", "scenarios/group": "*.yaml",
           "data/sample": "*"}


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900, **kw)
    assert proc.returncode == 0, f"{args}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """sdist from the tracked files, then the wheel from the unpacked sdist (as pip does)."""
    if shutil.which("git") is None or not (PROJ_ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the tracked files")
    root = tmp_path_factory.mktemp("build")
    tree = root / "tree"
    files = _run(["git", "-C", str(PROJ_ROOT), "ls-files", "-z"]).stdout.split("\0")
    for name in filter(None, files):
        if (PROJ_ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJ_ROOT / name, tree / name)
    hook = "from setuptools import build_meta as b; import sys; print(b.{}(sys.argv[1]))"
    sdist = root / "dist" / _run([sys.executable, "-c", hook.format("build_sdist"),
                                  str(root / "dist")], cwd=tree).stdout.split()[-1]
    with tarfile.open(sdist) as tar:
        tar.extractall(root / "unpacked",
                       **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    unpacked = next((root / "unpacked").iterdir())
    for folder, pattern in BUNDLED.items():     # the sdist carries the single sources
        assert sorted(p.name for p in (unpacked / folder).glob(pattern)) == \
            sorted(p.name for p in (PROJ_ROOT / folder).glob(pattern))
    name = _run([sys.executable, "-c", hook.format("build_wheel"), str(root / "wheel")],
                cwd=unpacked).stdout.split()[-1]
    return root / "wheel" / name


def test_wheel_bundles_notebooks_scenarios_and_sample(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for folder, pattern in BUNDLED.items():
            for src in (PROJ_ROOT / folder).glob(pattern):
                packed = f"cachecost/_bundled/{folder}/{src.name}"
                assert packed in names
                assert zf.read(packed) == src.read_bytes()
    # the single source stays in git: no copy committed inside the package
    tracked = _run(["git", "-C", str(PROJ_ROOT), "ls-files", "src/cachecost/_bundled"]).stdout
    assert tracked == ""


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    env_dir = tmp_path_factory.mktemp("venv") / "v"
    _run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)])
    py = env_dir / "bin" / "python"
    site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                ).stdout.strip()
    (Path(site) / "zz-test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    share = env_dir / "share" / "jupyter"
    share.mkdir(parents=True)
    (share / "nbconvert").symlink_to(Path(sys.prefix) / "share" / "jupyter" / "nbconvert")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-deps",
          "--no-index", str(wheel)])
    return env_dir


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "VIRTUAL_ENV", "GITLAB_TOKEN", "JUPYTER_PATH")}


def test_installed_cachecost_builds_the_default_report_from_an_empty_dir(venv, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    py, exe = venv / "bin" / "python", venv / "bin" / "cachecost"
    where = _run([str(py), "-c", "import cachecost.config as c; print(c.__file__, c.IS_CHECKOUT,"
                  " c.SCENARIOS_DIR)"], cwd=work).stdout.split()
    assert where[0].startswith(str(venv)) and where[1] == "False"
    assert where[2].startswith(str(venv))
    proc = _run([str(exe), "report", "--jobs", "2"], cwd=work, env=_clean_env())
    index = Path(proc.stdout.strip().splitlines()[-1])
    assert index == work / "reports" / "index.html" and index.is_file()
    scenarios = sorted(p.stem for p in (PROJ_ROOT / "scenarios").glob("*.yaml"))
    for name in scenarios:
        results = json.loads((work / "reports" / name / "results.json").read_text())
        assert results["is_synthetic_data"] is True
        assert (work / "reports" / name / "02-caching-decision.html").is_file()
    assert not list(venv.rglob("reports")) and not (venv / "data").exists()

    demo = _run([str(py), "-m", "cachecost.standin.demo"], cwd=work, env=_clean_env())
    assert "data/raw/demo" in demo.stdout
    meta = json.loads((work / "data" / "raw" / "demo" / "metadata.json").read_text())
    assert meta["is_synthetic"] is True
    assert not list(venv.rglob("demo"))
