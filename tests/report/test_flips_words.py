"""What would flip the recommendation, in words (cachecost.report.flips)."""

from __future__ import annotations

from cachecost.report.flips import (
    break_even_sentences,
    flip_sentences,
    moving_lines,
    recommendation_flip_sentences,
    tie_note,
)


def _results(**rec) -> dict:
    """rebuild-on-change beats dind (today's) by $3.14 expected; the node cost's break-evens:
    expected costs cross at $2,226.75 (outside the triangular range 2,250-3,000), the
    recommendation flips at $2,353.17 (inside it); a tornado end reversing the lead by
    $1.53 (above the $1 margin) and one by $0.22 (below it: not a flip)."""
    node = {"input": "compute.node_cost_usd_per_year", "unit": "USD/year", "current": 2625.0,
            "range_low": 2250.0, "range_high": 3000.0, "range_is": "support",
            "strategy_a": "dind-inline-cache", "strategy_b": "rebuild-on-change"}
    return {
        "baseline": "dind-inline-cache",
        "strategies": {},
        "recommendation": {"winner": "rebuild-on-change", "runner_up": "dind-inline-cache",
                           "saving_usd_per_month": 3.14, "status_quo_margin_usd_per_month": 1.0,
                           "share_of_samples_winner_cheaper": 0.76, "is_status_quo_kept": False,
                           **rec},
        "break_even": [{**node, "kind": "costs cross", "value": 2226.75,
                        "is_within_range": False}],
        "recommendation_flips": [{**node, "kind": "recommendation flips", "value": 2353.17,
                                  "is_within_range": True}],
        "tornado": [
            {"input": "assumptions.changed_bytes_share", "unit": "share",
             "strategy": "rebuild-on-change", "low": 0.55, "high": 0.95,
             "delta_low_usd_per_month": -7.85, "delta_high_usd_per_month": 1.53,
             "swing_usd_per_month": 9.38},
            {"input": "workload.build_minutes_factor", "unit": "x",
             "strategy": "rebuild-on-change", "low": 0.8, "high": 1.2,
             "delta_low_usd_per_month": -5.0, "delta_high_usd_per_month": 0.22,
             "swing_usd_per_month": 5.22}],
    }


def test_the_recommendation_flip_is_stated_with_its_range():
    """$2,353.17 to 3 figures is $2,350, inside 2,250-3,000; the crossing $2,230 is
    outside it; the $1.53 reversal is stated, the $0.22 one is below the $1 rule."""
    r = _results()
    (flip,) = recommendation_flip_sentences(r)
    assert "change back to dind-inline-cache" in flip
    assert "$2,350 a year" in flip
    # the range note names the break-even value, not today's, which it follows
    assert "(now $2,625 a year; $2,350 a year is inside the scenario's range" in flip
    flips, _ = flip_sentences(r)
    assert any("$2,230 a year is outside the scenario's range" in f for f in flips)
    assert any("$1.53 a month more" in f for f in flips)
    assert not any("$0.22" in f for f in flips)


def test_a_thin_margin_is_called_a_tie():
    """A lead of $0.60 against a $1 margin: treat as a tie."""
    assert "treat them as a tie" in tie_note(_results(saving_usd_per_month=0.6))[0]
    assert tie_note(_results()) == []


def test_back_to_todays_strategy_says_why_not_the_runner_up():
    """registry-quota-enforced's shape: rebuild-on-change wins, the runner-up is
    buildkit-registry-cache-max ($13.00 behind the winner), dind (today's) $12.87
    behind: the runner-up costs 13.00 - 12.87 = $0.13 a month more than dind, so it
    cannot clear the $1 margin and the flip is back to dind, said with that reason."""
    r = _results(runner_up="buildkit-registry-cache-max", saving_usd_per_month=13.0,
                 saving_vs_baseline_usd_per_month=12.87)
    (flip,) = recommendation_flip_sentences(r)
    assert flip.startswith("The recommendation would change back to dind-inline-cache, "
                           "today's strategy, if")
    assert flip.endswith("(the runner-up, buildkit-registry-cache-max, costs $0.13 a month "
                         "more than dind-inline-cache in expectation, so the margin is "
                         "against dind-inline-cache, not another challenger).")
    # a runner-up ahead of today's by less than the margin: $0.40 (12.60 - 13.00)
    r = _results(runner_up="buildkit-registry-cache-max", saving_usd_per_month=12.6,
                 saving_vs_baseline_usd_per_month=13.0)
    assert "would save only $0.40 a month against dind-inline-cache, less than the $1.00" \
        in recommendation_flip_sentences(r)[0]
    # 13.001 - 13.000: a tenth of a cent, said as the same cost, not "$0.00"
    r = _results(runner_up="buildkit-registry-cache-max", saving_usd_per_month=13.001,
                 saving_vs_baseline_usd_per_month=13.0)
    assert "(the runner-up, buildkit-registry-cache-max, costs the same as dind-inline-cache " \
        "in expectation, so the margin" in recommendation_flip_sentences(r)[0]


