"""Time ``cachecost --version`` and ``cachecost --help`` (wall clock, median of N runs).

    .venv/bin/python scripts/bench_startup.py              # this checkout
    .venv/bin/python scripts/bench_startup.py --src /tmp/old/src --runs 10   # an older one

Each run is a fresh ``python -m cachecost`` process (what a user waits for),
after one warm-up run so the file cache holds the modules.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def time_runs(args: list[str], runs: int, env: dict[str, str]) -> list[float]:
    subprocess.run([sys.executable, "-m", "cachecost", *args], env=env, check=True,
                   capture_output=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cachecost", *args], env=env, check=True,
                       capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--src", help="run the cachecost package in this src/ folder instead")
    args = parser.parse_args()
    env = dict(os.environ, **({"PYTHONPATH": args.src} if args.src else {}))
    for what in (["--version"], ["--help"]):
        t = time_runs(what, args.runs, env)
        print(f"cachecost {what[0]:10} median {statistics.median(t):.3f} s, "
              f"min {min(t):.3f} s, max {max(t):.3f} s ({args.runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
