"""What would flip the recommendation, in words (cachecost.report.flips)."""

from __future__ import annotations

from cachecost.report.flips import flip_sentences, recommendation_flip_sentences, tie_note


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
    assert "$2,350 a year" in flip and "inside the scenario's range" in flip
    flips, _ = flip_sentences(r)
    assert any("$2,230 a year" in f and "outside the scenario's range" in f for f in flips)
    assert any("$1.53 a month more" in f for f in flips)
    assert not any("$0.22" in f for f in flips)


def test_a_thin_margin_is_called_a_tie():
    """A lead of $0.60 against a $1 margin: treat as a tie."""
    assert "treat them as a tie" in tie_note(_results(saving_usd_per_month=0.6))[0]
    assert tie_note(_results()) == []
