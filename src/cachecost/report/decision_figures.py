"""The decision page's charts: one builder per chart, from the model's results dict.

    fig = plot_tornado(results)    # what moves the recommended comparison most
"""

from __future__ import annotations

import html
import math
import textwrap
from typing import Any

import plotly.graph_objects as go
from IPython.display import HTML
from plotly.subplots import make_subplots

from cachecost.report import summary
from cachecost.report.chartstyle import (
    COMPONENT_LABELS,
    PALETTE,
    TORNADO_BARS,
    TORNADO_MIN_SHARE,
    chart_strategy_label,
    label,
    rgba,
    strategy_color,
    style_figure,
)
from cachecost.report.flips import value_digits
from cachecost.report.names import format_amount, reader_name
from cachecost.report.summary import read_quantile


def plot_cost_by_component(results: dict[str, Any]) -> go.Figure:
    """Stacked bars per strategy: median monthly cost by component (USD/month)."""
    names = summary.order_strategies(results)
    x = [chart_strategy_label(n, results) for n in names]
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


def _storage_panel(fig: go.Figure, months: list[int], series: dict[str, list[float]],
                   color: str, name: str, row: int, col: int) -> None:
    """One strategy's registry GiB: p10–p90 band and median line."""
    fig.add_scatter(x=months, y=series["p90"], mode="lines", line={"width": 0},
                    showlegend=False, hoverinfo="skip", row=row, col=col)
    fig.add_scatter(x=months, y=series["p10"], mode="lines", line={"width": 0},
                    fill="tonexty", fillcolor=rgba(color, 0.2), showlegend=False,
                    hoverinfo="skip", row=row, col=col)
    fig.add_scatter(x=months, y=series["p50"], mode="lines", line={"color": color, "width": 2},
                    showlegend=False, row=row, col=col,
                    hovertemplate="month %{x}: %{y:,.1f} GiB<extra>" + name + "</extra>")


def quota_label(soh: dict[str, Any]) -> str:
    """The dotted line's words: the room the registry has under the namespace quota,
    named as the quota the scenario and the page's text give ("quota 244 GiB" beside a
    text saying 250 GiB read as a contradiction). ``soh``: ``storage_over_horizon``.
    Example: quota_gib 244, namespace 250, other 6.0 -> "250 GiB quota less 6.0 GiB
    of other usage: 244 GiB"."""
    room, total = soh.get("quota_gib"), soh.get("namespace_quota_gib")
    other = soh.get("other_usage_gib") or 0.0
    if room is None:
        return ""
    if total is None or other <= 0.05:
        return f"quota {room:,.0f} GiB"
    return (f"{total:,.0f} GiB quota less {other:,.1f} GiB of other usage: "
            f"{room:,.0f} GiB")


def plot_registry_storage(results: dict[str, Any]) -> go.Figure:
    """Registry GiB month by month, one small panel per strategy (same scales): the median
    line, the p10–p90 band and the quota as a dotted line. The cleanup what-if is its own
    chart (:func:`plot_registry_storage_cleanup`)."""
    soh = results["storage_over_horizon"]
    months = list(soh["months"])
    names = [n for n in summary.order_strategies(results) if soh["strategies"].get(n)]
    rows = max(1, math.ceil(len(names) / STORAGE_COLUMNS))
    fig = make_subplots(rows=rows, cols=STORAGE_COLUMNS, shared_xaxes=True, shared_yaxes=True,
                        horizontal_spacing=0.06, vertical_spacing=0.5 / max(rows, 1) ** 1.2,
                        subplot_titles=[chart_strategy_label(n, results) for n in names])
    quota = soh.get("quota_gib")
    for i, name in enumerate(names):
        row, col = i // STORAGE_COLUMNS + 1, i % STORAGE_COLUMNS + 1
        _storage_panel(fig, months, soh["strategies"][name], strategy_color(name, results),
                       chart_strategy_label(name, results), row, col)
        if quota is not None:
            fig.add_hline(y=quota, line={"color": "black", "dash": "dot", "width": 1},
                          row=row, col=col)
    top = max([max(soh["strategies"][n]["p90"]) for n in names] + [quota or 0.0])
    fig.update_yaxes(range=[0, 1.08 * top], rangemode="tozero")
    accounting = soh.get("accounting") or "per-tag"
    quota_text = f"; dotted: {quota_label(soh)}" if quota is not None else ""
    style_figure(fig, f"Registry storage per strategy, with the cleanup it needs "
                 f"({accounting} accounting; median, band p10–p90{quota_text})", "", "",
                 height=220 * rows + 140)
    fig.update_layout(margin={"l": 60, "r": 20, "t": 100, "b": 50})
    for r in range(1, rows + 1):
        fig.update_yaxes(title_text="GiB", row=r, col=1)
    for c in range(1, STORAGE_COLUMNS + 1):
        fig.update_xaxes(title_text="months from now", row=rows, col=c)
    return fig


