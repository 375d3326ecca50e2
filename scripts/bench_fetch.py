"""Benchmark: `cachecost fetch` against a naive python-gitlab loop, on the GitLab stand-in.

    .venv/bin/python scripts/bench_fetch.py            # >= 1,000 pipelines / 30,000 jobs
    .venv/bin/python scripts/bench_fetch.py --quick    # a small run to check the script

Everything runs against the stand-in on 127.0.0.1 with ``--latency-ms`` (20)
added to every request. Measured and printed (requests are counted by the
stand-in, so retries and every page count):

The stand-in runs in its own process, as a real GitLab would, so its work
does not share this process's interpreter lock.

1. ``cachecost fetch`` into an empty directory, ``--runs`` times (each in a fresh
   rate-limit minute): the first (cold) and median wall time, requests per kind,
   pipeline + job requests per 1,000 jobs (target <= 11);
2. a re-fetch with nothing new (target <= 5 requests);
3. the naive loop: list pipelines, list each pipeline's jobs (retried included),
   list each repository's tags and get each tag one by one (target: fetch >= 5x faster);
4. pipeline durations derived from jobs (0 requests) vs fetched per pipeline
   (``--pipeline-details``): requests, time, and how far the derived values are
   from GitLab's;
5. peak RSS of ``cachecost fetch`` at >= 100,000 jobs, in a child process
   (``resource.getrusage``), the stand-in staying in this process (target <= 1 GiB).

The stand-in has ``--forks`` (1,000) forks of which ``--active-forks`` (30) were active
in the window: step 1 also prints what the measurements cost (fork sampling: target
<= 100 requests; the whole fetch of >= 1,000 pipelines: target <= 700), step 2 the
CI-history requests apart from the measurement probes. ``--fetch-only``: steps 1-2.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import gitlab
import numpy as np
import requests

from cachecost.collect.fetch import FetchOptions, fetch_project_history
from cachecost.collect.gitlab.client import connect
from cachecost.dataset.io import load_dataset
from cachecost.standin.extra import MEASURE_KINDS

TOKEN = "bench-token"
PROJECT = "qemu-project/qemu"


class StandinProcess:
    """The stand-in in its own process (as a real GitLab is), with request counting."""

    def __init__(self, days: int, latency_ms: float, forks: int = 1000,
                 active_forks: int = 30) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cachecost.standin", "--port", str(port), "--days", str(days),
             "--latency-ms", str(latency_ms), "--project", PROJECT,
             "--forks", str(forks), "--active-forks", str(active_forks)],
            env={**os.environ, "GITLAB_TOKEN": TOKEN}, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                requests.get(f"{self.url}/__standin/counts", timeout=30)
                break
            except requests.RequestException:   # still building its data
                time.sleep(0.2)

    def counts(self) -> dict:
        return requests.get(f"{self.url}/__standin/counts", timeout=10).json()

    def reset(self) -> None:
        requests.get(f"{self.url}/__standin/reset", timeout=10)

    def __enter__(self) -> StandinProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def timed_fetch(srv: StandinProcess, out: Path, **opts) -> tuple[float, dict, object]:
    srv.reset()
    client = connect(srv.url, environ={"GITLAB_TOKEN": TOKEN})
    t0 = time.perf_counter()
    result = fetch_project_history(client, PROJECT, out, FetchOptions(**opts))
    wall = time.perf_counter() - t0
    client.close()
    return wall, srv.counts(), result


def fresh_rate_limit_window() -> None:
    """Wait for the next minute: the stand-in, like GitLab.com, allows 2,000 requests a
    minute and cachecost obeys ``RateLimit-*``, so runs back to back would wait anyway."""
    time.sleep(60.5 - time.time() % 60)


def naive_loop(srv: StandinProcess) -> tuple[float, dict, int]:
    """What a first script does: pipelines, then each pipeline's jobs, then each tag."""
    srv.reset()
    t0 = time.perf_counter()
    gl = gitlab.Gitlab(srv.url, private_token=TOKEN, per_page=100)
    project = gl.projects.get(PROJECT)
    n_jobs = 0
    for pipeline in project.pipelines.list(iterator=True):
        n_jobs += len(pipeline.jobs.list(get_all=True, include_retried=True))
    for repo in project.repositories.list(get_all=True):
        for tag in repo.tags.list(get_all=True):
            repo.tags.get(id=tag.name)
    return time.perf_counter() - t0, srv.counts(), n_jobs


