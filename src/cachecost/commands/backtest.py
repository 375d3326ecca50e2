"""Backtest the model on the dataset's own history: walk forward month by month,
calibrate on the months before each one only, predict its container-build minutes
and compare with what was measured; test a change of builder or caching inside the
history; name the inputs that drifted.

    cachecost backtest                                 # the sample, default scenario
    cachecost backtest --data DIR --format json        # the contract of issue 24

A history too short to test gives verdict "too-short" and exit status 0.
Method and sources: docs/model.md section 8.
"""

from __future__ import annotations

import argparse
import json

from cachecost.dataset.io import load_dataset
from cachecost.model.backtest import run_backtest
from cachecost.model.scenario import DEFAULT_SCENARIO_PATH, load_scenario
from cachecost.report.backtest import format_table, verdict_sentences

HELP = "backtest the model on the dataset's own months (walk-forward, switch, drift)"
FORMATS = ("table", "text", "json")
SYNTHETIC = "SYNTHETIC SAMPLE DATA - not measured from any real project"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cachecost backtest``."""
    parser.add_argument("--data", metavar="DIR", help="dataset directory (default: the sample)")
    parser.add_argument("--scenario", metavar="FILE",
                        help=f"scenario YAML (default: {DEFAULT_SCENARIO_PATH.name})")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="output format (default: table); json is the source of the others")


def run(args: argparse.Namespace) -> int:
    """Run the backtest and print it in the chosen format."""
    scenario = load_scenario(args.scenario)      # both checked before the long work
    ds = load_dataset(args.data)
    bt = run_backtest(ds, scenario)
    out = bt.to_json()
    if args.format == "json":
        print(json.dumps(out, indent=2, allow_nan=False))
        return 0
    head = [SYNTHETIC] if ds.is_synthetic else []
    body = format_table(out) if args.format == "table" else "\n".join(verdict_sentences(out))
    print("\n".join([*head, body]))
    return 0
