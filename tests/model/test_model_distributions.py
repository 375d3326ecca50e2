"""Distributions: exact quantiles agree with sampling; bad forms are rejected."""

from __future__ import annotations

import numpy as np
import pytest

from cachecost.model.distributions import parse_distribution

FORMS = [
    {"uniform": {"low": 2.0, "high": 6.0}},
    {"triangular": {"low": 10.0, "mode": 40.0, "high": 150.0}},
    {"lognormal": {"p10": 20.0, "p90": 200.0}},
]


@pytest.mark.parametrize("form", FORMS, ids=lambda f: next(iter(f)))
def test_quantiles_match_samples(form):
    d = parse_distribution(form)
    x = d.sample(np.random.default_rng(3), 200_000)
    for q in (0.1, 0.5, 0.9):
        assert np.quantile(x, q) == pytest.approx(d.quantile(q), rel=0.02)


def test_lognormal_is_given_by_its_p10_and_p90():
    d = parse_distribution({"lognormal": {"p10": 20.0, "p90": 200.0}})
    assert d.quantile(0.1) == pytest.approx(20.0)
    assert d.quantile(0.9) == pytest.approx(200.0)
    assert d.median == pytest.approx((20 * 200) ** 0.5)


def test_fixed_forms():
    assert parse_distribution(3).is_fixed
    assert parse_distribution({"fixed": 3.5}).sample(np.random.default_rng(0), 4).tolist() == \
        [3.5] * 4


@pytest.mark.parametrize("bad", [
    "ten", True, None, [1, 2], {"normal": {"mean": 1}}, {"uniform": {"low": 1}},
    {"uniform": {"low": 3, "high": 1}}, {"triangular": {"low": 1, "mode": 5, "high": 3}},
    {"lognormal": {"p10": 0, "p90": 3}}, {"lognormal": {"p10": 5, "p90": 3}}, -1,
])
def test_bad_forms_raise(bad):
    with pytest.raises(ValueError):
        parse_distribution(bad)


def test_bounds():
    with pytest.raises(ValueError, match="<= 1"):
        parse_distribution({"uniform": {"low": 0.5, "high": 1.5}}, maximum=1.0)
    with pytest.raises(ValueError, match="<= 1"):
        parse_distribution({"lognormal": {"p10": 0.1, "p90": 0.5}}, maximum=1.0)
