"""Benchmark ``cachecost report`` against the papermill and nbconvert command lines.

    .venv/bin/python scripts/bench_report.py [--keep DIR]

Measures, on the default scenarios and the bundled sample:

1. ``cachecost report --force`` into an empty directory (wall time);
2. the same notebooks run one after another with the ``papermill`` command line,
   each exported with ``jupyter nbconvert --to html --no-input --no-prompt``
   (wall time; no summaries, results.json or index, so the baseline does less);
3. a no-op rebuild, ``cachecost report`` with nothing changed (wall time);
4. page sizes: site mode (each page, plus the shared assets once) and
   ``--standalone`` (each page alone).

Targets from the issue: >= 2x faster than the command lines, no-op <= 3 s,
site pages <= 400 KB each plus one plotly.js, standalone pages <= 5.5 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")
                   if not p.name.startswith("00-"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def run(cmd: list[str]) -> tuple[float, str]:
    """Run a command, fail on error, return its wall time in seconds and its stderr."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return elapsed, proc.stderr


def cachecost(*args: str) -> float:
    """Run ``cachecost report`` with ``args``; return its wall time."""
    return run([str(BIN / "cachecost"), "report", *args])[0]


def noop_rebuild(site: Path) -> float:
    """Time ``cachecost report`` on an up-to-date site; insist that it did nothing."""
    for _ in range(3):
        elapsed, stderr = run([str(BIN / "cachecost"), "report", "--out", str(site)])
        if "nothing changed" in stderr:
            return elapsed
        # something under src/, notebooks/ or data/ changed meanwhile: say what, try again
        print("bench: the no-op rebuild rebuilt: " + " | ".join(
            ln for ln in stderr.splitlines() if "building" in ln))
    sys.exit("bench: inputs keep changing; cannot time a no-op rebuild")


def command_line_baseline(work: Path) -> float:
    """Run every notebook x scenario with papermill, then nbconvert, one after another."""
    start = time.perf_counter()
    for scenario in SCENARIOS:
        for nb in NOTEBOOKS:
            out = work / f"{scenario.stem}-{nb.name}"
            run([str(BIN / "papermill"), str(nb), str(out), "-k", "python3",
                 "-p", "data_dir", "", "-p", "scenario_path", str(scenario),
                 "--cwd", str(nb.parent), "--no-progress-bar"])
            run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                 "--no-prompt", str(out)])
    return time.perf_counter() - start


def page_sizes(site: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Return (page -> bytes, asset -> bytes) of a built site."""
    pages = {p.relative_to(site).as_posix(): p.stat().st_size for p in sorted(site.rglob("*.html"))}
    assets = {p.name: p.stat().st_size for p in sorted((site / "assets").glob("*"))} \
        if (site / "assets").is_dir() else {}
    return pages, assets


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the built sites here")
    args = parser.parse_args()
    if not NOTEBOOKS or not SCENARIOS:
        sys.exit("bench: notebooks/NN-*.ipynb or scenarios/*.yaml missing")
    work = Path(tempfile.mkdtemp(prefix="bench-report-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    site, standalone, baseline = work / "site", work / "standalone", work / "baseline"
    for d in (site, standalone, baseline):
        shutil.rmtree(d, ignore_errors=True)
    baseline.mkdir()
    print(f"cores: {os.cpu_count()}; {len(SCENARIOS)} scenarios x {len(NOTEBOOKS)} notebooks")

    t_report = cachecost("--out", str(site), "--force")
    t_noop = noop_rebuild(site)
    t_baseline = command_line_baseline(baseline)
    cachecost("--out", str(standalone), "--standalone", "--force")

    print(f"cachecost report (cold, --force):      {t_report:7.1f} s")
    print(f"papermill + nbconvert CLIs, serial:    {t_baseline:7.1f} s "
          f"({t_baseline / t_report:.2f}x the time of cachecost report)")
    print(f"no-op rebuild (nothing changed):       {t_noop:7.2f} s")
    pages, assets = page_sizes(site)
    print("site mode page sizes:")
    for name, size in pages.items():
        print(f"  {name:<50} {size / 1000:9.1f} KB")
    for name, size in assets.items():
        print(f"  assets/{name:<43} {size / 1000:9.1f} KB (once per site)")
    spages, _ = page_sizes(standalone)
    print("standalone page sizes:")
    for name, size in spages.items():
        if name != "index.html":
            print(f"  {name:<50} {size / 1e6:9.2f} MB")
    base_pages = sorted(baseline.glob("*.html"))
    if base_pages:
        avg = sum(p.stat().st_size for p in base_pages) / len(base_pages)
        print(f"baseline nbconvert pages (CDN require.js/MathJax, plotly inlined): "
              f"{avg / 1e6:.2f} MB average")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
