"""Run the notebooks with papermill: one task per page and per model run.

:func:`check_parameters` rejects names a notebook does not declare (papermill
only warns); :func:`execute_page` runs one notebook and exports its page in a
worker process; :func:`run_tasks` runs them across cores and stops at the
first error with one line naming the notebook, the cell and the error.
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import json
import math
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachecost.config import (
    default_data_dir,
)
from cachecost.errors import CachecostError, user_error_names
from cachecost.report.export import check_plotlyjs_not_inlined, export_html, find_external_urls
from cachecost.report.notebook import skip_slow_imports
from cachecost.report.site import write_text
from cachecost.stopping import signals_held, start_worker

KERNEL_NAME = "python3"

# ipykernel >= 7 logs on stderr, for every kernel, that its local TCP socket is unencrypted
# and, at shutdown, the interrupt nbclient sends. Cell errors still reach the build's error
# line through papermill, and a dead kernel raises DeadKernelError.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]

FETCH_NOTEBOOK = "00-fetch-gitlab.ipynb"

DEFAULT_PARAMETERS = ("data_dir", "scenario_path")
#: The parameter a notebook declares to read the results the runner computed for its
#: scenario (the path of that scenario's results.json) instead of running the model again.
RESULTS_PARAMETER = "results_path"

_REPORT_NOTEBOOK = re.compile(r"^(\d{2})-[A-Za-z0-9][A-Za-z0-9._-]*\.ipynb$")

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
    plotlyjs_href: str | None  # None: inline plotly.js into the page (standalone)
    lab_css_href: str | None  # None: inline JupyterLab's style sheet (standalone)


@dataclass(frozen=True)
class ResultsTask:
    """One model run for one scenario (results.json and the summaries)."""

    data_dir: str | None
    scenario_path: Path
    scenario: str


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
    names: set[str] = set()
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

        from cachecost.report.kernels import ForkedKernelManager

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
                kernel_manager_class=ForkedKernelManager,
            )
        except PapermillExecutionError as exc:
            return {"error": describe_execution_error(task.notebook, exc, task.scenario)}
        nb = nbformat.read(str(ipynb), as_version=4)  # type: ignore[no-untyped-call]
        html = export_html(nb, title=task.title, banner_html=task.banner_html, css=task.css,
                           lab_css_href=task.lab_css_href, plotlyjs_href=task.plotlyjs_href)
        if task.plotlyjs_href is not None:
            check_plotlyjs_not_inlined(html)
        external = find_external_urls(html)
        if external:
            return {"error": f"{task.notebook}: its page would load {external[0]} "
                             f"from the network (scenario {task.scenario!r})"}
        target = ipynb.with_suffix(".html")
        write_text(target, html)
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
        from cachecost.model.backtest import run_backtest
        from cachecost.model.results import run_model
        from cachecost.model.scenario import load_scenario

        dataset, scenario = load_dataset(task.data_dir), load_scenario(task.scenario_path)
        results = run_model(dataset, scenario)
        results["backtest"] = run_backtest(dataset, scenario).to_json()
        return {"results": _finite_or_none(results)}
    except CachecostError as exc:
        return {"error": f"{task.scenario_path}: {exc}"}
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        return {"error": f"cachecost.model.results.run_model failed for scenario {task.scenario!r}: "
                         f"{type(exc).__name__}: {first}"}


def run_tasks(tasks: list[Any], jobs: int) -> list[dict[str, Any]]:
    """Run page and results tasks, ``jobs`` at a time; stop at the first error."""
    return [outcome for _, outcome in run_task_graph(tasks, jobs)]


def _run_one(task: Any) -> dict[str, Any]:
    return execute_page(task) if isinstance(task, PageTask) else compute_results(task)


def _checked(task: Any, outcome: dict[str, Any]) -> dict[str, Any]:
    if "error" in outcome:
        raise CachecostError(outcome["error"])
    _report_progress(task, outcome)
    return outcome


def run_task_graph(tasks: list[Any], jobs: int,
                   then: Callable[[Any, dict[str, Any]], list[Any]] | None = None
                   ) -> list[tuple[Any, dict[str, Any]]]:
    """Run tasks ``jobs`` at a time; stop at the first error.

    ``then(task, outcome)``, called in this process as each task finishes, returns the
    tasks that may start now (the decision page of a scenario whose results a
    :class:`ResultsTask` has just computed and the caller has written). Returns
    ``(task, outcome)`` pairs, the given tasks first, then those added, in the order added.
    """
    order = list(tasks)
    outcomes: dict[int, dict[str, Any]] = {}
    if jobs <= 1:
        i = 0
        while i < len(order):
            outcomes[i] = _checked(order[i], _run_one(order[i]))
            order += then(order[i], outcomes[i]) if then else []
            i += 1
        return [(t, outcomes[i]) for i, t in enumerate(order)]
    pool = start_pool(jobs)

    def submit(task: Any) -> cf.Future[dict[str, Any]]:
        with signals_held():    # a worker the pool starts now starts with the stop signals blocked
            return pool.submit(execute_page if isinstance(task, PageTask) else compute_results,
                               task)

    try:
        pending = {submit(t): i for i, t in enumerate(order)}
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in done:
                i = pending.pop(future)
                outcomes[i] = _checked(order[i], _future_outcome(future, order[i]))
                for task in then(order[i], outcomes[i]) if then else []:
                    order.append(task)
                    pending[submit(task)] = len(order) - 1
    except BaseException:
        tear_down_pool(pool)    # every exit path: no worker outlives the build
        raise
    pool.shutdown(wait=True)
    return [(t, outcomes[i]) for i, t in enumerate(order)]


def _future_outcome(future: cf.Future[dict[str, Any]], task: Any) -> dict[str, Any]:
    try:
        return future.result()
    except cf.process.BrokenProcessPool:
        raise CachecostError(
            f"a worker process died while building {_describe_task(task)} "
            "(out of memory? or build_report called from a script without "
            "`if __name__ == '__main__':`); try --jobs 1"
        ) from None


def start_pool(jobs: int) -> cf.ProcessPoolExecutor:
    """A pool of ``jobs`` spawned workers that ignore Ctrl-C and die with this process."""
    return cf.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=start_worker, initargs=(os.getpid(),))


def tear_down_pool(pool: cf.ProcessPoolExecutor, grace_s: float = 2.0) -> None:
    """Stop a pool now: drop the queued tasks, SIGTERM the workers (SIGKILL after ``grace_s``).

    ``shutdown(wait=True)`` would wait for the running notebooks (minutes); their
    kernels stop within a second of their worker (:mod:`cachecost.stopping`).
    """
    workers = list((pool._processes or {}).values())  # the stdlib keeps no public list
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join(grace_s)
        if worker.is_alive():
            worker.kill()
            worker.join(grace_s)


def _describe_task(task: Any) -> str:
    if isinstance(task, PageTask):
        return f"{task.scenario}/{task.notebook.stem}.html"
    return f"{task.scenario}/results.json"


def _report_progress(task: Any, outcome: dict[str, Any]) -> None:
    what = _describe_task(task)
    if "size_bytes" in outcome:
        what += f" ({outcome['size_bytes'] / 1024:,.0f} KiB)"
    print(f"cachecost: built {what}", file=sys.stderr, flush=True)


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

    from cachecost.dataset.io import atomic_path

    notebook = notebooks_dir / FETCH_NOTEBOOK
    if not notebook.is_file():
        raise CachecostError(f"{notebook}: missing; --fetch runs this notebook first")
    params = {k: v for k, v in fetch_params.items() if v not in (None, "")}
    if not params.get("url") or not params.get("project"):
        raise CachecostError("--fetch needs --url URL and --project GROUP/PROJECT")
    params.setdefault("data_dir", str(default_data_dir(params["url"], params["project"])))
    check_parameters(notebook, params)
    executed = out_dir / "fetch" / FETCH_NOTEBOOK
    print(f"cachecost: fetching {params['project']} from {params['url']}", file=sys.stderr)
    # run into a scratch folder: a failed fetch leaves OUT (and an earlier run's executed
    # notebook) as it was; a finished one is moved into OUT/fetch/ atomically
    with tempfile.TemporaryDirectory(prefix="cachecost-fetch-") as scratch:
        ran = Path(scratch) / FETCH_NOTEBOOK
        try:
            papermill.execute_notebook(
                str(notebook), str(ran), parameters=params, kernel_name=KERNEL_NAME,
                language="python", cwd=str(notebooks_dir), progress_bar=False,
                log_output=True, extra_arguments=KERNEL_ARGUMENTS,
            )
        except PapermillExecutionError as exc:
            if exc.ename in user_error_names():   # the fetch's own one line, no cell framing
                raise CachecostError(exc.evalue) from None
            raise CachecostError(describe_execution_error(notebook, exc, None)) from None
        with atomic_path(executed) as tmp:
            shutil.copyfile(ran, tmp)
    return Path(params["data_dir"])


