"""Turn GitLab's JSON values into dataset values (timestamps, seconds, ids).

    parse_time("2025-08-25T10:00:00.123Z")   # Timestamp('2025-08-25 10:00:00.123000+0000')
"""

from __future__ import annotations

import math

import pandas as pd


def parse_time(value: str | None) -> pd.Timestamp:
    """Parse an ISO 8601 time from the API as UTC; None becomes NaT."""
    if value is None:
        return pd.NaT
    return pd.Timestamp(value).tz_convert("UTC")


def seconds(value: float | int | None) -> float:
    """A duration in seconds as float; None (running, skipped, pending) becomes NaN."""
    return math.nan if value is None else float(value)


def format_time(ts: pd.Timestamp) -> str:
    """Render a UTC timestamp for a query parameter (``2025-08-25T10:00:00Z``)."""
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timing_columns(item: dict) -> dict:
    """The time and duration columns jobs and pipelines share, from one API item."""
    return {
        "created_at": parse_time(item.get("created_at")),
        "started_at": parse_time(item.get("started_at")),
        "finished_at": parse_time(item.get("finished_at")),
        "duration_s": seconds(item.get("duration")),
        "queued_duration_s": seconds(item.get("queued_duration")),
    }
