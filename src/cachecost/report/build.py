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
   beside it, ``results.json`` (:func:`cachecost.model.results.run_model`, sorted
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

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cachecost import __version__
from cachecost.config import (
    NOTEBOOKS_DIR,
    REPORTS_DIR,
    resolve_data_dir,
)
from cachecost.dataset.io import atomic_path, read_metadata
from cachecost.errors import CachecostError
from cachecost.report.export import (  # noqa: F401  (re-exported)
    check_plotlyjs_not_inlined,
    export_html,
    find_external_urls,
    lab_css_asset_name,
    plotly_asset_name,
    read_lab_css,
    read_site_css,
    render_banner,
)
from cachecost.report.fingerprint import (  # noqa: F401  (re-exported)
    BUILD_STATE_FILE,
    STATE_VERSION,
    fingerprint_inputs,
    read_build_state,
)
from cachecost.report.notebook import skip_slow_imports
from cachecost.report.provenance import (
    collect_provenance,
    describe_data_source,
    find_git_commit,
    format_build_time,
    has_uncommitted_changes,
)
from cachecost.report.runner import (  # noqa: F401  (re-exported)
    DEFAULT_PARAMETERS,
    RESULTS_PARAMETER,
    PageTask,
    ResultsTask,
    check_parameters,
    compute_results,
    declared_parameters,
    describe_execution_error,
    execute_page,
    find_report_notebooks,
    read_page_title,
    run_fetch,
    run_task_graph,
    run_tasks,
)
from cachecost.report.site import (  # noqa: F401  (re-exported)
    ASSETS_DIR,
    current_umask,
    dump_json,
    load_scenarios,
    render_index,
    scenario_outputs_exist,
    summarize_scenario_for_index,
    swap_into_place,
    write_site_assets,
    write_text,
)


@dataclass
class ReportBuild:
    """What :func:`build_report` did: where the site is, which scenarios it (re)built."""

    out_dir: Path
    index_path: Path
    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pages: list[Path] = field(default_factory=list)
    elapsed_s: float = 0.0


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
    _check_options(out_path, base_url)
    if fetch_params is not None:
        data_dir = run_fetch(fetch_params, notebooks_path, out_path)
    data_path = resolve_data_dir(data_dir)
    if data_path.exists() and not data_path.is_dir():
        raise CachecostError(f"{data_path}: is a file, not a data directory")
    data_meta = read_metadata(data_path) if data_path.is_dir() else None
    if data_meta is None:
        raise CachecostError(f"{data_path}: no such data directory")
    notebooks = find_report_notebooks(notebooks_path)
    loaded = load_scenarios(scenarios)
    extra = _extra_parameters(parameters, notebooks)
    data_param = "" if data_dir is None or str(data_dir) == "" else str(data_path)
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
    reasons = {s.name: _build_reason(s, old, fingerprints, inputs, out_path, pages, force)
               for s in loaded}
    todo = [s for s in loaded if reasons[s.name]]
    build = ReportBuild(out_dir=out_path, index_path=out_path / "index.html")
    build.skipped = [s.name for s in loaded if s not in todo]
    # the data is loaded before anything is written into out_path (or said on stderr):
    # data that does not load leaves the site as it was and the error as the only line
    dataset = _load_dataset(data_dir) if todo else None
    for scenario in todo:
        print(f"cachecost: building {scenario.name} ({reasons[scenario.name]})",
              file=sys.stderr, flush=True)
    out_path.mkdir(parents=True, exist_ok=True)
    new_state: dict[str, Any] = {"version": STATE_VERSION, "scenarios": dict(old)}

    if todo:
        _build_scenarios(todo, pages, dataset, data_param, out_path, extra, is_standalone,
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
        write_text(build.index_path, render_index(out_path, loaded, pages, new_state,
                                                  _site_provenance(data_meta)))
    new_state["index_fingerprint"] = index_fp
    if new_state != state:  # a no-op build rewrites nothing
        with atomic_path(out_path / BUILD_STATE_FILE) as tmp:
            tmp.write_text(dump_json(new_state), encoding="utf-8")
    build.elapsed_s = time.perf_counter() - started
    return build


def _check_options(out_path: Path, base_url: str | None) -> None:
    """Raise CachecostError for an output path that is a file or a base URL not http(s)."""
    if out_path.exists() and not out_path.is_dir():
        raise CachecostError(f"{out_path}: exists and is not a directory")
    if base_url is not None and (
        urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc
    ):
        raise CachecostError(f"--base-url {base_url!r}: expected an http(s):// URL")


def _extra_parameters(parameters: dict[str, Any] | None, notebooks: list[Path]
                      ) -> dict[str, Any]:
    """The extra notebook parameters, checked against every notebook's parameters cell."""
    extra = dict(parameters or {})
    for name in (*DEFAULT_PARAMETERS, RESULTS_PARAMETER):
        if name in extra:
            raise CachecostError(f"parameter {name!r} is set by the runner; use the option")
    for nb in notebooks:
        check_parameters(nb, {**dict.fromkeys(DEFAULT_PARAMETERS), **extra})
    return extra


def _build_reason(scenario: Any, old: dict[str, Any], fingerprints: dict[str, str],
                  inputs: dict[str, dict[str, str]], out_path: Path, pages: list[dict[str, Any]],
                  force: bool) -> str | None:
    """Why a scenario must be rebuilt (``"--force"``, ``"outputs missing"``, ``"changed: ..."``),
    or None when its outputs are up to date."""
    before = old.get(scenario.name, {})
    if force:
        reason = "--force"
    elif not scenario_outputs_exist(out_path, scenario.name, pages):
        reason = "outputs missing"
    elif before.get("fingerprint") != fingerprints[scenario.name]:
        changed = [k for k, v in inputs[scenario.name].items()
                   if before.get("inputs", {}).get(k) != v]
        reason = "changed: " + ", ".join(changed or ["inputs"])
    else:
        return None
    return reason


def _site_provenance(data_meta: dict[str, Any]) -> dict[str, Any]:
    """The index page's banner: the data and the build, no scenario."""
    return {
        "is_synthetic": bool(data_meta.get("is_synthetic")),
        "data_source": describe_data_source(data_meta),
        "fetched_at": str(data_meta.get("fetched_at") or "unknown"),
        "scenario": None,
        "cachecost_version": __version__,
        "git_commit": find_git_commit(),
        "git_is_dirty": has_uncommitted_changes(),
        "built_at": format_build_time(),
    }


def _load_dataset(data_dir: Any) -> Any:
    """The dataset the scenarios are built from (:func:`cachecost.dataset.io.load_dataset`)."""
    from cachecost.dataset.io import load_dataset

    return load_dataset(data_dir)


def _build_scenarios(
    todo: list[Any], pages: list[dict[str, Any]], dataset: Any, data_param: str, out_path: Path,
    extra: dict[str, Any], is_standalone: bool, base_url: str | None, jobs: int | None,
    build: ReportBuild, new_state: dict[str, Any], fingerprints: dict[str, str],
    inputs: dict[str, dict[str, str]],
) -> None:
    """Run every page and model task of the scenarios in ``todo``; swap them into place."""
    from cachecost.report.summary import format_summary_markdown, format_summary_text

    built_at = format_build_time()
    css = read_site_css()
    skip_slow_imports()
    href = css_href = None
    if not is_standalone:
        href = f"../{ASSETS_DIR}/{plotly_asset_name()}"
        css_href = f"../{ASSETS_DIR}/{lab_css_asset_name(read_lab_css())}"
    stages: dict[str, Path] = {}
    provs: dict[str, dict[str, Any]] = {}
    tasks: list[Any] = []
    # pages that read the runner's results.json (they declare RESULTS_PARAMETER) start
    # once their scenario's ResultsTask has written it: the model runs once per scenario
    after_results: dict[str, list[PageTask]] = {}
    try:
        for scenario in todo:
            stage = Path(tempfile.mkdtemp(prefix=f".{scenario.name}.build-", dir=out_path))
            stage.chmod(0o777 & ~current_umask())  # mkdtemp makes it private (0700)
            stages[scenario.name] = stage
            prov = collect_provenance(dataset, scenario, built_at=built_at)
            provs[scenario.name] = prov
            for page in pages:
                nav = [{"title": p["title"], "href": f"{p['stem']}.html",
                        "is_current": p is page} for p in pages]
                reads_results = RESULTS_PARAMETER in declared_parameters(page["notebook"])
                task = PageTask(
                    notebook=page["notebook"].resolve(),
                    stage_dir=stage,
                    cwd=page["notebook"].resolve().parent,
                    parameters={"data_dir": data_param,
                                "scenario_path": str(Path(scenario.path).resolve()), **extra,
                                **({RESULTS_PARAMETER: str((stage / "results.json").resolve())}
                                   if reads_results else {})},
                    scenario=scenario.name,
                    title=f"{page['title']} \u2014 {scenario.title}",
                    banner_html=render_banner(prov, home_href="../index.html", nav=nav),
                    css=css,
                    plotlyjs_href=href,
                    lab_css_href=css_href,
                )
                (after_results.setdefault(scenario.name, []) if reads_results
                 else tasks).append(task)
            tasks.append(ResultsTask(data_dir=data_param or None,
                                     scenario_path=Path(scenario.path).resolve(),
                                     scenario=scenario.name))

        def write_results(task: Any, outcome: dict[str, Any]) -> list[Any]:
            """A scenario's results.json and summaries; then the pages that read them."""
            if not isinstance(task, ResultsTask):
                return []
            stage, prov = stages[task.scenario], provs[task.scenario]
            results = outcome["results"]
            write_text(stage / "results.json", dump_json(results))
            write_text(stage / "summary.txt", format_summary_text(results, prov, base_url))
            write_text(stage / "summary.md", format_summary_markdown(results, prov, base_url))
            return list(after_results.get(task.scenario, []))

        count = len(tasks) + sum(len(v) for v in after_results.values())
        workers = max(1, min(jobs or os.cpu_count() or 1, count))
        for task, outcome in run_task_graph(tasks, workers, write_results):
            if isinstance(task, PageTask):
                build.pages.append(out_path / task.scenario / Path(outcome["html"]).name)
        for scenario in todo:
            swap_into_place(stages.pop(scenario.name), out_path / scenario.name)
            new_state["scenarios"][scenario.name] = {
                "fingerprint": fingerprints[scenario.name],
                "inputs": inputs[scenario.name],
                "built_at": built_at,
            }
            build.built.append(scenario.name)
    finally:
        for stage in stages.values():
            shutil.rmtree(stage, ignore_errors=True)


