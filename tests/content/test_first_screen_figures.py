"""Charts that show what decides (issue 23, item 4).

Before: one tornado axis for every challenger, so no-cache's ~$150 swing flattened the
bars of the recommended comparison; four of six cleanup lines lay on one another with
nothing saying so; the history page's two cache-miss lines disagreed without a word;
an empty history section did not say how to fill it.
"""

from __future__ import annotations

import pandas as pd

from cachecost.report import figures

from .handmade import make_results


def _with_no_cache_bars(results: dict) -> dict:
    """Add no-cache bars swinging $1,000 (ten times the recommended pair's largest)."""
    results["tornado"] += [
        {"input": "runner_size", "unit": "x", "low": 1.0, "high": 2.0,
         "delta_low_usd_per_month": 100.0, "delta_high_usd_per_month": 1100.0,
         "strategy": "no-cache"},
        {"input": "uncached_build_min", "unit": "min", "low": 10.0, "high": 20.0,
         "delta_low_usd_per_month": 500.0, "delta_high_usd_per_month": 700.0,
         "strategy": "no-cache"},
    ]
    results["tornado"].insert(0, results["tornado"].pop(-2))   # the model lists it first
    return results


def test_tornado_draws_the_recommended_pair_first_on_its_own_scale():
    results = _with_no_cache_bars(make_results())
    fig = figures.plot_tornado(results)
    first, second = fig.layout.annotations[0].text, fig.layout.annotations[1].text
    assert first == "rebuild-on-change (the recommendation)"
    assert second == "no-cache"
    assert "Δ vs dind-inline-cache" in fig.layout.title.text
    on_x1 = [t for t in fig.data if t.xaxis == "x"]
    on_x2 = [t for t in fig.data if t.xaxis == "x2"]
    # the recommended pair's two bars (swings 100 and 40) alone on the first axis
    assert [list(t.y) for t in on_x1][0][0].startswith("uncached build min")
    assert len(on_x1[0].y) == 2 and len(on_x2[0].y) == 2
    assert fig.layout.xaxis.matches is None       # each panel keeps its own scale


def test_tornado_when_the_baseline_is_kept_shows_the_runner_up_first():
    results = _with_no_cache_bars(make_results())
    results["recommendation"].update(winner="dind-inline-cache", runner_up="no-cache")
    assert figures.tornado_order(results) == ["no-cache", "rebuild-on-change"]


def test_cleanup_lines_a_chart_cannot_tell_apart_are_one_labelled_line():
    """Sizes 40 GiB (x 0.5 ... ) for dind, rebuild and bk-min (41 GiB: within 1% of the
    chart's peak, 120 x 0.5 = 60 GiB, i.e. 0.6 GiB) merge; 20, 60, 120 GiB stay apart."""
    results = make_results()
    fig = figures.plot_registry_storage_cleanup(results)
    names = [t.name for t in fig.data]
    merged = [n for n in names if "the same within" in n]
    assert len(merged) == 1
    assert all(s in merged[0] for s in ("dind-inline-cache", "rebuild-on-change",
                                        "buildkit-registry-cache-min"))
    assert len(names) == 4            # 6 strategies: 3 merged + no-cache, kaniko, bk-max


def test_group_equal_lines_keeps_distinct_lines_apart():
    series = {"a": [1.0, 2.0], "b": [1.05, 2.05], "c": [1.0, 3.0]}
    assert figures.group_equal_lines(series, 0.1) == [["a", "b"], ["c"]]
    assert figures.group_equal_lines(series, 0.01) == [["a"], ["b"], ["c"]]


def test_the_two_cache_miss_lines_say_why_they_differ():
    week = pd.Timestamp("2025-03-03")
    df = pd.DataFrame({"week": [week] * 4, "basis": ["sampled logs"] * 2 + ["inferred"] * 2,
                       "outcome": ["hit", "partial", "cached", "uncached"],
                       "jobs": [1, 1, 9, 1], "share": [0.5, 0.5, 0.9, 0.1]})
    captions = [a.text for a in figures.plot_cache_outcome_rate(df).layout.annotations]
    assert any("Why two lines" in c and "duration" in c and "partial" in c for c in captions)
    one_basis = df[df["basis"] == "inferred"]
    assert not figures.plot_cache_outcome_rate(one_basis).layout.annotations


def test_an_empty_history_section_says_how_to_get_it():
    empty = pd.DataFrame({"image": [], "time": [], "commit": [], "paths": []})
    note = figures.plot_image_changes(empty).data
    assert "<code>cachecost fetch</code>" in note and "make demo-fetch" in note
    assert note.count("<p") == 1


def test_the_sources_list_holds_only_what_the_page_cites():
    """Issue 23: 12 of 28 listed sources were cited nowhere in the text. The hand-made
    results cite Bonzini 2023-06-28 (an input) and nothing else: one item, number kept."""
    results = make_results()
    listing = figures.sources_list(results).data
    n = figures.SOURCE_NUMBERS["qemu-azure-2023"]
    assert listing.count("<li ") == 1
    assert f'<li id="src-qemu-azure-2023" value="{n}">' in listing
    assert "kaniko-push-go" not in listing
    assert figures.sources_list().data.count("<li ") == len(figures.SOURCE_NUMBERS)
    for i in results["inputs"]:
        i["citation"] = None
    assert "No public source is cited" in figures.sources_list(results).data
