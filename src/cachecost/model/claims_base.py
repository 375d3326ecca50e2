"""The claims' shared parts: verdict words, strategy names, thresholds, the inputs
(:class:`ClaimInputs`, shapes in :mod:`cachecost.model.claims`) and the helpers every
check uses (quantiles, ratios, the claim record)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np

from cachecost.model.quantile import percentiles
from cachecost.textfmt import (  # noqa: F401 (the claims' text helpers, re-exported)
    number_text,
    span_text,
    times_text,
)

VERDICTS = ("holds", "partly", "does not hold", "these data cannot tell", "moot today")
HOLDS, PARTLY, NOT, CANNOT, MOOT = VERDICTS

DIND = "dind-inline-cache"
KANIKO = "kaniko-cache-repo"
NO_CACHE = "no-cache"
ACCOUNTINGS = ("root-namespace-dedup", "per-tag")
#: The thread's own word: "at minimum, doubling" the registry.
DOUBLING = 2.0
#: Below this ratio the extra storage is called negligible (10 %).
NEGLIGIBLE_RATIO = 1.1
#: Extra share of the compute allowance: at or above it the burn "holds";
#: at or below NEGLIGIBLE_SHARE it "does not hold"; between, "partly".
MATERIAL_SHARE = 0.10
NEGLIGIBLE_SHARE = 0.01
#: Threshold comparisons forgive float rounding (12/20 - 12/24 = 0.0999...).
EPS = 1e-9

#: kaniko cache sources: ``--cache-repo`` is a single string (cmd/executor/cmd/root.go).
KANIKO_CACHE_SOURCES = 1
#: QEMU's dind job: ``--cache-from $TAG --cache-from $COMMON_TAG``
#: (.gitlab-ci.d/container-template.yml, qemu commit 4203ea02, 2025).
DIND_CACHE_SOURCES = 2

#: GitLab hosted Linux runners: (name, RAM in GB, cost factor).
RUNNER_SIZES: tuple[tuple[str, float, float], ...] = (
    ("small", 8.0, 1.0), ("medium", 16.0, 2.0), ("large", 32.0, 3.0),
    ("xlarge", 64.0, 6.0), ("2xlarge", 128.0, 12.0))
GB_PER_GIB = 2**30 / 1e9

#: Uncompressed / compressed size of an image, triangular (low, mode, high).
#: Mode 2: dockcross images, ~450-650 MB compressed, about twice that uncompressed
#: (Animeshz/keyboard-mouse-kt#18, 2021); 1.5-3 is a cachecost assumption for
#: toolchain images (gzip on binaries and text).
UNCOMPRESSED_RATIO = (1.5, 2.0, 3.0)


#: The digest-sharing input: each sample holds its drawn outcome, 1 shared, 0 not.
DIGEST_INPUT = "assumptions.kaniko_layer_digest_shared_probability"
#: The fork-reads input: probability that a fork's job can read upstream's registry.
FORK_READS_INPUT = "forks.reads_upstream_registry_probability"


@dataclass
class ClaimInputs:
    """Everything the six checks read (shapes in the module docstring)."""

    sim: Mapping[str, Mapping[str, np.ndarray]]
    sim_no_cleanup: Mapping[str, Mapping[str, np.ndarray]] | None
    accounting: str
    horizon_months: int
    compute_mode: str
    draws: Mapping[str, np.ndarray]
    image_compressed_gib: Mapping[str, float]
    uncached_measured_images: int
    n_images: int
    cleanup_label: str = "the cleanup it needs"  # kept for callers; the report words policies
    #: each strategy's cleanup policy as run, by short name (``{"kaniko": {"keep_n": 1,
    #: "older_than_days": 14}, "dind": None}``); None: not known
    cleanup_policies: Mapping[str, Mapping[str, float | None] | None] | None = None
    sponsor_budget_usd_per_year: float | None = None
    quota_minutes_per_month: float | None = None
    fork_quota_minutes_per_month: float | None = None
    kaniko_cache_sources: int = KANIKO_CACHE_SOURCES
    uncompressed_ratio: np.ndarray | None = None     # (K,); None: drawn from UNCOMPRESSED_RATIO
    seed: int = 0
    registry_quota_gib: float | None = None   # the namespace quota the scenario sets
    other_registry_gib: float = 0.0           # the namespace's usage besides these images
    registry_today: Mapping[str, Any] | None = None  # measured at fetch (measured.registry_today)
    registry_counted: bool = True             # the registry counts toward a limit or a bill
    reproducible_peak_gb: float | None = None  # measured peak RSS of a --reproducible build
    uncached_logged_images: int | None = None  # images whose from-scratch time is a logged miss
    fork_reads_probability: float | None = None  # the scenario's fork-reads probability
    extra: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def quantiles(x: np.ndarray | float, unit: str = "") -> dict[str, Any]:
    """p10/p50/p90 of the finite values of ``x`` (None when there are none)."""
    v = np.asarray(x, dtype=float).ravel()
    finite = np.isfinite(v)
    if not finite.all():            # (no copy when every value is finite)
        v = v[finite]
    if v.size == 0:
        return {"p10": None, "p50": None, "p90": None, "unit": unit}
    if v.min() == v.max():          # constant: every percentile is the value, no sort
        return {"p10": float(v[0]), "p50": float(v[0]), "p90": float(v[0]), "unit": unit}
    q = percentiles(v, (10, 50, 90))
    return {"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2]), "unit": unit}


def ratio_of(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b`` per sample, NaN where ``b`` is not positive."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / b, np.nan)


def make_claim(cid: str, claim: str, verdict: str, sentence: str, figure: str,
           interval: Mapping[str, Any], hinges_on: str, details: Mapping[str, Any]
           ) -> dict[str, Any]:
    """One claim record (shape in :mod:`cachecost.model.claims`)."""
    assert verdict in VERDICTS, verdict
    return {"id": cid, "claim": claim, "verdict": verdict, "sentence": sentence,
            "figure": figure, "interval": dict(interval), "hinges_on": hinges_on,
            "details": dict(details)}


def missing_claim(cid: str, claim: str, why: str, hinges_on: str) -> dict[str, Any]:
    """A claim these data cannot tell, saying ``why``."""
    return make_claim(cid, claim, CANNOT, f"These data cannot tell: {why}.", why,
                  quantiles(np.array([])), hinges_on, {})


def has_strategies(sim: Mapping[str, Mapping[str, np.ndarray]] | None, *names: str) -> bool:
    """True when ``sim`` holds every strategy of ``names``."""
    return sim is not None and all(n in sim for n in names)


#: Why a claim cannot be told (``reason`` of :func:`number_claim`; the report words it).
REASONS = ("no_strategy", "no_quota", "no_registry_sizes", "no_uncached_measured",
           "no_allowance", "no_image_sizes")


class Claim(TypedDict):
    """A claim as numbers (:func:`number_claim`); the report words it."""

    id: str
    claim: str
    verdict: str
    interval: dict[str, Any]
    details: dict[str, Any]
    reason: str | None


def number_claim(cid: str, claim: str, verdict: str, interval: Mapping[str, Any],
                 details: Mapping[str, Any], reason: str | None = None) -> Claim:
    """One claim as numbers: ``id``, ``claim`` (the thread's words, quoted), ``verdict``
    (:data:`VERDICTS`), ``interval`` (p10/p50/p90 and unit of what it rests on),
    ``details`` (the numbers behind it) and ``reason`` (:data:`REASONS`, when these
    data cannot tell). :mod:`cachecost.report.verdicts` words it."""
    assert verdict in VERDICTS, verdict
    assert reason is None or reason in REASONS, reason
    return Claim(id=cid, claim=claim, verdict=verdict, interval=dict(interval),
                 details=dict(details), reason=reason)
