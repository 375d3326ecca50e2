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
import re
import textwrap
from typing import Any

import pandas as pd

from cachecost.report import answers
from cachecost.report.flips import (  # noqa: F401 (PLAUSIBLE_FACTOR: figures reads it here)
    PLAUSIBLE_FACTOR,
    flip_sentences,
    registry_accounting,
    tie_usd,
)
from cachecost.report.names import reader_name
from cachecost.report.sources import SOURCES, Source, resolve_citation
from cachecost.textfmt import (  # noqa: F401 (format_* are re-exported for figures)
    finite,
    format_number,
    format_pct,
    format_quantity,
    format_share,
    format_signed_usd,
    format_significant,
    format_usd,
)

LINE_WIDTH = 72
#: The page a summary links to, relative to the site root (per scenario).
DECISION_PAGE = "02-caching-decision.html"
URL_PLACEHOLDER = "<URL of the published report>"
BASELINE_MARK = "(*)"
#: How many inputs (largest tornado swing first) the method note lists.
KEY_ASSUMPTIONS = 5
#: The thread the summary replies to (a :data:`cachecost.report.sources.SOURCES` id).
THREAD_SOURCE = "qemu-kaniko-thread-2024"


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


def _keep_baseline_sentences(results: dict, winner: str, runner_up: str | None) -> list[str]:
    """The opening when today's strategy stays: its cost and the runner-up's margin."""
    strategies = results["strategies"]
    cost = format_usd(read_quantile(strategies[winner]["total_cost_usd_per_month"]))
    cheapest = order_strategies({**results, "baseline": ""})[0]
    if cheapest == winner:
        parts = [f"Keep {winner}, today's strategy: at a median {cost} a month it "
                 f"is the cheapest of the {len(strategies)} strategies modelled."]
    else:
        other = format_usd(read_quantile(strategies[cheapest]["total_cost_usd_per_month"]))
        parts = [f"Keep {winner}, today's strategy, at a median {cost} a month "
                 f"({cheapest} has the lowest median, {other}, but not by enough "
                 f"for the model to prefer it)."]
    if runner_up not in strategies:
        return parts
    d = strategies[runner_up]["delta_vs_baseline_usd_per_month"]
    lo, mid, hi = read_quantile(d, "p10"), read_quantile(d), read_quantile(d, "p90")
    if all(v is not None and abs(v) < tie_usd(results) for v in (lo, mid, hi)):
        return parts + [f"The runner-up, {runner_up}, costs the same to within "
                        f"{format_usd(tie_usd(results))} a month: on cost alone the two tie."]
    parts.append(f"The runner-up, {runner_up}, would cost a median {format_usd(mid)} a "
                 f"month more (80% interval {format_signed_usd(lo)} to "
                 f"{format_signed_usd(hi)}).")
    if (lo or 0) < 0:
        parts.append("Part of that interval is a saving, so the lead is not certain.")
    return parts


def _switch_sentences(results: dict, winner: str, runner_up: str | None) -> list[str]:
    """The opening when a challenger wins: the saving against today's strategy."""
    w = results["strategies"][winner]
    d = w["delta_vs_baseline_usd_per_month"]
    # a saving is minus the delta, so its p10 comes from the delta's p90
    saving = [-v if v is not None else None
              for v in (read_quantile(d, "p90"), read_quantile(d), read_quantile(d, "p10"))]
    share = _format_share_less(read_quantile(w["delta_vs_baseline_pct"]))
    parts = [f"Switch from {results['baseline']} to {winner}: it saves a median "
             f"{format_usd(saving[1])} a month ({share}) against today's strategy, "
             f"{format_usd(saving[0])} to {format_usd(saving[2])} in 80% of the simulations."]
    if saving[0] is not None and saving[0] < 0:
        parts.append("That interval includes a loss, so the saving is not certain.")
    if runner_up:
        behind = format_usd((results.get("recommendation") or {}).get("saving_usd_per_month"))
        parts.append(f"Next best is {runner_up}, {behind} a month behind on expected "
                     "(mean) cost.")
    return parts


