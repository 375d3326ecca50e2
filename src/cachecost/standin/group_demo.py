"""The group fetch without a token: group stand-in up, ``fetch --group``, stand-in down.

    python -m cachecost.standin.group_demo        # what `make demo-fetch-group` runs
    cachecost report --group data/raw/demo-group

SYNTHETIC: serves :class:`~cachecost.standin.group.StandinGroup` (root group ``fdo``,
two subgroups, one project per builder -- dind, kaniko, buildah, ci-templates --,
projects that build nothing and one that answers 403) on 127.0.0.1, fetches it with the
same code as ``cachecost fetch --group fdo --include-subgroups`` into
``data/raw/demo-group/`` (a previous demo there is replaced), prints the summary
(the 403 project reported as not fetched) and stops the stand-in.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from cachecost.cli import run_guarded
from cachecost.collect.fetch import FetchOptions
from cachecost.collect.gitlab.client import connect
from cachecost.collect.group import STATE_FILE, GroupFetchResult, fetch_group
from cachecost.config import RAW_DATA_DIR, check_output_dir
from cachecost.errors import CachecostError
from cachecost.standin.__main__ import DEMO_TOKEN
from cachecost.standin.demo import cachecost_command, shown_path
from cachecost.standin.group import StandinGroup, start_group_standin

DEMO_GROUP_DIR = RAW_DATA_DIR / "demo-group"


def _clear_previous(out: Path) -> None:
    if not out.exists():
        return
    try:
        url = json.loads((out / STATE_FILE).read_text())["instance_url"]
    except (OSError, ValueError, KeyError):
        url = ""
    if not url.startswith("http://127.0.0.1:"):
        raise CachecostError(f"{out}: exists and is not a previous group demo; pass another --out")
    shutil.rmtree(out)


def run_group_demo(out: Path = DEMO_GROUP_DIR, *, non_building: int = 6, building: int = 4,
                   quiet: bool = False) -> GroupFetchResult:
    """Serve the synthetic group, fetch it into ``out``, stop; return the fetch result."""
    check_output_dir(out, "--out")
    _clear_previous(out)
    group = StandinGroup.build(non_building=non_building, building=building)
    with start_group_standin(group, tokens={DEMO_TOKEN: {"read_api"}}) as srv:
        if not quiet:
            print(f"GitLab stand-in serving group {group.root} ({len(group.projects)} projects, "
                  f"synthetic) at {srv.url}", file=sys.stderr)
        result = fetch_group(lambda: connect(srv.url, environ={"GITLAB_TOKEN": DEMO_TOKEN}),
                             group.root, out, include_subgroups=True, options=FetchOptions(),
                             show_progress=not quiet and sys.stderr.isatty())
    if not quiet:
        forbidden = {p.path_with_namespace for p in group.projects if p.is_forbidden}
        for scan in result.failed():
            print(demo_failure(scan.project_path, str(scan.error), forbidden), file=sys.stderr)
        print(result.summary())
        print(f"Next: {cachecost_command()} report --group {shown_path(out)}")
    return result


def demo_failure(project_path: str, error: str, forbidden: set[str]) -> str:
    """The line for a project the demo did not fetch: the stand-in's 403 project is refused
    on purpose (the demo shows how a project the token cannot read is reported; the
    fetch's own advice, to give the token a scope, is about a real GitLab and a token the
    user set, so it is not repeated); any other failure is a real warning."""
    if project_path in forbidden:
        return (f"note: {project_path}: not fetched, as intended: the stand-in answers 403 "
                "for this project to show how a project your token cannot read is "
                "reported; nothing to fix (a second run gets the same 403)")
    return f"warning: {project_path}: not fetched ({error})"


def main(argv: list[str] | None = None) -> int:
    """Command line of the group demo."""
    p = argparse.ArgumentParser(prog="python -m cachecost.standin.group_demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=DEMO_GROUP_DIR, help="group folder to write")
    p.add_argument("--non-building", type=int, default=6, help="projects that build no image")
    p.add_argument("--building", type=int, default=4, help="projects that build images")
    args = p.parse_args(argv)

    def demo() -> int:
        run_group_demo(args.out, non_building=args.non_building, building=args.building)
        return 0

    return run_guarded(demo)


if __name__ == "__main__":
    sys.exit(main())
