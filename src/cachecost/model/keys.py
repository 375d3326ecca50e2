"""Every scenario key: kind, default, unit, meaning, the default's dated citation, what a
reader calls it, how to measure it, and a plausible range with its reason.

One table serves the loader (:mod:`cachecost.model.scenario`), the value of information
(how to measure, :mod:`cachecost.model.voi`) and every page and summary (reader names,
:func:`cachecost.report.names.reader_name`); ``tests/model/test_model_scenario.py``
checks each key is complete. ``docs/model.md`` documents the same table.

    KEYS["compute"]["node_cost_usd_per_year"].name     # "the runner nodes' yearly cost"
    key_spec("storage.usd_per_10gib_year").maximum     # 6000 (USD per 10 GiB a year)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_ASSUMED = "cachecost assumption, no public figure (2026-11-27)"
#: GitLab combines a discount with the runner's factor by the minimum (docs/model.md §2).
_COST_FACTOR_RB = ("GitLab ee/lib/gitlab/ci/minutes/cost_factor.rb apply_discount, "
                   "'discounts so take the lowest value' (gitlab-org/gitlab issue 351933, 2022)")

# Why a key's plausible range ends where it does (Key.range_reason), shared by several keys.
_SHARE = "a share: 0 to 1 by definition"
_PROB = "a probability: 0 to 1 by definition"
_FACTOR = ("a multiplier of what the data measured: 100 times the project's measured load is"
    " beyond where the model's calibration from that data holds")
_MONEY_YEAR = ("ten million dollars a year is far beyond what any open-source project spends"
    " on its CI")
_MINUTES_PRICE = ("GitLab sells 1,000 extra minutes for $10 (2025); a hundred times that is beyond "
    "any price it has published")
_STORAGE_PRICE = ("GitLab's storage add-on costs $60 a year per pack, sold as \"10 GB\" and "
    "counted as 10 GiB (2022); a hundred times that is beyond any price it has published")
_GITLAB_FACTOR = ("GitLab's published cost and runner-size factors run from 0.008 (public forks) to"
    " 12 (2xlarge Linux runners), compute_minutes.md 2025")
_QUOTA_MIN = ("ten million minutes a month is 200 times GitLab's largest plan quota (Ultimate, "
    "50,000), community_programs.md 2025")
_NAMESPACE_MIN = ("a billion minutes a month is about 23,000 jobs running day and night (a month"
    " has 43,830 minutes): beyond any namespace's CI; a group of hundreds of busy projects"
    " can pass ten million")
_GIB = "a pebibyte (1,048,576 GiB) is beyond any GitLab namespace's registry"


@dataclass(frozen=True)
class Key:
    """One scenario key: its kind, default, unit, meaning, the default's citation, what a
    reader calls it, how to measure it, and for numbers a plausible range with its reason.

    The range is checked when a scenario loads: a value outside it is refused with one
    line naming the file and the key (a price of 1e308 is an error, not a result).
    A new key gives everything after ``doc`` by keyword::

        "new_key": Key("dist", 1.0, "x", "what it means", "its source, 2026",
                       maximum=10, range_reason="why 10", name="what readers call it",
                       measure="how to measure it"),

    Kinds: ``dist`` (a distribution), ``dist?`` (a distribution or null),
    ``number?`` (a number or null), ``int``, ``enum``, ``bool``, ``cleanup?``
    (null or ``{keep_n: N, older_than_days: D}`` with GitLab's allowed values),
    ``cleanups`` (``{strategy: cleanup? }``), ``kinds`` (a list of money kinds).
    """

    kind: str
    default: Any
    unit: str
    doc: str
    citation: str | None = None
    minimum: float | None = 0.0
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    #: What a reader calls the input (a noun phrase that fits "if ... rose to").
    name: str = ""
    #: How to measure it (or why it is a choice, not a measurement).
    measure: str = ""
    #: The same for a scenario that answers no thread (``thread: none``), where
    #: :attr:`measure` names QEMU's project or paths; "" where it names none. Every other
    #: text of a key (``doc``, ``name``, ``range_reason``) is worded for any project: only
    #: :attr:`citation` names QEMU, where QEMU's figure is the default's source.
    neutral_measure: str = ""
    #: Why the plausible range [minimum, maximum] ends where it does.
    range_reason: str = ""

    @property
    def is_number(self) -> bool:
        """True for a key whose value is a number or a distribution of numbers."""
        return self.kind in ("dist", "dist?", "number?")

    @property
    def is_hard_maximum(self) -> bool:
        """True when no value may exceed the maximum by definition (a share or a
        probability, at most 1), so a lognormal, whose draws are unbounded, is refused;
        else the maximum bounds the values a scenario states (a lognormal's p10 and p90):
        a coefficient of variation or extra bytes as a share of the image may pass 1, and
        their plausible maximum is no definition."""
        return self.unit in ("share", "probability") and self.maximum is not None \
            and self.maximum <= 1.0


#: Every key a scenario may hold, by section. ``docs/model.md`` documents the same table.
KEYS: dict[str, dict[str, Key]] = {
    "workload": {
        "upstream_pipelines_factor": Key(
            "dist", 1.0, "x", "multiplies the measured upstream pipelines per month",
            name="the number of upstream pipelines",
            measure="fetch a longer span of upstream pipelines (more months, including a "
                    "soft-freeze)",
            maximum=100,
            range_reason=_FACTOR),
        "image_changes_factor": Key(
            "dist", {"lognormal": {"p10": 0.432, "p90": 1.728}}, "x",
            "multiplies the image changes (rebuilds) per month drawn from each image's "
            "posterior: how the future differs from the measured window (mean 1, so the "
            "expected rate stays the measured one; a factor of 4 from p10 to p90)",
            _ASSUMED,
            name="how often images change",
            measure="count the changes of each image's inputs over a longer window: git log "
                    "on tests/docker/dockerfiles and tests/lcitool since 2023 (cachecost "
                    "fetch with more months of pipelines)",
            neutral_measure="count the changes of each image's inputs over a longer window: "
                            "git log on its Dockerfile and build context (cachecost fetch "
                            "with more months of pipelines)",
            maximum=100,
            range_reason=_FACTOR),
        "base_image_refresh_share": Key(
            "dist", {"uniform": {"low": 0.0, "high": 0.5}}, "share",
            "share of measured rebuilds caused by a new base image, not an input change "
            "(rebuild-on-change leaves them out: they overwrite the same hash tag)",
            _ASSUMED, maximum=1.0,
            name="the share of rebuilds that are base-image refreshes",
            measure="compare the image-change dates with the base images' (docker.io debian,"
                    " fedora) publication dates",
            range_reason=_SHARE),
        "build_minutes_factor": Key(
            "dist", 1.0, "x", "multiplies every measured build time",
            name="build times",
            measure="fetch more container-job durations (a longer span of pipelines)",
            maximum=100,
            range_reason=_FACTOR),
        "scheduled_refresh_per_month": Key(
            "dist", 4.35, "builds/month",
            "forced full rebuilds per image under rebuild-on-change (weekly)",
            "QEMU weekly-container-builds, PULL 2025-11-17",
            name="scheduled full rebuilds per image",
            measure="read the schedules of qemu-project/qemu (Settings > CI/CD > Schedules)",
            neutral_measure="read the project's pipeline schedules (Settings > CI/CD > "
                            "Schedules)",
            maximum=744,
            range_reason="744 is an hourly rebuild (24 x 31 days), more often than any "
                         "schedule would run"),
        "monthly_minutes_cv": Key(
            "dist", 0.0, "share",
            "how much a calendar month's compute minutes vary around the mean month "
            "(coefficient of variation: sd / mean); GitLab bills each month's minutes over "
            "the quota, so busy months cost more than quiet months save (a lognormal month "
            "multiplier of mean 1, docs/model.md §2); applies to the namespace's and to fork "
            "owners' quotas; default: measured from the data's full calendar months (0 with "
            "fewer than 3: every month the mean, the bill of the mean month)",
            "GitLab doc ci/pipelines/compute_minutes.md, 2025: usage 'is tracked on a "
            "monthly basis', reset to 0 on the first of the month; the default is measured",
            maximum=10.0,
            range_reason="the coefficient of variation of n months is at most sqrt(n), all "
                         "of the CI in one month (3.46 for 12 months, 10 for 100); CI "
                         "minutes of a project with steady development vary by a few tens "
                         "of percent",
            name="the month-to-month spread of the CI minutes",
            measure="fetch a longer span of pipelines (12 or more full calendar months) and "
                    "read the calibration's month-to-month spread; or read the namespace's "
                    "monthly compute usage on its Usage Quotas page"),
    },
    "compute": {
        "mode": Key("enum", "private-runners", "", "who pays for upstream runner time",
                    choices=("private-runners", "gitlab-hosted"),
            name="who pays for upstream runner time",
            measure="read who pays for the upstream runners: the project's own (private) "
                    "runners or GitLab's hosted ones (Settings > CI/CD > Runners)"),
        "usd_per_runner_hour": Key(
            "dist?", None, "USD/runner-hour",
            "private runners: price of one job-hour; null = node_cost_usd_per_year divided "
            "by the measured CI runner-hours",
            name="the price of a runner hour",
            measure="divide a month's runner-node invoice by the CI runner-hours of that month",
            maximum=100,
            range_reason="hosted runners cost cents to a few dollars an hour (GitLab, 2025);"
                         " $100 an hour is beyond any CI runner"),
        "node_cost_usd_per_year": Key(
            "dist", {"triangular": {"low": 2250, "mode": 2625, "high": 3000}}, "USD/year",
            "private runners: yearly cost of the runner nodes that run all CI jobs",
            "Bonzini and Berrange, qemu-devel 2023-06-28",
            name="the runner nodes' yearly cost",
            measure="ask for a full year of the runner nodes' invoices (cluster nodes only, "
                    "without the control-plane overhead)",
            maximum=1e7,
            range_reason=_MONEY_YEAR),
        "sponsor_budget_usd_per_year": Key(
            "number?", 10000.0, "USD/year", "sponsor credits per year (null: none)",
            "Bonzini, qemu-devel 2023-06-28",
            name="the sponsor's yearly credits",
            measure="ask the sponsor (Microsoft's open source programme, via the QEMU "
                    "leadership) for this year's credits",
            neutral_measure="ask the sponsor for this year's credits",
            maximum=1e7,
            range_reason=_MONEY_YEAR),
        "other_spend_usd_per_year": Key(
            "number?", 2500.0, "USD/year",
            "other spending from the same budget (cluster overhead)",
            "Bonzini, qemu-devel 2023-06-28, AKS overhead estimate",
            name="other yearly spending from the sponsor's credits",
            measure="read the cloud account's yearly bill without the runner nodes (cluster "
                    "control plane, storage, network)",
            maximum=1e7,
            range_reason=_MONEY_YEAR),
        "cost_factor": Key(
            "dist?", 0.5, "x",
            "gitlab-hosted: GitLab's discount factor for the project's jobs (GitLab for Open "
            "Source program, public project: 0.5; null: no discount). GitLab bills the lower "
            "of it and the runner's size factor, never their product",
            _COST_FACTOR_RB + ", PUBLIC_OPEN_SOURCE_PLAN = 0.5; compute_minutes.md 2025",
            name="GitLab's discount factor for upstream jobs",
            measure="compare the namespace's Usage Quotas page (minutes charged) with the "
                    "summed job durations of the same month",
            maximum=20,
            range_reason=_GITLAB_FACTOR),
        "runner_size_factor": Key(
            "dist", 1.0, "x",
            "gitlab-hosted: size factor of the runner upstream's other CI jobs use (small 1, "
            "medium 2, large 3, xlarge 6, 2xlarge 12)",
            "GitLab doc ci/pipelines/compute_minutes.md, 2025",
            name="the upstream runner size factor",
            measure="read the runner tags of the upstream jobs "
                    "(saas-linux-small/medium-amd64)",
            maximum=20,
            range_reason=_GITLAB_FACTOR),
        "container_runner_size_factor": Key(
            "dist?", None, "x",
            "gitlab-hosted: size factor of the runner the container-build jobs use (null: "
            "runner_size_factor, the runner of every other job)",
            "GitLab doc ci/pipelines/compute_minutes.md, 2025; hosted_runners/linux.md 2024",
            name="the container jobs' runner size factor",
            measure="read the runner tags of the container jobs "
                    "(saas-linux-small/medium/large-amd64)",
            maximum=20,
            range_reason=_GITLAB_FACTOR),
        "quota_minutes_per_month": Key(
            "number?", 50000.0, "minutes/month", "gitlab-hosted: monthly compute quota",
            "GitLab doc subscriptions/community_programs.md, 2025",
            name="the monthly compute-minute quota",
            measure="read the namespace's Usage Quotas page (Pipelines tab: the monthly "
                    "compute quota)",
            maximum=1e7,
            range_reason=_QUOTA_MIN),
        "other_usage_minutes_per_month": Key(
            "number?", 0.0, "minutes/month",
            "gitlab-hosted: compute minutes the rest of the root namespace (its other "
            "projects) uses each month against the same quota, billed (job minutes times "
            "their cost factors, as GitLab counts them); they draw on the quota first, "
            "this project's minutes see what is left",
            "GitLab doc ci/pipelines/compute_minutes.md, 2025: each job's minutes are "
            "'added to the count of used units in the job's top-level namespace'",
            name="the rest of the namespace's compute minutes",
            measure="read the namespace's Usage Quotas page (Pipelines tab: compute usage by"
                    " project) and add up the other projects' minutes of a month",
            maximum=1e9,
            range_reason=_NAMESPACE_MIN),
        "usd_per_1000_minutes": Key(
            "dist", 10.0, "USD/1000 minutes", "gitlab-hosted: price of minutes over the quota",
            "GitLab compute-minutes purchase doc, 2025; gitaly#3109, 2020",
            name="the price of 1,000 extra compute minutes",
            measure="read the current price of additional compute minutes on GitLab's "
                    "pricing page",
            maximum=1000,
            range_reason=_MINUTES_PRICE),
    },
    "forks": {
        "pipelines_per_month": Key(
            "dist", {"triangular": {"low": 10, "mode": 40, "high": 150}}, "pipelines/month",
            "fork pipelines that run the container stage (not in the upstream data)", _ASSUMED,
            name="fork pipelines a month",
            measure="list qemu-project/qemu's forks (GET /projects/:id/forks) and count "
                    "their pipelines that ran the container stage over a month",
            neutral_measure="list the project's forks (GET /projects/:id/forks) and count "
                            "their pipelines that ran the container stage over a month",
            maximum=1e6,
            range_reason="a million fork pipelines a month (about 23 a minute) is beyond any"
                         " GitLab project"),
        "owners": Key(
            "dist", {"triangular": {"low": 5, "mode": 15, "high": 40}}, "namespaces",
            "fork owners those pipelines spread over (each has its own quota)", _ASSUMED,
            name="the number of fork owners",
            measure="count the distinct namespaces of those fork pipelines",
            maximum=1e6,
            range_reason="a million fork namespaces is beyond any GitLab project's forks"),
        "image_change_share": Key(
            "dist", {"uniform": {"low": 0.0, "high": 0.05}}, "share",
            "share of fork pipelines that change a given image's inputs", _ASSUMED,
            maximum=1.0,
            name="the share of fork pipelines that change an image",
            measure="in those fork pipelines, count the ones whose commits touch "
                    "tests/docker/dockerfiles or tests/lcitool",
            neutral_measure="in those fork pipelines, count the ones whose commits touch an "
                            "image's Dockerfile or build context",
            range_reason=_SHARE),
        "cost_factor": Key(
            "dist?", 0.008, "x",
            "GitLab's discount factor for fork jobs (public fork of a public OSS-program "
            "project: 0.008; null: no discount); billed: the lower of it and the fork "
            "runner's size factor",
            _COST_FACTOR_RB + ", OPEN_SOURCE_CONTRIBUTION = 0.008 (gitlab-org/gitlab issue "
            "352830, 2022); compute_minutes.md 2025",
            name="GitLab's discount factor for fork jobs",
            measure="compare a fork's Usage Quotas page with its summed job durations",
            maximum=20,
            range_reason=_GITLAB_FACTOR),
        "runner_size_factor": Key(
            "dist", 1.0, "x", "runner size factor of fork jobs",
            "GitLab doc ci/pipelines/compute_minutes.md, 2025",
            name="the fork runner size factor",
            measure="read the runner tags of fork container jobs",
            maximum=20,
            range_reason=_GITLAB_FACTOR),
        "reads_upstream_registry_probability": Key(
            "dist", 0.9, "probability",
            "probability that a fork's job can read upstream's registry (dind pulling "
            "upstream's latest, kaniko reading upstream's $NAME-cache: the same permission); "
            "each Monte Carlo sample draws yes/no",
            "a public project's registry can be pulled by any job token (gitlab-org/gitlab MR "
            "135263, 2023) and QEMU's fork jobs --cache-from upstream's latest today "
            "(container-template.yml, 2025); against: Berrange, qemu-devel 2024-05, caching "
            "failed in his fork, while upstream's cache repository was still empty "
            "[inference] (shared/reference/domain-facts.md §3)",
            name="whether a fork's job can read upstream's registry",
            measure="run the container job in a fork after upstream has filled its cache "
                    "repository and count 'Using caching version of cmd' against 'No cached "
                    "layer found' log lines (kaniko), or look for CACHED steps pulled from "
                    "upstream's latest (dind)",
            maximum=1.0,
            range_reason=_PROB),
        "pipelines_per_image_change": Key(
            "dist", {"triangular": {"low": 1, "mode": 3, "high": 10}}, "pipelines",
            "fork pipelines that carry one image change (its first and every later one "
            "until it is merged or dropped): kaniko rebuilds from the changed step in each, "
            "dind only in the first", _ASSUMED, minimum=1.0,
            name="fork pipelines that carry one image change",
            measure="in the forks' pipelines, count the pipelines from a commit touching "
                    "tests/docker/dockerfiles until the change is merged or dropped",
            neutral_measure="in the forks' pipelines, count the pipelines from a commit "
                            "touching an image's Dockerfile until the change is merged or "
                            "dropped",
            maximum=1e4,
            range_reason="ten thousand pipelines for one change is beyond any review cycle"),
        "other_ci_minutes_per_pipeline": Key(
            "dist?", None, "minutes/pipeline",
            "runner minutes of a fork pipeline's other (non-container) jobs, which draw on "
            "the fork owner's quota first; null: upstream's measured other CI minutes per "
            "pipeline (a fork runs the same .gitlab-ci.yml)",
            "measured upstream pipelines (the dataset); QEMU forks run the same jobs when "
            "QEMU_CI is set (container-template.yml rules, 2025; shared/reference/"
            "domain-facts.md §5)",
            name="a fork pipeline's other CI minutes",
            measure="sum the non-container job durations of fork pipelines (cachecost fetch "
                    "with forks)",
            maximum=1e6,
            range_reason="a million runner minutes (694 days) per pipeline is beyond any CI"),
        "quota_minutes_per_month": Key(
            "number?", 400.0, "minutes/month", "a fork owner's free monthly quota",
            "GitLab pricing page 2026",
            name="a fork owner's free minutes a month",
            measure="read GitLab's pricing page for the Free tier's monthly compute minutes",
            maximum=1e7,
            range_reason=_QUOTA_MIN),
        "usd_per_1000_minutes": Key(
            "dist", 10.0, "USD/1000 minutes", "price a fork owner pays over the quota",
            "GitLab compute-minutes purchase doc, 2025",
            name="what a fork owner pays for 1,000 extra minutes",
            measure="read the current price of additional compute minutes on GitLab's "
                    "pricing page",
            maximum=1000,
            range_reason=_MINUTES_PRICE),
    },
    "storage": {
        "accounting": Key(
            "enum", "root-namespace-dedup", "",
            "how registry bytes are counted: per-tag sums or GitLab.com's root-namespace dedup",
            "GitLab doc reduce_container_registry_storage.md, 2024-25",
            choices=("per-tag", "root-namespace-dedup"),
            name="how the registry is counted",
            measure="read the namespace's Usage Quotas page: GitLab.com reports the registry"
                    " deduplicated per root namespace"),
        "usd_per_10gib_year": Key(
            "dist", 60.0, "USD/(10 GiB year)",
            "price of storage above billed_above_gib: a year of one pack, which GitLab sells "
            "as \"10 GB\" and counts as 10 GiB (10,240 MiB; docs/model.md)",
            "gitlab-org/gitlab commit 980d1376, 2022",
            name="the storage price",
            measure="read the current storage add-on price on GitLab's pricing page",
            maximum=6000,
            range_reason=_STORAGE_PRICE),
        "billed_above_gib": Key(
            "number?", None, "GiB",
            "cash: namespace GiB above this are bought as annual 10 GiB packs sized for the "
            "peak; null = registry storage not billed",
            "GitLab doc storage_usage_quotas.md, 2025: registry not in the limit",
            name="the free registry allowance",
            measure="read the namespace's plan and Usage Quotas page for the storage "
                    "included before packs are bought",
            maximum=1_048_576,
            range_reason=_GIB),
        "shadow_usd_per_10gib_year": Key(
            "dist?", None, "USD/(10 GiB year)",
            "shadow price: an explicit trade-off rate per registry GiB (prorated), never "
            "charged to a budget; null = none",
            "trade-off rate, not a bill: GitLab.com does not bill the registry "
            "(storage_usage_quotas.md 2025)",
            name="the trade-off rate put on registry storage",
            measure="a choice of trade-off rate, not a measurement: agree it among the "
                    "maintainers",
            maximum=6000,
            range_reason=_STORAGE_PRICE),
        "quota_gib": Key(
            "number?", None, "GiB", "namespace storage quota (null: none)",
            "none enforced for the registry, storage_usage_quotas.md 2025",
            name="the storage quota",
            measure="read the namespace's Usage Quotas page for an enforced storage limit",
            maximum=1_048_576,
            range_reason=_GIB),
        "other_usage_gib": Key(
            "number?", 0.0, "GiB", "other namespace usage counted against the same quota",
            name="other storage in the namespace",
            measure="read the namespace's Usage Quotas page (storage used by everything but "
                    "this registry)",
            maximum=1_048_576,
            range_reason=_GIB),
        "cleanup_policy": Key(
            "cleanup?", None, "",
            "one cleanup policy for every strategy that piles up tags: {keep_n, "
            "older_than_days}; null = each strategy's own (docs/model.md §3)",
            "GitLab app/models/container_expiration_policy.rb",
            name="the cleanup policy",
            measure="read the project's cleanup policy (Settings > Packages and registries >"
                    " Cleanup policies)"),
        "cleanup_policies": Key(
            "cleanups", None, "",
            "per-strategy cleanup policy {strategy: {keep_n, older_than_days} or null}; "
            "null = no cleanup (growth shown as a risk, months to quota)",
            name="each strategy's cleanup policy",
            measure="read the project's cleanup policy (Settings > Packages and registries >"
                    " Cleanup policies)"),
        "cleanup_what_if": Key(
            "cleanup?", {"keep_n": 5, "older_than_days": 14}, "",
            "cleanup policy for the what-if curve; 14 days = kaniko's cache TTL, older "
            "entries are misses anyway", "kaniko --cache-ttl default 336 h, cmd/executor/cmd/root.go",
            name="the what-if cleanup policy",
            measure="a choice of what-if policy, not a measurement"),
    },
    "assumptions": {
        "changed_bytes_share": Key(
            "dist", {"uniform": {"low": 0.5, "high": 1.0}}, "share",
            "share of an image's bytes rewritten by a change (new layers after the changed "
            "step)", f"{_ASSUMED}; kaniko keys change for every later layer",
            maximum=1.0,
            name="the share of an image a change rewrites",
            measure="skopeo inspect an image's tag before and after a Dockerfile change and "
                    "sum the sizes of the layers whose digests changed",
            range_reason=_SHARE),
        "kaniko_cache_bytes_share": Key(
            "dist", {"triangular": {"low": 0.7, "mode": 0.85, "high": 0.95}}, "share",
            "share of an image's bytes in RUN layers (what kaniko's cache repo holds)",
            _ASSUMED, maximum=1.0,
            name="the share of an image kaniko's cache holds",
            measure="push one kaniko build to a scratch project and compare its cache and "
                    "image layer digests and sizes",
            range_reason=_SHARE),
        "kaniko_cache_ttl_hours": Key(
            "dist", 336.0, "hours", "kaniko --cache-ttl: older entries are misses, not deleted",
            "kaniko cmd/executor/cmd/root.go, 2025",
            name="kaniko's cache lifetime (--cache-ttl)",
            measure="set by the job's --cache-ttl flag (default 336 h): a choice, not a "
                    "measurement",
            maximum=87600,
            range_reason="ten years (87,600 h); kaniko's default is 336 h, two weeks"),
        "kaniko_layer_digest_shared_probability": Key(
            "dist", 0.8, "probability",
            "probability that kaniko's cache layers share digests with the image's layers "
            "(then free under root-namespace dedup); each Monte Carlo sample draws yes/no",
            "inference from kaniko build.go, untested", maximum=1.0,
            name="the chance that kaniko's cache layers are the image's own layers",
            measure="push one kaniko build with --cache-repo to a scratch project and "
                    "compare the cache repository's layer digests with the image's (skopeo "
                    "inspect --raw)",
            range_reason=_PROB),
        "kaniko_full_change_share": Key(
            "dist", {"uniform": {"low": 0.5, "high": 1.0}}, "share",
            "share of changes that rewrite an image's first cached layer (the rest leave "
            "early layers to expire by the TTL from their own push)", _ASSUMED, maximum=1.0,
            name="the share of changes that rewrite an image's first layer",
            measure="in kaniko build logs after image changes, count the builds whose first "
                    "RUN step missed the cache",
            range_reason=_SHARE),
        "kaniko_pull_extract_min_per_gib": Key(
            "dist", {"triangular": {"low": 0.3, "mode": 0.6, "high": 1.5}}, "minutes/GiB",
            "kaniko cache hit: minutes to pull and extract a GiB of cached layers (a "
            "measured kaniko_hit_build_min override replaces it)",
            f"{_ASSUMED}; kaniko pkg/commands/run.go CachingRunCommand extracts each layer",
            name="the minutes kaniko takes to pull and unpack a GiB of cache",
            measure="time one all-hit kaniko build of a large image and divide the time "
                    "beyond the dind cached build by the cached GiB",
            maximum=60,
            range_reason="an hour per GiB is slower than any registry pull and layer "
                         "extraction"),
        "buildkit_max_extra_bytes_share": Key(
            "dist", {"uniform": {"low": 0.0, "high": 0.3}}, "share",
            "mode=max: intermediate-stage layers per cache ref, as a share of the image",
            "Docker registry cache docs [inference]",
            name="the extra layers BuildKit's mode=max stores",
            measure="build emsdk-wasm32-cross with --cache-to type=registry,mode=max and "
                    "compare the cache manifest's layer sizes with the image's",
            neutral_measure="build a multi-stage image with --cache-to "
                            "type=registry,mode=max and compare the cache manifest's layer "
                            "sizes with the image's",
            maximum=10,
            range_reason="intermediate stages ten times the image's size would be an image "
                         "build of its own"),
        "buildkit_max_change_saving_share": Key(
            "dist", {"uniform": {"low": 0.0, "high": 0.3}}, "share",
            "mode=max: share of a change rebuild saved by cached intermediate stages",
            _ASSUMED, maximum=1.0,
            name="what BuildKit's mode=max saves on a change",
            measure="time a rebuild of a multi-stage image after a change with and without a"
                    " mode=max cache",
            range_reason=_SHARE),
        "rebuild_check_minutes": Key(
            "dist", {"triangular": {"low": 0.3, "mode": 0.5, "high": 1.0}}, "minutes",
            "rebuild-on-change: a job that only checks the registry for its tag", _ASSUMED,
            name="the minutes a rebuild-on-change check takes",
            measure="time a job that only runs skopeo inspect on the image's hash tag",
            maximum=60,
            range_reason="a registry lookup (skopeo inspect) takes seconds; an hour is "
                         "beyond any check job"),
        "uncached_to_cached_ratio": Key(
            "dist", 3.0, "x", "full/cached build time for an image whose data show no rebuild",
            "debian-hexagon-cross 3 vs 9 min, QEMU commit b9052d36, 2022",
            name="how much longer an uncached build takes",
            measure="run each container job once with docker build --no-cache and compare "
                    "with its cached duration",
            maximum=100,
            range_reason="an uncached build a hundred times the cached one is beyond any "
                         "container image (the default's source measured 3x)"),
    },
}

KEYS["decision"] = {
    "weighs": Key(
        "kinds", ["project_cash", "shadow", "fork_owners_cash"], "",
        "the kinds of money the recommendation adds up: project_cash (runner time, "
        "minutes over a quota, storage packs), shadow (the storage shadow price), "
        "fork_owners_cash (what fork owners pay)",
            name="the kinds of money the decision weighs",
            measure="a choice of what the decision weighs, not a measurement"),
}

MONEY_KINDS = ("project_cash", "shadow", "fork_owners_cash")

_BUILD_MIN = ("a day (1,440 minutes) is beyond any container build; GitLab.com's hosted "
              "runners stop a job after 3 hours")
_PER_MONTH = "a hundred thousand a month (over two a minute) is beyond any image's CI"
#: Per-image values calibration derives; a scenario may override each (``"*"``: every
#: image), within a plausible range from 0 to a maximum: name -> (maximum, reason).
OVERRIDE_RANGES: dict[str, tuple[float, str]] = {
    "cached_build_min": (1440.0, _BUILD_MIN),
    "uncached_build_min": (1440.0, _BUILD_MIN),
    "change_build_min": (1440.0, _BUILD_MIN),
    "builds_per_month": (1e5, _PER_MONTH),
    "changes_per_month": (1e5, _PER_MONTH),
    "compressed_size_gib": (1024.0, "a TiB compressed is beyond any CI image"),
    "tags_kept": (1e6, "a million tags is beyond any registry repository GitLab lists"),
    "run_steps": (1000.0, "a Dockerfile of a thousand steps is beyond any image (overlay "
                          "storage allows 128 layers)"),
    "failed_min_per_month": (1e6, "a million minutes a month is beyond any project's CI"),
    "is_multi_stage": (1.0, "a yes/no: 0 or 1"),
    "kaniko_hit_build_min": (1440.0, _BUILD_MIN),
}
OVERRIDABLE = tuple(OVERRIDE_RANGES)



def key_spec(dotted: str) -> Key | None:
    """The :class:`Key` of ``"section.key"``; None for anything else (a measured input)."""
    section, _, key = dotted.partition(".")
    return KEYS.get(section, {}).get(key)
