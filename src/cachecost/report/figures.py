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

The builders live in four modules, re-exported here so notebooks keep one import
(``from cachecost.report import figures``): :mod:`~cachecost.report.chartstyle`
(the shared look), :mod:`~cachecost.report.history_figures` (the CI-history page),
:mod:`~cachecost.report.page_tables` and :mod:`~cachecost.report.decision_figures` (the
decision page).
"""

from __future__ import annotations

from cachecost.report.chartstyle import (  # noqa: F401  (re-exported)
    COMPONENT_LABELS,
    FONT,
    GIB,
    PALETTE,
    STRATEGY_COLORS,
    TITLE_CHARS,
    TORNADO_BARS,
    TORNADO_MIN_SHARE,
    chart_strategy_label,
    label,
    rgba,
    strategy_color,
    strategy_label,
    style_figure,
    title_lines,
)
from cachecost.report.decision_figures import (  # noqa: F401  (re-exported)
    SAME_LINE_SHARE,
    STORAGE_COLUMNS,
    TORNADO_OTHER_BARS,
    group_equal_lines,
    plot_break_even,
    plot_cost_by_component,
    plot_fork_minutes,
    plot_registry_storage,
    plot_registry_storage_cleanup,
    plot_tornado,
    scenario_paragraph,
    tornado_order,
)
from cachecost.report.history_figures import (  # noqa: F401  (re-exported)
    HOW_TO_MEASURE,
    NOT_CACHED_OUTCOMES,
    WHY_TWO_MISS_LINES,
    plot_billed_build_minutes,
    plot_build_durations,
    plot_cache_outcome_rate,
    plot_fork_activity,
    plot_image_changes,
    plot_pipelines_per_month,
    plot_queue_times,
    plot_registry_size,
    plot_registry_usage,
)
from cachecost.report.page_tables import (  # noqa: F401  (re-exported)
    MEASURE_NEXT_ROWS,
    PER_IMAGE_PREFIX,
    SOURCE_NUMBERS,
    assumptions_table,
    claims_table,
    format_assumptions_frame,
    format_headline_frame,
    format_per_image_frame,
    headline_table,
    measure_next_table,
    page_source_ids,
    per_image_header,
    recommendation_paragraph,
    render_table,
    sources_list,
)
