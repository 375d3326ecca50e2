"""Rules more than one stage applies, each written once.

* :func:`is_cache_repository`: which registry repository holds build cache
  (the GitLab fetch's ``registry_repositories.is_cache_repository`` column and
  the registry scan's summary both call it);
* :func:`tie_resolution_usd`: the smallest monthly difference the model
  reports as a difference (the model's recommendation and summary.txt both
  call it).

The default data directory of a fetch is :func:`cachecost.config.default_data_dir`;
money and number formatting is :mod:`cachecost.textfmt`.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

#: Cache repositories, as shell patterns on the full repository path (``*``
#: spans ``/``). ``*-cache``: a dedicated ``$NAME-cache`` repository (QEMU since
#: May 2024); ``*/cache``: kaniko's default ``--cache-repo``, ``<destination>/cache``
#: (kaniko pkg/cache/cache.go ``Destination``); ``cache``, ``cache/*`` and
#: ``*/cache/*``: a ``cache`` path component anywhere, as in
#: ``--cache-repo $CI_REGISTRY_IMAGE/cache/$NAME`` (``qemu/cache/debian``).
DEFAULT_CACHE_PATTERNS: tuple[str, ...] = ("*-cache", "*/cache", "cache", "cache/*",
                                           "*/cache/*")

#: A margin below this share of the cost compared (or :data:`TIE_FLOOR_USD`) is a tie.
TIE_SHARE = 0.02
#: The smallest tie threshold, USD per month.
TIE_FLOOR_USD = 1.0


def is_cache_repository(path: str, patterns: Sequence[str] = DEFAULT_CACHE_PATTERNS) -> bool:
    """True when registry repository ``path`` holds build cache.

    ``path`` is the repository path without registry host or tag
    (``qemu-project/qemu/qemu/debian-cache``); it matches when any of
    ``patterns`` (shell patterns, :func:`fnmatch.fnmatchcase`) matches the
    whole path. ``qemu/debian-cache``, ``app/cache`` and ``qemu/cache/debian``
    are caches; ``qemu/debian``, ``qemu/cachecost`` and ``qemu/cache-tools/x``
    are not.
    """
    return any(fnmatchcase(path, pattern) for pattern in patterns)


def tie_resolution_usd(cost_usd_per_month: float) -> float:
    """Smallest monthly difference (USD) the model reports as a difference.

    ``max(TIE_FLOOR_USD, TIE_SHARE * |cost|)``: $1/month, or 2% of the cost
    compared when that is larger (``tie_resolution_usd(400) == 8.0``). Monte
    Carlo medians of paired differences move by less than this between seeds.
    """
    return max(TIE_FLOOR_USD, TIE_SHARE * abs(cost_usd_per_month))
