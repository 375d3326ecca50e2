"""Benchmark cachecost.model.quantile.percentiles against np.percentile.

    .venv/bin/python scripts/bench_quantile.py [--sizes 1000 100000] [--runs 400]

Times p10/p50/p90 (``method="linear"``, and ``"inverted_cdf"`` on a sample with
+inf) of several different samples in turn (the same array repeated would let the
branch predictor learn numpy's partition), one call at a time, and prints the
median CPU time per call (``time.process_time``: a busy shared machine distorts it
least) and the machine's load. Checks that both give the same bits.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from cachecost.model.quantile import percentiles


def _samples(n: int, with_inf: bool) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(8):
        v = rng.lognormal(3.0, 1.0, n) if i % 2 else rng.gamma(2.0, 5.0, n)
        if with_inf:
            v[rng.random(n) < 0.2] = np.inf
        out.append(v)
    return out


def _median_us(fn, arrays: list[np.ndarray], runs: int) -> float:
    times = []
    for i in range(runs):
        v = arrays[i % len(arrays)]
        t0 = time.process_time()
        fn(v)
        times.append(time.process_time() - t0)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--runs", type=int, default=400)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.2f} on {os.cpu_count()} cores")
    for method, with_inf in (("linear", False), ("inverted_cdf", True)):
        for n in args.sizes:
            arrays = _samples(n, with_inf)
            for v in arrays:
                fast, ref = percentiles(v, method=method), np.percentile(v, (10, 50, 90),
                                                                        method=method)
                assert np.array_equal(fast.view(np.int64), ref.view(np.int64)), (n, method)
            ours = _median_us(lambda v, m=method: percentiles(v, method=m), arrays, args.runs)
            numpy = _median_us(lambda v, m=method: np.percentile(v, (10, 50, 90), method=m),
                               arrays, args.runs)
            print(f"{method:12} n={n:>7,}: percentiles {ours:7.1f} us, np.percentile "
                  f"{numpy:7.1f} us per call (median CPU), x{numpy / ours:.1f}")


if __name__ == "__main__":
    main()
