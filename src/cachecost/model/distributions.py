"""Probability distributions for uncertain model inputs.

A scenario states an uncertain input as a plain number (fixed) or as one of::

    {fixed: 60}
    {uniform: {low: 0.6, high: 1.0}}
    {triangular: {low: 20, mode: 60, high: 200}}
    {lognormal: {p10: 20, p90: 200}}      # median = sqrt(p10 * p90)

:func:`parse_distribution` turns that YAML value into a :class:`Distribution`,
raising :class:`ValueError` with the expected form on bad input (the scenario
loader adds the file and key). Every distribution samples vectorized from a
:class:`numpy.random.Generator`, and knows its exact p10/p50/p90 (the tornado
swings each input between them)::

    d = parse_distribution({"triangular": {"low": 1, "mode": 2, "high": 4}})
    d.sample(np.random.default_rng(7), 100_000)      # ndarray of shape (100000,)
    d.quantile(0.9)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

#: The forms a distribution may take in YAML, for error messages.
EXPECTED_FORM = (
    "a number, or one of {fixed: X}, {uniform: {low: A, high: B}}, "
    "{triangular: {low: A, mode: M, high: B}}, {lognormal: {p10: A, p90: B}}"
)

_Z90 = NormalDist().inv_cdf(0.9)   # 1.2816: the p90 of a standard normal


@dataclass(frozen=True)
class Distribution:
    """One distribution: its kind and parameters (see the module docstring)."""

    kind: str
    params: tuple[float, ...]

    @property
    def is_fixed(self) -> bool:
        """True when the input is a single value (no uncertainty)."""
        return self.kind == "fixed" or len(set(self.params)) == 1

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Return ``n`` draws as a float64 array."""
        p = self.params
        if self.kind == "fixed":
            return np.full(n, p[0], dtype=float)
        if self.kind == "uniform":
            return rng.uniform(p[0], p[1], n) if p[1] > p[0] else np.full(n, p[0], dtype=float)
        if self.kind == "triangular":
            if p[2] == p[0]:
                return np.full(n, p[0], dtype=float)
            return rng.triangular(p[0], p[1], p[2], n)
        mu, sigma = self._lognormal_mu_sigma()
        return rng.lognormal(mu, sigma, n) if sigma > 0 else np.full(n, math.exp(mu))

    def quantile(self, q: float) -> float:
        """Return the exact ``q`` quantile (0 < q < 1)."""
        p = self.params
        if self.kind == "fixed":
            return float(p[0])
        if self.kind == "uniform":
            return float(p[0] + q * (p[1] - p[0]))
        if self.kind == "triangular":
            a, c, b = p
            if b == a:
                return float(a)
            f = (c - a) / (b - a)
            if q < f:
                return float(a + math.sqrt(q * (b - a) * (c - a)))
            return float(b - math.sqrt((1 - q) * (b - a) * (b - c)))
        mu, sigma = self._lognormal_mu_sigma()
        return float(math.exp(mu + sigma * NormalDist().inv_cdf(q)))

    @property
    def median(self) -> float:
        """The p50."""
        return self.quantile(0.5)

    @property
    def mean(self) -> float:
        """The expected value: fixed X; uniform (A + B)/2; triangular (A + M + B)/3;
        lognormal exp(mu + sigma^2/2) (mu, sigma from p10 and p90), e.g. p10 0.5,
        p90 2: median 1, mean 1.157."""
        p = self.params
        if self.kind == "fixed":
            return float(p[0])
        if self.kind in ("uniform", "triangular"):
            return float(sum(p) / len(p))
        mu, sigma = self._lognormal_mu_sigma()
        return float(math.exp(mu + 0.5 * sigma * sigma))

    def describe(self) -> str:
        """Return a short human form, e.g. ``triangular(20, 60, 200)``."""
        args = ", ".join(f"{x:g}" for x in self.params)
        if self.kind == "fixed":
            return args
        if self.kind == "lognormal":
            return f"lognormal(p10={self.params[0]:g}, p90={self.params[1]:g})"
        return f"{self.kind}({args})"

    def to_json(self) -> float | dict:
        """Return the value as it would appear in YAML (a number when fixed)."""
        if self.kind == "fixed":
            return float(self.params[0])
        names = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high"),
                 "lognormal": ("p10", "p90")}[self.kind]
        return {self.kind: dict(zip(names, map(float, self.params), strict=True))}

    def _lognormal_mu_sigma(self) -> tuple[float, float]:
        p10, p90 = self.params
        mu = 0.5 * (math.log(p10) + math.log(p90))
        sigma = (math.log(p90) - math.log(p10)) / (2 * _Z90)
        return mu, sigma