def test_two_challengers_crossing_is_the_flip_when_both_clear_the_margin():
    """The runner-up also beats today's strategy by more than the margin: the model's
    recommendation flip is where the two challengers cross (strategy_a the winner), said
    once, as a change to the runner-up, not as a change back to today's."""
    node = {"input": "compute.node_cost_usd_per_year", "unit": "USD/year", "current": 2625.0,
            "range_low": 2250.0, "range_high": 3000.0, "range_is": "support",
            "strategy_a": "rebuild-on-change", "strategy_b": "kaniko-cache-repo",
            "value": 2400.0, "is_within_range": True}
    r = _results(runner_up="kaniko-cache-repo", saving_usd_per_month=2.0,
                 saving_vs_baseline_usd_per_month=9.0)
    r["break_even"] = [{**node, "kind": "costs cross"}]
    r["recommendation_flips"] = [{**node, "kind": "recommendation flips"}]
    (flip,) = recommendation_flip_sentences(r)
    assert flip.startswith("The recommendation would change to kaniko-cache-repo if the "
                           "runner nodes' yearly cost fell to $2,400 a year")
    assert "expected cost falls to rebuild-on-change's" in flip and "back to" not in flip
    flips, _ = flip_sentences(r)
    assert sum("$2,400 a year" in f for f in flips) == 1


def test_moving_inputs_apply_the_tie_rule():
    """Swings of the runner-up (kaniko) against today's: $0.00 -> $0.02 and $0.00 ->
    -$0.01 are below the $1 margin and not listed; $0.00 -> $9.00 (swing 9) and $2.00 ->
    -$3.50 (swing 5.50) are, largest first, by their reader's names. With none at or
    above the margin, one line says so."""
    r = _results(runner_up="kaniko-cache-repo")
    k = "kaniko-cache-repo"
    r["tornado"] = [
        {"input": "small.one", "strategy": k, "delta_low_usd_per_month": 0.0,
         "delta_high_usd_per_month": 0.02},
        {"input": "assumptions.changed_bytes_share", "strategy": k, "swing_usd_per_month": 5.5,
         "delta_low_usd_per_month": 2.0, "delta_high_usd_per_month": -3.5},
        {"input": "tiny.one", "strategy": k, "delta_low_usd_per_month": 0.0,
         "delta_high_usd_per_month": -0.01},
        {"input": "workload.image_changes_factor", "strategy": k, "swing_usd_per_month": 9.0,
         "delta_low_usd_per_month": 0.0, "delta_high_usd_per_month": 9.0}]
    assert moving_lines(r) == [
        "inputs moving kaniko-cache-repo vs dind-inline-cache most (p10 -> p90):",
        "  how often images change: $0.00 -> $9.00/month",
        "  the share of an image a change rewrites: $2.00 -> -$3.50/month"]
    r["tornado"] = [r["tornado"][0], r["tornado"][2]]
    assert moving_lines(r) == ["no input at its p10 or p90 moves kaniko-cache-repo vs "
                               "dind-inline-cache by the $1.00 a month the model needs to "
                               "switch"]


def test_the_flip_names_the_challenger_that_takes_over_not_the_runner_up():
    """Today's dind kept; its runner-up is buildkit-registry-cache-max, but the flip row
    (upstream pipelines factor rising to 1.009x, past the quota edge that moves dind and
    buildkit alike) is against rebuild-on-change: the sentence names rebuild-on-change."""
    r = _results(winner="dind-inline-cache", runner_up="buildkit-registry-cache-max",
                 is_status_quo_kept=False, saving_usd_per_month=0.2)
    r["recommendation_flips"] = [{
        "input": "workload.upstream_pipelines_factor", "unit": "x", "current": 1.0,
        "value": 1.00904, "range_low": 1.0, "range_high": 1.0, "range_is": "fixed",
        "is_within_range": False, "kind": "recommendation flips",
        "strategy_a": "dind-inline-cache", "strategy_b": "rebuild-on-change"}]
    (flip,) = recommendation_flip_sentences(r)
    assert flip.startswith("The recommendation would change to rebuild-on-change if ")
    assert "buildkit-registry-cache-max" not in flip


def test_the_flip_and_the_crossing_of_one_pair_show_different_figures():
    """gitlab-hosted-oss (2026-12-07): for dind-inline-cache against rebuild-on-change the
    upstream-pipelines factor where the recommendation flips is 1.00904 and where their
    expected costs cross 1.00709. To 3 significant figures both are "1.01" (the
    report said "1.01×" twice); to 4 they read 1.009 and 1.007, which tells them apart.
    A third pair's crossing (no-cache, 0.5493) keeps 2 figures, 0.55 (nothing to tell apart)."""
    factor = {"input": "workload.upstream_pipelines_factor", "unit": "x", "current": 1.0,
              "strategy_a": "dind-inline-cache"}
    r = _results(winner="dind-inline-cache", runner_up="rebuild-on-change",
                 is_status_quo_kept=True)
    r["recommendation_flips"] = [{**factor, "strategy_b": "rebuild-on-change",
                                  "kind": "recommendation flips", "value": 1.009040655}]
    r["break_even"] = [
        {**factor, "strategy_b": "rebuild-on-change", "kind": "costs cross",
         "value": 1.007089723},
        {**factor, "strategy_b": "no-cache", "kind": "costs cross", "value": 0.549332895}]
    (flip,) = recommendation_flip_sentences(r)
    assert "rose to 1.009× the measured rate" in flip
    crossings, _ = break_even_sentences(r, "dind-inline-cache")
    assert any("rebuild-on-change would cost the same" in c and "rose to 1.007×" in c
               for c in crossings)
    assert any("no-cache would cost the same" in c and "fell to 0.55×" in c
               for c in crossings)
    assert "1.01×" not in flip + " ".join(crossings)
