"""Scan a container registry layer by layer: what the tags add up to, what is really
stored once each blob counts once, how much is build cache, and how much of that is stale.

    cachecost registry-scan --registry http://127.0.0.1:5000              # every repository
    cachecost registry-scan --registry https://registry.example.com --repository app \\
        --repository app-cache --json
    cachecost registry-scan --url https://gitlab.com --project qemu-project/qemu \\
        --data data/raw/gitlab.com/qemu-project/qemu

Credentials never come from the command line: CACHECOST_REGISTRY_USER and
CACHECOST_REGISTRY_PASSWORD (basic auth, or sent to a bearer-token realm), or,
with --project, the GitLab token `cachecost fetch` uses (GITLAB_TOKEN, or a
python-gitlab config section: --gitlab-config SECTION, or the one whose url is
--url). With --data the layers are written to that dataset's registry_layers
table (atomically).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cachecost.collect.oci.credentials import credentials_from_env, locate_gitlab_registry
from cachecost.collect.oci.scan import DEFAULT_MAX_WORKERS, ScanResult, scan_registry
from cachecost.collect.oci.summary import DEFAULT_CACHE_PATTERNS, DEFAULT_TTL_HOURS
from cachecost.config import check_output_dir
from cachecost.dataset.io import write_table
from cachecost.errors import CachecostError
from cachecost.textfmt import format_bytes

NAME = "registry-scan"
HELP = "measure registry storage layer by layer (sum of tags vs unique bytes, cache, stale tags)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cachecost registry-scan``."""
    parser.add_argument("--registry", metavar="URL",
                        help="registry root, e.g. https://registry.gitlab.com "
                             "(default with --project: the project's registry)")
    parser.add_argument("--repository", metavar="PATH", action="append", default=[],
                        help="repository to scan (repeatable; default: the project's, "
                             "else the registry catalog)")
    parser.add_argument("--project", metavar="GROUP/PROJECT",
                        help="GitLab project whose registry to scan (GitLab credentials)")
    parser.add_argument("--url", metavar="URL",
                        help="GitLab instance for --project (default: CI_SERVER_URL, "
                             "GITLAB_URL or the --gitlab-config section's url)")
    parser.add_argument("--gitlab-config", metavar="SECTION",
                        help="python-gitlab config section for --project")
    parser.add_argument("--cache-pattern", metavar="GLOB", action="append",
                        help="glob naming cache repositories (repeatable; default: "
                             + ", ".join(DEFAULT_CACHE_PATTERNS) + ")")
    parser.add_argument("--ttl-hours", metavar="H", type=float, default=DEFAULT_TTL_HOURS,
                        help=f"cache tags older than this are stale (default {DEFAULT_TTL_HOURS:g},"
                             " kaniko's --cache-ttl)")
    parser.add_argument("--workers", metavar="N", type=int, default=DEFAULT_MAX_WORKERS,
                        help=f"concurrent requests (default {DEFAULT_MAX_WORKERS})")
    parser.add_argument("--data", metavar="DIR",
                        help="dataset directory to write the registry_layers table into")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def format_result(result: ScanResult) -> str:
    """Render a scan as plain text: one line per repository, then the totals."""
    s = result.summary
    lines = [f"{'repository':<44} {'tags':>5} {'sum of tags':>12} {'unique':>10}"]
    for repo in s["repositories"]:
        mark = " (cache)" if repo["is_cache_repository"] else ""
        lines.append(f"{(repo['path'] + mark)[:44]:<44} {repo['tags']:>5} "
                     f"{format_bytes(repo['sum_of_tags_bytes']):>12} "
                     f"{format_bytes(repo['unique_bytes']):>10}")
    t = s["total"]
    ratio = t["sum_of_tags_bytes"] / t["unique_bytes"] if t["unique_bytes"] else float("nan")
    lines += [
        "",
        f"sum of tag sizes:        {format_bytes(t['sum_of_tags_bytes'])} "
        f"({ratio:.2f}x the unique bytes)",
        f"unique (deduplicated):   {format_bytes(t['unique_bytes'])}",
        f"shared image/cache:      {format_bytes(t['shared_with_cache_bytes'])}",
        f"only in cache repos:     {format_bytes(t['cache_only_bytes'])}",
        f"stale cache tags:        {t['stale_cache_tags']} older than "
        f"{s['settings']['ttl_hours']:g} h, {format_bytes(t['stale_cache_unique_bytes'])} "
        "freed if deleted",
    ]
    if t["foreign_layers"]:
        lines.append(f"foreign layers:          {t['foreign_layers']} named by manifests, "
                     f"{format_bytes(t['foreign_bytes'])} declared, not stored by the "
                     "registry (not counted above)")
    skipped = skipped_lines(result.skipped)
    if skipped:
        lines.append(f"skipped:                 {len(skipped)} manifest(s) not counted:")
        lines += [f"  {line}" for line in skipped]
    return "\n".join(lines)


