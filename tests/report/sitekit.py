"""Helpers and fixtures for the report tests: sites built once per session, a headless Chromium.

Executing notebooks is the slow part (seconds each on 2 cores), so the sample
site (every default scenario, the real notebooks) and the hostile-data site are
built once per session into temp dirs and shared read-only; tests that rebuild
work on copies or on tiny notebooks made here.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from cachecost.config import NOTEBOOKS_DIR, SCENARIOS_DIR
from cachecost.dataset.io import load_dataset, write_dataset
from cachecost.report.build import ReportBuild, build_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Strings a hostile ref or job name may hold; shown as text they are harmless.
SCRIPT_PAYLOAD = "<script>window.__pwned=1</script>"
IMG_PAYLOAD = '<img src=x onerror="window.__pwned=2">'


def require_real_notebooks() -> list[Path]:
    """Return the default scenarios, skipping when the real notebooks or scenarios are absent."""
    scenarios = sorted(SCENARIOS_DIR.glob("*.yaml"))
    have = [NOTEBOOKS_DIR / "01-ci-history.ipynb", NOTEBOOKS_DIR / "02-caching-decision.ipynb"]
    if not scenarios or not all(p.is_file() for p in have):
        if os.environ.get("CI") == "true":
            pytest.fail("notebooks/01-*, 02-* or scenarios/*.yaml missing")
        pytest.skip("the report notebooks or scenarios do not exist yet")
    return scenarios


# --------------------------------------------------------------------------- tiny notebooks


def write_notebook(path: Path, code_cells: list[str], *, params: str | None = None) -> Path:
    """Write a small report notebook: a heading, setup, a parameters cell, then ``code_cells``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if params is None:
        params = ('data_dir: str = ""  # dataset directory; empty means the sample\n'
                  'scenario_path: str = ""  # scenario YAML')
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# Tiny page {path.stem}\n\nSome prose."),
        nbformat.v4.new_code_cell("from cachecost.report.notebook import setup_notebook\n"
                                  "setup_notebook()"),
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        *(nbformat.v4.new_code_cell(src) for src in code_cells),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


TINY_CHART = (
    "import plotly.graph_objects as go\n"
    "go.Figure(go.Bar(x=['push', 'schedule'], y=[3, 1]), layout_title_text='tiny').show()"
)


@pytest.fixture
def tiny_notebooks(tmp_path: Path) -> Path:
    """A notebooks dir with one small report notebook drawing one chart."""
    write_notebook(tmp_path / "nbs" / "01-tiny.ipynb", [TINY_CHART])
    return tmp_path / "nbs"


@pytest.fixture
def one_scenario() -> Path:
    """The first default scenario (skips until scenarios exist)."""
    scenarios = sorted(SCENARIOS_DIR.glob("*.yaml"))
    if not scenarios:
        if os.environ.get("CI") == "true":
            pytest.fail("scenarios/*.yaml missing")
        pytest.skip("no scenarios yet")
    return scenarios[0]


# --------------------------------------------------------------------------- built sites


@dataclass
class Site:
    """A site built once for the session and its build record."""

    out_dir: Path
    build: ReportBuild
    scenarios: list[Path] = field(default_factory=list)

    def pages(self) -> list[Path]:
        """Every HTML page of the site, index first."""
        return [self.out_dir / "index.html", *sorted(self.out_dir.glob("*/*.html"))]


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """Every default scenario through the real notebooks on the bundled sample (site mode)."""
    scenarios = require_real_notebooks()
    out = tmp_path_factory.mktemp("sample-site")
    return Site(out, build_report(None, None, out), scenarios)


def write_hostile_dataset(target: Path) -> Path:
    """Copy the sample with HTML and script in refs, job names and the project path."""
    ds = load_dataset()
    pipelines, jobs = ds.pipelines.copy(), ds.jobs.copy()
    pipelines.loc[pipelines.index[::5], "ref"] = f"feature/{SCRIPT_PAYLOAD}"
    jobs.loc[jobs.index[::7], "ref"] = f"feature/{IMG_PAYLOAD}"
    not_container = ~jobs["is_container_build"]
    jobs.loc[not_container, "name"] = IMG_PAYLOAD + " " + jobs.loc[not_container, "name"]
    container = jobs.index[jobs["is_container_build"]][::3]
    jobs.loc[container, "name"] = SCRIPT_PAYLOAD + jobs.loc[container, "name"]
    # one image name too: the pages chart and tabulate per image
    image = sorted(jobs["image"].dropna().unique())[0]
    hostile_image = f"{image}{SCRIPT_PAYLOAD}"
    jobs.loc[jobs["image"] == image, "image"] = hostile_image
    repos = ds.registry_repositories.copy()
    repos.loc[repos["image"] == image, "image"] = hostile_image
    ds.pipelines, ds.jobs, ds.registry_repositories = pipelines, jobs, repos
    ds.metadata = {
        **ds.metadata,
        "is_synthetic": False,
        "source": "gitlab",
        "instance_url": f"https://gitlab.example/{IMG_PAYLOAD}",
        "project_path": f"group/{SCRIPT_PAYLOAD}",
    }
    return write_dataset(ds, target)


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """One default scenario through the real notebooks on a dataset full of HTML and script."""
    scenarios = require_real_notebooks()
    data = write_hostile_dataset(tmp_path_factory.mktemp("hostile-data"))
    out = tmp_path_factory.mktemp("hostile-site")
    return Site(out, build_report(scenarios[:1], data, out), scenarios[:1])


def copy_site(site: Site, target: Path) -> Path:
    """Copy a built site (to rebuild it without touching the shared one)."""
    shutil.copytree(site.out_dir, target)
    return target


def read_json(path: Path) -> dict:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory):
    """A headless Chromium context with a fresh profile (skips without /usr/bin/chromium)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} missing and CI=true: install Debian's chromium")
        pytest.skip(f"{CHROMIUM} missing: browser tests skipped (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@dataclass
class PageVisit:
    """What a page did when opened offline."""

    url: str
    blocked_requests: list[str]
    console_errors: list[str]
    charts: list[dict]
    pwned: object
    text: str  # textContent: every text node, script bodies included
    visible_text: str  # innerText: what a reader sees


CHARTS_JS = """() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => ({
    id: d.id,
    traces: Array.isArray(d.data) ? d.data.length : 0,
    has_svg: d.querySelector('.main-svg') !== null,
}))"""
ALL_DRAWN_JS = """() => Array.from(document.querySelectorAll('.plotly-graph-div'))
    .every(d => Array.isArray(d.data) && d.querySelector('.main-svg') !== null)"""


def visit(context, path: Path) -> PageVisit:
    """Open a file offline: abort and record every non-file request, collect console errors."""
    page = context.new_page()
    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        try:
            page.wait_for_function(ALL_DRAWN_JS, timeout=20_000)
        except Exception:  # reported through `charts` below
            pass
        page.wait_for_timeout(200)
        return PageVisit(
            url=page.url,
            blocked_requests=blocked,
            console_errors=errors,
            charts=page.evaluate(CHARTS_JS),
            pwned=page.evaluate("() => window.__pwned === undefined ? null : window.__pwned"),
            text=page.evaluate("() => document.body.textContent"),
            visible_text=page.evaluate("() => document.body.innerText"),
        )
    finally:
        page.close()
