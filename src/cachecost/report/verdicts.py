"""The thread's claims in words: each verdict's sentence, its figures and what it hinges
on, from the numbers the model decided (:mod:`cachecost.model.claims`).

    words = claim_words(results["claims"][0])   # {"sentence", "figure", "hinges_on"}

One renderer for ``cachecost model --format text``, ``summary.txt``, ``summary.md`` and
the pages (they all read :func:`cachecost.report.answers.claim_rows`, which calls this).
Every number a sentence states is one of the claim's own (``interval``, ``details``);
results written before the model stopped wording claims keep their own ``sentence``,
``figure`` and ``hinges_on``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cachecost.model.claims_base import (
    ACCOUNTINGS,
    DOUBLING,
    PATCH_CACHE_REPO,
    UNCOMPRESSED_RATIO,
)
from cachecost.textfmt import (
    format_quantity,
    format_usd,
    number_text,
    span_text,
    times_text,
)

#: What each accounting's figure really is: the model sums per-image (per-repository)
#: sizes; GitLab's own namespace figure deduplicates across every repository too.
ACCOUNTING_LABEL = {"root-namespace-dedup": "the sum of each image repository's "
                                            "deduplicated size",
                    "per-tag": "per-tag sums"}

#: Why these data cannot tell, per ``reason`` code (:data:`cachecost.model.claims_base.REASONS`).
REASON_TEXT = {
    "no_quota": "the scenario sets no registry quota (storage.quota_gib)",
    "no_registry_sizes": "the data hold no registry sizes",
    "no_uncached_measured": "no image's from-scratch build time is in the data",
    "no_allowance": "the scenario names no compute allowance (sponsor budget or quota)",
    "no_image_sizes": "the data hold no image sizes",
    "no_fork_pipelines": "the scenario has no fork pipelines",
}
#: ``no_strategy``, per claim: which strategies are missing.
MISSING_STRATEGY = {
    "kaniko-doubles-storage": "kaniko or dind is not in this scenario",
    "dind-exceeds-quota": "dind is not in this scenario",
    "no-cache-burns-compute": "no-cache or dind is not in this scenario",
    "forks-rebuild-from-scratch": "kaniko, dind or no-cache is not in this scenario",
    "kaniko-reproducible-memory": "the data hold no image sizes",
}

QUOTA_HINGE = ("whether GitLab counts the container registry toward an enforced quota at "
               "all: its storage docs (storage_usage_quotas, 2025) leave the registry out of "
               "the limit, so nothing is exceeded today unless enforcement returns; and, if "
               "it does, at what size and under which accounting (GitLab reports bytes "
               "deduplicated across the whole namespace, which can be less than the sum "
               "of each repository's size modelled here).")

#: The measurement that settles the --reproducible claim.
REPRODUCIBLE_MEASURE = ("the peak RSS of one --reproducible kaniko build of {image} "
                        "(e.g. /usr/bin/time -v around the executor, or the pod's "
                        "memory high-water mark)")
#: What --reproducible does to kaniko's cache.
REPRODUCIBLE_REWRITES = ("--reproducible rewrites every layer (timestamps stripped), so "
                         "kaniko's cache layers no longer share digests with the image's")

Words = dict[str, str]


def _reason(c: Mapping[str, Any]) -> str:
    reason = str(c.get("reason") or "")
    return MISSING_STRATEGY.get(str(c.get("id")), "") if reason == "no_strategy" \
        else REASON_TEXT.get(reason, reason.replace("_", " "))


def _cannot(c: Mapping[str, Any], hinge: str, figure: str = "") -> Words:
    why = _reason(c)
    return {"sentence": f"These data cannot tell: {why}.", "figure": figure or why,
            "hinges_on": hinge}


# --------------------------------------------------------------------------- storage


def policy_text(policy: Mapping[str, Any] | None) -> str:
    """'keep 1, delete older than 14 days', or 'none'."""
    if not policy:
        return "none"
    parts = ([f"keep {policy['keep_n']:g}"] if policy.get("keep_n") is not None else []) + (
        [f"delete older than {policy['older_than_days']:g} days"]
        if policy.get("older_than_days") is not None else [])
    return ", ".join(parts) or "none"


def cleanup_text(details: Mapping[str, Any]) -> str:
    """'the cleanup each needs (kaniko: keep 1, delete older than 14 days; dind: none)',
    from the policies as run (else the label the model was given)."""
    policies = details.get("cleanup_policies")
    if isinstance(policies, Mapping) and policies:
        return "the cleanup each needs (" + "; ".join(
            f"{short}: {policy_text(p)}" for short, p in policies.items()) + ")"
    return str(details.get("cleanup_label") or details.get("cleanup") or "the cleanup it needs")


def _storage_hinge(d: Mapping[str, Any]) -> str:
    base = ("how long kaniko's cache tags stay: --cache-ttl (336 h) only makes older "
            "entries misses and deletes nothing, so without a cleanup policy on the cache "
            "repository every image change leaves its cache layers tagged")
    split = d.get("digest_split")
    if not split or d.get("accounting") != "root-namespace-dedup":
        return base + "."
    ends = [f"{split[key]:.1f}× if {word}" for word, key in
            (("shared", "shared"), ("not shared", "not_shared")) if split.get(key) is not None]
    return (f"{base}; and, under deduplicated accounting, whether kaniko's cache "
            f"layers share digests with the image's layers (inferred from kaniko's "
            f"build.go, untested; drawn shared in {100 * split['share_shared']:.0f}% of "
            f"samples): with the cleanup, {' and '.join(ends)}. To settle it, push one "
            f"kaniko build and compare its cache and image layer digests.")


def storage_words(c: Mapping[str, Any]) -> Words:
    """``kaniko-doubles-storage``: judged for the patch as written (no cleanup policy),
    then what the cleanup each strategy needs would change."""
    d = c.get("details") or {}
    hinge = _storage_hinge(d)
    if c.get("reason"):
        return _cannot(c, hinge)
    ratios, h, acc = d["ratios"], d["horizon_months"], d["accounting"]
    cleanup = cleanup_text(d)

    def line(a: str) -> str:
        r = ratios[a]
        parts = []
        if "day0" in r:
            parts.append(f"{times_text(r['day0'])} on day 0")
        if "without_cleanup" in r:
            parts.append(f"{times_text(r['without_cleanup'])} at month {h} without a cleanup")
        parts.append(f"{times_text(r['with_cleanup'])} with {cleanup}")
        return f"{ACCOUNTING_LABEL[a]}: " + ", ".join(parts)

    other = [a for a in ACCOUNTINGS if a != acc][0]
    figure = (f"kaniko's registry against dind's — {line(acc)}; {line(other)}. At month "
              f"{h}: kaniko {number_text(d['kaniko_gib_without_cleanup']['p50'])} GiB "
              f"without a cleanup, {number_text(d['kaniko_gib']['p50'])} GiB with it; dind "
              f"{number_text(d['dind_gib']['p50'])} GiB.")
    main = ratios[acc]
    without, with_c = main.get("without_cleanup", main["with_cleanup"]), main["with_cleanup"]
    w, k = f"{without['p50']:.1f}×", f"{with_c['p50']:.1f}×"
    as_written = "for the patch as written (it sets no cleanup policy)"
    sentence = {
        "holds": f"Holds {as_written}: kaniko's registry is {w} dind's at month {h}.",
        "partly": f"Partly {as_written}: kaniko adds storage, {w} dind's at month {h}, but "
                  f"less than double.",
        "does not hold": f"Does not hold {as_written}: kaniko's registry is {w} dind's at "
                         f"month {h}.",
    }[str(c["verdict"])]
    if "without_cleanup" in main:
        sentence += (f" With {cleanup}, which the patch does not set, it would be {k}"
                     + (", below double." if with_c["p50"] < DOUBLING - 1e-9 else "."))
    return {"sentence": sentence, "figure": figure, "hinges_on": hinge}


# --------------------------------------------------------------------------- quota


def quota_words(c: Mapping[str, Any]) -> Words:
    """``dind-exceeds-quota``: against the quota when enforced, else moot today."""
    d = c.get("details") or {}
    if c.get("reason"):
        return _cannot(c, QUOTA_HINGE)
    quota, share, measured = d["quota_gib"], d.get("share_of_quota"), \
        d.get("measured_namespace_gib")
    if measured is not None:
        basis = (f"GitLab's own statistic for the namespace, read "
                 f"{d.get('measured_read_at') or 'at fetch time'}: {number_text(measured, 1)} GiB")
    else:
        other = (f" plus {number_text(d['other_usage_gib'], 1)} GiB of other usage"
                 if d.get("other_usage_gib", 0) > 0 else "")
        basis = (f"dind's registry today ({ACCOUNTING_LABEL[d['accounting']]}){other}: "
                 f"{span_text(d['used_gib'], '{:,.1f}', ' GiB')}")
    of_it = (f"{100 * share:.0f}% of it" if share is not None
             else "a 0 GiB quota is exceeded by any usage")
    q = format_quantity(quota)
    figure = f"{basis}, against a {q} GiB quota ({of_it})."
    enforced = d.get("verdict_if_enforced", c["verdict"])
    if c["verdict"] == "moot today":
        were = {"holds": "exceed it", "does not hold": "stay under it",
                "partly": "be near it"}[enforced]
        sentence = (f"Moot today: GitLab does not count the container registry toward the "
                    f"namespace's storage limit (storage_usage_quotas, 2025; this scenario "
                    f"bills no registry storage), so no quota is exceeded. Were the {q} GiB "
                    f"quota enforced, dind would {were} ({of_it}).")
    else:
        sentence = {
            "holds": f"Holds against a {q} GiB quota: the namespace holds {of_it} with dind "
                     f"alone." if share is not None else
                     "Holds: the quota is 0 GiB, and dind's registry alone exceeds it.",
            "does not hold": f"Does not hold against a {q} GiB quota: with dind the "
                             f"namespace uses {of_it}.",
            "partly": f"Partly: the {q} GiB quota lies within the range of dind's registry "
                      f"today ({of_it} at the median).",
        }[enforced]
    return {"sentence": sentence, "figure": figure, "hinges_on": QUOTA_HINGE}


# --------------------------------------------------------------------------- compute


def _compute_hinge(d: Mapping[str, Any]) -> str:
    logged, n = d.get("uncached_logged_images", 0), d.get("n_images", 0)
    estimated = d.get("uncached_measured_images", 0) - logged
    rest = n - d.get("uncached_measured_images", 0)
    parts = [f"a logged cache miss for {logged} of {n} images" if logged
             else "no image's from-scratch time is a logged cache miss"]
    if estimated > 0:
        parts.append(f"estimated for {estimated} from the slower half of their rebuilds in "
                     "the data, not measured from scratch")
    if rest > 0:
        parts.append(f"the scenario's from-scratch/cached ratio for the other {rest}")
    hinge = f"the from-scratch build times ({', '.join(parts)}) and the size of the allowance"
    if d.get("compute_mode") != "gitlab-hosted":
        hinge += ("; on the private runners, that spending grows with runner time "
                  "(compute.usd_per_runner_hour, by default the node cost over the measured "
                  "CI runner-hours, as when nodes scale with the jobs): a fixed-size cluster "
                  "would absorb the extra minutes as queueing, not cash")
    return hinge + "."


def compute_words(c: Mapping[str, Any]) -> Words:
    """``no-cache-burns-compute``: no cache's extra share of the allowance."""
    d = c.get("details") or {}
    hinge = _compute_hinge(d)
    if c.get("reason") and "minutes_multiple" not in d:
        return _cannot(c, hinge)
    minutes = (f"no cache: {times_text(d['minutes_multiple'])} the container-build runner "
               f"minutes ({number_text(d['minutes_no_cache']['p50'])} against "
               f"{number_text(d['minutes_dind']['p50'])} a month)")
    if c.get("reason"):
        return _cannot(c, hinge, minutes + ".")
    allowance = d["allowance"]
    extra = c["interval"]
    if allowance["kind"] == "quota":
        what = f"the {allowance['minutes_per_month']:,.0f}-minute monthly quota"
        of = "of the monthly quota"
        burn = (f"it takes an extra {span_text(extra, '{:,.0f}', '%')} {of} (percentage "
                f"points); minutes bought beyond it: "
                f"{format_usd(d['bought_usd_more']['p50'])}/month more")
    else:
        what = f"the ${allowance['usd_per_year']:,.0f}/year sponsor budget"
        of = "of the yearly budget"
        spend = d.get("spend_dind_usd_per_year")
        today = (f" (spending today with dind: about {format_usd(spend)}/year, the runner "
                 "nodes and the other costs the scenario charges to the budget)"
                 if spend else "")
        burn = (f"{what} would cover "
                f"{span_text(d['budget_months_no_cache'], '{:,.0f}', ' months')} of spending "
                f"instead of {d['budget_months_dind']['p50']:,.0f}{today}: an extra "
                f"{number_text(extra['p50'], 1)}% {of} (percentage points)")
    burn += f"; the project's cash: {format_usd(d['project_cash_usd_more']['p50'])}/month more"
    pct = number_text(extra["p50"], 1)
    sentence = {
        "holds": f"Holds: no cache takes an extra {pct}% {of} ({what})"
                 f"{', enough to run out of it' if d.get('exhausts') else ''}.",
        "partly": f"Partly: no cache burns {what} faster, but only by {pct}% {of}.",
        "does not hold": f"Does not hold: no cache takes only an extra {pct}% {of} ({what}).",
    }[str(c["verdict"])]
    return {"sentence": sentence, "figure": f"{minutes}; {burn}.", "hinges_on": hinge}