def _consequence_sentences(results: dict, winner: str,
                           refs: dict[str, int] | None = None) -> list[str]:
    """The winner's registry quota, fork and caveat sentences."""
    w = results["strategies"][winner]
    parts = []
    if w.get("months_to_quota") is not None:
        months = read_quantile(w.get("months_to_quota"))
        parts.append(f"With {winner} the registry stays under the quota." if months is None
                     else f"With {winner} the registry reaches the quota in a median "
                          f"{months:.0f} months.")
    fork_min = read_quantile(w.get("fork_compute_minutes_per_month"))
    fork_share = read_quantile(w.get("fork_quota_share"))
    if fork_min is not None and fork_share is not None:
        parts.append(f"Fork pipelines would spend a median {format_significant(fork_min, 2)} "
                     f"container-build minutes a month in all; a fork owner would use "
                     f"{format_share(fork_share)} of a free quota.")
    for note in w.get("notes") or []:
        text, ids = resolve_citation(str(note))
        marks = "".join(f" [{refs[i]}]" for i in ids if refs and i in refs)
        parts.append(f"Caveat: {text}{marks}")
    return parts


def _weighs_phrase(results: dict) -> str:
    """What the totals add up, in words: ``"the project's cash plus ... ."``."""
    weighs = (results.get("recommendation") or {}).get("weighs") or []
    words = {"project_cash": "the project's cash",
             "shadow": "a shadow price on registry storage (a trade-off rate, not a bill)",
             "fork_owners_cash": "fork owners' cash"}
    named = [words.get(w, w) for w in weighs]
    if not named:
        return "as the scenario prices it."
    return "adding up " + (", ".join(named[:-1]) + " and " + named[-1]
                           if len(named) > 1 else named[0]) + "."


def _cash_sentence(results: dict, winner: str) -> list[str]:
    """The project's cash alone, winner against baseline, when a shadow price is weighed."""
    weighs = (results.get("recommendation") or {}).get("weighs") or []
    base = results["baseline"]
    strategies = results["strategies"]
    if "shadow" not in weighs or winner == base:
        return []
    cash_w = read_quantile(strategies[winner].get("project_cash_usd_per_month"))
    cash_b = read_quantile(strategies[base].get("project_cash_usd_per_month"))
    shadow_w = read_quantile(strategies[winner].get("shadow_storage_usd_per_month"))
    shadow_b = read_quantile(strategies[base].get("shadow_storage_usd_per_month"))
    if None in (cash_w, cash_b, shadow_w, shadow_b):
        return []
    if format_usd(shadow_w) == format_usd(shadow_b) == format_usd(0.0):
        return []           # no shadow money either side: the totals are the cash
    return [f"In cash alone the project would pay {format_usd(cash_w)} a month with "
            f"{winner} against {format_usd(cash_b)} with {base}; the rest of the "
            f"comparison is the shadow price on registry storage "
            f"({format_usd(shadow_w)} against {format_usd(shadow_b)} a month), a trade-off "
            "rate GitLab does not bill today."]


def format_recommendation(results: dict, refs: dict[str, int] | None = None) -> str:
    """The recommendation paragraph, generated from the numbers.

    Names the winner against today's strategy (the baseline) with the median
    and 80% interval of the monthly difference, the runner-up, the winner's
    registry and fork consequences and caveats, and what would flip it
    (:func:`flip_sentences`, from the break-evens and the tornado, inputs by
    the names a reader knows). One paragraph, unwrapped; ``refs`` (source id ->
    number) marks the caveats' sources ``[n]``.
    """
    rec = results["recommendation"]
    winner, runner_up = rec["winner"], rec.get("runner_up")
    if winner == results["baseline"]:
        parts = _keep_baseline_sentences(results, winner, runner_up)
    else:
        parts = _switch_sentences(results, winner, runner_up)
    parts += _cash_sentence(results, winner)
    parts += _consequence_sentences(results, winner, refs)
    flips, context = flip_sentences(results)
    if flips:
        parts.append("What would flip it: " + _sentence_join(flips))
    else:
        parts.append("Nothing within the ranges modelled flips it.")
    return _sentence_join(parts + context)


def format_input_value(item: dict) -> str:
    """An input's value for people: its distribution's short form when uncertain."""
    value = item.get("value")
    if isinstance(value, dict | list) and item.get("distribution"):
        return str(item["distribution"])
    return _format_value(value)


