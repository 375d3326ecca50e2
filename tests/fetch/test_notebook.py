"""notebooks/00-fetch-gitlab.ipynb runs through papermill against the stand-in.

The URL, project and data directory go in as parameters; the token only
through the environment the kernel inherits, and it appears nowhere in the
executed notebook.
"""

from __future__ import annotations

import json
from pathlib import Path

import papermill

from cachecost.config import NOTEBOOKS_DIR
from cachecost.dataset.io import load_dataset
from cachecost.standin import StandinServer

from .fetchkit import PROJECT

NOTEBOOK = NOTEBOOKS_DIR / "00-fetch-gitlab.ipynb"


def test_notebook_is_committed_without_outputs() -> None:
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    assert "token" not in "".join(params[0]["source"]).lower().split("#")[0]


def test_notebook_fetches_through_papermill(standin: StandinServer, token_env: str,
                                            tmp_path: Path) -> None:
    out_nb = tmp_path / "executed.ipynb"
    data = tmp_path / "data"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out_nb), kernel_name="python3", progress_bar=False,
        parameters={"url": standin.url, "project": PROJECT, "data_dir": str(data),
                    "logs_per_image": 1})
    ds = load_dataset(data)
    assert len(ds.jobs) == len(standin.data.jobs())
    text = out_nb.read_text()
    # data from the stand-in are synthetic, and the dataset description says so
    assert "Fetched" in text and "SYNTHETIC" in text
    assert token_env not in text
    for f in data.iterdir():
        assert token_env.encode() not in f.read_bytes()
