"""Describe a dataset: what it holds, where it came from, and per image its
container builds, median build time and registry size.

    cachecost data                       # the bundled synthetic sample
    cachecost data --data data/raw/gitlab.com/qemu-project/qemu --json
"""

from __future__ import annotations

import argparse
import json

from cachecost.dataset.io import describe_dataset, load_dataset
from cachecost.textfmt import format_bytes, format_duration

HELP = "describe a dataset (default: the bundled synthetic sample)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cachecost data``."""
    parser.add_argument("--data", metavar="DIR", help="dataset directory (default: the sample)")
    parser.add_argument("--json", action="store_true", help="print the description as JSON")


def _dedup_line(desc: dict) -> str:
    """The deduplicated registry size, or why it is unknown and what is known instead."""
    partial = desc.get("registry_dedup_partial")
    if desc.get("registry_dedup_size_bytes") is not None:
        return (f"            {format_bytes(desc['registry_dedup_size_bytes'])} deduplicated "
                f"({desc['registry_dedup_source']})")
    why = str(desc.get("registry_dedup_source") or "unknown").removeprefix("unknown: ")
    line = f"            deduplicated size unknown: {why}"
    if partial:
        line += (f"; {format_bytes(partial['size_bytes'])} for {partial['repositories']} of "
                 f"{partial['of_repositories']} repositories (partial)")
    if desc.get("registry_dedup_at_least_bytes") is not None:
        line += (f"; at least {format_bytes(desc['registry_dedup_at_least_bytes'])} stored "
                 "(its largest image)")
    return line


def format_description(desc: dict) -> str:
    """Render :func:`describe_dataset`'s dict as plain text."""
    lines = []
    if desc["is_synthetic"]:
        lines.append("SYNTHETIC SAMPLE DATA - not measured from any real project")
        origin = "synthetic sample"
    else:
        origin = f"{desc['instance_url']} {desc['project_path']}"
    lines += [
        f"dataset:    {desc['path']}",
        f"source:     {origin}, fetched {desc['fetched_at']}",
        "tables:     " + ", ".join(f"{k} {v:,}" for k, v in desc["tables"].items()),
        f"registry:   {format_bytes(desc['registry_total_size_bytes'])} (sum of tag sizes)",
        _dedup_line(desc),
        f"containers: {desc['container_jobs']:,} build jobs, "
        f"{desc['unmapped_container_jobs']:,} not mapped to an image",
        "",
        f"{'image':<28} {'builds':>7} {'median':>8} {'registry':>10}",
    ]
    for image, row in desc["images"].items():
        med = row["median_duration_s"]
        lines.append(
            f"{image:<28} {row['container_jobs']:>7,} "
            f"{format_duration(med) if med is not None else '-':>8} "
            f"{format_bytes(row['registry_size_bytes']):>10}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the description of the dataset."""
    desc = describe_dataset(load_dataset(args.data))
    if args.json:
        print(json.dumps(desc, indent=2, sort_keys=True))
    else:
        print(format_description(desc))
    return 0
