"""The headline numbers of a model run as tables: one row per strategy, baseline first.

Shared by the summaries (:mod:`cachecost.report.summary`), the recommendation's
words (:mod:`cachecost.report.recommendation`) and the pages
(:mod:`cachecost.report.figures`), so every place shows the same figures.

    tabulate_headline(results)        # a DataFrame: means and p10/p90 per strategy
    format_headline_lines(results)    # the same as fixed-width text lines

``results`` is :func:`cachecost.model.results.run_model`'s dict.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from cachecost.rules import tie_resolution_usd
from cachecost.textfmt import finite, format_number, format_pct, format_signed_usd, format_usd

#: The widest line of a plain-text table (the mailing list's 72 columns).
LINE_WIDTH = 72
BASELINE_MARK = "(*)"


# --------------------------------------------------------------------------- numbers


def tie_usd(results: dict[str, Any]) -> float:
    """A difference smaller than this (USD/month) is a tie: the status-quo margin the
    decision used (``recommendation.status_quo_margin_usd_per_month``), else the
    project's rule at the winner's median cost (older results)."""
    rec = results.get("recommendation") or {}
    margin = finite(rec.get("status_quo_margin_usd_per_month"))
    if margin is not None:
        return margin
    winner = (results.get("strategies") or {}).get(rec.get("winner"), {})
    return tie_resolution_usd(read_quantile(winner.get("total_cost_usd_per_month")) or 0.0)


def read_quantile(q: dict[str, Any] | None, key: str = "p50") -> float | None:
    """One value of a quantile dict (``p10``/``p50``/``p90``/``mean``); None if unknown."""
    return finite(q.get(key)) if isinstance(q, dict) else None


# --------------------------------------------------------------------------- the table


def order_strategies(results: dict[str, Any]) -> list[str]:
    """Strategy names: the baseline first, then by expected (mean) total cost, then name."""
    base = results["baseline"]
    others = [n for n in results["strategies"] if n != base]
    others.sort(key=lambda n: (read_quantile(results["strategies"][n]["total_cost_usd_per_month"],
                                             "mean") or math.inf, n))
    return ([base] if base in results["strategies"] else []) + others


def registry_accounting(results: dict[str, Any]) -> str:
    """The registry accounting the scenario reports (``per-tag`` unless it says)."""
    return (results.get("storage_over_horizon") or {}).get("accounting") or "per-tag"


def expected_delta_pct(results: dict[str, Any], name: str) -> float | None:
    """Strategy ``name``'s expected (mean) monthly difference from the baseline as a
    percentage of the baseline's expected total: ``100 * mean(delta) / mean(base)``.

    The share the answer states with the saving (the mean is linear, so this is the
    difference of the two totals shown, in percent); None when either is unknown or the
    baseline's expected cost is zero."""
    strategies = results["strategies"]
    delta = read_quantile(strategies[name].get("delta_vs_baseline_usd_per_month"), "mean")
    base = read_quantile(strategies[results["baseline"]]["total_cost_usd_per_month"], "mean")
    return 100.0 * delta / base if delta is not None and base else None


def tabulate_headline(results: dict[str, Any]) -> pd.DataFrame:
    """One row per strategy (baseline first) with the headline numbers.

    Columns: ``strategy``, ``title``, ``is_baseline``, then for each measure its
    ``_p10``, ``_p50``, ``_p90`` and ``_mean`` (the expected value, the figure the
    decision is made on and every table shows): ``compute_minutes`` (per month),
    ``registry_gib`` (end of horizon, the scenario's accounting),
    ``total_cost_usd`` (per month), ``delta_usd`` and ``delta_pct`` (vs the
    baseline, per month; ``delta_pct_mean`` is :func:`expected_delta_pct`).
    """
    acc = registry_accounting(results)
    measures: dict[str, Callable[[dict[str, Any]], Any]] = {
        "compute_minutes": lambda s: s["compute_minutes_per_month"],
        "registry_gib": lambda s: (s.get("registry_gib") or {}).get(acc),
        "total_cost_usd": lambda s: s["total_cost_usd_per_month"],
        "delta_usd": lambda s: s["delta_vs_baseline_usd_per_month"],
        "delta_pct": lambda s: s["delta_vs_baseline_pct"],
    }
    rows = []
    for name in order_strategies(results):
        s = results["strategies"][name]
        row: dict[str, Any] = {"strategy": name, "title": s.get("title", name),
                               "is_baseline": name == results["baseline"]}
        for label, get in measures.items():
            q = get(s)
            for p in ("p10", "p50", "p90", "mean"):
                row[f"{label}_{p}"] = read_quantile(q, p)
        row["delta_pct_mean"] = expected_delta_pct(results, name)
        rows.append(row)
    return pd.DataFrame(rows)


