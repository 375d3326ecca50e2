"""Benchmark the value of information (EVPPI of every input) on one core.

    .venv/bin/python scripts/bench_voi.py [--samples 100000] [--base-samples 1000] [--runs 9]

Draws the default scenario's inputs and simulates every strategy once per sample
count (as ``run_model`` does), then times ``value_of_information`` alone over
several runs and prints the median and best CPU time (``time.process_time``: on a
shared machine wall time counts other people's work) and the median wall time,
with the machine's load. VoI is part of the "claims" line of
``scripts/bench_model.py`` (issue 12's speed target).
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
from cachecost.model.measured import with_measured_inputs  # noqa: E402
from cachecost.model.results import draw_inputs  # noqa: E402
from cachecost.model.scenario import load_scenario  # noqa: E402
from cachecost.model.simulate import make_static, simulate, uncertain_inputs  # noqa: E402
from cachecost.model.uncertainty import build_bank  # noqa: E402
from cachecost.model.voi import value_of_information  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--base-samples", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--scenario", default=None, help="scenario YAML (default scenario)")
    args = parser.parse_args()

    ds = load_dataset()
    scenario = load_scenario(args.scenario)
    cal = calibrate(ds, scenario.overrides)
    run_scenario = with_measured_inputs(scenario, ds, [])
    st = make_static(cal, run_scenario,
                     build_bank(cal, np.random.default_rng([scenario.seed, 2])))
    dists = uncertain_inputs(run_scenario)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          f"(other work slows the figures)")
    medians = {}
    for samples in (args.samples, args.base_samples):
        draws, replicate = draw_inputs(st, dists, samples, scenario.seed)
        sim = simulate(st, draws, replicate=replicate)
        varying = sum(1 for x in draws.values() if np.ptp(np.asarray(x, dtype=float)) > 0)
        cpu, wall = [], []
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            value_of_information(sim, draws, st.names, seed=scenario.seed, weighs=st.weighs)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        medians[samples] = statistics.median(cpu)
        print(f"{samples:>7,} samples x {len(st.names)} strategies, {varying} varying inputs: "
              f"value_of_information CPU median {medians[samples] * 1e3:.1f} ms "
              f"(best {min(cpu) * 1e3:.1f}); wall median {statistics.median(wall) * 1e3:.1f} ms")
    print(f"{args.samples:,} samples cost {(medians[args.samples] - medians[args.base_samples]) * 1e3:.1f}"
          f" ms CPU more than {args.base_samples:,}")


if __name__ == "__main__":
    main()
