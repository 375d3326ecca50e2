"""Benchmark the group path: fetch requests, SQL aggregates, the group report.

    .venv/bin/python scripts/bench_group.py [fetch|sql|report ...]

1. **fetch**: the group stand-in with 200 projects of which 20 build images (SYNTHETIC,
   2-day samples); ``fetch_group`` with the stand-in counting requests. Reports the
   requests per project that builds none beyond listing the group (target <= 3).
2. **sql**: 1,000 generated projects, 10,000 jobs each (10 million jobs, SYNTHETIC),
   written in the group layout; then, in a fresh process, ``cachecost.group.connect``
   and every query of :mod:`cachecost.group.queries`: wall time and peak RSS (targets
   <= 5 s, <= 2 GB).
3. **report**: ``build_group_report`` over the demo group's projects copied to 50
   projects, model only (``pages=False``), and the no-op rebuild (targets: 50 projects
   <= 2 min, no-op <= 3 s); **report-pages**: the same 50 projects with every project's
   pages (one per-project report each, the issue's target).
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

N_PROJECTS, JOBS_PER_PROJECT = 1000, 10_000


def bench_fetch() -> None:
    from cachecost.collect.fetch import FetchOptions
    from cachecost.collect.gitlab.client import connect
    from cachecost.collect.group import fetch_group
    from cachecost.standin.group import StandinGroup, start_group_standin

    group = StandinGroup.build(non_building=179, building=20, days=2)
    with tempfile.TemporaryDirectory() as tmp, \
            start_group_standin(group, tokens={"t": {"read_api"}}) as srv:
        t0 = time.monotonic()
        res = fetch_group(lambda: connect(srv.url, environ={"GITLAB_TOKEN": "t"}), "fdo",
                          Path(tmp) / "fdo", include_subgroups=True,
                          options=FetchOptions(fork_request_budget=4))
        elapsed = time.monotonic() - t0
    light = [s for s in res.scans if not s.builds_images and s.status != "failed"]
    per = [s.detect_requests for s in light]
    print(f"fetch: {len(res.scans)} projects ({sum(s.builds_images for s in res.scans)} "
          f"building, {len(light)} not, {len(res.failed())} failed) in {elapsed:.1f} s; "
          f"listing {res.listing_requests} requests; per non-building project: max "
          f"{max(per)}, mean {np.mean(per):.2f} requests (target <= 3); stand-in counted "
          f"{srv.counts['total']} requests in all")


def _write_projects(root: Path) -> None:
    rng = np.random.default_rng(7)
    images = np.array([f"image-{i}" for i in range(30)])
    keys = [f"inst~g{i % 20}~p{i}" for i in range(N_PROJECTS)]
    for k, key in enumerate(keys):
        d = root / f"project={key}"
        d.mkdir(parents=True)
        n = JOBS_PER_PROJECT
        container = rng.random(n) < 0.3
        pq.write_table(pa.table({
            "job_id": np.arange(k * n, (k + 1) * n, dtype=np.int64),
            "pipeline_id": np.arange(n, dtype=np.int64) // 20,
            "is_container_build": container,
            "image": pa.array(np.where(container, images[rng.integers(0, 30, n)], None)),
            "duration_s": rng.gamma(2.0, 300.0, n),
        }), d / "jobs.parquet")
        pq.write_table(pa.table({"pipeline_id": np.arange(n // 20, dtype=np.int64)}),
                       d / "pipelines.parquet")
        pq.write_table(pa.table({"repository_id": np.arange(30, dtype=np.int64),
                                 "size_bytes": rng.uniform(1e8, 1e9, 30)}),
                       d / "registry_repositories.parquet")
    pq.write_table(pa.table({
        "project": keys, "project_path": [k.replace("~", "/") for k in keys],
        "builder": ["kaniko"] * N_PROJECTS, "strategy": ["kaniko-cache-repo"] * N_PROJECTS,
        "status": ["done"] * N_PROJECTS, "builds_images": [True] * N_PROJECTS,
    }), root / "catalog.parquet")


_SQL_CHILD = """
import json, resource, sys, time
t0 = time.monotonic()
from cachecost.group import connect
from cachecost.group.queries import QUERIES, run_query
t1 = time.monotonic()
con = connect(sys.argv[1])
rows = {n: len(run_query(con, n)) for n in ("project_totals", "group_totals", "image_minutes")}
jobs = int(run_query(con, "group_totals")["jobs"].iloc[0])
t2 = time.monotonic()
print(json.dumps({"import_s": t1 - t0, "s": t2 - t1, "rows": rows, "jobs": jobs,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bench_sql() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        _write_projects(Path(tmp))
        gen = time.monotonic() - t0
        out = subprocess.run([sys.executable, "-c", _SQL_CHILD, tmp], check=True,
                             capture_output=True, text=True).stdout
    r = json.loads(out)
    print(f"sql: {N_PROJECTS} projects, {r['jobs']:,} jobs (generated in {gen:.0f} s); "
          f"connect + project_totals + group_totals x2 + image_minutes: {r['s']:.2f} s "
          f"(imports before it: {r['import_s']:.2f} s), "
          f"peak RSS {r['peak_mb']:.0f} MB (targets <= 5 s, <= 2048 MB); rows {r['rows']}")


def bench_report(n: int = 50, pages: bool = False) -> None:
    import pandas as pd

    from cachecost.group.report import build_group_report
    from cachecost.standin.group_demo import run_group_demo

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        run_group_demo(src, non_building=0, building=4, quiet=True)
        cat = pd.read_parquet(src / "catalog.parquet")
        done = cat[cat["status"] == "done"]
        grp = Path(tmp) / "grp"
        grp.mkdir()
        shutil.copy(src / "group.json", grp / "group.json")
        rows = []
        for i in range(n):
            r = done.iloc[i % len(done)].to_dict()
            r["project"] = f"{r['project']}-{i}"
            r["project_path"] = f"{r['project_path']}-{i}"
            shutil.copytree(src / f"project={done.iloc[i % len(done)]['project']}",
                            grp / f"project={r['project']}")
            rows.append(r)
        pd.DataFrame(rows).to_parquet(grp / "catalog.parquet")
        t0 = time.monotonic()
        build_group_report(grp, Path(tmp) / "site", pages=pages)
        full = time.monotonic() - t0
        t0 = time.monotonic()
        noop = build_group_report(grp, Path(tmp) / "site", pages=pages)
        again = time.monotonic() - t0
        again_cli = float("nan")
        if pages:   # the no-op as a user runs it (the command builds the pages): start-up too
            t0 = time.monotonic()
            subprocess.run([str(Path(sys.executable).with_name("cachecost")), "report",
                            "--group", str(grp), "--out", str(Path(tmp) / "site")],
                           check=True, capture_output=True)
            again_cli = time.monotonic() - t0
    what = "with every project's pages" if pages else "model only (pages=False)"
    print(f"report: {n} projects, {what}: {full:.1f} s; no-op rebuild "
          f"{again:.2f} s in-process (is_noop={noop.is_noop}), {again_cli:.2f} s as the "
          f"command (targets: 50 projects <= 120 s, no-op <= 3 s); peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main(argv: list[str]) -> int:
    """Run the benchmarks named in ``argv`` (default: all)."""
    parts = {"fetch": bench_fetch, "sql": bench_sql, "report": bench_report,
             "report-pages": lambda: bench_report(50, pages=True)}
    unknown = [name for name in argv if name not in parts]
    if unknown:
        print(f"bench_group.py: unknown benchmark {unknown[0]!r}; choose from "
              f"{', '.join(parts)} (none: all)", file=sys.stderr)
        return 2
    for name in argv or list(parts):
        parts[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
