"""Build small datasets by hand for the history tests.

Rows are given as dicts with only the columns a test cares about; every other
column gets a neutral default of its schema kind, so the frames have the
columns and dtypes of :func:`cachecost.dataset.io.empty_table`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cachecost.dataset import schema
from cachecost.dataset.io import Dataset, empty_table

_DEFAULTS = {"int": 0, "int?": pd.NA, "float": np.nan, "str": None, "bool": False,
             "timestamp": pd.NaT}


def table(name: str, rows: list[dict]) -> pd.DataFrame:
    """A table with the schema's columns and dtypes holding ``rows``."""
    empty = empty_table(name)
    if not rows:
        return empty
    cols = schema.ALL_TABLES[name]
    unknown = set().union(*rows) - {c.name for c in cols}
    assert not unknown, f"not columns of {name}: {unknown}"
    data = {c.name: [r.get(c.name, _DEFAULTS[c.kind]) for r in rows] for c in cols}
    frame = pd.DataFrame(data)
    for c in cols:
        if c.kind == "timestamp":
            frame[c.name] = pd.to_datetime(frame[c.name], utc=True)
        else:
            frame[c.name] = frame[c.name].astype(empty[c.name].dtype)
    return frame


def make_dataset(*, pipelines=(), jobs=(), repositories=(), tags=()) -> Dataset:
    """A Dataset from row dicts (missing tables empty)."""
    return Dataset(
        path=Path("/nonexistent/hand-built"),
        metadata={"schema_version": 1, "source": "test", "instance_url": None,
                  "project_path": None, "fetched_at": "2025-01-01T00:00:00Z",
                  "is_synthetic": True},
        pipelines=table("pipelines", list(pipelines)),
        jobs=table("jobs", list(jobs)),
        registry_repositories=table("registry_repositories", list(repositories)),
        registry_tags=table("registry_tags", list(tags)),
    )
