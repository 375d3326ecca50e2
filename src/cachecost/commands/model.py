"""Run the cost model: compute minutes, registry storage and money per caching
strategy, with p10-p90 spread, deltas against the baseline, what moves the
answer most (tornado), break-even values and a recommendation.

    cachecost model                                  # default scenario, sample data
    cachecost model --scenario scenarios/gitlab-hosted-oss.yaml --format json
    cachecost model --data data/raw/gitlab.com/qemu-project/qemu --samples 100000

Formulas and every scenario key: docs/model.md.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any, cast

from cachecost.dataset.io import load_dataset
from cachecost.errors import CachecostError
from cachecost.model.keys import KEYS
from cachecost.model.measured import MEASURED_WHEN
from cachecost.model.results import DEFAULT_SAMPLES, run_model
from cachecost.model.scenario import DEFAULT_SCENARIO_PATH, describe_value, load_scenario
from cachecost.textfmt import format_number, format_signed_usd, format_usd

HELP = "model what each caching strategy costs (compute, storage, money) with uncertainty"

FORMATS = ("table", "text", "json")

#: The most Monte Carlo samples a run may draw. Memory grows ~2 KiB a sample (every
#: strategy's cost arrays are kept for the quantiles and the tornado): 500,000 samples
#: peak at 1.2-1.3 GB RSS (scripts/bench_samples_memory.py; the three shipped scenarios), under the
#: 2 GB a laptop can spare; 5,000,000 needed 10.4 GB. At 500,000 samples the sampling
#: error of a p10 is ~0.1% of the p10-p90 width (normal spread: sqrt(0.09/n)/0.1755 sd
#: against 2.56 sd), far below what the inputs' uncertainty moves.
MAX_SAMPLES = 500_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cachecost model``."""
    parser.add_argument("--scenario", metavar="FILE",
                        help=f"scenario YAML (default: {DEFAULT_SCENARIO_PATH.name})")
    parser.add_argument("--data", metavar="DIR", help="dataset directory (default: the sample)")
    parser.add_argument("--samples", metavar="N", type=int, default=DEFAULT_SAMPLES,
                        help=f"Monte Carlo samples (default: {DEFAULT_SAMPLES:,}; at most "
                             f"{MAX_SAMPLES:,}, which peaks at ~1.3 GB of memory)")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="output format (default: table); json is the source of the others")
    parser.add_argument("--explain", action="store_true",
                        help="list every input the scenario leaves to cachecost's defaults "
                             "(value, unit, citation) and those it sets; runs no model")


def _spread(q: dict, fmt=format_usd) -> str:
    return f"{fmt(q['p10'])}-{fmt(q['p90'])}"


def _header(results: dict[str, Any]) -> list[str]:
    lines = []
    if results["is_synthetic_data"]:
        lines.append("SYNTHETIC SAMPLE DATA - not measured from any real project")
    lines.append(f"scenario: {results['scenario']} - {results['scenario_title']}")
    lines.append(f"          sha256 {results['scenario_sha256'][:12]}, "
                 f"{results['samples']:,} samples, seed {results['seed']}, "
                 f"horizon {results['horizon_months']} months, "
                 f"registry accounting {results['accounting']}")
    # what the calibration had to fill in (fallback sizes, duration splits, measurements)
    lines += [f"data note: {note}" for note in results.get("calibration", {}).get("notes", [])]
    return lines


def recommendation_lines(results: dict[str, Any]) -> list[str]:
    """The answer in the words of ``summary.txt`` (:mod:`cachecost.report.lead`: the
    recommendation and its saving, the registry against dind's and kaniko's, what would
    flip it, the dated prices), the claims' verdicts, then the inputs that move the
    runner-up's difference from the baseline most (p10 -> p90)."""
    from cachecost.report import answers, flips, lead
    from cachecost.report.tables import LINE_WIDTH

    lines = ["", *lead.lead_text_lines(results, LINE_WIDTH)]
    _, context = flips.flip_sentences(results)      # how sure: the same sentences as summary.txt
    if context:
        lines += ["", *textwrap.wrap(" ".join(context), LINE_WIDTH, break_long_words=False,
                                     break_on_hyphens=False)]
    verdicts = answers.verdict_lines(results, LINE_WIDTH)
    if verdicts:                                    # [] without a thread's claims
        lines += ["", "The thread's claims, checked:", *verdicts]
    # swings below the status-quo margin move nothing the decision sees: not listed
    moving = [w for line in flips.moving_lines(results)
              for w in textwrap.wrap(line, LINE_WIDTH, subsequent_indent="    ")]
    return lines + (["", *moving] if moving else [])


