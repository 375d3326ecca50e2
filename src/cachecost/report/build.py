"""Build the decision report: every notebook for every scenario, to an offline site.

    from cachecost.report.build import build_report
    build = build_report(None, None, "reports")     # default scenarios, bundled sample
    build.index_path                                 # reports/index.html

For each scenario and each report notebook (``notebooks/NN-*.ipynb``, NN >= 01)
the runner

1. checks the parameters it will pass (``data_dir``, ``scenario_path``, any
   extras) against the notebook's ``parameters`` cell and rejects unknown
   names (papermill itself only warns);
2. executes the notebook with papermill's Python API, the pages of all
   scenarios in parallel across cores; a failing cell stops the build with one
   line naming the notebook, the cell and the error;
3. exports HTML with the code hidden through nbconvert and the ``cachecost``
   template (JupyterLab's, minus require.js, MathJax and mermaid from CDNs)
   with a provenance banner on top, and checks that no page loads anything
   from the network;
4. writes ``OUT/<scenario>/<notebook>.html`` with the executed ``.ipynb``
   beside it, ``results.json`` (:func:`cachecost.model.simulate.run_model`, sorted
   keys), ``summary.txt`` and ``summary.md`` (:mod:`cachecost.report.summary`), then
   ``OUT/index.html`` with the scenarios side by side.

Site mode keeps one ``OUT/assets/plotly-<version>.min.js`` that every page
loads with a relative ``<script src>`` (plotly's ``notebook`` renderer inlines
the library into the first figure's output; the runner swaps it for the
tag). Standalone mode leaves it inlined so any single page can be hosted alone.

A scenario is built in a hidden staging directory and renamed into place only
when all of it succeeded, so a failed build leaves the previous one intact.
It is rebuilt only when its input fingerprint changes: the data files, the
scenario file, the notebooks, the package's source files and the options
(kept per scenario in ``OUT/.cachecost-build.json``); ``force=True`` rebuilds.
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import hashlib
import json
import math
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cachecost import __version__
from cachecost.config import (
    NOTEBOOKS_DIR,
    PACKAGE_DIR,
    RAW_DATA_DIR,
    REPORTS_DIR,
    SCENARIOS_DIR,
    resolve_data_dir,
)
from cachecost.dataset.io import atomic_path, read_metadata
from cachecost.errors import CachecostError, user_error_names
from cachecost.report.notebook import skip_slow_imports
from cachecost.report.provenance import (
    SYNTHETIC_NOTICE,
    collect_provenance,
    describe_data_source,
    find_git_commit,
    format_build_time,
    has_uncommitted_changes,
)

KERNEL_NAME = "python3"
# ipykernel >= 7 logs on stderr, for every kernel, that its local TCP socket is unencrypted
# and, at shutdown, the interrupt nbclient sends. Cell errors still reach the build's error
# line through papermill, and a dead kernel raises DeadKernelError.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
FETCH_NOTEBOOK = "00-fetch-gitlab.ipynb"
BUILD_STATE_FILE = ".cachecost-build.json"
ASSETS_DIR = "assets"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
NBCONVERT_TEMPLATE = "cachecost"
DEFAULT_PARAMETERS = ("data_dir", "scenario_path")
SCENARIO_FILES = ("results.json", "summary.txt", "summary.md")

_REPORT_NOTEBOOK = re.compile(r"^(\d{2})-[A-Za-z0-9][A-Za-z0-9._-]*\.ipynb$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Element attributes that make a browser fetch something while loading the page.
_LOADING_ATTRS = {
    "script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
    "video": "src", "audio": "src", "embed": "src", "object": "data", "track": "src",
}  # fmt: skip
_STATE_VERSION = 1
_RESERVED_NAMES = (ASSETS_DIR, "fetch")  # OUT/assets/, OUT/fetch/ (the fetch notebook's run)


@dataclass
class ReportBuild:
    """What :func:`build_report` did: where the site is, which scenarios it (re)built."""

    out_dir: Path
    index_path: Path
    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pages: list[Path] = field(default_factory=list)
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class PageTask:
    """One notebook run for one scenario: everything a worker process needs."""

    notebook: Path
    stage_dir: Path
    cwd: Path
    parameters: dict[str, Any]
    scenario: str
    title: str
    banner_html: str
    css: str
    plotlyjs_href: str | None  # None: leave plotly.js inlined (standalone)
    lab_css_href: str | None  # None: inline JupyterLab's style sheet (standalone)


@dataclass(frozen=True)
class ResultsTask:
    """One model run for one scenario (results.json and the summaries)."""

    data_dir: str | None
    scenario_path: Path
    scenario: str


# --------------------------------------------------------------------------- notebooks


def find_report_notebooks(notebooks_dir: Path) -> list[Path]:
    """Return the report notebooks ``NN-name.ipynb`` with NN >= 01, in order."""
    if not notebooks_dir.is_dir():
        raise CachecostError(f"{notebooks_dir}: no such notebooks directory")
    found = sorted(
        p
        for p in notebooks_dir.iterdir()
        if (m := _REPORT_NOTEBOOK.match(p.name)) and int(m.group(1)) >= 1 and p.is_file()
    )
    if not found:
        raise CachecostError(f"{notebooks_dir}: no report notebooks (NN-name.ipynb, NN >= 01)")
    return found


def read_page_title(notebook: Path) -> str:
    """Return the notebook's first markdown ``# heading``, else a title from its file name."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CachecostError(f"{notebook}: not a readable notebook ({exc})") from None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return notebook.stem.split("-", 1)[1].replace("-", " ").capitalize()


