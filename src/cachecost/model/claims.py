r"""The thread's claims, checked against the model's numbers.

Six claims from the qemu-devel thread on kaniko caching (Berrange, 2024-05,
reply to Camilla Conte's patch), each turned into a verdict computed from the
Monte Carlo samples::

    results["claims"] = check_claims(ClaimInputs(...))
    # [{"id", "claim", "verdict", "interval", "details", "reason"}, ...]   (Claim)

``verdict`` is one of :data:`VERDICTS`; ``interval`` is ``{"p10", "p50", "p90",
"unit"}`` of the figure the verdict rests on; ``details`` holds the numbers behind
it (p10/p50/p90 dicts and the facts that decide it); ``reason`` says why these data
cannot tell (:data:`cachecost.model.claims_base.REASONS`). The model builds no
English: :func:`cachecost.report.verdicts.claim_words` gives each claim's sentence,
figures and what it hinges on from these numbers. A claim whose deciding quantity is
not in the data (no registry sizes, no measured from-scratch build, no compute
allowance, no fork pipelines) gets ``"these data cannot tell"``.

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
``forks.reads_upstream_registry_probability`` (its drawn outcome per sample: the
forks verdict reports both hypotheses), ``assumptions.kaniko_layer_digest_shared_probability`` (its
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
    FORK_READS_INPUT,
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
    PATCH_CACHE_REPO,
    RUNNER_SIZES,
    UNCOMPRESSED_RATIO,
    VERDICTS,
    Claim,
    ClaimInputs,
    has_strategies,
    number_claim,
    quantiles,
    ratio_of,
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
from cachecost.model.simulate import Static
from cachecost.model.voi import value_of_information

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
        share_d = ratio_of(np.full_like(d["sponsor_budget_months"], 12.0),
                         d["sponsor_budget_months"])
        share_n = ratio_of(np.full_like(n["sponsor_budget_months"], 12.0),
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
    if exhausts or extra_share >= MATERIAL_SHARE - EPS:
        return HOLDS
    if extra_share <= NEGLIGIBLE_SHARE + EPS:
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
    if not has_strategies(inp.sim, NO_CACHE, DIND):
        return number_claim(cid, COMPUTE_CLAIM, CANNOT, none, facts, "no_strategy")
    if inp.uncached_measured_images == 0:
        return number_claim(cid, COMPUTE_CLAIM, CANNOT, none, facts, "no_uncached_measured")
    d, n = inp.sim[DIND], inp.sim[NO_CACHE]
    facts.update(
        minutes_dind=quantiles(d["compute_minutes_per_month"], "min/month"),
        minutes_no_cache=quantiles(n["compute_minutes_per_month"], "min/month"),
        minutes_multiple=quantiles(ratio_of(n["compute_minutes_per_month"],
                                          d["compute_minutes_per_month"]), "x"))
    allowance = _allowance_share(inp)
    if allowance is None:
        return number_claim(cid, COMPUTE_CLAIM, CANNOT, facts["minutes_multiple"], facts,
                            "no_allowance")
    share_d, share_n, facts["allowance"] = allowance
    # percentage points of the allowance (its kind in details["allowance"])
    extra = quantiles(100.0 * (share_n - share_d), "pp")
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

#: The hypotheses of the fork-reads input: (name, drawn outcome, kaniko's verdict on
#: "a full build from scratch every time" by mechanics). Cannot read: no cache at all,
#: every fork build from scratch. Reads: a fork that changed an image rebuilds from the
#: changed step on every pipeline (every time: yes; from scratch: only from that step).
FORK_HYPOTHESES: tuple[tuple[str, float, str], ...] = (
    ("cannot_read", 0.0, HOLDS), ("reads", 1.0, PARTLY))


def fork_scratch_share(inp: ClaimInputs) -> np.ndarray:
    """Per-sample share of kaniko's fork builds that start from scratch, read off the
    fork minutes: ``(F_kaniko - F_dind) / (F_no_cache - F_dind)`` (NaN where no cache
    costs forks nothing more than dind, i.e. no fork pipelines)."""
    f = {s: np.asarray(inp.sim[s]["fork_compute_minutes_per_month"], dtype=float)
         for s in (KANIKO, DIND, NO_CACHE)}
    return ratio_of(f[KANIKO] - f[DIND], f[NO_CACHE] - f[DIND])


def _fork_reads(inp: ClaimInputs, k: int) -> np.ndarray:
    """Each sample's drawn outcome of the fork-reads input, 1 or 0 (a value not drawn
    as an outcome counts as 1 above 0.5); every sample reads when the input is absent."""
    reads = np.asarray(inp.draws.get(FORK_READS_INPUT, np.ones(k)), dtype=float)
    return np.broadcast_to(reads, (k,)) > 0.5


def _reads_probability(inp: ClaimInputs, reads: np.ndarray) -> float:
    """The scenario's fork-reads probability, else the share of samples that drew 1."""
    return (inp.fork_reads_probability if inp.fork_reads_probability is not None
            else float(np.mean(reads)))


