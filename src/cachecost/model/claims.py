r"""The thread's claims, checked against the model's numbers.

Six claims from the qemu-devel thread on kaniko caching (Berrange, 2024-05,
reply to Camilla Conte's patch), each turned into a verdict computed from the
Monte Carlo samples::

    results["claims"] = check_claims(ClaimInputs(...))
    # [{"id", "claim", "verdict", "sentence", "figure", "interval", "hinges_on",
    #   "details"}, ...]

``verdict`` is one of :data:`VERDICTS`; ``sentence`` is the one-sentence verdict;
``figure`` states the numbers with their p10-p90 intervals; ``interval`` is
``{"p10", "p50", "p90", "unit"}`` of the figure the verdict rests on;
``hinges_on`` says, in a maintainer's words, what would change the verdict;
``details`` holds the numbers behind the figure (p10/p50/p90 dicts). A claim
whose deciding quantity is not in the data (no registry sizes, no measured
from-scratch build, no compute allowance, no fork pipelines) gets
``"these data cannot tell"``.

Keys read (the model of issue 12). Per strategy ``s`` in ``"dind-inline-cache"``,
``"kaniko-cache-repo"``, ``"no-cache"``, arrays of shape ``(K,)`` from
:func:`cachecost.model.simulate.simulate`, all from the same draws:

* ``sim[s]["registry_gib:per-tag"]``, ``sim[s]["registry_gib:root-namespace-dedup"]``
  (GiB at the horizon) in ``ClaimInputs.sim`` (each strategy with the cleanup policy
  it needs, as the scenario runs it) and ``ClaimInputs.sim_no_cleanup`` (no cleanup:
  the run's own ``registry_gib_no_cleanup:<accounting>``, :func:`no_cleanup_view`);
* ``sim[s]["registry_gib_day0:per-tag"]``, ``sim[s]["registry_gib_day0:root-namespace-dedup"]``
  (GiB on day 0, month 0 of the registry series under each accounting);
* ``compute_minutes_per_month``, ``compute_cost_usd_per_month``,
  ``project_cash_usd_per_month``, ``quota_minutes_used_per_month``,
  ``sponsor_budget_months`` (private runners with a budget only);
* ``fork_compute_minutes_per_month``, ``fork_owners_cash_usd_per_month``,
  ``fork_quota_share``, ``fork_wait_minutes``.

Input draws ``draws[name]`` (``(K,)``): ``compute.runner_size_factor``,
``compute.usd_per_1000_minutes`` (gitlab-hosted),
``assumptions.kaniko_fork_cache_reuse_share`` (the forks verdict is read at its
low and high ends), ``assumptions.kaniko_layer_digest_shared_probability`` (its
drawn 0/1 outcome per sample). Calibration: per-image compressed sizes (GiB) and
the count of images whose from-scratch build time was measured.
:func:`thread_results` assembles all of it for ``run_model``.

Sources of the mechanics (sources list of the project):

* kaniko ``--cache-repo`` is one string: ``RootCmd.PersistentFlags().StringVarP(
  &opts.CacheRepo, "cache-repo", ...)`` in cmd/executor/cmd/root.go; a failed
  cache push is only a warning (``logrus.Warnf("error uploading layer to cache")``
  in pkg/executor/build.go), so a fork job that may read but not write upstream's
  cache repository still gets its hits.
* A public project's registry with visibility "Everyone with access" can be
  pulled by a job token of a project not on its allowlist (gitlab-org/gitlab
  MR 135263, 2023), so a fork's job can read upstream's ``$NAME-cache``.
* ``--reproducible`` holds the whole image in memory (kaniko issue 862, from
  go-containerregistry's mutate): peak memory ~ the uncompressed image size.
* GitLab hosted Linux runners: small 8 GB (factor 1), medium 16 GB (2), large
  32 GB (3), xlarge 64 GB (6), 2xlarge 128 GB (12) (doc/ci/runners/hosted_runners/
  linux.md 2024; doc/ci/pipelines/compute_minutes.md 2025).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cachecost.model.calibrate import FALLBACK_SIZE_METHOD
from cachecost.model.quantile import percentiles
from cachecost.model.simulate import Static
from cachecost.model.strategies import CleanupPolicy
from cachecost.model.voi import value_of_information
from cachecost.textfmt import format_quantity, format_usd

VERDICTS = ("holds", "partly", "does not hold", "these data cannot tell", "moot today")
HOLDS, PARTLY, NOT, CANNOT, MOOT = VERDICTS

DIND = "dind-inline-cache"
KANIKO = "kaniko-cache-repo"
NO_CACHE = "no-cache"
ACCOUNTINGS = ("root-namespace-dedup", "per-tag")
#: What each accounting's figure really is: the model sums per-image (per-repository)
#: sizes; GitLab's own namespace figure deduplicates across every repository too.
ACCOUNTING_LABEL = {"root-namespace-dedup": "the sum of each image repository's "
                                            "deduplicated size",
                    "per-tag": "per-tag sums"}

#: The thread's own word: "at minimum, doubling" the registry.
DOUBLING = 2.0
#: Below this ratio the extra storage is called negligible (10 %).
NEGLIGIBLE_RATIO = 1.1
#: Extra share of the compute allowance: at or above it the burn "holds";
#: at or below NEGLIGIBLE_SHARE it "does not hold"; between, "partly".
MATERIAL_SHARE = 0.10
NEGLIGIBLE_SHARE = 0.01
#: Share of fork builds from scratch at/above which forks "rebuild from scratch".
SCRATCH_HOLDS = 0.95
SCRATCH_NOT = 0.05
#: Threshold comparisons forgive float rounding (12/20 - 12/24 = 0.0999...).
_EPS = 1e-9

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
#: The fork-reuse input: share of fork builds that use upstream's kaniko cache.
FORK_REUSE_INPUT = "assumptions.kaniko_fork_cache_reuse_share"


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
    cleanup_label: str = "the cleanup it needs"
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


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / b, np.nan)


def _x(q: Mapping[str, Any]) -> str:
    """'6.1x (p10-p90 4.8-7.9x)' for a ratio's quantiles."""
    if q["p50"] is None:
        return "n/a"
    if abs(q["p90"] - q["p10"]) < 0.05:
        return f"{q['p50']:.1f}×"
    return f"{q['p50']:.1f}× (p10–p90 {q['p10']:.1f}–{q['p90']:.1f}×)"