def _assigned_names(source: str) -> set[str]:
    """Return the names a Python cell assigns at top level (``x = 1``, ``x: int = 1``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def declared_parameters(notebook: Path) -> set[str]:
    """Return the names the notebook's ``parameters`` cell declares.

    ``papermill.inspect_notebook`` is the reference, but its line parser skips
    a line whose comment holds ``=`` (``x: str = ""  # "" = default``), so the
    names the cell assigns (read with :mod:`ast`) are added to its answer.
    """
    skip_slow_imports()
    import papermill

    try:
        declared = set(papermill.inspect_notebook(str(notebook)))
    except Exception as exc:  # papermill raises many types for unreadable notebooks
        raise CachecostError(f"{notebook}: cannot read its parameters ({exc})") from None
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            declared |= _assigned_names("".join(source) if isinstance(source, list) else source)
    return declared


def check_parameters(notebook: Path, parameters: dict[str, Any]) -> None:
    """Raise CachecostError when a parameter is not declared in the notebook's parameters cell.

    papermill only logs a warning for unknown names and injects them anyway, so a
    typo would silently leave the notebook on its default.
    """
    declared = declared_parameters(notebook)
    unknown = sorted(set(parameters) - declared)
    if not unknown:
        return
    names = ", ".join(sorted(declared)) or "none (no cell tagged 'parameters')"
    raise CachecostError(
        f"{notebook}: unknown parameter {unknown[0]!r}"
        + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
        + f"; its parameters cell declares: {names}"
    )


def _parameters_cell_index(notebook: Path) -> int | None:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb.get("cells", [])):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    return None


def describe_execution_error(notebook: Path, exc: Exception, scenario: str | None) -> str:
    """Return one line naming the notebook, the failing cell (as in the source) and the error.

    papermill counts cells in the executed notebook, where it inserted the
    ``injected-parameters`` cell after the ``parameters`` cell (or first when
    there is none); the number printed is the 1-based cell of the source file.
    """
    index = getattr(exc, "cell_index", None)
    where = "a cell"
    if isinstance(index, int):
        params_at = _parameters_cell_index(notebook)
        injected_at = 0 if params_at is None else params_at + 1
        if index == injected_at:
            where = "the injected parameters cell"
        else:
            where = f"cell {index if index > injected_at else index + 1}"
        exec_count = getattr(exc, "exec_count", None)
        if exec_count is not None:
            where += f" (In [{exec_count}])"
        source = (getattr(exc, "source", "") or "").strip().splitlines()
        if source:
            where += f" `{source[0][:60]}`"
    ename = getattr(exc, "ename", None) or type(exc).__name__
    evalue = str(getattr(exc, "evalue", None) or exc).strip() or "(no message)"
    if len(evalue) > 300:
        evalue = evalue[:297] + "..."
    for_scenario = f" for scenario {scenario!r}" if scenario else ""
    return f"{notebook}: {where} failed{for_scenario}: {ename}: {evalue}"


# --------------------------------------------------------------------------- HTML


class _ResourceFinder(HTMLParser):
    """Collect the URLs a page loads (not links it merely points to)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = _LOADING_ATTRS.get(tag)
        for name, value in attrs:
            if value and (name == wanted or (tag == "link" and name == "href")):
                self.urls.append(value.strip())


def find_external_urls(html: str) -> list[str]:
    """Return every URL the page would load from another host (``http:``, ``https:``, ``//``)."""
    finder = _ResourceFinder()
    finder.feed(html)
    finder.close()
    external = []
    for url in finder.urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ftp", "ws", "wss") or url.startswith("//"):
            external.append(url)
    return external


def plotly_asset_name() -> str:
    """Return the site's shared plotly.js file name, ``plotly-<plotly.js version>.min.js``."""
    from plotly.offline import get_plotlyjs_version

    return f"plotly-{get_plotlyjs_version()}.min.js"


def link_plotlyjs(html: str, href: str) -> str:
    """Replace the plotly.js that plotly's notebook renderer inlined with ``<script src=href>``.

    Raises CachecostError when a copy of the library stays inlined (a changed
    plotly output format), so a site page never silently carries 4 MB.
    """
    from plotly.offline import get_plotlyjs

    library = get_plotlyjs()
    html = html.replace(f"<script>{library}</script>", f'<script src="{href}"></script>')
    if library[:4096] in html:
        raise CachecostError("plotly.js is inlined in a form the runner does not recognize")
    return html


def _html_exporter() -> Any:
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name=NBCONVERT_TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES_DIR / "nbconvert")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def read_lab_css() -> str:
    """Return JupyterLab's page style (nbconvert's ``lab`` template, light theme) as one sheet."""
    env = _html_exporter().environment
    return "\n".join(
        env.loader.get_source(env, f"static/{name}")[0] for name in ("index.css", "theme-light.css")
    )