def fixed(value: float) -> Distribution:
    """Return a fixed (certain) input."""
    return Distribution("fixed", (float(value),))


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return float(value)


def _fields(body: object, kind: str, names: tuple[str, ...]) -> tuple[float, ...]:
    if not isinstance(body, dict) or set(body) != set(names):
        form = "{" + ", ".join(f"{n}: X" for n in names) + "}"
        raise ValueError(f"expected {{{kind}: {form}}}, got {{{kind}: {body!r}}}")
    return tuple(_number(body[n], f"{kind}.{n}") for n in names)


def _uniform(body: object) -> Distribution:
    lo, hi = _fields(body, "uniform", ("low", "high"))
    if lo > hi:
        raise ValueError(f"uniform low ({lo:g}) > high ({hi:g})")
    return Distribution("uniform", (lo, hi))


def _triangular(body: object) -> Distribution:
    lo, mode, hi = _fields(body, "triangular", ("low", "mode", "high"))
    if not lo <= mode <= hi:
        raise ValueError(f"triangular needs low <= mode <= high, got {lo:g}, {mode:g}, {hi:g}")
    return Distribution("triangular", (lo, mode, hi))


def _lognormal(body: object) -> Distribution:
    p10, p90 = _fields(body, "lognormal", ("p10", "p90"))
    if p10 <= 0:
        raise ValueError(f"lognormal p10 must be > 0, got {p10:g}")
    if p10 > p90:
        raise ValueError(f"lognormal p10 ({p10:g}) > p90 ({p90:g})")
    return Distribution("lognormal", (p10, p90))


_KINDS = {"fixed": lambda body: fixed(_number(body, "fixed")), "uniform": _uniform,
          "triangular": _triangular, "lognormal": _lognormal}


def _parse_form(value: object) -> Distribution:
    """The distribution a YAML value states (bounds not checked)."""
    if isinstance(value, bool):
        raise ValueError(f"expected {EXPECTED_FORM}, got {value!r}")
    if isinstance(value, int | float):
        return fixed(_number(value, "value"))
    if not (isinstance(value, dict) and len(value) == 1):
        raise ValueError(f"expected {EXPECTED_FORM}, got {value!r}")
    kind, body = next(iter(value.items()))
    if kind not in _KINDS:
        raise ValueError(f"expected {EXPECTED_FORM}, got unknown kind {kind!r}")
    return _KINDS[kind](body)


def parse_distribution(value: object, *, minimum: float | None = 0.0,
                       maximum: float | None = None) -> Distribution:
    """Parse a YAML value into a :class:`Distribution`.

    ``minimum``/``maximum`` bound every value the distribution can take
    (default: non-negative). Raises ValueError naming the expected form.
    """
    dist = _parse_form(value)
    low = dist.params[0]                       # lognormal: p10 > 0, its support starts above 0
    high = dist.params[-1] if dist.kind != "lognormal" else math.inf
    if minimum is not None and low < minimum:
        raise ValueError(f"values must be >= {minimum:g}, got {dist.describe()}")
    if maximum is not None and high > maximum:
        raise ValueError(f"values must be <= {maximum:g}, got {dist.describe()}")
    return dist