# --------------------------------------------------------------------------- forks


def _forks_hinge(cache_repo: str) -> str:
    return (
        "whether a fork's job can read upstream's registry (forks.reads_upstream_registry_"
        f"probability): the patch sets --cache-repo=\"{cache_repo}\", upstream's own "
        "path, so a fork's kaniko job reads upstream's cache with the same permission its "
        "dind job needs to pull upstream's latest (a public project's registry can be pulled "
        "by any job token, gitlab-org/gitlab MR 135263) and its cache pushes there are denied "
        "(kaniko only warns). Berrangé saw caching fail in his fork (qemu-devel 2024-05), "
        "while upstream's cache repository was still empty. Test: run the kaniko container "
        "job in a fork after upstream has filled its cache and count 'Using caching version "
        "of cmd' log lines.")


def _percent(p: float) -> str:
    return f"{100 * p:.0f}%"


#: The fork hypotheses' probabilities are the scenario's prior, not a measurement.
ASSUMED_NOTE = ("the probabilities are the scenario's assumption "
                "(forks.reads_upstream_registry_probability), not a measurement")


def _forks_sentence(verdict: str, ends: Mapping[str, Mapping[str, Any]]) -> str:
    """Both hypotheses with their probabilities; each one's figures when any sample
    drew it."""
    no, yes = ends["cannot_read"], ends["reads"]
    when_no = (f"if a fork's job cannot read upstream's registry (assumed "
               f"{_percent(no['probability'])}), every kaniko fork build starts from scratch")
    if no.get("wait_min") is not None:
        when_no += (f", and a contributor waits {number_text(no['wait_min'])} min (dind: "
                    f"{number_text(no['wait_dind_min'])} min)")
    when_yes = (f"if it can (assumed {_percent(yes['probability'])}), a fork that changed an image "
                "rebuilds it from the changed step on every pipeline")
    if yes.get("fork_minutes_more") is not None:
        when_yes += (f", {number_text(yes['fork_minutes_more'])} fork minutes a month more "
                     "than dind")
    lead = {"these data cannot tell": "These data cannot tell", "holds": "Holds",
            "partly": "Partly"}[verdict]
    return f"{lead}: {when_no}; {when_yes}; {ASSUMED_NOTE}."


