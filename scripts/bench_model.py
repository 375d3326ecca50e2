"""Benchmark the cost model: 100,000 Monte Carlo samples x all strategies on one core.

    .venv/bin/python scripts/bench_model.py [--samples 100000] [--runs 7]

Pins numpy's BLAS thread pools to one thread (OMP/OPENBLAS/MKL) before importing it
(numpy's element-wise work is single-threaded anyway), prints the machine's load,
calibrates once, then times, over several runs, and prints the median and best
wall time of:

* core  - drawing every uncertain input and evaluating every strategy for
          every sample (``simulate``): the Monte Carlo the target is about
          (<= 0.5 s for 100,000 samples);
* full  - ``run_model`` end to end: the core plus quantiles, the storage
          series, tornado, break-even solving and the recommendation.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from cachecost.dataset.io import load_dataset  # noqa: E402
from cachecost.model.calibrate import calibrate  # noqa: E402
from cachecost.model.scenario import load_scenario  # noqa: E402
from cachecost.model.simulate import _static, run_model, simulate, uncertain_inputs  # noqa: E402

TARGET_S = 0.5


def _time(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each run (CPU time is what a busy machine distorts least)."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--scenario", default=None, help="scenario YAML (default scenario)")
    args = parser.parse_args()

    ds = load_dataset()
    scenario = load_scenario(args.scenario)
    cal = calibrate(ds, scenario.overrides)
    st = _static(cal, scenario)
    dists = uncertain_inputs(scenario)

    def core() -> None:
        rng = np.random.default_rng(scenario.seed)
        draws = {name: d.sample(rng, args.samples) for name, d in dists.items()}
        simulate(st, draws)

    def full() -> None:
        run_model(ds, scenario, samples=args.samples, calibration=cal)

    core()   # warm-up
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.2f} on {os.cpu_count()} cores (other work slows the figures)")
    n_strategies = len(scenario.strategies)
    print(f"scenario {scenario.name}: {args.samples:,} samples x {n_strategies} strategies x "
          f"{len(cal.images)} images, {len(dists)} uncertain inputs, one core, {args.runs} runs")
    medians = {}
    for label, fn in (("core Monte Carlo (draw + simulate)", core), ("full run_model", full)):
        wall, cpu = _time(fn, args.runs)
        medians[label] = statistics.median(wall)
        print(f"{label:36} wall median {statistics.median(wall):.3f} s (best {min(wall):.3f}, "
              f"worst {max(wall):.3f}); CPU median {statistics.median(cpu):.3f} s")
    core_median = medians["core Monte Carlo (draw + simulate)"]
    verdict = "meets" if core_median <= TARGET_S else "MISSES"
    print(f"target: core wall median <= {TARGET_S} s: {verdict} ({core_median:.3f} s)")


if __name__ == "__main__":
    main()