def export_html(
    nb: Any, *, title: str, banner_html: str, css: str, lab_css_href: str | None = None
) -> str:
    """Return a notebook as one HTML page: code and prompts hidden, banner on top, no CDN.

    With ``lab_css_href`` the page links JupyterLab's style sheet instead of inlining it.
    """
    resources = {
        "metadata": {"name": title},
        "cachecost": {"banner": banner_html, "css": css, "lab_css_href": lab_css_href},
    }
    body, _ = _html_exporter().from_notebook_node(nb, resources=resources)
    return body


def _jinja_env() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def read_site_css() -> str:
    """Return the site's style sheet (banner and index)."""
    return (TEMPLATES_DIR / "site.css").read_text(encoding="utf-8")


def render_banner(prov: dict, *, home_href: str, nav: list[dict]) -> str:
    """Return the provenance banner as HTML; every value is escaped as text."""
    import markupsafe

    return markupsafe.Markup(_jinja_env().get_template("banner.html.j2").render(
        prov=prov, home_href=home_href, nav=nav, synthetic_notice=SYNTHETIC_NOTICE
    ))


# --------------------------------------------------------------------------- workers


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def execute_page(task: PageTask) -> dict[str, Any]:
    """Run one notebook and export its page (in a worker process).

    Returns ``{"html": path, "size_bytes": n}`` or ``{"error": one line}``:
    errors travel as text because papermill's exceptions do not pickle.
    """
    try:
        skip_slow_imports()
        import nbformat
        import papermill
        from papermill.exceptions import PapermillExecutionError

        ipynb = task.stage_dir / task.notebook.name
        try:
            papermill.execute_notebook(
                str(task.notebook),
                str(ipynb),
                parameters=task.parameters,
                kernel_name=KERNEL_NAME,
                language="python",
                cwd=str(task.cwd),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                extra_arguments=KERNEL_ARGUMENTS,
            )
        except PapermillExecutionError as exc:
            return {"error": describe_execution_error(task.notebook, exc, task.scenario)}
        nb = nbformat.read(str(ipynb), as_version=4)
        html = export_html(nb, title=task.title, banner_html=task.banner_html, css=task.css,
                           lab_css_href=task.lab_css_href)
        if task.plotlyjs_href is not None:
            html = link_plotlyjs(html, task.plotlyjs_href)
        external = find_external_urls(html)
        if external:
            return {"error": f"{task.notebook}: its page would load {external[0]} "
                             f"from the network (scenario {task.scenario!r})"}
        target = ipynb.with_suffix(".html")
        _write_text(target, html)
        return {"html": str(target), "size_bytes": len(html.encode("utf-8"))}
    except CachecostError as exc:
        return {"error": f"{task.notebook}: {exc} (scenario {task.scenario!r})"}
    except Exception as exc:  # a dead kernel, a missing kernelspec, a template error ...
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        return {"error": f"{task.notebook}: {type(exc).__name__}: {first} "
                         f"(scenario {task.scenario!r})"}