RSS_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    from cachecost.collect.fetch import FetchOptions, fetch_project_history
    from cachecost.collect.gitlab.client import connect
    client = connect(sys.argv[1], environ={"GITLAB_TOKEN": sys.argv[2]})
    t0 = time.perf_counter()
    r = fetch_project_history(client, sys.argv[3], sys.argv[4], FetchOptions())
    print(json.dumps({"wall_s": time.perf_counter() - t0, "jobs": r.totals["jobs"],
                      "requests": r.requests,
                      "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
""")


def peak_rss(days: int) -> dict:
    import json
    with StandinProcess(days, 0.0) as srv, tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "-c", RSS_CHILD, srv.url, TOKEN, PROJECT, tmp],
                              capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
        return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=140, help="sample days (140: ~1,050 pipelines)")
    ap.add_argument("--rss-days", type=int, default=280, help="sample days for the RSS run")
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--fetch-only", action="store_true",
                    help="steps 1 and 2 only (one fetch and the re-fetch)")
    ap.add_argument("--forks", type=int, default=1000)
    ap.add_argument("--active-forks", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3, help="cachecost fetch runs (median reported)")
    args = ap.parse_args()
    if args.quick:
        args.days, args.rss_days, args.runs = 10, 20, 1

    print(f"stand-in: {args.days} days of sample, {args.latency_ms:g} ms latency per request")
    if args.fetch_only:
        args.runs, args.skip_rss = 1, True
    with StandinProcess(args.days, args.latency_ms, args.forks, args.active_forks) as srv, \
            tempfile.TemporaryDirectory() as tmp:
        runs = []
        for i in range(args.runs):
            fresh_rate_limit_window()
            runs.append(timed_fetch(srv, Path(tmp) / f"run{i}"))
        wall, counts, result = runs[0]
        walls = [r[0] for r in runs]
        median_wall = float(np.median(walls))
        t = result.totals
        n_jobs = t["jobs"]
        print(f"fetched: {t['pipelines']:,} pipelines, {n_jobs:,} jobs "
              f"({t['retried_jobs']:,} retried), {t['registry_tags']} registry tags\n")
        pj = counts.get("pipelines", 0) + counts.get("jobs", 0)
        print(f"1. cachecost fetch (empty directory), {args.runs} runs, each in a fresh "
              "rate-limit minute")
        kinds = {k: v for k, v in sorted(counts.items()) if k not in ("total", "max_in_flight")}
        print(f"   wall: first run (cold process) {walls[0]:.2f} s; median {median_wall:.2f} s "
              f"(all: {', '.join(f'{w:.2f}' for w in walls)})")
        print(f"   {counts['total']:,} requests ({', '.join(f'{k} {v}' for k, v in kinds.items())})"
              f"; at most {counts['max_in_flight']} in flight at once; rate-limit pauses "
              f"{sum(r[2].rate_limit_paused_s for r in runs):.1f} s")
        print(f"   pipeline + job requests: {pj} = {pj / n_jobs * 1000:.2f} per 1,000 jobs "
              "(target <= 11)")
        print(f"   requests by kind: {result.requests_by_phase}")
        print(f"   seconds by phase (first run; pipelines and registry run beside the jobs): "
              f"{result.seconds_by_phase}")
        forks = sum(counts.get(k, 0) for k in ("forks", "fork:pipelines",
                                                "fork:repository/commits"))
        measure = sum(counts.get(k, 0) for k in MEASURE_KINDS)
        print(f"   measurements ({args.forks:,} forks, {args.active_forks} active): "
              f"{measure} requests ({result.measure_notes}); fork sampling {forks} "
              f"requests (target <= 100); whole fetch of {t['pipelines']:,} pipelines "
              f"{counts['total']:,} requests (target <= 700)")

        wall2, counts2, _ = timed_fetch(srv, Path(tmp) / "run0")
        measure2 = sum(counts2.get(k, 0) for k in MEASURE_KINDS)
        print("\n2. re-fetch, nothing new")
        print(f"   wall {wall2:.2f} s, {counts2['total'] - measure2} CI-history requests "
              f"(target <= 5) + {measure2} measurement probes: "
              f"{ {k: v for k, v in counts2.items() if k not in ('total', 'max_in_flight')} }")
        if args.fetch_only:
            return 0

        fresh_rate_limit_window()
        wall3, counts3, naive_jobs = naive_loop(srv)
        print("\n3. naive python-gitlab loop (pipelines -> each pipeline's jobs -> each tag)")
        print(f"   wall {wall3:.1f} s, {counts3['total']:,} requests, {naive_jobs:,} jobs seen "
              f"({'same' if naive_jobs == n_jobs else 'NOT the same'} as cachecost fetch)")
        print(f"   cachecost fetch is {wall3 / median_wall:.1f}x faster (median run; first run "
              f"{wall3 / walls[0]:.1f}x) with {counts3['total'] / counts['total']:.1f}x fewer "
              "requests (target >= 5x faster)")
        naive_pj = counts3.get("pipelines", 0) + counts3.get("pipelines/:id/jobs", 0)
        print(f"   pipelines + jobs alone: naive {naive_pj:,} requests vs {pj}")

        fresh_rate_limit_window()
        wall4, counts4, res4 = timed_fetch(srv, Path(tmp) / "b", pipeline_durations="details",
                                           logs_per_image=0)
        print("\n4. pipeline durations: derived from jobs vs GET /pipelines/:id")
        print(f"   details: +{counts4.get('pipelines/:id', 0):,} requests, "
              f"{res4.requests_by_phase.get('pipeline_details', 0):,} in that phase; "
              f"whole fetch {wall4:.1f} s (logs off) vs {wall:.1f} s (derived, logs on)")
        derived = load_dataset(Path(tmp) / "run0").pipelines.set_index("pipeline_id")
        served = load_dataset(Path(tmp) / "b").pipelines.set_index("pipeline_id")
        both = derived.merge(served, left_index=True, right_index=True,
                             suffixes=("", "_served")).dropna(
            subset=["duration_s", "duration_s_served"])
        diff = both["duration_s"] - both["duration_s_served"]
        rel = (diff / both["duration_s_served"]).abs()
        print(f"   derived - served duration over {len(both):,} pipelines: median "
              f"{np.median(diff):+.1f} s, mean |diff| {diff.abs().mean():.1f} s, "
              f"median |rel| {rel.median() * 100:.2f} %, p95 |rel| "
              f"{rel.quantile(0.95) * 100:.2f} %")
        qd = both["queued_duration_s"] - both["queued_duration_s_served"]
        print(f"   derived - served queued time: median {np.median(qd.dropna()):+.1f} s")

    if not args.skip_rss:
        r = peak_rss(args.rss_days)
        print(f"\n5. peak RSS of cachecost fetch at {r['jobs']:,} jobs (child process, "
              f"no latency): {r['max_rss_kib'] / 1024:.0f} MiB (target <= 1024 MiB); "
              f"wall {r['wall_s']:.1f} s, {r['requests']:,} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
