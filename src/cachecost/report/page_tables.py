"""The decision page's HTML tables and paragraphs, from the model's results dict.

    headline_table(results)        # an escaped HTML table for the notebook

Tables are ``DataFrame.to_html(escape=True)``; prose from the results is escaped
and its source references become numbered links to :func:`sources_list`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
from IPython.display import HTML

from cachecost.report import answers, summary
from cachecost.report.chartstyle import strategy_label
from cachecost.report.export import NO_THREAD_MARK
from cachecost.report.names import reader_name
from cachecost.report.sources import (
    PAGE_NUMBERS,
    SOURCES,
    format_source_links,
    link_source_marks,
    resolve_citation,
)

# =========================================================================== decision


def render_table(df: pd.DataFrame, *, name: str, numeric_columns: tuple[str, ...] = (),
                 nowrap_columns: tuple[str, ...] = (), wide_columns: tuple[str, ...] = (),
                 is_html: bool = False) -> HTML:
    """An escaped HTML table (every cell and header HTML-escaped) for a notebook.

    ``name`` (a fixed identifier, never user text) scopes the table's CSS;
    ``numeric_columns`` align right, everything else left; ``nowrap_columns``
    never wrap; ``wide_columns`` (prose, paths) get room, then wrap anywhere.
    The class is repeated in the selectors so they outrank JupyterLab's
    ``:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td`` rule (which
    right-aligns every cell) in nbconvert's lab template. ``is_html``: the cells are
    already escaped HTML (built by the caller with :func:`html.escape`).
    """
    css_class = f"cachecost-table-{name}"
    sel = f"table.{css_class}.{css_class}"
    columns = list(df.columns)
    numeric_columns, nowrap_columns, wide_columns = (
        tuple(c for c in group if c in columns)
        for group in (numeric_columns, nowrap_columns, wide_columns))
    rules = [
        f"{sel} {{ border-collapse: collapse; margin: 0.5em 0 1em 0; table-layout: auto; "
        "max-width: 100%; }",
        f"{sel} th, {sel} td {{ padding: 4px 10px; text-align: left; vertical-align: top; "
        "overflow-wrap: break-word; }",
        f"{sel} th {{ border-bottom: 1px solid #888; }}",
    ]
    for c in numeric_columns:
        i = columns.index(c) + 1
        rules.append(f"{sel} td:nth-child({i}), {sel} th:nth-child({i}) "
                     "{ text-align: right; }")
    for c in nowrap_columns:
        rules.append(f"{sel} td:nth-child({columns.index(c) + 1}) {{ white-space: nowrap; }}")
    for c in wide_columns:
        rules.append(f"{sel} td:nth-child({columns.index(c) + 1}) {{ min-width: 8em; "
                     "overflow-wrap: anywhere; }")
    table = df.to_html(index=False, escape=not is_html, border=0, classes=css_class,
                       na_rep="-")
    return HTML(  # type: ignore[no-untyped-call]
        "<style>\n" + "\n".join(rules) + "\n</style>\n" + table)


def _range_cell(mean: Any, p10: Any, p90: Any, fmt: Callable[[Any], str]) -> str:
    return f"{fmt(mean)} ({fmt(p10)} – {fmt(p90)})"


def format_headline_frame(results: dict[str, Any]) -> pd.DataFrame:
    """The headline table as display strings: one row per strategy, baseline first; each
    figure the expected (mean) value with its p10 – p90 in brackets."""
    t = summary.tabulate_headline(results)
    num0 = summary.format_number

    def num1(x: Any) -> str:
        return summary.format_number(x, 1)

    rows = []
    for _, r in t.iterrows():
        delta = (f"baseline {summary.BASELINE_MARK}" if r["is_baseline"] else
                 f"{summary.format_signed_usd(r['delta_usd_mean'])} "
                 f"({summary.format_signed_usd(r['delta_usd_p10'])} – "
                 f"{summary.format_signed_usd(r['delta_usd_p90'])})")
        rows.append({
            "strategy": strategy_label(r["strategy"], results),
            "what it is": r["title"],
            "CI minutes / month": _range_cell(r["compute_minutes_mean"], r["compute_minutes_p10"],
                                              r["compute_minutes_p90"], num0),
            f"registry GiB at month {results['horizon_months']}":
                _range_cell(r["registry_gib_mean"], r["registry_gib_p10"],
                            r["registry_gib_p90"], num1),
            "total cost USD / month": _range_cell(r["total_cost_usd_mean"],
                                                  r["total_cost_usd_p10"],
                                                  r["total_cost_usd_p90"], summary.format_usd),
            "Δ vs baseline USD / month": delta,
            "Δ %": "" if r["is_baseline"] else summary.format_pct(r["delta_pct_mean"]),
        })
    return pd.DataFrame(rows)


def _two_line(mean: Any, p10: Any, p90: Any, fmt: Callable[[Any], str]) -> str:
    """Escaped HTML: the expected (mean) value, and the p10–p90 range small below it."""
    return (f"{html.escape(fmt(mean))}<br><small class=\"cachecost-range\">"
            f"{html.escape(fmt(p10))} – {html.escape(fmt(p90))}</small>")


def headline_table(results: dict[str, Any]) -> HTML:
    """Per strategy (baseline first, then by cost): expected (mean) minutes, registry GiB,
    cost and Δ vs the baseline, each with its p10 – p90 below; the strategy's title under
    its name. Five columns, so it fits an 800 px window."""
    t = summary.tabulate_headline(results)

    def num1(x: Any) -> str:
        return summary.format_number(x, 1)

    rows = []
    for _, r in t.iterrows():
        name = html.escape(strategy_label(r["strategy"], results))
        delta = ("baseline" if r["is_baseline"] else
                 f"{html.escape(summary.format_signed_usd(r['delta_usd_mean']))} "
                 f"({html.escape(summary.format_pct(r['delta_pct_mean']))})<br>"
                 f"<small class=\"cachecost-range\">"
                 f"{html.escape(summary.format_signed_usd(r['delta_usd_p10']))} – "
                 f"{html.escape(summary.format_signed_usd(r['delta_usd_p90']))}</small>")
        rows.append({
            "strategy": f"<strong>{name}</strong><br><small>{html.escape(str(r['title']))}"
                        "</small>",
            "CI minutes a month": _two_line(r["compute_minutes_mean"], r["compute_minutes_p10"],
                                            r["compute_minutes_p90"], summary.format_number),
            f"registry GiB, month {results['horizon_months']}":
                _two_line(r["registry_gib_mean"], r["registry_gib_p10"], r["registry_gib_p90"],
                          num1),
            "total USD a month": _two_line(r["total_cost_usd_mean"], r["total_cost_usd_p10"],
                                           r["total_cost_usd_p90"], summary.format_usd),
            "vs baseline, USD a month": delta,
        })
    frame = pd.DataFrame(rows)
    table = render_table(frame, name="headline", numeric_columns=tuple(frame.columns[1:]),
                         wide_columns=("strategy",), is_html=True)
    # what the model had to fill in (e.g. images with no registry data at a fallback
    # size), as the summaries say it: escaped, names come from the data
    notes = "".join(f'<p class="cachecost-data-notes">{html.escape(n)}</p>'
                    for n in summary.data_notes(results))
    return HTML(table.data + notes) if notes else table  # type: ignore[no-untyped-call]


#: The number each source has on the decision page (its place in the sources list).
SOURCE_NUMBERS = PAGE_NUMBERS
_source_links = format_source_links
_link_refs = link_source_marks


def recommendation_paragraph(results: dict[str, Any]) -> HTML:
    """The generated recommendation (:func:`summary.format_recommendation`), escaped, its
    caveats' sources linked to the page's sources list."""
    text = _link_refs(html.escape(summary.format_recommendation(results, SOURCE_NUMBERS)))
    return HTML(  # type: ignore[no-untyped-call]
        f'<p class="cachecost-recommendation"><strong>Recommendation.</strong> {text}</p>')


class NoThread:
    """What :func:`claims_table` shows for results that check no thread: nothing, with the
    output metadata by which the page's export leaves out the thread's cells
    (:func:`cachecost.report.export.select_thread_cells`)."""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None
                          ) -> tuple[dict[str, str], dict[str, bool]]:
        return {"text/plain": ""}, {NO_THREAD_MARK: True}


def claims_table(results: dict[str, Any]) -> HTML | NoThread:
    """The thread's claims, checked: the claim, the verdict (in bold, with its sentence),
    the figures, what it hinges on and links to the sources its words name; one escaped
    sentence when the results predate the claim checks; :class:`NoThread` when the
    scenario checks no thread (``thread: none``)."""
    if not answers.has_thread(results):
        return NoThread()
    rows = answers.claim_rows(results)
    if not rows:
        return HTML(  # type: ignore[no-untyped-call]
            f'<p class="cachecost-claims cachecost-missing">{html.escape(answers.NO_CLAIMS)}</p>')
    shown = []
    for r in rows:
        sentence = r["sentence"]
        if sentence.lower().startswith(r["verdict"].lower()):
            sentence = sentence[len(r["verdict"]):].lstrip(" :,.")
        shown.append({
            "claim (qemu-devel, May 2024)": html.escape(r["claim"]),
            "verdict": f'<strong class="cachecost-verdict">{html.escape(r["verdict"])}'
                       f"</strong>" + (f"<br>{html.escape(sentence)}" if sentence else ""),
            "figures": html.escape(r["figure"]),
            "hinges on": html.escape(r["hinges_on"])
                         + _source_links(answers.claim_source_ids(r)),
        })
    frame = pd.DataFrame(shown)
    table = render_table(frame, name="claims", is_html=True,
                         wide_columns=tuple(frame.columns))
    return HTML(  # type: ignore[no-untyped-call]
        f'<div class="cachecost-claims">{table.data}</div>')


#: Rows of the what-to-measure table when few inputs are worth measuring.
MEASURE_NEXT_ROWS = 5


def measure_next_table(results: dict[str, Any]) -> HTML:
    """What to measure next: what knowing every input would be worth (EVPI), then each
    input's expected value of perfect information (USD a month, largest first) and how
    to measure it; a sentence when the results lack it."""
    if "value_of_information" not in results:
        return HTML(  # type: ignore[no-untyped-call]
            f'<p class="cachecost-missing">{html.escape(answers.NO_VOI)}</p>')
    overall = answers.overall_value_sentence(results)
    head = f"<p>{html.escape(overall)}</p>" if overall else ""
    rows = answers.measure_next_rows(results)
    if not rows:
        return HTML(  # type: ignore[no-untyped-call]
            head + "<p>No input is worth measuring for this decision.</p>")
    worth = sum(1 for r in rows if r["worth_usd"] and
                float(r["worth_usd"]) >= answers.VOI_NEGLIGIBLE_USD)
    shown, rest = rows[:max(worth, MEASURE_NEXT_ROWS)], rows[max(worth, MEASURE_NEXT_ROWS):]
    frame = pd.DataFrame([{"input": r["input"], "worth knowing exactly": r["worth"],
                           "how to measure it": r["how_to_measure"]} for r in shown])
    table = render_table(frame, name="measure-next",
                         numeric_columns=("worth knowing exactly",),
                         nowrap_columns=("worth knowing exactly",),
                         wide_columns=("input", "how to measure it"))
    tail = (f"<p>{len(rest)} more inputs, each worth under "
            f"${answers.VOI_NEGLIGIBLE_USD:g} a month to know exactly.</p>" if rest else "")
    return HTML(head + table.data + tail)  # type: ignore[no-untyped-call]


def page_source_ids(results: dict[str, Any]) -> set[str]:
    """The ids of the sources the decision page cites: in the recommendation, the claims
    table and the assumptions table (the same text those builders render)."""
    text = summary.format_recommendation(results, SOURCE_NUMBERS)
    by_number = {n: sid for sid, n in SOURCE_NUMBERS.items()}
    ids = {by_number[int(n)] for n in re.findall(r" \[(\d+)\]", text)
           if int(n) in by_number}
    for row in answers.claim_rows(results):
        ids.update(answers.claim_source_ids(row))
    for source_ids in format_assumptions_frame(results)["source_ids"]:
        ids.update(source_ids)
    return ids


def sources_list(results: dict[str, Any] | None = None) -> HTML:
    """The sources the page cites, numbered as every page numbers them, with their addresses.

    With ``results``, only the sources :func:`page_source_ids` finds (a source listed
    but cited nowhere on the page is left out; the numbers keep their gaps, so ``[7]``
    means the same source on every page); without, every source of the project.
    """
    wanted = set(SOURCES) if results is None else page_source_ids(results)
    items = "".join(
        f'<li id="src-{html.escape(s.id)}" value="{SOURCE_NUMBERS[s.id]}">'
        f"{html.escape(s.title)}, {html.escape(s.date)}. "
        f'<a href="{html.escape(s.url)}">{html.escape(s.url)}</a></li>'
        for s in SOURCES.values() if s.id in wanted)
    if not items:
        return HTML(  # type: ignore[no-untyped-call]
            '<p class="cachecost-sources">No public source is cited on this page.</p>')
    return HTML(  # type: ignore[no-untyped-call]
        f'<ol class="cachecost-sources" style="overflow-wrap: anywhere;">{items}</ol>')


#: Inputs named ``<PER_IMAGE_PREFIX><image>.<measure>`` are per-image calibrations.
PER_IMAGE_PREFIX = "data.image."


def _split_per_image(name: str) -> tuple[str, str] | None:
    """``data.image.debian.cached_build_min -> ('debian', 'cached_build_min')``."""
    if not name.startswith(PER_IMAGE_PREFIX):
        return None
    image, _, measure = name[len(PER_IMAGE_PREFIX):].rpartition(".")
    return (image, measure) if image and measure else None


_SOURCE_WORDS = {"data": "measured", "scenario": "scenario file", "default": "default"}


def format_assumptions_frame(results: dict[str, Any]) -> pd.DataFrame:
    """Every model input except the per-image calibrations, as display strings: what a
    reader calls it (its key below), value (its distribution when uncertain) with unit,
    where it comes from, and the citation with any path outside the project removed."""
    rows = []
    for i in results.get("inputs") or []:
        if _split_per_image(str(i.get("name"))) is not None:
            continue
        value = summary.format_input_value(i)
        unit = i.get("unit") or ""
        rows.append({
            "input": reader_name(str(i.get("name"))),
            "key": str(i.get("name")),
            "value": f"{value} {unit}".strip() if value not in ("none", "-") else "none",
            "from": _SOURCE_WORDS.get(str(i.get("source")), str(i.get("source") or "")),
            "citation": resolve_citation(i.get("citation"))[0],
            "source_ids": resolve_citation(i.get("citation"))[1],
            "meaning": re.sub(r"\bnull\b", "unset", str(i.get("doc") or "")),
        })
    columns = ["input", "key", "value", "from", "citation", "source_ids", "meaning"]
    return pd.DataFrame(rows, columns=columns)


def per_image_header(measure: str, unit: str | None) -> str:
    """A per-image column header with its unit said once: ``builds_per_month`` ->
    ``"builds a month"``, ``cached_build_min`` (minutes) -> ``"cached build (minutes)"``,
    ``size_gib`` (GiB) -> ``"size (GiB)"``."""
    unit = unit or ""
    if measure.endswith("_per_month") and unit.endswith("/month"):
        return measure[: -len("_per_month")].replace("_", " ") + " a month"
    for suffix, units in (("_min", ("minutes", "min")), ("_gib", ("GiB",)),
                          ("_bytes", ("bytes", "B")), ("_s", ("s", "seconds"))):
        if measure.endswith(suffix) and unit in units:
            return f"{measure[: -len(suffix)].replace('_', ' ')} ({unit})"
    words = measure.replace("_", " ")
    return f"{words} ({unit})" if unit and unit not in words else words


def format_per_image_frame(results: dict[str, Any]) -> pd.DataFrame:
    """The per-image inputs calibrated from the data: one row per image, one column per
    measure (its unit in the header)."""
    cells: dict[str, dict[str, str]] = {}
    headers: dict[str, str] = {}
    for i in results.get("inputs") or []:
        split = _split_per_image(str(i.get("name")))
        if split is None:
            continue
        image, measure = split
        headers.setdefault(measure, per_image_header(measure, i.get("unit")))
        value = summary.format_input_value(i)
        cells.setdefault(image, {})[headers[measure]] = "-" if value == "none" else value
    frame = pd.DataFrame([{"image": k, **v} for k, v in sorted(cells.items())],
                         columns=["image", *headers.values()])
    return frame.fillna("-")


def _assumption_cell(row: pd.Series) -> tuple[str, str]:
    """(input cell, source cell) as HTML: the reader's name over the key; the citation
    with ``[n]`` links to the sources list."""
    name = (f"{html.escape(row['input'])}<br><code style=\"font-size: 85%\">"
            f"{html.escape(row['key'])}</code>")
    meaning = f"<br><small>{html.escape(row['meaning'])}</small>" if row["meaning"] else ""
    source = html.escape(row["from"]) + (f": {html.escape(row['citation'])}"
                                         if row["citation"] else "")
    return name + meaning, source + _source_links(list(row["source_ids"]))


def assumptions_table(results: dict[str, Any]) -> HTML:
    """The assumptions table: every input with where it comes from (data, scenario or
    default) and its citation linked to the sources list, then the per-image figures
    calibrated from the data."""
    frame = format_assumptions_frame(results)
    cells = [_assumption_cell(row) for _, row in frame.iterrows()]
    shown = pd.DataFrame({"input": [c[0] for c in cells], "value": frame["value"],
                          "source": [c[1] for c in cells]})
    styled = render_table(shown, name="assumptions", wide_columns=("input", "value", "source"),
                          is_html=True)
    per_image = format_per_image_frame(results)
    if per_image.empty:
        return styled
    images = render_table(per_image, name="per-image",
                          numeric_columns=tuple(per_image.columns[1:]), nowrap_columns=("image",))
    return HTML(  # type: ignore[no-untyped-call]
        styled.data + "<p>Per image, calibrated from the CI history (source: data; "
        "the method is in <code>cachecost.model.calibrate</code>):</p>"
        '<div style="overflow-x: auto;">' + images.data + "</div>")


