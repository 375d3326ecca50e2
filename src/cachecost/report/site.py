"""The site around the pages: scenarios, shared assets, the index, atomic swaps.

A scenario is built in a hidden staging directory and renamed into place
(:func:`swap_into_place`); ``OUT/assets/`` holds plotly.js and JupyterLab's
style sheet once for every page; ``OUT/index.html`` shows the scenarios side
by side, strategies ordered by cost.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from pathlib import Path
from typing import Any

from cachecost.config import (
    SCENARIOS_DIR,
)
from cachecost.dataset.io import atomic_path
from cachecost.errors import CachecostError, check_user_file
from cachecost.report.export import (
    jinja_env,
    lab_css_asset_name,
    plotly_asset_name,
    read_lab_css,
    read_site_css,
    render_banner,
)
from cachecost.report.flips import nearest_recommendation_flip
from cachecost.report.notebook import skip_slow_imports
from cachecost.report.tables import read_quantile
from cachecost.textfmt import format_share, format_signed_usd, format_usd

ASSETS_DIR = "assets"

SCENARIO_FILES = ("results.json", "summary.txt", "summary.md")

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

_RESERVED_NAMES = (ASSETS_DIR, "fetch")  # OUT/assets/, OUT/fetch/ (the fetch notebook's run)

def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically: readers see the old or the new file."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def dump_json(data: Any) -> str:
    """``data`` as stable JSON text: indented, keys sorted, non-ASCII kept, one final
    newline; NaN or infinity raise ``ValueError`` (they are not JSON)."""
    return json.dumps(data, indent=2, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"


def find_default_scenarios() -> list[Path]:
    """Return every ``scenarios/*.yaml`` of the project, sorted."""
    found = sorted(SCENARIOS_DIR.glob("*.yaml"))
    if not found:
        raise CachecostError(f"{SCENARIOS_DIR}: no scenario files (*.yaml)")
    return found


def load_scenarios(paths: list[Path] | None) -> list[Any]:
    """Load the scenarios (default: all of ``scenarios/``); names must be unique and safe."""
    from cachecost.model.scenario import load_scenario

    paths = list(paths) if paths else find_default_scenarios()
    loaded: list[Any] = []
    seen: dict[str, Path] = {}
    for path in paths:
        path = Path(path)
        check_user_file(path, "scenario file")
        scenario = load_scenario(path)
        if not _SAFE_NAME.match(scenario.name) or scenario.name in _RESERVED_NAMES:
            raise CachecostError(
                f"{path}: scenario name {scenario.name!r} cannot name a report directory "
                "(letters, digits, '.', '_', '-'; not 'assets' or 'fetch')"
            )
        if scenario.name in seen:
            raise CachecostError(f"{path}: scenario name {scenario.name!r} also used by "
                                 f"{seen[scenario.name]}")
        seen[scenario.name] = path
        loaded.append(scenario)
    return loaded


def summarize_scenario_for_index(results: dict[str, Any]) -> dict[str, Any]:
    """Return the index's numbers for one scenario from its ``results.json``.

    Every figure is an expected (mean) monthly cost, the quantity the
    recommendation is decided on, so a row's difference from the baseline is the
    difference of the two totals shown (the mean is linear; the median is not).
    ``"answer"`` is the first screen's sentence parts (:func:`summarize_answer`).
    """
    strategies = results.get("strategies", {})
    winner = (results.get("recommendation") or {}).get("winner")
    cells = {}
    for name, s in strategies.items():
        total = s.get("total_cost_usd_per_month")
        delta = read_quantile(s.get("delta_vs_baseline_usd_per_month"), "mean")
        cells[name] = {
            "total": format_usd(read_quantile(total, "mean")),
            "total_usd": read_quantile(total, "mean"),
            "range": f"p10 {format_usd(read_quantile(total, 'p10'))} "
                     f"\u2013 p90 {format_usd(read_quantile(total, 'p90'))}",
            # 0.0 (an exact tie, e.g. BuildKit mode=min against dind) is a figure too
            "delta": f"{format_signed_usd(delta)} vs baseline" if delta is not None else "",
            "is_baseline": bool(s.get("is_baseline")),
            "is_winner": name == winner,
            "title": s.get("title", name),
        }
    answer = summarize_answer(results)
    return {"cells": cells, "answer": answer,
            "recommendation": answer["headline"] if answer else "-"}


def _pct(share: Any) -> str:
    return format_share(share) if isinstance(share, int | float) and math.isfinite(share) \
        else "?"


def summarize_answer(results: dict[str, Any]) -> dict[str, str] | None:
    """The first screen's answer for one scenario, or None without a recommendation.

    One comparison, one saving: the recommendation against the baseline (what
    the project does today), as the expected (mean) monthly saving with its
    p10-p90 from the same paired samples (``delta_vs_baseline_usd_per_month``);
    how sure: the share of samples in which the recommendation is cheaper than
    the next best strategy (the runner-up the decision was made against). When
    the baseline is kept, the saving is what the runner-up would cost more.
    ``"shadow"`` says whether the totals include the storage shadow price.

    Returns:
        ``{"headline", "saving", "sure", "flip", "shadow"}``: plain text (escaped by the
        template); ``"flip"`` is the nearest recommendation flip's sentence or ``""``.
    """
    rec = results.get("recommendation") or {}
    strategies = results.get("strategies", {})
    winner, runner_up = rec.get("winner"), rec.get("runner_up")
    baseline = results.get("baseline")
    if not winner or winner not in strategies:
        return None

    def title(name: Any) -> str:
        return str(strategies.get(name, {}).get("title", name))

    is_kept = winner == baseline
    other = runner_up if is_kept else winner
    delta = (strategies.get(other) or {}).get("delta_vs_baseline_usd_per_month") or {}
    mean, p10, p90 = (read_quantile(delta, k) for k in ("mean", "p10", "p90"))
    sign = 1 if is_kept else -1            # a saving is the baseline's cost minus the other's
    if isinstance(mean, int | float) and isinstance(p10, int | float) \
            and isinstance(p90, int | float):
        low, high = sorted((sign * p10, sign * p90))
        span = f"p10\u2013p90: {format_usd(low)} to {format_usd(high)}"
        if is_kept:
            saving = (f"The next best, {title(runner_up)}, would cost "
                      f"{format_usd(sign * mean)}/month more on average ({span})")
        else:
            saving = (f"Saves {format_usd(sign * mean)}/month on average ({span}) over the "
                      f"baseline, {title(baseline)}")
    else:
        saving = "No saving figure: the results hold no difference from the baseline"
    # the runner-up is named once: in the saving when it is the baseline or when it is kept
    than = "" if is_kept or runner_up in (baseline, None) else \
        f" than the next best, {title(runner_up)},"
    sure = (f"cheaper{than} in {_pct(rec.get('share_of_samples_winner_cheaper'))} of "
            f"{results.get('samples', 0):,} simulations of the uncertain rates"
            if runner_up else "")
    shadow_usd = read_quantile((strategies[winner]).get("shadow_storage_usd_per_month"), "mean")
    if "shadow" in (rec.get("weighs") or []) and isinstance(shadow_usd, int | float) \
            and shadow_usd > 0:
        shadow = (f"Totals include a shadow price for registry storage "
                  f"({format_usd(shadow_usd)}/month of the recommendation's): a trade-off "
                  "rate, not a bill.")
    else:
        shadow = "Totals are money paid: no shadow price is included."
    verb = "Keep" if is_kept else "Switch to"
    return {"headline": f"{verb} {title(winner)}", "saving": saving, "sure": sure,
            "flip": nearest_recommendation_flip(results), "shadow": shadow}


def _mean_cost(row: dict[str, Any]) -> tuple[float, str]:
    """Sort key of an index row: the strategy's expected monthly cost averaged over the
    scenarios that have it (cheapest first), then its name."""
    costs = [c["total_usd"] for c in row["cells"]
             if c and isinstance(c.get("total_usd"), int | float)]
    return (sum(costs) / len(costs) if costs else math.inf, row["name"])


def render_index(
    out_dir: Path, scenarios: list[Any], pages: list[dict[str, Any]], state: dict[str, Any], prov: dict[str, Any]
) -> str:
    """Return ``index.html``: the scenarios side by side with their headline numbers."""
    cards, comparison_names, titles, samples = [], [], {}, set()
    for scenario in scenarios:
        results = json.loads((out_dir / scenario.name / "results.json").read_text("utf-8"))
        summary = summarize_scenario_for_index(results)
        samples.add(results.get("samples"))
        for name, cell in summary["cells"].items():
            if name not in titles:
                comparison_names.append(name)
                titles[name] = cell["title"]
        cards.append({
            "name": scenario.name,
            "title": scenario.title,
            "description": scenario.description,
            "sha256": scenario.sha256,
            "built_at": state["scenarios"][scenario.name]["built_at"],
            "href": f"{scenario.name}/{pages[-1]['stem']}.html",
            "pages": [
                {"title": p["title"], "href": f"{scenario.name}/{p['stem']}.html",
                 "ipynb_href": f"{scenario.name}/{p['stem']}.ipynb"}
                for p in pages
            ],
            "recommendation": summary["recommendation"],
            "answer": summary["answer"],
            "cells": summary["cells"],
        })
    comparison = sorted((
        {"name": name, "title": titles[name], "cells": [c["cells"].get(name) for c in cards]}
        for name in comparison_names), key=_mean_cost)
    import markupsafe

    samples.discard(None)
    samples_text = (
        f"{samples.pop():,}" if len(samples) == 1 else "the scenario's"
    )
    env = jinja_env()
    banner = render_banner(prov, home_href="index.html", nav=[])
    return str(env.get_template("index.html.j2").render(
        css=markupsafe.Markup(read_site_css()),  # our own file, not data
        banner=banner,
        scenarios=cards,
        comparison=comparison,
        samples_text=samples_text,
    ))


def scenario_outputs_exist(out_dir: Path, name: str, pages: list[dict[str, Any]]) -> bool:
    """True when ``out_dir/name/`` holds every :data:`SCENARIO_FILES` file and one
    ``<stem>.html`` per page (``pages``: dicts with a ``"stem"`` key)."""
    folder = out_dir / name
    wanted = [*SCENARIO_FILES, *(f"{p['stem']}.html" for p in pages)]
    return all((folder / f).is_file() for f in wanted)


def current_umask() -> int:
    """The process's file-creation mask (e.g. ``0o022``); reading it means setting it,
    so it is set to 0 and straight back."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def swap_into_place(stage: Path, target: Path) -> None:
    """Replace ``target`` by ``stage`` with two renames (the old one removed after)."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(target, old)
    os.replace(stage, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_asset(out_dir: Path, name: str, text: str) -> None:
    """Write ``OUT/assets/<name>`` unless it already holds ``text``."""
    target = out_dir / ASSETS_DIR / name
    data = text.encode("utf-8")
    if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
        return
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_site_assets(out_dir: Path) -> list[str]:
    """Write the files every site-mode page shares: plotly.js and JupyterLab's style sheet."""
    from plotly.offline import get_plotlyjs

    skip_slow_imports()
    lab_css = read_lab_css()
    names = [plotly_asset_name(), lab_css_asset_name(lab_css)]
    _write_asset(out_dir, names[0], get_plotlyjs())
    _write_asset(out_dir, names[1], lab_css)
    return names


