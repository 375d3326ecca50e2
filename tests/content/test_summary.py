"""cachecost.report.summary: the mailing-list body and the recommendation paragraph."""

from __future__ import annotations

import pytest

from cachecost.model.claims_base import PATCH_CACHE_REPO
from cachecost.report.recommendation import opening_sentences
from cachecost.report.summary import (
    format_recommendation,
    format_summary_markdown,
    format_summary_text,
    format_usd,
    is_url_line,
)

from .handmade import make_claims, make_provenance, make_value_of_information, q

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


def _too_wide(text: str) -> list[str]:
    """Lines over 72 columns, except a URL standing alone (never broken)."""
    return [line for line in text.splitlines()
            if len(line) > 72 and not is_url_line(line)]


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
    results["claims"] = make_claims()
    results["value_of_information"] = make_value_of_information()
    text = format_summary_text(results, provenance, base_url)
    assert _too_wide(text) == []
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


def test_link_to_the_report_never_broken_and_no_placeholder(results, provenance):
    short = "https://q.example/r"
    text = format_summary_text(results, provenance, short + "/")
    assert f"{short}/qemu-private-runners/02-caching-decision.html" in text.split()
    long_base = "https://x.example/" + "p" * 80
    text = format_summary_text(results, provenance, long_base)
    url = f"{long_base}/qemu-private-runners/02-caching-decision.html"
    assert url in text.splitlines()  # whole, alone on its line
    assert "<URL" not in text and "<URL" not in format_summary_text(results, provenance, None)


def test_without_a_base_url_the_summary_names_the_files(results, provenance):
    flat = " ".join(format_summary_text(results, provenance, None).split())
    assert "qemu-private-runners/02-caching-decision.html" in flat
    assert "summary.txt, summary.md and results.json" in flat
    assert "http" not in flat.split("Full report")[1]


def test_key_assumptions_use_reader_names_and_numbered_sources(results, provenance):
    results["inputs"].append({"name": "compute.node_cost_usd_per_year", "value": 2625.0,
                              "unit": "USD/year", "source": "default",
                              "citation": "Bonzini, qemu-devel 2023-06-28 "
                                          "(shared/reference/domain-facts.md §2)"})
    results["tornado"].insert(0, {"input": "compute.node_cost_usd_per_year", "unit": "USD/year",
                                  "low": 2300.0, "high": 2900.0, "strategy": "no-cache",
                                  "delta_low_usd_per_month": 1.0,
                                  "delta_high_usd_per_month": 2.0})
    text = format_summary_text(results, provenance, None)
    flat = " ".join(text.split())
    assert "20,000 samples, seed 7" in flat
    # [2] is kaniko's archival, cited in the answer where kaniko is compared
    assert "kaniko was archived upstream on 2025-06-03 and is no longer developed [2]." in flat
    assert "[2] GoogleContainerTools/kaniko, archived" in flat
    assert "- the runner nodes' yearly cost: 2,625 USD/year (default: Bonzini, qemu-devel " \
           "2023-06-28) [3]" in flat
    # tornado order: the inserted bar first, then uncached_build_min's
    assert flat.index("- the runner nodes'") < flat.index("- uncached build min: 15 min")
    assert "[3] Paolo Bonzini, qemu-devel: \"Azure infrastructure update\"" in flat
    # [1] is the thread the summary replies to, cited where the claims open
    assert "qemu-devel, May 2024) [1], in their own words, checked against" in flat
    assert "[1] Daniel P. Berrang\u00e9, qemu-devel: reply to" in flat
    assert "https://www.mail-archive.com/qemu-devel@nongnu.org/msg1042578.html" in text.split()
    assert "https://lore.kernel.org/qemu-devel/?q=%22Azure+infrastructure+update%22" in \
        [line.strip() for line in text.splitlines()]
    assert "shared/" not in text and "domain-facts" not in text
    assert "compute.node_cost_usd_per_year" not in text