def reuse_ends(inp: ClaimInputs) -> dict[str, dict[str, Any]]:
    """The forks figures under each hypothesis of the fork-reads input
    (:data:`FORK_HYPOTHESES`), from the samples that drew it: ``{probability,
    samples, scratch_pct, fork_minutes_more, owners_usd, wait_min, wait_dind_min,
    verdict}`` (p50s within those samples; ``probability`` the scenario's, else the
    share of samples; figures None when no sample drew it). kaniko minus dind."""
    k, d = inp.sim[KANIKO], inp.sim[DIND]
    share = 100.0 * fork_scratch_share(inp)
    reads = _fork_reads(inp, len(share))
    diff = {name: np.asarray(k[name], dtype=float) - np.asarray(d[name], dtype=float)
            for name in ("fork_compute_minutes_per_month", "fork_owners_cash_usd_per_month")}
    p_reads = _reads_probability(inp, reads)
    out: dict[str, dict[str, Any]] = {}
    for name, outcome, verdict in FORK_HYPOTHESES:
        mask = reads if outcome else ~reads

        def p50(x: Any, m: np.ndarray = mask) -> float | None:
            p: float | None = quantiles(np.asarray(x, dtype=float)[m])["p50"]
            return p
        out[name] = {
            "probability": p_reads if outcome else 1.0 - p_reads,
            "samples": int(mask.sum()), "scratch_pct": p50(share),
            "fork_minutes_more": p50(diff["fork_compute_minutes_per_month"]),
            "owners_usd": p50(diff["fork_owners_cash_usd_per_month"]),
            "wait_min": p50(k["fork_wait_minutes"]),
            "wait_dind_min": p50(d["fork_wait_minutes"]), "verdict": verdict,
        }
    return out


def _forks_verdict(ends: dict[str, dict[str, Any]]) -> str:
    """The hypotheses' common verdict, else "cannot tell"; a hypothesis of
    probability 0 does not count."""
    live = {e["verdict"] for e in ends.values() if e["probability"] > 0}
    return live.pop() if len(live) == 1 else CANNOT


def forks_claim(inp: ClaimInputs) -> Claim:
    """``forks-rebuild-from-scratch``: both hypotheses of whether a fork's job can read
    upstream's registry (:func:`reuse_ends`), each with its probability and kaniko's
    verdict by mechanics (never a threshold on a percentile, so the verdict does not
    move with kaniko's pull speed): cannot read, "holds" (no cache at all); reads,
    "partly" (every pipeline of a changed fork rebuilds from the changed step). The
    verdict is theirs when they agree (or one has probability 0), else "these data
    cannot tell". "Cannot tell" without fork pipelines (reason ``no_fork_pipelines``).

    The interval is kaniko's fork minutes a month beyond dind's over both hypotheses;
    the details hold the hypotheses (``hypotheses``), the share of those minutes that
    are from scratch (``scratch_share_pct``), fork owners' cash, the waits, the share
    of a fork owner's quota, and the patch's ``--cache-repo`` (``cache_repo``, the fact
    that decides it). :func:`cachecost.report.verdicts.claim_words` words it.
    """
    cid = "forks-rebuild-from-scratch"
    facts: dict[str, Any] = {"cache_repo": PATCH_CACHE_REPO}
    none = quantiles(np.array([]))
    if not has_strategies(inp.sim, KANIKO, DIND, NO_CACHE):
        return number_claim(cid, FORKS_CLAIM, CANNOT, none, facts, "no_strategy")
    share = quantiles(100.0 * fork_scratch_share(inp), "% of fork builds")
    if share["p50"] is None:
        return number_claim(cid, FORKS_CLAIM, CANNOT, none, facts, "no_fork_pipelines")
    k, d = inp.sim[KANIKO], inp.sim[DIND]
    fmin = quantiles(np.asarray(k["fork_compute_minutes_per_month"])
                     - np.asarray(d["fork_compute_minutes_per_month"]), "min/month")
    ends = reuse_ends(inp)
    facts.update(
        fork_minutes_more=fmin,
        fork_owners_cash_usd_more=quantiles(
            np.asarray(k["fork_owners_cash_usd_per_month"])
            - np.asarray(d["fork_owners_cash_usd_per_month"]), "USD/month"),
        scratch_share_pct=share,
        wait_kaniko_min=quantiles(k["fork_wait_minutes"], "min"),
        wait_dind_min=quantiles(d["fork_wait_minutes"], "min"),
        fork_quota_share_pct=quantiles(100.0 * np.asarray(k["fork_quota_share"]), "%"),
        hypotheses=ends)
    return number_claim(cid, FORKS_CLAIM, _forks_verdict(ends), fmin, facts)


