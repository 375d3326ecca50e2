"""Plotly figures and HTML tables for the report notebooks, one builder per chart.

History builders (``plot_pipelines_per_month`` ...) take the tidy frames of
:mod:`cachecost.report.history`; decision builders (``plot_cost_by_component`` ...)
and tables (``headline_table`` ...) take the model's results dict
(briefs/model-contract.md). Every figure has the same look, a title and
axis titles with units, and draws from precomputed summaries (quantiles, not
raw jobs) so a page stays small and readable offline.

    fig = plot_build_durations(history.summarize_build_durations(ds))
    headline_table(results)       # an escaped HTML table for the notebook

User-supplied text (image, repository and source names) goes through
:func:`label`, which HTML-escapes it: plotly renders a small HTML subset in
labels and decodes entities, so an escaped ``<b>`` shows as text. Tables are
``DataFrame.to_html(escape=True)``.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from IPython.display import HTML
from plotly.subplots import make_subplots

from cachecost.report import answers, summary
from cachecost.report.names import format_amount, reader_name
from cachecost.report.sources import (
    PAGE_NUMBERS,
    SOURCES,
    format_source_links,
    link_source_marks,
    resolve_citation,
)
from cachecost.report.summary import read_quantile

GIB = 1024**3
FONT = "DejaVu Sans, Arial, sans-serif"
#: One colour per strategy, the same on every chart.
STRATEGY_COLORS = {
    "dind-inline-cache": "#1f77b4",
    "kaniko-cache-repo": "#d62728",
    "no-cache": "#7f7f7f",
    "rebuild-on-change": "#2ca02c",
    "buildkit-registry-cache-min": "#9467bd",
    "buildkit-registry-cache-max": "#ff7f0e",
}
_FALLBACK_COLORS = ("#8c564b", "#e377c2", "#bcbd22", "#17becf")
#: Colours of categories that are not strategies.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
#: Bars shown on the tornado (largest swings).
TORNADO_BARS = 15
#: Tornado bars smaller than this share of the largest swing are not drawn.
TORNADO_MIN_SHARE = 0.02
COMPONENT_LABELS = {
    "compute": "upstream compute",
    "fork_compute": "fork compute (fork owners pay)",
    "storage": "registry storage",
}


def label(text: Any) -> str:
    """Escape user-supplied text for a plotly label (shown literally, never as HTML)."""
    return html.escape("" if text is None or (isinstance(text, float) and math.isnan(text))
                       else str(text), quote=True)


def strategy_color(name: str, results: dict | None = None) -> str:
    """The fixed colour of a strategy; unknown names get a fallback colour by their rank."""
    if name in STRATEGY_COLORS:
        return STRATEGY_COLORS[name]
    unknown = sorted(n for n in (results or {}).get("strategies", {}) if n not in STRATEGY_COLORS)
    rank = unknown.index(name) if name in unknown else 0
    return _FALLBACK_COLORS[rank % len(_FALLBACK_COLORS)]


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


#: Titles longer than this put their bracketed part on a smaller second line (800 px fit).
TITLE_CHARS = 55


def title_lines(title: str) -> str:
    """``"Main (details)"`` -> ``"Main<br><sup>(details)</sup>"`` when longer than
    :data:`TITLE_CHARS`, so a chart's title fits an 800 px window."""
    if len(title) <= TITLE_CHARS or " (" not in title:
        return title
    head, _, rest = title.partition(" (")
    return f"{head}<br><sup>({rest}</sup>"


def style_figure(fig: go.Figure, title: str, x_title: str, y_title: str, *,
                 height: int = 450) -> go.Figure:
    """Apply the report's common look: white template, title (details on a second line
    when long), axis titles, legend on top."""
    fig.update_layout(
        template="plotly_white",
        title={"text": title_lines(title), "x": 0.0, "xanchor": "left", "y": 1.0,
               "yref": "container", "yanchor": "top", "pad": {"t": 14}},
        font={"family": FONT, "size": 13},
        height=height + 30,
        margin={"l": 60, "r": 30, "t": 120 if "<br>" in title_lines(title) else 95, "b": 60},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0,
                "traceorder": "normal"},
    )
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def _strategy_label(name: str, results: dict) -> str:
    """A strategy's name for tables (escaped later) and charts, ``(*)`` on the baseline."""
    return f"{name} {summary.BASELINE_MARK}" if name == results.get("baseline") else name


def _chart_strategy_label(name: str, results: dict) -> str:
    return label(_strategy_label(name, results))


