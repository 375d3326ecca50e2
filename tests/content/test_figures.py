"""cachecost.report.figures: the traces and values each chart draws, titles with units, escaping."""

from __future__ import annotations

import html
import re

import pandas as pd
import plotly.graph_objects as go
import pytest

from cachecost.report import figures, history

from .datasets import make_dataset
from .handmade import make_claims, make_results, make_value_of_information

EVIL = '<img src=x onerror="alert(1)">'


def _has_titles(fig: go.Figure) -> None:
    assert fig.layout.title.text, "figure without a title"
    axis_titles = [a.title.text for a in (fig.layout.xaxis, fig.layout.yaxis) if a.title.text]
    assert axis_titles, "figure without axis titles"


def _bar_y(fig: go.Figure, name: str) -> list:
    (trace,) = [t for t in fig.data if t.name == name]
    return list(trace.y)


# --------------------------------------------------------------------------- history


def test_pipelines_per_month_stacks_one_trace_per_source():
    df = pd.DataFrame({"month": ["2025-01", "2025-01", "2025-02"],
                       "source": ["push", EVIL, "push"], "pipelines": [2, 1, 4]})
    fig = figures.plot_pipelines_per_month(df)
    assert fig.layout.barmode == "stack"
    assert _bar_y(fig, "push") == [2, 4]
    assert _bar_y(fig, html.escape(EVIL)) == [1]   # shown as text, not as HTML
    assert "pipelines per month" in fig.layout.yaxis.title.text
    _has_titles(fig)


def test_build_durations_draw_the_precomputed_quantiles():
    df = pd.DataFrame({"image": ["a", "a", "b"], "build": ["cached", "uncached", "cached"],
                       "jobs": [5, 2, 3], "p10": [1.0, 10.0, 2.0], "p25": [1.5, 12.0, 2.5],
                       "p50": [2.0, 15.0, 3.0], "p75": [2.5, 16.0, 3.5],
                       "p90": [3.0, 17.0, 4.0]})
    fig = figures.plot_build_durations(df)
    cached = next(t for t in fig.data if t.name == "cached")
    assert list(cached.y) == ["a", "b"] and list(cached.median) == [2.0, 3.0]
    assert list(cached.lowerfence) == [1.0, 2.0] and list(cached.upperfence) == [3.0, 4.0]
    uncached = next(t for t in fig.data if t.name == "uncached")
    assert list(uncached.median) == [15.0]
    assert "minutes" in fig.layout.xaxis.title.text


def test_cache_outcome_rate_plots_the_share_not_served_from_cache():
    week = pd.Timestamp("2025-03-03")
    df = pd.DataFrame({"week": [week] * 5,
                       "basis": ["sampled logs"] * 3 + ["inferred"] * 2,
                       "outcome": ["hit", "miss", "partial", "cached", "uncached"],
                       "jobs": [2, 1, 1, 9, 1], "share": [0.5, 0.25, 0.25, 0.9, 0.1]})
    fig = figures.plot_cache_outcome_rate(df)
    by_name = {t.name.split(" (")[0]: list(t.y) for t in fig.data}
    assert by_name == {"inferred": [10.0], "sampled logs": [50.0]}
    assert "%" in fig.layout.yaxis.title.text


def test_sampled_logs_line_only_in_weeks_with_sampled_logs():
    w1, w2, w3 = (pd.Timestamp(d) for d in ("2025-03-03", "2025-03-10", "2025-03-17"))
    df = pd.DataFrame({"week": [w1, w1, w2, w3, w3],
                       "basis": ["inferred", "sampled logs", "inferred", "inferred",
                                 "sampled logs"],
                       "outcome": ["uncached", "miss", "cached", "cached", "hit"],
                       "jobs": [4, 2, 5, 6, 3], "share": [1.0, 1.0, 1.0, 1.0, 1.0]})
    fig = figures.plot_cache_outcome_rate(df)
    sampled = next(t for t in fig.data if t.name.startswith("sampled logs"))
    assert list(sampled.x) == ["2025-03-03", "2025-03-10", "2025-03-17"]
    assert list(sampled.y) == [100.0, None, 0.0]   # no point, and no line, in week 2
    assert sampled.connectgaps is False
    assert sampled.name == "sampled logs (5 builds)"


def test_registry_and_billing_charts_convert_units():
    reg = pd.DataFrame({"repository": ["qemu/a", "qemu/a-cache"], "image": ["a", "a"],
                        "is_cache_repository": [False, True], "tags": [2, 5],
                        "tag_sum_bytes": [2 * 1024**3, 1024**3],
                        "dedup_bytes": [1.5 * 1024**3, float("nan")]})
    fig = figures.plot_registry_size(reg)
    tag_sum = next(t for t in fig.data if t.name == "sum of tag sizes")
    assert list(tag_sum.x) == [2.0, 1.0]
    assert list(tag_sum.y) == ["qemu/a", "qemu/a-cache (cache)"]
    assert "GiB" in fig.layout.xaxis.title.text
    billed = pd.DataFrame({"month": ["2025-03", "2025-03"],
                           "attempt": ["final attempt", "retried attempt"],
                           "jobs": [1, 1], "minutes": [10.0, 5.0]})
    fig = figures.plot_billed_build_minutes(billed)
    assert _bar_y(fig, "retried attempt") == [5.0]
    assert "minutes" in fig.layout.yaxis.title.text


