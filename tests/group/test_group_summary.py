"""The group summary.txt (for an admins' list) and index: names whole, the scenario's
prices as the scenario states them, the group's total expected saving."""

from __future__ import annotations

import html
import re

import yaml

from cachecost.group.render import render_index, summary_text, total_saving
from cachecost.group.report import GROUP_SCENARIO_PATH
from cachecost.model.scenario import load_scenario
from cachecost.textfmt import format_usd

LONG = ("fdo/graphics/drivers/a-subgroup-with-a-long-name/and-a-project-whose-path-is-"
        "longer-than-any-column")
NS = {"namespace": "fdo", "namespace_registry_gib": 10.0, "projects_registry_gib": 9.0,
      "unaccounted_gib": 1.0, "quota_gib": None, "months_to_quota_p50": None,
      "growth_gib_per_month_p50": 0.0}


def _row(path: str, saving: float, cost: float = 50.0) -> dict:
    return {"project": path.replace("/", "~"), "project_path": path, "builder": "kaniko",
            "strategy_in_use": "kaniko-cache-repo", "cheapest_strategy": "rebuild-on-change",
            "is_status_quo_kept": False, "strategy_note": None,
            "cost_usd_per_month": {"mean": cost, "p10": cost - 5, "p90": cost + 5},
            "saving_usd_per_month": {"mean": saving, "p10": saving - 3, "p90": saving + 3},
            "registry_bytes": 2**30, "namespace_share": 0.1}


ROWS = [_row(LONG, 85.25), _row("fdo/graphics/kaniko-app", 69.5), _row("fdo/b", 0.125)]


def _both(rows, scenario, meta=None):
    """(summary.txt, the index's text without its tags)."""
    meta = meta or {"group": "fdo", "is_synthetic": True}
    text = summary_text(meta, rows, NS, "", scenario)
    index = render_index(meta, rows, NS, scenario, "")
    inline = re.sub(r"</?(?:span|wbr|a|strong|sup|small)\b[^>]*>", "", index)  # no gap
    return text, html.unescape(re.sub(r"<[^>]+>", " ", inline))


def test_a_long_project_path_appears_whole():
    """An 89-character path (before: cut at 32 characters) is one whole line of the
    summary's table, its strategies and figures on the next lines, and whole in the index
    (and in the prose, where it is never broken at a hyphen)."""
    text, index = _both(ROWS, load_scenario(GROUP_SCENARIO_PATH))
    lines = text.splitlines()
    table = lines[next(i for i, line in enumerate(lines) if line.startswith("project ")):]
    assert len(LONG) > 80 and LONG in table
    words, figures = table[table.index(LONG) + 1:table.index(LONG) + 3]
    assert words == "  kaniko-cache-repo -> rebuild-on-change"
    assert figures.startswith(" " * 20) and "$85" in figures
    assert LONG in index