# =========================================================================== history


def plot_pipelines_per_month(df: pd.DataFrame) -> go.Figure:
    """Stacked bars: pipelines per month by source (:func:`history.count_pipelines_per_month`)."""
    fig = go.Figure()
    for i, (source, part) in enumerate(df.groupby("source", sort=True)):
        fig.add_bar(x=part["month"].tolist(), y=part["pipelines"].tolist(), name=label(source),
                    marker_color=PALETTE[i % len(PALETTE)])
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    return style_figure(fig, "Pipelines per month by source", "month (UTC)",
                        "pipelines per month")


def _precomputed_box(fig: go.Figure, part: pd.DataFrame, *, name: str, color: str,
                     categories: list[str], **kwargs: Any) -> None:
    """A horizontal box from quantiles: box p25-p75, line p50, whiskers p10-p90."""
    fig.add_trace(go.Box(
        y=categories, q1=part["p25"].tolist(), median=part["p50"].tolist(),
        q3=part["p75"].tolist(), lowerfence=part["p10"].tolist(),
        upperfence=part["p90"].tolist(), name=name, orientation="h",
        marker_color=color, boxpoints=False, **kwargs,
    ))


def plot_build_durations(df: pd.DataFrame) -> go.Figure:
    """Container-build minutes per image, cached vs uncached (box p25-p75, whiskers p10-p90).

    Takes :func:`history.summarize_build_durations`.
    """
    fig = go.Figure()
    for build, color in (("cached", PALETTE[0]), ("uncached", PALETTE[3])):
        part = df[df["build"] == build]
        if part.empty:
            continue
        _precomputed_box(fig, part, name=build, color=color,
                         categories=[label(i) for i in part["image"]],
                         hovertext=[f"{n} builds" for n in part["jobs"]])
    images = sorted(df["image"].unique())
    fig.update_layout(boxmode="group")
    fig.update_yaxes(categoryorder="array", categoryarray=[label(i) for i in images][::-1])
    return style_figure(
        fig, "Container-build time per image, cached vs uncached "
        "(box: p25–p75, whiskers: p10–p90)", "build time (minutes)", "image",
        height=max(450, 28 * len(images) + 150))


#: Outcomes that mean a build was not (fully) served from cache.
NOT_CACHED_OUTCOMES = ("partial", "miss", "uncached")


def plot_cache_outcome_rate(df: pd.DataFrame) -> go.Figure:
    """Weekly share of container builds NOT served from cache, per basis.

    Takes :func:`history.compute_cache_outcome_rate`: the share of ``partial``
    plus ``miss`` among sampled logs, and of ``uncached`` among all builds
    classified (log or duration split). A week with builds but none uncached
    shows 0. The sampled-logs line is drawn only for the weeks whose logs were
    sampled: a week without any breaks the line instead of bridging it.
    """
    fig = go.Figure()
    styles = {"sampled logs": ("lines+markers", "dot", PALETTE[3]),
              "inferred": ("lines", "solid", PALETTE[0])}
    all_weeks = sorted(df["week"].unique()) if not df.empty else []
    for basis, part in df.groupby("basis", sort=True):
        weeks = part.groupby("week")
        jobs = weeks["jobs"].sum()
        not_cached = part[part["outcome"].isin(NOT_CACHED_OUTCOMES)].groupby("week")["share"]
        share = (not_cached.sum().reindex(jobs.index, fill_value=0.0) * 100).round(2)
        share = share.reindex(all_weeks)          # NaN: no build of this basis that week
        counts = jobs.reindex(all_weeks)
        mode, dash, color = styles.get(str(basis), ("lines", "dash", PALETTE[5]))
        fig.add_scatter(
            x=[pd.Timestamp(w).strftime("%Y-%m-%d") for w in all_weeks],
            y=[None if pd.isna(v) else float(v) for v in share],
            name=f"{label(basis)} ({int(jobs.sum()):,} builds)", mode=mode,
            line={"dash": dash, "color": color}, connectgaps=False,
            customdata=[None if pd.isna(v) else int(v) for v in counts],
            hovertemplate="week of %{x}: %{y:.1f}% of %{customdata} builds<extra></extra>",
        )
    fig.update_yaxes(rangemode="tozero")
    return style_figure(fig, "Container builds not served from cache, per week "
                        "(partial or full rebuilds)", "week (UTC, Monday)",
                        "share of the week's builds (%)")


