"""Peak memory (RSS) of ``cachecost model`` against ``--samples`` (why --samples stops at 500,000).

    .venv/bin/python scripts/bench_samples_memory.py                   # 20k, 200k, 500k
    .venv/bin/python scripts/bench_samples_memory.py --samples 100000 --scenario scenarios/x.yaml

Each run is ``/usr/bin/time -v cachecost model --format json`` in a fresh process;
the figure is GNU time's "Maximum resident set size". The last line fits a line
through the runs (bytes a sample, and the base) and says what the largest
``--samples`` would need.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_kib(samples: int, scenario: str | None) -> int:
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "cachecost", "model", "--format",
           "json", "--samples", str(samples), *(["--scenario", scenario] if scenario else [])]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr.strip().splitlines()[-1])
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, action="append",
                        help="sample counts to run (repeatable; default 20k, 200k, 500k)")
    parser.add_argument("--scenario", help="scenario YAML (default: cachecost's default)")
    args = parser.parse_args()
    counts = args.samples or [20_000, 200_000, 500_000]
    runs = [(n, peak_rss_kib(n, args.scenario)) for n in counts]
    for n, kib in runs:
        print(f"--samples {n:>9,}: peak RSS {kib / 1024:,.0f} MiB")
    if len(runs) >= 2:
        (n0, k0), (n1, k1) = runs[0], runs[-1]
        per_sample = (k1 - k0) * 1024 / (n1 - n0)
        base_mib = (k0 * 1024 - per_sample * n0) / 2**20
        print(f"fit: {per_sample:,.0f} bytes a sample + {base_mib:,.0f} MiB; 5,000,000 samples "
              f"would need ~{(base_mib * 2**20 + per_sample * 5e6) / 1e9:,.1f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
