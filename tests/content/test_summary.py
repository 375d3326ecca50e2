"""cachecost.report.summary: the mailing-list body and the recommendation paragraph."""

from __future__ import annotations

import pytest

from cachecost.errors import CachecostError
from cachecost.report.summary import (
    format_recommendation,
    format_summary_markdown,
    format_summary_text,
    format_usd,
)

from .handmade import make_provenance

BASE = "https://qemu-project.gitlab.io/cachecost"
# name -> (CI minutes, registry GiB, $/month, delta text) from handmade.make_results
EXPECTED_ROWS = {
    "dind-inline-cache": ("12,000", "40.0", "$400", "(*)"),
    "rebuild-on-change": ("8,000", "40.0", "$300", "-$100 (-25%)"),
    "buildkit-registry-cache-min": ("9,500", "41.0", "$320", "-$80 (-20%)"),
    "buildkit-registry-cache-max": ("9,400", "60.0", "$330", "-$70 (-18%)"),
    "kaniko-cache-repo": ("9,000", "120.0", "$350", "-$50 (-12%)"),
    "no-cache": ("60,000", "20.0", "$1,000", "+$600 (+150%)"),
}


def _headline_rows(text: str) -> dict[str, list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("strategy "))
    rows = {}
    for line in lines[start + 2:]:
        if not line.strip():
            break
        name, rest = line.split(None, 1)
        cells = rest.split()
        # the delta cell "(*)" or "-$100 (-25%)" has a space inside: rejoin it
        rows[name] = cells[:3] + [" ".join(cells[3:])]
    return rows


@pytest.mark.parametrize("base_url", [None, "", BASE, "https://x.example/" + "p" * 52])
def test_every_line_fits_72_columns(results, provenance, base_url):
    results["scenario_title"] = provenance["scenario_title"] = "A " * 60 + "long title"
    text = format_summary_text(results, provenance, base_url)
    assert max(len(line) for line in text.splitlines()) <= 72
    assert text.endswith("\n") and "\t" not in text


def test_table_matches_the_results_with_the_baseline_first_and_marked(results, provenance):
    rows = _headline_rows(format_summary_text(results, provenance, BASE))
    assert list(rows)[0] == "dind-inline-cache"
    assert {k: tuple(v) for k, v in rows.items()} == EXPECTED_ROWS
    assert [n for n, r in rows.items() if r[3] == "(*)"] == ["dind-inline-cache"]


def test_table_follows_the_scenario_accounting(results, provenance):
    results["storage_over_horizon"]["accounting"] = "root-namespace-dedup"
    rows = _headline_rows(format_summary_text(results, provenance, BASE))
    assert rows["kaniko-cache-repo"][1] == "72.0"   # 120 GiB x 0.6 in the hand-made dict


def test_deterministic_and_independent_of_build_time(results, provenance):
    a = format_summary_text(results, provenance, BASE)
    b = format_summary_text(results, make_provenance(built_at="2030-01-01T00:00:00Z"), BASE)
    assert a == b
    assert "2026-11-27T18:00:00Z" not in a


def test_synthetic_label_only_for_synthetic_data(results, provenance):
    text = format_summary_text(results, provenance, BASE)
    assert "SYNTHETIC SAMPLE DATA" in text.split("\n\n")[1]   # the first paragraph after the title
    results["is_synthetic_data"] = False
    real = make_provenance(is_synthetic=False,
                           data_source="https://gitlab.com qemu-project/qemu")
    text = format_summary_text(results, real, BASE)
    assert "SYNTHETIC" not in text
    assert "https://gitlab.com qemu-project/qemu, fetched 2025-11-24T00:00:00Z" in " ".join(
        text.split())


def test_link_to_the_report_or_a_placeholder(results, provenance):
    short = "https://q.example/r"
    text = format_summary_text(results, provenance, short + "/")
    assert f"{short}/qemu-private-runners/02-caching-decision.html" in text.splitlines()
    # too long for one line: the site root, then the page below it
    text = format_summary_text(results, provenance, BASE)
    assert BASE + "/" in text.splitlines()
    assert "then qemu-private-runners/02-caching-decision.html" in text
    assert "<URL of the published report>" in format_summary_text(results, provenance, None)


def test_a_base_url_longer_than_a_line_is_rejected(results, provenance):
    with pytest.raises(CachecostError, match="base-url"):
        format_summary_text(results, provenance, "https://x.example/" + "p" * 60)


