"""The report's one look: colours, fonts, escaped labels and the figure layout every chart shares.

    fig = style_figure(go.Figure(...), "Title", "x (unit)", "y (unit)")
    label("<b>x</b>")              # escaped: plotly shows it as text

User-supplied text (image, repository and source names) goes through
:func:`label`, which HTML-escapes it: plotly renders a small HTML subset in
labels and decodes entities, so an escaped ``<b>`` shows as text.
"""

from __future__ import annotations

import html
import math
from typing import Any

import plotly.graph_objects as go

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


def strategy_color(name: str, results: dict[str, Any] | None = None) -> str:
    """The fixed colour of a strategy; unknown names get a fallback colour by their rank."""
    if name in STRATEGY_COLORS:
        return STRATEGY_COLORS[name]
    unknown = sorted(n for n in (results or {}).get("strategies", {}) if n not in STRATEGY_COLORS)
    rank = unknown.index(name) if name in unknown else 0
    return _FALLBACK_COLORS[rank % len(_FALLBACK_COLORS)]


def rgba(hex_color: str, alpha: float) -> str:
    """``"#1f77b4"``, 0.3 -> ``"rgba(31,119,180,0.3)"``."""
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


def strategy_label(name: str, results: dict[str, Any]) -> str:
    """A strategy's name for tables (escaped later) and charts, ``(*)`` on the baseline."""
    return f"{name} {summary.BASELINE_MARK}" if name == results.get("baseline") else name


def chart_strategy_label(name: str, results: dict[str, Any]) -> str:
    """:func:`strategy_label`, escaped for a chart."""
    return label(strategy_label(name, results))


