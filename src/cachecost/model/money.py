"""What minutes and GiB cost, kept apart by who pays and whether it is a bill.

Three kinds of money (``results.json`` names each):

* **project cash** (``project_cash_usd_per_month``): what the project pays -
  runner time on private runners, compute minutes over the hosted quota, and
  storage packs when the registry counts against a quota;
* **shadow** (``shadow_storage_usd_per_month``): an explicit trade-off rate per
  registry GiB, labelled as such and never charged to a budget (GitLab.com does
  not bill the registry today);
* **fork owners' cash** (``fork_owners_cash_usd_per_month``): minutes over each
  fork owner's own quota.

Contributors' waiting time is kept in minutes (:mod:`cachecost.model.wait`).

Formulas (sources in ``docs/model.md`` §2)::

    billed factor     f = min(runner size factor, discount factor)    (no discount: the size)
    private runners   cost = M_up * usd_per_runner_minute
    gitlab-hosted     q = M_up * f_containers;  q_o = other minutes * f_other + N
                      (N: the rest of the root namespace's billed minutes; the quota
                      is the namespace's, compute_minutes.md 2025)
                      cost = (E[max(0, (q + q_o) M - quota)] - E[max(0, q_o M - quota)])
                             * usd_per_1000 / 1000
    forks             q_f = M_fork * f_fork / owners;  q_fo = other fork CI minutes * f_fork / owners
                      cost = owners * (E[max(0, (q_f + q_fo) M - quota)]
                                       - E[max(0, q_fo M - quota)]) * usd_per_1000 / 1000
    storage packs     packs = ceil(max(0, P + O - A) / 10) - ceil(max(0, O - A) / 10)
                      cash  = packs * usd_per_10gib_year / 12        (annual packs, not prorated)
    shadow            P * usd_per_10gib_year / 120                   (GiB-month at the rate)

**Months vary; the quota resets each month.** GitLab counts compute minutes per calendar
month against the namespace's monthly quota (doc/ci/pipelines/compute_minutes.md 2025:
"Usage is tracked on a monthly basis. On the first day of the month the usage is 0 for
that month for all namespaces"; a month's minutes over the quota are the bill), so the bill is the *mean over months* of
``max(0, month's minutes - quota)``, not ``max(0, mean month - quota)``: max(0, .) is
convex, so busy months cost more than quiet months save (Jensen). Each Monte Carlo
sample's minutes ``T`` are a mean month; a month is ``T * M`` with ``M`` lognormal of mean
1 and coefficient of variation ``cv`` (``workload.monthly_minutes_cv``, measured from the
data's full calendar months, :func:`cachecost.model.calibrate.monthly_minutes_cv`),
``sigma^2 = ln(1 + cv^2)``. Then (the lognormal call expectation, Black & Scholes 1973,
with the forward price ``T`` and the strike ``K`` = quota)::

    E[max(0, T M - K)] = T Phi(d1) - K Phi(d2),
    d1 = (ln(T / K) + sigma^2 / 2) / sigma,   d2 = d1 - sigma

(:func:`expected_monthly_overage`; ``cv = 0`` gives ``max(0, T - K)`` exactly). The same
``M`` scales the project's and the rest of the namespace's minutes (one month, one
multiplier: a busy month is busy across the namespace). Fork owners' quotas reset monthly
too and their months vary at least as much as upstream's (one person's activity is
burstier than a project's), so their bill takes the same expectation with the same
measured ``cv``: a lower bound on their spread, where no spread at all would be none.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import ndtr

from cachecost.model.drivers import Arr

#: GitLab's discounts by kind (ee/lib/gitlab/ci/minutes/cost_factor.rb:
#: PUBLIC_OPEN_SOURCE_PLAN, OPEN_SOURCE_CONTRIBUTION; gitlab-org/gitlab issues 351933 and
#: 352830, 2022; doc/ci/pipelines/compute_minutes.md 2025).
DISCOUNT_KINDS: dict[str, float] = {"oss-program": 0.5, "public-fork-of-oss-program": 0.008}


def billed_cost_factor(runner_size_factor: Arr, discount_factor: Arr | None) -> np.ndarray:
    """The cost factor GitLab bills a job at: the lower of the runner's size factor and
    the project's discount (``cost_factor.rb`` ``apply_discount``: "Exceptions to the
    cost per runner are designed to be discounts so take the lowest value",
    ``cost_factors.min``); no discount (None): the size factor.

    Example: an OSS-program project (0.5) on a large runner (3): min(3, 0.5) = 0.5, the
    same as on a small one (min(1, 0.5)); a public fork of it (0.008) on a medium
    runner (2): 0.008. A product would bill 1.5 and 0.016."""
    size = np.asarray(runner_size_factor, dtype=float)
    return size if discount_factor is None else np.minimum(size, discount_factor)


def discount_kind(discount_factor: float | None) -> str:
    """The discount a factor is (:data:`DISCOUNT_KINDS`), ``"none"``, or ``"custom"``."""
    if discount_factor is None:
        return "none"
    return next((k for k, v in DISCOUNT_KINDS.items() if v == discount_factor), "custom")


#: GitLab sells storage in packs for a year (gitlab commit 980d1376, 2022;
#: subscriptions/gitlab_com/_index.md 2025: they renew yearly). It names a pack "10 GB"
#: but counts in binary units: the purchased size is kept in megabytes and compared, as
#: ``additional_purchased_storage_size.megabytes`` (x 1,048,576), with the namespace's bytes
#: (ee/app/models/namespaces/storage/root_size.rb), so a pack is 10 GiB (docs/model.md).
PACK_GIB = 10.0
PACK_MONTHS = 12.0


def expected_monthly_overage(mean_minutes: Arr, quota: float, cv: Arr) -> np.ndarray:
    """Expected minutes over a monthly quota when a month's minutes are ``mean_minutes``
    (shape (k,) or scalar, minutes/month, >= 0) times a lognormal multiplier of mean 1
    and coefficient of variation ``cv`` (>= 0, scalar or per sample): ``T Phi(d1) - K
    Phi(d2)`` (module docstring; Black & Scholes 1973). Where ``cv = 0``, or with no quota
    (``quota <= 0``): exactly ``max(0, T - K)`` (with no quota every minute is billed, and
    the mean of ``T M`` is ``T``). Vectorised: one ``ndtr`` call per term, no loop over
    samples.

    Example: T = K = 1,000, cv = 0.1: sigma = 0.09975, d1 = 0.04988, d2 = -0.04988,
    1000 * 0.51989 - 1000 * 0.48011 = 39.8 minutes where the mean month bills none."""
    total = np.maximum(np.asarray(mean_minutes, dtype=float), 0.0)
    flat = np.maximum(0.0, total - quota)
    cv = np.asarray(cv, dtype=float)
    if quota <= 0.0 or not np.any(cv > 0.0):
        return np.asarray(flat)
    sigma = np.sqrt(np.log1p(np.where(cv > 0.0, cv, 1.0) ** 2))   # 1: a placeholder
    with np.errstate(divide="ignore"):              # T = 0: ln 0 = -inf, Phi(-inf) = 0
        d1 = (np.log(total / quota) + sigma * sigma / 2.0) / sigma
    over = np.maximum(total * ndtr(d1) - quota * ndtr(d1 - sigma), 0.0)   # rounding
    return np.asarray(np.where(cv > 0.0, over, flat))


def marginal_overage(own: Arr, other: Arr, quota: float, cv: Arr) -> np.ndarray:
    """Expected minutes over the quota that ``own`` minutes add to ``other`` minutes
    drawing on the same monthly quota first (both minutes/month, same shape or scalar):
    ``E[max(0, (own + other) M - K)] - E[max(0, other M - K)]`` (one month, one ``M``)."""
    return np.asarray(expected_monthly_overage(np.add(own, other), quota, cv)
                      - expected_monthly_overage(other, quota, cv))


def hosted_overage_usd(quota_used: np.ndarray, other_quota_used: Arr, quota: float,
                       usd_per_1000: Arr, monthly_cv: Arr = 0.0) -> np.ndarray:
    """Marginal bill for container minutes on GitLab-hosted runners: other jobs draw
    on the quota first; months vary with coefficient of variation ``monthly_cv``
    (:func:`marginal_overage`). Example (cv 0): quota 1,000, other jobs 750, containers
    500 quota minutes: 250 over, $2.50 at $10 per 1,000."""
    billed = marginal_overage(quota_used, other_quota_used, quota, monthly_cv)
    return np.asarray(billed * np.asarray(usd_per_1000) / 1000.0)


def fork_owner_cost_usd(per_owner_quota_minutes: np.ndarray, owners: Arr,
                        fork_quota: float | None, usd_per_1000: Arr,
                        per_owner_other: Arr = 0.0, monthly_cv: Arr = 0.0) -> np.ndarray:
    """What fork owners pay together for container builds: each owner's minutes over
    their own quota, after their other CI minutes (``per_owner_other`` quota minutes)
    have drawn on it first (the marginal bill, like :func:`hosted_overage_usd`, with the
    same month-to-month spread ``monthly_cv``).
    Example (cv 0): 2 owners using 500 container quota minutes each of 400: 2 * 100 *
    $10/1000 = $2; with 300 other quota minutes each, 2 * (400 - 0) * $10/1000 = $8.
    No free quota (None or 0): every minute is billed."""
    over = marginal_overage(per_owner_quota_minutes, per_owner_other, fork_quota or 0.0,
                            monthly_cv)
    return np.asarray(np.multiply(owners, over) * np.asarray(usd_per_1000) / 1000.0)


def storage_packs(peak_gib: np.ndarray, other_gib: float, billed_above_gib: float
                  ) -> np.ndarray:
    """Extra 10 GiB packs the registry needs beyond those other usage needs anyway.

    Storage is bought as annual packs sized for the peak: ``ceil(max(0, P + O - A)/10)``
    minus ``ceil(max(0, O - A)/10)``. Example: quota A = 50, other O = 10, peak 45.5
    GiB: ceil(5.5/10) - 0 = 1 pack ($60 a year, $5 a month).
    """
    need = np.ceil(np.maximum(0.0, peak_gib + other_gib - billed_above_gib) / PACK_GIB - 1e-9)
    base = float(np.ceil(max(0.0, other_gib - billed_above_gib) / PACK_GIB - 1e-9))
    return np.asarray(np.maximum(need - base, 0.0))


def storage_cash_usd(packs: np.ndarray, usd_per_10gib_year: Arr) -> np.ndarray:
    """Cash per month for the packs: ``packs * usd_per_10gib_year / 12``."""
    return np.asarray(packs * np.asarray(usd_per_10gib_year) / PACK_MONTHS)


def shadow_storage_usd(peak_gib: np.ndarray, usd_per_10gib_year: Arr) -> np.ndarray:
    """The shadow price per month: ``GiB * rate / 120`` (a rate per GiB-month)."""
    return np.asarray(peak_gib * np.asarray(usd_per_10gib_year) / (PACK_GIB * PACK_MONTHS))


def _p50(value: object) -> float | None:
    """A parsed input at its p50 (a Distribution's median, a number as is, None)."""
    if value is None:
        return None
    median = getattr(value, "median", value)
    return float(median)  # type: ignore[arg-type]


def billing_classes(value: Callable[[str], object], mode: str) -> list[dict[str, object]]:
    """Per job class (container builds, other CI, forks), what GitLab bills at the
    inputs' p50: ``{job_class, runner_size_factor, discount_kind, discount_factor,
    billed_factor, rule}`` (upstream classes only on GitLab-hosted runners; ``value``
    reads a scenario input by dotted name). The rule and its source: ``cost_factor.rb``
    ``apply_discount``, the lower of the two."""
    rows: list[tuple[str, str, str]] = [("forks", "forks.runner_size_factor",
                                         "forks.cost_factor")]
    if mode == "gitlab-hosted":
        container = ("compute.container_runner_size_factor"
                     if value("compute.container_runner_size_factor") is not None
                     else "compute.runner_size_factor")
        rows = [("container builds", container, "compute.cost_factor"),
                ("other CI", "compute.runner_size_factor", "compute.cost_factor"), *rows]
    out: list[dict[str, object]] = []
    for job_class, size_key, discount_key in rows:
        size, discount = _p50(value(size_key)), _p50(value(discount_key))
        out.append({"job_class": job_class, "runner_size_factor": size,
                    "discount_kind": discount_kind(discount), "discount_factor": discount,
                    "billed_factor": float(billed_cost_factor(size or 0.0, discount)),
                    "rule": BILLING_RULE})
    return out


#: The rule and its source, for the results' ``billing`` rows.
BILLING_RULE = ("min(runner size factor, discount factor): GitLab "
                "ee/lib/gitlab/ci/minutes/cost_factor.rb apply_discount (2022-; "
                "doc/ci/pipelines/compute_minutes.md 2025)")