def test_the_prices_shown_are_the_scenario_values(tmp_path):
    """The group scenario's own figures (discount 0.5, quota 50,000 minutes, $10 per
    1,000, shadow $60 per 10 GiB-year), and a scenario with other figures (0.25,
    12,345 minutes, $7.50, $33) shows those: read from the scenario, not written in."""
    group = load_scenario(GROUP_SCENARIO_PATH)
    doc = yaml.safe_load(GROUP_SCENARIO_PATH.read_text(encoding="utf-8"))
    doc["name"] = "other-prices"
    doc["compute"].update(cost_factor=0.25, quota_minutes_per_month=12345,
                          usd_per_1000_minutes=7.5)
    doc["storage"]["shadow_usd_per_10gib_year"] = 33
    (tmp_path / "o.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    other = load_scenario(tmp_path / "o.yaml")
    for sc, want in ((group, ("0.5", "50,000", "$10 ", "$60 ")),
                     (other, ("0.25", "12,345", "$7.50 ", "$33 "))):
        assert sc.value("compute.cost_factor").median == float(want[0])
        for shown in _both(ROWS, sc):
            flat = " ".join(shown.split())
            assert f"scenario {sc.name}" in flat
            assert f"discount factor {want[0]}" in flat
            assert f"compute quota {want[1]} minutes a month, the root namespace's" in flat
            assert f"price beyond the quota {want[2]}per 1,000 minutes" in flat
            assert f"registry shadow price {want[3]}per 10 GiB a year" in flat


def test_the_total_saving_is_the_sum_of_the_rows():
    """$85.25 + $69.50 + $0.125 = $154.875, shown $155 in the summary's total row, its
    sentence and the index's total cell; the intervals are said not to add."""
    assert total_saving(ROWS) == 85.25 + 69.5 + 0.125
    text, index = _both(ROWS, load_scenario(GROUP_SCENARIO_PATH))
    total_row = next(line for line in text.splitlines() if line.startswith("total"))
    assert total_row.split()[-1] == "$155"
    for shown in (text, index):
        flat = " ".join(shown.split())
        assert "Switching 3 of the 3 projects to their cheapest strategy would save $155 " \
            "a month in expectation" in flat
        assert "The total, $155, is the sum of the projects' mean savings" in flat
        assert "their p10 to p90 intervals do not add up" in flat
        assert "SYNTHETIC DATA" in shown
    assert text.startswith("SYNTHETIC DATA")
    raw = render_index({"group": "fdo"}, ROWS, NS, load_scenario(GROUP_SCENARIO_PATH), "")
    assert 'id="total-saving">$155<' in raw


def test_every_prose_line_fits_a_mail_and_a_loss_is_marked():
    """Outside the fixed-width table every line is at most 72 characters, the loss
    footnote too (before: 104), but for a single word longer than that (a long project
    path is never broken); a row whose p10 is a loss carries its star."""
    rows = [*ROWS, _row("fdo/loses", 1.0)]           # p10 = -2: the interval has a loss
    text, _ = _both(rows, load_scenario(GROUP_SCENARIO_PATH))
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("project "))
    end = next(i for i, line in enumerate(lines) if line.startswith("total "))
    prose = lines[:start] + lines[end + 1:]
    assert max(len(line) for line in prose if " " in line.strip()) <= 72
    assert all(len(line) <= 72 or LONG in line for line in prose)
    loses = next(i for i, line in enumerate(lines) if line.startswith("fdo/loses"))
    assert lines[loses + 1].endswith(" *") and not lines[loses + 3].endswith(" *")
    assert "* the interval includes a loss" in text


def test_real_data_is_not_labelled_synthetic():
    text, index = _both(ROWS, load_scenario(GROUP_SCENARIO_PATH), {"group": "fdo"})
    assert "SYNTHETIC" not in text and "SYNTHETIC" not in index


def test_the_answer_comes_first_and_names_the_biggest_change():
    """The summary's and the index's first sentence: how many projects change, the total,
    and the project that saves most ($85 in the long-named one); with every project kept,
    that no change saves more than the tie. The table comes before the namespace and the
    prices."""
    scenario = load_scenario(GROUP_SCENARIO_PATH)
    text, index = _both(ROWS, scenario)
    flat = " ".join(text.split())
    assert flat.startswith("SYNTHETIC DATA - served by the cachecost stand-in, not measured. "
                           "Group fdo, 3 projects that build container images: Switching 3 of "
                           f"the 3 projects to their cheapest strategy would save $155 a month "
                           f"in expectation; the most, $85, in {LONG} (kaniko-cache-repo to "
                           "rebuild-on-change).")
    for shown in (text.lower(), index.lower()):
        assert shown.index("kaniko-app") < shown.index("root namespace") \
            < shown.index("discount factor")
    kept = [{**r, "cheapest_strategy": r["strategy_in_use"], "is_status_quo_kept": True,
             "saving_usd_per_month": {"mean": 0.0, "p10": 0.0, "p90": 0.0}} for r in ROWS]
    text, _ = _both(kept, scenario)
    assert "No project would save by changing: each of the 3 keeps the strategy it uses" \
        in " ".join(text.split())