def _n(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "n/a"
    if digits == 0 and abs(v) >= 100:
        return f"{v:,.0f}" if abs(v) < 10_000 else f"{round(v, -2):,.0f}"
    return f"{v:,.{max(digits, 1)}f}" if abs(v) < 100 else f"{v:,.0f}"


def _span(q: Mapping[str, Any], fmt: str = "{:,.0f}", unit: str = "") -> str:
    """'15,500 min (p10-p90 12,000-19,000)'."""
    if q["p50"] is None:
        return "n/a"
    mid = fmt.format(q["p50"]) + unit
    if q["p10"] == q["p90"]:
        return mid
    return f"{mid} (p10–p90 {fmt.format(q['p10'])}–{fmt.format(q['p90'])})"


def _claim(cid: str, claim: str, verdict: str, sentence: str, figure: str,
           interval: Mapping[str, Any], hinges_on: str, details: Mapping[str, Any]
           ) -> dict[str, Any]:
    assert verdict in VERDICTS, verdict
    return {"id": cid, "claim": claim, "verdict": verdict, "sentence": sentence,
            "figure": figure, "interval": dict(interval), "hinges_on": hinges_on,
            "details": dict(details)}


def _missing(cid: str, claim: str, why: str, hinges_on: str) -> dict[str, Any]:
    return _claim(cid, claim, CANNOT, f"These data cannot tell: {why}.", why,
                  quantiles(np.array([])), hinges_on, {})


def _has(sim: Mapping[str, Mapping[str, np.ndarray]] | None, *names: str) -> bool:
    return sim is not None and all(n in sim for n in names)


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
            row["day0"] = quantiles(_ratio(inp.sim[KANIKO][day0], inp.sim[DIND][day0]), "x")
        row["with_cleanup"] = quantiles(_ratio(inp.sim[KANIKO][key], inp.sim[DIND][key]), "x")
        if inp.sim_no_cleanup is not None and _has(inp.sim_no_cleanup, KANIKO, DIND):
            row["without_cleanup"] = quantiles(_ratio(inp.sim_no_cleanup[KANIKO][key],
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
    if not _has(inp.sim, DIND) or f"registry_gib_day0:{inp.accounting}" not in inp.sim[DIND]:
        return _missing(cid, QUOTA_CLAIM, "dind is not in this scenario", QUOTA_HINGE + ".")
    quota = inp.registry_quota_gib
    used = np.asarray(inp.sim[DIND][f"registry_gib_day0:{inp.accounting}"], dtype=float) \
        + inp.other_registry_gib
    q = quantiles(used, "GiB")
    measured = (inp.registry_today or {}).get("namespace_gib")
    if quota is None:
        return _missing(cid, QUOTA_CLAIM, "the scenario sets no registry quota "
                        "(storage.quota_gib)", QUOTA_HINGE + ".")
    if measured is None and (q["p50"] is None or q["p50"] <= 0):
        return _missing(cid, QUOTA_CLAIM, "the data hold no registry sizes", QUOTA_HINGE + ".")
    if measured is not None:
        basis = (f"GitLab's own statistic for the namespace, read "
                 f"{(inp.registry_today or {}).get('read_at') or 'at fetch time'}: "
                 f"{_n(measured, 1)} GiB")
        size = measured
    else:
        other = (f" plus {_n(inp.other_registry_gib, 1)} GiB of other usage"
                 if inp.other_registry_gib > 0 else "")
        basis = (f"dind's registry today ({ACCOUNTING_LABEL[inp.accounting]}){other}: "
                 f"{_span(q, '{:,.1f}', ' GiB')}")
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
    return _claim(cid, QUOTA_CLAIM, verdict, sentence, figure,
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
    if without < NEGLIGIBLE_RATIO - _EPS:
        return NOT
    if without >= DOUBLING - _EPS:
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
    r = _ratio(inp.sim[KANIKO][key], inp.sim[DIND][key])
    shared = np.asarray(x, dtype=float) >= 0.5
    return {"share_shared": float(shared.mean()),
            "shared": quantiles(r[shared], "x")["p50"],
            "not_shared": quantiles(r[~shared], "x")["p50"]}


def _storage_hinge(inp: ClaimInputs) -> str:
    base = ("how long kaniko's cache tags stay: --cache-ttl (336 h) only makes older "
            "entries misses and deletes nothing, so without a cleanup policy on the cache "
            "repository every image change leaves its cache layers tagged")
    if not _has(inp.sim, KANIKO, DIND):
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
    if not _has(inp.sim, KANIKO, DIND):
        return _missing(cid, STORAGE_CLAIM, "kaniko or dind is not in this scenario", hinge)
    dind = quantiles(inp.sim[DIND][f"registry_gib:{inp.accounting}"], "GiB")
    if dind["p50"] is None or dind["p50"] <= 0:
        return _missing(cid, STORAGE_CLAIM, "the data hold no registry sizes", hinge)
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
            parts.append(f"{_x(r['day0'])} on day 0")
        if "without_cleanup" in r:
            parts.append(f"{_x(r['without_cleanup'])} at month {h} without a cleanup")
        parts.append(f"{_x(r['with_cleanup'])} with {inp.cleanup_label}")
        return f"{ACCOUNTING_LABEL[acc]}: " + ", ".join(parts)

    other = [a for a in ACCOUNTINGS if a != inp.accounting][0]
    kan = quantiles(inp.sim[KANIKO][f"registry_gib:{inp.accounting}"], "GiB")
    kan_raw = (quantiles(inp.sim_no_cleanup[KANIKO][f"registry_gib:{inp.accounting}"], "GiB")
               if inp.sim_no_cleanup is not None and KANIKO in inp.sim_no_cleanup else kan)
    figure = (f"kaniko's registry against dind's — {line(inp.accounting)}; "
              f"{line(other)}. At month {h}: kaniko {_n(kan_raw['p50'])} GiB without a "
              f"cleanup, {_n(kan['p50'])} GiB with it; dind {_n(dind['p50'])} GiB.")
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
                     f"be {c}" + (", below double." if with_c["p50"] < DOUBLING - _EPS
                                  else "."))
    return _claim(cid, STORAGE_CLAIM, verdict, sentence, figure, without, hinge,
                  {"ratios": ratios, "kaniko_gib": kan, "kaniko_gib_without_cleanup": kan_raw,
                   "dind_gib": dind, "accounting": inp.accounting,
                   "cleanup": inp.cleanup_label, "digest_split": digest_split(inp)})


# --------------------------------------------------------------------------- compute

COMPUTE_CLAIM = ("We can avoid that by running without cache, but that has the cost of "
                 "increasing the job running time, since all containers would be rebuilt on "
                 "every pipeline. This will burn through our Azure compute allowance more "
                 "quickly (or our GitLab CI credits if we had to switch away from Azure).")


def _allowance_share(inp: ClaimInputs) -> tuple[np.ndarray, np.ndarray, str, str] | None:
    """Per-sample share of the allowance used by (dind, no-cache), what the allowance
    is, and its unit; None when the scenario has no allowance."""
    d, n = inp.sim[DIND], inp.sim[NO_CACHE]
    if (inp.compute_mode == "private-runners" and inp.sponsor_budget_usd_per_year
            and "sponsor_budget_months" in d and "sponsor_budget_months" in n):
        share_d = _ratio(np.full_like(d["sponsor_budget_months"], 12.0),
                         d["sponsor_budget_months"])
        share_n = _ratio(np.full_like(n["sponsor_budget_months"], 12.0),
                         n["sponsor_budget_months"])
        return (share_d, share_n,
                f"the ${inp.sponsor_budget_usd_per_year:,.0f}/year sponsor budget",
                "of the yearly budget")
    if inp.compute_mode == "gitlab-hosted" and inp.quota_minutes_per_month:
        q = inp.quota_minutes_per_month
        return (np.asarray(d["quota_minutes_used_per_month"]) / q,
                np.asarray(n["quota_minutes_used_per_month"]) / q,
                f"the {q:,.0f}-minute monthly quota", "of the monthly quota")
    return None


def _compute_verdict(extra_share: float, exhausts: bool) -> str:
    if exhausts or extra_share >= MATERIAL_SHARE - _EPS:
        return HOLDS
    if extra_share <= NEGLIGIBLE_SHARE + _EPS:
        return NOT
    return PARTLY


def compute_claim(inp: ClaimInputs) -> dict[str, Any]:
    """``no-cache-burns-compute``: no-cache's extra runner time against the allowance.

    Extra share = allowance used under no cache minus under dind (sponsor budget:
    ``12 / budget_months``; GitLab-hosted: quota minutes used / quota). Verdict on
    its p50: "holds" at 10 % or more, or when no cache exhausts the allowance
    (budget < 12 months, or minutes bought) while dind does not; "does not hold" at
    1 % or less; "partly" between. "These data cannot tell" when no image's
    from-scratch build time was measured or the scenario has no allowance. The figure
    also gives the runner minutes and the project's cash
    (``project_cash_usd_per_month``: runner time or hosted overage, storage packs)
    no cache adds over dind.
    """
    cid = "no-cache-burns-compute"
    logged = (inp.uncached_logged_images if inp.uncached_logged_images is not None
              else 0)
    estimated = inp.uncached_measured_images - logged
    rest = inp.n_images - inp.uncached_measured_images
    hinge = ("the from-scratch build times ("
             + ", ".join(part for part in (
                 f"a logged cache miss for {logged} of {inp.n_images} images" if logged
                 else "no image's from-scratch time is a logged cache miss",
                 f"estimated for {estimated} from the slower half of their rebuilds in the "
                 f"data, not measured from scratch" if estimated > 0 else "",
                 f"the scenario's from-scratch/cached ratio for the other {rest}"
                 if rest > 0 else "") if part)
             + ") and the size of the allowance")
    if inp.compute_mode != "gitlab-hosted":
        hinge += ("; on the private runners, that spending grows with runner time "
                  "(compute.usd_per_runner_hour, by default the node cost over the measured "
                  "CI runner-hours, as when nodes scale with the jobs): a fixed-size cluster "
                  "would absorb the extra minutes as queueing, not cash")
    if not _has(inp.sim, NO_CACHE, DIND):
        return _missing(cid, COMPUTE_CLAIM, "no-cache or dind is not in this scenario", hinge)
    if inp.uncached_measured_images == 0:
        return _missing(cid, COMPUTE_CLAIM,
                        "no image's from-scratch build time is measured", hinge)
    d, n = inp.sim[DIND], inp.sim[NO_CACHE]
    min_d = quantiles(d["compute_minutes_per_month"], "min/month")
    min_n = quantiles(n["compute_minutes_per_month"], "min/month")
    mult = quantiles(_ratio(n["compute_minutes_per_month"], d["compute_minutes_per_month"]),
                     "x")
    minutes = (f"no cache: {_x(mult)} the container-build runner minutes "
               f"({_n(min_n['p50'])} against {_n(min_d['p50'])} a month)")
    allowance = _allowance_share(inp)
    if allowance is None:
        return _claim(cid, COMPUTE_CLAIM, CANNOT,
                      "These data cannot tell: the scenario names no compute allowance "
                      "(sponsor budget or quota).", minutes + ".", mult, hinge,
                      {"minutes_dind": min_d, "minutes_no_cache": min_n})
    share_d, share_n, what, of = allowance
    extra = quantiles(100.0 * (share_n - share_d), "% " + of)
    if inp.compute_mode == "gitlab-hosted":
        exhausts_k = ((np.asarray(n["compute_cost_usd_per_month"]) > 0)
                      & (np.asarray(d["compute_cost_usd_per_month"]) <= 0))
        bought = quantiles(np.asarray(n["compute_cost_usd_per_month"])
                           - np.asarray(d["compute_cost_usd_per_month"]), "USD/month")
        burn = (f"it takes an extra {_span(extra, '{:,.0f}', '%')} {of} (percentage points); "
                f"minutes bought beyond it: {format_usd(bought['p50'])}/month more")
    else:
        months_d = quantiles(d["sponsor_budget_months"], "months")
        months_n = quantiles(n["sponsor_budget_months"], "months")
        exhausts_k = ((np.asarray(n["sponsor_budget_months"]) < 12.0)
                      & (np.asarray(d["sponsor_budget_months"]) >= 12.0))
        budget = inp.sponsor_budget_usd_per_year
        spend_d = 12.0 * budget / months_d["p50"] if budget and months_d["p50"] else None
        today = (f" (spending today with dind: about {format_usd(spend_d)}/year, the runner nodes "
                 "and the other costs the scenario charges to the budget)"
                 if spend_d else "")
        burn = (f"{what} would cover {_span(months_n, '{:,.0f}', ' months')} of spending "
                f"instead of {months_d['p50']:,.0f}{today}: an extra "
                f"{_n(extra['p50'], 1)}% {of} (percentage points)")
    cash = quantiles(np.asarray(n["project_cash_usd_per_month"], dtype=float)
                     - np.asarray(d["project_cash_usd_per_month"], dtype=float), "USD/month")
    burn += f"; the project's cash: {format_usd(cash['p50'])}/month more"
    exhausts = bool(np.mean(exhausts_k) > 0.5)
    verdict = _compute_verdict(extra["p50"] / 100.0, exhausts)
    sentence = {
        HOLDS: f"Holds: no cache takes an extra {_n(extra['p50'], 1)}% {of} "
               f"({what}){', enough to run out of it' if exhausts else ''}.",
        PARTLY: f"Partly: no cache burns {what} faster, but only by "
                f"{_n(extra['p50'], 1)}% {of}.",
        NOT: f"Does not hold: no cache takes only an extra {_n(extra['p50'], 1)}% {of} "
             f"({what}).",
    }[verdict]
    return _claim(cid, COMPUTE_CLAIM, verdict, sentence, f"{minutes}; {burn}.", extra,
                  hinge, {"minutes_dind": min_d, "minutes_no_cache": min_n,
                          "minutes_multiple": mult, "allowance": what,
                          "project_cash_usd_more": cash,
                          "share_of_samples_exhausted": float(np.mean(exhausts_k))})


# --------------------------------------------------------------------------- forks

FORKS_CLAIM = ("Caching of course fails when I'm running jobs in my fork. IOW, if we change "
               "container content in a fork and want to test it, it will be doing a full "
               "build from scratch every time.")

FORKS_HINGE = (
    "whether a fork's kaniko job reads upstream's cache repository "
    "(kaniko_fork_cache_reuse_share): Berrangé reported that caching fails in his fork "
    "(qemu-devel 2024-05), while qemu-project's registry is public, a public project's "
    "registry can be pulled by any job token (gitlab-org/gitlab MR 135263) and kaniko only "
    "warns when its cache push there is denied, so a fork job may read upstream's "
    "$NAME-cache. Untested either way: run the kaniko container job in a fork after "
    "upstream has filled its cache and count 'Using caching version of cmd' log lines")


def fork_scratch_share(inp: ClaimInputs) -> np.ndarray:
    """Per-sample share of kaniko's fork builds that start from scratch, read off the
    fork minutes: ``(F_kaniko - F_dind) / (F_no_cache - F_dind)`` (NaN where no cache
    costs forks nothing more than dind, i.e. no fork pipelines)."""
    f = {s: np.asarray(inp.sim[s]["fork_compute_minutes_per_month"], dtype=float)
         for s in (KANIKO, DIND, NO_CACHE)}
    return _ratio(f[KANIKO] - f[DIND], f[NO_CACHE] - f[DIND])


def _scratch_verdict(share: float) -> str:
    if share >= SCRATCH_HOLDS - _EPS:
        return HOLDS
    if share <= SCRATCH_NOT + _EPS:
        return NOT
    return PARTLY


def reuse_ends(inp: ClaimInputs) -> dict[str, dict[str, Any]]:
    """The forks figures at the two ends of the fork-reuse input: samples with a drawn
    reuse share at or below its p10 ("low": forks cannot read upstream's cache) and at
    or above its p90 ("high": they can). Each ``{reuse, scratch_pct, wait_min,
    owners_usd, verdict}`` (p50s within the subset; ``reuse`` its median, ``reuse_bound``
    the p10 or p90 that bounds it); an input that is the same in
    every sample gives both ends from every sample."""
    share = 100.0 * fork_scratch_share(inp)
    reuse = np.asarray(inp.draws.get(FORK_REUSE_INPUT, np.zeros(len(share))), dtype=float)
    if reuse.shape != share.shape:
        reuse = np.full(share.shape, float(np.median(reuse)))
    lo, hi = percentiles(reuse, (10, 90))
    k, d = inp.sim[KANIKO], inp.sim[DIND]
    money = (np.asarray(k["fork_owners_cash_usd_per_month"], dtype=float)
             - np.asarray(d["fork_owners_cash_usd_per_month"], dtype=float))
    out: dict[str, dict[str, Any]] = {}
    for end, mask, bound in (("low", reuse <= lo, lo), ("high", reuse >= hi, hi)):
        scratch = quantiles(share[mask])["p50"]
        out[end] = {
            "reuse": float(np.median(reuse[mask])), "reuse_bound": float(bound),
            "scratch_pct": scratch,
            "wait_min": quantiles(np.asarray(k["fork_wait_minutes"])[mask])["p50"],
            "owners_usd": quantiles(money[mask])["p50"],
            "verdict": CANNOT if scratch is None else _scratch_verdict(scratch / 100.0),
        }
    return out


def _forks_sentence(verdict: str, ends: dict[str, dict[str, Any]], wait_d: float | None,
                    money_p50: float) -> str:
    lo, hi = ends["low"], ends["high"]
    if lo["verdict"] != hi["verdict"]:
        return (f"These data cannot tell: it hinges on whether a fork's kaniko job reads "
                f"upstream's cache. If it cannot (reuse at most "
                f"{100 * lo['reuse_bound']:.0f}% of fork builds), "
                f"{_n(lo['scratch_pct'])}% of fork builds start from scratch and a "
                f"contributor waits {_n(lo['wait_min'])} min; if it can (reuse at least "
                f"{100 * hi['reuse_bound']:.0f}%), {_n(hi['scratch_pct'])}% and "
                f"{_n(hi['wait_min'])} min (dind: {_n(wait_d)} min).")
    return {
        HOLDS: f"Holds as modelled: forks rebuild every image from scratch, so a "
               f"contributor waits {_n(lo['wait_min'])} min instead of {_n(wait_d)}; "
               + ("fork owners pay nothing, it stays within their free quota."
                  if money_p50 <= 0 else
                  f"fork owners pay {format_usd(money_p50)}/month more."),
        PARTLY: f"Partly: {_n(lo['scratch_pct'])}% of fork builds start from scratch.",
        NOT: "Does not hold as modelled: forks reuse upstream's kaniko cache.",
        CANNOT: "These data cannot tell: the scenario has no fork pipelines.",
    }[verdict]


def forks_claim(inp: ClaimInputs) -> dict[str, Any]:
    """``forks-rebuild-from-scratch``: fork minutes, fork owners' cash and the
    contributor's wait (``fork_wait_minutes``, the expected slowest container job).

    The verdict hinges on the fork-reuse input (:func:`reuse_ends`): when the verdict
    at its low end (p50 of :func:`fork_scratch_share` in those samples: 95 % or more
    "holds", 5 % or less "does not hold", "partly" between) differs from the one at
    its high end, "these data cannot tell" and the sentence gives both; otherwise
    that verdict. "Cannot tell" without fork pipelines.
    """
    cid = "forks-rebuild-from-scratch"
    if not _has(inp.sim, KANIKO, DIND, NO_CACHE):
        return _missing(cid, FORKS_CLAIM, "kaniko, dind or no-cache is not in this scenario",
                        FORKS_HINGE)
    share = quantiles(100.0 * fork_scratch_share(inp), "% of fork builds")
    if share["p50"] is None:
        return _missing(cid, FORKS_CLAIM, "the scenario has no fork pipelines", FORKS_HINGE)
    k, d = inp.sim[KANIKO], inp.sim[DIND]
    fmin = quantiles(np.asarray(k["fork_compute_minutes_per_month"])
                     - np.asarray(d["fork_compute_minutes_per_month"]), "min/month")
    money = quantiles(np.asarray(k["fork_owners_cash_usd_per_month"])
                      - np.asarray(d["fork_owners_cash_usd_per_month"]), "USD/month")
    wait_k = quantiles(k["fork_wait_minutes"], "min")
    wait_d = quantiles(d["fork_wait_minutes"], "min")
    quota = quantiles(100.0 * np.asarray(k["fork_quota_share"]), "%")
    ends = reuse_ends(inp)
    verdict = (ends["low"]["verdict"] if ends["low"]["verdict"] == ends["high"]["verdict"]
               else CANNOT)
    quota_txt = (f", {_n(quota['p50'], 1)}% of a fork owner's "
                 f"{inp.fork_quota_minutes_per_month:,.0f}-minute quota"
                 if inp.fork_quota_minutes_per_month else "")
    figure = (f"kaniko: {_span(share, '{:,.0f}', '%')} of fork builds from scratch; forks "
              f"spend {_span(fmin)} more runner minutes a month than with dind, "
              f"{format_usd(money['p50'])}/month more of fork owners' cash{quota_txt}; "
              f"a contributor waits {_span(wait_k, '{:,.0f}', ' min')} for the container "
              f"stage instead of {_n(wait_d['p50'])} min.")
    return _claim(cid, FORKS_CLAIM, verdict,
                  _forks_sentence(verdict, ends, wait_d["p50"], float(money["p50"] or 0.0)),
                  figure, share, FORKS_HINGE + ".",
                  {"fork_minutes_more": fmin, "fork_owners_cash_usd_more": money,
                   "wait_kaniko_min": wait_k, "wait_dind_min": wait_d,
                   "fork_quota_share_pct": quota, "reuse_ends": ends})


# --------------------------------------------------------------------------- one cache source

SINGLE_SOURCE_CLAIM = ("It doesn't look like you can use multiple cache sources with "
                       "kaniko.")


def single_cache_source_claim(inp: ClaimInputs) -> dict[str, Any]:
    """``kaniko-single-cache-source``: one ``--cache-repo`` against dind's two
    ``--cache-from``; the model's price of it is the fork minutes a second source
    would save (kaniko's fork minutes minus dind's). Verdict: "holds" when kaniko
    takes one source, "does not hold" otherwise."""
    cid = "kaniko-single-cache-source"
    n = inp.kaniko_cache_sources
    verdict = HOLDS if n == 1 else NOT
    hinge = ("only jobs that would need two caches pay for it: a fork that changed an "
             "image reads upstream's cache repository but cannot write its own there, so "
             "it rebuilds from the changed step on every pipeline (dind reads the fork's "
             "own tag too); stable branches and upstream share one cache repository by "
             "content key and lose nothing. The model prices it through the share of fork "
             "builds that reuse upstream's kaniko cache")
    if not _has(inp.sim, KANIKO, DIND):
        return _claim(cid, SINGLE_SOURCE_CLAIM, verdict,
                      f"{verdict.capitalize()}: kaniko's --cache-repo takes {n} "
                      f"repository.", f"kaniko: {n} cache source; dind: "
                      f"{DIND_CACHE_SOURCES}.", quantiles(np.array([])), hinge, {})
    k, d = inp.sim[KANIKO], inp.sim[DIND]
    fmin = quantiles(np.asarray(k["fork_compute_minutes_per_month"])
                     - np.asarray(d["fork_compute_minutes_per_month"]), "min/month")
    wait = quantiles(np.asarray(k["fork_wait_minutes"])
                     - np.asarray(d["fork_wait_minutes"]), "min")
    figure = (f"kaniko --cache-repo takes {n} repository (a single string, kaniko "
              f"cmd/executor/cmd/root.go); QEMU's dind job passes {DIND_CACHE_SOURCES} "
              f"--cache-from. What forks pay for kaniko's cache here: {_span(fmin)} more "
              f"runner minutes a month than with dind and {_n(wait['p50'])} min more of a "
              f"contributor's wait.")
    sentence = (f"Holds: kaniko reads and writes a single cache repository; with forks "
                f"priced as this scenario assumes, that costs {_n(fmin['p50'])} fork "
                f"runner minutes a month."
                if verdict == HOLDS else
                f"Does not hold: this kaniko takes {n} cache sources.")
    return _claim(cid, SINGLE_SOURCE_CLAIM, verdict, sentence, figure, fmin, hinge,
                  {"kaniko_cache_sources": n, "dind_cache_sources": DIND_CACHE_SOURCES,
                   "fork_wait_min_more": wait})


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


#: The measurement that settles the --reproducible claim.
REPRODUCIBLE_MEASURE = ("the peak RSS of one --reproducible kaniko build of {image} "
                        "(e.g. /usr/bin/time -v around the executor, or the pod's "
                        "memory high-water mark)")
#: What --reproducible does to kaniko's cache.
REPRODUCIBLE_REWRITES = ("--reproducible rewrites every layer (timestamps stripped), so "
                         "kaniko's cache layers no longer share digests with the image's")


def reproducible_memory_claim(inp: ClaimInputs) -> dict[str, Any]:
    """``kaniko-reproducible-memory``: peak memory ~ the largest image's uncompressed
    size = compressed GiB x (uncompressed/compressed ratio) x 1.0737 GB/GiB, against
    the runner's RAM.

    The estimate is a lower bound (kaniko's own working set comes on top), and the
    thread observed an out-of-memory: only a measured peak (``reproducible_peak_gb``,
    :data:`REPRODUCIBLE_MEASURE`) against the runner's RAM (GitLab-hosted: the runner
    of the drawn ``compute.runner_size_factor``; private runners: not in the data)
    decides (:func:`_memory_verdict`); otherwise "these data cannot tell", naming the
    measurement. The figure names the runner size that holds the estimate and its price. The price: container-build cost x (factor of the
    runner needed / factor of today's - 1); hosted at the list price of the quota
    minutes (``quota_minutes_used x usd_per_1000 / 1000``), private relative to a
    small runner.
    """
    cid = "kaniko-reproducible-memory"
    hinge = ("the uncompressed/compressed size ratio of QEMU's images (assumed "
             f"{UNCOMPRESSED_RATIO[0]:g}–{UNCOMPRESSED_RATIO[2]:g}×, about "
             f"{UNCOMPRESSED_RATIO[1]:g}× for toolchain images; measure with docker image "
             "inspect's Size against the registry's layer sizes; kaniko issue 862: "
             "--reproducible holds the whole image in memory), kaniko's own working set "
             "on top of it (kaniko issue 909 saw about 15 GB for an 8 GB image, without "
             "--reproducible) and the memory limit of the runner that builds the image")
    sizes = {n: float(v) for n, v in inp.image_compressed_gib.items() if np.isfinite(v)}
    if not sizes or max(sizes.values()) <= 0 or not _has(inp.sim, KANIKO):
        return _missing(cid, REPRODUCIBLE_CLAIM, "the data hold no image sizes", hinge)
    largest = max(sizes, key=lambda n: sizes[n])
    k = len(np.asarray(inp.sim[KANIKO]["compute_minutes_per_month"]))
    peak_gb_k = sizes[largest] * _ratio_draws(inp, k) * GB_PER_GIB
    peak = quantiles(peak_gb_k, "GB")
    idx, need_factor = runner_for(peak_gb_k)
    kan = inp.sim[KANIKO]
    against = "a small hosted runner"
    if inp.compute_mode == "gitlab-hosted" and "compute.runner_size_factor" in inp.draws:
        against = "today's runner"
        size_factor = np.asarray(inp.draws["compute.runner_size_factor"], dtype=float)
        ram_k = runner_ram_gb(size_factor)
        ram: float | None = float(np.median(ram_k))
        now_factor = np.array([r[2] for r in RUNNER_SIZES])[
            np.searchsorted([r[1] for r in RUNNER_SIZES], ram_k)]
        per_min = (np.asarray(inp.draws.get("compute.usd_per_1000_minutes", 10.0)) / 1000.0)
        cost_now = np.asarray(kan["quota_minutes_used_per_month"]) * per_min
    else:
        ram, now_factor = None, np.ones(k)
        cost_now = np.asarray(kan["compute_cost_usd_per_month"], dtype=float)
    price = quantiles(cost_now * np.maximum(need_factor / now_factor - 1.0, 0.0), "USD/month")
    verdict = _memory_verdict(inp.reproducible_peak_gb, ram)
    names = [r[0] for r in RUNNER_SIZES] + ["none (beyond 2xlarge)"]
    need = names[int(np.median(idx))]
    need_ram = RUNNER_SIZES[min(int(np.median(idx)), len(RUNNER_SIZES) - 1)][1]
    figure = (f"--reproducible peak ≥ {_span(peak, '{:,.1f}', ' GB')} (the uncompressed image, "
              f"an estimate and a lower bound) for the largest image, "
              f"{largest} ({sizes[largest]:.2f} GiB compressed); it fits the {need} runner "
              f"({need_ram:g} GB)" + (
                  f"; running kaniko's container jobs there costs "
                  f"{format_usd(price['p50'])}/month more than on {against}."
                  if price["p90"] > 0 else f", no larger than {against}."))
    measure = REPRODUCIBLE_MEASURE.format(image=largest)
    measured = inp.reproducible_peak_gb
    if verdict == CANNOT:
        sentence = (f"These data cannot tell: the thread saw --reproducible builds run out "
                    f"of memory, and {largest}'s size alone (about {_n(peak['p50'], 1)} GB "
                    f"uncompressed) is only a lower bound on kaniko's peak, so it cannot "
                    f"overrule that. Measure {measure}. Note that {REPRODUCIBLE_REWRITES}.")
    else:
        sentence = (f"{verdict.capitalize()}: a --reproducible build of {largest} peaked at "
                    f"{_n(measured, 1)} GB (measured), "
                    f"{'more than' if verdict == HOLDS else 'within'} the {ram:g} GB "
                    f"runner. Note that {REPRODUCIBLE_REWRITES}.")
    return _claim(cid, REPRODUCIBLE_CLAIM, verdict, sentence, figure, peak, hinge + ".",
                  {"largest_image": largest, "largest_compressed_gib": sizes[largest],
                   "runner_needed": need, "runner_ram_gb": ram, "extra_cost": price,
                   "peak_measured_gb": measured, "peak_estimate_is_lower_bound": True})


# --------------------------------------------------------------------------- all


def check_claims(inp: ClaimInputs) -> list[dict[str, Any]]:
    """The six claims, in the thread's order (module docstring for the shape)."""
    return [storage_claim(inp), quota_claim(inp), compute_claim(inp), forks_claim(inp),
            single_cache_source_claim(inp), reproducible_memory_claim(inp)]


# --------------------------------------------------------------------------- run_model hook


def _policy_label(policy: CleanupPolicy | None) -> str:
    if policy is None:
        return "none"
    parts = ([f"keep {policy.keep_n:g}"] if policy.keep_n is not None else []) + (
        [f"delete older than {policy.older_than_days:g} days"]
        if policy.older_than_days is not None else [])
    return ", ".join(parts) or "none"


def _cleanup_label(st: Static) -> str:
    """'the cleanup it needs (kaniko: keep 1, delete older than 14 days; dind: none)'."""
    parts = [f"{short}: {_policy_label(st.policies[name])}"
             for name, short in ((KANIKO, "kaniko"), (DIND, "dind")) if name in st.policies]
    return "the cleanup each needs (" + "; ".join(parts) + ")"


def no_cleanup_view(sim: Mapping[str, Mapping[str, np.ndarray]], names: Sequence[str]
                    ) -> dict[str, dict[str, np.ndarray]]:
    """``{s: {"registry_gib:<acc>": GiB after the horizon without any cleanup}}`` for
    the ``names`` in ``sim``: the run's own ``registry_gib_no_cleanup:<acc>``, which is
    what re-running the same draws with no cleanup policy gives, bit for bit."""
    return {n: {f"registry_gib:{acc}": sim[n][f"registry_gib_no_cleanup:{acc}"]
                for acc in ACCOUNTINGS} for n in names if n in sim}


def measured_image_sizes(images: Any) -> dict[str, float]:
    """Image -> compressed GiB from the registry (``images``: the calibration's per-image
    frame); NaN where calibration gave the fallback size (no registry data): a claim about
    "the largest image" must not rest on an assumed size."""
    sizes = images["compressed_size_gib"].astype(float).tolist()
    methods = (images["size_method"].tolist() if "size_method" in images
               else [None] * len(sizes))
    return {str(name): (float("nan") if method == FALLBACK_SIZE_METHOD else size)
            for name, size, method in zip(images.index, sizes, methods, strict=True)}


def thread_results(st: Static, draws: dict[str, np.ndarray],
                   sim: dict[str, dict[str, np.ndarray]], seed: int,
                   registry_today: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``results["claims"]``, ``["value_of_information"]`` and
    ``["value_of_information_total"]`` (issue 13) from the run's own draws and
    per-sample outputs (``sim`` from :func:`cachecost.model.simulate.simulate` with
    its horizon metrics: kaniko and dind's registry without any cleanup and on day 0
    under both accountings come from the same run: nothing here re-simulates)."""
    sc = st.scenario
    pair = tuple(n for n in (DIND, KANIKO) if n in st.names)
    images = st.cal.images
    inp = ClaimInputs(
        sim=sim, sim_no_cleanup=no_cleanup_view(sim, pair) if pair else None,
        accounting=sc.value("storage.accounting"), horizon_months=st.horizon_months,
        compute_mode=sc.value("compute.mode"), draws=draws,
        image_compressed_gib=measured_image_sizes(images),
        uncached_measured_images=int(images["uncached_build_min"].notna().sum()),
        uncached_logged_images=(int(images["uncached_method"].astype(str)
                                    .str.contains("logged misses").sum())
                                if "uncached_method" in images else 0),
        registry_counted=sc.value("storage.billed_above_gib") is not None,
        n_images=int(len(images)), cleanup_label=_cleanup_label(st),
        sponsor_budget_usd_per_year=sc.value("compute.sponsor_budget_usd_per_year"),
        quota_minutes_per_month=sc.value("compute.quota_minutes_per_month"),
        fork_quota_minutes_per_month=sc.value("forks.quota_minutes_per_month"), seed=seed,
        registry_quota_gib=sc.value("storage.quota_gib"),
        other_registry_gib=(sc.value("storage.other_usage_gib") or 0.0)
        + st.cal.other_registry_gib, registry_today=registry_today)
    rows, total = value_of_information(sim, draws, st.names, seed=seed, weighs=st.weighs)
    return {"claims": check_claims(inp), "value_of_information": rows,
            "value_of_information_total": total}