def test_history_builders_accept_history_frames_of_a_hand_built_dataset():
    ds = make_dataset(
        pipelines=[{"pipeline_id": 1, "source": "push", "created_at": "2025-03-04T00:00:00Z",
                    "queued_duration_s": 3.0}],
        jobs=[{"job_id": i, "pipeline_id": 1, "stage": "containers", "status": "success",
               "is_container_build": True, "image": EVIL, "duration_s": d,
               "created_at": "2025-03-04T00:00:00Z", "started_at": "2025-03-04T00:00:00Z",
               "queued_duration_s": 1.0} for i, d in enumerate([100.0, 101.0, 900.0])],
    )
    pairs = [(history.count_pipelines_per_month, figures.plot_pipelines_per_month),
             (history.summarize_build_durations, figures.plot_build_durations),
             (history.compute_cache_outcome_rate, figures.plot_cache_outcome_rate),
             (history.summarize_queue_times, figures.plot_queue_times),
             (history.summarize_registry_size, figures.plot_registry_size),
             (history.sum_billed_build_minutes, figures.plot_billed_build_minutes)]
    for compute, plot in pairs:
        fig = plot(compute(ds))
        _has_titles(fig)
        assert EVIL not in fig.to_json().replace("\\u003c", "<").replace("\\u003e", ">") \
            .replace('\\"', '"'), plot.__name__


# --------------------------------------------------------------------------- decision


def test_headline_table_lists_every_strategy_baseline_first_and_escapes(results):
    """Each cell is the expected (mean) value with p10 – p90 beside it (issue 23: the
    figure the decision and the index use). rebuild-on-change is skewed here: mean $308
    against a median $300, its difference from dind's mean $400 a mean -$92 (median
    -$100), -92 / 400 = -23%; 8,200 minutes on average (median 8,000)."""
    results["strategies"]["no-cache"]["title"] = EVIL
    rebuild = results["strategies"]["rebuild-on-change"]
    rebuild["total_cost_usd_per_month"]["mean"] = 308.0
    rebuild["delta_vs_baseline_usd_per_month"]["mean"] = -92.0
    rebuild["compute_minutes_per_month"]["mean"] = 8200.0
    frame = figures.format_headline_frame(results)
    assert list(frame["strategy"]) == [
        "dind-inline-cache (*)", "rebuild-on-change", "buildkit-registry-cache-min",
        "buildkit-registry-cache-max", "kaniko-cache-repo", "no-cache"]
    row = frame.set_index("strategy").loc["rebuild-on-change"]
    assert row["total cost USD / month"] == "$308 ($240 – $360)"
    assert row["Δ vs baseline USD / month"] == "-$92 (-$120 – -$80)"
    assert row["Δ %"] == "-23%"
    assert row["CI minutes / month"] == "8,200 (6,400 – 9,600)"
    page = figures.headline_table(results).data
    assert EVIL not in page and html.escape(EVIL) in page
    # five columns (fits 800 px); each cell the mean over its p10 – p90
    assert page.count("<th>") == 5
    assert "$308<br><small class=\"cachecost-range\">$240 – $360</small>" in page
    assert "-$92 (-23%)<br><small class=\"cachecost-range\">-$120 – -$80</small>" in page


def test_headline_table_says_the_models_data_notes_escaped(results):
    """Case 04: images with no registry data run at a fallback size; the decision page
    says so under its table, as the summaries do, escaped (image names come from data)."""
    assert "cachecost-data-notes" not in figures.headline_table(results).data
    results["calibration"] = {"notes": [f"2 images without registry data ({EVIL}) use the "
                                        "fallback size 0.70 GiB"]}
    page = figures.headline_table(results).data
    assert "Data notes: 2 images without registry data" in page
    assert EVIL not in page and html.escape(EVIL) in page


def test_recommendation_and_assumptions_are_escaped(results):
    results["strategies"]["rebuild-on-change"]["notes"] = [EVIL]
    results["inputs"][0]["citation"] = EVIL
    assert EVIL not in figures.recommendation_paragraph(results).data
    page = figures.assumptions_table(results).data
    assert EVIL not in page and html.escape(EVIL) in page
    assert "Bonzini 2023-06-28" in page