def format_table(results: dict[str, Any]) -> str:
    """Render the results as a terminal table: expected (mean) values, the figures the
    decision is made on, with p10-p90 for money; months to quota is the median."""
    from cachecost.report.tables import expected_delta_pct

    acc = results["accounting"]
    cols = [("strategy", 28, "<"), ("build min", 9, ">"), ("fork min", 8, ">"),
            ("fork wait", 9, ">"), ("GiB", 6, ">"), ("->quota", 7, ">"),
            ("cost mean", 9, ">"), ("p10-p90", 13, ">"), ("delta", 8, ">"), ("delta%", 6, ">")]
    lines = _header(results) + [""]
    lines.append(" ".join(f"{name:{align}{width}}" for name, width, align in cols))
    lines.append(" ".join("-" * width for _, width, _ in cols))
    for name, s in results["strategies"].items():
        mtq = s["months_to_quota"]
        mtq_s = ("-" if mtq is None else
                 "never" if mtq["p50"] is None else format_number(mtq["p50"], 1))
        delta = s["delta_vs_baseline_usd_per_month"]["mean"]
        pct = expected_delta_pct(results, name)
        label = name + (" *" if s["is_baseline"] else "")
        cells = [label, format_number(s["compute_minutes_per_month"]["mean"]),
                 format_number(s["fork_compute_minutes_per_month"]["mean"]),
                 format_number(s["fork_pipeline_feedback_minutes"]["mean"], 1),
                 format_number(s["registry_gib"][acc]["mean"], 1), mtq_s,
                 format_usd(s["total_cost_usd_per_month"]["mean"]),
                 _spread(s["total_cost_usd_per_month"]),
                 "base" if s["is_baseline"] else
                 format_signed_usd(delta),
                 "" if s["is_baseline"] or pct is None else f"{pct:+.0f}%"]
        lines.append(" ".join(f"{c:{align}{width}}" for c, (_, width, align)
                              in zip(cells, cols, strict=True)))
    lines += [
        "* baseline. Expected (mean) values per month: build/fork min = container-build",
        "  runner minutes upstream and in forks; cost = upstream compute + storage + fork",
        "  owners' cost (USD), with p10-p90; delta = expected cost minus the baseline's.",
        "  fork wait = minutes a fork pipeline's container stage takes. GiB = registry",
        f"  after {results['horizon_months']} months ({acc}); ->quota = median months until",
        "  the namespace quota is reached (- = no quota).",
    ]
    return "\n".join(lines + recommendation_lines(results))


def format_text(results: dict[str, Any]) -> str:
    """Render the results as plain text: the answer and the claims' verdicts in the words
    of ``summary.txt`` (:func:`recommendation_lines`), then one block per strategy."""
    from cachecost.report.recommendation import weighs_phrase

    acc = results["accounting"]
    lines = _header(results) + recommendation_lines(results)
    lines += ["", f"Per strategy, a month (expected values, means); totals "
                  f"{weighs_phrase(results)}"]
    for name, s in results["strategies"].items():
        lines += ["", f"{name}{' (baseline)' if s['is_baseline'] else ''}: {s['title']}"]
        lines.append(f"  container builds: {format_number(s['compute_minutes_per_month']['mean'])} "
                     f"runner min/month (p10-p90 "
                     f"{_spread(s['compute_minutes_per_month'], format_number)}), costing "
                     f"{format_usd(s['compute_cost_usd_per_month']['mean'])}/month")
        fork_min = format_number(s['fork_compute_minutes_per_month']['mean'])
        lines.append(f"  forks: {fork_min} min/month, "
                     f"{s['fork_quota_share']['mean']:.1%} of a fork owner's free quota, "
                     f"{format_number(s['fork_pipeline_feedback_minutes']['mean'], 1)} min wait")
        lines.append(f"  registry after {results['horizon_months']} months: "
                     f"{format_number(s['registry_gib']['per-tag']['mean'], 1)} GiB per-tag, "
                     f"{format_number(s['registry_gib']['root-namespace-dedup']['mean'], 1)} GiB "
                     f"dedup; storage {format_usd(s['storage_cost_usd_per_month']['mean'])}/month "
                     f"({acc})")
        lines.append(f"  total {format_usd(s['total_cost_usd_per_month']['mean'])}/month "
                     f"(p10-p90 {_spread(s['total_cost_usd_per_month'])}), "
                     f"{format_usd(s['delta_vs_baseline_usd_per_month']['mean'])} vs baseline")
    return "\n".join(lines)


def format_explain(scenario: Any) -> str:
    """List the inputs a scenario takes from the defaults, then those it sets itself."""
    given, defaulted = [], []
    for section, keys in KEYS.items():
        for key, spec in keys.items():
            dotted = f"{section}.{key}"
            value = json.dumps(describe_value(scenario.value(dotted)), sort_keys=True)
            plausible = (f"; plausible {spec.minimum:,g} to {spec.maximum:,g}"
                         if spec.is_number and spec.maximum is not None else "")
            if scenario.source(dotted) == "default":
                source = spec.citation or "no source: a neutral default"
                if dotted in MEASURED_WHEN:
                    source = f"replaced by {MEASURED_WHEN[dotted]}; {source}"
                defaulted.append(f"  {dotted} = {value} {spec.unit}  [{source}{plausible}]")
            else:
                given.append(f"  {dotted} = {value} {spec.unit}" +
                             (f"  [{plausible[2:]}]" if plausible else ""))
    lines = [f"scenario: {scenario.name} - {scenario.title} ({scenario.path})",
             f"baseline: {scenario.baseline}; compute mode: {scenario.value('compute.mode')}",
             "",
             f"defaults used ({len(defaulted)} of {len(defaulted) + len(given)} inputs; "
             "set them in the scenario to change them):", *defaulted,
             "", f"set by the scenario ({len(given)}):", *given]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the model and print it in the chosen format."""
    if args.explain:
        print(format_explain(load_scenario(args.scenario)))
        return 0
    if args.samples < 1 or args.samples > MAX_SAMPLES:
        raise CachecostError(f"--samples: expected an integer from 1 to {MAX_SAMPLES:,} "
                             f"(memory: ~2 KiB a sample, {MAX_SAMPLES:,} peak at ~1.3 GB), "
                             f"got {args.samples:,}")
    scenario = load_scenario(args.scenario)
    # the report's words read results as JSON (results.json), typed or not
    results = cast(dict[str, Any], run_model(load_dataset(args.data), scenario,
                                             samples=args.samples))
    if args.format == "json":
        print(json.dumps(results, indent=2, allow_nan=False))
    elif args.format == "text":
        print(format_text(results))
    else:
        print(format_table(results))
    return 0
