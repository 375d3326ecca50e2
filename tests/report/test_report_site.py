"""The real report: every default scenario through the real notebooks, checked in Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from cachecost.dataset.io import load_dataset
from cachecost.model.backtest import run_backtest
from cachecost.model.results import run_model
from cachecost.model.scenario import load_scenario
from cachecost.report.build import ASSETS_DIR, build_report, find_external_urls
from cachecost.report.summary import is_url_line

from .sitekit import IMG_PAYLOAD, SCRIPT_PAYLOAD, Site, copy_site, read_json, visit

PAGES = ("01-ci-history", "02-caching-decision")


def _assert_offline_and_drawn(context, page: Path) -> object:
    seen = visit(context, page)
    name = page.relative_to(page.parents[1]) if page.name != "index.html" else page.name
    assert seen.blocked_requests == [], f"{name} tried the network: {seen.blocked_requests}"
    assert seen.console_errors == [], f"{name} console errors: {seen.console_errors}"
    undrawn = [c for c in seen.charts if not (c["traces"] > 0 and c["has_svg"])]
    assert undrawn == [], f"{name}: charts not drawn: {undrawn}"
    return seen


def test_site_layout(sample_site: Site) -> None:
    out = sample_site.out_dir
    names = [load_scenario(p).name for p in sample_site.scenarios]
    assert sorted(sample_site.build.built) == sorted(names)
    for name in names:
        for stem in PAGES:
            assert (out / name / f"{stem}.html").is_file()
            assert (out / name / f"{stem}.ipynb").is_file()
        for file in ("summary.txt", "summary.md", "results.json"):
            assert (out / name / file).stat().st_size > 0
    plotly_files = list((out / ASSETS_DIR).glob("plotly-*.min.js"))
    assert len(plotly_files) == 1
    index = (out / "index.html").read_text()
    for name in names:
        assert f'href="{name}/02-caching-decision.html"' in index


def test_every_page_is_offline_with_charts_drawn(sample_site: Site, browser_context) -> None:
    pages = sample_site.pages()
    assert len(pages) == 1 + len(PAGES) * len(sample_site.scenarios)
    chart_count = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert find_external_urls(text) == []
        if page.name != "index.html":
            # site mode: plotly.js comes from the one shared file, not inlined
            assert re.search(r'<script src="\.\./assets/plotly-[\d.]+\.min\.js"></script>', text)
            assert len(text.encode()) < 1_000_000
        seen = _assert_offline_and_drawn(browser_context, page)
        chart_count += len(seen.charts)
        assert "SYNTHETIC SAMPLE DATA" in seen.text
        assert "Built" in seen.text and "cachecost" in seen.text
    assert chart_count >= 2 * len(sample_site.scenarios)


def test_banner_names_the_scenario_and_its_hash(sample_site: Site) -> None:
    for path in sample_site.scenarios:
        scenario = load_scenario(path)
        for stem in PAGES:
            text = (sample_site.out_dir / scenario.name / f"{stem}.html").read_text()
            banner = text[text.index('class="cc-banner"'):text.index("</header>")]
            assert "SYNTHETIC SAMPLE DATA" in banner
            assert f"sha256 {scenario.sha256[:12]}" in banner
            assert scenario.name in banner


def test_summary_lines_fit_a_mail_reply(sample_site: Site) -> None:
    for path in sample_site.scenarios:
        name = load_scenario(path).name
        text = (sample_site.out_dir / name / "summary.txt").read_text(encoding="utf-8")
        assert text.endswith("\n")
        # a URL longer than the line stands alone, unbroken (mail clients link it whole)
        too_wide = [line for line in text.splitlines()
                    if len(line) > 72 and not is_url_line(line)]
        assert too_wide == [], f"{name}/summary.txt: {too_wide}"


def test_results_json_is_the_models_output_sorted(sample_site: Site) -> None:
    dataset = load_dataset()
    for path in sample_site.scenarios:
        scenario = load_scenario(path)
        on_disk = (sample_site.out_dir / scenario.name / "results.json").read_text()
        data = json.loads(on_disk)
        assert on_disk == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        # recomputed here, in this process: the same inputs give the same numbers
        expected = json.loads(json.dumps(run_model(dataset, scenario)))
        # ... plus the backtest of the same data and scenario (issue 24)
        expected["backtest"] = json.loads(json.dumps(run_backtest(dataset, scenario).to_json()))
        assert data == expected


def test_noop_rebuild_skips_everything(sample_site: Site, tmp_path: Path) -> None:
    out = copy_site(sample_site, tmp_path / "site")
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    build = build_report(None, None, out)
    assert build.built == []
    assert sorted(build.skipped) == sorted(sample_site.build.built)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes


def test_forced_rebuild_is_byte_identical(sample_site: Site, tmp_path: Path) -> None:
    out = copy_site(sample_site, tmp_path / "site")
    scenario = sample_site.scenarios[0]
    name = load_scenario(scenario).name
    build = build_report([scenario], None, out, force=True)
    assert build.built == [name]
    for file in ("summary.txt", "results.json", "summary.md"):
        assert (out / name / file).read_bytes() == \
            (sample_site.out_dir / name / file).read_bytes(), file
    state = read_json(out / ".cachecost-build.json")
    assert state["scenarios"][name]["built_at"] >= \
        read_json(sample_site.out_dir / ".cachecost-build.json")["scenarios"][name]["built_at"]


def test_hostile_refs_and_job_names_show_as_text(hostile_site: Site, browser_context) -> None:
    pages = hostile_site.pages()
    assert len(pages) == 1 + len(PAGES)
    image = sorted(load_dataset().jobs["image"].dropna().unique())[0]
    shown_in = []
    for page in pages:
        seen = _assert_offline_and_drawn(browser_context, page)
        assert seen.pwned is None, f"{page.name} ran injected script ({seen.pwned})"
        # the banner shows the hostile project path and instance URL as plain text
        assert f"group/{SCRIPT_PAYLOAD}" in seen.visible_text
        assert f"https://gitlab.example/{IMG_PAYLOAD}" in seen.visible_text
        assert "SYNTHETIC SAMPLE DATA" not in seen.text
        if f"{image}{SCRIPT_PAYLOAD}" in seen.visible_text:
            shown_in.append(page.name)
    # the notebooks' tables name the hostile image, as text
    assert shown_in, "no page shows the hostile image name"


def test_cli_noop_prints_where_the_index_is(sample_site: Site, tmp_path: Path) -> None:
    out = copy_site(sample_site, tmp_path / "site")
    proc = subprocess.run([sys.executable, "-m", "cachecost", "report", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str((out / "index.html").resolve())
    assert "nothing changed" in proc.stderr


# The headings and tables of the page in document order, as "h2:<text>" / "table:<class>".
_OUTLINE_JS = """() => Array.from(document.querySelectorAll('h1, h2, table, p.cachecost-missing'))
    .map(e => e.tagName === 'TABLE'
              ? 'table:' + ((e.className.match(/cachecost-table-[\\w-]+/) || [''])[0])
              : e.tagName === 'P' ? 'p:missing' : e.tagName.toLowerCase() + ':' +
                e.textContent.replace('¶', '').trim())"""


def test_claims_section_follows_the_headline_table(sample_site: Site, browser_context) -> None:
    for path in sample_site.scenarios:
        name = load_scenario(path).name
        page = browser_context.new_page()
        try:
            page.goto((sample_site.out_dir / name / "02-caching-decision.html").as_uri())
            outline = page.evaluate(_OUTLINE_JS)
            widths = page.evaluate("""() => Array.from(document.querySelectorAll(
                'table.cachecost-table-headline, .cachecost-claims'))
                .map(e => e.getBoundingClientRect().width)""")
        finally:
            page.close()
        at = outline.index("table:cachecost-table-headline")
        assert outline[at + 1] == "h2:The thread's claims, checked", outline[at:at + 3]
        # the claims table, or the sentence saying these results have none, comes next
        assert outline[at + 2] in ("table:cachecost-table-claims", "p:missing"), name
        assert outline.index("h2:What to measure next") > outline.index("h2:Recommendation")
        assert "h2:Sources" in outline
        assert widths and max(widths) <= 1280


def test_pages_fit_an_800_px_window(sample_site: Site, browser_context) -> None:
    for page_path in sample_site.pages():
        page = browser_context.new_page()
        try:
            page.set_viewport_size({"width": 800, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://")
                       else r.abort())
            page.goto(page_path.resolve().as_uri())
            width = page.evaluate("() => document.documentElement.scrollWidth")
        finally:
            page.close()
        assert width <= 800, f"{page_path}: {width} px wide in an 800 px window"


def test_no_page_or_summary_cites_a_path_outside_the_project(sample_site: Site) -> None:
    for path in sample_site.scenarios:
        folder = sample_site.out_dir / load_scenario(path).name
        for file in (*folder.glob("*.html"), folder / "summary.txt", folder / "summary.md"):
            text = file.read_text(encoding="utf-8")
            assert "shared/reference" not in text and "domain-facts" not in text, file
            assert "<URL of the published report>" not in text, file
            assert "null" not in re.sub(r"<script.*?</script>", "", text, flags=re.S), file


def test_executed_notebooks_hold_no_plotly_library(sample_site: Site) -> None:
    for path in sample_site.scenarios:
        folder = sample_site.out_dir / load_scenario(path).name
        for ipynb in folder.glob("*.ipynb"):
            assert ipynb.stat().st_size < 1_000_000, ipynb
            nb = json.loads(ipynb.read_text(encoding="utf-8"))
            mimes = {m for c in nb["cells"] for o in c.get("outputs", [])
                     for m in o.get("data", {})}
            assert "application/vnd.plotly.v1+json" in mimes, ipynb
