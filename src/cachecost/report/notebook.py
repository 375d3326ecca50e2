"""Set-up shared by every report notebook (first code cell: ``setup_notebook()``).

Plotly >= 6 renders figures in an ipykernel with the ``plotly_mimetype``
renderer, which nbconvert drops from HTML. The ``notebook`` renderer writes
plain ``<script>`` output instead: plotly.js inlined once (in the first
figure's cell), no require.js. It also puts a MathJax ``<script src>`` from
a CDN into every figure, which an offline page must not load, so
:func:`setup_notebook` registers ``cachecost``, the same renderer without
that tag and without the plotly logo link in the mode bar::

    from cachecost.report.notebook import setup_notebook
    setup_notebook()

:func:`skip_slow_imports` is the start-up fix shared with the report runner.
"""

from __future__ import annotations

import re
import sys

import plotly.io as pio
from plotly.io._base_renderers import NotebookRenderer

RENDERER_NAME = "cachecost"

# A <script> that loads its code from another host (plotly's MathJax tag).
_REMOTE_SCRIPT = re.compile(r"""<script\b[^>]*\bsrc=["']?(?:https?:)?//[^>]*>\s*</script>""", re.I)


class OfflineNotebookRenderer(NotebookRenderer):
    """plotly's ``notebook`` renderer minus every script loaded from the network."""

    def to_mimebundle(self, fig_dict: dict) -> dict:
        """Return plotly's HTML bundle for a figure with remote ``<script src>`` tags removed."""
        bundle = super().to_mimebundle(fig_dict)
        bundle["text/html"] = _REMOTE_SCRIPT.sub("", bundle["text/html"])
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
        sys.modules.setdefault("rfc3987_syntax", None)


def setup_notebook() -> None:
    """Make plotly figures survive nbconvert's HTML export, offline."""
    skip_slow_imports()
    pio.renderers[RENDERER_NAME] = OfflineNotebookRenderer(config={"displaylogo": False})
    pio.renderers.default = RENDERER_NAME
