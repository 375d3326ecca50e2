"""What a reader calls the model's inputs, and their values in words.

The model names inputs by scenario key (``compute.node_cost_usd_per_year``);
a maintainer reading the report says "the runner nodes' yearly cost". Every
page and the summaries go through :func:`reader_name`; an input the table does
not know gets its key's last part in words, so a new input still reads.

    reader_name("compute.node_cost_usd_per_year")    # "the runner nodes' yearly cost"
    format_amount(4062.0, "USD/year")               # "$4,100 a year"
"""

from __future__ import annotations

import math

from cachecost.textfmt import format_significant

#: Input key -> what a reader calls it (a noun phrase that fits "if ... rose above").
READER_NAMES: dict[str, str] = {
    "workload.upstream_pipelines_factor": "the number of upstream pipelines",
    "workload.image_changes_factor": "how often images change",
    "workload.build_minutes_factor": "build times",
    "workload.scheduled_refresh_per_month": "scheduled full rebuilds per image",
    "workload.base_image_refresh_share": "the share of rebuilds that are base-image refreshes",
    "compute.mode": "who pays for upstream runner time",
    "compute.usd_per_runner_hour": "the price of a runner hour",
    "compute.node_cost_usd_per_year": "the runner nodes' yearly cost",
    "compute.sponsor_budget_usd_per_year": "the sponsor's yearly credits",
    "compute.other_spend_usd_per_year": "other yearly spending from the sponsor's credits",
    "compute.cost_factor": "GitLab's cost factor for upstream jobs",
    "compute.container_runner_size_factor": "the container jobs' runner size factor",
    "compute.runner_size_factor": "the upstream runner size factor",
    "compute.quota_minutes_per_month": "the monthly compute-minute quota",
    "compute.usd_per_1000_minutes": "the price of 1,000 extra compute minutes",
    "forks.pipelines_per_month": "fork pipelines a month",
    "forks.owners": "the number of fork owners",
    "forks.image_change_share": "the share of fork pipelines that change an image",
    "forks.cost_factor": "GitLab's cost factor for fork jobs",
    "forks.reads_upstream_registry_probability":
        "the chance that a fork's job can read upstream's registry",
    "forks.pipelines_per_image_change": "fork pipelines that carry one image change",
    "forks.other_ci_minutes_per_pipeline": "a fork pipeline's other CI minutes",
    "forks.runner_size_factor": "the fork runner size factor",
    "forks.quota_minutes_per_month": "a fork owner's free minutes a month",
    "forks.usd_per_1000_minutes": "what a fork owner pays for 1,000 extra minutes",
    "storage.accounting": "how the registry is counted",
    "storage.usd_per_10gib_year": "the storage price",
    "storage.shadow_usd_per_10gib_year": "the trade-off rate put on registry storage",
    "storage.cleanup_policies": "each strategy's cleanup policy",
    "storage.billed_above_gib": "the free registry allowance",
    "storage.quota_gib": "the storage quota",
    "storage.other_usage_gib": "other storage in the namespace",
    "storage.cleanup_policy": "the cleanup policy",
    "storage.cleanup_what_if": "the what-if cleanup policy",
    "assumptions.changed_bytes_share": "the share of an image a change rewrites",
    "assumptions.kaniko_cache_bytes_share": "the share of an image kaniko's cache holds",
    "assumptions.kaniko_cache_ttl_hours": "kaniko's cache lifetime (--cache-ttl)",
    "assumptions.is_kaniko_layer_digest_shared":
        "whether kaniko's cache layers share digests with the image",
    "assumptions.kaniko_layer_digest_shared_probability":
        "the chance that kaniko's cache layers are the image's own layers",
    "assumptions.kaniko_full_change_share": "the share of changes that rewrite an image's first layer",
    "assumptions.kaniko_pull_extract_min_per_gib":
        "the minutes kaniko takes to pull and unpack a GiB of cache",
    "assumptions.buildkit_max_extra_bytes_share": "the extra layers BuildKit's mode=max stores",
    "assumptions.buildkit_max_change_saving_share": "what BuildKit's mode=max saves on a change",
    "assumptions.rebuild_check_minutes": "the minutes a rebuild-on-change check takes",
    "assumptions.uncached_to_cached_ratio": "how much longer an uncached build takes",
    "data.months_of_data": "the months of CI history",
    "data.ci_runner_hours_per_month": "the measured CI runner hours a month",
    "data.usd_per_runner_hour": "the price of a runner hour",
    "data.container_minutes_per_month": "the measured container-build minutes a month",
    "data.other_ci_minutes_per_month": "the measured other CI minutes a month",
}

#: Units as prose after an amount; ``None``: the amount carries the unit itself.
_UNIT_WORDS: dict[str, str] = {
    "USD/year": "a year",
    "USD/month": "a month",
    "USD/runner-hour": "a runner hour",
    "USD/(10 GiB year)": "per 10 GiB a year",
    "USD/1000 minutes": "per 1,000 minutes",
    "builds/month": "builds a month",
    "pipelines/month": "a month",
    "minutes/month": "minutes a month",
    "runner-hours/month": "runner hours a month",
    "GiB": "GiB",
    "hours": "hours",
    "minutes": "minutes",
    "months": "months",
    "namespaces": "",
}


def reader_name(key: str) -> str:
    """What a reader calls an input: ``"forks.owners" -> "the number of fork owners"``.

    Unknown keys read as their last part in words (``data.x.merge_request_event`` ->
    ``"merge request event"``); measured ``data.upstream_pipelines_per_month.<source>``
    reads "upstream <source> pipelines a month".
    """
    if key in READER_NAMES:
        return READER_NAMES[key]
    if key.startswith("data.upstream_pipelines_per_month."):
        source = key.rsplit(".", 1)[1].replace("_event", "").replace("_", " ")
        return f"upstream {source} pipelines a month"
    return key.rsplit(".", 1)[-1].replace("_", " ")


def format_amount(value: float, unit: str | None, digits: int = 2) -> str:
    """An input's value with its unit in words, rounded for prose.

    ``(4062, "USD/year") -> "$4,100 a year"``, ``(1.48, "x") -> "1.5×"``,
    ``(0.25, "share") -> "25%"``, ``(60, "USD/(10 GiB year)") -> "$60 per 10 GiB a year"``.
    """
    if value is None or not math.isfinite(float(value)):
        return "-"
    unit = unit or ""
    if unit == "x":
        return f"{format_significant(value, digits)}×"
    if unit == "share":
        return f"{format_significant(100 * value, digits)}%"
    if unit.startswith("USD"):
        words = _UNIT_WORDS.get(unit, unit[len("USD"):].lstrip("/"))
        sign = "-" if value < 0 else ""
        return f"{sign}${format_significant(abs(value), digits)} {words}".rstrip()
    words = _UNIT_WORDS.get(unit, unit)
    return f"{format_significant(value, digits)} {words}".rstrip()
