"""Plain-text formatting of sizes and durations, shared by every text output."""

from __future__ import annotations

import math

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_bytes(n: float | None) -> str:
    """Return a size in binary units: ``format_bytes(1536) == '1.5 KiB'``."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "-"
    value = float(n)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_duration(seconds: float | None) -> str:
    """Return a duration as ``1h02m``, ``12m05s`` or ``42s``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    s = round(float(seconds))
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def round_significant(x: float, digits: int = 2) -> float:
    """Round to ``digits`` significant figures: ``round_significant(117357.5) == 120000.0``,
    ``round_significant(4062, 3) == 4060.0``, ``round_significant(0.7338, 2) == 0.73``."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def format_significant(x: float, digits: int = 2) -> str:
    """A number for prose, ``digits`` significant figures, thousands separated, no float
    noise: ``117357.5 -> '120,000'``, ``1.4823 -> '1.5'``, ``0.0734 -> '0.073'``."""
    v = round_significant(float(x), digits)
    if abs(v) >= 10 ** (digits - 1) or v == int(v):
        return f"{v:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(v))))
    return f"{v:,.{decimals}f}".rstrip("0").rstrip(".")
