"""HTML export of executed notebooks and the site's templates.

nbconvert with the ``cachecost`` template (JupyterLab's, minus require.js,
MathJax and mermaid from CDNs) and the provenance banner on top;
:func:`find_external_urls` checks that no page loads anything from the network.
"""

from __future__ import annotations

import functools
import hashlib
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from cachecost.config import (
    PACKAGE_DIR,
)
from cachecost.errors import CachecostError
from cachecost.report.provenance import (
    LAB_ONLY_MARK,
    SYNTHETIC_NOTICE,
)

TEMPLATES_DIR = PACKAGE_DIR / "templates"

NBCONVERT_TEMPLATE = "cachecost"

# Element attributes that make a browser fetch something while loading the page.
_LOADING_ATTRS = {
    "script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
    "video": "src", "audio": "src", "embed": "src", "object": "data", "track": "src",
}  # fmt: skip

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


def has_plotly_output(nb: Any) -> bool:
    """Return True when a cell of the notebook displays a plotly figure (its JSON mimetype)."""
    from cachecost.report.notebook import PLOTLY_MIMETYPE

    return any(PLOTLY_MIMETYPE in (out.get("data") or {})
               for cell in nb.get("cells", []) for out in cell.get("outputs", []) or [])


def check_plotlyjs_not_inlined(html: str) -> None:
    """Raise CachecostError when a page carries its own copy of plotly.js (a site page must
    load the shared one, so it never silently weighs 4 MB)."""
    from plotly.offline import get_plotlyjs

    if get_plotlyjs()[:4096] in html:
        raise CachecostError("plotly.js is inlined in a page that should load the shared copy")


@functools.cache
def _html_exporter() -> Any:
    """The page exporter, one per process: nbconvert compiles its ~12 templates when an
    exporter first renders (~0.15 s a page when each page made its own)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(  # type: ignore[no-untyped-call]
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


def lab_css_asset_name(lab_css: str) -> str:
    """Return the shared style sheet's file name, ``jupyterlab-<sha256 prefix>.css``."""
    return f"jupyterlab-{hashlib.sha256(lab_css.encode()).hexdigest()[:12]}.css"


#: A decision-page cell tagged :data:`THREAD_TAG` holds the thread's words (the claims, the
#: patch's paths), shown when the page's results check a thread; one tagged
#: :data:`NO_THREAD_TAG` holds neutral words for a scenario with ``thread: none``.
THREAD_TAG = "thread"
NO_THREAD_TAG = "no-thread"
#: The output metadata key by which a cell says its results check no thread
#: (:func:`cachecost.report.page_tables.claims_table`); that output is not shown.
NO_THREAD_MARK = "cachecost_no_thread"


def _is_no_thread_mark(output: Any) -> bool:
    return bool((output.get("metadata") or {}).get(NO_THREAD_MARK))


def _is_dropped(output: Any) -> bool:
    """An output the page leaves out: the no-thread mark, or what a notebook shows only
    when run alone (:data:`~cachecost.report.provenance.LAB_ONLY_MARK`)."""
    meta = output.get("metadata") or {}
    return bool(meta.get(NO_THREAD_MARK) or meta.get(LAB_ONLY_MARK))


def select_thread_cells(nb: Any) -> Any:
    """The notebook with the cells for its results only: without a thread (an output
    carries :data:`NO_THREAD_MARK`) those tagged :data:`THREAD_TAG` are left out, else those
    tagged :data:`NO_THREAD_TAG`; the mark's own output is dropped. A copy: ``nb`` is kept."""
    import copy

    cells = nb.get("cells", [])
    has_thread = not any(_is_no_thread_mark(out) for cell in cells
                         for out in cell.get("outputs", []) or [])
    drop = NO_THREAD_TAG if has_thread else THREAD_TAG
    kept = []
    for cell in cells:
        if drop in (cell.get("metadata") or {}).get("tags", []):
            continue
        if any(_is_dropped(out) for out in cell.get("outputs", []) or []):
            cell = copy.copy(cell)
            cell["outputs"] = [o for o in cell["outputs"] if not _is_dropped(o)]
        kept.append(cell)
    out = copy.copy(nb)
    out["cells"] = kept
    return out


def export_html(
    nb: Any, *, title: str, banner_html: str, css: str, lab_css_href: str | None = None,
    plotlyjs_href: str | None = None,
) -> str:
    """Return a notebook as one HTML page: code and prompts hidden, banner on top, no CDN.

    With ``lab_css_href`` the page links JupyterLab's style sheet instead of inlining it.
    Cells for another thread choice are left out (:func:`select_thread_cells`).
    When a cell shows a plotly figure the page's ``<head>`` loads plotly.js once: from
    ``plotlyjs_href`` (the site's shared copy), else inlined (a standalone page).
    """
    nb = select_thread_cells(nb)        # the thread's words, or the neutral ones
    plotlyjs = None
    if has_plotly_output(nb):
        if plotlyjs_href is not None:
            plotlyjs = {"href": plotlyjs_href}
        else:
            from plotly.offline import get_plotlyjs

            plotlyjs = {"inline": get_plotlyjs()}
    resources = {
        "metadata": {"name": title},
        "cachecost": {"banner": banner_html, "css": css, "lab_css_href": lab_css_href,
                      "plotlyjs": plotlyjs},
    }
    body, _ = _html_exporter().from_notebook_node(nb, resources=resources)
    return str(body)


def jinja_env() -> Any:
    """A ``jinja2.Environment`` over the report templates (:data:`TEMPLATES_DIR`).

    Every value is HTML-escaped (``autoescape``: data shown in HTML is escaped), an
    undefined name raises instead of rendering as "" (``StrictUndefined``), and a
    template's last newline is kept. jinja2 is imported here, on first use.
    """
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


def render_banner(prov: dict[str, Any], *, home_href: str, nav: list[dict[str, Any]]) -> str:
    """Return the provenance banner as HTML; every value is escaped as text."""
    import markupsafe

    return markupsafe.Markup(jinja_env().get_template("banner.html.j2").render(
        prov=prov, home_href=home_href, nav=nav, synthetic_notice=SYNTHETIC_NOTICE
    ))