# --------------------------------------------------------------------------- one cache source

SINGLE_SOURCE_CLAIM = ("It doesn't look like you can use multiple cache sources with "
                       "kaniko.")


def single_cache_source_claim(inp: ClaimInputs) -> Claim:
    """``kaniko-single-cache-source``: one ``--cache-repo`` against dind's two
    ``--cache-from``. Its price is what one source costs: the fork minutes kaniko
    spends beyond a kaniko with a second source, the fork's own cache
    (``fork_single_cache_source_minutes_per_month``: a fork that reads upstream
    rebuilds a changed image on every pipeline instead of once; one that cannot
    builds from scratch instead of from its own cache), by hypothesis of the
    fork-reads input. Not kaniko's slower cache hits, not claim 4's whole difference.
    Verdict: "holds" when kaniko takes one source, "does not hold" otherwise.

    The interval is that price (min/month; empty when the run has no such metric);
    the details: ``kaniko_cache_sources``, ``dind_cache_sources``, ``cache_repo`` (the
    patch's), ``fork_minutes_by_hypothesis`` (p50 within each hypothesis' samples,
    None where none drew it) and ``hypothesis_probability`` (each one's probability).
    """
    cid = "kaniko-single-cache-source"
    n = inp.kaniko_cache_sources
    verdict = HOLDS if n == 1 else NOT
    facts: dict[str, Any] = {"kaniko_cache_sources": n,
                             "dind_cache_sources": DIND_CACHE_SOURCES,
                             "cache_repo": PATCH_CACHE_REPO}
    key = "fork_single_cache_source_minutes_per_month"
    if not has_strategies(inp.sim, KANIKO) or key not in inp.sim[KANIKO]:
        return number_claim(cid, SINGLE_SOURCE_CLAIM, verdict, quantiles(np.array([])),
                            facts)
    single = np.asarray(inp.sim[KANIKO][key], dtype=float)
    reads = _fork_reads(inp, len(single))
    p_reads = _reads_probability(inp, reads)
    facts["fork_minutes_by_hypothesis"] = {
        name: quantiles(single[reads if outcome else ~reads])["p50"]
        for name, outcome, _ in FORK_HYPOTHESES}
    facts["hypothesis_probability"] = {
        name: p_reads if outcome else 1.0 - p_reads for name, outcome, _ in FORK_HYPOTHESES}
    return number_claim(cid, SINGLE_SOURCE_CLAIM, verdict, quantiles(single, "min/month"),
                        facts)


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


def _fixed_probability(value: Any) -> float | None:
    """A probability input's value when it is one number (its mean otherwise)."""
    return float(value.mean) if hasattr(value, "mean") else None


def thread_results(st: Static, draws: dict[str, np.ndarray],
                   sim: dict[str, dict[str, np.ndarray]], seed: int,
                   registry_today: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``results["claims"]``, ``["value_of_information"]`` and
    ``["value_of_information_total"]`` (issue 13) from the run's own draws and
    per-sample outputs (``sim`` from :func:`cachecost.model.simulate.simulate` with
    its horizon metrics: kaniko and dind's registry without any cleanup and on day 0
    under both accountings come from the same run: nothing here re-simulates). A scenario
    with ``thread: none`` (``scenario.thread`` None) checks no claims: ``"claims"`` is
    ``[]``; the value of information is computed all the same."""
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
        + st.cal.other_registry_gib, registry_today=registry_today,
        fork_reads_probability=_fixed_probability(sc.value(FORK_READS_INPUT)))
    rows, total = value_of_information(sim, draws, st.names, seed=seed, weighs=st.weighs,
                                       has_thread=sc.thread is not None)
    claims = check_claims(inp) if sc.thread is not None else []    # thread: none
    return {"claims": claims, "value_of_information": rows,
            "value_of_information_total": total}