def test_claims_open_the_summary_in_the_threads_order(results, provenance):
    results["claims"] = make_claims()
    results["claims"][1]["sentence"] = "Partly: 6.1x at 12 months, 1.2x with a cleanup."
    text = format_summary_text(results, provenance, None)
    assert text.index("The thread's claims, checked") < text.index("\nstrategy ")
    flat = " ".join(text.split())
    order = [flat.index(f"{n}. \u201c") for n in range(1, 6)]
    assert order == sorted(order)
    assert ("1. \u201ckaniko at least doubles registry storage\u201d Partly: 6.1x at 12 "
            "months, 1.2x with a cleanup. Figures: 6.1x at month 12, 1.2x with a 14-day "
            "cleanup. Hinges on: whether a cleanup policy runs.") in flat
    # a figure given as a number gets its interval appended; no sentence: the verdict
    assert "\u201cno cache burns the compute allowance\u201d Holds. Figures: 5.5." in flat
    assert "Figures: peak about 3.1 GiB, the largest uncompressed image. Hinges on: kaniko " \
        "issue 862: the image is held in memory. Sources: [" in flat
    assert "\u201ckaniko takes one cache source\u201d These data cannot tell." in flat
    n = flat.split("the image is held in memory. Sources: [")[1].split("]")[0]
    assert f"[{n}] kaniko issue 862: --reproducible loads the entire image into memory" in flat


def _typed_fork_claims() -> list[dict]:
    """The fork claims as the model returns them (typed ``Claim`` numbers, no words):
    fork reads upstream with probability 0.9; kaniko's fork minutes over dind 1,200
    where it reads, 4,000 where it cannot; one cache source costs 700 (p10-p90
    100-3,000), 500 where a fork reads and 2,500 where it cannot."""
    q = {"p10": 100.0, "p50": 700.0, "p90": 3000.0, "unit": "min/month"}
    fmin = {"p10": 900.0, "p50": 1300.0, "p90": 4000.0, "unit": "min/month"}
    hyp = {"cannot_read": {"probability": 0.1, "samples": 10, "scratch_pct": 100.0,
                           "fork_minutes_more": 4000.0, "owners_usd": 0.0, "wait_min": 41.6,
                           "wait_dind_min": 24.1, "verdict": "holds"},
           "reads": {"probability": 0.9, "samples": 90, "scratch_pct": 10.0,
                     "fork_minutes_more": 1200.0, "owners_usd": 0.0, "wait_min": 12.0,
                     "wait_dind_min": 9.0, "verdict": "partly"}}
    return [
        {"id": "forks-rebuild-from-scratch", "claim": "forks rebuild from scratch",
         "verdict": "these data cannot tell", "interval": fmin, "reason": None,
         "details": {"cache_repo": PATCH_CACHE_REPO, "fork_minutes_more": fmin,
                     "fork_owners_cash_usd_more": {"p10": 0.0, "p50": 0.0, "p90": 0.0},
                     "scratch_share_pct": {"p10": 5.0, "p50": 12.0, "p90": 39.0},
                     "hypotheses": hyp}},
        {"id": "kaniko-single-cache-source", "claim": "kaniko takes one cache source",
         "verdict": "holds", "interval": q, "reason": None,
         "details": {"kaniko_cache_sources": 1, "dind_cache_sources": 2,
                     "cache_repo": PATCH_CACHE_REPO,
                     "fork_minutes_by_hypothesis": {"cannot_read": 2500.0, "reads": 500.0},
                     "hypothesis_probability": {"cannot_read": 0.1, "reads": 0.9}}},
    ]


def test_typed_fork_claims_are_worded_by_the_report(results, provenance):
    """The summary words the model's fork numbers: both hypotheses with their
    probabilities (10 % / 90 %), the patch's exact --cache-repo, and claim 5 priced by
    one cache source (700 a month), not claim 4's 1,300."""
    results["claims"] = _typed_fork_claims()
    flat = " ".join(format_summary_text(results, provenance, None).split())
    assert ("These data cannot tell: if a fork's job cannot read upstream's registry "
            "(assumed 10%), every kaniko fork build starts from scratch, and a contributor "
            "waits 41.6 min (dind: 24.1 min); if it can (assumed 90%), a fork that changed "
            "an image rebuilds it from the changed step on every pipeline, 1,200 fork "
            "minutes a month more than dind; the probabilities are the scenario's "
            "assumption (forks.reads_upstream_registry_probability), not a measurement."
            ) in flat
    assert f'--cache-repo="{PATCH_CACHE_REPO}"' in flat
    assert ("Holds: kaniko reads and writes a single cache repository; a second one would "
            "save forks 700 runner minutes a month in expectation (500 where a fork's job "
            "can read upstream's registry, assumed 90%; 2,500 where it cannot, assumed "
            "10%)") in flat
    assert "would save forks 1,300" not in flat


