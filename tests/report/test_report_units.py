"""The report runner's pieces that need no kernel: URL checks, plotly linking, errors, banner."""

from __future__ import annotations

import html
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from plotly.offline import get_plotlyjs

from cachecost.commands.report import parse_parameters
from cachecost.dataset.io import load_dataset
from cachecost.errors import CachecostError
from cachecost.report.build import (
    check_plotlyjs_not_inlined,
    declared_parameters,
    describe_execution_error,
    export_html,
    find_external_urls,
    find_report_notebooks,
    render_banner,
)
from cachecost.report.provenance import SYNTHETIC_NOTICE, collect_provenance, describe_data_source

from .sitekit import IMG_PAYLOAD, SCRIPT_PAYLOAD, write_notebook


def test_find_external_urls_reports_what_a_page_loads_not_what_it_links() -> None:
    page = """<html><head>
    <script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>
    <link rel="stylesheet" href="//fonts.example/x.css">
    <script src="../assets/plotly-3.0.0.min.js"></script>
    <link rel="stylesheet" href="style.css">
    </head><body><a href="https://gitlab.com/qemu-project/qemu">a link is fine</a>
    <img src="http://tracker.example/p.gif"><script>var s = "<script src='https://x'>";</script>
    </body></html>"""
    assert find_external_urls(page) == [
        "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js",
        "//fonts.example/x.css",
        "http://tracker.example/p.gif",
    ]


def _figure_notebook() -> object:
    """An executed-looking notebook with one figure rendered by the report's renderer."""
    import nbformat
    import plotly.graph_objects as go

    from cachecost.report.notebook import JsonAndHtmlRenderer

    bundle = JsonAndHtmlRenderer(config={}).to_mimebundle(go.Figure(go.Bar(y=[3, 1])).to_dict())
    cell = nbformat.v4.new_code_cell("fig")
    cell.outputs = [nbformat.v4.new_output("display_data", data=bundle)]
    return nbformat.v4.new_notebook(cells=[cell])


def test_figure_output_carries_json_and_html_but_no_library() -> None:
    nb = _figure_notebook()
    data = nb.cells[0].outputs[0]["data"]
    assert data["application/vnd.plotly.v1+json"]["data"][0]["y"] == [3, 1]
    assert "Plotly.newPlot" in data["text/html"]
    library = get_plotlyjs()
    assert library[:4096] not in json.dumps(data)
    assert len(json.dumps(data)) < 100_000  # the library alone is over 4 MB


def test_site_page_loads_the_shared_library_once_in_its_head() -> None:
    page = export_html(_figure_notebook(), title="t", banner_html="", css="",
                       plotlyjs_href="../assets/plotly.min.js")
    head = page[:page.index("</head>")]
    assert head.count('<script src="../assets/plotly.min.js"></script>') == 1
    assert page.count("plotly.min.js") == 1
    assert page.index("plotly.min.js") < page.index("Plotly.newPlot")
    check_plotlyjs_not_inlined(page)  # does not raise


def test_standalone_page_inlines_the_library_and_the_site_check_refuses_it() -> None:
    page = export_html(_figure_notebook(), title="t", banner_html="", css="")
    assert get_plotlyjs()[:4096] in page[:page.index("</head>")]
    with pytest.raises(CachecostError, match="plotly.js is inlined"):
        check_plotlyjs_not_inlined(page)


def test_page_without_figures_loads_no_plotly() -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t")])
    page = export_html(nb, title="t", banner_html="", css="", plotlyjs_href="p.js")
    assert "p.js" not in page and get_plotlyjs()[:4096] not in page


def test_execution_error_names_the_source_cell_not_papermills_index(tmp_path: Path) -> None:
    # Source cells (1-based): 1 heading, 2 setup, 3 parameters, 4 ok, 5 failing. papermill
    # inserts its injected-parameters cell after the parameters and reports 0-based index 5.
    nb = write_notebook(tmp_path / "01-x.ipynb", ["x = 1", "1 / 0"])
    exc = SimpleNamespace(cell_index=5, exec_count=4, source="1 / 0",
                          ename="ZeroDivisionError", evalue="division by zero")
    line = describe_execution_error(nb, exc, "some-scenario")
    assert line == (f"{nb}: cell 5 (In [4]) `1 / 0` failed for scenario 'some-scenario': "
                    "ZeroDivisionError: division by zero")
    before = SimpleNamespace(cell_index=1, exec_count=1, source="setup_notebook()",
                             ename="ImportError", evalue="boom")
    assert f"{nb}: cell 2 (In [1])" in describe_execution_error(nb, before, "s")