def _finite_or_none(value: Any) -> Any:
    """Return JSON-safe data: non-finite floats (inf, nan) become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    return value


def compute_results(task: ResultsTask) -> dict[str, Any]:
    """Run the model for one scenario (in a worker); ``{"results": dict}`` or ``{"error": ...}``."""
    try:
        from cachecost.dataset.io import load_dataset
        from cachecost.model.scenario import load_scenario
        from cachecost.model.simulate import run_model

        results = run_model(load_dataset(task.data_dir), load_scenario(task.scenario_path))
        return {"results": _finite_or_none(results)}
    except CachecostError as exc:
        return {"error": f"{task.scenario_path}: {exc}"}
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        return {"error": f"cachecost.model.simulate.run_model failed for scenario {task.scenario!r}: "
                         f"{type(exc).__name__}: {first}"}


def _run_tasks(tasks: list[Any], jobs: int) -> list[dict[str, Any]]:
    """Run page and results tasks, ``jobs`` at a time; stop at the first error."""
    def run_one(task: Any) -> dict[str, Any]:
        return execute_page(task) if isinstance(task, PageTask) else compute_results(task)

    if jobs <= 1:
        outcomes = []
        for task in tasks:
            outcomes.append(run_one(task))
            if "error" in outcomes[-1]:
                raise CachecostError(outcomes[-1]["error"])
            _report_progress(task, outcomes[-1])
        return outcomes
    outcomes_by_index: dict[int, dict[str, Any]] = {}
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {
            pool.submit(execute_page if isinstance(t, PageTask) else compute_results, t): i
            for i, t in enumerate(tasks)
        }
        try:
            for future in cf.as_completed(futures):
                i = futures[future]
                try:
                    outcome = future.result()
                except cf.process.BrokenProcessPool:
                    raise CachecostError(
                        f"a worker process died while building {_describe_task(tasks[i])} "
                        "(out of memory? or build_report called from a script without "
                        "`if __name__ == '__main__':`); try --jobs 1"
                    ) from None
                if "error" in outcome:
                    raise CachecostError(outcome["error"])
                outcomes_by_index[i] = outcome
                _report_progress(tasks[i], outcome)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return [outcomes_by_index[i] for i in range(len(tasks))]


def _describe_task(task: Any) -> str:
    if isinstance(task, PageTask):
        return f"{task.scenario}/{task.notebook.stem}.html"
    return f"{task.scenario}/results.json"


def _report_progress(task: Any, outcome: dict[str, Any]) -> None:
    what = _describe_task(task)
    if "size_bytes" in outcome:
        what += f" ({outcome['size_bytes'] / 1024:,.0f} KiB)"
    print(f"cachecost: built {what}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- fingerprints


def _hash_tree(h: Any, root: Path, label: str, *, skip_dirs: frozenset[str] = frozenset()) -> None:
    """Feed every regular file under ``root`` (relative path and bytes) into ``h``."""
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and not (set(p.relative_to(root).parts[:-1]) & skip_dirs)
        and not p.name.endswith((".pyc", ".tmp"))
    )
    for p in files:
        h.update(f"{label}:{p.relative_to(root).as_posix()}\0".encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())


def _package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0], "cachecost": __version__}
    for dist in ("plotly", "papermill", "nbconvert", "nbclient", "ipykernel", "pandas", "numpy"):
        try:
            versions[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            versions[dist] = "absent"
    return versions


def fingerprint_inputs(
    data_path: Path, notebooks: list[Path], options: dict[str, Any]
) -> dict[str, str]:
    """Return the sha256 of each input every scenario shares: data, notebooks, package, options.

    Kept per part so a rebuild can say what changed.
    """
    parts = {}
    h = hashlib.sha256()
    _hash_tree(h, data_path, "data")
    parts["data"] = h.hexdigest()
    h = hashlib.sha256()
    for nb in notebooks:
        h.update(f"notebook:{nb.name}\0".encode())
        h.update(hashlib.sha256(nb.read_bytes()).digest())
    parts["notebooks"] = h.hexdigest()
    h = hashlib.sha256()
    _hash_tree(h, PACKAGE_DIR, "package", skip_dirs=frozenset({"__pycache__"}))
    parts["package"] = h.hexdigest()
    parts["options"] = hashlib.sha256(
        json.dumps({**options, "versions": _package_versions()}, sort_keys=True).encode()
    ).hexdigest()
    return parts


def read_build_state(out_dir: Path) -> dict[str, Any]:
    """Return the last build's record (empty when absent or unreadable)."""
    try:
        state = json.loads((out_dir / BUILD_STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    if not isinstance(state, dict) or state.get("version") != _STATE_VERSION:
        return {}
    return state


# --------------------------------------------------------------------------- scenarios


def find_default_scenarios() -> list[Path]:
    """Return every ``scenarios/*.yaml`` of the project, sorted."""
    found = sorted(SCENARIOS_DIR.glob("*.yaml"))
    if not found:
        raise CachecostError(f"{SCENARIOS_DIR}: no scenario files (*.yaml)")
    return found


def load_scenarios(paths: list[Path] | None) -> list[Any]:
    """Load the scenarios (default: all of ``scenarios/``); names must be unique and safe."""
    from cachecost.model.scenario import load_scenario

    paths = list(paths) if paths else find_default_scenarios()
    loaded, seen = [], {}
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise CachecostError(f"{path}: no such scenario file")
        scenario = load_scenario(path)
        if not _SAFE_NAME.match(scenario.name) or scenario.name in _RESERVED_NAMES:
            raise CachecostError(
                f"{path}: scenario name {scenario.name!r} cannot name a report directory "
                "(letters, digits, '.', '_', '-'; not 'assets' or 'fetch')"
            )
        if scenario.name in seen:
            raise CachecostError(f"{path}: scenario name {scenario.name!r} also used by "
                                 f"{seen[scenario.name]}")
        seen[scenario.name] = path
        loaded.append(scenario)
    return loaded


# --------------------------------------------------------------------------- index


def _format_usd(value: Any) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}" if abs(value) < 10 else f"{sign}${abs(value):,.0f}"


def _format_signed_usd(value: Any) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return ""
    return ("+" if value > 0 else "") + _format_usd(value)


def _quantile(q: Any, key: str) -> Any:
    return q.get(key) if isinstance(q, dict) else None


def summarize_scenario_for_index(results: dict[str, Any]) -> dict[str, Any]:
    """Return the index's numbers for one scenario from its ``results.json``."""
    strategies = results.get("strategies", {})
    rec = results.get("recommendation") or {}
    winner = rec.get("winner")
    cells = {}
    for name, s in strategies.items():
        total = s.get("total_cost_usd_per_month")
        delta = _quantile(s.get("delta_vs_baseline_usd_per_month"), "p50")
        cells[name] = {
            "total": _format_usd(_quantile(total, "p50")),
            "range": f"p10 {_format_usd(_quantile(total, 'p10'))} "
                     f"\u2013 p90 {_format_usd(_quantile(total, 'p90'))}",
            "delta": f"{_format_signed_usd(delta)} vs baseline" if delta else "",
            "is_baseline": bool(s.get("is_baseline")),
            "is_winner": name == winner,
            "title": s.get("title", name),
        }
    if winner:
        title = strategies.get(winner, {}).get("title", winner)
        saving = rec.get("saving_usd_per_month")
        recommendation = f"{title}" + (
            f": saves {_format_usd(saving)}/month over the runner-up"
            if isinstance(saving, int | float) and saving > 0 else ""
        )
    else:
        recommendation = "-"
    return {"cells": cells, "recommendation": recommendation}


def render_index(
    out_dir: Path, scenarios: list[Any], pages: list[dict], state: dict, prov: dict
) -> str:
    """Return ``index.html``: the scenarios side by side with their headline numbers."""
    cards, comparison_names, titles, samples = [], [], {}, set()
    for scenario in scenarios:
        results = json.loads((out_dir / scenario.name / "results.json").read_text("utf-8"))
        summary = summarize_scenario_for_index(results)
        samples.add(results.get("samples"))
        for name, cell in summary["cells"].items():
            if name not in titles:
                comparison_names.append(name)
                titles[name] = cell["title"]
        cards.append({
            "name": scenario.name,
            "title": scenario.title,
            "description": scenario.description,
            "sha256": scenario.sha256,
            "built_at": state["scenarios"][scenario.name]["built_at"],
            "href": f"{scenario.name}/{pages[-1]['stem']}.html",
            "pages": [
                {"title": p["title"], "href": f"{scenario.name}/{p['stem']}.html",
                 "ipynb_href": f"{scenario.name}/{p['stem']}.ipynb"}
                for p in pages
            ],
            "recommendation": summary["recommendation"],
            "cells": summary["cells"],
        })
    comparison = [
        {"name": name, "title": titles[name], "cells": [c["cells"].get(name) for c in cards]}
        for name in comparison_names
    ]
    import markupsafe

    samples.discard(None)
    samples_text = (
        f"{samples.pop():,}" if len(samples) == 1 else "the scenario's"
    )
    env = _jinja_env()
    banner = render_banner(prov, home_href="index.html", nav=[])
    return env.get_template("index.html.j2").render(
        css=markupsafe.Markup(read_site_css()),  # our own file, not data
        banner=banner,
        scenarios=cards,
        comparison=comparison,
        samples_text=samples_text,
    )


# --------------------------------------------------------------------------- fetch


def default_fetch_dir(url: str, project: str) -> Path:
    """Return where a fetch stores its dataset: ``data/raw/<host>/<project path>``."""
    host = urlsplit(url).netloc or url
    return RAW_DATA_DIR / host / project.strip("/")


def run_fetch(fetch_params: dict[str, Any], notebooks_dir: Path, out_dir: Path) -> Path:
    """Run ``00-fetch-gitlab.ipynb`` with papermill; return the dataset directory it filled.

    ``fetch_params`` holds the notebook's parameters (``url``, ``project``,
    ``since``, ``data_dir``), never a token: the fetch code reads credentials
    from the environment. The executed notebook is kept as
    ``OUT/fetch/00-fetch-gitlab.ipynb``.
    """
    skip_slow_imports()
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = notebooks_dir / FETCH_NOTEBOOK
    if not notebook.is_file():
        raise CachecostError(f"{notebook}: missing; --fetch runs this notebook first")
    params = {k: v for k, v in fetch_params.items() if v not in (None, "")}
    if not params.get("url") or not params.get("project"):
        raise CachecostError("--fetch needs --url URL and --project GROUP/PROJECT")
    params.setdefault("data_dir", str(default_fetch_dir(params["url"], params["project"])))
    check_parameters(notebook, params)
    executed = out_dir / "fetch" / FETCH_NOTEBOOK
    executed.parent.mkdir(parents=True, exist_ok=True)
    print(f"cachecost: fetching {params['project']} from {params['url']}", file=sys.stderr)
    try:
        papermill.execute_notebook(
            str(notebook), str(executed), parameters=params, kernel_name=KERNEL_NAME, language="python",
            cwd=str(notebooks_dir), progress_bar=False, log_output=True,
            extra_arguments=KERNEL_ARGUMENTS,
        )
    except PapermillExecutionError as exc:
        if exc.ename in user_error_names():   # the fetch's own one line, no cell framing
            raise CachecostError(exc.evalue) from None
        raise CachecostError(describe_execution_error(notebook, exc, None)) from None
    return Path(params["data_dir"])


# --------------------------------------------------------------------------- build


def _scenario_outputs_exist(out_dir: Path, name: str, pages: list[dict]) -> bool:
    folder = out_dir / name
    wanted = [*SCENARIO_FILES, *(f"{p['stem']}.html" for p in pages)]
    return all((folder / f).is_file() for f in wanted)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap_into_place(stage: Path, target: Path) -> None:
    """Replace ``target`` by ``stage`` with two renames (the old one removed after)."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(target, old)
    os.replace(stage, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def lab_css_asset_name(lab_css: str) -> str:
    """Return the shared style sheet's file name, ``jupyterlab-<sha256 prefix>.css``."""
    return f"jupyterlab-{hashlib.sha256(lab_css.encode()).hexdigest()[:12]}.css"


def _write_asset(out_dir: Path, name: str, text: str) -> None:
    """Write ``OUT/assets/<name>`` unless it already holds ``text``."""
    target = out_dir / ASSETS_DIR / name
    data = text.encode("utf-8")
    if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
        return
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_site_assets(out_dir: Path) -> list[str]:
    """Write the files every site-mode page shares: plotly.js and JupyterLab's style sheet."""
    from plotly.offline import get_plotlyjs

    skip_slow_imports()
    lab_css = read_lab_css()
    names = [plotly_asset_name(), lab_css_asset_name(lab_css)]
    _write_asset(out_dir, names[0], get_plotlyjs())
    _write_asset(out_dir, names[1], lab_css)
    return names


def _dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"


def build_report(
    scenarios: list[Path] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    is_standalone: bool = False,
    base_url: str | None = None,
    force: bool = False,
    jobs: int | None = None,
    fetch_params: dict[str, Any] | None = None,
    notebooks_dir: str | os.PathLike[str] | None = None,
    parameters: dict[str, Any] | None = None,
) -> ReportBuild:
    """Build the report site (see the module docstring); return what was built.

    Args:
        scenarios: scenario YAML files; None means every ``scenarios/*.yaml``.
        data_dir: dataset directory; None means the bundled synthetic sample.
        out_dir: site directory; None means ``reports/``.
        is_standalone: inline plotly.js into every page instead of sharing one file.
        base_url: where the site is published (used by the summaries' links).
        force: rebuild even when the inputs are unchanged.
        jobs: parallel workers (default: the number of CPUs).
        fetch_params: run ``00-fetch-gitlab.ipynb`` first with these parameters.
        notebooks_dir: where the notebooks are (default ``notebooks/``).
        parameters: extra notebook parameters passed to every report notebook.

    Raises:
        CachecostError: one line naming the notebook, cell, file or option at fault.
    """
    started = time.perf_counter()
    notebooks_path = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    out_path = Path(out_dir) if out_dir else REPORTS_DIR
    if out_path.exists() and not out_path.is_dir():
        raise CachecostError(f"{out_path}: exists and is not a directory")
    if base_url is not None and (
        urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc
    ):
        raise CachecostError(f"--base-url {base_url!r}: expected an http(s):// URL")
    if fetch_params is not None:
        data_dir = run_fetch(fetch_params, notebooks_path, out_path)
    data_path = resolve_data_dir(data_dir)
    data_meta = read_metadata(data_path) if data_path.is_dir() else None
    if data_meta is None:
        raise CachecostError(f"{data_path}: no such data directory")
    notebooks = find_report_notebooks(notebooks_path)
    loaded = load_scenarios(scenarios)
    extra = dict(parameters or {})
    for name in DEFAULT_PARAMETERS:
        if name in extra:
            raise CachecostError(f"parameter {name!r} is set by the runner; use the option")
    data_param = "" if data_dir is None or str(data_dir) == "" else str(data_path)
    for nb in notebooks:
        check_parameters(nb, {**dict.fromkeys(DEFAULT_PARAMETERS), **extra})
    pages = [{"stem": nb.stem, "title": read_page_title(nb), "notebook": nb} for nb in notebooks]

    options = {"standalone": is_standalone, "base_url": base_url, "parameters": extra,
               "data_param": data_param}
    shared = fingerprint_inputs(data_path, notebooks, options)
    state = read_build_state(out_path)
    old = state.get("scenarios", {}) if state else {}
    inputs = {s.name: {**shared, "scenario": s.sha256} for s in loaded}
    fingerprints = {
        name: hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
        for name, parts in inputs.items()
    }
    todo = []
    for s in loaded:
        before = old.get(s.name, {})
        if force:
            reason = "--force"
        elif not _scenario_outputs_exist(out_path, s.name, pages):
            reason = "outputs missing"
        elif before.get("fingerprint") != fingerprints[s.name]:
            changed = [k for k, v in inputs[s.name].items() if before.get("inputs", {}).get(k) != v]
            reason = "changed: " + ", ".join(changed or ["inputs"])
        else:
            continue
        print(f"cachecost: building {s.name} ({reason})", file=sys.stderr, flush=True)
        todo.append(s)
    build = ReportBuild(out_dir=out_path, index_path=out_path / "index.html")
    build.skipped = [s.name for s in loaded if s not in todo]
    out_path.mkdir(parents=True, exist_ok=True)
    new_state = {"version": _STATE_VERSION, "scenarios": dict(old)}

    if todo:
        _build_scenarios(todo, pages, data_dir, data_param, out_path, extra, is_standalone,
                         base_url, jobs, build, new_state, fingerprints, inputs)
    assets = state.get("assets", []) if state else []
    if not is_standalone and (
        build.built or not assets or not all((out_path / ASSETS_DIR / a).is_file() for a in assets)
    ):
        assets = write_site_assets(out_path)
    new_state["assets"] = assets

    index_fp = hashlib.sha256(
        json.dumps([[s.name, new_state["scenarios"][s.name]["fingerprint"]] for s in loaded])
        .encode()
    ).hexdigest()
    if build.built or force or state.get("index_fingerprint") != index_fp \
            or not build.index_path.is_file():
        prov = {
            "is_synthetic": bool(data_meta.get("is_synthetic")),
            "data_source": describe_data_source(data_meta),
            "fetched_at": str(data_meta.get("fetched_at") or "unknown"),
            "scenario": None,
            "cachecost_version": __version__,
            "git_commit": find_git_commit(),
            "git_is_dirty": has_uncommitted_changes(),
            "built_at": format_build_time(),
        }
        _write_text(build.index_path, render_index(out_path, loaded, pages, new_state, prov))
    new_state["index_fingerprint"] = index_fp
    if new_state != state:  # a no-op build rewrites nothing
        with atomic_path(out_path / BUILD_STATE_FILE) as tmp:
            tmp.write_text(_dump_json(new_state), encoding="utf-8")
    build.elapsed_s = time.perf_counter() - started
    return build


def _build_scenarios(
    todo: list[Any], pages: list[dict], data_dir: Any, data_param: str, out_path: Path,
    extra: dict[str, Any], is_standalone: bool, base_url: str | None, jobs: int | None,
    build: ReportBuild, new_state: dict, fingerprints: dict[str, str],
    inputs: dict[str, dict[str, str]],
) -> None:
    """Run every page and model task of the scenarios in ``todo``; swap them into place."""
    from cachecost.dataset.io import load_dataset
    from cachecost.report.summary import format_summary_markdown, format_summary_text

    dataset = load_dataset(data_dir)
    built_at = format_build_time()
    css = read_site_css()
    skip_slow_imports()
    href = css_href = None
    if not is_standalone:
        href = f"../{ASSETS_DIR}/{plotly_asset_name()}"
        css_href = f"../{ASSETS_DIR}/{lab_css_asset_name(read_lab_css())}"
    stages: dict[str, Path] = {}
    provs: dict[str, dict] = {}
    tasks: list[Any] = []
    try:
        for scenario in todo:
            stage = Path(tempfile.mkdtemp(prefix=f".{scenario.name}.build-", dir=out_path))
            stage.chmod(0o777 & ~_current_umask())  # mkdtemp makes it private (0700)
            stages[scenario.name] = stage
            prov = collect_provenance(dataset, scenario, built_at=built_at)
            provs[scenario.name] = prov
            for page in pages:
                nav = [{"title": p["title"], "href": f"{p['stem']}.html",
                        "is_current": p is page} for p in pages]
                tasks.append(PageTask(
                    notebook=page["notebook"].resolve(),
                    stage_dir=stage,
                    cwd=page["notebook"].resolve().parent,
                    parameters={"data_dir": data_param,
                                "scenario_path": str(Path(scenario.path).resolve()), **extra},
                    scenario=scenario.name,
                    title=f"{page['title']} \u2014 {scenario.title}",
                    banner_html=render_banner(prov, home_href="../index.html", nav=nav),
                    css=css,
                    plotlyjs_href=href,
                    lab_css_href=css_href,
                ))
            tasks.append(ResultsTask(data_dir=data_param or None,
                                     scenario_path=Path(scenario.path).resolve(),
                                     scenario=scenario.name))
        workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
        outcomes = _run_tasks(tasks, workers)
        for task, outcome in zip(tasks, outcomes, strict=True):
            if isinstance(task, PageTask):
                build.pages.append(out_path / task.scenario / Path(outcome["html"]).name)
                continue
            stage, prov = stages[task.scenario], provs[task.scenario]
            results = outcome["results"]
            _write_text(stage / "results.json", _dump_json(results))
            _write_text(stage / "summary.txt", format_summary_text(results, prov, base_url))
            _write_text(stage / "summary.md", format_summary_markdown(results, prov, base_url))
        for scenario in todo:
            _swap_into_place(stages.pop(scenario.name), out_path / scenario.name)
            new_state["scenarios"][scenario.name] = {
                "fingerprint": fingerprints[scenario.name],
                "inputs": inputs[scenario.name],
                "built_at": built_at,
            }
            build.built.append(scenario.name)
    finally:
        for stage in stages.values():
            shutil.rmtree(stage, ignore_errors=True)
