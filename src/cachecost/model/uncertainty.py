"""Calibration uncertainty inside the Monte Carlo: what the measured sample allows.

Each image's calibrated minutes are means of a few hundred measured builds, and
its change rate rests on a handful of events. :func:`build_bank` draws
``BANK_SIZE`` replicates of every image's calibration once per run:

* **Build minutes: a bootstrap.** Resample the image's measured builds with
  replacement (each class separately: the cached builds t_hit is the mean of,
  the rebuild class t_change is the mean of, the logged misses or the rebuild
  class's upper half t_miss is the mean of) and recompute the means (Efron &
  Tibshirani 1993, ch. 6). A class of n builds costs R*n draws; above
  ``MAX_BOOTSTRAP_DRAWS`` the bootstrap mean is drawn from its normal limit,
  ``mean + sd/sqrt(n) * z`` (the central limit theorem the bootstrap converges to).
* **Change rate: a Gamma-Poisson posterior.** n rebuild events in T months of a
  Poisson process. With n >= 1 the prior ``p(c) ~ 1/c`` gives
  ``Gamma(shape = n, rate = T)``, whose mean is the measured rate n/T (the measured
  rate stays the centre); an image never rebuilt in the window (n = 0) takes
  Jeffreys' prior ``p(c) ~ c^(-1/2)``, ``Gamma(1/2, T)``: mean 0.5/T and an upper
  tail instead of exactly 0 (Gelman et al., Bayesian Data Analysis, 3rd ed., §2.6).

**Centred on the measurement.** Each image's replicates of a column are scaled by
``point / mean(replicates)`` (build minutes, and the change rate when n >= 1), so
the bank's mean is the measured value exactly: the only Monte Carlo error left in
an expected cost is that of picking replicates, which falls as 1/sqrt(samples).
Without it, ``BANK_SIZE`` replicates leave an error of sd/sqrt(2,000) (±1-2 % of an
image's expected change rate) that no number of samples lowers.

Each Monte Carlo sample then picks one replicate per image, independently
(:func:`draw_replicates`, shape (K, I)). An input a scenario overrides for an
image is kept as given in every replicate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cachecost.model.calibrate import Calibration, ImageSamples, upper_half

BANK_SIZE = 2000
#: Above this many draws (R x n) a class's bootstrap mean uses its normal limit.
MAX_BOOTSTRAP_DRAWS = 4_000_000
#: The bank's columns: calibration columns that vary between replicates.
BANK_COLUMNS = ("cached_build_min", "change_build_min", "uncached_build_min",
                "changes_per_month")


@dataclass
class CalibrationBank:
    """``columns[name]``: (I, R) replicates of a calibration column (images in the
    calibration's order)."""

    columns: dict[str, np.ndarray]
    size: int


def bootstrap_means(values: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` bootstrap replicates of the mean of ``values`` (NaN when empty).

    Example: values [1, 3]: each replicate is the mean of two draws with
    replacement, 1, 2 or 3 with probabilities 1/4, 1/2, 1/4.
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        return np.full(size, np.nan)
    if n == 1:
        return np.full(size, v[0])
    if size * n > MAX_BOOTSTRAP_DRAWS:
        return v.mean() + v.std() / np.sqrt(n) * rng.standard_normal(size)
    return np.asarray(v[rng.integers(0, n, (size, n))].mean(axis=1))


def _bootstrap_upper_half_means(values: np.ndarray, rng: np.random.Generator,
                                size: int) -> np.ndarray:
    """Replicates of 'mean of the upper half' of the rebuild class."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        return np.full(size, np.nan)
    if size * n > MAX_BOOTSTRAP_DRAWS:
        return bootstrap_means(upper_half(v), rng, size)
    draws = np.sort(v[rng.integers(0, n, (size, n))], axis=1)
    return np.asarray(draws[:, n // 2:].mean(axis=1))


def change_rate_posterior(events: float, months: float, rng: np.random.Generator,
                          size: int) -> np.ndarray:
    """Draws of a change rate (per month): ``Gamma(events, rate = months)`` (mean
    events/months, the measured rate) for events >= 1, ``Gamma(1/2, months)`` for none.

    Example: 3 events in 6 months: mean 0.5/month, sd sqrt(3)/6 = 0.29; none in 6
    months: mean 1/12 = 0.083/month."""
    return rng.gamma(events if events >= 1 else 0.5, 1.0 / months, size)


def centred(replicates: np.ndarray, point: float) -> np.ndarray:
    """``replicates`` scaled so that their mean is ``point`` exactly (unchanged when
    either is not finite and positive). Example: [1, 3] centred on 2.2: [1.1, 3.3]."""
    mean = float(np.mean(replicates)) if len(replicates) else float("nan")
    if not (np.isfinite(point) and point > 0 and np.isfinite(mean) and mean > 0):
        return replicates
    return np.asarray(replicates * (point / mean))


def _image_replicates(samples: ImageSamples | None, row: dict[str, float], months: float,
                      rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    """One image's replicates of every bank column."""
    if samples is None:
        return {c: np.full(size, row[c]) for c in BANK_COLUMNS}
    miss = (bootstrap_means(samples.miss, rng, size) if len(samples.miss)
            else _bootstrap_upper_half_means(samples.rebuild, rng, size))
    return {
        "cached_build_min": bootstrap_means(samples.hit, rng, size),
        "change_build_min": bootstrap_means(samples.rebuild, rng, size),
        "uncached_build_min": miss,
        "changes_per_month": change_rate_posterior(row["change_events"], months, rng, size),
    }


def build_bank(cal: Calibration, rng: np.random.Generator, size: int = BANK_SIZE
               ) -> CalibrationBank:
    """Draw ``size`` replicates of every image's uncertain calibration columns."""
    overridden = set(cal.overridden)
    cols: dict[str, list[np.ndarray]] = {c: [] for c in BANK_COLUMNS}
    for image, row in cal.images.iterrows():
        values = {c: float(row[c]) for c in (*BANK_COLUMNS, "change_events")}
        reps = _image_replicates(cal.samples.get(str(image)), values, cal.months_of_data,
                                 rng, size)
        for c in BANK_COLUMNS:
            keep = (image, c) in overridden
            cols[c].append(np.full(size, values[c]) if keep else centred(reps[c], values[c]))
    return CalibrationBank({c: np.vstack(v) if v else np.zeros((0, size))
                            for c, v in cols.items()}, size)


def draw_replicates(bank: CalibrationBank, n_images: int, rng: np.random.Generator,
                    samples: int) -> np.ndarray:
    """One replicate index per sample and image, shape (K, I)."""
    return rng.integers(0, bank.size, (samples, n_images))
