"""A hand-made model results dict and provenance (briefs/model-contract.md).

Round numbers, so the tests can state the expected text independently of the
code under test: baseline dind-inline-cache at $400/month, winner
rebuild-on-change at $300/month.
"""

from __future__ import annotations


def q(p50: float, spread: float = 0.2) -> dict:
    """A quantile dict around ``p50`` (p10/p90 at -/+ spread)."""
    return {"p10": p50 * (1 - spread), "p50": p50, "p90": p50 * (1 + spread), "mean": p50}


def _strategy(name: str, *, minutes: float, gib: float, cost: float, base_cost: float,
              fork_minutes: float, is_baseline: bool, notes=()) -> dict:
    delta = cost - base_cost
    return {
        "title": f"Title of {name}",
        "description": f"What {name} does.",
        "compute_minutes_per_month": q(minutes),
        "fork_compute_minutes_per_month": q(fork_minutes),
        "compute_cost_usd_per_month": q(cost * 0.8),
        "fork_compute_cost_usd_per_month": q(fork_minutes / 100),
        "quota_minutes_used_per_month": q(minutes * 0.5),
        "fork_quota_share": q(fork_minutes * 0.008 / 400),
        "registry_gib": {"per-tag": q(gib), "root-namespace-dedup": q(gib * 0.6)},
        "storage_cost_usd_per_month": q(cost * 0.2),
        "months_to_quota": q(10.0) if gib > 100 else None,
        "total_cost_usd_per_month": q(cost),
        "delta_vs_baseline_usd_per_month": {"p10": delta - 20, "p50": delta,
                                            "p90": delta + 20, "mean": delta},
        "delta_vs_baseline_pct": q(100.0 * delta / base_cost, 0.0),
        "fork_pipeline_feedback_minutes": q(30.0),
        "cost_components_usd_per_month": {"compute": cost * 0.7, "fork_compute": cost * 0.1,
                                          "storage": cost * 0.2},
        "is_baseline": is_baseline,
        "notes": list(notes),
    }


def make_results() -> dict:
    """A results dict with round numbers: baseline 400 $/month, winner 300 $/month."""
    base_cost = 400.0
    specs = {
        #  name: minutes, GiB, cost, fork minutes
        "dind-inline-cache": (12000, 40.0, 400.0, 900),
        "kaniko-cache-repo": (9000, 120.0, 350.0, 5000),
        "no-cache": (60000, 20.0, 1000.0, 5000),
        "rebuild-on-change": (8000, 40.0, 300.0, 800),
        "buildkit-registry-cache-min": (9500, 41.0, 320.0, 900),
        "buildkit-registry-cache-max": (9400, 60.0, 330.0, 900),
    }
    strategies = {
        name: _strategy(name, minutes=m, gib=g, cost=c, base_cost=base_cost,
                        fork_minutes=f, is_baseline=(name == "dind-inline-cache"),
                        notes=(["kaniko --reproducible runs out of memory"]
                               if name == "kaniko-cache-repo" else []))
        for name, (m, g, c, f) in specs.items()
    }
    months = list(range(13))
    return {
        "scenario": "qemu-private-runners",
        "scenario_title": "QEMU's private runners, forks on GitLab-hosted runners",
        "scenario_sha256": "ab" * 32,
        "baseline": "dind-inline-cache",
        "samples": 20000, "seed": 7, "horizon_months": 12,
        "is_synthetic_data": True,
        "strategies": strategies,
        "inputs": [
            {"name": "cached_build_min", "value": 2.5, "unit": "min", "source": "data",
             "citation": None, "distribution": "lognormal"},
            {"name": "uncached_build_min", "value": 15.0, "unit": "min", "source": "data",
             "citation": None, "distribution": "lognormal"},
            {"name": "runner_usd_per_min", "value": 0.008, "unit": "USD/min",
             "source": "scenario", "citation": "Bonzini 2023-06-28", "distribution": None},
            {"name": "storage_usd_per_gib_month", "value": 0.5, "unit": "USD/GiB/month",
             "source": "default", "citation": "GitLab storage pack $60/10 GB/year",
             "distribution": None},
        ],
        "tornado": [
            {"input": "uncached_build_min", "unit": "min", "low": 10.0, "high": 20.0,
             "delta_low_usd_per_month": -150.0, "delta_high_usd_per_month": -50.0,
             "strategy": "rebuild-on-change"},
            {"input": "runner_usd_per_min", "unit": "USD/min", "low": 0.004, "high": 0.012,
             "delta_low_usd_per_month": -80.0, "delta_high_usd_per_month": -120.0,
             "strategy": "rebuild-on-change"},
        ],
        "break_even": [
            {"strategy_a": "dind-inline-cache", "strategy_b": "rebuild-on-change",
             "input": "image_change_per_month", "unit": "changes/month", "value": 9.0,
             "current": 3.0},
            {"strategy_a": "dind-inline-cache", "strategy_b": "kaniko-cache-repo",
             "input": "storage_usd_per_gib_month", "unit": "USD/GiB/month", "value": None,
             "current": 0.5},
        ],
        "storage_over_horizon": {
            "months": months,
            "quota_gib": 100.0,
            "accounting": "per-tag",
            "strategies": {
                name: {"p10": [0.8 * g * (m + 1) / 13 for m in months],
                       "p50": [g * (m + 1) / 13 for m in months],
                       "p90": [1.2 * g * (m + 1) / 13 for m in months]}
                for name, (_, g, _, _) in specs.items()
            },
            "cleanup_what_if": {
                name: {"p50": [0.5 * g * (m + 1) / 13 for m in months]}
                for name, (_, g, _, _) in specs.items()
            },
        },
        "recommendation": {
            "winner": "rebuild-on-change", "runner_up": "buildkit-registry-cache-min",
            "saving_usd_per_month": 20.0,
            "flip": ["If Dockerfiles changed more than 9 times a month, "
                     "dind-inline-cache would be cheaper."],
        },
    }


