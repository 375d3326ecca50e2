"""Say what cachecost reads from build logs: the builder, the cache outcome (hit, miss,
partial or unknown), how many steps (``RUN``, ``COPY``, ``ADD``, ``WORKDIR``) were cached
and executed, and how many of them are ``RUN`` (``run_steps``: kaniko's cached layers per
cache key). For a maintainer asking why a build counted as a miss.

    cachecost buildlog job-1234.log                 # one line per file
    cachecost buildlog logs/*.log --json            # one JSON object per file, per line

A log is read as GitLab serves it (``GET /projects/:id/jobs/:job_id/trace``, or the
"raw" button): section markers, colours and runner timestamps are removed first. A log
GitLab Runner cut at its size limit (``output_limit``, 4 MiB by default) is said to be cut:
its counts are lower bounds (``"is_complete": false`` and ``log_limit_bytes`` in JSON).
"""

from __future__ import annotations

import argparse
import json
import sys

from cachecost.collect.buildlog import BuildLogResult, classify_build_log
from cachecost.errors import CachecostError, check_user_file, read_user_file
from cachecost.textfmt import format_bytes

HELP = "classify build logs: builder, cache outcome, cached and executed steps"

#: The most of one log read: GitLab keeps at most 100 MB of a job's log (the instance
#: limit ``ci_jobs_trace_size_limit``, 100 MB by default and on GitLab.com), so a longer
#: file is not a log GitLab served; its first 100 MiB are read and the cut is said.
MAX_LOG_BYTES = 100 * 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cachecost buildlog``."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="build log files")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per file, one per line")


def read_log(path: str, max_bytes: int = MAX_LOG_BYTES) -> str:
    """Return a log file's text (UTF-8, undecodable bytes replaced, line ends kept).

    At most ``max_bytes`` are read; a longer file is cut there, and a note on
    stderr says so (``cachecost: note: FILE: cut at 100.0 MiB of 300.0 MiB ...``).

    Raises:
        CachecostError: the file is missing, a directory, a device or FIFO, a
            symlink loop, unreadable or binary (one line).
    """
    size_bytes = check_user_file(path, "build log")
    raw = read_user_file(path, "build log", max_bytes=max_bytes, is_cut_allowed=True)
    if size_bytes > max_bytes:
        print(f"cachecost: note: {path}: cut at {format_bytes(max_bytes)} of "
              f"{format_bytes(size_bytes)}; the rest is not read (GitLab keeps at most "
              "100 MB of a job log)", file=sys.stderr, flush=True)
    if b"\x00" in raw[:65536]:
        raise CachecostError(f"{path}: is a binary file, not a build log")
    return raw.decode("utf-8", errors="replace")


def format_result(path: str, r: BuildLogResult) -> str:
    """One line of text for one file."""
    line = (f"{path}: {r.builder or 'no builder found'}, {r.outcome}, "
            f"{r.cached_steps} cached / {r.executed_steps} executed steps")
    if r.cached_steps + r.executed_steps:
        line += f", {r.run_steps} of them RUN"
    if r.log_limit_bytes is not None:
        line += (f" (log cut at GitLab Runner's {r.log_limit_bytes:,}-byte limit: "
                 "counts are lower bounds)")
    return line


def run(args: argparse.Namespace) -> int:
    """Classify the files; a bad file: one line and exit 2 before anything is printed."""
    texts = [(path, read_log(path)) for path in args.files]
    for path, text in texts:
        result = classify_build_log(text)
        if args.json:
            print(json.dumps({"file": path, **result.as_dict()}, sort_keys=True), flush=True)
        else:
            print(format_result(path, result), flush=True)
    return 0
