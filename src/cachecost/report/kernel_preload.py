"""What the report kernels' fork server imports once (:mod:`cachecost.report.kernels`).

The modules a kernel and the report notebooks import before their first figure:
ipykernel, pandas, plotly (with a figure built and serialised once, :func:`warm_plotly`)
and cachecost's report modules. A module that fails to import
is left out here; the notebook that needs it imports it in its own kernel and reports
the error there, in the cell that needs it.
"""

from __future__ import annotations

import importlib

from cachecost.report.notebook import skip_slow_imports

#: Imported in this order (ipykernel first: most of a kernel's start-up)
MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",     # the kernel resolves its debugger class at start (debugpy)
    "numpy",
    "pandas",
    "plotly.graph_objects",
    "plotly.io",
    "nbformat",               # plotly's renderers import it (and jsonschema) on first use
    "pyarrow.dataset",        # what reading a dataset's Parquet imports on first use
    "pyarrow.pandas_compat",
    "cachecost.report.notebook",
    "cachecost.dataset",
    "cachecost.model",
    "cachecost.report.figures",
    "cachecost.report.history",
    "cachecost.report.lead",
    "cachecost.report.backtest",
)


def preload() -> list[str]:
    """Import :data:`MODULES`; return the names that failed."""
    skip_slow_imports()    # as the notebooks' first cell does, before jsonschema loads
    failed = []
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  (the kernel imports it itself and says why)
            failed.append(name)
    try:
        warm_plotly()
    except Exception:  # noqa: BLE001  (a figure's own cell says what is wrong)
        failed.append("plotly warm-up")
    return failed


def warm_plotly() -> None:
    """Build and serialise a small figure: plotly loads its trace validators and its JSON
    and HTML writers on first use (~0.05-0.1 s a kernel otherwise)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    fig = go.Figure([go.Bar(x=[1], y=[1]), go.Scatter(x=[1], y=[1])])
    fig.update_layout(title="warm-up")
    pio.to_html(fig, include_plotlyjs=False, full_html=False, validate=False)


preload()
