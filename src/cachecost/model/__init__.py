"""Stage 2, model: what each caching strategy costs, with its uncertainty.

* :mod:`.scenario`       the scenario file: every input with unit, default and source
* :mod:`.distributions`  the uncertain inputs' distributions
* :mod:`.calibrate`      dataset → per-image inputs
* :mod:`.strategies`     each strategy's cost mechanics
* :mod:`.simulate`       the Monte Carlo, the decision and the results document

    from cachecost.dataset import load_dataset
    from cachecost.model import load_scenario, run_model
    results = run_model(load_dataset(), load_scenario(None))
"""

from cachecost.model.scenario import load_scenario
from cachecost.model.simulate import DEFAULT_SAMPLES, run_model

__all__ = ["DEFAULT_SAMPLES", "load_scenario", "run_model"]
