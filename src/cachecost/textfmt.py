"""Plain-text formatting of numbers, money, sizes and durations: the one home.

Every text output (the model CLI, summary.txt, the site's index and figures,
the report's prose) formats through these functions, so a figure reads the
same everywhere. Unknown values (None, NaN, infinities, non-numbers) print as
``'-'`` (``format_pct``: ``'n/a'``).

Money rule: whole dollars from $10 up, cents below (``format_usd(43.01) ==
'$43'``, ``format_usd(2.345) == '$2.35'``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
#: From this many dollars up, money prints in whole dollars (below: cents).
WHOLE_DOLLARS_FROM_USD = 9.995   # 9.995 rounds to $10.00, printed as $10


def finite(x: Any) -> float | None:
    """Return ``x`` as a float, or None when missing, not a number or not finite."""
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def format_usd(x: Any) -> str:
    """``1234.5 -> '$1,234'``, ``43.01 -> '$43'``, ``-2.345 -> '-$2.35'``; ``'-'`` when unknown.

    Whole dollars from $10 up, cents below.
    """
    v = finite(x)
    if v is None:
        return "-"
    a = abs(v)
    body = f"{a:,.0f}" if a >= WHOLE_DOLLARS_FROM_USD else f"{a:,.2f}"
    sign = "-" if v < 0 and body.strip("0.") else ""
    return f"{sign}${body}"


def format_signed_usd(x: Any) -> str:
    """Like :func:`format_usd` with an explicit ``+`` for positive values (``'+$12'``)."""
    text = format_usd(x)
    return text if text.startswith("-") or text == "$0.00" else "+" + text


def format_pct(x: Any) -> str:
    """A signed percentage from percent points: ``51.2 -> '+51%'``, ``-3 -> '-3%'``."""
    v = finite(x)
    if v is None:
        return "n/a"
    r = round(v)
    return f"{r:+d}%" if r != 0 else "0%"


def format_quantity(x: Any) -> str:
    """A plain number for people: ``117357.5 -> '117,358'``, ``0.73385 -> '0.7339'``."""
    v = finite(x)
    if v is None:
        return "-" if x is None else str(x)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def format_share(x: Any) -> str:
    """A share 0..1 as a percentage: ``0.0044 -> '0.4%'``, ``0.25 -> '25%'``,
    ``0.997 -> '99.7%'``; never 100 % or 0 % for a share that is not exactly 1 or 0:
    ``0.99955 -> 'more than 99.9%'``, ``0.0004 -> 'less than 0.1%'``."""
    v = finite(x)
    if v is None:
        return "-"
    pct = 100 * v
    if 0 < pct < 0.05:
        return "less than 0.1%"
    if 99.95 <= pct < 100:
        return "more than 99.9%"
    if 99.5 <= pct < 100:
        return f"{pct:.1f}%"
    return f"{pct:.1f}%" if abs(pct) < 10 and round(pct, 1) != round(pct) else f"{pct:.0f}%"


def format_number(x: Any, decimals: int = 0) -> str:
    """Thousands-separated number (``1234.5, 1 -> '1,234.5'``), ``'-'`` when unknown."""
    v = finite(x)
    return "-" if v is None else f"{v:,.{decimals}f}"


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


def times_text(q: Mapping[str, Any]) -> str:
    """'6.1x (p10-p90 4.8-7.9x)' for a ratio's quantiles."""
    if q["p50"] is None:
        return "n/a"
    if abs(q["p90"] - q["p10"]) < 0.05:
        return f"{q['p50']:.1f}×"
    return f"{q['p50']:.1f}× (p10–p90 {q['p10']:.1f}–{q['p90']:.1f}×)"


def number_text(v: float | None, digits: int = 0) -> str:
    """A number for a sentence: thousands separated, 1 decimal below 100 (n/a for None)."""
    if v is None:
        return "n/a"
    if digits == 0 and abs(v) >= 100:
        return f"{v:,.0f}" if abs(v) < 10_000 else f"{round(v, -2):,.0f}"
    return f"{v:,.{max(digits, 1)}f}" if abs(v) < 100 else f"{v:,.0f}"


def span_text(q: Mapping[str, Any], fmt: str = "{:,.0f}", unit: str = "") -> str:
    """'15,500 min (p10-p90 12,000-19,000)'."""
    if q["p50"] is None:
        return "n/a"
    mid = fmt.format(q["p50"]) + unit
    if q["p10"] == q["p90"]:
        return mid
    return f"{mid} (p10–p90 {fmt.format(q['p10'])}–{fmt.format(q['p90'])})"