def plot_registry_storage_cleanup(results: dict[str, Any]) -> go.Figure | HTML:
    """Registry GiB per strategy under the scenario's what-if cleanup policy (medians; one
    line each, baseline marked) with the quota; a sentence when the scenario has none."""
    soh = results["storage_over_horizon"]
    what_if = soh.get("cleanup_what_if") or {}
    if not what_if:
        return HTML(  # type: ignore[no-untyped-call]
            "<p>This scenario models no cleanup policy what-if.</p>")
    months = list(soh["months"])
    series = {n: list(what_if[n]["p50"]) for n in summary.order_strategies(results)
              if n in what_if}
    peak = max((abs(v) for ys in series.values() for v in ys), default=0.0)
    fig = go.Figure()
    for names in group_equal_lines(series, SAME_LINE_SHARE * peak):
        group = ", ".join(chart_strategy_label(n, results) for n in names)
        if len(names) > 1:   # one line for strategies a chart could not tell apart
            spread = max(abs(a - b) for n in names for a, b in zip(series[n], series[names[0]],
                                                                   strict=True))
            # wrapped: a legend entry is not, and an 800 px page cuts a long one
            group = "<br>".join(textwrap.wrap(f"{group} (the same within {spread:,.1f} GiB)",
                                              LEGEND_CHARS, break_on_hyphens=False))
        fig.add_scatter(x=months, y=series[names[0]], mode="lines", name=group,
                        line={"color": strategy_color(names[0], results), "width": 2},
                        hovertemplate="month %{x}: %{y:,.1f} GiB<extra>" + group + "</extra>")
    quota = soh.get("quota_gib")
    if quota is not None:
        fig.add_hline(y=quota, line={"color": "black", "dash": "dot"},
                      annotation_text=quota_label(soh), annotation_position="top left")
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


#: Characters per line of a long legend entry (fits an 800 px page).
LEGEND_CHARS = 70

#: Lines closer than this share of the chart's largest value at every month are drawn as one.
SAME_LINE_SHARE = 0.01


def group_equal_lines(series: dict[str, list[float]], tolerance: float) -> list[list[str]]:
    """Group series (in order) whose values differ by at most ``tolerance`` at every point
    from their group's first series; each group is drawn as one labelled line."""
    groups: list[list[str]] = []
    for name, ys in series.items():
        for group in groups:
            if all(abs(a - b) <= tolerance for a, b in zip(ys, series[group[0]], strict=True)):
                group.append(name)
                break
        else:
            groups.append([name])
    return groups


def plot_fork_minutes(results: dict[str, Any]) -> go.Figure:
    """Fork contributors' container-build minutes a month and their share of a free quota."""
    names = summary.order_strategies(results)
    x = [chart_strategy_label(n, results) for n in names]
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


#: Characters per line of a tornado bar's label (an 800 px page keeps ~60% for the bars).
TORNADO_LABEL_CHARS = 30

#: Bars in the panels after the first (the recommended comparison gets TORNADO_BARS).
TORNADO_OTHER_BARS = 5


def tornado_order(results: dict[str, Any]) -> list[str]:
    """The tornado's strategies, the recommended comparison first: the winner (or, when the
    baseline wins, the runner-up), then the runner-up, then the rest as the model listed them."""
    rec = results.get("recommendation") or {}
    baseline = results.get("baseline")
    first = rec.get("runner_up") if rec.get("winner") == baseline else rec.get("winner")
    names = list(dict.fromkeys(str(b["strategy"]) for b in results.get("tornado") or []))
    return sorted(names, key=lambda n: (n != first, n != rec.get("runner_up"), names.index(n)))


def _tornado_bars(results: dict[str, Any], strategy: str, max_bars: int) -> list[dict[str, Any]]:
    """One strategy's bars, largest swing first; those under TORNADO_MIN_SHARE of its
    largest swing left out (they would be slivers)."""
    def swing(b: dict[str, Any]) -> float:
        return abs(float(b["delta_high_usd_per_month"]) - float(b["delta_low_usd_per_month"]))

    mine = sorted((b for b in results.get("tornado") or [] if b["strategy"] == strategy),
                  key=swing, reverse=True)
    largest = swing(mine[0]) if mine else 0.0
    return [b for b in mine if swing(b) > TORNADO_MIN_SHARE * largest][:max_bars]