def test_older_results_without_claims_or_voi_say_so(results, provenance):
    text = " ".join(format_summary_text(results, provenance, None).split())
    assert "These results predate the claim checks" in text
    assert "These results predate the value-of-information estimate" in text
    md = format_summary_markdown(results, provenance, None)
    assert "predate the claim checks" in md


def test_what_to_measure_next_largest_first_negligible_left_out(results, provenance):
    results["value_of_information"] = make_value_of_information()
    flat = " ".join(format_summary_text(results, provenance, None).split())
    a = flat.index("- how often images change: $12 a month. Measure: count Dockerfile")
    b = flat.index("- the chance that kaniko's cache layers are the image's own layers: $3 a month.")
    assert a < b
    assert "fork pipelines a month: " not in flat.split("What to measure next")[1]
    results["value_of_information"] = [{"input": "forks.owners", "evppi_usd_per_month": 0.1,
                                        "how_to_measure": "x"}]
    flat = " ".join(format_summary_text(results, provenance, None).split())
    assert "No single input is worth measuring for this decision" in flat


def test_recommendation_for_a_challenger(results):
    text = format_recommendation(results)
    assert text.startswith("Switch from dind-inline-cache to rebuild-on-change:")
    assert "saves $100 a month on average (25% less)" in text
    assert "$80 to $120 in 80% of the simulations" in text
    assert ("Next best is buildkit-registry-cache-min, $20 a month behind on expected "
            "(mean) cost.") in text
    # the break-even is 3x today's value: quoted, in the input's reader name and unit
    assert text.endswith("What would flip it: dind-inline-cache would cost the same as "
                         "rebuild-on-change if image change per month rose to 9 "
                         "changes/month (now 3 changes/month).")


def test_far_break_evens_are_summed_up_as_robust(results):
    """The node cost moves rebuild-on-change's cost (tornado: -90 to -110 USD/month
    against dind, a 20 USD swing) but its break-even is 45x today's: robust to it."""
    results["break_even"][0].update(value=3.0 * 45, input="compute.node_cost_usd_per_year",
                                    unit="USD/year")
    results["tornado"].append({"input": "compute.node_cost_usd_per_year", "unit": "USD/year",
                               "low": 2300.0, "high": 2900.0, "strategy": "rebuild-on-change",
                               "delta_low_usd_per_month": -90.0,
                               "delta_high_usd_per_month": -110.0})
    text = format_recommendation(results)
    assert "135" not in text and "compute.node_cost" not in text
    assert "The choice is robust to the runner nodes' yearly cost: no break-even lies " \
           "between a third of and 3 times today's value." in text


def test_an_input_that_cannot_move_the_pair_is_not_called_robust(results):
    """The digest-sharing chance changes only kaniko's bytes: rebuild-on-change against
    dind has no break-even in it and no tornado swing (bar 0 -> 0), so "robust to" it
    would say nothing; it is left out."""
    results["break_even"][0].update(value=None, input=DIGEST,
                                    unit="probability", current=0.8)
    results["tornado"].append({"input": DIGEST, "unit": "probability", "low": 0.0,
                               "high": 1.0, "strategy": "rebuild-on-change",
                               "delta_low_usd_per_month": -100.0,
                               "delta_high_usd_per_month": -100.0,
                               "swing_usd_per_month": 0.0})
    text = format_recommendation(results)
    assert "robust to" not in text


DIGEST = "assumptions.kaniko_layer_digest_shared_probability"


