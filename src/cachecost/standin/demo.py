"""The whole fetch path without a token: stand-in up, ``cachecost fetch``, stand-in down.

    python -m cachecost.standin.demo              # what `make demo-fetch` runs
    cachecost data --data data/raw/demo

Starts the GitLab stand-in on 127.0.0.1 (an ephemeral port) serving the
bundled synthetic sample, fetches it with the same code as ``cachecost fetch``
into ``data/raw/demo/`` (a previous demo snapshot there is replaced), prints
the fetch summary and stops the stand-in. The fetched dataset says
``source: gitlab`` and ``is_synthetic: true``: the stand-in marks its answers
(``X-Cachecost-Synthetic``) and the fetch records that, so every report built
on it carries the synthetic banner. Installed (not a checkout), ``data/raw/``
is under the working directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from cachecost.cli import run_guarded
from cachecost.collect.fetch import FetchOptions, fetch_project_history
from cachecost.collect.gitlab.client import connect
from cachecost.config import RAW_DATA_DIR, check_output_dir
from cachecost.dataset.io import load_dataset
from cachecost.errors import CachecostError
from cachecost.standin.__main__ import DEMO_TOKEN
from cachecost.standin.data import StandinData
from cachecost.standin.server import Faults, start_standin

DEMO_DIR = RAW_DATA_DIR / "demo"


def cachecost_command(path_env: str | None = None, cwd: Path | None = None) -> str:
    """How to run ``cachecost`` from this shell: ``cachecost`` when that name on ``PATH``
    is the one beside this Python, else the path of the one beside it (``.venv/bin/cachecost``
    in a checkout after ``make``, which puts nothing on ``PATH``: README, "Install"),
    relative to ``cwd`` when under it. ``path_env``: the ``PATH`` to look in (default:
    the environment's)."""
    beside = Path(sys.executable).parent / "cachecost"
    if not beside.is_file():          # not a venv or install with the script: the module
        return f"{Path(sys.executable).name} -m cachecost"
    found = shutil.which("cachecost", path=os.environ.get("PATH", "") if path_env is None
                         else path_env)
    if found is not None and Path(found).resolve() == beside.resolve():
        return "cachecost"
    return shown_path(beside, cwd)


def shown_path(path: Path, cwd: Path | None = None) -> str:
    """``path`` as the user types it: relative to ``cwd`` (default: the working directory)
    when under it, else absolute."""
    here = Path.cwd() if cwd is None else cwd
    try:
        return str(path.absolute().relative_to(here.absolute()))
    except ValueError:
        return str(path.absolute())


def _clear_previous_demo(out: Path) -> None:
    state = out / "fetch_state.json"
    if not out.exists():
        return
    try:
        url = json.loads(state.read_text())["instance_url"]
    except (OSError, ValueError, KeyError):
        url = ""
    if not url.startswith("http://127.0.0.1:"):
        raise CachecostError(f"{out}: exists and is not a previous demo; pass another --out")
    shutil.rmtree(out)


def run_demo(out: Path = DEMO_DIR, *, latency_ms: float = 0.0, quiet: bool = False) -> Path:
    """Serve the sample, fetch it into ``out``, stop; return ``out``."""
    check_output_dir(out, "--out")
    _clear_previous_demo(out)
    data = StandinData(load_dataset(None))
    with start_standin(data, faults=Faults(latency_ms=latency_ms),
                       tokens={DEMO_TOKEN: {"read_api"}}) as srv:
        if not quiet:
            print(f"GitLab stand-in serving {data.project_path} at {srv.url}", file=sys.stderr)
        client = connect(srv.url, environ={"GITLAB_TOKEN": DEMO_TOKEN})
        options = FetchOptions(show_progress=not quiet and sys.stderr.isatty())
        result = fetch_project_history(client, data.project_path, out, options)
        client.close()
    if not quiet:
        print(result.summary())
        cmd = cachecost_command()
        shown = shown_path(out)
        print(f"Next: {cmd} data --data {shown}; {cmd} report --data {shown} "
              "(its site goes to a folder of its own under reports/)")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line of the demo."""
    p = argparse.ArgumentParser(prog="python -m cachecost.standin.demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=DEMO_DIR, help="dataset directory to write")
    p.add_argument("--latency-ms", type=float, default=0.0, help="stand-in latency per request")
    args = p.parse_args(argv)

    def demo() -> int:
        run_demo(args.out, latency_ms=args.latency_ms)
        return 0

    return run_guarded(demo)


if __name__ == "__main__":
    sys.exit(main())
