"""The index page: the scenarios side by side, strategies ordered by cost."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

from cachecost.report.site import render_index
from tests.content.handmade import make_provenance, make_results


def test_index_rows_are_ordered_by_cost_cheapest_first(tmp_path: Path) -> None:
    results = make_results()   # medians: rebuild 300, bk-min 320, bk-max 330, kaniko 350,
    second = make_results()    # dind 400, no-cache 1000 ($/month)
    second["strategies"]["no-cache"]["total_cost_usd_per_month"]["mean"] = 100.0
    scenarios = []
    for name, data in (("a", results), ("b", second)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(data), encoding="utf-8")
        scenarios.append(SimpleNamespace(name=name, title=f"Scenario {name}",
                                         description="d", sha256="0" * 64))
    state = {"scenarios": {s.name: {"built_at": "t"} for s in scenarios}}
    pages = [{"stem": "02-caching-decision", "title": "Decision"}]
    prov = {**make_provenance(), "scenario": None, "git_is_dirty": False}
    page = render_index(tmp_path, scenarios, pages, state, prov)
    rows = re.findall(r'<tr><th scope="row">.*?<code>([\w-]+)</code></th>', page)
    # mean of the two scenarios' expected costs: no-cache (1000 + 100) / 2 = 550 sits after kaniko
    assert rows == ["rebuild-on-change", "buildkit-registry-cache-min",
                    "buildkit-registry-cache-max", "kaniko-cache-repo", "dind-inline-cache",
                    "no-cache"]
    assert "null" not in page


def _index_of(tmp_path: Path, results: dict) -> str:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text(json.dumps(results), encoding="utf-8")
    scenario = SimpleNamespace(name="a", title="Scenario a", description="d", sha256="0" * 64)
    return render_index(tmp_path, [scenario], [{"stem": "02-caching-decision", "title": "D"}],
                        {"scenarios": {"a": {"built_at": "t"}}},
                        {**make_provenance(), "scenario": None, "git_is_dirty": False})


def _first_screen(page: str) -> str:
    """The answers block: what the index shows before the comparison table."""
    return re.sub(r"\s+", " ", page.split('<div class="cc-answers">')[1].split("</div>")[0])


def test_index_first_screen_says_what_why_how_sure_and_shadow(tmp_path: Path) -> None:
    """Issue 23: the index showed a median -$48 in the table and a mean $49 in the
    recommendation, no interval, no certainty and no word of the shadow price.

    Hand-made: winner rebuild-on-change at $300 against the baseline dind at $400, so the
    expected saving is $400 - $300 = $100, its p10-p90 from the paired delta -120..-80 is
    $80 to $120; 87% of samples cheaper than the runner-up bk-min; the winner's shadow
    storage costs $25/month on average.
    """
    results = make_results()
    results["recommendation"].update(share_of_samples_winner_cheaper=0.87,
                                     weighs=["project_cash", "shadow"])
    results["strategies"]["rebuild-on-change"]["shadow_storage_usd_per_month"] = {
        "mean": 25.0, "p10": 20.0, "p50": 25.0, "p90": 30.0}
    page = _index_of(tmp_path, results)
    text = _first_screen(page)
    assert "Switch to Title of rebuild-on-change." in text
    assert ("Saves $100/month on average (p10–p90: $80 to $120) over the baseline, "
            "Title of dind-inline-cache") in text
    assert ("cheaper than the next best, Title of buildkit-registry-cache-min, in 87% of "
            "20,000 simulations of the uncertain rates") in text
    assert "simulated months" not in page
    assert "shadow price for registry storage ($25/month" in text
    # one saving figure: the table's difference for the winner is the same $100
    assert "-$100 vs baseline" in page
    assert "$48" not in text and "median" not in text


def test_index_says_when_the_totals_are_cash_only_and_when_the_baseline_is_kept(
        tmp_path: Path) -> None:
    """The baseline kept: the saving is what the runner-up would cost more (its delta)."""
    results = make_results()
    results["recommendation"].update(winner="dind-inline-cache", runner_up="rebuild-on-change",
                                     share_of_samples_winner_cheaper=0.6, weighs=["project_cash"])
    results["strategies"]["rebuild-on-change"]["delta_vs_baseline_usd_per_month"] = {
        "mean": 15.0, "p10": -5.0, "p50": 14.0, "p90": 40.0}
    text = _first_screen(_index_of(tmp_path, results))
    assert "Keep Title of dind-inline-cache." in text
    assert ("The next best, Title of rebuild-on-change, would cost $15/month more on average "
            "(p10–p90: -$5.00 to $40)") in text
    assert "cheaper in 60% of 20,000" in text
    assert "no shadow price is included" in text


def test_index_shows_an_exact_tie_with_the_baseline_as_a_zero_difference() -> None:
    """A challenger whose mean cost equals the baseline's to the cent (delta 0.0, as
    BuildKit mode=min against dind in the sample) shows "$0.00 vs baseline", not a blank
    cell that reads as a missing figure; a strategy without a delta stays blank.

    By hand: baseline $25.00, tied challenger $25.00 -> delta 0.00 -> "$0.00 vs baseline".
    """
    from cachecost.report.site import summarize_scenario_for_index

    def q(x: float) -> dict[str, float]:
        return {"mean": x, "p10": x, "p50": x, "p90": x}

    results = {"baseline": "dind", "recommendation": {"winner": "dind"}, "strategies": {
        "dind": {"total_cost_usd_per_month": q(25.0), "is_baseline": True,
                 "delta_vs_baseline_usd_per_month": q(0.0)},
        "tied": {"total_cost_usd_per_month": q(25.0),
                 "delta_vs_baseline_usd_per_month": q(0.0)},
        "unknown": {"total_cost_usd_per_month": q(30.0)},
    }}
    cells = summarize_scenario_for_index(results)["cells"]
    assert cells["tied"]["delta"] == "$0.00 vs baseline"
    assert cells["unknown"]["delta"] == ""


def test_index_answer_names_the_nearest_recommendation_flip(tmp_path: Path) -> None:
    """The share compares with the runner-up (a near-twin); what takes over is in
    ``recommendation_flips``. Two rows: the changes a month at 4.5 against 3.0 today
    (ratio 1.5, log 0.405) and the runner rate at 0.02 against 0.008 (ratio 2.5, log
    0.916): the index names the nearer, in reader words, with the challenger (the
    baseline, taken back), as the summary words it. 0.99955 is not "100%"."""
    from cachecost.report.flips import recommendation_flip_sentences

    results = make_results()
    near = {"input": "image_change_per_month", "unit": "changes/month", "value": 4.5,
            "current": 3.0, "strategy_a": "dind-inline-cache",
            "strategy_b": "rebuild-on-change", "kind": "recommendation flips"}
    far = {**near, "input": "runner_usd_per_min", "unit": "USD/min", "value": 0.02,
           "current": 0.008}
    results["recommendation_flips"] = [far, near]
    results["recommendation"].update(share_of_samples_winner_cheaper=0.99955)
    text = _first_screen(_index_of(tmp_path, results))
    (expected,) = recommendation_flip_sentences({**results, "recommendation_flips": [near]})
    assert "change back to dind-inline-cache" in expected and "4.5" in expected
    assert " ".join(expected.replace("'", "&#39;").split()) in text
    assert "0.02" not in text
    assert "in more than 99.9% of 20,000 simulations" in text and "100%" not in text


def test_index_answer_has_no_flip_sentence_without_one(tmp_path: Path) -> None:
    text = _first_screen(_index_of(tmp_path, make_results()))
    assert "would change" not in text


def test_a_share_short_of_one_never_prints_as_100_percent() -> None:
    """By hand: 0.99955 -> 99.955 % (rounds to 100) -> "more than 99.9%"; 0.997 ->
    "99.7%"; 0.0004 -> 0.04 % -> "less than 0.1%"; 1.0 and 0.87 stay "100%" and "87%"."""
    from cachecost.textfmt import format_share

    assert [format_share(x) for x in (0.99955, 0.997, 0.0004, 1.0, 0.87)] == [
        "more than 99.9%", "99.7%", "less than 0.1%", "100%", "87%"]