def test_recommendation_when_the_baseline_wins(results):
    results["recommendation"].update(winner="dind-inline-cache", runner_up="rebuild-on-change",
                                     flip=[])
    results["break_even"], results["tornado"] = [], []
    # make rebuild-on-change cost $30 more than the baseline on average (p10 -$10: not
    # certain); the medians differ from the means ($25, $400), and the text states means
    results["strategies"]["rebuild-on-change"]["delta_vs_baseline_usd_per_month"] = {
        "p10": -10.0, "p50": 25.0, "p90": 70.0, "mean": 30.0}
    results["strategies"]["dind-inline-cache"]["total_cost_usd_per_month"]["mean"] = 250.0
    text = format_recommendation(results)
    assert text.startswith("Keep dind-inline-cache, today's strategy: at an expected (mean) "
                           "$250 a month")
    assert ("would cost an expected (mean) $30 a month more (80% interval -$10 to +$70)"
            in text)
    assert "median $" not in text            # money is the mean; minutes say "a median"
    assert "the lead is not certain" in text
    assert "Nothing within the ranges modelled flips it." in text


def test_recommendation_does_not_call_a_dearer_winner_the_cheapest(results):
    """Kept dind at an expected $400; the runner-up rebuild-on-change's mean is $300,
    $400 - $300 = $100 lower. Three other strategies have lower means too ($320, $330,
    $350): only the runner-up is named, so one runner-up is named throughout."""
    results["recommendation"].update(winner="dind-inline-cache", runner_up="rebuild-on-change")
    text = format_recommendation(results)
    assert "cheapest" not in text
    opening = " ".join(opening_sentences(results))
    assert ("(rebuild-on-change's expected cost is $100 lower, not enough for the model to "
            "prefer it)") in opening
    assert "buildkit" not in opening and "kaniko" not in opening


def test_a_strategy_costing_what_the_kept_baseline_costs_is_a_tie(results):
    """gitlab-hosted-oss: BuildKit mode=min costs exactly what dind costs (the same total
    in every simulation: ``recommendation.ties``), mode=max $0.20 more (the runner-up,
    80% interval $0.03-$0.37, inside the $1.00 margin). Before, the opening said
    "(buildkit-registry-cache-min has the lowest median, $400, but not by enough ...)"
    (false: it ties) and then named buildkit-registry-cache-max the runner-up."""
    s = results["strategies"]
    base = s["dind-inline-cache"]
    s["buildkit-registry-cache-min"]["total_cost_usd_per_month"] = dict(
        base["total_cost_usd_per_month"])
    s["buildkit-registry-cache-min"]["delta_vs_baseline_usd_per_month"] = q(0.0, 0.0)
    s["buildkit-registry-cache-max"]["total_cost_usd_per_month"] = q(400.2)
    s["buildkit-registry-cache-max"]["delta_vs_baseline_usd_per_month"] = {
        "p10": 0.03, "p50": 0.2, "p90": 0.37, "mean": 0.2}
    for name in ("kaniko-cache-repo", "rebuild-on-change"):
        s[name]["total_cost_usd_per_month"] = q(500.0)
    results["recommendation"].update(
        winner="dind-inline-cache", runner_up="buildkit-registry-cache-max",
        ties=["buildkit-registry-cache-min"], status_quo_margin_usd_per_month=1.0)
    opening = " ".join(opening_sentences(results))
    assert opening == (
        "Keep dind-inline-cache, today's strategy: at an expected (mean) $400 a month it is the "
        "cheapest of the 6 strategies modelled, tied with buildkit-registry-cache-min (the "
        "same cost to the cent). The runner-up, buildkit-registry-cache-max, costs the same "
        "to within $1.00 a month: on cost alone the two tie.")


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


def test_markdown_title_is_text_not_html(results, provenance):
    """A group project's path or a scenario title reaches summary.md's heading; Markdown
    passes inline HTML through, so it is escaped there (the text summary keeps it)."""
    provenance["scenario_title"] = "fdo/<script>alert(1)</script>&x: hosted"
    md = format_summary_markdown(results, provenance, BASE)
    assert "<script>" not in md
    assert "(fdo/&lt;script&gt;alert(1)&lt;/script&gt;&amp;x: hosted)" in md.splitlines()[0]


