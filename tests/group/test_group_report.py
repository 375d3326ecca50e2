"""``report --group``: the index, its totals, the no-op rebuild, every page offline."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest
from report.sitekit import visit

from cachecost.collect.group import strategy_note
from cachecost.group.report import (
    GROUP_SCENARIO_PATH,
    build_group_report,
    scenario_in_use,
    summary_text,
)
from cachecost.model.scenario import load_scenario

GIB = 2.0**30


@pytest.fixture(scope="session")
def group_site(fetched_group, tmp_path_factory):
    out, _, _ = fetched_group
    site = tmp_path_factory.mktemp("group-site")
    build = build_group_report(out, site)
    return out, site, build


def test_index_rows_are_the_fetched_projects_sorted_by_saving(group_site):
    out, site, build = group_site
    res = json.loads((site / "results.json").read_text())
    catalog = pd.read_parquet(out / "catalog.parquet")
    done = catalog[catalog["status"] == "done"]
    assert {r["project_path"] for r in res["projects"]} == set(done["project_path"])
    savings = [r["saving_usd_per_month"]["mean"] for r in res["projects"]]
    assert savings == sorted(savings, reverse=True)
    # the group's sample count is the one its rows rest on (the pages' own, not 4000)
    assert {r["samples"] for r in res["projects"]} == {res["samples"]}
    for r in res["projects"]:
        page = json.loads((site / r["project"] / res["scenario"] / "results.json").read_text())
        assert page["baseline"] == r["strategy_in_use"]       # the pages' own numbers
        assert page["recommendation"]["winner"] == r["cheapest_strategy"]
        assert page["strategies"][r["strategy_in_use"]]["total_cost_usd_per_month"]["p50"] \
            == r["cost_usd_per_month"]["p50"]
        assert r["saving_usd_per_month"]["p10"] <= r["saving_usd_per_month"]["p50"] \
            <= r["saving_usd_per_month"]["p90"]
        assert (site / r["project"] / "results.json").is_file()
        assert (site / r["project"] / "index.html").is_file()
    text = (site / "summary.txt").read_text()
    assert text.startswith("SYNTHETIC DATA")
    assert all(p in text for p in catalog["project_path"])


def test_namespace_totals_equal_the_projects_datasets(group_site, standin_group):
    """The namespace line: GitLab's root-namespace bytes as served, and the projects'
    sum equal to the sum of each fetched dataset's container_registry_size."""
    out, site, _ = group_site
    ns = json.loads((site / "results.json").read_text())["namespace"]
    summed = sum(json.loads(md.read_text())["container_registry_size_bytes"]
                 for md in out.glob("project=*/metadata.json"))
    assert ns["projects_registry_gib"] == pytest.approx(summed / GIB)
    assert ns["namespace_registry_gib"] == pytest.approx(
        standin_group.namespace_registry_size_bytes() / GIB)
    # the 403 project's registry: counted by the namespace, in no dataset
    assert ns["unaccounted_gib"] == pytest.approx(3.0)


def test_unchanged_inputs_rebuild_nothing(group_site):
    out, site, _ = group_site
    again = build_group_report(out, site)
    assert again.is_noop


def test_force_rebuilds_every_project_page(group_site):
    """``--force`` rebuilds the projects' pages too (before, each project's own build saw
    its inputs unchanged and kept its pages: only the index was rebuilt)."""
    out, site, _ = group_site
    pages = sorted(site.glob("*/*/02-caching-decision.html"))
    assert pages
    before = {p: p.stat().st_mtime_ns for p in pages}
    again = build_group_report(out, site, force=True)
    assert not again.is_noop
    assert all(p.stat().st_mtime_ns != before[p] for p in pages)