def test_a_kept_strategy_saves_zero_not_minus_zero():
    """The row of a project that keeps its strategy: its paired delta is 0.0 in every
    sample, so its saving is 0.0, 0.0 to 0.0 (before: -0.0 in results.json)."""
    import json

    from cachecost.group.report import project_row

    zero = {"mean": 0.0, "p10": 0.0, "p50": 0.0, "p90": 0.0}
    results = {"baseline": "dind-inline-cache",
               "recommendation": {"winner": "dind-inline-cache", "is_status_quo_kept": True,
                                  "saving_vs_baseline_usd_per_month": -0.0},
               "strategies": {"dind-inline-cache": {
                   "delta_vs_baseline_usd_per_month": zero,
                   "total_cost_usd_per_month": {**zero, "mean": 58.0},
                   "registry_growth_gib_per_month": zero, "probability_cheapest": 0.6}}}
    row = project_row({"project": "fdo~a", "project_path": "fdo/a"}, results)
    assert "-0.0" not in json.dumps(row["saving_usd_per_month"])


def test_the_table_fits_a_mail_reply_with_the_same_figures():
    """Every table line is at most 78 columns (a mail reply wraps at 72-78; before: 122),
    but a path longer than that, which stays whole on a line of its own. The widest
    strategies (buildkit-registry-cache-min -> buildkit-registry-cache-max, 58 characters)
    go on their own line under a path they do not fit beside; the figures are the ones
    format_usd gives: cost $12,345, saving $12,346 ($10,000 to $15,000), by hand."""
    wide = {**_row("fdo/graphics/drivers/mesa-ci-images", 0.0),
            "strategy_in_use": "buildkit-registry-cache-min",
            "cheapest_strategy": "buildkit-registry-cache-max",
            "cost_usd_per_month": {"mean": 12345.4, "p10": 1.0, "p90": 2.0},
            "saving_usd_per_month": {"mean": 12345.6, "p10": -10000.0, "p90": 15000.0}}
    rows = [*ROWS, wide]
    text, _ = _both(rows, load_scenario(GROUP_SCENARIO_PATH))
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("project "))
    end = next(i for i, line in enumerate(lines) if line.startswith("total "))
    table = lines[start:end + 1]
    assert max(len(line) for line in table if line != LONG) <= 78
    at = table.index("fdo/graphics/drivers/mesa-ci-images")
    assert table[at + 1] == "  buildkit-registry-cache-min -> buildkit-registry-cache-max"
    assert table[at + 2].split() == ["$12,345", "$12,346", "(-$10,000", "to", "$15,000)", "*"]
    assert "fdo/graphics/kaniko-app  kaniko-cache-repo -> rebuild-on-change" in table
    assert table[-1].split()[-1] == format_usd(total_saving(rows))


def test_rounded_rows_that_do_not_add_up_to_the_total_are_said_so():
    """Two projects saving $89.40 each: the rows show $89 and $89 ($178) and the total,
    the sum of the unrounded means $178.80, shows $179 (before: said nowhere). The lead
    sentence, the total row and the index's total cell all say $179, and a line under
    the table says the rows add up to $178. Rows that add up as shown get no such line."""
    rows = [_row("fdo/a", 89.4), _row("fdo/b", 89.4)]
    text, index = _both(rows, load_scenario(GROUP_SCENARIO_PATH))
    lines = text.splitlines()
    total = next(i for i, line in enumerate(lines) if line.startswith("total "))
    assert lines[total].split()[-1] == "$179"
    note = "The rows are rounded: they add up to $178; the total, $179, is the sum of the " \
        "unrounded means."
    assert note in " ".join(" ".join(lines[total + 1:]).split())
    assert "would save $179 a month" in " ".join(text.split())
    assert note in " ".join(index.split())
    text, index = _both(ROWS, load_scenario(GROUP_SCENARIO_PATH))
    assert "The rows are rounded" not in text and "The rows are rounded" not in index
