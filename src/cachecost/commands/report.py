"""Build the decision report: every notebook for every scenario, as an offline site.

    cachecost report                                   # scenarios/*.yaml on the sample
    cachecost report --scenario scenarios/x.yaml --data data/raw/gitlab.com/qemu-project/qemu
    cachecost report --standalone --out public --base-url https://me.gitlab.io/cachecost
    cachecost report --fetch --url https://gitlab.com --project qemu-project/qemu
    cachecost report --group data/raw/demo-group --out reports/group   # docs/group.md

Writes OUT/index.html (scenarios side by side), OUT/<scenario>/<notebook>.html with
the executed .ipynb beside it, summary.txt (a plain-text mailing-list reply),
summary.md and results.json. A rebuild whose inputs did not change does nothing;
--force rebuilds. The GitLab token for --fetch comes from the environment
(GITLAB_TOKEN) or python-gitlab's config file, never from an option.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

from cachecost.config import RAW_DATA_DIR, REPORTS_DIR, check_output_dir, removed_on_failure
from cachecost.errors import CachecostError

HELP = "build the HTML report site, summaries and results for every scenario"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cachecost report``."""
    parser.add_argument("--scenario", metavar="FILE", action="append", type=Path,
                        help="scenario YAML (repeatable; default: every scenarios/*.yaml; with "
                             "--group, one: the group's, default "
                             "scenarios/group/gitlab-hosted-group.yaml)")
    parser.add_argument("--data", metavar="DIR", help="dataset directory (default: the sample)")
    parser.add_argument("--out", metavar="DIR", type=Path,
                        help=f"site directory (default: {REPORTS_DIR} for the sample, "
                             f"{REPORTS_DIR}/<dataset> for --data DIR); cachecost owns it: "
                             "each build replaces DIR/<scenario>/ whole, so an existing folder "
                             "holding other files is refused")
    parser.add_argument("--force-out", action="store_true",
                        help="build into --out even when it holds files cachecost did not "
                             "write (they may be replaced)")
    parser.add_argument("--standalone", action="store_true",
                        help="inline plotly.js into every page so one page can be hosted alone")
    parser.add_argument("--base-url", metavar="URL",
                        help="where the site will be published (for the summaries' links)")
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    parser.add_argument("--no-wait", action="store_true",
                        help="when another report is being written into --out, stop "
                             "(exit 2) instead of waiting for it")
    parser.add_argument("--jobs", metavar="N", type=int,
                        help="notebooks run in parallel (default: the number of CPUs); "
                             "with --group, projects built in parallel (default: CPUs + 1)")
    parser.add_argument("-p", "--parameter", metavar="NAME=VALUE", action="append", default=[],
                        help="extra notebook parameter (YAML value; must be declared "
                             "in every report notebook's parameters cell)")
    parser.add_argument("--group", metavar="DIR", type=Path,
                        help="a folder of cachecost fetch --group: one index over every "
                             "project, sorted by what a change saves (one --scenario at most; "
                             "default --out: reports/group/<DIR name>/)")
    fetch = parser.add_argument_group("fetch first (runs notebooks/00-fetch-gitlab.ipynb)")
    fetch.add_argument("--fetch", action="store_true", help="fetch CI history before building")
    fetch.add_argument("--url", metavar="URL", help="GitLab instance, e.g. https://gitlab.com")
    fetch.add_argument("--project", metavar="GROUP/PROJECT", help="project path")
    fetch.add_argument("--since", metavar="YYYY-MM-DD", help="oldest pipeline to fetch")


def parse_parameters(pairs: list[str]) -> dict:
    """Turn ``NAME=VALUE`` strings into a dict, values read as YAML scalars (``3`` is an int)."""
    parameters = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.isidentifier():
            raise CachecostError(f"--parameter {pair!r}: expected NAME=VALUE")
        try:
            parameters[name] = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            parameters[name] = raw
    return parameters


