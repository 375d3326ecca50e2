"""Benchmark the cost model: 100,000 Monte Carlo samples x all strategies on one core.

    .venv/bin/python scripts/bench_model.py [--samples 100000] [--base-samples 1000] [--runs 7]

Pins numpy's BLAS thread pools to one thread (OMP/OPENBLAS/MKL) before importing it
(numpy's element-wise work is single-threaded anyway), prints the machine's load,
calibrates once, then times, over several runs, and prints the median and best
wall time and the median CPU time of, for ``--samples`` and for ``--base-samples``:

* core  - drawing every uncertain input and a calibration replicate per image
          (the bootstrap and change-rate posterior bank), and evaluating every
          strategy for every sample (``simulate``);
* claims - ``thread_results`` (issue 13) on the core's output: the six claims
          (their registry views come from the core's own run) and the value of
          information (EVPPI of every input);
* flips - break-evens (where expected costs cross, and where the recommendation
          flips at the status-quo margin) and tornado swings from the core's own run
          (:mod:`cachecost.model.flips`: closed form for prices, regula falsi on the
          first ``FLIP_SAMPLES`` samples otherwise);
* full  - ``run_model`` end to end: building the bootstrap bank, the core,
          quantiles, the storage series, tornado, break-even solving, the
          recommendation, the claims and the value of information.

The target (issue 12): ``run_model`` with 100,000 samples, bootstrap included,
costs at most 0.5 s more than with 1,000 samples (CPU time, one core: wall time
on a shared machine counts other people's work).

The runs are warm (one process, after a warm-up); the first run in a fresh process
costs more (fresh memory to map). ``taskset -c 1`` in front steadies the figures a
little on a shared machine. Measured figures: ``docs/model.md`` section 7.
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
from cachecost.model.claims import thread_results  # noqa: E402
from cachecost.model.decide import break_even_inputs, choose  # noqa: E402
from cachecost.model.flips import Run, break_evens, tornado  # noqa: E402
from cachecost.model.measured import with_measured_inputs  # noqa: E402
from cachecost.model.results import draw_inputs, run_model  # noqa: E402
from cachecost.model.scenario import load_scenario  # noqa: E402
from cachecost.model.simulate import make_static, simulate, uncertain_inputs  # noqa: E402
from cachecost.model.uncertainty import build_bank  # noqa: E402

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


def _measure(ds, scenario, cal, samples: int, runs: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of the core, the claims and VoI, and the full run
    for ``samples``."""
    # the scenario and bootstrap bank exactly as run_model builds them
    run_scenario = with_measured_inputs(scenario, ds, [])
    st = make_static(cal, run_scenario,
                     build_bank(cal, np.random.default_rng([scenario.seed, 2])))
    dists = uncertain_inputs(run_scenario)
    draws, replicate = draw_inputs(st, dists, samples, scenario.seed)
    sim = simulate(st, draws, replicate=replicate)

    def core() -> None:
        draws, replicate = draw_inputs(st, dists, samples, scenario.seed)
        simulate(st, draws, replicate=replicate)

    def claims() -> None:
        thread_results(st, draws, sim, scenario.seed)

    def flips() -> None:
        run = Run(st, dists, draws, replicate, sim)
        base = run_scenario.baseline
        winner, _, _, _, runner_up = choose(sim, st.names, base)
        other = runner_up if winner == base else winner
        break_evens(run, [(base, n) for n in st.names if n != base],
                    [n for n in break_even_inputs(run_scenario) if n in dists],
                    [(base, other)])
        tornado(run, base)

    def full() -> None:
        run_model(ds, scenario, samples=samples, calibration=cal)

    core()   # warm-up
    out = {}
    for label, fn in (("core", core), ("claims", claims), ("flips", flips), ("full", full)):
        wall, cpu = _time(fn, runs)
        out[label] = (statistics.median(wall), statistics.median(cpu))
        print(f"  {samples:>7,} samples {label:6}: wall median {out[label][0]:.3f} s "
              f"(best {min(wall):.3f}, worst {max(wall):.3f}); CPU median {out[label][1]:.3f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--base-samples", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--scenario", default=None, help="scenario YAML (default scenario)")
    args = parser.parse_args()

    ds = load_dataset()
    scenario = load_scenario(args.scenario)
    cal = calibrate(ds, scenario.overrides)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.2f} on {os.cpu_count()} cores (other work slows the figures)")
    print(f"scenario {scenario.name}: {len(scenario.strategies)} strategies x "
          f"{len(cal.images)} images, {len(uncertain_inputs(scenario))} uncertain inputs, "
          f"bootstrap bank included, one core, {args.runs} runs")
    big = _measure(ds, scenario, cal, args.samples, args.runs)
    small = _measure(ds, scenario, cal, args.base_samples, args.runs)
    for label in ("core", "claims", "flips", "full"):
        extra_wall = big[label][0] - small[label][0]
        extra_cpu = big[label][1] - small[label][1]
        print(f"{label:6}: {args.samples:,} samples cost {extra_cpu:.3f} s CPU "
              f"({extra_wall:.3f} s wall) more than {args.base_samples:,}")
    extra = big["full"][1] - small["full"][1]
    verdict = "meets" if extra <= TARGET_S else "MISSES"
    print(f"target: full run, extra CPU <= {TARGET_S} s: {verdict} ({extra:.3f} s)")


if __name__ == "__main__":
    main()
