"""Plain-text and Markdown summaries of a model run, for a mailing-list reply.

QEMU's list takes no attachments and no HTML mail, so the decision travels as
a plain-text body that links to the full report: every line at most
:data:`LINE_WIDTH` characters, a fixed-width table with the baseline marked
``(*)`` (pyperf style), the recommendation, a short method note and the link.
The text depends only on the results dict and the provenance (never on the
build time), so the same inputs give a byte-identical ``summary.txt``.

    text = format_summary_text(results, provenance, "https://qemu.gitlab.io/cachecost")
    print(format_recommendation(results))
    tabulate_headline(results)        # the numbers behind the headline tables

``results`` is :func:`cachecost.model.simulate.run_model`'s dict and ``provenance``
:func:`cachecost.report.provenance.collect_provenance`'s (see briefs/*-contract.md).
"""

from __future__ import annotations

import json
import math
import textwrap
from typing import Any

import pandas as pd

from cachecost.errors import CachecostError
from cachecost.rules import tie_resolution_usd
from cachecost.textfmt import (  # noqa: F401 (format_* are re-exported for figures)
    finite,
    format_number,
    format_pct,
    format_quantity,
    format_share,
    format_signed_usd,
    format_usd,
)

LINE_WIDTH = 72
#: The page a summary links to, relative to the site root (per scenario).
DECISION_PAGE = "02-caching-decision.html"
URL_PLACEHOLDER = "<URL of the published report>"
BASELINE_MARK = "(*)"
#: How many inputs (largest tornado swing first) the method note lists.
KEY_ASSUMPTIONS = 5
#: How many "what would flip it" sentences the recommendation quotes.
MAX_FLIPS = 3


# --------------------------------------------------------------------------- numbers


def read_quantile(q: dict | None, key: str = "p50") -> float | None:
    """One value of a quantile dict (``p10``/``p50``/``p90``/``mean``); None if unknown."""
    return finite(q.get(key)) if isinstance(q, dict) else None


# --------------------------------------------------------------------------- the table


def order_strategies(results: dict) -> list[str]:
    """Strategy names: the baseline first, then by median total cost, then name."""
    base = results["baseline"]
    others = [n for n in results["strategies"] if n != base]
    others.sort(key=lambda n: (read_quantile(results["strategies"][n]["total_cost_usd_per_month"])
                               or math.inf, n))
    return ([base] if base in results["strategies"] else []) + others


def registry_accounting(results: dict) -> str:
    """The registry accounting the scenario reports (``per-tag`` unless it says)."""
    return (results.get("storage_over_horizon") or {}).get("accounting") or "per-tag"