@contextlib.contextmanager
def out_dir_lock(out: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on the site directory ``out`` while a report is written.

    ``flock(2)`` on the directory itself (no lock file lands in the published
    site); the kernel drops it when the process ends, however it ends. A second
    report into the same ``out`` waits for the first (saying so on stderr), or
    with ``wait=False`` stops at once.

    Raises:
        CachecostError: ``wait=False`` and another process holds the lock.
    """
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise CachecostError(
                    f"--out {out}: busy, another cachecost report is writing there; "
                    "run again when it has finished (or leave out --no-wait to wait)") from None
            print(f"cachecost: another cachecost report is writing into {out}; waiting for "
                  "it to finish", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)                  # closing the last descriptor releases the lock


def run(args: argparse.Namespace) -> int:
    """Build the site and print where its index is."""
    from cachecost.report.build import build_report

    if args.jobs is not None and args.jobs < 1:
        raise CachecostError(f"--jobs {args.jobs}: expected 1 or more")
    fetch_params = None
    if args.fetch:
        if not args.project:
            raise CachecostError("--fetch needs --project GROUP/PROJECT")
        fetch_params = {"url": args.url, "project": args.project, "since": args.since}
        if args.data:
            fetch_params["data_dir"] = str(check_output_dir(args.data, "--data").resolve())
        else:
            check_output_dir(RAW_DATA_DIR, "data directory")
    elif args.url or args.project or args.since:
        raise CachecostError("--url, --project and --since only apply with --fetch")
    if args.group is not None:
        return _build_group(args)
    from cachecost.report.outdir import check_site_dir, sweep_debris

    if args.out is None:
        args.out = default_out_dir(args.data or (fetch_params or {}).get("data_dir"))
    data_dir = (fetch_params or {}).get("data_dir") or args.data
    check_site_dir(args.out, data_dir, is_forced=args.force_out)
    out = check_output_dir(args.out, "--out")
    # a first build that fails (data that does not load, a failing notebook) leaves no
    # empty --out behind; an --out that held older reports is left as it was
    with removed_on_failure(out), out_dir_lock(out, wait=not args.no_wait):
        swept = sweep_debris(out)     # what builds killed outright left (we hold the lock)
        if swept:
            print(f"cachecost: removed {len(swept)} leftover(s) of an interrupted build "
                  f"from {out}", file=sys.stderr)
        return _build(args, build_report, fetch_params)


def default_out_dir(data_dir: str | None) -> Path:
    """Where a report goes without --out: ``reports/`` for the sample, else its own folder.

    ``data/raw/demo`` gives ``reports/demo``; ``data/raw/gitlab.com/qemu-project/qemu``
    gives ``reports/gitlab.com/qemu-project/qemu``; a dataset elsewhere gives
    ``reports/<its folder name>``. So a report of fetched data never replaces the
    sample's site (or another dataset's).
    """
    if not data_dir:
        return REPORTS_DIR
    path = Path(data_dir).expanduser().absolute()
    try:
        name = path.relative_to(RAW_DATA_DIR.absolute())
    except ValueError:
        name = Path(path.name or "data")
    return REPORTS_DIR / name


def _build(args: argparse.Namespace, build_report, fetch_params: dict | None) -> int:
    build = build_report(
        args.scenario,
        args.data,
        args.out,
        is_standalone=args.standalone,
        base_url=args.base_url,
        force=args.force,
        jobs=args.jobs,
        fetch_params=fetch_params,
        parameters=parse_parameters(args.parameter),
    )
    if build.built:
        done = f"built {', '.join(build.built)}"
        if build.skipped:
            done += f"; unchanged: {', '.join(build.skipped)}"
    else:
        done = "nothing changed (--force rebuilds)"
    print(f"cachecost: {done} in {build.elapsed_s:.1f} s", file=sys.stderr)
    print(build.index_path.resolve())
    return 0


def _build_group(args: argparse.Namespace) -> int:
    """``--group DIR``: the group index, summary and results (cachecost.group.report).

    Without ``--out``, the site goes to ``reports/group/<DIR's name>/``, beside (not over)
    the per-scenario site in ``reports/``.
    """
    from cachecost.collect.group import read_group_meta
    from cachecost.group.report import build_group_report, check_group_site_dir

    if args.fetch or args.data or len(args.scenario or []) > 1:
        raise CachecostError("--group takes no --fetch or --data, and one --scenario at most")
    target = args.out if args.out is not None else REPORTS_DIR / "group" / args.group.name
    read_group_meta(args.group)      # a folder that is no group is said as such first
    check_group_site_dir(args.group, target, is_forced=args.force_out)
    out = check_output_dir(target, "--out")
    with removed_on_failure(out), out_dir_lock(out, wait=not args.no_wait):
        _sweep_group_debris(out)
        build = build_group_report(args.group, out, force=args.force, jobs=args.jobs,
                                   show_progress=sys.stderr.isatty(),
                                   scenario_path=(args.scenario or [None])[0])
    done = "nothing changed (--force rebuilds)" if build.is_noop else \
        f"built the group index over {len(build.rows)} projects"
    print(f"cachecost: {done} in {build.elapsed_s:.1f} s", file=sys.stderr)
    print(build.index_path.resolve())
    return 0


def _sweep_group_debris(out: Path) -> None:
    """What group builds killed outright left (under the lock): in ``out`` and in each
    project's site folder, where its pages are staged."""
    from cachecost.report.outdir import sweep_debris

    folders = [out, *(p for p in sorted(out.iterdir()) if p.is_dir() and not p.is_symlink())]
    swept = [path for folder in folders for path in sweep_debris(folder)]
    if swept:
        print(f"cachecost: removed {len(swept)} leftover(s) of an interrupted build "
              f"from {out}", file=sys.stderr)
