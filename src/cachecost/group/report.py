"""The group report: one index over every fetched project, sorted by what a change saves.

    cachecost report --group data/raw/demo-group --out reports/group

For each project the fetch completed, the model runs on its dataset with the strategy
its CI uses (detected, :func:`cachecost.collect.group.detect_builder`) as the baseline,
so "saving" is the paired difference cost(in use) - cost(cheapest) over the same Monte
Carlo samples, p10-p90. The rest of the namespace is measured, not guessed: the
project's fetch read the root namespace's ``containerRegistrySize``, and
:func:`cachecost.model.measured.with_measured_inputs` turns it into
``storage.other_usage_gib`` (when the scenario leaves that at its default).

Writes ``OUT/index.html`` (the table; each project links to its own pages,
``OUT/<key>/index.html``, built by :func:`cachecost.report.build.build_report`),
``OUT/summary.txt`` (plain text for an admins' list), ``OUT/results.json`` (the group)
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

import hashlib
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from cachecost import __version__
from cachecost.collect.group import CATALOG_FILE, read_group_meta
from cachecost.dataset.io import atomic_path, load_dataset
from cachecost.errors import CachecostError
from cachecost.model.scenario import DEFAULT_SCENARIO_PATH, Scenario, load_scenario
from cachecost.model.simulate import run_model
from cachecost.textfmt import format_usd

GIB = 2.0**30
#: Monte Carlo samples per project (the per-project pages use the report's own)
GROUP_SAMPLES = 4000


@dataclass
class GroupBuild:
    """What :func:`build_group_report` did."""

    index_path: Path
    rows: list[dict[str, Any]]
    is_noop: bool
    elapsed_s: float


def _fingerprint(group_dir: Path, scenario: Scenario, pages: bool) -> str:
    h = hashlib.sha256(f"{__version__}|{scenario.sha256}|{pages}".encode())
    h.update((group_dir / CATALOG_FILE).read_bytes())
    for md in sorted(group_dir.glob("project=*/metadata.json")):
        h.update(md.read_bytes())
    return h.hexdigest()


def _q(d: dict | None) -> dict[str, float | None]:
    d = d or {}
    return {k: d.get(k) for k in ("p10", "p50", "p90")}


def project_row(ds_dir: Path, scan: dict[str, Any], scenario: Scenario, samples: int
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """One project's index row and its model results (baseline: the strategy in use)."""
    ds = load_dataset(ds_dir)
    in_use = scan.get("strategy")
    if in_use not in scenario.strategies:
        in_use = scenario.baseline
    sc = replace(scenario, baseline=in_use)
    results = run_model(ds, sc, samples=samples)
    strategies = results["strategies"]
    cheapest = min(strategies, key=lambda n: strategies[n]["total_cost_usd_per_month"]["mean"])
    saving = {k: (None if v is None else -v) for k, v in
              _q(strategies[cheapest]["delta_vs_baseline_usd_per_month"]).items()}
    saving["p10"], saving["p90"] = saving["p90"], saving["p10"]   # negated: ends swap
    today = results.get("registry_today") or {}
    row = {
        "project": scan["project"], "project_path": scan["project_path"],
        "builder": scan.get("builder"), "strategy_in_use": in_use,
        "strategy_detected": scan.get("strategy"),
        "cost_usd_per_month": _q(strategies[in_use]["total_cost_usd_per_month"]),
        "cheapest_strategy": cheapest,
        "saving_usd_per_month": saving,
        "probability_cheapest": strategies[cheapest]["probability_cheapest"],
        "registry_bytes": scan.get("registry_bytes"),
        "growth_gib_per_month": _q(strategies[in_use]["registry_growth_gib_per_month"]),
        "other_usage_gib_measured": today.get("other_projects_gib"),
        "pipelines": scan.get("pipelines"), "images": scan.get("images"),
        "fetched_at": scan.get("fetched_at"),
    }
    return row, results


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
    """
    summed = sum(int(r["registry_bytes"] or 0) for r in rows)
    growth = sum(float(r["growth_gib_per_month"]["p50"] or 0.0) for r in rows)
    ns_gib = None if namespace_bytes is None else namespace_bytes / GIB
    months = None
    if quota_gib is not None and ns_gib is not None and growth > 0:
        months = max(0.0, (float(quota_gib) - ns_gib) / growth)
    for r in rows:
        r["namespace_share"] = (None if not namespace_bytes or r["registry_bytes"] is None
                                else r["registry_bytes"] / namespace_bytes)
    return {"namespace_registry_gib": ns_gib, "projects_registry_gib": summed / GIB,
            "unaccounted_gib": None if ns_gib is None else ns_gib - summed / GIB,
            "quota_gib": quota_gib, "growth_gib_per_month_p50": growth,
            "months_to_quota_p50": months}


def _money(q: dict[str, float | None]) -> str:
    if q.get("p50") is None:
        return "-"
    return f"{format_usd(q['p50'])} ({format_usd(q['p10'])} to {format_usd(q['p90'])})"


def _gib(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f} GiB"


_INDEX = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cachecost: group {{ group }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:80rem;color:#222}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{padding:.35rem .5rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap} .synthetic{background:#fff3cd;padding:.6rem;
border:1px solid #e0c060;margin-bottom:1rem} .ns{margin:.8rem 0 1.2rem}
</style></head><body>
{% if synthetic %}<p class="synthetic"><strong>SYNTHETIC DATA</strong> - served by the
cachecost stand-in, not measured from any real project.</p>{% endif %}
<h1>Group {{ group }}: container-image caching, project by project</h1>
<p class="ns">Root namespace <strong>{{ ns.namespace }}</strong>: {{ ns_gib }} of registry
as GitLab counts it; the {{ rows|length }} projects fetched hold {{ proj_gib }}
({{ unaccounted }} in projects not fetched).
{% if ns.quota_gib is not none %}Quota {{ ns.quota_gib }} GiB (scenario {{ scenario }}):
{% if ns.months_to_quota_p50 is not none %}about {{ "%.1f"|format(ns.months_to_quota_p50) }}
months to it at {{ "%.2f"|format(ns.growth_gib_per_month_p50) }} GiB/month of growth
(p50, strategies in use){% else %}no growth to reach it{% endif %}.{% endif %}
Sorted by what the cheapest change would save per month (p50; p10 to p90 in brackets).
</p>
<table><thead><tr><th>Project</th><th>Builder</th><th>Strategy in use</th>
<th>Cost today / month</th><th>Cheapest strategy</th><th>Saving / month</th>
<th>Registry</th><th>Share of namespace</th></tr></thead><tbody>
{% for r in rows %}<tr><td><a href="{{ r.project }}/index.html">{{ r.project_path }}</a></td>
<td>{{ r.builder or "-" }}</td><td>{{ r.strategy_in_use }}</td>
<td class="n">{{ r.cost }}</td><td>{{ r.cheapest_strategy }}</td>
<td class="n">{{ r.saving }}</td><td class="n">{{ r.registry }}</td>
<td class="n">{{ r.share }}</td></tr>
{% endfor %}</tbody></table>
{% if skipped %}<p>Not in the table: {{ skipped }}.</p>{% endif %}
<p><a href="summary.txt">summary.txt</a> · <a href="results.json">results.json</a></p>
</body></html>
""")


