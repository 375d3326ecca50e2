"""The shapes of the results document (``results.json``), as TypedDicts.

:func:`cachecost.model.results.run_model` returns a :class:`Results`; every
field is JSON (floats, strings, lists, dicts; None where a figure is unknown or
infinite) and carries its unit in its name. The report (:mod:`cachecost.report`)
words these numbers; it never recomputes them. Results read back from a
``results.json`` of an older cachecost may lack newer keys: the report's
readers use ``.get`` for those.

    results: Results = run_model(dataset, scenario)
    results["strategies"]["kaniko-cache-repo"]["total_cost_usd_per_month"]["p50"]
"""

from __future__ import annotations

from typing import Any, TypedDict

from cachecost.model.decide import CleanupWhatIf
from cachecost.model.flips import BreakEven, Swing


class Quantiles(TypedDict):
    """p10/p50/p90 and mean of one figure over the Monte Carlo samples (None: unknown)."""

    p10: float | None
    p50: float | None
    p90: float | None
    mean: float | None


class StorageRisk(TypedDict):
    """Whether a strategy's registry grows without bound (no cleanup), and how fast."""

    is_growth_unbounded: bool
    growth_gib_per_month: Quantiles


class StrategyFigures(TypedDict):
    """The figures every strategy has (:class:`StrategyResult`)."""

    title: str
    description: str
    compute_minutes_per_month: Quantiles
    fork_compute_minutes_per_month: Quantiles
    compute_cost_usd_per_month: Quantiles
    fork_compute_cost_usd_per_month: Quantiles
    quota_minutes_used_per_month: Quantiles
    fork_quota_share: Quantiles
    storage_cost_usd_per_month: Quantiles
    total_cost_usd_per_month: Quantiles
    fork_pipeline_feedback_minutes: Quantiles
    fork_wait_minutes: Quantiles
    project_cash_usd_per_month: Quantiles
    storage_cash_usd_per_month: Quantiles
    storage_packs: Quantiles
    shadow_storage_usd_per_month: Quantiles
    fork_owners_cash_usd_per_month: Quantiles
    registry_steady_gib: Quantiles
    registry_growth_gib_per_month: Quantiles
    registry_priced_gib: Quantiles                  # GiB priced along the cleanup's path
    months_to_registry_steady: Quantiles            # months to the keep_n steady state
    registry_gib: dict[str, Quantiles]              # by accounting
    months_to_quota: Quantiles | None               # None: the scenario has no quota
    delta_vs_baseline_usd_per_month: Quantiles
    delta_vs_baseline_pct: Quantiles
    cost_components_usd_per_month: dict[str, float | None]   # medians, by component
    money_usd_per_month: dict[str, Quantiles]       # by money kind
    contributor_wait_minutes: Quantiles
    cleanup_policy: dict[str, float | None] | None  # {keep_n, older_than_days}
    storage_risk: StorageRisk
    sponsor_budget_months: Quantiles | None
    probability_cheapest: float
    expected_loss_usd_per_month: float
    is_baseline: bool
    notes: list[str]


class StrategyResult(StrategyFigures, total=False):
    """One strategy's figures (``results["strategies"][name]``); units in the names.
    kaniko's alone also carry claim 5's price (what one cache source costs forks)."""

    fork_single_cache_source_minutes_per_month: Quantiles


class InputRow(TypedDict):
    """One model input: scenario key, measured value or per-image calibration column."""

    name: str                    # "section.key", "data.<figure>" or "data.image.<i>.<col>"
    value: Any                   # a number, a distribution's JSON form, a string or None
    unit: str
    source: str                  # "scenario", "default", "data" or "measured"
    citation: str | None
    distribution: str | None     # "triangular(2250, 2625, 3000)" when uncertain
    doc: str


#: One tornado row (:class:`cachecost.model.flips.Swing`): an input swung between its
#: ends on the run's own samples, a strategy's expected difference from the baseline.
TornadoBar = Swing


class Recommendation(TypedDict):
    """The decision: the winner on expected paired cost, the runner-up and the margin."""

    winner: str
    runner_up: str
    saving_usd_per_month: float              # runner-up minus winner, expected
    is_status_quo_kept: bool
    saving_vs_baseline_usd_per_month: float
    share_of_samples_winner_cheaper: float
    status_quo_margin_usd_per_month: float   # the lead a challenger needs (cachecost.rules)
    winner_cost_usd_per_month: float
    decided_on: str
    weighs: list[str]                        # money kinds added up
    ties: list[str]
    cleanup_what_if: CleanupWhatIf | None    # the what-if cleanup's winner, when it differs


class Claim(TypedDict, total=False):
    """One claim of the thread, checked (:mod:`cachecost.model.claims`)."""

    id: str
    claim: str
    verdict: str                 # one of cachecost.report.answers.VERDICTS
    sentence: str
    figure: Any
    interval: Any
    hinges_on: str
    details: dict[str, Any]
    reason: str                  # why the verdict (a code the report words)


class ValueOfInformation(TypedDict):
    """What knowing one input exactly is worth to the decision (EVPPI)."""

    input: str
    evppi_usd_per_month: float
    how_to_measure: str


class CalibrationSummary(TypedDict):
    """What the calibration measured and filled in."""

    months_of_data: float
    images: int
    measured_container_minutes_per_month: float
    #: share: month-to-month coefficient of variation of the CI minutes (0: not measured)
    monthly_minutes_cv: float
    monthly_minutes_months: int
    dedup_method: str
    bootstrap_replicates: int
    notes: list[str]


class ResultsCore(TypedDict):
    """The keys every results document has (:class:`Results`)."""

    scenario: str
    scenario_title: str
    scenario_description: str
    scenario_sha256: str
    baseline: str
    thread: str | None                       # the scenario's thread (claims); None: none
    builder: str | None                      # the project's builder (BUILDERS); None: unknown
    samples: int
    seed: int
    horizon_months: int
    is_synthetic_data: bool
    accounting: str
    compute_mode: str
    money_kinds: dict[str, str]
    strategies: dict[str, StrategyResult]
    inputs: list[InputRow]
    tornado: list[TornadoBar]
    billing: list[dict[str, object]]
    break_even: list[BreakEven]              # where expected costs cross
    recommendation_flips: list[BreakEven]    # where the recommendation itself changes
    storage_over_horizon: dict[str, Any]
    recommendation: Recommendation
    claims: list[Claim]                      # [] when the scenario checks no thread
    value_of_information: list[ValueOfInformation]
    value_of_information_total: dict[str, Any]
    calibration: CalibrationSummary
    registry_today: dict[str, Any] | None


class Results(ResultsCore, total=False):
    """The whole results document (``results.json``), :func:`run_model`'s return value.
    (``NotRequired`` under ``from __future__ import annotations`` is not seen at run time
    on Python 3.11, so the optional key lives in this ``total=False`` class.)"""

    #: the walk-forward backtest (:mod:`cachecost.model.backtest`), added by the report's runner
    backtest: dict[str, Any]