def _format_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return format_quantity(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def _input_origin(item: dict) -> tuple[str, list[str]]:
    """Where an input's value comes from, in words, and the sources it cites."""
    source = item.get("source")
    text, ids = resolve_citation(item.get("citation"))
    if source == "data":
        return "measured from the CI history", ids
    if source == "scenario":
        return f"set in the scenario file {text}".rstrip() if text else "set in the scenario", ids
    return (f"default: {text}" if text else "default, no source given"), ids


def key_assumption_items(results: dict, limit: int = KEY_ASSUMPTIONS) -> list[dict]:
    """The key inputs, largest tornado swing first: ``name`` (reader's), ``key``, ``value``
    (with unit), ``origin`` (words) and ``source_ids``."""
    inputs = {i["name"]: i for i in results.get("inputs") or []}
    names: list[str] = []
    for bar in results.get("tornado") or []:
        if bar["input"] in inputs and bar["input"] not in names:
            names.append(bar["input"])
    names += [n for n in inputs if n not in names]
    items = []
    for name in names[:limit]:
        i = inputs[name]
        unit = {"x": " × the measured rate", "share": " (a share)"}.get(
            i.get("unit") or "", f" {i['unit']}" if i.get("unit") else "")
        origin, ids = _input_origin(i)
        items.append({"name": reader_name(name), "key": name,
                      "value": f"{format_input_value(i)}{unit}", "origin": origin,
                      "source_ids": ids})
    return items


def key_assumptions(results: dict, limit: int = KEY_ASSUMPTIONS,
                    refs: dict[str, int] | None = None) -> list[str]:
    """One line per key input, largest tornado swing first:
    ``reader name: value unit (where it comes from) [n]`` with ``[n]`` the numbers of its
    sources in ``refs`` (id -> number) when given."""
    lines = []
    for item in key_assumption_items(results, limit):
        marks = "".join(f" [{refs[s]}]" for s in item["source_ids"] if refs and s in refs)
        lines.append(f"{item['name']}: {item['value']} ({item['origin']}){marks}")
    return lines


def cited_sources(results: dict, limit: int = KEY_ASSUMPTIONS) -> list[Source]:
    """The sources the summary cites (the thread, claims, key assumptions, caveats), first
    cited first."""
    ids: list[str] = [THREAD_SOURCE]
    for row in answers.claim_rows(results):
        ids += [s for s in answers.claim_source_ids(row) if s not in ids]
    for item in key_assumption_items(results, limit):
        ids += [s for s in item["source_ids"] if s not in ids]
    rec = results.get("recommendation") or {}
    winner = results.get("strategies", {}).get(rec.get("winner"), {})
    for note in winner.get("notes") or []:
        ids += [s for s in resolve_citation(str(note))[1] if s not in ids]
    return [SOURCES[s] for s in ids]


def format_method(results: dict) -> str:
    """The one-paragraph method note (unwrapped)."""
    return (
        f"Method: a Monte Carlo model ({results['samples']:,} samples, seed "
        f"{results['seed']}) draws the uncertain inputs (build minutes cached and "
        f"uncached, how often images change, pipelines per month, prices) from the CI "
        f"history and the scenario (image sizes are fixed at what the registry reports), "
        f"and prices each strategy's "
        f"container-build minutes and registry storage per month over "
        f"{results['horizon_months']} months. Figures are medians; ranges are the 10th "
        f"to 90th percentiles. Registry sizes use {registry_accounting(results)} "
        f"accounting."
    )


def report_url(results: dict, base_url: str | None) -> str | None:
    """Where the decision page lives under ``base_url``; None without one."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/{results['scenario']}/{DECISION_PAGE}"


def report_location(results: dict, base_url: str | None) -> str:
    """One sentence naming where the full report is: its URL, or the site's files."""
    url = report_url(results, base_url)
    if url:
        return f"Full report with charts and every assumption: {url}"
    return (f"Full report with charts and every assumption: {results['scenario']}/"
            f"{DECISION_PAGE} in the site that cachecost report writes (open its "
            f"index.html); the same folder has summary.txt, summary.md and results.json.")


# --------------------------------------------------------------------------- the bodies


def _wrap(text: str, indent: str = "") -> list[str]:
    """Wrap to :data:`LINE_WIDTH`; a word longer than a line (a URL) stands whole on its own."""
    return textwrap.wrap(text, LINE_WIDTH, initial_indent=indent,
                         subsequent_indent=" " * len(indent),
                         break_long_words=False, break_on_hyphens=False)


def _synthetic_warning() -> str:
    return ("SYNTHETIC SAMPLE DATA: the CI history behind these numbers is "
            "generated, not measured from any real project. Do not quote them as "
            "QEMU's costs.")


def _data_line(provenance: dict) -> str:
    if provenance.get("is_synthetic"):
        return "Data: synthetic sample."
    return f"Data: {provenance.get('data_source')}, fetched {provenance.get('fetched_at')}."


def data_notes(results: dict) -> list[str]:
    """The model's calibration notes (what it measured and what it had to fill in, e.g.
    images without registry data at a fallback size) as one sentence; [] without any."""
    notes = [str(n).rstrip(". ") for n in
             (results.get("calibration") or {}).get("notes") or [] if str(n).strip()]
    return [f"Data notes: {'; '.join(notes)}."] if notes else []


def _version_line(provenance: dict) -> str:
    commit = provenance.get("git_commit")
    commit_text = f" (git {commit[:12]})" if commit else ""
    return (f"Scenario {provenance.get('scenario')} (sha256 "
            f"{str(provenance.get('scenario_sha256') or '')[:12]}), cachecost "
            f"{provenance.get('cachecost_version')}{commit_text}.")


def is_url_line(line: str) -> bool:
    """True for a line that is one URL alone (allowed past :data:`LINE_WIDTH`, never broken)."""
    word = line.strip()
    return bool(re.fullmatch(r"https?://\S+", word))


def _heading(text: str) -> list[str]:
    return [text, "-" * len(text)]


def _text_sources(sources: list[Source]) -> list[str]:
    lines: list[str] = []
    for n, src in enumerate(sources, 1):
        lines += _wrap(f"{src.title}, {src.date}.", f"[{n}] ")
        lines.append(" " * len(f"[{n}] ") + src.url)
    return lines


def _text_table_part(results: dict) -> list[str]:
    lines = _wrap(f"Per month, medians of {results['samples']:,} simulations over "
                  f"{results['horizon_months']} months:")
    lines += ["", *format_headline_lines(results), ""]
    lines += _wrap(f"{BASELINE_MARK} baseline, today's strategy. CI min/mo: upstream "
                   f"container-build runner minutes a month. reg GiB: registry at the end "
                   f"of the horizon ({registry_accounting(results)}). $/month and vs "
                   f"baseline: the total cost a month, {_weighs_phrase(results)}")
    lines += ["", *_wrap("Total cost a month, 10th / 50th / 90th percentile:"), ""]
    return lines + format_range_lines(results)


def format_summary_text(results: dict, provenance: dict, base_url: str | None) -> str:
    """The mailing-list reply body: plain text, every line <= 72 characters except a
    URL standing alone on its line (never broken).

    Order: the thread's claims checked, the table, the recommendation, what to
    measure next, the method, key assumptions with numbered sources, the
    sources, where the full report is. Deterministic: the same results,
    provenance and URL give the same bytes (the build time is not used).
    """
    is_synthetic = bool(provenance.get("is_synthetic") or results.get("is_synthetic_data"))
    title = provenance.get("scenario_title") or results.get("scenario_title") or ""
    lines = _wrap(f"CI container-image caching: what each strategy costs ({title})")
    lines.append("")
    if is_synthetic:
        lines += [*_wrap(_synthetic_warning(), "*** "), ""]
    sources = cited_sources(results)
    refs = {src.id: n for n, src in enumerate(sources, 1)}
    lines += [*_heading("The thread's claims, checked"), ""]
    lines += [*_wrap(_thread_intro(refs)), ""]
    lines += [*answers.claims_text_lines(results, LINE_WIDTH, refs), ""]
    lines += [*_heading("What each strategy costs"), ""]
    lines += [*_wrap(_data_line(provenance)), *_wrap(_version_line(provenance)), ""]
    for note in data_notes(results):
        lines += [*_wrap(note), ""]
    lines += [*_text_table_part(results), ""]
    lines += [*_wrap(format_recommendation(results, refs)), ""]
    lines += [*_heading("What to measure next"), ""]
    lines += [*answers.measure_next_text_lines(results, LINE_WIDTH), ""]
    lines += _wrap(format_method(results))
    assumptions = key_assumptions(results, refs=refs)
    if assumptions:
        lines += ["", *_wrap("Key assumptions (largest effect first):")]
        for a in assumptions:
            lines += _wrap(a, "- ")
    if sources:
        lines += ["", *_wrap("Sources:"), *_text_sources(sources)]
    lines += ["", *_wrap(report_location(results, base_url))]
    return "\n".join(line_.rstrip() for line_ in lines) + "\n"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _thread_intro(refs: dict[str, int]) -> str:
    return ("The claims of the kaniko thread (Camilla Conte's patch and Daniel P. "
            f"Berrang\u00e9's review of it, qemu-devel, May 2024) [{refs[THREAD_SOURCE]}], in "
            "their own words, checked against the CI history and the cost model below:")


def _md_claims(results: dict) -> list[str]:
    rows = answers.claim_rows(results)
    if not rows:
        return [answers.NO_CLAIMS, ""]
    out = [_md_row(["claim", "verdict", "figure", "hinges on"]), "|---|---|---|---|"]
    out += [_md_row([r["claim"], f"**{r['verdict']}**", r["figure"], r["hinges_on"]])
            for r in rows]
    return out + [""]


def _md_measure_next(results: dict) -> list[str]:
    if "value_of_information" not in results:
        return [answers.NO_VOI, ""]
    rows = answers.measure_next_rows(results)
    if not rows:
        return ["No input is worth measuring for this decision.", ""]
    out = [_md_row(["input", "worth knowing exactly", "how to measure it"]), "|---|--:|---|"]
    return out + [_md_row([r["input"], r["worth"], r["how_to_measure"]]) for r in rows] + [""]


def _md_table(results: dict) -> list[str]:
    out = [_md_row(["strategy", "CI minutes/month", "registry GiB", "cost/month",
                    "vs baseline"]), "|---|--:|--:|--:|--:|"]
    for _, r in tabulate_headline(results).iterrows():
        name = f"{r['strategy']} {BASELINE_MARK}" if r["is_baseline"] else r["strategy"]
        cost = (f"{format_usd(r['total_cost_usd_p50'])} "
                f"({format_usd(r['total_cost_usd_p10'])}–{format_usd(r['total_cost_usd_p90'])})")
        out.append(_md_row([
            f"`{name}`", format_number(r["compute_minutes_p50"]),
            format_number(r["registry_gib_p50"], 1), cost,
            "baseline" if r["is_baseline"] else _delta_cell(r),
        ]))
    return out


def format_summary_markdown(results: dict, provenance: dict, base_url: str | None) -> str:
    """The same summary as Markdown (for an issue or merge-request comment).

    Deterministic like :func:`format_summary_text`; sources are links.
    """
    is_synthetic = bool(provenance.get("is_synthetic") or results.get("is_synthetic_data"))
    title = provenance.get("scenario_title") or results.get("scenario_title") or ""
    out = [f"## CI container-image caching: what each strategy costs ({title})", ""]
    if is_synthetic:
        out += [f"> **{_synthetic_warning()}**", ""]
    sources = cited_sources(results)
    refs = {src.id: n for n, src in enumerate(sources, 1)}
    out += ["### The thread's claims, checked", "", _thread_intro(refs), "",
            *_md_claims(results)]
    out += ["### What each strategy costs", ""]
    out += [_data_line(provenance) + " " + _version_line(provenance), ""]
    out += [note for n in data_notes(results) for note in (n, "")]
    out += [f"Per month, medians with the 10th to 90th percentile, of "
            f"{results['samples']:,} simulations over {results['horizon_months']} months. "
            f"{BASELINE_MARK} marks the baseline, today's strategy.", ""]
    out += _md_table(results)
    out += ["", f"**Recommendation.** {format_recommendation(results, refs)}", ""]
    out += ["### What to measure next", "", *_md_measure_next(results)]
    out += [format_method(results), ""]
    assumptions = key_assumptions(results, refs=refs)
    if assumptions:
        out += ["Key assumptions (largest effect first):", ""]
        out += [f"- {a}" for a in assumptions] + [""]
    if sources:
        out += ["Sources:", ""]
        out += [f"{n}. [{src.title}]({src.url}), {src.date}" for n, src in
                enumerate(sources, 1)] + [""]
    url = report_url(results, base_url)
    out.append(f"Full report with charts and every assumption: [{url}]({url})" if url
               else report_location(results, base_url))
    return "\n".join(out) + "\n"
