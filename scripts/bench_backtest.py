"""Benchmark the walk-forward backtest on a 24-month, 24-image history (issue 24: <= 10 s).

    .venv/bin/python scripts/bench_backtest.py [--months 24] [--runs 3]

Generates a synthetic history of ``--months`` calendar months (the sample's generator,
its default rates: about 240 pipelines and 5,700 container builds a month), then times
``run_backtest`` with the default scenario over several runs and prints the median and
best CPU time (``time.process_time``: on a shared machine wall time counts other
people's work), the median wall time and the machine's load. Generating the history
is not timed; loading it is not either (``cachecost backtest`` adds about 0.3 s).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from cachecost.dataset.sample import SampleSettings, generate_sample  # noqa: E402
from cachecost.model.backtest import run_backtest  # noqa: E402
from cachecost.model.scenario import load_scenario  # noqa: E402

#: days of the 24 calendar months from the sample's start (2024-12-01 .. 2026-11-30)
DAYS_PER_MONTHS = {12: 365, 24: 730}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=24, choices=sorted(DAYS_PER_MONTHS))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ds = generate_sample(SampleSettings(days=DAYS_PER_MONTHS[args.months]))
    scenario = load_scenario(None)
    images = ds.jobs.loc[ds.jobs["is_container_build"], "image"].nunique()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          f"(other work slows the figures)")
    print(f"history: {args.months} months, {images} images, {len(ds.pipelines):,} pipelines, "
          f"{int(ds.jobs['is_container_build'].sum()):,} container jobs (synthetic)")
    cpu, wall = [], []
    bt = None
    for _ in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        bt = run_backtest(ds, scenario)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    assert bt is not None
    print(f"run_backtest: {bt.minutes.n} months scored, verdict {bt.verdict}; CPU median "
          f"{statistics.median(cpu):.2f} s (best {min(cpu):.2f}); wall median "
          f"{statistics.median(wall):.2f} s; target <= 10 s")


if __name__ == "__main__":
    main()