def format_fixed_table(headers: list[str], rows: list[list[str]], align: str) -> list[str]:
    """Fixed-width text table within :data:`LINE_WIDTH` columns.

    ``align`` has one ``l`` or ``r`` per column. Columns are two spaces apart,
    one when that does not fit; if even that is too wide the first column is
    shortened with ``~``.
    """
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]
    gap = 2 if sum(widths) + 2 * (len(widths) - 1) <= LINE_WIDTH else 1
    excess = sum(widths) + gap * (len(widths) - 1) - LINE_WIDTH
    if excess > 0:
        widths[0] -= excess

    def cell(text: str, i: int) -> str:
        text = str(text)
        if len(text) > widths[i]:
            text = text[: widths[i] - 1] + "~"
        return text.ljust(widths[i]) if align[i] == "l" else text.rjust(widths[i])

    def line(cells: list[str]) -> str:
        return (" " * gap).join(cell(c, i) for i, c in enumerate(cells)).rstrip()

    rule = (" " * gap).join("-" * w for w in widths)
    return [line(headers), rule] + [line(r) for r in rows]


def format_delta_cell(row: pd.Series) -> str:
    """A headline row's expected (mean) difference from the baseline:
    ``"+$9.99 (+23%)"``, or ``(*)``."""
    if row["is_baseline"]:
        return BASELINE_MARK
    return f"{format_signed_usd(row['delta_usd_mean'])} ({format_pct(row['delta_pct_mean'])})"


def format_headline_lines(results: dict[str, Any]) -> list[str]:
    """The headline table (expected values, means) as fixed-width lines."""
    table = tabulate_headline(results)
    rows = [[r["strategy"], format_number(r["compute_minutes_mean"]),
             format_number(r["registry_gib_mean"], 1), format_usd(r["total_cost_usd_mean"]),
             format_delta_cell(r)] for _, r in table.iterrows()]
    headers = ["strategy", "CI min/mo", "reg GiB", "$/month", "vs baseline"]
    return format_fixed_table(headers, rows, "lrrrr")


def format_range_lines(results: dict[str, Any]) -> list[str]:
    """Monthly total cost per strategy as fixed-width lines: the expected (mean) cost,
    then its p10 and p90 (the range)."""
    table = tabulate_headline(results)
    rows = [[r["strategy"] + (f" {BASELINE_MARK}" if r["is_baseline"] else ""),
             format_usd(r["total_cost_usd_mean"]), format_usd(r["total_cost_usd_p10"]),
             format_usd(r["total_cost_usd_p90"])] for _, r in table.iterrows()]
    return format_fixed_table(["strategy", "mean", "p10", "p90"], rows, "lrrr")


def md_row(cells: list[str]) -> str:
    """One Markdown table row; ``|`` in a cell is escaped."""
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def format_md_table(results: dict[str, Any]) -> list[str]:
    """The headline table as Markdown rows (expected values, means, with p10-p90 cost)."""
    out = [md_row(["strategy", "CI minutes/month", "registry GiB", "cost/month",
                    "vs baseline"]), "|---|--:|--:|--:|--:|"]
    for _, r in tabulate_headline(results).iterrows():
        name = f"{r['strategy']} {BASELINE_MARK}" if r["is_baseline"] else r["strategy"]
        cost = (f"{format_usd(r['total_cost_usd_mean'])} "
                f"({format_usd(r['total_cost_usd_p10'])}–{format_usd(r['total_cost_usd_p90'])})")
        out.append(md_row([
            f"`{name}`", format_number(r["compute_minutes_mean"]),
            format_number(r["registry_gib_mean"], 1), cost,
            "baseline" if r["is_baseline"] else format_delta_cell(r),
        ]))
    return out
