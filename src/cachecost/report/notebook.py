"""Set-up shared by every report notebook (first code cell: ``setup_notebook()``).

A figure's output carries two representations and no copy of plotly.js:

* ``application/vnd.plotly.v1+json``, the figure as JSON, which JupyterLab
  draws with the plotly extension (a safe renderer, so an untrusted executed
  notebook still shows its charts);
* ``text/html``, a ``<div>`` and a ``Plotly.newPlot`` call
  (``plotly.io.to_html(include_plotlyjs=False)``), which nbconvert exports.
  The page gets plotly.js once, in its ``<head>``, from the export template
  (:func:`cachecost.report.export.export_html`): a ``<script src>`` to the
  site's shared copy, or the library inlined in a standalone page.

plotly's own ``notebook`` renderer inlined the 4.6 MB library into the first
figure's output and added a MathJax ``<script src>`` from a CDN, so every
executed ``.ipynb`` was about 5 MB::

    from cachecost.report.notebook import setup_notebook
    setup_notebook()

:func:`skip_slow_imports` is the start-up fix shared with the report runner.
"""

from __future__ import annotations

import sys
from typing import Any

import plotly.io as pio
from plotly.io._base_renderers import PlotlyRenderer

RENDERER_NAME = "cachecost"
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
#: The mode bar without plotly's logo link (the page links nowhere it need not).
PLOTLY_CONFIG = {"displaylogo": False}


class JsonAndHtmlRenderer(PlotlyRenderer):  # type: ignore[misc]
    """plotly's JSON mimetype for JupyterLab plus library-free HTML for nbconvert."""

    def to_mimebundle(self, fig_dict: dict[str, Any]) -> dict[str, Any]:
        """Return ``{PLOTLY_MIMETYPE: figure JSON, "text/html": div and newPlot script}``."""
        bundle: dict[str, Any] = super().to_mimebundle(fig_dict)
        bundle["text/html"] = pio.to_html(
            fig_dict, config=self.config, include_plotlyjs=False, include_mathjax=False,
            full_html=False, validate=False, default_width="100%", default_height=525,
        )
        return bundle


def skip_slow_imports() -> None:
    """Keep nbformat's import from costing ~2.7 s in every kernel and worker.

    jsonschema imports ``rfc3987_syntax`` when it is installed (jupyter-events
    pulls it in) only to check the ``iri`` string format, and that module
    compiles a Lark grammar at import. nbformat's schemas never use that
    format, so before jsonschema is first imported it is marked absent, which
    jsonschema handles as "not installed". Does nothing once jsonschema is loaded.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def setup_notebook() -> None:
    """Render plotly figures as JSON (JupyterLab) and library-free HTML (the pages)."""
    skip_slow_imports()
    pio.renderers[RENDERER_NAME] = JsonAndHtmlRenderer(config=PLOTLY_CONFIG)
    pio.renderers.default = RENDERER_NAME


def synthetic_notice(dataset: Any) -> None:
    """Show the synthetic-data notice above a notebook's figures when ``dataset`` is
    synthetic, as the built page's banner does (the output carries
    :data:`~cachecost.report.provenance.LAB_ONLY_MARK`, so the page, which has the banner,
    leaves it out); nothing for measured data. One notebook cell, after the data load."""
    if not getattr(dataset, "is_synthetic", False):
        return
    import html

    from IPython.display import HTML, display

    from cachecost.report.provenance import LAB_ONLY_MARK, SYNTHETIC_NOTICE

    display(HTML(f'<p class="cachecost-synthetic" style="background:#fff3cd;border:1px '  # type: ignore[no-untyped-call]
                 f'solid #e0c36a;padding:6px 10px;font-weight:bold">'
                 f"{html.escape(SYNTHETIC_NOTICE)}</p>"),
            metadata={LAB_ONLY_MARK: True})


def read_or_run_model(results_path: str, dataset: Any, scenario: Any) -> dict[str, Any]:
    """The scenario's results: those the report's runner computed (``results_path``, its
    ``results.json``), or, when the notebook runs alone (``""``, as in JupyterLab),
    :func:`cachecost.model.results.run_model` here. Either way the model runs once per
    scenario in a report.

    Raises:
        CachecostError: ``results_path`` is unreadable, not JSON, or holds another
            scenario's results (its ``scenario_sha256`` differs from ``scenario.sha256``).
    """
    if not results_path:
        from cachecost.model.results import run_model

        return dict(run_model(dataset, scenario))
    import json

    from cachecost.errors import CachecostError, read_user_file

    try:
        results = json.loads(read_user_file(results_path, "results file"))
    except ValueError as exc:
        raise CachecostError(f"{results_path}: not a results.json ({exc})") from None
    if not isinstance(results, dict) or results.get("scenario_sha256") != scenario.sha256:
        raise CachecostError(f"{results_path}: holds the results of another scenario than "
                             f"{scenario.path} (its sha256 differs); rebuild the report")
    return results