def test_citations_link_to_the_sources_list_and_no_outside_path(results):
    results["inputs"].append({"name": "forks.cost_factor", "value": 0.008, "unit": "x",
                              "source": "default", "distribution": None,
                              "citation": "GitLab doc ci/pipelines/compute_minutes.md, 2025 "
                                          "(shared/reference/domain-facts.md §2)"})
    page = figures.assumptions_table(results).data
    n = figures.SOURCE_NUMBERS["gitlab-compute-minutes"]
    assert f'<a href="#src-gitlab-compute-minutes" class="cachecost-cite">[{n}]</a>' in page
    assert html.escape("GitLab's discount factor for fork jobs") in page
    assert "shared/" not in page and "domain-facts" not in page
    listing = figures.sources_list(results).data
    assert (f'<li id="src-gitlab-compute-minutes" value="{n}">' in listing and
            '<a href="https://docs.gitlab.com/ee/ci/pipelines/compute_minutes.html">' in listing)


def test_claims_and_measure_next_tables(results):
    assert "predate the claim checks" in figures.claims_table(results).data
    assert "predate the value-of-information" in figures.measure_next_table(results).data
    results["claims"] = make_claims()
    results["claims"][4]["hinges_on"] = EVIL
    page = figures.claims_table(results).data
    assert EVIL not in page and html.escape(EVIL) in page
    verdicts = re.findall(r'<strong class="cachecost-verdict">(.*?)</strong>', page)
    assert verdicts == ["partly", "holds", "holds", "these data cannot tell",
                        "holds"]  # the thread's order, not the dict's
    n = figures.SOURCE_NUMBERS["kaniko-issue-862"]
    assert f'<a href="#src-kaniko-issue-862" class="cachecost-cite">[{n}]</a>' in page
    results["value_of_information"] = make_value_of_information()
    page = figures.measure_next_table(results).data
    assert page.index("how often images change") < page.index("kaniko's cache layers are the image's own") \
        < page.index("fork pipelines a month")
    assert "$12 a month" in page and "under $0.5 a month" in page


def test_per_image_inputs_are_pivoted(results):
    results["inputs"] += [
        {"name": "data.image.debian.cached_build_min", "value": 2.5, "unit": "minutes",
         "source": "data", "citation": None, "distribution": None},
        {"name": "data.image.debian.tags_kept", "value": 3.0, "unit": "tags",
         "source": "data", "citation": None, "distribution": None},
        {"name": "data.image.alpine.cached_build_min", "value": 2.0, "unit": "minutes",
         "source": "data", "citation": None, "distribution": None},
    ]
    frame = figures.format_per_image_frame(results)
    assert frame.to_dict("records") == [
        {"image": "alpine", "cached build (minutes)": "2", "tags kept": "-"},
        {"image": "debian", "cached build (minutes)": "2.5", "tags kept": "3"},
    ]
    assert "data.image." not in " ".join(figures.format_assumptions_frame(results)["input"])


@pytest.mark.parametrize("measure,unit,header", [
    ("builds_per_month", "builds/month", "builds a month"),
    ("cached_build_min", "minutes", "cached build (minutes)"),
    ("size_gib", "GiB", "size (GiB)"),
    ("tags_kept", "tags", "tags kept"),
    ("layers", "count", "layers (count)"),
])
def test_per_image_headers_say_the_unit_once(measure, unit, header):
    assert figures.per_image_header(measure, unit) == header


def test_cost_by_component_stacks_the_components(results):
    fig = figures.plot_cost_by_component(results)
    assert fig.layout.barmode == "stack"
    assert list(fig.data[0].x)[0] == "dind-inline-cache (*)"
    storage = _bar_y(fig, "registry storage")
    assert storage[0] == pytest.approx(80.0)    # 0.2 x $400 for the baseline
    assert "USD" in fig.layout.yaxis.title.text


def test_registry_storage_small_multiples_with_quota(results):
    fig = figures.plot_registry_storage(results)
    medians = [t for t in fig.data if t.hovertemplate and "GiB" in t.hovertemplate]
    assert len(medians) == 6  # one panel per strategy
    kaniko = next(t for t in medians if "kaniko-cache-repo" in t.hovertemplate)
    assert list(kaniko.y) == results["storage_over_horizon"]["strategies"][
        "kaniko-cache-repo"]["p50"]
    assert len({(t.xaxis, t.yaxis) for t in medians}) == 6
    assert len([t for t in fig.data if t.fill == "tonexty"]) == 6
    assert [s.y0 for s in fig.layout.shapes] == [100.0] * 6  # the quota in every panel
    assert [a.text for a in fig.layout.annotations][:2] == ["dind-inline-cache (*)",
                                                            "rebuild-on-change"]
    assert not [t for t in fig.data if t.name and "cleanup" in t.name]


