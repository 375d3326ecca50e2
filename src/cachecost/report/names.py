"""What a reader calls the model's inputs, and their values in words.

The model names inputs by scenario key (``compute.node_cost_usd_per_year``);
a maintainer reading the report says "the runner nodes' yearly cost" (the key's
``name`` in :data:`cachecost.model.keys.KEYS`). Every page and the summaries go
through :func:`reader_name`; an input no table knows gets its key's last part in
words, so a new input still reads.

    reader_name("compute.node_cost_usd_per_year")    # "the runner nodes' yearly cost"
    format_amount(4062.0, "USD/year")               # "$4,100 a year"
"""

from __future__ import annotations

import math

from cachecost.model.keys import key_spec
from cachecost.textfmt import format_significant

#: Measured inputs (not scenario keys) -> what a reader calls them. Scenario keys carry
#: their own name (:attr:`cachecost.model.keys.Key.name`).
MEASURED_NAMES: dict[str, str] = {
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
    spec = key_spec(key)
    if spec is not None and spec.name:
        return spec.name
    if key in MEASURED_NAMES:
        return MEASURED_NAMES[key]
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