def plot_queue_times(df: pd.DataFrame) -> go.Figure:
    """Time waiting for a runner per level (box p25-p75, whiskers p10-p90; log axis).

    Takes :func:`history.summarize_queue_times`.
    """
    fig = go.Figure()
    for i, (_, row) in enumerate(df.iterrows()):
        _precomputed_box(fig, pd.DataFrame([row]), name=label(row["level"]),
                         color=PALETTE[i % len(PALETTE)], categories=[label(row["level"])])
    fig.update_xaxes(type="log", tickvals=[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000,
                                           5000, 10000, 20000, 50000])
    fig.update_yaxes(categoryorder="array",
                     categoryarray=[label(x) for x in df["level"]][::-1])
    fig.update_layout(showlegend=False)
    return style_figure(fig, "Queue time before a runner starts (box: p25–p75, "
                        "whiskers: p10–p90)", "queued time (seconds, log scale)", "",
                        height=350)


def plot_registry_size(df: pd.DataFrame) -> go.Figure:
    """Registry GiB per repository: sum of tag sizes vs deduplicated size where known.

    Takes :func:`history.summarize_registry_size`.
    """
    names = [label(r) + (" (cache)" if c else "")
             for r, c in zip(df["repository"], df["is_cache_repository"], strict=True)]
    fig = go.Figure()
    fig.add_bar(y=names, x=(df["tag_sum_bytes"] / GIB).round(3).tolist(), orientation="h",
                name="sum of tag sizes", marker_color=PALETTE[0],
                customdata=df["tags"].tolist(),
                hovertemplate="%{y}: %{x:.2f} GiB in %{customdata} tags<extra></extra>")
    if df["dedup_bytes"].notna().any():
        fig.add_bar(y=names, x=(df["dedup_bytes"] / GIB).round(3).tolist(), orientation="h",
                    name="deduplicated (server figure)", marker_color=PALETTE[1])
    fig.update_layout(barmode="group")
    fig.update_yaxes(autorange="reversed")
    return style_figure(fig, "Container registry size per repository", "size (GiB)",
                        "repository", height=max(450, 26 * len(df) + 150))


def plot_billed_build_minutes(df: pd.DataFrame) -> go.Figure:
    """Stacked bars: container-build runner minutes per month, retried attempts included.

    Takes :func:`history.sum_billed_build_minutes`.
    """
    fig = go.Figure()
    for attempt, color in (("final attempt", PALETTE[0]), ("retried attempt", PALETTE[3])):
        part = df[df["attempt"] == attempt]
        if not part.empty:
            fig.add_bar(x=part["month"].tolist(), y=part["minutes"].round(1).tolist(),
                        name=attempt, marker_color=color)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    return style_figure(fig, "Billed container-build minutes per month", "month (UTC)",
                        "runner minutes per month")


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
    return HTML("<style>\n" + "\n".join(rules) + "\n</style>\n" + table)


def _range_cell(p50: Any, p10: Any, p90: Any, fmt) -> str:
    return f"{fmt(p50)} ({fmt(p10)} – {fmt(p90)})"


def format_headline_frame(results: dict) -> pd.DataFrame:
    """The headline table as display strings: one row per strategy, baseline first."""
    t = summary.tabulate_headline(results)
    num0 = summary.format_number

    def num1(x):
        return summary.format_number(x, 1)

    rows = []
    for _, r in t.iterrows():
        delta = (f"baseline {summary.BASELINE_MARK}" if r["is_baseline"] else
                 f"{summary.format_signed_usd(r['delta_usd_p50'])} "
                 f"({summary.format_signed_usd(r['delta_usd_p10'])} – "
                 f"{summary.format_signed_usd(r['delta_usd_p90'])})")
        rows.append({
            "strategy": _strategy_label(r["strategy"], results),
            "what it is": r["title"],
            "CI minutes / month": _range_cell(r["compute_minutes_p50"], r["compute_minutes_p10"],
                                              r["compute_minutes_p90"], num0),
            f"registry GiB at month {results['horizon_months']}":
                _range_cell(r["registry_gib_p50"], r["registry_gib_p10"],
                            r["registry_gib_p90"], num1),
            "total cost USD / month": _range_cell(r["total_cost_usd_p50"],
                                                  r["total_cost_usd_p10"],
                                                  r["total_cost_usd_p90"], summary.format_usd),
            "Δ vs baseline USD / month": delta,
            "Δ %": "" if r["is_baseline"] else summary.format_pct(r["delta_pct_p50"]),
        })
    return pd.DataFrame(rows)


