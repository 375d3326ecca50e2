"""Stage 2, model: what each caching strategy costs, with its uncertainty.

* :mod:`.scenario`       the scenario file: every input with unit, default and source
* :mod:`.distributions`  the uncertain inputs' distributions
* :mod:`.calibrate`      dataset → per-image inputs
* :mod:`.uncertainty`    calibration uncertainty: bootstrap and Gamma-Poisson replicates
* :mod:`.drivers`        what the strategies' formulas read, as arrays, and their units
* :mod:`.cleanup`        a registry cleanup policy and when it caps stale tags
* :mod:`.strategies`     each strategy's cost mechanics and the cleanup it needs
* :mod:`.wait`           a fork pipeline's expected slowest container job
* :mod:`.money`          the kinds of money: project cash, shadow, fork owners' cash
* :mod:`.registry`       registry GiB over time, steady state, months to quota
* :mod:`.simulate`       the Monte Carlo core (per-sample arrays per strategy)
* :mod:`.decide`         the recommendation from paired costs, the tornado's order
* :mod:`.flips`          break-evens and tornado swings in the decision's own Monte Carlo
* :mod:`.claims`         the thread's claims (:mod:`.claims_base`, :mod:`.claims_registry`,
                         :mod:`.claims_memory`)
* :mod:`.results`        run_model: the results document

    from cachecost.dataset import load_dataset
    from cachecost.model import load_scenario, run_model
    results = run_model(load_dataset(), load_scenario(None))

The formulas (each with its source in ``docs/model.md`` §2)::

    M_up    = sum_i B*t_hit,s + n_change*(t_change,s - t_hit,s) + n_full*(t_miss - t_hit,s) + f_i
    M_fork  = F * sum_i [h*(t_hit,s + d*(t_change,s - t_hit,s)) + (1 - h)*t_miss]
    wait    = E[max_i T_i]                       (fork pipeline's container stage)
    G(m)    = sum_i steady_i + stale_i * c_i * min(m, cap_i)     (cap from the cleanup policy)
    cash    = runner time | hosted overage  +  ceil-packs(peak GiB) * usd_per_10gib_year / 12
    shadow  = steady GiB * shadow_usd_per_10gib_year / 120
    forks   = owners * max(0, per-owner quota minutes - quota) * usd_per_1000 / 1000
    winner  = argmin_s mean_k total_s,k     (status quo kept within max($1, 2 %))
"""

from cachecost.model.results import DEFAULT_SAMPLES, run_model
from cachecost.model.scenario import load_scenario

__all__ = ["DEFAULT_SAMPLES", "load_scenario", "run_model"]
