"""`cachecost model` on the sample under each default scenario, in every format."""

from __future__ import annotations

import json
import math

import pytest

from cachecost import cli
from cachecost.config import SCENARIOS_DIR
from cachecost.model.results import run_model
from cachecost.model.scenario import load_scenario
from cachecost.model.strategies import STRATEGY_NAMES

SCENARIOS = sorted(SCENARIOS_DIR.glob("*.yaml"))
Q_KEYS = {"p10", "p50", "p90", "mean"}
Q_METRICS = ("compute_minutes_per_month", "fork_compute_minutes_per_month",
             "compute_cost_usd_per_month", "fork_compute_cost_usd_per_month",
             "quota_minutes_used_per_month", "fork_quota_share", "storage_cost_usd_per_month",
             "total_cost_usd_per_month", "delta_vs_baseline_usd_per_month",
             "delta_vs_baseline_pct", "fork_pipeline_feedback_minutes")


@pytest.mark.parametrize("fmt", ["table", "text", "json"])
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_model_runs_in_every_format(capsys, path, fmt):
    code = cli.main(["model", "--scenario", str(path), "--samples", "500", "--format", fmt])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "SYNTHETIC" in out or fmt == "json"
    for name in STRATEGY_NAMES:
        assert name in out
    if fmt == "json":
        assert json.loads(out)["scenario"] == path.stem