def forks_words(c: Mapping[str, Any]) -> Words:
    """``forks-rebuild-from-scratch``: both hypotheses of whether a fork's job can read
    upstream's registry, each with its probability (never a threshold on a prior's
    percentile), and the patch's exact ``--cache-repo``."""
    d = c.get("details") or {}
    repo = str(d.get("cache_repo") or PATCH_CACHE_REPO)
    hinge = _forks_hinge(repo)
    if c.get("reason"):
        return _cannot(c, hinge)
    share, fmin = d["scratch_share_pct"], d["fork_minutes_more"]
    figure = (f"kaniko, over both hypotheses: forks' extra minutes over dind are "
              f"{span_text(share, '{:,.0f}', '%')} of what building from scratch adds; forks "
              f"spend {span_text(fmin)} more runner minutes a month than with dind, "
              f"{format_usd(d['fork_owners_cash_usd_more']['p50'])}/month more of fork "
              f"owners' cash; --cache-repo=\"{repo}\".")
    return {"sentence": _forks_sentence(str(c["verdict"]), d["hypotheses"]),
            "figure": figure, "hinges_on": hinge}


def _single_source_hinge(cache_repo: str) -> str:
    return (f"only jobs that would need two caches pay for it: with --cache-repo="
            f"\"{cache_repo}\" a fork reads upstream's cache but cannot write, so a "
            "fork that changed an image rebuilds from the changed step on every pipeline "
            "(dind also reads the fork's own tag); stable branches and upstream share one "
            "cache repository by content key and lose nothing.")


