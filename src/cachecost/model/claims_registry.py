"""The registry claims: kaniko doubles the registry (``kaniko-doubles-storage``) and dind
already exceeds the quota (``dind-exceeds-quota``), from the run's registry views
(shapes in :mod:`cachecost.model.claims`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cachecost.model.claims_base import (
    ACCOUNTINGS,
    CANNOT,
    DIGEST_INPUT,
    DIND,
    DOUBLING,
    EPS,
    HOLDS,
    KANIKO,
    MOOT,
    NEGLIGIBLE_RATIO,
    NOT,
    PARTLY,
    Claim,
    ClaimInputs,
    has_strategies,
    number_claim,
    quantiles,
    ratio_of,
)

# --------------------------------------------------------------------------- storage

#: The claims as the thread words them (verbatim; the summary shows them in quotes).
STORAGE_CLAIM = ("By using Kaniko we would, at minimum, doubling the amount of data storage "
                 "we consume in the gitlab registry.")


def storage_ratios(inp: ClaimInputs) -> dict[str, dict[str, dict[str, Any]]]:
    """kaniko / dind registry GiB per sample, per accounting: on day 0, and at the
    horizon with each strategy's own cleanup and without any.
    ``{accounting: {"day0"|"with_cleanup"|"without_cleanup": q}}`` (q:
    :func:`quantiles` of the per-sample ratio; views not computed are left out)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for acc in ACCOUNTINGS:
        row: dict[str, dict[str, Any]] = {}
        key = f"registry_gib:{acc}"
        day0 = f"registry_gib_day0:{acc}"
        if all(day0 in inp.sim[s] for s in (KANIKO, DIND)):
            row["day0"] = quantiles(ratio_of(inp.sim[KANIKO][day0], inp.sim[DIND][day0]), "x")
        row["with_cleanup"] = quantiles(ratio_of(inp.sim[KANIKO][key], inp.sim[DIND][key]), "x")
        if inp.sim_no_cleanup is not None and has_strategies(inp.sim_no_cleanup, KANIKO, DIND):
            row["without_cleanup"] = quantiles(ratio_of(inp.sim_no_cleanup[KANIKO][key],
                                                      inp.sim_no_cleanup[DIND][key]), "x")
        out[acc] = row
    return out


#: Berrangé, right after the doubling claim (verbatim).
QUOTA_CLAIM = ("even with our current Docker-in-Docker setup I believe we're exceeding "
               "our quota.")


def _quota_verdict(used: Mapping[str, Any], measured: float | None, quota: float) -> str:
    """Against an enforced ``quota`` (GiB; 0 is a quota: any usage exceeds it): the
    measured size, else the p10 above it holds, the p90 at or below it does not hold,
    else partly."""
    if measured is not None:
        return HOLDS if measured > quota else NOT
    return HOLDS if used["p10"] > quota else NOT if used["p90"] <= quota else PARTLY


def quota_claim(inp: ClaimInputs) -> Claim:
    """``dind-exceeds-quota``: dind's registry today against the namespace quota.

    Today is day 0: dind's registry under the scenario's accounting (``sim[dind]
    ["registry_gib_day0:<accounting>"]``, a sum of per-image repository sizes) plus
    the namespace's other usage, per sample, against ``registry_quota_gib``. A measured
    namespace size (``registry_today``, GitLab's own statistic) decides when there is
    one. Verdict (:func:`_quota_verdict`): the p10 (or the measured size) above the
    quota, holds; the p90 (or the measured size) at or below it, does not hold; the
    quota inside the p10-p90 range, partly. A quota of 0 is a quota. Where the registry
    counts toward no limit or bill (``registry_counted`` False: GitLab.com today,
    storage_usage_quotas 2025), "moot today", with what an enforced quota would give.
    No quota in the scenario, or no registry sizes: these data cannot tell.

    Example: quota 50 GiB, other usage 10 GiB, dind 22.4 GiB on day 0 in every sample:
    32.4 GiB is under 50, "does not hold", 65% of the quota.
    """
    cid = "dind-exceeds-quota"
    facts = {"quota_gib": inp.registry_quota_gib, "accounting": inp.accounting,
             "other_usage_gib": inp.other_registry_gib,
             "registry_counted": inp.registry_counted}
    if not has_strategies(inp.sim, DIND) or \
            f"registry_gib_day0:{inp.accounting}" not in inp.sim[DIND]:
        return number_claim(cid, QUOTA_CLAIM, CANNOT, quantiles(np.array([])), facts,
                            "no_strategy")
    quota = inp.registry_quota_gib
    used = np.asarray(inp.sim[DIND][f"registry_gib_day0:{inp.accounting}"], dtype=float) \
        + inp.other_registry_gib
    q = quantiles(used, "GiB")
    today = inp.registry_today or {}
    measured = today.get("namespace_gib")
    if quota is None:
        return number_claim(cid, QUOTA_CLAIM, CANNOT, quantiles(np.array([])), facts,
                            "no_quota")
    if measured is None and (q["p50"] is None or q["p50"] <= 0):
        return number_claim(cid, QUOTA_CLAIM, CANNOT, quantiles(np.array([])), facts,
                            "no_registry_sizes")
    enforced = _quota_verdict(q, measured, quota)
    size = measured if measured is not None else q["p50"]
    return number_claim(
        cid, QUOTA_CLAIM, enforced if inp.registry_counted else MOOT,
        q if measured is None else {"p10": measured, "p50": measured, "p90": measured,
                                    "unit": "GiB"},
        {**facts, "used_gib": q, "measured_namespace_gib": measured,
         "measured_read_at": today.get("read_at"), "verdict_if_enforced": enforced,
         "share_of_quota": size / quota if quota > 0 else None})


