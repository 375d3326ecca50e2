"""Fetch a GitLab project's CI history (pipelines, jobs, a sample of build logs,
registry sizes) into a dataset that `cachecost data` and the notebooks read.

    export GITLAB_TOKEN=...            # a token with scope read_api; never a CLI value
    cachecost fetch --url https://gitlab.com --project qemu-project/qemu --since 2025-09-01
    cachecost fetch --gitlab-config gitlab.com --project qemu-project/qemu
    cachecost fetch --url https://gitlab.freedesktop.org --group mesa --include-subgroups

Run it again to add what changed since (incremental); an interrupted run is
resumed by running the same command. The token comes from GITLAB_TOKEN /
GITLAB_PRIVATE_TOKEN or python-gitlab's config file (--gitlab-config SECTION,
PYTHON_GITLAB_CFG); in GitLab CI the URL defaults to CI_SERVER_URL. The job
token (CI_JOB_TOKEN) cannot read the jobs and pipelines APIs. See docs/fetch.md.
"""

from __future__ import annotations

import argparse
import sys

from cachecost.collect.fetch import FetchOptions, parse_since, run_fetch
from cachecost.collect.group import run_group_fetch
from cachecost.commands import registry_scan
from cachecost.config import RAW_DATA_DIR, check_output_dir
from cachecost.errors import CachecostError

HELP = "fetch a GitLab project's CI history into a dataset (incremental, resumable)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cachecost fetch``."""
    parser.add_argument("--url", help="GitLab instance, e.g. https://gitlab.com "
                        "(default: CI_SERVER_URL, or the --gitlab-config section's url)")
    parser.add_argument("--project", metavar="GROUP/PROJECT",
                        help="project path, e.g. qemu-project/qemu")
    parser.add_argument("--group", metavar="GROUP",
                        help="instead of --project: every project of this group that builds "
                        "container images, one dataset each under --data (docs/group.md)")
    parser.add_argument("--include-subgroups", action="store_true",
                        help="with --group: the subgroups' projects too")
    parser.add_argument("--since", metavar="YYYY-MM-DD",
                        help="first run only: fetch pipelines and jobs from this date on")
    parser.add_argument("--data", metavar="DIR",
                        help="dataset directory (default: data/raw/<host>[_<port>]/<project path>/)")
    parser.add_argument("--gitlab-config", metavar="SECTION",
                        help="take URL and token from this python-gitlab config section")
    parser.add_argument("--logs-per-image", type=int, default=2, metavar="N",
                        help="build logs to read per container job name and run (default 2)")
    parser.add_argument("--mapping", metavar="FILE",
                        help="YAML file mapping container jobs to images (see docs/fetch.md)")
    parser.add_argument("--pipeline-details", action="store_true",
                        help="get pipeline durations from GET /pipelines/:id (one request "
                        "each) instead of deriving them from the jobs")
    parser.add_argument("--workers", type=int, default=4, metavar="N",
                        help="requests at once per phase, at most twice that in all "
                        "(default 4; lower it for a small self-hosted instance)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars and no summary")
    parser.add_argument("--registry-layers", action="store_true",
                        help="then scan the project's registry layer by layer (as "
                        "`cachecost registry-scan --project P --data DIR`) into the dataset")


def run(args: argparse.Namespace) -> int:
    """Fetch, then print the one-paragraph summary."""
    if (args.project is None) == (args.group is None):
        raise CachecostError("give one of --project GROUP/PROJECT or --group GROUP")
    if args.group is not None:
        if args.registry_layers:
            raise CachecostError("--registry-layers applies to one --project; scan a group's "
                                 "projects one by one with cachecost registry-scan")
        return _run_group(args)
    # before any request: a fetch that cannot save would crawl everything for nothing
    if args.data:
        check_output_dir(args.data, "--data")
    else:
        check_output_dir(RAW_DATA_DIR, "data directory")
    result = run_fetch(
        args.url, args.project, since=args.since, data_dir=args.data,
        gitlab_config=args.gitlab_config, logs_per_image=args.logs_per_image,
        mapping=args.mapping,
        pipeline_durations="details" if args.pipeline_details else "jobs",
        show_progress=not args.quiet and sys.stderr.isatty(), workers=args.workers,
    )
    for line in result.warnings:          # shown even with --quiet: data the model lacks
        print(f"warning: {line}", file=sys.stderr)
    if not args.quiet:
        print(result.summary())
    if args.registry_layers:
        scan_args = registry_scan.build_parser_defaults()
        scan_args.project, scan_args.url = result.project_path, args.url
        scan_args.gitlab_config, scan_args.data = args.gitlab_config, str(result.data_dir)
        scan_args.quiet = args.quiet
        try:
            return registry_scan.run(scan_args)
        except CachecostError as exc:     # the fetch itself is saved: say so, and the rerun
            again = (f"cachecost registry-scan --project {result.project_path} "
                     f"--data {result.data_dir}" + (f" --url {args.url}" if args.url else ""))
            raise CachecostError(f"fetched into {result.data_dir}, but the registry scan "
                                 f"failed: {exc} (scan again alone: {again})") from None
    return 0


def _run_group(args: argparse.Namespace) -> int:
    """``--group``: detect and fetch every image-building project (cachecost.collect.group)."""
    check_output_dir(args.data or RAW_DATA_DIR, "--data" if args.data else "data directory")
    options = FetchOptions(since=parse_since(args.since), logs_per_image=args.logs_per_image,
                           mapping_file=args.mapping, workers=args.workers,
                           pipeline_durations="details" if args.pipeline_details else "jobs")
    result = run_group_fetch(args.url, args.group, data_dir=args.data,
                             gitlab_config=args.gitlab_config,
                             include_subgroups=args.include_subgroups, options=options,
                             show_progress=not args.quiet and sys.stderr.isatty())
    for scan in result.failed():
        print(f"warning: {scan.project_path}: not fetched ({scan.error})", file=sys.stderr)
    if not args.quiet:
        print(result.summary())
    return 0
