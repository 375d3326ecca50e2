"""Stage 3, report: pages, figures and the mailing-list summary.

* :mod:`.build`       run the notebooks with papermill, export HTML, write the site
* :mod:`.notebook`    what a report notebook calls first (plotly renderer, banner)
* :mod:`.history`     CI-history tables from a dataset
* :mod:`.figures`     the plotly figures and HTML tables of the pages
* :mod:`.lead`        the answer first: recommendation, saving, registry, flips, prices
* :mod:`.recommendation`  the recommendation and what would flip it, in words
* :mod:`.tables`      the headline numbers per strategy, as tables
* :mod:`.summary`     the plain-text and Markdown summaries for the mailing list
* :mod:`.provenance`  where the data came from, shown on every page

    from cachecost.report import build_report
    build_report(out_dir="reports")
"""

import importlib
from typing import Any


def __getattr__(name: str) -> Any:  # PEP 562: the heavy imports wait until asked for
    if name in __all__:
        return getattr(importlib.import_module("cachecost.report.build"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["build_report"]