@pytest.mark.parametrize("value,text", [(1234.5, "$1,234"), (-2.345, "-$2.35"),
                                        (-0.001, "$0.00"), (80.0, "$80"), (None, "-"),
                                        (float("inf"), "-")])
def test_format_usd(value, text):
    assert format_usd(value) == text


def test_real_model_results_fit_the_mail_for_every_scenario(sample):
    """The real model's dicts (every bundled scenario) format within 72 columns."""
    from cachecost.config import SCENARIOS_DIR
    from cachecost.model.results import run_model
    from cachecost.model.scenario import load_scenario

    paths = sorted(SCENARIOS_DIR.glob("*.yaml"))
    assert paths, "no bundled scenarios"
    for path in paths:
        scenario = load_scenario(path)
        results = run_model(sample, scenario, samples=2000)
        prov = make_provenance(scenario=scenario.name, scenario_title=scenario.title)
        text = format_summary_text(results, prov, BASE)
        assert _too_wide(text) == [], path.name
        rows = _headline_rows(text)
        assert set(rows) == set(results["strategies"]), path.name
        assert rows[results["baseline"]][3] == "(*)"
        winner = results["recommendation"]["winner"]
        assert winner in format_recommendation(results)


def test_a_shadow_price_is_named_and_cash_shown_apart(results):
    """When the decision weighs a shadow price on storage, the paragraph gives the cash alone.

    Hand-worked: winner cash $11 and shadow $29; baseline cash $32 and shadow $11: the
    totals differ by $3 but the cash by $21, and the reader must see both.
    """
    results["recommendation"]["weighs"] = ["project_cash", "shadow", "fork_owners_cash"]
    for name, cash, shadow in (("rebuild-on-change", 11.0, 29.0),
                               ("dind-inline-cache", 32.0, 11.0)):
        s = results["strategies"][name]
        s["project_cash_usd_per_month"] = {"p10": cash, "p50": cash, "p90": cash, "mean": cash}
        s["shadow_storage_usd_per_month"] = {"p10": shadow, "p50": shadow, "p90": shadow,
                                             "mean": shadow}
    text = format_recommendation(results)
    assert ("In cash alone the project would pay $11 a month with rebuild-on-change against "
            "$32 with dind-inline-cache") in text
    assert "($29 against $11 a month), a trade-off rate GitLab does not bill today" in text
    results["recommendation"]["weighs"] = ["project_cash", "fork_owners_cash"]
    assert "In cash alone" not in format_recommendation(results)
    # a shadow price weighed but $0 on both sides (registry-quota-enforced: storage is
    # bought, not shadow-priced): the totals are the cash, nothing to set apart
    results["recommendation"]["weighs"] = ["project_cash", "shadow", "fork_owners_cash"]
    for name in ("rebuild-on-change", "dind-inline-cache"):
        results["strategies"][name]["shadow_storage_usd_per_month"] = {
            "p10": 0.0, "p50": 0.0, "p90": 0.0, "mean": 0.0}
    assert "In cash alone" not in format_recommendation(results)


def test_the_models_data_notes_reach_both_summaries(results, provenance):
    """What the model had to fill in (calibration notes: e.g. images without registry
    data taking a fallback size, shared/cases/04) is said in the summaries, next to the
    data line; results without notes add nothing."""
    note = "24 image(s) without registry data use a compressed size of 0.70 GiB"
    results["calibration"] = {"notes": [note, "image changes: measured for 3 image(s)"]}
    text = format_summary_text(results, provenance, BASE)
    flat = " ".join(text.split())
    assert f"Data notes: {note}; image changes: measured for 3 image(s)." in flat
    assert flat.index("Data notes:") < flat.index("Per month, expected (mean) values")
    assert _too_wide(text) == []
    md = format_summary_markdown(results, provenance, BASE)
    assert f"Data notes: {note}; image changes: measured for 3 image(s)." in md
    results["calibration"] = {"notes": []}
    assert "Data notes" not in format_summary_text(results, provenance, BASE)
    del results["calibration"]
    assert "Data notes" not in format_summary_markdown(results, provenance, BASE)