def test_report_notebooks_are_numbered_from_01(tmp_path: Path) -> None:
    for name in ("00-fetch-gitlab.ipynb", "02-b.ipynb", "01-a.ipynb", "notes.ipynb", "1-x.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in find_report_notebooks(tmp_path)] == ["01-a.ipynb", "02-b.ipynb"]
    with pytest.raises(CachecostError, match="no such notebooks directory"):
        find_report_notebooks(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CachecostError, match="no report notebooks"):
        find_report_notebooks(tmp_path / "empty")


def _provenance(**overrides) -> dict:
    prov = {
        "is_synthetic": False, "data_source": "https://gitlab.example group/p",
        "fetched_at": "2026-01-01T00:00:00Z", "scenario": "s", "scenario_title": "T",
        "scenario_sha256": "ab" * 32, "cachecost_version": "0.1.0", "git_commit": None,
        "git_is_dirty": None, "built_at": "2026-01-02T00:00:00Z",
    }
    return {**prov, **overrides}


def test_banner_escapes_every_value() -> None:
    prov = _provenance(data_source=f"https://gitlab.example/{IMG_PAYLOAD}",
                       scenario_title=SCRIPT_PAYLOAD)
    banner = render_banner(prov, home_href="../index.html",
                           nav=[{"title": SCRIPT_PAYLOAD, "href": "01-a.html",
                                 "is_current": False}])
    assert "<script>" not in banner and "<img" not in banner
    assert html.escape(SCRIPT_PAYLOAD, quote=False) in banner
    assert html.escape(IMG_PAYLOAD, quote=False).replace('"', "&#34;") in banner
    assert SYNTHETIC_NOTICE not in banner


def test_banner_says_synthetic_first() -> None:
    banner = render_banner(_provenance(is_synthetic=True, data_source="synthetic sample"),
                           home_href="index.html", nav=[])
    assert banner.index("SYNTHETIC SAMPLE DATA") < banner.index("synthetic sample")
    assert "sha256 abababababab" in banner


def test_provenance_of_the_sample(tmp_path: Path) -> None:
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_bytes(b"name: s\n")
    scenario = SimpleNamespace(name="s", title="S", sha256="f" * 64, path=scenario_file)
    prov = collect_provenance(load_dataset(), scenario, built_at="2026-01-01T00:00:00Z")
    sample_meta = json.loads((load_dataset().path / "metadata.json").read_text())
    assert prov["is_synthetic"] is True
    assert prov["data_source"] == "synthetic sample"
    assert prov["fetched_at"] == sample_meta["fetched_at"]
    assert prov["scenario_sha256"] == "f" * 64
    assert prov["built_at"] == "2026-01-01T00:00:00Z"
    assert prov["git_commit"] is None or len(prov["git_commit"]) == 40
    assert describe_data_source({"is_synthetic": False, "instance_url": "https://g.example",
                                 "project_path": "a/b"}) == "https://g.example a/b"


def test_parse_parameters_reads_yaml_scalars() -> None:
    assert parse_parameters(["n=3", "name=abc", "ratio=0.5", "empty="]) == {
        "n": 3, "name": "abc", "ratio": 0.5, "empty": ""}
    with pytest.raises(CachecostError, match="expected NAME=VALUE"):
        parse_parameters(["no-equals"])


def test_declared_parameters_survive_papermills_comment_parser(tmp_path: Path) -> None:
    # papermill's inspect_notebook drops a line whose comment holds "=": the runner must not
    nb = write_notebook(tmp_path / "01-p.ipynb", ["1"], params=(
        'url: str = "https://gitlab.com"  # GitLab instance ("" = CI_SERVER_URL)\n'
        'since: str = ""  # "" = all history\n'
        "jobs = 2  # plain assignment\n"
        "limit: int = 5"))
    assert declared_parameters(nb) == {"url", "since", "jobs", "limit"}