def test_default_scenario_and_data_when_omitted(capsys):
    assert cli.main(["model", "--samples", "200", "--format", "json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["scenario"] == "qemu-private-runners"
    assert results["is_synthetic_data"] is True


def test_bad_samples_is_one_line(capsys):
    assert cli.main(["model", "--samples", "0"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def _walk_numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _walk_numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk_numbers(v)
    else:
        yield obj


def test_json_contract(sample, sample_calibration):
    sc = load_scenario(None)
    r = run_model(sample, sc, samples=2000, calibration=sample_calibration)
    json.dumps(r, allow_nan=False)          # plain JSON: no NaN, no numpy types
    for value in _walk_numbers(r):
        assert value is None or type(value) in (str, int, float, bool)
        assert not (isinstance(value, float) and not math.isfinite(value))
    for key in ("scenario", "scenario_title", "scenario_sha256", "baseline", "samples", "seed",
                "horizon_months", "is_synthetic_data", "strategies", "inputs", "tornado",
                "break_even", "storage_over_horizon", "recommendation"):
        assert key in r
    assert r["scenario_sha256"] == sc.sha256 and r["samples"] == 2000
    assert set(r["strategies"]) == set(STRATEGY_NAMES)
    for s in r["strategies"].values():
        for metric in Q_METRICS:
            assert set(s[metric]) == Q_KEYS, metric
        assert set(s["registry_gib"]) == {"per-tag", "root-namespace-dedup"}
        assert set(s["months_to_quota"]) == Q_KEYS           # this scenario has a quota
        assert set(s["cost_components_usd_per_month"]) == {"compute", "fork_compute",
                                                           "storage"}
        assert isinstance(s["notes"], list) and s["title"] and s["description"]
    assert [n for n, s in r["strategies"].items() if s["is_baseline"]] == [r["baseline"]]
    base = r["strategies"][r["baseline"]]["delta_vs_baseline_usd_per_month"]
    assert base["p50"] == 0.0
    for row in r["inputs"]:
        # "measured": an input a fetch measured (the sample's synthetic forks and
        # registry usage since issue 24; model/measured.py)
        assert row["source"] in ("data", "scenario", "default", "measured")
        assert {"name", "value", "unit", "citation", "distribution"} <= set(row)
        if row["source"] == "default" and row["name"].startswith("storage.usd"):
            assert row["citation"]
    swings = [abs(t["delta_high_usd_per_month"] - t["delta_low_usd_per_month"])
              for t in r["tornado"]]
    # largest first; swings equal to 1e-9 (ties) go by name
    assert swings and all(a >= b - 1e-9 for a, b in zip(swings, swings[1:], strict=False))
    assert r["break_even"] and {"strategy_a", "strategy_b", "input", "unit", "value",
                                "current"} <= set(r["break_even"][0])
    h = r["storage_over_horizon"]
    assert h["months"] == list(range(r["horizon_months"] + 1))
    for name in STRATEGY_NAMES:
        assert len(h["strategies"][name]["p50"]) == len(h["months"])
        assert len(h["cleanup_what_if"][name]["p50"]) == len(h["months"])
    rec = r["recommendation"]
    assert rec["winner"] in STRATEGY_NAMES and rec["runner_up"] in STRATEGY_NAMES
    # numbers only: the report words the flips (cachecost.report.flips)
    assert "flip" not in rec and "weighs_text" not in rec
    assert rec["status_quo_margin_usd_per_month"] >= 1.0
    assert all(row["kind"] == "recommendation flips" for row in r["recommendation_flips"])


def test_same_seed_same_numbers(sample, sample_calibration):
    sc = load_scenario(None)
    a = run_model(sample, sc, samples=500, calibration=sample_calibration)
    b = run_model(sample, sc, samples=500, calibration=sample_calibration)
    c = run_model(sample, sc, samples=500, seed=1, calibration=sample_calibration)
    assert a == b
    assert a["strategies"]["kaniko-cache-repo"] != c["strategies"]["kaniko-cache-repo"]


def test_cleanup_never_exceeds_no_policy(sample, sample_calibration, tmp_path):
    """Each strategy's own cleanup policy (default scenario) keeps its registry below the
    same strategy without cleanup, whose growth is reported as a risk."""
    path = tmp_path / "nocleanup.yaml"
    path.write_text("name: t\nbaseline: dind-inline-cache\ncompute: {mode: private-runners}\n"
                    "storage:\n  cleanup_policies: {kaniko-cache-repo: null, "
                    "rebuild-on-change: null}\n", encoding="utf-8")
    r = run_model(sample, load_scenario(None), samples=500, calibration=sample_calibration)
    g = run_model(sample, load_scenario(path), samples=500, calibration=sample_calibration)
    for name in ("kaniko-cache-repo", "rebuild-on-change"):
        cleaned = r["storage_over_horizon"]["strategies"][name]["p50"]
        grown = g["storage_over_horizon"]["strategies"][name]["p50"]
        assert cleaned[-1] < grown[-1]
        assert all(b >= a - 1e-9 for a, b in zip(cleaned, cleaned[1:], strict=False))
        assert r["strategies"][name]["storage_risk"]["is_growth_unbounded"] is False
        assert g["strategies"][name]["storage_risk"]["is_growth_unbounded"] is True
        assert g["strategies"][name]["registry_growth_gib_per_month"]["p50"] > 0


def test_thin_margin_keeps_todays_strategy(sample, sample_calibration):
    """Under an enforced quota buildkit max beats dind by cents: the baseline is kept."""
    from cachecost.config import SCENARIOS_DIR

    sc = load_scenario(SCENARIOS_DIR / "registry-quota-enforced.yaml")
    r = run_model(sample, sc, samples=1000, calibration=sample_calibration)
    rec = r["recommendation"]
    p50 = {n: s["total_cost_usd_per_month"]["p50"] for n, s in r["strategies"].items()}
    cheapest = min(p50, key=p50.get)
    if p50[r["baseline"]] - p50[cheapest] < max(1.0, 0.02 * p50[r["baseline"]]):
        assert rec["winner"] == r["baseline"] and rec["is_status_quo_kept"] is True
        from cachecost.report.flips import tie_note
        assert "today's strategy, is kept" in tie_note(r)[0]
    else:
        assert rec["winner"] == cheapest


def test_inputs_that_move_nothing_are_not_listed_as_moving(sample, sample_calibration):
    """A tornado bar whose p10 and p90 give the same cost ($0.05 -> $0.05, case 04's
    changed_bytes_share) moves nothing: the 'inputs moving ... most' list leaves it out,
    and keeps a bar that moves ($1.00 -> $3.00)."""
    from cachecost.commands.model import recommendation_lines

    results = run_model(sample, load_scenario(None), samples=200, calibration=sample_calibration)
    runner_up = results["recommendation"]["runner_up"]
    results["tornado"] = [
        {"input": "forks.owners", "strategy": runner_up, "delta_low_usd_per_month": 0.05,
         "delta_high_usd_per_month": 0.05},
        {"input": "workload.build_minutes_factor", "strategy": runner_up,
         "delta_low_usd_per_month": 1.0, "delta_high_usd_per_month": 3.0}]
    text = "\n".join(recommendation_lines(results))
    assert "  build times: $1.00 -> $3.00/month" in text
    assert "the number of fork owners:" not in text


def test_a_discount_of_zero_prices_reproducible_at_nothing(capsys, tmp_path):
    """GitLab's discount may be 0 (``compute.cost_factor: 0`` passes validation): the
    billed factor is then min(size, 0) = 0 on every runner, so a larger runner for
    ``--reproducible`` costs 0 more (0 x any ratio), not 0/0. Before: the text renderer
    raised TypeError on the NaN price's None quantiles (exit 1, a traceback)."""
    body = (SCENARIOS_DIR / "gitlab-hosted-oss.yaml").read_text()
    assert "  cost_factor: 0.5" in body
    path = tmp_path / "zero-discount.yaml"
    path.write_text(body.replace("  cost_factor: 0.5", "  cost_factor: 0", 1))
    assert cli.main(["model", "--scenario", str(path), "--samples", "300",
                     "--format", "json"]) == 0
    claims = json.loads(capsys.readouterr().out)["claims"]
    repro = next(c for c in claims if c["id"] == "kaniko-reproducible-memory")
    assert repro["details"]["extra_cost"]["p90"] == 0.0
    assert cli.main(["model", "--scenario", str(path), "--samples", "300",
                     "--format", "text"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_table_and_text_state_the_expected_cost(capsys):
    """Issue 23: the CLI's table showed the median cost and difference ("cost p50") while
    the answer below it stated the mean saving. Each strategy's row now carries its
    expected (mean) total and difference, and the text format's "total" line the same;
    the percentage is the mean difference over the baseline's mean total."""
    from cachecost.textfmt import format_signed_usd, format_usd

    assert cli.main(["model", "--samples", "500", "--format", "json"]) == 0
    results = json.loads(capsys.readouterr().out)
    base_mean = results["strategies"][results["baseline"]]["total_cost_usd_per_month"]["mean"]
    assert cli.main(["model", "--samples", "500", "--format", "table"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert cli.main(["model", "--samples", "500", "--format", "text"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for name, s in results["strategies"].items():
        total = format_usd(s["total_cost_usd_per_month"]["mean"])
        delta = s["delta_vs_baseline_usd_per_month"]["mean"]
        cells = next(line for line in table if line.split()[:1] == [name]).split()
        assert total in cells
        assert f"total {total}/month" in text
        assert f"{format_usd(delta)} vs baseline" in text
        if not s["is_baseline"]:
            assert cells[-2:] == [format_signed_usd(delta), f"{100 * delta / base_mean:+.0f}%"]