def plot_tornado(results: dict[str, Any], *, max_bars: int = TORNADO_BARS,
                 other_bars: int = TORNADO_OTHER_BARS) -> go.Figure:
    """Tornado: how each challenger's Δ vs baseline (USD/month) moves as each input goes
    from its low (p10) to its high (p90) value; one panel per challenger, each on its own
    scale, the recommended comparison on top (:func:`tornado_order`), largest swing first.

    One shared axis let no-cache's ~$150 swings flatten the bars that decide. Each bar
    pair starts at the challenger's Δ with every input at its median
    (``delta_at_p50_usd_per_month`` when the model gives it, else the Δ's p50); the
    input's range is in its label.
    """
    order = tornado_order(results)
    panels = [(n, _tornado_bars(results, n, max_bars if i == 0 else other_bars))
              for i, n in enumerate(order)]
    panels = [(n, bars) for n, bars in panels if bars] or [("", [])]
    titles = [f"{label(n)}" + (" (the recommendation)" if i == 0 else "")
              for i, (n, _) in enumerate(panels)]
    # ~15 px a label line (11 px font) and a gap per bar, 70 px for the panel's title and axis
    heights = [sum(15 * (_tornado_label(b).count("<br>") + 1) + 12 for b in bars) + 70
               for _, bars in panels]
    fig = make_subplots(rows=len(panels), cols=1, subplot_titles=titles,
                        row_heights=heights, vertical_spacing=70 / sum(heights))
    for row, (_, bars) in enumerate(panels, start=1):
        _add_tornado_panel(fig, results, bars, row)
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(autorange="reversed", tickfont={"size": 11}, automargin=True)
    # a panel's title starts at the left edge of the figure, above its labels
    fig.update_annotations(xref="paper", x=0, xanchor="left", font={"size": 13})
    fig.add_vline(x=0, line={"color": "black", "width": 1}, row="all", col=1)
    fig = style_figure(fig, f"Tornado: Δ vs {label(results.get('baseline', 'baseline'))} as "
                       "each input moves from p10 to p90 (USD/month; left of 0 = cheaper)",
                       "", "", height=sum(heights) + 130)
    fig.update_layout(margin={"t": fig.layout.margin.t + 30},
                      legend={"y": 1 + 30 / sum(heights)})
    fig.update_xaxes(title_text="Δ vs baseline (USD a month)", row=len(panels), col=1)
    return fig


def _tornado_label(bar: dict[str, Any]) -> str:
    """A bar's label: the input's reader name wrapped to TORNADO_LABEL_CHARS, its range below."""
    name = "<br>".join(label(line) for line in
                       textwrap.wrap(reader_name(str(bar["input"])), TORNADO_LABEL_CHARS))
    return (f"{name}<br>({label(format_amount(bar['low'], bar.get('unit'), 3))} to "
            f"{label(format_amount(bar['high'], bar.get('unit'), 3))})")


def _add_tornado_panel(fig: go.Figure, results: dict[str, Any], bars: list[dict[str, Any]],
                       row: int) -> None:
    rows, lows, highs, bases = [], [], [], []
    for b in bars:
        center = b.get("delta_at_p50_usd_per_month")
        if center is None:
            strat = results["strategies"].get(b["strategy"], {})
            center = read_quantile(strat.get("delta_vs_baseline_usd_per_month")) or 0.0
        rows.append(_tornado_label(b))
        bases.append(center)
        lows.append(b["delta_low_usd_per_month"] - center)
        highs.append(b["delta_high_usd_per_month"] - center)
    for name, x, color in (("input at its low value", lows, PALETTE[0]),
                           ("input at its high value", highs, PALETTE[3])):
        fig.add_bar(y=rows, x=x, base=bases, orientation="h", name=name, marker_color=color,
                    showlegend=row == 1, legendgroup=name, row=row, col=1,
                    hovertemplate="%{y}<br>Δ %{base:+,.2f} → %{x:+,.2f} USD/month"
                                  "<extra></extra>")


def plot_break_even(results: dict[str, Any]) -> go.Figure:
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
        digits = value_digits(be, results, 3)      # the figure the sentences show
        rows.append(label(f"{reader_name(str(be['input']))}: "
                          f"{format_amount(value, unit, digits)} "
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
    return HTML(  # type: ignore[no-untyped-call]
        f'<div class="cachecost-scenario"><p><strong>{title}</strong> '
        f"(<code>{name}</code>)</p>{body}</div>")