def skipped_lines(skipped: list) -> list[str]:
    """One line per distinct skipped manifest (tags naming the same one merged), in order.

    ``skipped`` holds :class:`~cachecost.collect.oci.scan.Skipped` items; the
    same manifest reached through two tags, or twice in one walk, is one line.
    """
    tags: dict[tuple, list[str]] = {}
    for item in skipped:
        key = (item.repository, item.digest or f"tag {item.tag}", item.media_type, item.reason)
        names = tags.setdefault(key, [])
        if item.tag not in names:
            names.append(item.tag)
    return [f"{repo}:{','.join(names)} {digest if digest.startswith('sha') else ''} "
            f"({media_type or '?'}): {reason}".replace("  ", " ")
            for (repo, digest, media_type, reason), names in tags.items()]


def build_parser_defaults() -> argparse.Namespace:
    """Return this command's options at their defaults (for ``cachecost fetch --registry-layers``)."""
    parser = argparse.ArgumentParser(add_help=False)
    add_arguments(parser)
    return parser.parse_args([])


def run(args: argparse.Namespace) -> int:
    """Scan, print the results, and store the layers when ``--data`` is given."""
    if args.ttl_hours <= 0:
        raise CachecostError(f"--ttl-hours {args.ttl_hours:g}: must be positive")
    if args.workers < 1:
        raise CachecostError(f"--workers {args.workers}: must be at least 1")
    if not args.registry and not args.project:
        raise CachecostError("registry-scan: give --registry URL or --project GROUP/PROJECT")
    data_dir = Path(args.data) if args.data else None
    if data_dir is not None and not (data_dir / "metadata.json").is_file():
        raise CachecostError(f"{data_dir}: not a cachecost dataset (no metadata.json); "
                             "fetch one first or give an existing dataset directory")
    if data_dir is not None:
        check_output_dir(data_dir, "--data")      # before the scan, not at its end
    credentials = credentials_from_env()
    repositories = list(args.repository)
    registry_url = args.registry
    if args.project:
        located = locate_gitlab_registry(args.project, url=args.url,
                                         section=args.gitlab_config)
        registry_url = registry_url or located.registry_url
        repositories = repositories or list(located.repositories)
        credentials = credentials or located.credentials
    result = scan_registry(
        registry_url, repositories or None, credentials=credentials,
        projects=[args.project] if args.project else (),
        cache_patterns=tuple(args.cache_pattern or DEFAULT_CACHE_PATTERNS),
        ttl_hours=args.ttl_hours, max_workers=args.workers,
        show_progress=not args.quiet and sys.stderr.isatty(),
    )
    if data_dir is not None:
        write_table(data_dir, "registry_layers", result.layer_rows())
    if args.json:       # the text output lists what was skipped; JSON gets it on stderr once
        for line in skipped_lines(result.skipped):
            print(f"cachecost: skipped {line}", file=sys.stderr)
        print(json.dumps(result.to_json(), indent=2, sort_keys=True))
    else:
        print(format_result(result))
    return 0
