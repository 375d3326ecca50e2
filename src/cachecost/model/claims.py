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
from typing import Any

import numpy as np

from cachecost.model.calibrate import FALLBACK_SIZE_METHOD
from cachecost.model.claims_base import (  # noqa: F401 (the claims' names, re-exported)
    ACCOUNTINGS,
    CANNOT,
    DIGEST_INPUT,
    DIND,
    DIND_CACHE_SOURCES,
    EPS,
    FORK_REUSE_INPUT,
    GB_PER_GIB,
    HOLDS,
    KANIKO,
    KANIKO_CACHE_SOURCES,
    MATERIAL_SHARE,
    MOOT,
    NEGLIGIBLE_SHARE,
    NO_CACHE,
    NOT,
    PARTLY,
    RUNNER_SIZES,
    SCRATCH_HOLDS,
    SCRATCH_NOT,
    UNCOMPRESSED_RATIO,
    VERDICTS,
    Claim,
    ClaimInputs,
    has_strategies,
    make_claim,
    missing_claim,
    number_claim,
    number_text,
    quantiles,
    ratio_of,
    span_text,
    times_text,
)
from cachecost.model.claims_memory import (  # noqa: F401 (re-exported)
    REPRODUCIBLE_CLAIM,
    reproducible_memory_claim,
    runner_for,
    runner_ram_gb,
)
from cachecost.model.claims_registry import (  # noqa: F401 (re-exported)
    QUOTA_CLAIM,
    STORAGE_CLAIM,
    digest_split,
    quota_claim,
    storage_claim,
    storage_ratios,
)
from cachecost.model.quantile import percentiles
from cachecost.model.simulate import Static
from cachecost.model.voi import value_of_information
from cachecost.textfmt import format_usd

# the fork and compute checks below use the shared helpers by their former names
_ratio, _x, _n, _span = ratio_of, times_text, number_text, span_text
_claim, _missing, _has, _EPS = make_claim, missing_claim, has_strategies, EPS


# --------------------------------------------------------------------------- compute

COMPUTE_CLAIM = ("We can avoid that by running without cache, but that has the cost of "
                 "increasing the job running time, since all containers would be rebuilt on "
                 "every pipeline. This will burn through our Azure compute allowance more "
                 "quickly (or our GitLab CI credits if we had to switch away from Azure).")


def _allowance_share(inp: ClaimInputs
                     ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]] | None:
    """Per-sample share of the allowance used by (dind, no-cache) and the allowance
    (``{"kind": "sponsor_budget", "usd_per_year"}`` or ``{"kind": "quota",
    "minutes_per_month"}``); None when the scenario has no allowance."""
    d, n = inp.sim[DIND], inp.sim[NO_CACHE]
    if (inp.compute_mode == "private-runners" and inp.sponsor_budget_usd_per_year
            and "sponsor_budget_months" in d and "sponsor_budget_months" in n):
        share_d = _ratio(np.full_like(d["sponsor_budget_months"], 12.0),
                         d["sponsor_budget_months"])
        share_n = _ratio(np.full_like(n["sponsor_budget_months"], 12.0),
                         n["sponsor_budget_months"])
        return (share_d, share_n,
                {"kind": "sponsor_budget", "usd_per_year": inp.sponsor_budget_usd_per_year})
    if inp.compute_mode == "gitlab-hosted" and inp.quota_minutes_per_month:
        q = inp.quota_minutes_per_month
        return (np.asarray(d["quota_minutes_used_per_month"]) / q,
                np.asarray(n["quota_minutes_used_per_month"]) / q,
                {"kind": "quota", "minutes_per_month": q})
    return None


def _compute_verdict(extra_share: float, exhausts: bool) -> str:
    if exhausts or extra_share >= MATERIAL_SHARE - _EPS:
        return HOLDS
    if extra_share <= NEGLIGIBLE_SHARE + _EPS:
        return NOT
    return PARTLY