def _by_hypothesis(d: Mapping[str, Any]) -> str:
    """' (8.0 where a fork's job can read upstream's registry, 90%; 60.0 where it
    cannot, 10%)', from the hypotheses any sample drew."""
    by, prob = d.get("fork_minutes_by_hypothesis") or {}, d.get("hypothesis_probability") or {}
    parts = [f"{number_text(by[key])} where {what}"
             + (f", assumed {_percent(prob[key])}" if key in prob else "")
             for key, what in (("reads", "a fork's job can read upstream's registry"),
                               ("cannot_read", "it cannot")) if by.get(key) is not None]
    return f" ({'; '.join(parts)})" if parts else ""


def expected_over_hypotheses(d: Mapping[str, Any]) -> float | None:
    """The probability-weighted mean of the per-hypothesis figures
    (``sum(hypothesis_probability[k] * fork_minutes_by_hypothesis[k])``, min/month);
    None when a hypothesis with a positive probability has no figure."""
    by, prob = d.get("fork_minutes_by_hypothesis") or {}, d.get("hypothesis_probability") or {}
    if not prob or any(p > 0 and by.get(k) is None for k, p in prob.items()):
        return None
    return float(sum(p * by[k] for k, p in prob.items() if p > 0))


def single_source_words(c: Mapping[str, Any]) -> Words:
    """``kaniko-single-cache-source``: priced by what one cache source costs forks
    (``fork_single_cache_source_minutes_per_month``), by hypothesis."""
    d = c.get("details") or {}
    repo = str(d.get("cache_repo") or PATCH_CACHE_REPO)
    n, dind_n = d.get("kaniko_cache_sources", 1), d.get("dind_cache_sources", 2)
    fmin = c.get("interval") or {}
    priced = fmin.get("p50") is not None
    figure = (f"kaniko --cache-repo takes {n} repository (a single string, kaniko "
              f"cmd/executor/cmd/root.go), the patch's \"{repo}\"; QEMU's dind job passes "
              f"{dind_n} --cache-from.")
    if priced:
        figure += (f" A second source, the fork's own cache, would save forks a median "
                   f"of {span_text(fmin)} runner minutes a month over both hypotheses "
                   f"together{_by_hypothesis(d)}.")
    if c["verdict"] != "holds":
        sentence = f"Does not hold: this kaniko takes {n} cache sources."
    elif priced and (expected := expected_over_hypotheses(d)) is not None:
        sentence = (f"Holds: kaniko reads and writes a single cache repository; a second "
                    f"one would save forks {number_text(expected)} runner minutes a month "
                    f"in expectation{_by_hypothesis(d)}; {ASSUMED_NOTE}.")
    elif priced:
        sentence = (f"Holds: kaniko reads and writes a single cache repository; a second "
                    f"one would save forks a median of {number_text(fmin['p50'])} runner "
                    "minutes a month.")
    else:
        sentence = f"Holds: kaniko's --cache-repo takes {n} repository."
    return {"sentence": sentence, "figure": figure, "hinges_on": _single_source_hinge(repo)}