def _storage_verdict(without: float) -> str:
    """On the p50 ratio at the horizon for the patch as written (no cleanup policy, the
    patch sets none): below 1.1 "does not hold"; at least 2 "holds"; else "partly"."""
    if without < NEGLIGIBLE_RATIO - EPS:
        return NOT
    if without >= DOUBLING - EPS:
        return HOLDS
    return PARTLY


def digest_split(inp: ClaimInputs) -> dict[str, Any] | None:
    """Under the scenario's accounting, the with-cleanup ratio's p50 in the samples
    whose drawn digest outcome is shared (1) and not (0), and the shared share;
    None when the input is not drawn or not in this run."""
    x = inp.draws.get(DIGEST_INPUT)
    if x is None or len(np.asarray(x)) != len(np.asarray(inp.sim[KANIKO][
            "registry_gib:per-tag"])):
        return None
    key = f"registry_gib:{inp.accounting}"
    r = ratio_of(inp.sim[KANIKO][key], inp.sim[DIND][key])
    shared = np.asarray(x, dtype=float) >= 0.5
    return {"share_shared": float(shared.mean()),
            "shared": quantiles(r[shared], "x")["p50"],
            "not_shared": quantiles(r[~shared], "x")["p50"]}


def storage_claim(inp: ClaimInputs) -> Claim:
    """``kaniko-doubles-storage``: kaniko's registry against dind's.

    The claim is judged against the patch as written: it sets no cleanup policy, so
    the verdict is on ``sim_no_cleanup`` (the same draws without any), the scenario's
    accounting at the horizon, p50 of the per-sample ratio ``G_kaniko / G_dind``
    (:func:`_storage_verdict`); the interval is that ratio. Then what a cleanup policy
    would change: ``sim`` is the scenario as run (each strategy with the cleanup
    policy it needs: kaniko keep 1 / 14 days on the cache repository, dind none as it
    overwrites its tags).
    """
    cid = "kaniko-doubles-storage"
    facts: dict[str, Any] = {"accounting": inp.accounting, "horizon_months": inp.horizon_months,
                             "cleanup_policies": inp.cleanup_policies,
                             "cleanup_label": inp.cleanup_label}
    if not has_strategies(inp.sim, KANIKO, DIND):
        return number_claim(cid, STORAGE_CLAIM, CANNOT, quantiles(np.array([])), facts,
                            "no_strategy")
    facts["digest_split"] = digest_split(inp)
    dind = quantiles(inp.sim[DIND][f"registry_gib:{inp.accounting}"], "GiB")
    if dind["p50"] is None or dind["p50"] <= 0:
        return number_claim(cid, STORAGE_CLAIM, CANNOT, quantiles(np.array([])), facts,
                            "no_registry_sizes")
    ratios = storage_ratios(inp)
    main = ratios[inp.accounting]
    without = main.get("without_cleanup", main["with_cleanup"])
    kan = quantiles(inp.sim[KANIKO][f"registry_gib:{inp.accounting}"], "GiB")
    kan_raw = (quantiles(inp.sim_no_cleanup[KANIKO][f"registry_gib:{inp.accounting}"], "GiB")
               if inp.sim_no_cleanup is not None and KANIKO in inp.sim_no_cleanup else kan)
    return number_claim(cid, STORAGE_CLAIM, _storage_verdict(without["p50"]), without,
                        {**facts, "ratios": ratios, "kaniko_gib": kan,
                         "kaniko_gib_without_cleanup": kan_raw, "dind_gib": dind,
                         "cleanup": inp.cleanup_label})
