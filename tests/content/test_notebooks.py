"""The report notebooks: thin and clean as committed, and they run on the sample.

Each notebook is executed once through papermill (in a temporary directory)
on the bundled sample data and the default scenario, with the real model.
"""

from __future__ import annotations

import ast

import nbformat
import papermill as pm
import pytest

from cachecost.config import NOTEBOOKS_DIR
from cachecost.errors import CachecostError
from cachecost.report.export import select_thread_cells
from cachecost.report.provenance import LAB_ONLY_MARK, SYNTHETIC_NOTICE

NOTEBOOKS = {"01-ci-history.ipynb": 9, "02-caching-decision.ipynb": 6}   # name -> charts
#: charts a package function draws beside the figures.plot_ cells: the decision page's
#: backtest section (cachecost.report.backtest.show_backtest)
SECTION_CHARTS = {"01-ci-history.ipynb": 0, "02-caching-decision.ipynb": 1}
PARAMETERS = {"data_dir", "scenario_path"}
#: The decision page also reads the results the report's runner computed (issue 20 item 6).
DECLARED = {"01-ci-history.ipynb": PARAMETERS,
            "02-caching-decision.ipynb": PARAMETERS | {"results_path"}}


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict:
    """name -> the notebook executed on the sample with the default scenario."""
    out_dir = tmp_path_factory.mktemp("nb")
    done = {}
    for name in sorted(NOTEBOOKS):
        pm.execute_notebook(str(NOTEBOOKS_DIR / name), str(out_dir / name),
                            parameters={"data_dir": "", "scenario_path": ""},
                            kernel_name="python3", progress_bar=False, cwd=str(out_dir))
        done[name] = nbformat.read(out_dir / name, as_version=4)
    return done


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_committed_thin_and_clean(name):
    nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    code = _code_cells(nb)
    assert "".join(code[0].source).split() == ["from", "cachecost.report.notebook", "import",
                                               "setup_notebook", "setup_notebook()"]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and code[1] is params[0]
    tree = ast.parse(params[0].source)
    assert {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign)} == DECLARED[name]
    assert all(isinstance(n, ast.AnnAssign) and n.annotation.id == "str" for n in tree.body)
    assert all("#" in line for line in params[0].source.splitlines())
    for cell in code:
        assert not cell.outputs and cell.execution_count is None
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, ast.For | ast.While | ast.FunctionDef | ast.ClassDef
                                  | ast.Lambda | ast.comprehension), (name, cell.source)
    # prose between the calls: every chart cell follows a markdown cell
    kinds = [c.cell_type for c in nb.cells]
    charts = [i for i, c in enumerate(nb.cells)
              if c.cell_type == "code" and "figures.plot_" in c.source]
    assert len(charts) == NOTEBOOKS[name]
    assert all(kinds[i - 1] == "markdown" for i in charts)


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_executes_without_error_and_draws_plotly(executed, name):
    nb = executed[name]
    outputs = [o for c in _code_cells(nb) for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"
                and "Traceback" in o.text]
    html_outputs = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    plots = [h for h in html_outputs if "Plotly.newPlot" in h]
    # the sample carries (synthetic) image changes, forks and registry usage: no
    # "not measured" note; tests/report/test_history_measured.py covers a dataset without
    notes = [h for h in html_outputs if "cachecost-not-measured" in h]
    assert len(plots) + len(notes) == NOTEBOOKS[name] + SECTION_CHARTS[name]
    assert len(notes) == 0
    # no plotly-mimetype-only output that nbconvert would drop from HTML
    assert not [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})
                and "text/html" not in o.data]


def test_decision_page_shows_the_answer_then_the_headline_table(executed):
    nb = executed["02-caching-decision.ipynb"]
    html_outputs = [o.data["text/html"] for c in _code_cells(nb) for o in c.outputs
                    if "text/html" in o.get("data", {})
                    and not o.get("metadata", {}).get(LAB_ONLY_MARK)]
    answer = html_outputs[0]      # the first screen: the recommendation and what flips it
    assert 'class="cachecost-answer"' in answer
    assert ("Switch from dind-inline-cache to" in answer or "Keep dind-inline-cache" in answer)
    assert "What would flip it:" in answer or "Nothing within the ranges" in answer
    assert "kaniko was archived upstream on 2025-06-03" in answer
    assert 'href="#src-kaniko-archived"' in answer
    first = html_outputs[1]
    assert "cachecost-table-headline" in first and "dind-inline-cache (*)" in first
    assert "cachecost-claims" in html_outputs[2]  # the thread's claims, right after it
    # the backtest (its drift warning first) and its chart, then the rest of the answer
    assert "How well the model predicts" in html_outputs[3]
    assert "Plotly.newPlot" in html_outputs[4]
    assert "More on the recommendation:" in html_outputs[5]
    assert "cachecost-table-assumptions" in html_outputs[-2]
    assert 'class="cachecost-sources"' in html_outputs[-1]
    # papermill writes the parameters into the output: only the two declared ones
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    tree = ast.parse(injected[0].source)
    assert {n.targets[0].id for n in tree.body if isinstance(n, ast.Assign)} == PARAMETERS


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_run_alone_on_the_synthetic_sample_it_says_so_first(executed, name):
    """Run alone (JupyterLab, no runner), a notebook on the synthetic sample showed its
    figures and the answer with no synthetic label; the built page has the banner, so the
    notice is marked lab-only and left out of it."""
    nb = executed[name]
    shown = [o for c in _code_cells(nb) for o in c.outputs if "text/html" in o.get("data", {})]
    assert SYNTHETIC_NOTICE.split(" \u2014")[0] in shown[0].data["text/html"]
    assert shown[0].metadata.get(LAB_ONLY_MARK) is True
    page = select_thread_cells(nb)
    assert not [o for c in page.cells if c.cell_type == "code" for o in c.outputs
                if SYNTHETIC_NOTICE.split(" \u2014")[0] in str(o.get("data", {}))]


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb")))
def test_papermill_lists_every_parameter(name):
    """`papermill --help-notebook` shows each parameter the cell declares, with its comment."""
    nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    declared = {n.target.id for n in ast.parse(cell.source).body if isinstance(n, ast.AnnAssign)}
    inferred = pm.inspect_notebook(str(NOTEBOOKS_DIR / name))
    assert set(inferred) == declared
    assert all(p["help"] for p in inferred.values())


def test_decision_page_reads_the_runners_results(tmp_path, sample):
    """Given results_path, the decision notebook shows the results in that file (the model
    does not run again): a results.json whose recommendation was altered by hand shows the
    altered winner; one of another scenario is refused in one line."""
    import json

    from cachecost.model.results import run_model
    from cachecost.model.scenario import load_scenario
    from cachecost.report.notebook import read_or_run_model

    scenario = load_scenario(None)
    results = run_model(sample, scenario, samples=200)
    results["recommendation"]["winner"] = "no-cache"           # not what the model says
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    assert read_or_run_model(str(path), sample, scenario)["recommendation"]["winner"] == \
        "no-cache"
    results["scenario_sha256"] = "0" * 64
    path.write_text(json.dumps(results))
    with pytest.raises(CachecostError, match="another scenario"):
        read_or_run_model(str(path), sample, scenario)
    ran = read_or_run_model("", sample, load_scenario(None))
    assert ran["scenario_sha256"] == scenario.sha256 and ran["samples"] == 20_000
