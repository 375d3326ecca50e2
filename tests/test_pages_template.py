"""The GitLab Pages template (ci/gitlab-pages.gitlab-ci.yml) runs, under gitlab-ci-local.

gitlab-ci-local (npm, pinned 4.64.0; ``.ci/run`` installs it into ``.ci/node/``)
validates the file against GitLab's CI schema and runs the ``pages`` job with
the shell executor in a throw-away copy of this checkout, against the GitLab
stand-in on 127.0.0.1. The job installs cachecost as the template says; so
that it needs no network, ``python -m venv`` is answered by a shim that makes
a venv seeing this test environment's packages (uv among them), pip is told to
stay offline (``PIP_NO_INDEX``), and ``uv sync --frozen`` installs uv.lock's
versions offline from the uv cache that ``make install`` filled. The published ``public/`` is then checked: a
page per scenario and notebook, the synthetic banner (the stand-in's data),
the summaries, and no trace of the token in the site or the job log.

Skipped with a message when gitlab-ci-local, Node or rsync is missing, except
in CI (``CI=true``), where ``.ci/run`` installs them and the test must run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from cachecost.config import PROJ_ROOT, SCENARIOS_DIR
from cachecost.dataset.sample import SampleSettings, generate_sample
from cachecost.standin import StandinData, start_standin

TEMPLATE = "ci/gitlab-pages.gitlab-ci.yml"
GCL_VERSION = "4.64.0"
#: made at run time, so the copy of this very file in the job's checkout does not hold it
TOKEN = f"glpat-{secrets.token_hex(10)}"
LOCAL_GCL = PROJ_ROOT / ".ci" / "node" / "node_modules" / ".bin" / "gitlab-ci-local"


def _tools() -> tuple[str | None, str]:
    gcl = str(LOCAL_GCL) if LOCAL_GCL.is_file() else shutil.which("gitlab-ci-local")
    missing = [name for name, path in (("gitlab-ci-local", gcl), ("node", shutil.which("node")),
                                       ("rsync", shutil.which("rsync")),
                                       ("git", shutil.which("git"))) if not path]
    return gcl, ", ".join(missing)


@pytest.fixture(scope="module")
def gitlab_ci_local() -> str:
    gcl, missing = _tools()
    if missing:
        message = (f"needs {missing} (bash .ci/run installs them: apt nodejs npm rsync, "
                   f"npm install --prefix .ci/node gitlab-ci-local@{GCL_VERSION})")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    version = subprocess.run([gcl, "--version"], capture_output=True, text=True,
                             timeout=120).stdout.strip()
    assert version == GCL_VERSION, f"gitlab-ci-local {version}, pinned {GCL_VERSION}"
    return gcl


def _copy_checkout(dest: Path) -> None:
    """The tracked files as they are in the working tree, in a fresh git repository."""
    files = subprocess.run(["git", "-C", str(PROJ_ROOT), "ls-files", "-z"], capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = PROJ_ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    git = ["git", "-C", str(dest), "-c", "user.email=ci@example.invalid", "-c", "user.name=ci"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], check=True)
    subprocess.run([*git, "remote", "add", "origin",
                    "https://gitlab.example.invalid/group/cachecost.git"], check=True)


def _uv_cache_dir() -> str:
    """uv's cache of this machine (filled by ``make install``)."""
    out = subprocess.run([sys.executable, "-m", "uv", "cache", "dir"], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def _python_shim(bin_dir: Path) -> None:
    """``python -m venv DIR``: a venv on this interpreter that sees this environment's
    packages and nbconvert templates (offline); any other call runs this interpreter."""
    site = sysconfig.get_paths()["purelib"]
    jupyter = Path(sys.prefix) / "share" / "jupyter" / "nbconvert"
    bin_dir.mkdir()
    shim = bin_dir / "python"
    shim.write_text(f"""#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  dir="$3"
  "{sys.executable}" -m venv --without-pip "$dir" || exit 1
  site=$("$dir/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  echo "{site}" > "$site/zz-test-environment.pth"
  printf '#!/bin/sh\\nexec "$(dirname "$0")/python" -m pip "$@"\\n' > "$dir/bin/pip"
  chmod +x "$dir/bin/pip"
  mkdir -p "$dir/share/jupyter" && ln -sfn "{jupyter}" "$dir/share/jupyter/nbconvert"
  exit 0
fi
exec "{sys.executable}" "$@"
""")
    shim.chmod(0o755)


def test_pages_template_publishes_the_site_without_the_token(gitlab_ci_local, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    _copy_checkout(project)
    _python_shim(tmp_path / "shim")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CI_", "GITLAB_")) and k not in ("VIRTUAL_ENV", "CI")}
    env.update({
        "PATH": f"{tmp_path / 'shim'}:{env.get('PATH', '/usr/bin:/bin')}",
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",         # pip's inverted spelling: no isolation
        "HOME": str(tmp_path / "home"),
    })
    data = StandinData(generate_sample(SampleSettings(days=3)))
    with start_standin(data, tokens={TOKEN: {"read_api"}}) as srv:
        proc = subprocess.run(
            [gitlab_ci_local, "--file", TEMPLATE, "--force-shell-executor", "--no-color",
             "--variable", "CI_PIPELINE_SOURCE=schedule",
             # the template's `uv sync --frozen` installs uv.lock's versions offline, from
             # the cache `make install` filled (a job variable: it beats the template's)
             "--variable", f"UV_CACHE_DIR={_uv_cache_dir()}", "--variable", "UV_OFFLINE=1",
             "--variable", f"CACHECOST_GITLAB_TOKEN={TOKEN}",
             "--variable", f"CACHECOST_URL={srv.url}",
             "--variable", "CI_PAGES_URL=https://group.example.invalid/cachecost",
             "pages"],
            cwd=project, env=env, capture_output=True, text=True, timeout=1200)
        served = srv.counts["total"]
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert "json schema validated" in log
    assert served > 0                                     # the job fetched from the stand-in

    public = project / ".gitlab-ci-local" / "artifacts" / "pages" / "public"
    assert (public / "index.html").is_file(), log[-2000:]
    scenarios = sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))
    notebooks = sorted(p.stem for p in (PROJ_ROOT / "notebooks").glob("0[1-9]-*.ipynb"))
    for name in scenarios:
        for nb in notebooks:
            page = (public / name / f"{nb}.html").read_text(encoding="utf-8")
            assert 'class="cc-synthetic"' in page, f"{name}/{nb}.html has no synthetic banner"
        summary = (public / name / "summary.txt").read_text()
        assert "https://group.example.invalid/cachecost/" in summary
        assert summary.splitlines()[0] in log               # `cat public/*/summary.txt`
    leaks = [str(p.relative_to(project)) for p in project.rglob("*")
             if p.is_file() and ".venv" not in p.parts and TOKEN.encode() in p.read_bytes()]
    assert leaks == []
    assert TOKEN not in log