# --------------------------------------------------------------------------- --reproducible


REPRODUCIBLE_HINGE = (
    "the uncompressed/compressed size ratio of QEMU's images (assumed "
    f"{UNCOMPRESSED_RATIO[0]:g}–{UNCOMPRESSED_RATIO[2]:g}×, about "
    f"{UNCOMPRESSED_RATIO[1]:g}× for toolchain images; measure with docker image "
    "inspect's Size against the registry's layer sizes; kaniko issue 862: "
    "--reproducible holds the whole image in memory), kaniko's own working set "
    "on top of it (kaniko issue 909 saw about 15 GB for an 8 GB image, without "
    "--reproducible) and the memory limit of the runner that builds the image.")


def _reproducible_runner_words(d: Mapping[str, Any]) -> str:
    """Which runner the lower-bound peak needs at least, and its price where the data
    have one: from a lower bound, a runner can be ruled out, never shown to fit."""
    private = d.get("against") == "not_priced"
    if str(d["runner_needed"]).startswith("none"):
        need = (f"it would need more RAM than the largest hosted runner "
                f"({d['runner_needed_ram_gb']:g} GB)")
    elif private:
        need = "a runner would need at least that much RAM free for the build"
    else:
        need = (f"it would need at least the {d['runner_needed']} runner "
                f"({d['runner_needed_ram_gb']:g} GB)")
    if private:
        return (need + "; builds run on private runners, whose RAM is not in the data: "
                "whether they have it is unknown, and no runner is priced.")
    price = d["extra_cost"]
    against = (f"today's runner ({d['runner_ram_gb']:g} GB)"
               if d["against"] == "todays_runner" and d.get("runner_ram_gb")
               else "a small hosted runner (8 GB)")
    if price["p90"] is not None and price["p90"] > 0:
        return (need + f"; running kaniko's container jobs there costs at least "
                f"{format_usd(price['p50'])}/month more than on {against}.")
    return (need + f"; {against} is not ruled out, and only a measured peak shows "
            "whether the build fits it.")