def test_registry_storage_cleanup_is_its_own_chart(results):
    fig = figures.plot_registry_storage_cleanup(results)
    kaniko = next(t for t in fig.data if t.name == "kaniko-cache-repo")
    assert list(kaniko.y) == results["storage_over_horizon"]["cleanup_what_if"][
        "kaniko-cache-repo"]["p50"]
    assert [s.y0 for s in fig.layout.shapes] == [100.0]
    results["storage_over_horizon"]["cleanup_what_if"] = {}
    assert "no cleanup policy" in figures.plot_registry_storage_cleanup(results).data


def test_registry_storage_without_quota(results):
    results["storage_over_horizon"]["quota_gib"] = None
    fig = figures.plot_registry_storage(results)
    assert not fig.layout.shapes


def test_fork_minutes_and_quota_share(results):
    fig = figures.plot_fork_minutes(results)
    minutes, share = fig.data
    assert list(minutes.y)[0] == 900          # baseline first
    assert list(share.y)[0] == pytest.approx(900 * 0.008 / 400 * 100)
    assert list(minutes.error_y.array)[0] == pytest.approx(180.0)


def test_tornado_bars_start_at_the_challengers_delta(results):
    fig = figures.plot_tornado(results)
    low, high = fig.data
    assert list(low.base) == [-100.0, -100.0]       # rebuild-on-change's Δ p50
    assert list(low.x) == [-50.0, 20.0]
    assert list(high.x) == [50.0, -20.0]
    assert low.y[0].replace("<br>", " ").startswith("uncached build min (10 min to 20 min)")


def test_break_even_as_a_multiple_of_today(results):
    fig = figures.plot_break_even(results)
    point = next(t for t in fig.data if t.name == "break-even value")
    assert list(point.x) == [3.0]                   # 9 changes/month vs 3 today
    assert "1 more pairs: none within ×/÷3 of today, robust" in fig.layout.title.text
    results["break_even"][0]["value"] = 3.0 * 45    # 45x today: not drawn, counted
    fig = figures.plot_break_even(results)
    assert list(next(t for t in fig.data if t.name == "break-even value").x) == []
    assert "2 more pairs" in fig.layout.title.text
    assert fig.layout.xaxis.type == "log"


def test_decision_builders_have_titles():
    results = make_results()
    for plot in (figures.plot_cost_by_component, figures.plot_registry_storage,
                 figures.plot_fork_minutes, figures.plot_tornado, figures.plot_break_even):
        fig = plot(results)
        assert fig.layout.title.text, plot.__name__
        assert fig.layout.template.layout.font.family or fig.layout.font.family


def test_decision_chart_labels_show_markup_as_text(results):
    results["tornado"][0]["input"] = EVIL
    results["break_even"][0]["input"] = EVIL
    for fig in (figures.plot_tornado(results), figures.plot_break_even(results)):
        labels = [y for t in fig.data for y in (t.y or [])]
        assert not [y for y in labels if EVIL in y]
        assert [y for y in labels if html.escape(EVIL) in y]


def test_quota_line_names_the_quota_the_text_gives(results):
    """The sample's page said "quota 250 GiB" in its words and "dotted: quota 244 GiB" on
    the chart: the line is the room left, 250 - 6.0 GiB of other usage = 244 GiB."""
    soh = results["storage_over_horizon"]
    soh.update(quota_gib=244.0, namespace_quota_gib=250.0, other_usage_gib=6.0)
    title = figures.plot_registry_storage(results).layout.title.text
    assert "dotted: 250 GiB quota less 6.0 GiB of other usage: 244 GiB" in title
    cleanup = figures.plot_registry_storage_cleanup(results)
    assert [a.text for a in cleanup.layout.annotations] == [
        "250 GiB quota less 6.0 GiB of other usage: 244 GiB"]
    soh.update(quota_gib=100.0, namespace_quota_gib=100.0, other_usage_gib=0.0)
    assert "dotted: quota 100 GiB" in figures.plot_registry_storage(results).layout.title.text


def test_the_break_even_chart_shows_the_crossing_as_the_sentences_do(results):
    """The crossing of dind and rebuild-on-change at 1.00709× pipelines beside where the
    recommendation flips, 1.00904×: the chart's label shows 1.007× (4 figures, as the
    sentences do: 3 would read 1.01× for both), hand-made rows."""
    factor = {"input": "workload.upstream_pipelines_factor", "unit": "x", "current": 1.0,
              "strategy_a": "dind-inline-cache", "strategy_b": "rebuild-on-change"}
    results["break_even"] = [{**factor, "kind": "costs cross", "value": 1.007089723}]
    results["recommendation_flips"] = [{**factor, "kind": "recommendation flips",
                                        "value": 1.009040655}]
    point = next(t for t in figures.plot_break_even(results).data
                 if t.name == "break-even value")
    label = point.y[0].replace("<br>", " ")
    assert "1.007×" in label and "1.01×" not in label