def _render(meta: dict, rows: list[dict], ns: dict, scenario: Scenario, skipped: str) -> str:
    shown = [{**r, "cost": _money(r["cost_usd_per_month"]),
              "saving": _money(r["saving_usd_per_month"]),
              "registry": _gib(None if r["registry_bytes"] is None else r["registry_bytes"] / GIB),
              "share": "-" if r["namespace_share"] is None else f"{100 * r['namespace_share']:.0f}%"}
             for r in rows]
    return _INDEX.render(group=meta.get("group"), synthetic=meta.get("is_synthetic"), ns=ns,
                         ns_gib=_gib(ns["namespace_registry_gib"]),
                         proj_gib=_gib(ns["projects_registry_gib"]),
                         unaccounted=_gib(ns["unaccounted_gib"]), rows=shown,
                         scenario=scenario.name, skipped=skipped)


def summary_text(meta: dict, rows: list[dict], ns: dict, skipped: str) -> str:
    """The plain-text group summary (fixed-width table, one project a line)."""
    lines = []
    if meta.get("is_synthetic"):
        lines.append("SYNTHETIC DATA - served by the cachecost stand-in, not measured.")
    lines += [f"Group {meta.get('group')}: root namespace {ns['namespace']} holds "
              f"{_gib(ns['namespace_registry_gib'])} of registry; the {len(rows)} projects "
              f"fetched hold {_gib(ns['projects_registry_gib'])}.", ""]
    if ns["months_to_quota_p50"] is not None:
        lines += [f"Quota {ns['quota_gib']} GiB: about {ns['months_to_quota_p50']:.1f} months "
                  f"to it at {ns['growth_gib_per_month_p50']:.2f} GiB/month (p50).", ""]
    head = f"{'project':32} {'in use':20} {'cost/month':>11} {'cheapest':22} {'saving/month (p10-p90)':>32}"
    lines += [head, "-" * len(head)]
    for r in rows:
        c, s = r["cost_usd_per_month"], r["saving_usd_per_month"]
        lines.append(f"{r['project_path'][:32]:32} {r['strategy_in_use'][:20]:20} "
                     f"{format_usd(c['p50']):>11} {r['cheapest_strategy'][:22]:22} "
                     f"{format_usd(s['p50']):>11} ({format_usd(s['p10'])} to {format_usd(s['p90'])})")
    if skipped:
        lines += ["", f"Not in the table: {skipped}."]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def build_group_report(group_dir: str | Path, out: str | Path, *,
                       scenario_path: str | Path | None = None, samples: int = GROUP_SAMPLES,
                       pages: bool = True, force: bool = False) -> GroupBuild:
    """Build the group site into ``out`` (see the module doc); return what was done.

    Raises :class:`CachecostError` when ``group_dir`` is not a fetched group or holds no
    fetched project.
    """
    t0 = time.monotonic()
    group_dir, out = Path(group_dir), Path(out)
    meta = read_group_meta(group_dir)
    scenario = load_scenario(scenario_path)
    catalog = pd.read_parquet(group_dir / CATALOG_FILE)
    done = catalog[catalog["status"] == "done"]
    if done.empty:
        raise CachecostError(f"{group_dir}: no project fetched yet; run cachecost fetch "
                             "--group again")
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
    rows = []
    for record in done.to_dict("records"):
        scan = {str(k): v for k, v in record.items()}
        ds_dir = group_dir / f"project={scan['project']}"
        row, results = project_row(ds_dir, scan, scenario, samples)
        _write(out / scan["project"] / "results.json", json.dumps(results, indent=1) + "\n")
        if pages:
            _project_pages(ds_dir, out / scan["project"], scenario_path)
        rows.append(row)
    rows.sort(key=lambda r: -(r["saving_usd_per_month"]["p50"] or 0.0))
    ns = {"namespace": meta.get("root_namespace"),
          **namespace_summary(meta.get("namespace_container_registry_size_bytes"), rows,
                              scenario.value("storage.quota_gib"))}
    rest = catalog[catalog["status"] != "done"]
    skipped = "; ".join(
        f"{r['project_path']} ({'builds no image' if r['status'] == 'skipped' else 'not fetched: ' + str(r['error'])[:80]})"
        for r in rest.to_dict("records"))
    _write(out / "index.html", _render(meta, rows, ns, scenario, skipped))
    _write(out / "summary.txt", summary_text(meta, rows, ns, skipped))
    _write(old, json.dumps({"fingerprint": fp, "group": meta.get("group"),
                            "is_synthetic": bool(meta.get("is_synthetic")),
                            "scenario": scenario.name, "samples": samples,
                            "namespace": ns, "projects": rows}, indent=1) + "\n")
    return GroupBuild(out / "index.html", rows, False, time.monotonic() - t0)


def _project_pages(ds_dir: Path, site: Path, scenario_path: str | Path | None) -> None:
    """The project's own pages: the per-project report (one scenario), unchanged ones kept."""
    from cachecost.report.build import build_report

    build_report([Path(scenario_path or DEFAULT_SCENARIO_PATH)], ds_dir, site, jobs=1)