def reproducible_words(c: Mapping[str, Any]) -> Words:
    """``kaniko-reproducible-memory``: cannot tell without a measured peak; names the
    measurement and what --reproducible does to kaniko's cache."""
    d = c.get("details") or {}
    if c.get("reason"):
        return _cannot(c, REPRODUCIBLE_HINGE)
    largest, peak = d["largest_image"], c["interval"]
    figure = (f"--reproducible peak at least {span_text(peak, '{:,.1f}', ' GB')} for the "
              f"largest image, {largest} ({d['largest_compressed_gib']:.2f} GiB compressed): "
              f"its uncompressed size, an estimate and only a lower bound (kaniko's own working "
              f"set comes on top); {_reproducible_runner_words(d)}")
    if c["verdict"] == "these data cannot tell":
        sentence = (f"These data cannot tell: the thread saw --reproducible builds run out "
                    f"of memory, and {largest}'s size alone (about "
                    f"{number_text(peak['p50'], 1)} GB uncompressed) is only a lower bound "
                    f"on kaniko's peak, so it cannot overrule that. Measure "
                    f"{REPRODUCIBLE_MEASURE.format(image=largest)}. Note that "
                    f"{REPRODUCIBLE_REWRITES}.")
    else:
        sentence = (f"{str(c['verdict']).capitalize()}: a --reproducible build of {largest} "
                    f"peaked at {number_text(d['peak_measured_gb'], 1)} GB (measured), "
                    f"{'more than' if c['verdict'] == 'holds' else 'within'} the "
                    f"{d['runner_ram_gb']:g} GB runner. Note that {REPRODUCIBLE_REWRITES}.")
    return {"sentence": sentence, "figure": figure, "hinges_on": REPRODUCIBLE_HINGE}


# --------------------------------------------------------------------------- all

#: The renderer of each claim.
RENDERERS: dict[str, Callable[[Mapping[str, Any]], Words]] = {
    "kaniko-doubles-storage": storage_words,
    "dind-exceeds-quota": quota_words,
    "no-cache-burns-compute": compute_words,
    "forks-rebuild-from-scratch": forks_words,
    "kaniko-single-cache-source": single_source_words,
    "kaniko-reproducible-memory": reproducible_words,
}


def claim_words(c: Mapping[str, Any]) -> Words:
    """``{"sentence", "figure", "hinges_on"}`` of one claim: its renderer's; a claim
    from older results that carries its own words (or of an unknown id) keeps them."""
    if any(k in c for k in ("sentence", "figure", "hinges_on")) \
            or str(c.get("id")) not in RENDERERS:
        return {"sentence": str(c.get("sentence") or ""), "figure": c.get("figure") or "",
                "hinges_on": str(c.get("hinges_on") or "")}
    return RENDERERS[str(c["id"])](c)