def tabulate_headline(results: dict) -> pd.DataFrame:
    """One row per strategy (baseline first) with the headline numbers.

    Columns: ``strategy``, ``title``, ``is_baseline``, then for each measure its
    ``_p10``, ``_p50`` and ``_p90``: ``compute_minutes`` (per month),
    ``registry_gib`` (end of horizon, the scenario's accounting),
    ``total_cost_usd`` (per month), ``delta_usd`` and ``delta_pct`` (vs the
    baseline, per month).
    """
    acc = registry_accounting(results)
    measures = {
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
            for p in ("p10", "p50", "p90"):
                row[f"{label}_{p}"] = read_quantile(q, p)
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


def _delta_cell(row: pd.Series) -> str:
    if row["is_baseline"]:
        return BASELINE_MARK
    return f"{format_signed_usd(row['delta_usd_p50'])} ({format_pct(row['delta_pct_p50'])})"


def format_headline_lines(results: dict) -> list[str]:
    """The headline table (medians) as fixed-width lines."""
    table = tabulate_headline(results)
    rows = [[r["strategy"], format_number(r["compute_minutes_p50"]),
             format_number(r["registry_gib_p50"], 1), format_usd(r["total_cost_usd_p50"]),
             _delta_cell(r)] for _, r in table.iterrows()]
    headers = ["strategy", "CI min/mo", "reg GiB", "$/month", "vs baseline"]
    return format_fixed_table(headers, rows, "lrrrr")


def format_range_lines(results: dict) -> list[str]:
    """Monthly total cost p10 / p50 / p90 per strategy as fixed-width lines."""
    table = tabulate_headline(results)
    rows = [[r["strategy"] + (f" {BASELINE_MARK}" if r["is_baseline"] else ""),
             format_usd(r["total_cost_usd_p10"]), format_usd(r["total_cost_usd_p50"]),
             format_usd(r["total_cost_usd_p90"])] for _, r in table.iterrows()]
    return format_fixed_table(["strategy", "p10", "p50", "p90"], rows, "lrrr")


# --------------------------------------------------------------------------- prose


def _format_share_less(delta_pct: float | None) -> str:
    """``-25.0 -> '25% less'``, ``10.0 -> '10% more'``."""
    if delta_pct is None:
        return "change unknown"
    return f"{abs(delta_pct):.0f}% {'less' if delta_pct < 0 else 'more'}"


def _sentence_join(parts: list[str]) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def format_recommendation(results: dict) -> str:
    """The recommendation paragraph, generated from the numbers.

    Names the winner against today's strategy (the baseline) with the median
    and 80% interval of the monthly difference, the runner-up, the winner's
    registry and fork consequences and caveats, and what would flip it
    (``results["recommendation"]["flip"]``). One paragraph, unwrapped.
    """
    rec = results["recommendation"]
    strategies = results["strategies"]
    base = results["baseline"]
    winner, runner_up = rec["winner"], rec.get("runner_up")
    w = strategies[winner]
    parts: list[str] = []
    cost = format_usd(read_quantile(w["total_cost_usd_per_month"]))
    cheapest = order_strategies({**results, "baseline": ""})[0]
    if winner == base:
        if cheapest == winner:
            parts.append(f"Keep {winner}, today's strategy: at a median {cost} a month it "
                         f"is the cheapest of the {len(strategies)} strategies modelled.")
        else:
            other = format_usd(read_quantile(strategies[cheapest]["total_cost_usd_per_month"]))
            parts.append(f"Keep {winner}, today's strategy, at a median {cost} a month "
                         f"({cheapest} has the lowest median, {other}, but not by enough "
                         f"for the model to prefer it).")
        if runner_up in strategies:
            d = strategies[runner_up]["delta_vs_baseline_usd_per_month"]
            lo, mid, hi = read_quantile(d, "p10"), read_quantile(d), read_quantile(d, "p90")
            tie_usd = tie_resolution_usd(read_quantile(w["total_cost_usd_per_month"]) or 0.0)
            if all(v is not None and abs(v) < tie_usd for v in (lo, mid, hi)):
                parts.append(f"The runner-up, {runner_up}, costs the same to within "
                             f"{format_usd(tie_usd)} a month: on cost alone the two tie.")
            else:
                parts.append(
                    f"The runner-up, {runner_up}, would cost a median {format_usd(mid)} a "
                    f"month more (80% interval {format_signed_usd(lo)} to "
                    f"{format_signed_usd(hi)})."
                )
                if (lo or 0) < 0:
                    parts.append("Part of that interval is a saving, so the lead is not "
                                 "certain.")
    else:
        d = w["delta_vs_baseline_usd_per_month"]
        # a saving is minus the delta, so its p10 comes from the delta's p90
        saving = [-v if v is not None else None
                  for v in (read_quantile(d, "p90"), read_quantile(d), read_quantile(d, "p10"))]
        share = _format_share_less(read_quantile(w["delta_vs_baseline_pct"]))
        parts.append(
            f"Switch from {base} to {winner}: it saves a median {format_usd(saving[1])} a "
            f"month ({share}) against today's "
            f"strategy, {format_usd(saving[0])} to {format_usd(saving[2])} in 80% of the "
            f"simulations."
        )
        if saving[0] is not None and saving[0] < 0:
            parts.append("That interval includes a loss, so the saving is not certain.")
        if runner_up:
            parts.append(f"Next best is {runner_up}, "
                         f"{format_usd(rec.get('saving_usd_per_month'))} a month behind.")
    months = read_quantile(w.get("months_to_quota"))
    if w.get("months_to_quota") is not None:
        if months is None:
            parts.append(f"With {winner} the registry stays under the quota.")
        else:
            parts.append(f"With {winner} the registry reaches the quota in a median "
                         f"{months:.0f} months.")
    fork_min = read_quantile(w.get("fork_compute_minutes_per_month"))
    fork_share = read_quantile(w.get("fork_quota_share"))
    if fork_min is not None and fork_share is not None:
        parts.append(f"Fork pipelines would spend a median {format_number(fork_min)} "
                     f"container-build minutes a month in all; a fork owner would use "
                     f"{format_share(fork_share)} of a free quota.")
    for note in w.get("notes") or []:
        parts.append(f"Caveat: {note}")
    flips = [f for f in rec.get("flip") or [] if f and f.strip()]
    if flips:
        parts.append("What would flip it: " + _sentence_join(flips[:MAX_FLIPS]))
        if len(flips) > MAX_FLIPS:
            parts.append(f"({len(flips) - MAX_FLIPS} more in the report's break-even "
                         f"chart.)")
    else:
        parts.append("Nothing within the ranges modelled flips it.")
    return _sentence_join(parts)


def format_input_value(item: dict) -> str:
    """An input's value for people: its distribution's short form when uncertain."""
    value = item.get("value")
    if isinstance(value, dict | list) and item.get("distribution"):
        return str(item["distribution"])
    return _format_value(value)


def _format_value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return format_quantity(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def key_assumptions(results: dict, limit: int = KEY_ASSUMPTIONS) -> list[str]:
    """One line per key input: those with the largest tornado swing first.

    Each reads ``name = value unit (source: citation)``.
    """
    inputs = {i["name"]: i for i in results.get("inputs") or []}
    names: list[str] = []
    for bar in results.get("tornado") or []:
        if bar["input"] in inputs and bar["input"] not in names:
            names.append(bar["input"])
    names += [n for n in inputs if n not in names]
    lines = []
    for name in names[:limit]:
        i = inputs[name]
        source = i.get("citation") or i.get("source") or "default"
        unit = f" {i['unit']}" if i.get("unit") else ""
        lines.append(f"{name} = {format_input_value(i)}{unit} (source: {source})")
    return lines


def format_method(results: dict) -> str:
    """The one-paragraph method note (unwrapped)."""
    return (
        f"Method: a Monte Carlo model ({results['samples']:,} samples, seed "
        f"{results['seed']}) draws the uncertain inputs (build minutes cached and "
        f"uncached, how often images change, pipelines per month, image sizes, prices) "
        f"from the CI history and the scenario, and prices each strategy's "
        f"container-build minutes and registry storage per month over "
        f"{results['horizon_months']} months. Figures are medians; ranges are the 10th "
        f"to 90th percentiles. Registry sizes use {registry_accounting(results)} "
        f"accounting."
    )


def report_url(results: dict, base_url: str | None) -> str:
    """Where the decision page lives: under ``base_url``, or a placeholder."""
    if not base_url:
        return URL_PLACEHOLDER
    return f"{base_url.rstrip('/')}/{results['scenario']}/{DECISION_PAGE}"


# --------------------------------------------------------------------------- the bodies


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, LINE_WIDTH, initial_indent=indent,
                         subsequent_indent=" " * len(indent),
                         break_long_words=True, break_on_hyphens=False)


def _synthetic_warning() -> str:
    return ("SYNTHETIC SAMPLE DATA: the CI history behind these numbers is "
            "generated, not measured from any real project. Do not quote them as "
            "QEMU's costs.")


def _data_line(provenance: dict) -> str:
    if provenance.get("is_synthetic"):
        return "Data: synthetic sample."
    return f"Data: {provenance.get('data_source')}, fetched {provenance.get('fetched_at')}."


def _version_line(provenance: dict) -> str:
    commit = provenance.get("git_commit")
    commit_text = f" (git {commit[:12]})" if commit else ""
    return (f"Scenario {provenance.get('scenario')} (sha256 "
            f"{str(provenance.get('scenario_sha256') or '')[:12]}), cachecost "
            f"{provenance.get('cachecost_version')}{commit_text}.")


def format_summary_text(results: dict, provenance: dict, base_url: str | None) -> str:
    """The mailing-list reply body: plain text, every line <= 72 characters.

    Deterministic: the same results, provenance and URL give the same bytes
    (the build time is not used). Raises CachecostError when ``base_url`` is
    too long to stand on one line.
    """
    if base_url and len(base_url.rstrip("/")) + 1 > LINE_WIDTH:
        raise CachecostError(f"--base-url {base_url}: longer than {LINE_WIDTH - 1} "
                             f"characters, it cannot stand on one line of a mail")
    is_synthetic = bool(provenance.get("is_synthetic") or results.get("is_synthetic_data"))
    title = provenance.get("scenario_title") or results.get("scenario_title") or ""
    lines: list[str] = []
    lines += _wrap(f"CI container-image caching: what each strategy costs ({title})")
    lines.append("")
    if is_synthetic:
        lines += [line_ for line_ in _wrap(_synthetic_warning(), "*** ")]
        lines.append("")
    lines += _wrap(_data_line(provenance))
    lines += _wrap(_version_line(provenance))
    lines.append("")
    lines += _wrap(f"Per month, medians of {results['samples']:,} simulations over "
                   f"{results['horizon_months']} months:")
    lines.append("")
    lines += format_headline_lines(results)
    lines.append("")
    lines += _wrap(f"{BASELINE_MARK} baseline, today's strategy. CI min/mo: upstream "
                   f"container-build runner minutes a month. reg GiB: registry at the end "
                   f"of the horizon ({registry_accounting(results)}). vs baseline: change "
                   f"in total cost a month.")
    lines.append("")
    lines += _wrap("Total cost a month, 10th / 50th / 90th percentile:")
    lines.append("")
    lines += format_range_lines(results)
    lines.append("")
    lines += _wrap(format_recommendation(results))
    lines.append("")
    lines += _wrap(format_method(results))
    assumptions = key_assumptions(results)
    if assumptions:
        lines.append("")
        lines += _wrap("Key assumptions (largest effect first):")
        for a in assumptions:
            lines += _wrap(a, "- ")
    lines.append("")
    url = report_url(results, base_url)
    lines.append("Full report with charts and every assumption:")
    if len(url) <= LINE_WIDTH:
        lines.append(url)
    else:  # the site root fits (checked above); name the page below it
        lines.append(base_url.rstrip("/") + "/")
        lines += _wrap(f"then {results['scenario']}/{DECISION_PAGE}")
    return "\n".join(line_.rstrip() for line_ in lines) + "\n"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def format_summary_markdown(results: dict, provenance: dict, base_url: str | None) -> str:
    """The same summary as Markdown (for an issue or merge-request comment).

    Deterministic like :func:`format_summary_text`.
    """
    is_synthetic = bool(provenance.get("is_synthetic") or results.get("is_synthetic_data"))
    title = provenance.get("scenario_title") or results.get("scenario_title") or ""
    out = [f"## CI container-image caching: what each strategy costs ({title})", ""]
    if is_synthetic:
        out += [f"> **{_synthetic_warning()}**", ""]
    out += [_data_line(provenance) + " " + _version_line(provenance), ""]
    out += [f"Per month, medians with the 10th to 90th percentile, of "
            f"{results['samples']:,} simulations over {results['horizon_months']} months. "
            f"{BASELINE_MARK} marks the baseline, today's strategy.", ""]
    out.append(_md_row(["strategy", "CI minutes/month", "registry GiB", "cost/month",
                        "vs baseline"]))
    out.append("|---|--:|--:|--:|--:|")
    for _, r in tabulate_headline(results).iterrows():
        name = f"{r['strategy']} {BASELINE_MARK}" if r["is_baseline"] else r["strategy"]
        cost = (f"{format_usd(r['total_cost_usd_p50'])} "
                f"({format_usd(r['total_cost_usd_p10'])}–{format_usd(r['total_cost_usd_p90'])})")
        out.append(_md_row([
            f"`{name}`", format_number(r["compute_minutes_p50"]),
            format_number(r["registry_gib_p50"], 1), cost,
            "baseline" if r["is_baseline"] else _delta_cell(r),
        ]))
    out += ["", f"**Recommendation.** {format_recommendation(results)}", "",
            format_method(results), ""]
    assumptions = key_assumptions(results)
    if assumptions:
        out += ["Key assumptions (largest effect first):", ""]
        out += [f"- {a}" for a in assumptions] + [""]
    url = report_url(results, base_url)
    link = f"[{url}]({url})" if base_url else url
    out.append(f"Full report with charts and every assumption: {link}")
    return "\n".join(out) + "\n"
