"""The CI-history page's charts: one builder per chart, from :mod:`cachecost.report.history`'s frames.

    fig = plot_build_durations(history.summarize_build_durations(ds))

A chart whose measurement the dataset does not hold becomes one line saying so
and how to get it (:func:`plot_image_changes`, :func:`plot_fork_activity`,
:func:`plot_registry_usage`).
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from IPython.display import HTML

from cachecost.report.chartstyle import GIB, PALETTE, label, style_figure

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
    fig = style_figure(fig, "Container builds not served from cache, per week "
                       "(partial or full rebuilds)", "week (UTC, Monday)",
                       "share of the week's builds (%)")
    if df["basis"].nunique() > 1:
        fig.add_annotation(text=WHY_TWO_MISS_LINES, xref="paper", yref="paper", x=0, y=-0.22,
                           xanchor="left", yanchor="top", showarrow=False, align="left",
                           font={"size": 12, "color": "#444"})
        fig.update_layout(margin={"b": 140}, height=fig.layout.height + 80)
    return fig


#: The caption under the cache-outcome chart: why its two lines disagree (lines <= 95 chars).
WHY_TWO_MISS_LINES = (
    "Why two lines: <i>sampled logs</i> reads the build log (a partial or full miss), only for"
    "<br>the builds whose log was read; <i>inferred</i> counts every successful build, by its"
    "<br>log or else by its duration (the model's split per image), so a partial rebuild short"
    "<br>enough to fall under the split counts as cached there."
)


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



# =========================================================================== measured inputs


#: How to get a measurement a dataset lacks (one line of HTML, the same for the three charts).
HOW_TO_MEASURE = ("To get it: <code>cachecost fetch</code> measures it on a real project; "
                  "<code>make demo-fetch</code>, then <code>cachecost report --data "
                  "data/raw/demo</code>, shows it on synthetic data")


def _not_measured(title: str, message: str) -> HTML:
    """A short escaped note in place of a chart whose data the dataset does not hold,
    saying how to get it (:data:`HOW_TO_MEASURE`)."""
    return HTML(  # type: ignore[no-untyped-call]
        f'<p class="cachecost-not-measured"><strong>{html.escape(title)}</strong>: '
        f"{html.escape(message)}. {HOW_TO_MEASURE}.</p>")


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


def plot_fork_activity(df: pd.DataFrame, figures: dict[str, float | int | str] | None
                       ) -> go.Figure | HTML:
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
