"""The group report: one index over every fetched project, sorted by what a change saves.

    cachecost report --group data/raw/demo-group --out reports/group

The scenario is the group's (``--scenario FILE``; default :data:`GROUP_SCENARIO_PATH`,
GitLab-hosted runners at GitLab's published prices). For each project the fetch
completed, the model runs on its dataset with the strategy
its CI uses (detected, :func:`cachecost.collect.group.detect_builder`) as the baseline
(the scenario rewritten as ``OUT/<key>/<scenario>.scenario.yaml``, titled with the
project's path), so "saving" is the
paired difference cost(in use) - cost(cheapest) over the same Monte Carlo samples:
its mean (what the model decides on) with p10 to p90. "Cheapest" is the model's own
recommendation (:func:`cachecost.model.decide.choose`: lowest expected cost, the strategy
in use kept when a change saves less than the tie resolution), the one the project's
pages recommend. The project's own pages are the per-project report built from that scenario,
and the index reads their ``results.json``: the index and the pages show one computation. The rest of the namespace is measured, not guessed: the
project's fetch read the root namespace's ``containerRegistrySize``, and
:func:`cachecost.model.measured.with_measured_inputs` turns it into
``storage.other_usage_gib`` (when the scenario leaves that at its default). Likewise the
compute quota, which is the root namespace's: each project's scenario copy sets
``compute.other_usage_minutes_per_month`` to the other fetched projects' measured
billed minutes a month (:mod:`cachecost.group.minutes`; unless the group's scenario
sets that key), and the rows carry each project's own (``quota_minutes_per_month``).

Writes ``OUT/index.html`` (the table; each project links to its own pages,
``OUT/<key>/index.html``, built by :func:`cachecost.report.build.build_report`),
``OUT/summary.txt`` (plain text for an admins' list; both rendered by
:mod:`cachecost.group.render`), ``OUT/results.json`` (the group; its ``namespace``
carries ``compute``, :func:`cachecost.group.minutes.quota_summary`)
and ``OUT/<key>/results.json`` (the project's model results under the group's
scenario). A rebuild whose inputs (catalog, every project's metadata, the scenario,
cachecost's version) did not change does nothing.

Namespace: the root namespace's registry bytes as GitLab counts them beside the sum
of the fetched projects' ``container_registry_size`` (the difference: projects not
fetched, forbidden or not building), the scenario's namespace quota, and months to
it at the summed registry growth of the projects' strategies in use (p50):
``(quota_gib - namespace_gib) / sum(growth_gib_per_month)``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cachecost import __version__
from cachecost.collect.group import CATALOG_FILE, read_group_meta
from cachecost.config import NOTEBOOKS_DIR, SCENARIOS_DIR
from cachecost.dataset.io import atomic_path, load_dataset
from cachecost.errors import CachecostError
from cachecost.group.minutes import (
    OTHER_MINUTES_KEY,
    measured_minutes,
    others_minutes,
    quota_summary,
)
from cachecost.group.render import render_index, summary_text
from cachecost.model.scenario import Scenario, load_scenario
from cachecost.model.strategies import BUILDERS

GIB = 2.0**30
#: The group's default scenario: GitLab-hosted runners at GitLab's published prices, no
#: project's own (QEMU's private runners are one project's, not a group's).
GROUP_SCENARIO_PATH = SCENARIOS_DIR / "group" / "gitlab-hosted-group.yaml"
#: Monte Carlo samples per project without pages (the pages use the report's own)
GROUP_SAMPLES = 4000


@dataclass
class GroupBuild:
    """What :func:`build_group_report` did."""

    index_path: Path
    rows: list[dict[str, Any]]
    is_noop: bool
    elapsed_s: float


def _fingerprint(group_dir: Path, scenario: Scenario, pages: bool) -> str:
    """The group build's inputs: the scenario, the catalog, every project's metadata, and
    all of cachecost's source and the report notebooks (the model, the render and the
    pages: an edit to any of them changes the numbers or the pages, as in a project's
    own build, :func:`cachecost.report.fingerprint.fingerprint_inputs`)."""
    from cachecost.report.fingerprint import package_fingerprint

    h = hashlib.sha256(f"{__version__}|{scenario.sha256}|{pages}|{package_fingerprint()}"
                       .encode())
    for nb in sorted(NOTEBOOKS_DIR.glob("*.ipynb")) if pages else []:
        h.update(nb.name.encode() + b"\0" + nb.read_bytes())
    h.update((group_dir / CATALOG_FILE).read_bytes())
    for md in sorted(group_dir.glob("project=*/metadata.json")):
        h.update(md.read_bytes())
    return h.hexdigest()


def _q(d: dict | None) -> dict[str, float | None]:
    d = d or {}
    return {k: d.get(k) for k in ("mean", "p10", "p50", "p90")}


def scenario_in_use(scenario_path: Path, in_use: str, target: Path,
                    project_path: str | None = None, note: str | None = None,
                    builder: str | None = None, other_minutes: float | None = None,
                    others: int = 0) -> Path:
    """Write the scenario with ``baseline: <in_use>`` to ``target`` (unchanged: kept as is).

    The baseline is the status quo the model compares against, so the deltas and the
    recommendation are about changing from the strategy the project's CI runs. With
    ``project_path``, the title becomes ``"<project_path>: <scenario's title>"`` (with a
    ``note`` and ``builder``: ``"<project_path> (<builder>, modelled as <in_use>): ..."``,
    so the banner on every page says it) and the description (shown on the decision
    page) opens with the project, its strategy in use and ``note`` (:func:`cachecost.collect.group.strategy_note`: what a builder the model
    does not name is modelled as), so every page names the project and the scenario.
    ``builder`` (the catalog's, one of :data:`cachecost.model.strategies.BUILDERS`) is
    written as the scenario's ``builder:``: the model returns it, and the pages word a
    strategy named after another tool (kaniko-cache-repo) by what it is.
    With ``other_minutes`` (the billed minutes a month of the ``others`` other fetched
    projects, :mod:`cachecost.group.minutes`), ``compute.other_usage_minutes_per_month``
    is set to it and the description says so: the namespace's compute quota is shared.
    """
    doc = yaml.safe_load(scenario_path.read_text(encoding="utf-8"))
    doc["baseline"] = in_use
    if isinstance(builder, str) and builder in BUILDERS:
        doc["builder"] = builder        # words a strategy named after another tool by what it is
    if project_path:
        who = f"{project_path} ({builder}, modelled as {in_use})" if note and builder \
            else project_path
        doc["title"] = f"{who}: {doc.get('title') or doc.get('name')}"
        opening = f"Project {project_path}: the strategy its CI uses, {in_use}, is the baseline."
        if note:
            opening += f" Note: {note}."
        if other_minutes is not None:
            opening += (f" The root namespace's compute quota is shared: the {others} other "
                        f"fetched project(s) use {other_minutes:,.0f} billed minutes a month "
                        "of it (measured), set as compute.other_usage_minutes_per_month.")
        doc["description"] = f"{opening}\n\n{load_scenario(scenario_path).description}"
    if other_minutes is not None:
        doc.setdefault("compute", {})[OTHER_MINUTES_KEY.split(".")[1]] = round(
            float(other_minutes), 1)
    text = (f"# generated by cachecost report --group: {scenario_path.name} with the "
            "strategy in use as baseline\n" + yaml.safe_dump(doc, sort_keys=False))
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        _write(target, text)
    return target


def _note(scan: dict[str, Any]) -> str | None:
    """The catalog's ``strategy_note`` (absent from catalogs written before it: None)."""
    note = scan.get("strategy_note")
    return note if isinstance(note, str) and note else None


def project_row(scan: dict[str, Any], results: dict[str, Any],
                minutes: dict[str, float] | None = None,
                other_minutes: float | None = None) -> dict[str, Any]:
    """One project's index row from its model results (baseline: the strategy in use).

    ``minutes``: the project's measured CI minutes a month
    (:func:`cachecost.group.minutes.measured_minutes`); ``other_minutes``: the rest of the
    namespace's billed minutes its model saw (None: the scenario's own value).

    Cheapest: the model's recommendation (``results["recommendation"]["winner"]``).
    Saving = cost(in use) - cost(cheapest): mean from the recommendation, quantiles the
    negated paired delta of the cheapest against the baseline (so p10 = -delta p90).
    """
    strategies = results["strategies"]
    in_use = results["baseline"]
    rec = results["recommendation"]
    cheapest = rec["winner"]
    delta = _q(strategies[cheapest]["delta_vs_baseline_usd_per_month"])
    saving = {"mean": 0.0 + float(rec["saving_vs_baseline_usd_per_month"]),
              # 0.0 - x: a kept strategy's zero delta is 0.0, not -0.0, in results.json
              "p10": None if delta["p90"] is None else 0.0 - delta["p90"],
              "p50": None if delta["p50"] is None else 0.0 - delta["p50"],
              "p90": None if delta["p10"] is None else 0.0 - delta["p10"]}
    today = results.get("registry_today") or {}
    return {
        "project": scan["project"], "project_path": scan["project_path"],
        "builder": scan.get("builder"), "strategy_in_use": in_use,
        "strategy_detected": scan.get("strategy"), "strategy_note": _note(scan),
        "cost_usd_per_month": _q(strategies[in_use]["total_cost_usd_per_month"]),
        "cheapest_strategy": cheapest,
        "is_status_quo_kept": bool(rec["is_status_quo_kept"]),
        "saving_usd_per_month": saving,
        "probability_cheapest": strategies[cheapest]["probability_cheapest"],
        "registry_bytes": scan.get("registry_bytes"),
        "growth_gib_per_month": _q(strategies[in_use]["registry_growth_gib_per_month"]),
        "registry_gib_by_month_p50": _series_p50(results, in_use),
        "other_usage_gib_measured": today.get("other_projects_gib"),
        "quota_minutes_per_month": (minutes or {}).get("quota_minutes_per_month"),
        "runner_minutes_per_month": (minutes or {}).get("runner_minutes_per_month"),
        "other_usage_minutes_per_month": other_minutes,
        "samples": results.get("samples"),
        "pipelines": scan.get("pipelines"), "images": scan.get("images"),
        "fetched_at": scan.get("fetched_at"),
    }


def _series_p50(results: dict[str, Any], strategy: str) -> list[float] | None:
    """The model's p50 registry GiB at months 0..horizon under ``strategy``, with the
    cleanup it needs (``storage_over_horizon``; None in results without it)."""
    series = ((results.get("storage_over_horizon") or {}).get("strategies") or {}).get(strategy)
    p50 = (series or {}).get("p50")
    return [float(v) for v in p50] if p50 else None


def _months_to(level: list[float], quota_gib: float, growth: float) -> float | None:
    """First month (linear between month ends, as the model's piecewise-linear G) at which
    ``level`` (GiB at months 0..H) reaches ``quota_gib``; past the horizon at ``growth``
    GiB/month; None when it never does. Example: [10, 30, 30], quota 20 -> 0.5."""
    if level[0] >= quota_gib:
        return 0.0
    for m in range(1, len(level)):
        if level[m] >= quota_gib:
            return m - 1 + (quota_gib - level[m - 1]) / (level[m] - level[m - 1])
    return len(level) - 1 + (quota_gib - level[-1]) / growth if growth > 0 else None


def namespace_summary(namespace_bytes: int | None, rows: list[dict[str, Any]],
                      quota_gib: float | None) -> dict[str, Any]:
    """The namespace beside its projects; sets each row's ``namespace_share``.

    ``rows``: dicts with ``registry_bytes`` (the project's ``container_registry_size``,
    None if unknown) and ``growth_gib_per_month`` (``{"p50": GiB/month}`` under the
    strategy in use). Returns GiB figures and ``months_to_quota_p50`` =
    ``(quota_gib - namespace_gib) / sum(growth p50)`` (0 when already over; None without
    a quota, a namespace figure or any growth). Registry growth adds up across projects
    because GitLab's namespace figure is the sum of its projects' deduplicated
    registries (gitlabhq ``Namespace::RootStorageStatistics``, ``container_registry_size``
    summed over the namespace's projects).

    When every row has ``registry_gib_by_month_p50`` (the model's registry at months
    0..H under the strategy in use, with the cleanup it needs), the namespace's path is
    their sum plus the GiB in projects not fetched, so the step a strategy takes to its
    steady state (a cache repository filling in its first month) counts, not only the
    growth after it: ``horizon_gib_p50`` is that sum at month H and
    ``months_to_quota_p50`` the first month it reaches the quota (then, past H, at the
    summed growth).
    """
    summed = sum(int(r["registry_bytes"] or 0) for r in rows)
    growth = sum(float(r["growth_gib_per_month"]["p50"] or 0.0) for r in rows)
    ns_gib = None if namespace_bytes is None else namespace_bytes / GIB
    months = horizon = None
    paths = [r.get("registry_gib_by_month_p50") for r in rows]
    if ns_gib is not None and rows and all(paths):
        level = [ns_gib - summed / GIB + sum(m) for m in zip(*paths, strict=True)]
        horizon = level[-1]
        if quota_gib is not None:
            months = _months_to(level, float(quota_gib), growth)
    elif quota_gib is not None and ns_gib is not None and growth > 0:
        months = max(0.0, (float(quota_gib) - ns_gib) / growth)
    for r in rows:
        r["namespace_share"] = (None if not namespace_bytes or r["registry_bytes"] is None
                                else r["registry_bytes"] / namespace_bytes)
    return {"namespace_registry_gib": ns_gib, "projects_registry_gib": summed / GIB,
            "unaccounted_gib": None if ns_gib is None else ns_gib - summed / GIB,
            "quota_gib": quota_gib, "growth_gib_per_month_p50": growth,
            "horizon_gib_p50": horizon,
            "horizon_months": len(paths[0]) - 1 if horizon is not None and paths[0] else None,
            "months_to_quota_p50": months}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


#: What a group build writes at the top of its site (beside one folder per project)
GROUP_SITE_FILES = ("index.html", "summary.txt", "results.json")


def check_group_site_dir(group_dir: str | Path, out: str | Path, *, is_forced: bool = False
                         ) -> None:
    """Refuse, before any work, an ``out`` a group site must not be written into.

    Never inside the group folder or any dataset (the sites of the projects would land
    in their data, and change the data's fingerprint at every build), even with
    ``is_forced``; and, unless ``is_forced`` (``--force-out``), not an existing folder
    holding anything but a group site's own names (:data:`GROUP_SITE_FILES`, a folder per
    project of the catalog) and a build's debris: a build replaces those whole.

    Raises:
        CachecostError: ``"--out DIR: ..."``, naming the folder or a file found there.
    """
    from cachecost.report.outdir import check_site_dir, find_debris

    target = check_site_dir(out, group_dir, is_forced=True)
    if is_forced or not target.is_dir():
        return
    own = {*GROUP_SITE_FILES, *(str(k) for k in _read_catalog(Path(group_dir))["project"])}
    own |= {p.name for p in find_debris(target)}
    foreign = sorted(set(os.listdir(target)) - own)
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise CachecostError(
            f"--out {out}: holds files a group report did not write ({foreign[0]!r}{more}); "
            "a build replaces index.html, summary.txt, results.json and a folder per "
            "project there, so choose a new or empty folder, or pass --force-out")


def _read_catalog(group_dir: Path) -> pd.DataFrame:
    """``catalog.parquet`` of a fetched group; one-line error when missing or unreadable."""
    path = group_dir / CATALOG_FILE
    if not path.is_file():
        raise CachecostError(f"{path}: missing; run cachecost fetch --group again")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise CachecostError(f"{path}: not a readable Parquet file ({exc})") from None


def build_group_report(group_dir: str | Path, out: str | Path, *,
                       scenario_path: str | Path | None = None, samples: int = GROUP_SAMPLES,
                       pages: bool = True, force: bool = False, jobs: int | None = None,
                       show_progress: bool = False
                       ) -> GroupBuild:
    """Build the group site into ``out`` (see the module doc); return what was done.

    ``jobs``: projects built at once, each in its own process (default:
    :func:`default_jobs`: with pages one more than the CPUs); ``show_progress``: a bar
    over projects on stderr (each project's own per-page lines are not shown).

    Raises :class:`CachecostError` when ``group_dir`` is not a fetched group or holds no
    fetched project.
    """
    t0 = time.monotonic()
    group_dir, out = Path(group_dir), Path(out)
    meta = read_group_meta(group_dir)
    scenario = load_scenario(GROUP_SCENARIO_PATH if scenario_path is None else scenario_path)
    catalog = _read_catalog(group_dir)
    done = catalog[catalog["status"] == "done"]
    if done.empty:
        raise CachecostError(f"{group_dir}: no project fetched yet; run cachecost fetch "
                             "--group again")
    for key in done["project"]:                 # every dataset there before any is built
        if not (group_dir / f"project={key}" / "metadata.json").is_file():
            raise CachecostError(f"{group_dir / f'project={key}'}: the catalog says fetched, "
                                 "but no dataset is there; run cachecost fetch --group again")
    # synthetic if the group says so or any project's data is: the label is never lost
    meta["is_synthetic"] = bool(meta.get("is_synthetic")) or any(
        bool(json.loads((group_dir / f"project={key}" / "metadata.json")
                        .read_text(encoding="utf-8")).get("is_synthetic"))
        for key in done["project"])
    fp = _fingerprint(group_dir, scenario, pages)
    old = out / "results.json"
    if not force and old.is_file():
        try:
            prev = json.loads(old.read_text(encoding="utf-8"))
        except ValueError:
            prev = {}
        if prev.get("fingerprint") == fp:
            return GroupBuild(out / "index.html", prev.get("projects", []), True,
                              time.monotonic() - t0)
    scans = [{str(k): v for k, v in record.items()} for record in done.to_dict("records")]
    dirs = [group_dir / f"project={scan['project']}" for scan in scans]
    with _workers(min(len(scans), jobs or default_jobs(pages))) as pool:
        # first every project's billed minutes (the shared quota), then each project's
        # model with the others' minutes: two passes over one set of workers
        minutes = [_outcome(scan, outcome)["minutes"] for scan, outcome in zip(
            scans, _run_tasks(pool, minutes_task, [(d, scenario.path) for d in dirs],
                              scans, "billed minutes", show_progress), strict=True)]
        billed = [m["quota_minutes_per_month"] for m in minutes]
        compute = quota_summary(scenario, billed)
        others: list[float | None] = (
            list(others_minutes(billed)) if compute["is_shared"] and
            compute["other_usage_is_measured"] else [None] * len(scans))
        tasks = [(d, scan, scenario.path, out / scan["project"], pages, samples,
                  None if other is None else (other, len(scans) - 1), force)
                 for d, scan, other in zip(dirs, scans, others, strict=True)]
        outcomes = _run_tasks(pool, project_task, tasks, scans, "projects", show_progress)
    rows = []
    for i, outcome in enumerate(outcomes):
        results = _outcome(scans[i], outcome)["results"]
        _write(out / scans[i]["project"] / "results.json",
               json.dumps(results, indent=1, sort_keys=True) + "\n")
        rows.append(project_row(scans[i], results, minutes[i], others[i]))
    rows.sort(key=lambda r: -r["saving_usd_per_month"]["mean"])
    ns = {"namespace": meta.get("root_namespace"),
          **namespace_summary(meta.get("namespace_container_registry_size_bytes"), rows,
                              scenario.value("storage.quota_gib")),
          "compute": compute}
    rest = catalog[catalog["status"] != "done"]
    skipped = "; ".join(
        f"{r['project_path']} ({'builds no image' if r['status'] == 'skipped' else 'not fetched: ' + str(r['error']).split(':', 1)[0]})"
        for r in rest.to_dict("records"))
    _write(out / "index.html", render_index(meta, rows, ns, scenario, skipped))
    _write(out / "summary.txt", summary_text(meta, rows, ns, skipped, scenario))
    _write(old, json.dumps({"fingerprint": fp, "group": meta.get("group"),
                            "is_synthetic": bool(meta.get("is_synthetic")),
                            "scenario": scenario.name,
                            # what the rows rest on: with pages, the project reports' own
                            "samples": samples if not pages else _rows_samples(rows),
                            "namespace": ns, "projects": rows}, indent=1) + "\n")
    return GroupBuild(out / "index.html", rows, False, time.monotonic() - t0)


def _rows_samples(rows: list[dict[str, Any]]) -> int | None:
    """The Monte Carlo samples every row's results used (None if they differ)."""
    found = {r.get("samples") for r in rows}
    return found.pop() if len(found) == 1 else None


def _outcome(scan: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    """A worker's outcome, or its error as one line naming the project."""
    if "error" in outcome:
        raise CachecostError(f"{scan['project_path']}: {outcome['error']}")
    return outcome


def default_jobs(pages: bool) -> int:
    """Projects built at once by default: with pages, one more than the CPUs; without,
    the CPUs.

    A project's pages wait about 0.4 s per notebook for its kernel to answer (jupyter_client
    flushes IOPub for 0.2 s, at least once); a third worker on 2 cores uses that wait.
    ``scripts/bench_group.py``: 20 projects with pages, 2 workers 32.9 / 33.5 s, 3 workers
    29.0 / 29.6 s (interleaved, load 0.6-2.2). The model alone never waits: 50 projects
    without pages, 2 workers 25.0 s, 3 workers 29.8 s (load 3-4).
    """
    return (os.cpu_count() or 1) + (1 if pages else 0)


@contextlib.contextmanager
def _workers(n: int) -> Iterator[cf.ProcessPoolExecutor | None]:
    """``n`` of the report's workers (:func:`cachecost.report.runner.start_pool`: they
    ignore Ctrl-C and die with this process), or None for ``n`` <= 1 (tasks run here).
    A stop or an error tears them down at once; else they finish and are joined."""
    if n <= 1:
        yield None
        return
    from cachecost.report.runner import start_pool, tear_down_pool

    pool = start_pool(n)
    try:
        yield pool
    except BaseException:
        tear_down_pool(pool)
        raise
    pool.shutdown(wait=True)


def _run_tasks(pool: cf.ProcessPoolExecutor | None, fn: Callable[[Any], dict[str, Any]],
               tasks: list[Any], scans: list[dict[str, Any]], desc: str,
               show_progress: bool) -> list[dict[str, Any]]:
    """``fn(task)`` for each task, in ``pool``'s workers (here without one); outcomes in
    the order of ``tasks``. One progress bar over the projects, named ``desc``
    (``show_progress``); without a bar (stderr not a terminal) the ``"projects"`` pass
    says one line per project built, the others nothing.
    """
    from tqdm import tqdm

    bar = tqdm(total=len(tasks), desc=desc, unit="project", file=sys.stderr,
               disable=not show_progress, dynamic_ncols=True)
    outcomes: list[dict[str, Any]] = [{} for _ in tasks]

    def done(i: int) -> None:
        path = str(scans[i].get("project_path"))
        if show_progress:
            bar.set_postfix_str(path, refresh=False)
            bar.update()
            return
        bar.n += 1                       # a disabled bar does not count by itself
        if desc == "projects":
            print(f"cachecost: built {path} ({bar.n} of {len(tasks)})", file=sys.stderr,
                  flush=True)

    with bar:
        if pool is None:
            for i, task in enumerate(tasks):
                outcomes[i] = fn(task)
                done(i)
            return outcomes
        from cachecost.stopping import signals_held

        with signals_held():
            futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
        for future in cf.as_completed(futures):
            outcomes[futures[future]] = future.result()
            done(futures[future])
    return outcomes


def minutes_task(task: tuple[Path, Path]) -> dict[str, Any]:
    """``{"minutes": measured_minutes(...)}`` of one project, or ``{"error": one line}``
    (:mod:`cachecost.group.minutes`).

    ``task``: (dataset dir, scenario file)."""
    ds_dir, scenario_path = task
    try:
        return {"minutes": measured_minutes(ds_dir, load_scenario(scenario_path))}
    except CachecostError as exc:
        return {"error": str(exc)}


def project_task(task: tuple[Path, dict[str, Any], Path, Path, bool, int,
                             tuple[float, int] | None, bool]) -> dict[str, Any]:
    """``{"results": ...}`` of one project, or ``{"error": one line}`` (a worker's task).

    ``task``: (dataset dir, catalog row, scenario file, project site dir, pages, samples,
    (the other fetched projects' billed minutes a month, how many they are) or None,
    force: rebuild the project's pages even when their inputs did not change).
    The project's model results under the scenario with its strategy in use as baseline:
    with ``pages``, built by the per-project report into the site (its pages and its
    ``results.json``, so the index shows the numbers the project's pages show); else the
    model alone with ``samples`` samples.
    """
    ds_dir, scan, scenario_path, site, pages, samples, other, force = task
    try:
        scenario = load_scenario(scenario_path)
        in_use = scan.get("strategy")
        if in_use not in scenario.strategies:
            in_use = scenario.baseline
        path = scenario_in_use(scenario.path, str(in_use),
                               site / f"{scenario.name}.scenario.yaml",
                               str(scan.get("project_path") or "") or None,
                               _note(scan), scan.get("builder") or None,
                               None if other is None else other[0],
                               0 if other is None else other[1])
        if not pages:
            from cachecost.model.results import run_model

            return {"results": run_model(load_dataset(ds_dir), load_scenario(path),
                                         samples=samples)}
        from cachecost.report.build import build_report

        with contextlib.redirect_stderr(io.StringIO()):   # its per-page lines: the bar says
            build_report([path], ds_dir, site, jobs=1, force=force)
        return {"results": json.loads((site / scenario.name / "results.json")
                                      .read_text(encoding="utf-8"))}
    except CachecostError as exc:
        return {"error": str(exc)}
