"""The ``--reproducible`` claim (``kaniko-reproducible-memory``): the largest image's
uncompressed size, a lower bound on kaniko's peak memory, against GitLab's hosted runner
sizes; only a measured peak decides."""

from __future__ import annotations

import numpy as np

from cachecost.model.claims_base import (
    CANNOT,
    GB_PER_GIB,
    HOLDS,
    KANIKO,
    NOT,
    RUNNER_SIZES,
    UNCOMPRESSED_RATIO,
    Claim,
    ClaimInputs,
    has_strategies,
    number_claim,
    quantiles,
)
from cachecost.model.money import billed_cost_factor

# --------------------------------------------------------------------------- --reproducible

REPRODUCIBLE_CLAIM = ("Does not enable reproducible builds as that results in builds "
                      "failing with an out of memory error.")


def runner_for(memory_gb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest GitLab hosted runner holding ``memory_gb``: (index into
    :data:`RUNNER_SIZES`, cost factor); beyond 2xlarge: the last index + 1, NaN."""
    ram = np.array([r[1] for r in RUNNER_SIZES])
    factor = np.array([r[2] for r in RUNNER_SIZES] + [np.nan])
    idx = np.searchsorted(ram, np.asarray(memory_gb, dtype=float), side="left")
    return idx, factor[idx]


def runner_ram_gb(size_factor: np.ndarray) -> np.ndarray:
    """RAM (GB) of the runner with a size factor: the largest size whose cost factor
    does not exceed it (factor 1 -> small, 8 GB)."""
    f = np.asarray(size_factor, dtype=float)
    factors = np.array([r[2] for r in RUNNER_SIZES])
    ram = np.array([r[1] for r in RUNNER_SIZES])
    idx = np.clip(np.searchsorted(factors, f + 1e-9, side="right") - 1, 0, len(ram) - 1)
    return ram[idx]


def _ratio_draws(inp: ClaimInputs, k: int) -> np.ndarray:
    if inp.uncompressed_ratio is not None:
        return np.asarray(inp.uncompressed_ratio, dtype=float)
    lo, mode, hi = UNCOMPRESSED_RATIO
    return np.random.default_rng(inp.seed).triangular(lo, mode, hi, k)


def _memory_verdict(peak_gb: float | None, ram_gb: float | None) -> str:
    """Only a measured peak decides: above the runner's RAM holds, else does not hold;
    no measured peak or no known RAM: these data cannot tell (an estimate from the
    image size is a lower bound and cannot overrule the out-of-memory the thread saw)."""
    if peak_gb is None or ram_gb is None:
        return CANNOT
    return HOLDS if peak_gb > ram_gb else NOT


def reproducible_memory_claim(inp: ClaimInputs) -> Claim:
    """``kaniko-reproducible-memory``: peak memory ~ the largest image's uncompressed
    size = compressed GiB x (uncompressed/compressed ratio) x 1.0737 GB/GiB, against
    the runner's RAM.

    The estimate is a lower bound (kaniko's own working set comes on top), and the
    thread observed an out-of-memory: only a measured peak (``reproducible_peak_gb``,
    :data:`REPRODUCIBLE_MEASURE`) against the runner's RAM (GitLab-hosted: the runner
    of the drawn ``compute.runner_size_factor``; private runners: not in the data)
    decides (:func:`_memory_verdict`); otherwise "these data cannot tell", naming the
    measurement. The details name the smallest hosted runner size that holds the
    estimate (so the least a build would need) and its price (``against``:
    ``todays_runner``, ``small_hosted_runner`` when the hosted runner's size is not
    drawn, ``not_priced`` on private runners, whose RAM and price per size the data do
    not hold: ``extra_cost`` is then None): container-build cost x (factor of the
    runner needed / factor of today's - 1), at the list price of the quota minutes
    (``quota_minutes_used x usd_per_1000 / 1000``); a lower bound, as the peak is.
    """
    cid = "kaniko-reproducible-memory"
    sizes = {n: float(v) for n, v in inp.image_compressed_gib.items() if np.isfinite(v)}
    if not sizes or max(sizes.values()) <= 0 or not has_strategies(inp.sim, KANIKO):
        return number_claim(cid, REPRODUCIBLE_CLAIM, CANNOT, quantiles(np.array([])),
                            {"peak_measured_gb": inp.reproducible_peak_gb}, "no_image_sizes")
    largest = max(sizes, key=lambda n: sizes[n])
    k = len(np.asarray(inp.sim[KANIKO]["compute_minutes_per_month"]))
    peak_gb_k = sizes[largest] * _ratio_draws(inp, k) * GB_PER_GIB
    peak = quantiles(peak_gb_k, "GB")
    idx, need_factor = runner_for(peak_gb_k)
    kan = inp.sim[KANIKO]
    against = "small_hosted_runner"
    discount = None
    if inp.compute_mode == "gitlab-hosted" and "compute.runner_size_factor" in inp.draws:
        against = "todays_runner"
        size_factor = np.asarray(inp.draws.get("compute.container_runner_size_factor",
                                               inp.draws["compute.runner_size_factor"]),
                                 dtype=float)
        discount = inp.draws.get("compute.cost_factor")
        ram_k = runner_ram_gb(size_factor)
        ram: float | None = float(np.median(ram_k))
        now_factor = np.array([r[2] for r in RUNNER_SIZES])[
            np.searchsorted([r[1] for r in RUNNER_SIZES], ram_k)]
        per_min = (np.asarray(inp.draws.get("compute.usd_per_1000_minutes", 10.0)) / 1000.0)
        cost_now = np.asarray(kan["quota_minutes_used_per_month"]) * per_min
    elif inp.compute_mode == "gitlab-hosted":
        ram, now_factor = None, np.ones(k)
        cost_now = np.asarray(kan["compute_cost_usd_per_month"], dtype=float)
    else:
        # private runners: their RAM and what a larger one costs are not in the data
        against, ram, now_factor = "not_priced", None, np.ones(k)
        cost_now = np.full(k, np.nan)
    # GitLab bills min(size, discount) (money.billed_cost_factor): an OSS-program project
    # pays 0.5 on a large runner as on a small one, so a larger runner costs it nothing
    billed_need = billed_cost_factor(need_factor, discount)
    billed_now = billed_cost_factor(now_factor, discount)
    # a billed factor of 0 (a discount of 0) bills nothing on any runner: no extra cost
    ratio = np.divide(billed_need, billed_now, out=np.ones_like(billed_need, dtype=float),
                      where=billed_now > 0)
    price = quantiles(cost_now * np.maximum(ratio - 1.0, 0.0), "USD/month")
    verdict = _memory_verdict(inp.reproducible_peak_gb, ram)
    names = [r[0] for r in RUNNER_SIZES] + ["none (beyond 2xlarge)"]
    need = names[int(np.median(idx))]
    need_ram = RUNNER_SIZES[min(int(np.median(idx)), len(RUNNER_SIZES) - 1)][1]
    return number_claim(cid, REPRODUCIBLE_CLAIM, verdict, peak,
                        {"largest_image": largest, "largest_compressed_gib": sizes[largest],
                         "runner_needed": need, "runner_needed_ram_gb": need_ram,
                         "runner_ram_gb": ram, "extra_cost": price, "against": against,
                         "peak_measured_gb": inp.reproducible_peak_gb,
                         "peak_estimate_is_lower_bound": True})
