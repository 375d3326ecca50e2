"""Each rule has one home (issue 10): cache repositories, tie threshold, money format."""

from __future__ import annotations

import math

import pytest

from cachecost import rules, textfmt
from cachecost.collect.oci import summary as oci_summary
from cachecost.config import RAW_DATA_DIR, default_data_dir
from cachecost.model import decide
from cachecost.report import flips as report_flips
from cachecost.report import site, summary


@pytest.mark.parametrize(("path", "is_cache"), [
    ("qemu/debian-cache", True),               # QEMU's $NAME-cache (May 2024)
    ("qemu-project/qemu/qemu/debian/cache", True),   # kaniko's default <destination>/cache
    ("qemu/cache/debian", True),               # a cache/ path component
    ("cache/debian", True),
    ("qemu/debian", False),
    ("qemu/cachecost", False),
    ("qemu/cache-tools/x", False),
    ("qemu/my-cache-x", False),
])
def test_cache_repository_rule(path: str, is_cache: bool) -> None:
    assert rules.is_cache_repository(path) is is_cache
    assert oci_summary.is_cache_repository is rules.is_cache_repository


def test_tie_resolution_is_one_dollar_or_two_percent() -> None:
    # hand-worked: 2% of $400 is $8 > $1; 2% of $30 is $0.60 < $1
    assert rules.tie_resolution_usd(400.0) == pytest.approx(8.0)
    assert rules.tie_resolution_usd(-400.0) == pytest.approx(8.0)
    assert rules.tie_resolution_usd(30.0) == 1.0
    assert decide.tie_resolution_usd is rules.tie_resolution_usd
    assert report_flips.tie_resolution_usd is rules.tie_resolution_usd


@pytest.mark.parametrize(("usd", "text"), [
    (43.01, "$43"), (1234.5, "$1,234"), (9.994, "$9.99"), (9.996, "$10"),
    (-2.345, "-$2.35"), (0.0, "$0.00"), (-0.001, "$0.00"), (None, "-"), (math.nan, "-"),
    ("x", "-"),
])
def test_money_has_one_rounding(usd: object, text: str) -> None:
    assert textfmt.format_usd(usd) == text


def test_every_text_output_formats_money_with_textfmt() -> None:
    from cachecost.commands import model as model_cli
    assert summary.format_usd is textfmt.format_usd
    assert site.format_usd is textfmt.format_usd
    assert model_cli.format_usd is textfmt.format_usd
    assert textfmt.format_signed_usd(43.01) == "+$43"
    assert textfmt.format_signed_usd(-43.01) == "-$43"


@pytest.mark.parametrize(("url", "host_dir"), [
    ("https://gitlab.com", "gitlab.com"),
    ("https://GitLab.example.org/", "gitlab.example.org"),
    ("http://127.0.0.1:8080", "127.0.0.1_8080"),
    ("https://user@host.example:8443/gitlab", "host.example_8443"),
])
def test_default_data_dir_has_no_colon(url: str, host_dir: str) -> None:
    assert default_data_dir(url, "/g/p/") == RAW_DATA_DIR / host_dir / "g" / "p"