def test_text_and_markdown_lead_with_the_answer_stated_once(results, provenance):
    """The answer (recommendation, saving, registry against dind and kaniko, what flips it)
    comes before the claims, in both bodies, and is not repeated after the table."""
    results["claims"] = make_claims()
    text = format_summary_text(results, provenance, None)
    md = format_summary_markdown(results, provenance, None)
    for body, claims in ((text, "The thread's claims, checked"),
                         (md, "### The thread's claims, checked")):
        head = " ".join(body.split(claims)[0].split())
        assert "Switch from dind-inline-cache to rebuild-on-change: it saves $100 a month on average" \
            in head
        # hand-made registry: rebuild-on-change 40 GiB, dind 40, kaniko 120 (per-tag)
        assert "1× dind-inline-cache's 40.0 GiB and 0.33× kaniko-cache-repo's 120.0 GiB" \
            in head
        assert "kaniko was archived upstream on 2025-06-03" in head
        assert head.count("What would flip it:") == 1 and body.count("What would flip it:") == 1
        assert body.count("Switch from dind-inline-cache") == 1
        assert body.index("More on the recommendation: Next best is") > body.index(claims)


@pytest.mark.parametrize("baseline", ["dind-inline-cache", "kaniko-cache-repo", "no-cache"])
def test_thread_terms_name_dind_and_kaniko_whatever_the_baseline(results, baseline):
    """The registry sentence compares the winner (rebuild-on-change, 40.0 GiB per-tag in
    handmade.make_results) with both of the thread's options, dind (40.0 GiB: 40/40 = 1×)
    and kaniko (120.0 GiB: 40/120 = 0.33×), whichever strategy is the baseline; a baseline
    that is neither (no-cache, 20.0 GiB) is not one of the thread's terms."""
    from cachecost.report.lead import registry_sentence

    results["baseline"] = baseline
    text = registry_sentence(results)
    assert "1× dind-inline-cache's 40.0 GiB" in text
    assert "0.33× kaniko-cache-repo's 120.0 GiB" in text
    assert "no-cache" not in text


def test_thread_terms_leave_out_only_the_winner_itself(results):
    """Winner kaniko (120.0 GiB): compared with dind alone (120/40 = 3×), never itself."""
    from cachecost.report.lead import registry_sentence

    results["recommendation"]["winner"] = "kaniko-cache-repo"
    text = registry_sentence(results)
    assert "3× dind-inline-cache's 40.0 GiB" in text
    assert "kaniko-cache-repo's" not in text


def test_the_method_note_and_the_tables_say_expected_mean(results, provenance):
    """Issue 23: the method note said "Figures are medians" under tables that now show
    means. Both summaries name the figure: expected (mean), with the 10th to 90th
    percentile as the range; no table is introduced as medians."""
    for text in (format_summary_text(results, provenance, BASE),
                 format_summary_markdown(results, provenance, BASE)):
        flat = " ".join(text.split())
        assert "are expected (mean) values, the figures the recommendation is decided on; " \
               "ranges are the 10th to 90th percentiles." in flat
        assert "Figures are medians" not in flat and "medians of" not in flat
        assert "Per month, expected (mean) values" in flat


def test_small_evpi_says_little_money_at_stake_not_that_the_choice_is_fixed():
    """EVPI $0.30 a month (< $0.5): the words must not say the choice barely depends on
    what is uncertain (a flip can sit inside the ranges); they say little money is at
    stake. EVPI $12: that is what choosing now is expected to lose."""
    from cachecost.report.answers import overall_value_sentence

    small = overall_value_sentence(
        {"value_of_information_total": {"evpi_usd_per_month": 0.30}})
    assert "barely depends" not in small and "depends on" not in small
    assert "under $0.5 a month" in small and "puts little money at stake" in small
    assert "does not mean the choice cannot change" in small
    large = overall_value_sentence({"value_of_information_total": {"evpi_usd_per_month": 12.0}})
    assert "$12 a month" in large and "expected to lose" in large
