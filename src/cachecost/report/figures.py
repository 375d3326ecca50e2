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
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from IPython.display import HTML
from plotly.subplots import make_subplots

from cachecost.report import summary

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


def style_figure(fig: go.Figure, title: str, x_title: str, y_title: str, *,
                 height: int = 450) -> go.Figure:
    """Apply the report's common look: white template, title, axis titles, legend on top."""
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.0, "xanchor": "left"},
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 60, "r": 30, "t": 80, "b": 60},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0,
                "traceorder": "normal"},
    )
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def _strategy_label(name: str, results: dict) -> str:
    """A strategy's name for tables (escaped later) and charts, ``(*)`` on the baseline."""
    return f"{name} (*)" if name == results.get("baseline") else name


def _chart_strategy_label(name: str, results: dict) -> str:
    return label(_strategy_label(name, results))


def _p(q: Any, key: str = "p50") -> float | None:
    return summary.read_quantile(q, key)


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
    shows 0.
    """
    fig = go.Figure()
    styles = {"sampled logs": ("lines+markers", "dot", PALETTE[3]),
              "inferred": ("lines", "solid", PALETTE[0])}
    for basis, part in df.groupby("basis", sort=True):
        weeks = part.groupby("week")
        jobs = weeks["jobs"].sum()
        not_cached = part[part["outcome"].isin(NOT_CACHED_OUTCOMES)].groupby("week")["share"]
        share = not_cached.sum().reindex(jobs.index, fill_value=0.0) * 100
        mode, dash, color = styles.get(str(basis), ("lines", "dash", PALETTE[5]))
        fig.add_scatter(
            x=[w.strftime("%Y-%m-%d") for w in jobs.index], y=share.round(2).tolist(),
            name=f"{label(basis)} ({int(jobs.sum()):,} builds)", mode=mode,
            line={"dash": dash, "color": color}, customdata=jobs.tolist(),
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
                 nowrap_columns: tuple[str, ...] = (), wide_columns: tuple[str, ...] = ()
                 ) -> HTML:
    """An escaped HTML table (every cell and header HTML-escaped) for a notebook.

    ``name`` (a fixed identifier, never user text) scopes the table's CSS;
    ``numeric_columns`` align right, everything else left; ``nowrap_columns``
    never wrap; ``wide_columns`` (prose, paths) get room, then wrap anywhere.
    The class is repeated in the selectors so they outrank JupyterLab's
    ``:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td`` rule (which
    right-aligns every cell) in nbconvert's lab template.
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
        rules.append(f"{sel} td:nth-child({columns.index(c) + 1}) {{ min-width: 10em; "
                     "overflow-wrap: anywhere; }")
    table = df.to_html(index=False, escape=True, border=0, classes=css_class, na_rep="-")
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
        delta = ("baseline (*)" if r["is_baseline"] else
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


def headline_table(results: dict) -> HTML:
    """Per strategy: median (p10 – p90) minutes, registry GiB, cost and Δ vs the baseline."""
    frame = format_headline_frame(results)
    return render_table(frame, name="headline", numeric_columns=tuple(frame.columns[2:]),
                        nowrap_columns=("strategy",), wide_columns=("what it is",))


def recommendation_paragraph(results: dict) -> HTML:
    """The generated recommendation (:func:`summary.format_recommendation`), escaped."""
    text = html.escape(summary.format_recommendation(results))
    return HTML(f'<p class="cachecost-recommendation"><strong>Recommendation.</strong> '
                f"{text}</p>")


#: Inputs named ``<PER_IMAGE_PREFIX><image>.<measure>`` are per-image calibrations.
PER_IMAGE_PREFIX = "data.image."


def _split_per_image(name: str) -> tuple[str, str] | None:
    """``data.image.debian.cached_build_min -> ('debian', 'cached_build_min')``."""
    if not name.startswith(PER_IMAGE_PREFIX):
        return None
    image, _, measure = name[len(PER_IMAGE_PREFIX):].rpartition(".")
    return (image, measure) if image and measure else None


def format_assumptions_frame(results: dict) -> pd.DataFrame:
    """Every model input except the per-image calibrations: value (its distribution when
    uncertain), unit, source, citation, and what it means where the model says."""
    rows = [{
        "input": i.get("name"),
        "value": summary.format_input_value(i),
        "unit": i.get("unit") or "",
        "source": i.get("source") or "",
        "citation": i.get("citation") or "",
        "meaning": i.get("doc") or "",
    } for i in results.get("inputs") or [] if _split_per_image(str(i.get("name"))) is None]
    columns = ["input", "value", "unit", "source", "citation", "meaning"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame if frame["meaning"].astype(bool).any() else frame.drop(columns="meaning")


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
        words = measure.replace("_", " ")
        headers.setdefault(measure, f"{words} ({i['unit']})" if i.get("unit") else words)
        cells.setdefault(image, {})[headers[measure]] = summary.format_input_value(i)
    frame = pd.DataFrame([{"image": k, **v} for k, v in sorted(cells.items())],
                         columns=["image", *headers.values()])
    return frame.fillna("-")


def assumptions_table(results: dict) -> HTML:
    """The assumptions table: every input with its source (data, scenario or default),
    then the per-image figures calibrated from the data."""
    main = render_table(format_assumptions_frame(results), name="assumptions",
                        nowrap_columns=("source",),
                        wide_columns=("input", "citation", "meaning"))
    per_image = format_per_image_frame(results)
    if per_image.empty:
        return main
    images = render_table(per_image, name="per-image",
                          numeric_columns=tuple(per_image.columns[1:]), nowrap_columns=("image",))
    return HTML(main.data + "<p>Per image, calibrated from the CI history (source: data; "
                "the method is in <code>cachecost.model.calibrate</code>):</p>" + images.data)


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
    return style_figure(fig, "Monthly cost by component (medians; (*) = baseline)",
                        "strategy", "cost (USD per month)")


def plot_registry_storage(results: dict) -> go.Figure:
    """Registry GiB month by month per strategy: median line, p10–p90 band, quota line,
    and the median under the cleanup-policy what-if (dashed)."""
    soh = results["storage_over_horizon"]
    months = list(soh["months"])
    fig = go.Figure()
    for name in summary.order_strategies(results):
        series = soh["strategies"].get(name)
        if not series:
            continue
        color = strategy_color(name, results)
        group = _chart_strategy_label(name, results)
        fig.add_scatter(x=months, y=series["p90"], mode="lines", line={"width": 0},
                        legendgroup=group, showlegend=False, hoverinfo="skip")
        fig.add_scatter(x=months, y=series["p10"], mode="lines", line={"width": 0},
                        fill="tonexty", fillcolor=_rgba(color, 0.15), legendgroup=group,
                        showlegend=False, hoverinfo="skip")
        fig.add_scatter(x=months, y=series["p50"], mode="lines", name=group,
                        line={"color": color, "width": 2}, legendgroup=group,
                        hovertemplate="month %{x}: %{y:,.1f} GiB<extra>" + group + "</extra>")
        what_if = (soh.get("cleanup_what_if") or {}).get(name)
        if what_if:
            fig.add_scatter(x=months, y=what_if["p50"], mode="lines",
                            name=f"{group}, with cleanup policy",
                            line={"color": color, "width": 2, "dash": "dash"},
                            legendgroup=group,
                            hovertemplate="month %{x}: %{y:,.1f} GiB<extra>cleanup</extra>")
    quota = soh.get("quota_gib")
    if quota is not None:
        fig.add_hline(y=quota, line={"color": "black", "dash": "dot"},
                      annotation_text=f"quota {quota:,.0f} GiB", annotation_position="top left")
    fig.update_yaxes(rangemode="tozero")
    accounting = soh.get("accounting") or "per-tag"
    style_figure(fig, f"Registry storage over the horizon ({accounting} accounting; "
                 "band p10–p90, dashed: cleanup policy)", "months from now",
                 "registry size (GiB)", height=560)
    fig.update_layout(legend={"orientation": "v", "y": 1.0, "yanchor": "top", "x": 1.02,
                              "xanchor": "left"}, margin={"r": 320})
    return fig


def plot_fork_minutes(results: dict) -> go.Figure:
    """Fork contributors' container-build minutes a month and their share of a free quota."""
    names = summary.order_strategies(results)
    x = [_chart_strategy_label(n, results) for n in names]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        "fork container-build minutes / month", "share of a fork owner's free quota (%)"))
    for col, key, scale in ((1, "fork_compute_minutes_per_month", 1.0),
                            (2, "fork_quota_share", 100.0)):
        qs = [results["strategies"][n].get(key) or {} for n in names]
        p50 = [(_p(q) or 0.0) * scale for q in qs]
        plus = [max(0.0, (_p(q, "p90") or 0.0) * scale - m) for q, m in zip(qs, p50, strict=True)]
        minus = [max(0.0, m - (_p(q, "p10") or 0.0) * scale)
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


def _with_unit(value: Any, unit: str | None) -> str:
    return f"{summary.format_quantity(value)} {unit}".rstrip() if unit else \
        summary.format_quantity(value)


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
            center = _p(strat.get("delta_vs_baseline_usd_per_month")) or 0.0
        rows.append(f"{label(b['input'])} ({summary.format_quantity(b['low'])} to "
                    f"{label(_with_unit(b['high'], b.get('unit')))})<br>"
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
                        "Δ total cost vs baseline (USD per month)", "",
                        height=max(380, 48 * len(rows) + 170))


def plot_break_even(results: dict) -> go.Figure:
    """Break-even: the value an input must reach before the cheaper of two strategies
    changes, as a multiple of today's value (log axis; 1 = today).

    Pairs without a break-even in the input's range are counted in the title,
    not drawn.
    """
    rows, ratio, hover = [], [], []
    missing = 0
    for be in results.get("break_even") or []:
        value, current = be.get("value"), be.get("current")
        if value is None or not current or value / current <= 0:
            missing += 1
            continue
        unit = be.get("unit")
        rows.append(label(f"{be['input']}: {_with_unit(value, unit)} (now "
                          f"{_with_unit(current, unit)})") + "<br>"
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
    logs = [math.log10(r) for r in ratio] + [0.0]
    pad = max(0.3, 0.15 * (max(logs) - min(logs)))
    fig.update_xaxes(type="log", range=[min(logs) - pad, max(logs) + pad], dtick=1)
    fig.update_yaxes(autorange="reversed", tickfont={"size": 11})
    extra = f" ({missing} more pairs: no break-even in range)" if missing else ""
    return style_figure(fig, f"Break-even points: where the cheaper strategy flips{extra}",
                        "break-even value ÷ today's value (log scale; 1 = today)", "",
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
