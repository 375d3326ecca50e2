"""The registry claims: kaniko doubles the registry (``kaniko-doubles-storage``) and dind
already exceeds the quota (``dind-exceeds-quota``), from the run's registry views
(shapes in :mod:`cachecost.model.claims`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cachecost.model.claims_base import (
    ACCOUNTING_LABEL,
    ACCOUNTINGS,
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
    ClaimInputs,
    has_strategies,
    make_claim,
    missing_claim,
    number_text,
    quantiles,
    ratio_of,
    span_text,
    times_text,
)
from cachecost.textfmt import format_quantity

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
QUOTA_HINGE = ("whether GitLab counts the container registry toward an enforced quota at "
               "all: its storage docs (storage_usage_quotas, 2025) leave the registry out of "
               "the limit, so nothing is exceeded today unless enforcement returns; and, if "
               "it does, at what size and under which accounting (GitLab reports bytes "
               "deduplicated across the whole namespace, which can be less than the sum "
               "of each repository's size modelled here)")


def _quota_verdict(used: Mapping[str, Any], measured: float | None, quota: float) -> str:
    """Against an enforced ``quota`` (GiB; 0 is a quota: any usage exceeds it): the
    measured size, else the p10 above it holds, the p90 at or below it does not hold,
    else partly."""
    if measured is not None:
        return HOLDS if measured > quota else NOT
    return HOLDS if used["p10"] > quota else NOT if used["p90"] <= quota else PARTLY


def quota_claim(inp: ClaimInputs) -> dict[str, Any]:
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
    if not has_strategies(inp.sim, DIND) or f"registry_gib_day0:{inp.accounting}" not in inp.sim[DIND]:
        return missing_claim(cid, QUOTA_CLAIM, "dind is not in this scenario", QUOTA_HINGE + ".")
    quota = inp.registry_quota_gib
    used = np.asarray(inp.sim[DIND][f"registry_gib_day0:{inp.accounting}"], dtype=float) \
        + inp.other_registry_gib
    q = quantiles(used, "GiB")
    measured = (inp.registry_today or {}).get("namespace_gib")
    if quota is None:
        return missing_claim(cid, QUOTA_CLAIM, "the scenario sets no registry quota "
                        "(storage.quota_gib)", QUOTA_HINGE + ".")
    if measured is None and (q["p50"] is None or q["p50"] <= 0):
        return missing_claim(cid, QUOTA_CLAIM, "the data hold no registry sizes", QUOTA_HINGE + ".")
    if measured is not None:
        basis = (f"GitLab's own statistic for the namespace, read "
                 f"{(inp.registry_today or {}).get('read_at') or 'at fetch time'}: "
                 f"{number_text(measured, 1)} GiB")
        size = measured
    else:
        other = (f" plus {number_text(inp.other_registry_gib, 1)} GiB of other usage"
                 if inp.other_registry_gib > 0 else "")
        basis = (f"dind's registry today ({ACCOUNTING_LABEL[inp.accounting]}){other}: "
                 f"{span_text(q, '{:,.1f}', ' GiB')}")
        size = q["p50"]
    verdict = _quota_verdict(q, measured, quota)
    share = size / quota if quota > 0 else None
    of_it = (f"{100 * share:.0f}% of it" if share is not None
             else "a 0 GiB quota is exceeded by any usage")
    figure = f"{basis}, against a {format_quantity(quota)} GiB quota ({of_it})."
    sentence = {
        HOLDS: f"Holds against a {format_quantity(quota)} GiB quota: the namespace holds "
               f"{of_it} with dind alone." if share is not None else
               "Holds: the quota is 0 GiB, and dind's registry alone exceeds it.",
        NOT: f"Does not hold against a {format_quantity(quota)} GiB quota: with dind the "
             f"namespace uses {of_it}.",
        PARTLY: f"Partly: the {format_quantity(quota)} GiB quota lies within the range of "
                f"dind's registry today ({of_it} at the median).",
    }[verdict]
    enforced = verdict
    if not inp.registry_counted:
        verdict = MOOT
        were = {HOLDS: "exceed it", NOT: "stay under it", PARTLY: "be near it"}[enforced]
        sentence = (f"Moot today: GitLab does not count the container registry toward the "
                    f"namespace's storage limit (storage_usage_quotas, 2025; this scenario "
                    f"bills no registry storage), so no quota is exceeded. Were the "
                    f"{format_quantity(quota)} GiB quota enforced, dind would {were} "
                    f"({of_it}).")
    return make_claim(cid, QUOTA_CLAIM, verdict, sentence, figure,
                  q if measured is None else {"p10": measured, "p50": measured,
                                              "p90": measured, "unit": "GiB"},
                  QUOTA_HINGE + ".", {"quota_gib": quota, "used_gib": q,
                                      "measured_namespace_gib": measured,
                                      "other_usage_gib": inp.other_registry_gib,
                                      "verdict_if_enforced": enforced,
                                      "registry_counted": inp.registry_counted})


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


def _storage_hinge(inp: ClaimInputs) -> str:
    base = ("how long kaniko's cache tags stay: --cache-ttl (336 h) only makes older "
            "entries misses and deletes nothing, so without a cleanup policy on the cache "
            "repository every image change leaves its cache layers tagged")
    if not has_strategies(inp.sim, KANIKO, DIND):
        return base
    split = digest_split(inp)
    if split is None or inp.accounting != "root-namespace-dedup":
        return base + "."
    ends = []
    for word, key in (("shared", "shared"), ("not shared", "not_shared")):
        if split[key] is not None:
            ends.append(f"{split[key]:.1f}× if {word}")
    return (f"{base}; and, under GitLab's deduplicated accounting, whether kaniko's cache "
            f"layers share digests with the image's layers (inferred from kaniko's "
            f"build.go, untested; drawn shared in {100 * split['share_shared']:.0f}% of "
            f"samples): with the cleanup, {' and '.join(ends)}. To settle it, push one "
            f"kaniko build and compare its cache and image layer digests.")


def storage_claim(inp: ClaimInputs) -> dict[str, Any]:
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
    hinge = _storage_hinge(inp)
    if not has_strategies(inp.sim, KANIKO, DIND):
        return missing_claim(cid, STORAGE_CLAIM, "kaniko or dind is not in this scenario", hinge)
    dind = quantiles(inp.sim[DIND][f"registry_gib:{inp.accounting}"], "GiB")
    if dind["p50"] is None or dind["p50"] <= 0:
        return missing_claim(cid, STORAGE_CLAIM, "the data hold no registry sizes", hinge)
    ratios = storage_ratios(inp)
    main = ratios[inp.accounting]
    with_c = main["with_cleanup"]
    without = main.get("without_cleanup", with_c)
    verdict = _storage_verdict(without["p50"])
    h = inp.horizon_months

    def line(acc: str) -> str:
        r = ratios[acc]
        parts = []
        if "day0" in r:
            parts.append(f"{times_text(r['day0'])} on day 0")
        if "without_cleanup" in r:
            parts.append(f"{times_text(r['without_cleanup'])} at month {h} without a cleanup")
        parts.append(f"{times_text(r['with_cleanup'])} with {inp.cleanup_label}")
        return f"{ACCOUNTING_LABEL[acc]}: " + ", ".join(parts)

    other = [a for a in ACCOUNTINGS if a != inp.accounting][0]
    kan = quantiles(inp.sim[KANIKO][f"registry_gib:{inp.accounting}"], "GiB")
    kan_raw = (quantiles(inp.sim_no_cleanup[KANIKO][f"registry_gib:{inp.accounting}"], "GiB")
               if inp.sim_no_cleanup is not None and KANIKO in inp.sim_no_cleanup else kan)
    figure = (f"kaniko's registry against dind's — {line(inp.accounting)}; "
              f"{line(other)}. At month {h}: kaniko {number_text(kan_raw['p50'])} GiB without a "
              f"cleanup, {number_text(kan['p50'])} GiB with it; dind {number_text(dind['p50'])} GiB.")
    w, c = f"{without['p50']:.1f}×", f"{with_c['p50']:.1f}×"
    as_written = "for the patch as written (it sets no cleanup policy)"
    sentence = {
        HOLDS: f"Holds {as_written}: kaniko's registry is {w} dind's at month {h}.",
        PARTLY: f"Partly {as_written}: kaniko adds storage, {w} dind's at month {h}, but "
                f"less than double.",
        NOT: f"Does not hold {as_written}: kaniko's registry is {w} dind's at month {h}.",
    }[verdict]
    if "without_cleanup" in main:
        sentence += (f" With {inp.cleanup_label}, which the patch does not set, it would "
                     f"be {c}" + (", below double." if with_c["p50"] < DOUBLING - EPS
                                  else "."))
    return make_claim(cid, STORAGE_CLAIM, verdict, sentence, figure, without, hinge,
                  {"ratios": ratios, "kaniko_gib": kan, "kaniko_gib_without_cleanup": kan_raw,
                   "dind_gib": dind, "accounting": inp.accounting,
                   "cleanup": inp.cleanup_label, "digest_split": digest_split(inp)})