def _two_line(p50: Any, p10: Any, p90: Any, fmt: Any) -> str:
    """Escaped HTML: the median, and the p10–p90 range small below it."""
    return (f"{html.escape(fmt(p50))}<br><small class=\"cachecost-range\">"
            f"{html.escape(fmt(p10))} – {html.escape(fmt(p90))}</small>")


def headline_table(results: dict) -> HTML:
    """Per strategy (baseline first, then by cost): median minutes, registry GiB, cost and
    Δ vs the baseline, each with its p10 – p90 below; the strategy's title under its
    name. Five columns, so it fits an 800 px window."""
    t = summary.tabulate_headline(results)

    def num1(x: Any) -> str:
        return summary.format_number(x, 1)

    rows = []
    for _, r in t.iterrows():
        name = html.escape(_strategy_label(r["strategy"], results))
        delta = ("baseline" if r["is_baseline"] else
                 f"{html.escape(summary.format_signed_usd(r['delta_usd_p50']))} "
                 f"({html.escape(summary.format_pct(r['delta_pct_p50']))})<br>"
                 f"<small class=\"cachecost-range\">"
                 f"{html.escape(summary.format_signed_usd(r['delta_usd_p10']))} – "
                 f"{html.escape(summary.format_signed_usd(r['delta_usd_p90']))}</small>")
        rows.append({
            "strategy": f"<strong>{name}</strong><br><small>{html.escape(str(r['title']))}"
                        "</small>",
            "CI minutes a month": _two_line(r["compute_minutes_p50"], r["compute_minutes_p10"],
                                            r["compute_minutes_p90"], summary.format_number),
            f"registry GiB, month {results['horizon_months']}":
                _two_line(r["registry_gib_p50"], r["registry_gib_p10"], r["registry_gib_p90"],
                          num1),
            "total USD a month": _two_line(r["total_cost_usd_p50"], r["total_cost_usd_p10"],
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
    return HTML(table.data + notes) if notes else table


#: The number each source has on the decision page (its place in the sources list).
SOURCE_NUMBERS = PAGE_NUMBERS
_source_links = format_source_links
_link_refs = link_source_marks


def recommendation_paragraph(results: dict) -> HTML:
    """The generated recommendation (:func:`summary.format_recommendation`), escaped, its
    caveats' sources linked to the page's sources list."""
    text = _link_refs(html.escape(summary.format_recommendation(results, SOURCE_NUMBERS)))
    return HTML(f'<p class="cachecost-recommendation"><strong>Recommendation.</strong> '
                f"{text}</p>")


def claims_table(results: dict) -> HTML:
    """The thread's claims, checked: the claim, the verdict (in bold, with its sentence),
    the figures, what it hinges on and links to the sources its words name; one escaped
    sentence when the results predate the claim checks."""
    rows = answers.claim_rows(results)
    if not rows:
        return HTML(f'<p class="cachecost-claims cachecost-missing">'
                    f"{html.escape(answers.NO_CLAIMS)}</p>")
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
    return HTML(f'<div class="cachecost-claims">{table.data}</div>')


#: Rows of the what-to-measure table when few inputs are worth measuring.
MEASURE_NEXT_ROWS = 5


def measure_next_table(results: dict) -> HTML:
    """What to measure next: what knowing every input would be worth (EVPI), then each
    input's expected value of perfect information (USD a month, largest first) and how
    to measure it; a sentence when the results lack it."""
    if "value_of_information" not in results:
        return HTML(f'<p class="cachecost-missing">{html.escape(answers.NO_VOI)}</p>')
    overall = answers.overall_value_sentence(results)
    head = f"<p>{html.escape(overall)}</p>" if overall else ""
    rows = answers.measure_next_rows(results)
    if not rows:
        return HTML(head + "<p>No input is worth measuring for this decision.</p>")
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
    return HTML(head + table.data + tail)


def sources_list(results: dict | None = None) -> HTML:
    """The project's sources, numbered as the page cites them, each with its public address.

    ``results`` is accepted for symmetry with the other builders; the list is the
    project's (:data:`cachecost.report.sources.SOURCES`), so a number means the
    same source on every page.
    """
    items = "".join(
        f'<li id="src-{html.escape(s.id)}" value="{SOURCE_NUMBERS[s.id]}">'
        f"{html.escape(s.title)}, {html.escape(s.date)}. "
        f'<a href="{html.escape(s.url)}">{html.escape(s.url)}</a></li>'
        for s in SOURCES.values())
    return HTML('<ol class="cachecost-sources" style="overflow-wrap: anywhere;">'
                f"{items}</ol>")


#: Inputs named ``<PER_IMAGE_PREFIX><image>.<measure>`` are per-image calibrations.
PER_IMAGE_PREFIX = "data.image."


def _split_per_image(name: str) -> tuple[str, str] | None:
    """``data.image.debian.cached_build_min -> ('debian', 'cached_build_min')``."""
    if not name.startswith(PER_IMAGE_PREFIX):
        return None
    image, _, measure = name[len(PER_IMAGE_PREFIX):].rpartition(".")
    return (image, measure) if image and measure else None


_SOURCE_WORDS = {"data": "measured", "scenario": "scenario file", "default": "default"}


def format_assumptions_frame(results: dict) -> pd.DataFrame:
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


def format_per_image_frame(results: dict) -> pd.DataFrame:
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


def assumptions_table(results: dict) -> HTML:
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
    return HTML(styled.data + "<p>Per image, calibrated from the CI history (source: data; "
                "the method is in <code>cachecost.model.calibrate</code>):</p>"
                '<div style="overflow-x: auto;">' + images.data + "</div>")


def plot_cost_by_component(results: dict) -> go.Figure:
    """Stacked bars per strategy: median monthly cost by component (USD/month)."""
    names = summary.order_strategies(results)
    x = [_chart_strategy_label(n, results) for n in names]
    fig = go.Figure()
    for i, (key, text) in enumerate(COMPONENT_LABELS.items()):
        y = [float(results["strategies"][n]["cost_components_usd_per_month"].get(key) or 0.0)
             for n in names]
        fig.add_bar(x=x, y=y, name=text, marker_color=PALETTE[[0, 1, 4][i]],
                    hovertemplate="%{x}: $%{y:,.0f}/month<extra>" + text + "</extra>")
    fig.update_layout(barmode="stack")
    return style_figure(fig, f"Monthly cost by component (medians; {summary.BASELINE_MARK} = baseline)",
                        "strategy", "cost (USD per month)")


#: Columns of the storage small multiples (two fit an 800 px window).
STORAGE_COLUMNS = 2


def _storage_panel(fig: go.Figure, months: list, series: dict, color: str, name: str,
                   row: int, col: int) -> None:
    """One strategy's registry GiB: p10–p90 band and median line."""
    fig.add_scatter(x=months, y=series["p90"], mode="lines", line={"width": 0},
                    showlegend=False, hoverinfo="skip", row=row, col=col)
    fig.add_scatter(x=months, y=series["p10"], mode="lines", line={"width": 0},
                    fill="tonexty", fillcolor=_rgba(color, 0.2), showlegend=False,
                    hoverinfo="skip", row=row, col=col)
    fig.add_scatter(x=months, y=series["p50"], mode="lines", line={"color": color, "width": 2},
                    showlegend=False, row=row, col=col,
                    hovertemplate="month %{x}: %{y:,.1f} GiB<extra>" + name + "</extra>")


def plot_registry_storage(results: dict) -> go.Figure:
    """Registry GiB month by month, one small panel per strategy (same scales): the median
    line, the p10–p90 band and the quota as a dotted line. The cleanup what-if is its own
    chart (:func:`plot_registry_storage_cleanup`)."""
    soh = results["storage_over_horizon"]
    months = list(soh["months"])
    names = [n for n in summary.order_strategies(results) if soh["strategies"].get(n)]
    rows = max(1, math.ceil(len(names) / STORAGE_COLUMNS))
    fig = make_subplots(rows=rows, cols=STORAGE_COLUMNS, shared_xaxes=True, shared_yaxes=True,
                        horizontal_spacing=0.06, vertical_spacing=0.5 / max(rows, 1) ** 1.2,
                        subplot_titles=[_chart_strategy_label(n, results) for n in names])
    quota = soh.get("quota_gib")
    for i, name in enumerate(names):
        row, col = i // STORAGE_COLUMNS + 1, i % STORAGE_COLUMNS + 1
        _storage_panel(fig, months, soh["strategies"][name], strategy_color(name, results),
                       _chart_strategy_label(name, results), row, col)
        if quota is not None:
            fig.add_hline(y=quota, line={"color": "black", "dash": "dot", "width": 1},
                          row=row, col=col)
    top = max([max(soh["strategies"][n]["p90"]) for n in names] + [quota or 0.0])
    fig.update_yaxes(range=[0, 1.08 * top], rangemode="tozero")
    accounting = soh.get("accounting") or "per-tag"
    quota_text = f"; dotted: quota {quota:,.0f} GiB" if quota is not None else ""
    style_figure(fig, f"Registry storage per strategy, with the cleanup it needs "
                 f"({accounting} accounting; median, band p10–p90{quota_text})", "", "",
                 height=220 * rows + 140)
    fig.update_layout(margin={"l": 60, "r": 20, "t": 100, "b": 50})
    for r in range(1, rows + 1):
        fig.update_yaxes(title_text="GiB", row=r, col=1)
    for c in range(1, STORAGE_COLUMNS + 1):
        fig.update_xaxes(title_text="months from now", row=rows, col=c)
    return fig


def plot_registry_storage_cleanup(results: dict) -> go.Figure | HTML:
    """Registry GiB per strategy under the scenario's what-if cleanup policy (medians; one
    line each, baseline marked) with the quota; a sentence when the scenario has none."""
    soh = results["storage_over_horizon"]
    what_if = soh.get("cleanup_what_if") or {}
    if not what_if:
        return HTML("<p>This scenario models no cleanup policy what-if.</p>")
    months = list(soh["months"])
    fig = go.Figure()
    for name in summary.order_strategies(results):
        if name not in what_if:
            continue
        group = _chart_strategy_label(name, results)
        fig.add_scatter(x=months, y=what_if[name]["p50"], mode="lines", name=group,
                        line={"color": strategy_color(name, results), "width": 2},
                        hovertemplate="month %{x}: %{y:,.1f} GiB<extra>" + group + "</extra>")
    quota = soh.get("quota_gib")
    if quota is not None:
        fig.add_hline(y=quota, line={"color": "black", "dash": "dot"},
                      annotation_text=f"quota {quota:,.0f} GiB", annotation_position="top left")
    fig.update_yaxes(rangemode="tozero")
    policy = soh.get("cleanup_what_if_policy") or {}
    rule = ", ".join(
        f"keep the newest {v:g} tags" if k == "keep_n" else
        f"delete tags older than {v:g} days" if k == "older_than_days" else f"{k} {v}"
        for k, v in policy.items() if isinstance(v, int | float)) if isinstance(policy, dict) \
        else ""
    return style_figure(fig, "Registry storage with a cleanup policy ("
                        + (f"{label(rule)}; " if rule else "") + "medians)",
                        "months from now", "registry size (GiB)", height=460)


def plot_fork_minutes(results: dict) -> go.Figure:
    """Fork contributors' container-build minutes a month and their share of a free quota."""
    names = summary.order_strategies(results)
    x = [_chart_strategy_label(n, results) for n in names]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        "fork container-build minutes / month", "share of a fork owner's free quota (%)"))
    for col, key, scale in ((1, "fork_compute_minutes_per_month", 1.0),
                            (2, "fork_quota_share", 100.0)):
        qs = [results["strategies"][n].get(key) or {} for n in names]
        p50 = [(read_quantile(q) or 0.0) * scale for q in qs]
        plus = [max(0.0, (read_quantile(q, "p90") or 0.0) * scale - m) for q, m in zip(qs, p50, strict=True)]
        minus = [max(0.0, m - (read_quantile(q, "p10") or 0.0) * scale)
                 for q, m in zip(qs, p50, strict=True)]
        fig.add_bar(x=x, y=p50, row=1, col=col, showlegend=False,
                    marker_color=[strategy_color(n, results) for n in names],
                    error_y={"type": "data", "array": plus, "arrayminus": minus,
                             "symmetric": False})
    style_figure(fig, "What forks pay: container-build minutes and quota share "
                 "(median, whiskers p10–p90)", "strategy", "", height=480)
    fig.update_yaxes(title_text="minutes per month", row=1, col=1)
    fig.update_yaxes(title_text="% of the free quota", row=1, col=2)
    return fig


def plot_tornado(results: dict, *, max_bars: int = TORNADO_BARS) -> go.Figure:
    """Tornado: how a challenger's Δ vs baseline (USD/month) moves as each input goes
    from its low (p10) to its high (p90) value, largest swing on top.

    Each bar pair starts at the challenger's Δ with every input at its median
    (``delta_at_p50_usd_per_month`` when the model gives it, else the Δ's p50).
    Bars swinging less than :data:`TORNADO_MIN_SHARE` of the largest are left
    out; the input's range is in its label.
    """
    def swing(b: dict) -> float:
        return abs(b["delta_high_usd_per_month"] - b["delta_low_usd_per_month"])

    every = results.get("tornado") or []
    largest = max((swing(b) for b in every), default=0.0)
    bars = [b for b in every if swing(b) > TORNADO_MIN_SHARE * largest][:max_bars]
    rows, lows, highs, bases = [], [], [], []
    for b in bars:
        center = b.get("delta_at_p50_usd_per_month")
        if center is None:
            strat = results["strategies"].get(b["strategy"], {})
            center = read_quantile(strat.get("delta_vs_baseline_usd_per_month")) or 0.0
        rows.append(f"{label(reader_name(str(b['input'])))} "
                    f"({label(format_amount(b['low'], b.get('unit'), 3))} to "
                    f"{label(format_amount(b['high'], b.get('unit'), 3))})<br>"
                    f"{label(b['strategy'])} vs baseline")
        bases.append(center)
        lows.append(b["delta_low_usd_per_month"] - center)
        highs.append(b["delta_high_usd_per_month"] - center)
    fig = go.Figure()
    for name, x, color in (("input at its low value", lows, PALETTE[0]),
                           ("input at its high value", highs, PALETTE[3])):
        fig.add_bar(y=rows, x=x, base=bases, orientation="h", name=name, marker_color=color,
                    hovertemplate="%{y}<br>Δ %{base:+,.2f} → %{x:+,.2f} USD/month"
                                  "<extra></extra>")
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(autorange="reversed", tickfont={"size": 11})
    fig.add_vline(x=0, line={"color": "black", "width": 1})
    return style_figure(fig, "Tornado: Δ vs baseline as each input moves from p10 to p90 "
                        "(USD/month; left of 0 = cheaper than baseline)",
                        "Δ vs baseline (USD a month)", "",
                        height=max(380, 48 * len(rows) + 170))


def plot_break_even(results: dict) -> go.Figure:
    """Break-even: the value an input must reach before the cheaper of two strategies
    changes, as a multiple of today's value (log axis; 1 = today).

    Only break-evens within :data:`summary.PLAUSIBLE_FACTOR` of today's value are
    drawn; pairs with none that near (or none at all) are counted in the title,
    where the choice is robust to the input.
    """
    rows, ratio, hover = [], [], []
    robust = 0
    factor = summary.PLAUSIBLE_FACTOR
    for be in results.get("break_even") or []:
        value, current = be.get("value"), be.get("current")
        if value is None or not current or not 1 / factor <= value / current <= factor:
            robust += 1
            continue
        unit = be.get("unit")
        rows.append(label(f"{reader_name(str(be['input']))}: {format_amount(value, unit, 3)} "
                          f"(now {format_amount(current, unit, 3)})") + "<br>"
                    + label(f"{be['strategy_a']} vs {be['strategy_b']}"))
        ratio.append(value / current)
        hover.append(f"{value / current:.3g}× today's value")
    fig = go.Figure()
    fig.add_scatter(x=[1.0] * len(rows), y=rows, mode="markers", name="today's value",
                    marker={"symbol": "line-ns-open", "size": 18, "color": "black"},
                    hoverinfo="skip")
    fig.add_scatter(x=ratio, y=rows, mode="markers", name="break-even value",
                    marker={"size": 12, "color": PALETTE[3]}, customdata=hover,
                    hovertemplate="%{y}<br>%{customdata}<extra></extra>")
    span = math.log10(factor) * 1.1
    fig.update_xaxes(type="log", range=[-span, span], tickvals=[1 / 3, 0.5, 1, 2, 3],
                     ticktext=["÷3", "÷2", "today", "×2", "×3"])
    fig.update_yaxes(autorange="reversed", tickfont={"size": 11})
    extra = (f" ({robust} more pairs: none within ×/÷{factor:g} of today, robust)"
             if robust else "")
    return style_figure(fig, f"Break-even points within ×/÷{factor:g} of today{extra}",
                        "break-even value ÷ today's value (log scale)", "",
                        height=max(300, 48 * len(rows) + 170))


def scenario_paragraph(scenario: Any) -> HTML:
    """The scenario's title and explanation (from its YAML), escaped, as HTML paragraphs."""
    paragraphs = [p.strip() for p in str(getattr(scenario, "description", "") or "").split("\n\n")
                  if p.strip()]
    body = "".join(f"<p>{html.escape(' '.join(p.split()))}</p>" for p in paragraphs)
    title = html.escape(str(getattr(scenario, "title", "") or getattr(scenario, "name", "")))
    name = html.escape(str(getattr(scenario, "name", "")))
    return HTML(f'<div class="cachecost-scenario"><p><strong>{title}</strong> '
                f"(<code>{name}</code>)</p>{body}</div>")


# =========================================================================== measured inputs


def _not_measured(title: str, message: str) -> HTML:
    """A short escaped note in place of a chart whose data the dataset does not hold."""
    return HTML(f'<p class="cachecost-not-measured"><strong>{html.escape(title)}</strong>: '
                f"{html.escape(message)}.</p>")


def plot_image_changes(df: pd.DataFrame) -> go.Figure | HTML:
    """One marker per measured change of an image's inputs, over time.

    Takes :func:`history.list_image_changes`; a note instead when there is none.
    """
    title = "Measured changes of each image's inputs (commits on the default branch)"
    if df.empty:
        return _not_measured(title, "no measured image changes in this dataset; the model "
                             "infers changes from the build durations")
    counts = df.groupby("image").size()
    images = sorted(counts.index)
    fig = go.Figure()
    fig.add_scatter(x=df["time"].tolist(), y=[label(i) for i in df["image"]], mode="markers",
                    marker={"color": PALETTE[2], "size": 9, "symbol": "diamond"},
                    customdata=[[label(c), label(p)] for c, p in
                                zip(df["commit"], df["paths"], strict=True)],
                    hovertemplate="%{y}: %{customdata[0]} at %{x}<br>%{customdata[1]}"
                                  "<extra></extra>", name="change commit")
    fig.update_yaxes(type="category", categoryorder="array",
                     categoryarray=[label(i) for i in images][::-1])
    fig.update_layout(showlegend=False)
    return style_figure(fig, f"{title}: {len(df)} in all", "commit time (UTC)", "image",
                        height=max(350, 24 * len(images) + 150))


def plot_fork_activity(df: pd.DataFrame, figures: dict | None) -> go.Figure | HTML:
    """Stacked bars: pipelines per sampled fork, those that changed an image apart.

    Takes :func:`history.summarize_fork_activity` and :func:`history.fork_activity_figures`;
    a note instead when no fork was sampled.
    """
    title = "Fork pipelines in the window"
    if df.empty or figures is None:
        return _not_measured(title, "no fork activity measured in this dataset; the model "
                             "uses the scenario's fork assumptions")
    names = [label(f) for f in df["fork"]]
    fig = go.Figure()
    fig.add_bar(x=names, y=df["other_pipelines"].tolist(), name="other pipelines",
                marker_color=PALETTE[0])
    fig.add_bar(x=names, y=df["image_change_pipelines"].tolist(),
                name="changed an image's inputs", marker_color=PALETTE[1])
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    f = figures
    sub = (f"{f['forks_sampled']} of {f['forks_active']} active forks sampled "
           f"({f['sampling_fraction']:.0%}), read {f['read_at']}: about "
           f"{f['pipelines_per_month']:.0f} fork pipelines a month over "
           f"{f['owners']:.0f} owners")
    return style_figure(fig, f"{title}<br><sup>{label(sub)}</sup>", "fork",
                        "pipelines in the window")


def plot_registry_usage(df: pd.DataFrame) -> go.Figure | HTML:
    """Bars: the project's and the root namespace's registry GiB, with the date read.

    Takes :func:`history.registry_usage_frame`; a note instead when it was not read.
    """
    title = "Container registry as GitLab counts it"
    if df.empty:
        return _not_measured(title, "the registry usage was not read for this dataset")
    read = str(df["read_at"].dropna().iloc[0]) if df["read_at"].notna().any() else "?"
    names = [label(lv) + (" (estimated)" if e is True else "")
             for lv, e in zip(df["level"], df["is_estimated"], strict=True)]
    fig = go.Figure()
    fig.add_bar(x=(df["size_bytes"] / GIB).round(2).tolist(), y=names, orientation="h",
                marker_color=[PALETTE[0], PALETTE[3]][:len(df)],
                text=[f"{v / GIB:,.1f} GiB" for v in df["size_bytes"]], textposition="auto")
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(showlegend=False)
    return style_figure(fig, f"{title} (read {label(read)})", "size (GiB)", "", height=300)
