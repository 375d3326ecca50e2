"""Set-up shared by every report notebook (first code cell: ``setup_notebook()``).

Plotly >= 6 renders figures in an ipykernel with the ``plotly_mimetype``
renderer, which nbconvert drops from HTML. The ``notebook`` renderer writes
plain ``<script>`` output that works offline (plotly.js inlined once, no
require.js, no CDN).
"""

from __future__ import annotations

import plotly.io as pio


def setup_notebook() -> None:
    """Make plotly figures survive nbconvert's HTML export, offline."""
    pio.renderers.default = "notebook"