def test_every_project_page_opens_offline(group_site, browser_context):  # noqa: F811
    _, site, build = group_site
    index = visit(browser_context, site / "index.html")
    assert index.blocked_requests == [] and index.console_errors == []
    assert "SYNTHETIC DATA" in index.visible_text
    pages = [site / r["project"] / "index.html" for r in build.rows]
    pages += sorted(site.glob("*/*/*.html"))
    assert len(pages) > len(build.rows)
    for page in pages:
        v = visit(browser_context, page)
        assert v.blocked_requests == [], page
        assert v.console_errors == [], page
        assert all(c["has_svg"] for c in v.charts), page


def test_report_group_on_a_folder_that_is_no_group(tmp_path, capsys):
    from cachecost.cli import main

    out = tmp_path / "site"
    assert main(["report", "--group", str(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a fetched group" in err
    assert not out.exists()


def test_report_group_without_its_catalog_or_a_project_is_one_line(fetched_group, tmp_path,
                                                                   capsys):
    """A group folder whose catalog.parquet is gone, or whose catalog names a fetched
    project with no dataset folder: one line naming the file, exit 2, nothing written,
    before any project is built (before: a pyarrow FileNotFoundError traceback, exit 1;
    a missing project failed only after the other projects were built)."""
    import shutil

    from cachecost.cli import main

    g = tmp_path / "g"
    shutil.copytree(fetched_group[0], g)
    (g / "catalog.parquet").unlink()
    out = tmp_path / "site"
    assert main(["report", "--group", str(g), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "catalog.parquet" in err and "Traceback" not in err
    assert not out.exists()

    shutil.rmtree(g)
    shutil.copytree(fetched_group[0], g)
    done = pd.read_parquet(g / "catalog.parquet").query("status == 'done'")
    gone = g / f"project={done['project'].iloc[0]}"
    shutil.rmtree(gone)
    assert main(["report", "--group", str(g), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and gone.name in err, err
    assert not out.exists()


def test_the_group_default_scenario_is_project_neutral(fetched_group, group_site, tmp_path):
    """Without --scenario the group is priced on GitLab-hosted runners at GitLab's
    published prices (scenarios/group/gitlab-hosted-group.yaml), not on QEMU's private
    runners: every project's results name the project and that scenario, its baseline
    is the strategy its CI uses, and only that strategy's title says "today's". No
    input's citation, the scenario's description, the group index or its summary names
    QEMU (before: the scheduled refresh, the runner nodes, the sponsor, the fork
    registry read and the uncached ratio cited QEMU's figures). The scenario checks no
    thread (``thread: none``): a built project's summary.txt, summary.md and decision
    page name neither QEMU nor the thread (before: "In the thread's terms", the
    thread's six claims, Camilla Conte's patch, QEMU's --cache-repo path)."""
    out, _, _ = fetched_group
    site = tmp_path / "site"
    build = build_group_report(out, site, pages=False, samples=400, jobs=1)
    group = json.loads((site / "results.json").read_text())
    assert group["scenario"] == "gitlab-hosted-group"
    for row in build.rows:
        res = json.loads((site / row["project"] / "results.json").read_text())
        assert res["scenario"] == "gitlab-hosted-group"
        assert res["scenario_title"].startswith(f"{row['project_path']}: GitLab-hosted")
        assert "QEMU" not in res["scenario_title"]
        assert res["baseline"] == row["strategy_detected"]
        today = [n for n, s in res["strategies"].items() if "today" in s["title"]]
        assert today == [res["baseline"]]
        assert res["strategies"][res["baseline"]]["title"].endswith("(today's strategy)")
        assert not any("QEMU" in s["title"] for s in res["strategies"].values())
        copy = load_scenario(site / row["project"] / "gitlab-hosted-group.scenario.yaml")
        assert copy.description.startswith(f"Project {row['project_path']}: the strategy "
                                           f"its CI uses, {res['baseline']}, is the baseline.")
        # no input the group scenario shows cites QEMU's figures (issue 25 review)
        cited = [(i["name"], i["citation"]) for i in res["inputs"]
                 if QEMU.search(str(i.get("citation")))]
        assert cited == [], cited
        assert not QEMU.search(copy.description)
    for shown in ("index.html", "summary.txt"):
        assert not QEMU.search((site / shown).read_text()), shown
    _, built, pages = group_site                    # the projects' pages, built
    for row in pages.rows:
        res = json.loads((built / row["project"] / "results.json").read_text())
        assert res["thread"] is None and res["claims"] == []
        folder = built / row["project"] / "gitlab-hosted-group"
        page = (folder / "02-caching-decision.html").read_text()
        assert not QEMU.search(page)                # no qemu path, link or name anywhere
        # the history page's charts name the project's own registry repositories
        history = (folder / "01-ci-history.html").read_text()
        assert not QEMU.search(history), sorted(set(QEMU.findall(history)))
        for shown, text in (("summary.txt", (folder / "summary.txt").read_text()),
                            ("summary.md", (folder / "summary.md").read_text()),
                            ("the page's words", _words(page))):
            assert not THREAD.search(text), (shown, THREAD.findall(text))
        assert "In registry terms: with " in (folder / "summary.txt").read_text()


#: What names QEMU or its people's figures in a citation.
QEMU = re.compile(r"qemu|bonzini|berrang", re.IGNORECASE)
def _words(page: str) -> str:
    """A page's text as a reader sees it (no scripts, styles, tags or class names)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


#: What names QEMU's kaniko thread or its people on a page (the group checks no thread).
THREAD = re.compile(r"qemu|thread|berrang|camilla|conte\b", re.IGNORECASE)


def test_a_modelled_strategy_is_said_on_the_page_and_in_the_summary(tmp_path):
    """A buildah project (its --cache-to modelled as kaniko-cache-repo): the scenario copy
    its pages are built from says so in its title (every page's banner) and opens its
    description (the decision page's scenario section) with the note; the group summary
    repeats it under the table."""
    note = strategy_note("buildah", "kaniko-cache-repo")
    target = scenario_in_use(GROUP_SCENARIO_PATH, "kaniko-cache-repo",
                             tmp_path / "s.scenario.yaml", "fdo/graphics/buildah-app", note,
                             "buildah")
    copy = load_scenario(target)
    assert copy.baseline == "kaniko-cache-repo"
    assert copy.title == ("fdo/graphics/buildah-app (buildah, modelled as kaniko-cache-repo):"
                          " GitLab-hosted runners, Open Source program (GitLab's published "
                          "prices)")
    first = copy.description.split("\n\n")[0]
    assert "buildah --layers with --cache-to/--cache-from" in first
    assert "modelled as kaniko-cache-repo" in first
    row = {"project_path": "fdo/graphics/buildah-app", "strategy_in_use": "kaniko-cache-repo",
           "cheapest_strategy": "kaniko-cache-repo", "strategy_note": note,
           "cost_usd_per_month": {"mean": 10.0},
           "saving_usd_per_month": {"mean": 0.0, "p10": 0.0, "p90": 0.0}}
    ns = {"namespace": "fdo", "namespace_registry_gib": 1.0, "projects_registry_gib": 1.0,
          "months_to_quota_p50": None}
    text = summary_text({"group": "fdo"}, [row], ns, "", load_scenario(GROUP_SCENARIO_PATH))
    assert "modelled as kaniko-cache-repo" in " ".join(text.split())


def test_the_group_summary_says_keep_and_wraps_its_prose_for_a_mailing_list():
    """A project whose cheapest strategy is the one in use reads "keep <strategy>" (the
    index's legend promised "keep" but showed the bare name, as if it were a change),
    and the summary's prose lines (not the fixed-width table) are at most 72 characters,
    like every scenario's summary.txt. By hand: "keep dind-inline-cache" for the tied row,
    "rebuild-on-change" for the row where a change saves $5."""
    def row(path, in_use, cheapest, saving):
        return {"project_path": path, "strategy_in_use": in_use, "cheapest_strategy": cheapest,
                "is_status_quo_kept": False, "cost_usd_per_month": {"mean": 10.0},
                "saving_usd_per_month": {"mean": saving, "p10": saving, "p90": saving}}
    rows = [row("fdo/a", "kaniko-cache-repo", "rebuild-on-change", 5.0),
            row("fdo/dind-app", "dind-inline-cache", "dind-inline-cache", 0.0)]
    ns = {"namespace": "fdo", "namespace_registry_gib": 79.3, "projects_registry_gib": 76.3,
          "months_to_quota_p50": None}
    skipped = "; ".join(f"fdo/graphics/tool{i} (builds no image)" for i in range(6))
    text = summary_text({"group": "fdo-with-a-long-name"}, rows, ns, skipped,
                        load_scenario(GROUP_SCENARIO_PATH))
    table = [line for line in text.splitlines()
             if line.startswith(("fdo/", "project", "---", "total"))]
    assert "keep dind-inline-cache" in next(t for t in table if t.startswith("fdo/dind-app"))
    assert next(t for t in table if t.startswith("fdo/a ")).endswith(" -> rebuild-on-change")
    prose = [line for line in text.splitlines() if line not in table]
    assert prose and max(len(line) for line in prose) <= 72
    assert "tool5 (builds no image)." in " ".join(text.split())


@pytest.mark.parametrize("what", ["a file", "group.json a list", "group.json null",
                                  "group.json a folder"])
def test_report_group_on_a_file_or_a_group_json_that_is_no_object(tmp_path, capsys, what):
    """``--group`` naming a file, or a group.json that is JSON but no object (or no file):
    one line, exit 2, nothing written (before: NotADirectoryError and TypeError
    tracebacks, exit 1)."""
    from cachecost.cli import main

    group = tmp_path / "g"
    if what == "a file":
        group.write_text("hi\n")
    else:
        group.mkdir()
        if what == "group.json a folder":
            (group / "group.json").mkdir()
        else:
            (group / "group.json").write_text("[1]\n" if "list" in what else "null\n")
    out = tmp_path / "site"
    assert main(["report", "--group", str(group), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and str(group) in err, err
    assert not out.exists()


def test_report_group_never_writes_into_the_group_folder_or_a_foreign_one(fetched_group,
                                                                          tmp_path, capsys):
    """``--out`` inside the group folder (or a project's dataset in it) is refused, as
    the single report refuses a dataset; an existing folder holding a file no group
    report wrote is refused unless --force-out. One line, exit 2, nothing written
    (before: the site was written into the data, index.html and all, and a user's
    files beside it were left to be overwritten)."""
    import shutil

    from cachecost.cli import main
    from cachecost.group.report import check_group_site_dir

    g = tmp_path / "g"
    shutil.copytree(fetched_group[0], g)
    before = sorted(p.name for p in g.iterdir())
    project = next(p for p in g.iterdir() if p.name.startswith("project="))
    for out in (g, project / "site"):
        assert main(["report", "--group", str(g), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "dataset" in err and "Traceback" not in err, err
    assert sorted(p.name for p in g.iterdir()) == before
    assert not (project / "site").exists()

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine\n")
    assert main(["report", "--group", str(g), "--out", str(mine)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'notes.txt'" in err and "--force-out" in err, err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    check_group_site_dir(g, mine, is_forced=True)     # --force-out: allowed


# every hyphenated word of the table's project and builder cells, with the number of
# lines it is drawn on (a word broken after its hyphen is drawn on two)
_HYPHENATED_WORD_LINES_JS = """() => {
  const out = [];
  for (const cell of document.querySelectorAll('tbody tr td:nth-child(-n+2), p.lead strong')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/[^\\s\\/]*-[^\\s\\/]*/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        out.push([m[0], tops.size]);
      }
    }
  }
  return out;
}"""


@pytest.mark.parametrize("width_px", [1400, 800])
def test_index_never_breaks_a_name_at_its_hyphen(group_site, browser_context,  # noqa: F811
                                                 width_px):
    """A project path or builder ("fdo/multimedia/buildah-app", "ci-templates") is drawn
    with each hyphenated part on one line, at 1400 and 800 px wide, in the table and in
    the bold answer above it; a path may wrap at its slashes (before: "buildah-" / "app"
    and "ci-" / "templates" on two lines)."""
    _, site, _ = group_site
    page = browser_context.new_page()
    try:
        page.set_viewport_size({"width": width_px, "height": 900})
        page.goto((site / "index.html").resolve().as_uri(), wait_until="load")
        words = page.evaluate(_HYPHENATED_WORD_LINES_JS)
    finally:
        page.close()
    assert words, "no hyphenated name in the table"
    assert [w for w, lines in words if lines != 1] == []


def test_the_answer_never_breaks_a_name_at_its_hyphen(browser_context, tmp_path):  # noqa: F811
    """The bold answer above the table names the project that saves most and its two
    strategies; at every width from 360 to 1000 px (20 px steps) each hyphenated name in
    it stays on one line (before: "fdo/multimedia/buildah-" / "app" at 1400 px on the
    demo group)."""
    from cachecost.group.render import render_index

    row = {"project": "p", "project_path": "fdo/multimedia-and-more/buildah-based-app",
           "builder": "buildah", "strategy_in_use": "kaniko-cache-repo",
           "cheapest_strategy": "rebuild-on-change", "is_status_quo_kept": False,
           "strategy_note": None, "registry_bytes": None, "namespace_share": None,
           "cost_usd_per_month": {"mean": 148.0, "p10": 132.0, "p90": 168.0},
           "saving_usd_per_month": {"mean": 85.0, "p10": 72.0, "p90": 101.0}}
    ns = {"namespace": "fdo", "namespace_registry_gib": None, "projects_registry_gib": 0.0,
          "unaccounted_gib": None, "quota_gib": None, "months_to_quota_p50": None,
          "growth_gib_per_month_p50": 0.0}
    index = tmp_path / "index.html"
    index.write_text(render_index({"group": "fdo"}, [row], ns,
                                  load_scenario(GROUP_SCENARIO_PATH), ""), encoding="utf-8")
    page = browser_context.new_page()
    broken = []
    try:
        page.goto(index.resolve().as_uri(), wait_until="load")
        for width in range(360, 1001, 20):
            page.set_viewport_size({"width": width, "height": 900})
            broken += [(width, w) for w, lines in page.evaluate(_HYPHENATED_WORD_LINES_JS)
                       if lines != 1]
    finally:
        page.close()
    assert broken == []


def test_an_edit_to_the_model_rebuilds_the_group(fetched_group, tmp_path, monkeypatch):
    """The group build is a no-op only when nothing its numbers come from changed: an
    edit to any of cachecost's source files (the model's money, not only the group's
    render) changes its fingerprint, as it changes a project's own build (before: only
    group/report.py, render.py and minutes.py counted; `report --group` said "nothing
    changed" and kept the old model's numbers)."""
    import shutil

    from cachecost.config import PACKAGE_DIR
    from cachecost.group import report as group_report

    package = tmp_path / "cachecost"
    shutil.copytree(PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr("cachecost.report.fingerprint.PACKAGE_DIR", package)
    scenario = load_scenario(GROUP_SCENARIO_PATH)
    before = group_report._fingerprint(fetched_group[0], scenario, True)
    assert group_report._fingerprint(fetched_group[0], scenario, True) == before
    money = package / "model" / "money.py"
    money.write_text(money.read_text() + "\n# an edit\n")
    assert group_report._fingerprint(fetched_group[0], scenario, True) != before


def test_a_group_build_sweeps_what_a_killed_one_left(group_site, tmp_path, capsys):
    """A group build killed outright (SIGKILL) leaves each project's staging folder in
    ``OUT/<key>/`` and a temporary file at the top; the next build into that --out
    removes them, a no-op build too (before: they stayed in the published site, even
    after --force)."""
    import shutil

    from cachecost.cli import main

    group, site, build = group_site
    out = tmp_path / "site"
    shutil.copytree(site, out)
    key = build.rows[0]["project"]
    stage = out / key / ".gitlab-hosted-group.build-k2j_x9ab"
    stage.mkdir()
    (stage / "01-ci-history.html").write_text("half\n")
    (out / ".index.html.a1b2c3d4.tmp").write_text("half\n")
    assert main(["report", "--group", str(group), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "removed 2 leftover(s)" in err and "nothing changed" in err, err
    assert not stage.exists() and not (out / ".index.html.a1b2c3d4.tmp").exists()


def test_a_group_json_without_its_name_or_synthetic_flag(fetched_group, tmp_path, capsys):
    """group.json ``{}``: before, the site said "Group None" and, with no
    ``is_synthetic`` there, dropped the synthetic-data label though every project's data
    is synthetic. Now a group.json naming no group is one line, exit 2; one that names
    it but lost the flag still gets the label from the projects' own metadata."""
    import shutil

    from cachecost.cli import main

    g = tmp_path / "g"
    shutil.copytree(fetched_group[0], g)
    meta = json.loads((g / "group.json").read_text())
    (g / "group.json").write_text("{}\n")
    out = tmp_path / "site"
    assert main(["report", "--group", str(g), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "names no group" in err, err
    assert not out.exists()

    (g / "group.json").write_text(json.dumps({"group": meta["group"]}) + "\n")
    build_group_report(g, out, pages=False)
    assert (out / "summary.txt").read_text().startswith("SYNTHETIC DATA")
    assert "SYNTHETIC DATA" in (out / "index.html").read_text()
    assert json.loads((out / "results.json").read_text())["is_synthetic"] is True


def test_each_project_model_returns_its_builder_and_words_kaniko_only_for_kaniko(
        fetched_group, tmp_path):
    """The catalog's builder reaches each project's scenario copy (``builder:``) and its
    model results (``results["builder"]``). A project that does not build with kaniko (the
    test group's dind project; the demo group's buildah one is modelled as
    kaniko-cache-repo) gets that option titled by what it is, "separate cache repository",
    with no note of kaniko's archival (before: "kaniko, separate cache repository" and
    "kaniko was archived on 2025-06-03"); the kaniko project keeps both."""
    out, _, _ = fetched_group
    site = tmp_path / "site"
    build = build_group_report(out, site, pages=False, samples=200, jobs=1)
    catalog = pd.read_parquet(out / "catalog.parquet").set_index("project")
    seen = {}
    for row in build.rows:
        res = json.loads((site / row["project"] / "results.json").read_text())
        builder = catalog.loc[row["project"], "builder"]
        assert res["builder"] == builder
        assert load_scenario(site / row["project"] / "gitlab-hosted-group.scenario.yaml"
                             ).builder == builder
        seen[builder] = res["strategies"]["kaniko-cache-repo"]
    assert {"dind", "kaniko"} <= set(seen)
    assert seen["dind"]["title"].startswith("separate cache repository")
    assert not any("archived" in n for n in seen["dind"]["notes"])
    assert seen["kaniko"]["title"].startswith("kaniko, separate cache repository")
    assert any("kaniko was archived" in n for n in seen["kaniko"]["notes"])


def test_jobs_beyond_the_projects_start_one_worker_a_project(fetched_group, tmp_path,
                                                             monkeypatch):
    """`report --group --jobs 100000` starts as many workers as there are projects to
    build (2 here), as `report --jobs` starts at most one a notebook to run
    (``cachecost.report.build``: ``min(jobs, tasks)``). Pins the bound; it held before."""
    import contextlib

    import cachecost.group.report as group_report

    asked: list[int] = []

    @contextlib.contextmanager
    def workers(n):
        asked.append(n)
        yield None                  # the tasks run here, as with one worker

    monkeypatch.setattr(group_report, "_workers", workers)
    out, _, _ = fetched_group
    build = build_group_report(out, tmp_path / "site", pages=False, samples=200, jobs=100_000)
    assert asked == [len(build.rows)] == [2]