def test_method_and_key_assumptions_with_sources(results, provenance):
    text = format_summary_text(results, provenance, None)
    flat = " ".join(text.split())
    assert "20,000 samples, seed 7" in flat
    # tornado order first: uncached_build_min has the largest swing
    assert flat.index("- uncached_build_min = 15 min") < flat.index("- runner_usd_per_min")
    assert "(source: Bonzini 2023-06-28)" in flat


def test_recommendation_for_a_challenger(results):
    text = format_recommendation(results)
    assert text.startswith("Switch from dind-inline-cache to rebuild-on-change:")
    assert "saves a median $100 a month (25% less)" in text
    assert "$80 to $120 in 80% of the simulations" in text
    assert "Next best is buildkit-registry-cache-min, $20 a month behind." in text
    assert text.endswith("What would flip it: If Dockerfiles changed more than 9 times a "
                         "month, dind-inline-cache would be cheaper.")


def test_recommendation_when_the_baseline_wins(results):
    results["recommendation"].update(winner="dind-inline-cache", runner_up="rebuild-on-change",
                                     flip=[])
    # make rebuild-on-change cost $30 more than the baseline (p10 -$10: not certain)
    results["strategies"]["rebuild-on-change"]["delta_vs_baseline_usd_per_month"] = {
        "p10": -10.0, "p50": 30.0, "p90": 70.0, "mean": 30.0}
    results["strategies"]["dind-inline-cache"]["total_cost_usd_per_month"]["p50"] = 250.0
    text = format_recommendation(results)
    assert text.startswith("Keep dind-inline-cache, today's strategy: at a median $250 a month")
    assert "would cost a median $30 a month more (80% interval -$10 to +$70)" in text
    assert "the lead is not certain" in text
    assert "Nothing within the ranges modelled flips it." in text


def test_recommendation_does_not_call_a_dearer_winner_the_cheapest(results):
    results["recommendation"].update(winner="dind-inline-cache", runner_up="rebuild-on-change")
    text = format_recommendation(results)
    assert "cheapest" not in text
    assert "(rebuild-on-change has the lowest median, $300, but not by enough" in text


def test_recommendation_mentions_caveats_and_quota(results):
    results["recommendation"]["winner"] = "kaniko-cache-repo"
    text = format_recommendation(results)
    assert "Caveat: kaniko --reproducible runs out of memory" in text
    assert "reaches the quota in a median 10 months" in text


def test_markdown_summary(results, provenance):
    md = format_summary_markdown(results, provenance, BASE)
    assert "| `dind-inline-cache (*)` | 12,000 | 40.0 | $400 ($320–$480) | baseline |" in md
    assert "| `no-cache` | 60,000 | 20.0 | $1,000 ($800–$1,200) | +$600 (+150%) |" in md
    assert "SYNTHETIC SAMPLE DATA" in md
    assert f"{BASE}/qemu-private-runners/02-caching-decision.html" in md
    assert md == format_summary_markdown(results, make_provenance(built_at="x"), BASE)


@pytest.mark.parametrize("value,text", [(1234.5, "$1,234"), (-2.345, "-$2.35"),
                                        (-0.001, "$0.00"), (80.0, "$80"), (None, "-"),
                                        (float("inf"), "-")])
def test_format_usd(value, text):
    assert format_usd(value) == text


def test_real_model_results_fit_the_mail_for_every_scenario(sample):
    """The real model's dicts (every bundled scenario) format within 72 columns."""
    from cachecost.config import SCENARIOS_DIR
    from cachecost.model.scenario import load_scenario
    from cachecost.model.simulate import run_model

    paths = sorted(SCENARIOS_DIR.glob("*.yaml"))
    assert paths, "no bundled scenarios"
    for path in paths:
        scenario = load_scenario(path)
        results = run_model(sample, scenario, samples=2000)
        prov = make_provenance(scenario=scenario.name, scenario_title=scenario.title)
        text = format_summary_text(results, prov, BASE)
        assert max(len(line) for line in text.splitlines()) <= 72, path.name
        rows = _headline_rows(text)
        assert set(rows) == set(results["strategies"]), path.name
        assert rows[results["baseline"]][3] == "(*)"
        winner = results["recommendation"]["winner"]
        assert winner in format_recommendation(results)