def make_provenance(**over) -> dict:
    prov = {
        "is_synthetic": True, "data_source": "synthetic sample",
        "fetched_at": "2025-11-24T00:00:00Z", "scenario": "qemu-private-runners",
        "scenario_title": "QEMU's private runners, forks on GitLab-hosted runners",
        "scenario_sha256": "ab" * 32, "cachecost_version": "0.1.0",
        "git_commit": "0123456789abcdef0123", "built_at": "2026-11-27T18:00:00Z",
    }
    prov.update(over)
    return prov


def make_claims() -> list[dict]:
    """The five claims of the thread as the model states them (round, made-up figures)."""
    return [
        {"id": "kaniko-reproducible-memory", "claim": "kaniko --reproducible runs out of memory",
         "verdict": "holds", "figure": "peak about 3.1 GiB, the largest uncompressed image",
         "interval": [2.5, 3.8], "hinges_on": "kaniko issue 862: the image is held in memory"},
        {"id": "kaniko-doubles-storage", "claim": "kaniko at least doubles registry storage",
         "verdict": "partly", "figure": "6.1x at month 12, 1.2x with a 14-day cleanup",
         "interval": {"p10": 4.0, "p90": 8.2}, "hinges_on": "whether a cleanup policy runs"},
        {"id": "no-cache-burns-compute", "claim": "no cache burns the compute allowance",
         "verdict": "holds", "figure": 5.5, "interval": None,
         "hinges_on": "how often images change"},
        {"id": "forks-rebuild-from-scratch",
         "claim": "forks cannot use the kaniko cache and rebuild from scratch",
         "verdict": "holds", "figure": "4,200 minutes a month", "interval": "3,000 to 6,000",
         "hinges_on": "fork pipelines a month"},
        {"id": "kaniko-single-cache-source", "claim": "kaniko takes one cache source",
         "verdict": "these data cannot tell", "figure": None, "interval": None,
         "hinges_on": ""},
    ]


def make_value_of_information() -> list[dict]:
    """EVPPI rows, deliberately not sorted, one negligible."""
    return [
        {"input": "forks.pipelines_per_month", "evppi_usd_per_month": 0.2,
         "how_to_measure": "count fork pipelines that run the containers stage"},
        {"input": "workload.image_changes_factor", "evppi_usd_per_month": 12.34,
         "how_to_measure": "count Dockerfile commits per image over a year"},
        {"input": "assumptions.kaniko_layer_digest_shared_probability",
         "evppi_usd_per_month": 3.0,
         "how_to_measure": "push one kaniko build and compare its cache and image layer "
                           "digests"},
    ]