def compute_claim(inp: ClaimInputs) -> Claim:
    """``no-cache-burns-compute``: no-cache's extra runner time against the allowance.

    Extra share = allowance used under no cache minus under dind (sponsor budget:
    ``12 / budget_months``; GitLab-hosted: quota minutes used / quota), percentage
    points. Verdict on its p50: "holds" at 10 % or more, or when no cache exhausts the
    allowance (budget < 12 months, or minutes bought) while dind does not; "does not
    hold" at 1 % or less; "partly" between. "These data cannot tell" when no image's
    from-scratch build time is in the data or the scenario has no allowance. The
    details also give the runner minutes and the project's cash
    (``project_cash_usd_per_month``: runner time or hosted overage, storage packs)
    no cache adds over dind, and how the from-scratch times were found (logged misses,
    estimates from rebuilds, the scenario's ratio).
    """
    cid = "no-cache-burns-compute"
    facts: dict[str, Any] = {
        "compute_mode": inp.compute_mode, "n_images": inp.n_images,
        "uncached_measured_images": inp.uncached_measured_images,
        "uncached_logged_images": inp.uncached_logged_images or 0}
    none = quantiles(np.array([]))
    if not _has(inp.sim, NO_CACHE, DIND):
        return number_claim(cid, COMPUTE_CLAIM, CANNOT, none, facts, "no_strategy")
    if inp.uncached_measured_images == 0:
        return number_claim(cid, COMPUTE_CLAIM, CANNOT, none, facts, "no_uncached_measured")
    d, n = inp.sim[DIND], inp.sim[NO_CACHE]
    facts.update(
        minutes_dind=quantiles(d["compute_minutes_per_month"], "min/month"),
        minutes_no_cache=quantiles(n["compute_minutes_per_month"], "min/month"),
        minutes_multiple=quantiles(_ratio(n["compute_minutes_per_month"],
                                          d["compute_minutes_per_month"]), "x"))
    allowance = _allowance_share(inp)
    if allowance is None:
        return number_claim(cid, COMPUTE_CLAIM, CANNOT, facts["minutes_multiple"], facts,
                            "no_allowance")
    share_d, share_n, facts["allowance"] = allowance
    of = ("of the monthly quota" if facts["allowance"]["kind"] == "quota"
          else "of the yearly budget")
    extra = quantiles(100.0 * (share_n - share_d), "% " + of)
    if inp.compute_mode == "gitlab-hosted":
        exhausts_k = ((np.asarray(n["compute_cost_usd_per_month"]) > 0)
                      & (np.asarray(d["compute_cost_usd_per_month"]) <= 0))
        facts["bought_usd_more"] = quantiles(np.asarray(n["compute_cost_usd_per_month"])
                                             - np.asarray(d["compute_cost_usd_per_month"]),
                                             "USD/month")
    else:
        months_d = quantiles(d["sponsor_budget_months"], "months")
        exhausts_k = ((np.asarray(n["sponsor_budget_months"]) < 12.0)
                      & (np.asarray(d["sponsor_budget_months"]) >= 12.0))
        budget = inp.sponsor_budget_usd_per_year
        facts.update(budget_months_dind=months_d,
                     budget_months_no_cache=quantiles(n["sponsor_budget_months"], "months"),
                     spend_dind_usd_per_year=(12.0 * budget / months_d["p50"]
                                              if budget and months_d["p50"] else None))
    facts["project_cash_usd_more"] = quantiles(
        np.asarray(n["project_cash_usd_per_month"], dtype=float)
        - np.asarray(d["project_cash_usd_per_month"], dtype=float), "USD/month")
    facts["share_of_samples_exhausted"] = float(np.mean(exhausts_k))
    facts["exhausts"] = bool(np.mean(exhausts_k) > 0.5)
    return number_claim(cid, COMPUTE_CLAIM,
                        _compute_verdict(extra["p50"] / 100.0, facts["exhausts"]), extra,
                        facts)


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


# --------------------------------------------------------------------------- all


def check_claims(inp: ClaimInputs) -> list[Mapping[str, Any]]:
    """The six claims, in the thread's order (module docstring for the shape)."""
    return [storage_claim(inp), quota_claim(inp), compute_claim(inp), forks_claim(inp),
            single_cache_source_claim(inp), reproducible_memory_claim(inp)]


# --------------------------------------------------------------------------- run_model hook


def cleanup_policies(st: Static) -> dict[str, dict[str, float | None] | None]:
    """kaniko's and dind's cleanup policies as run, by short name (None: no cleanup)."""
    out: dict[str, dict[str, float | None] | None] = {}
    for name, short in ((KANIKO, "kaniko"), (DIND, "dind")):
        if name in st.policies:
            policy = st.policies[name]
            out[short] = None if policy is None else policy.to_json()
    return out


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
        n_images=int(len(images)), cleanup_policies=cleanup_policies(st),
        sponsor_budget_usd_per_year=sc.value("compute.sponsor_budget_usd_per_year"),
        quota_minutes_per_month=sc.value("compute.quota_minutes_per_month"),
        fork_quota_minutes_per_month=sc.value("forks.quota_minutes_per_month"), seed=seed,
        registry_quota_gib=sc.value("storage.quota_gib"),
        other_registry_gib=(sc.value("storage.other_usage_gib") or 0.0)
        + st.cal.other_registry_gib, registry_today=registry_today)
    rows, total = value_of_information(sim, draws, st.names, seed=seed, weighs=st.weighs)
    return {"claims": check_claims(inp), "value_of_information": rows,
            "value_of_information_total": total}
