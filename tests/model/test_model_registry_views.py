"""The registry views the claims read come from the run itself: ``registry_gib_day0:*``
and ``registry_gib_no_cleanup:*`` equal, bit for bit, what re-running the same draws
under the other accounting or with no cleanup policy gives."""

from __future__ import annotations

import dataclasses

import numpy as np

from cachecost.model.results import draw_inputs
from cachecost.model.scenario import load_scenario
from cachecost.model.simulate import make_static, simulate, uncertain_inputs
from cachecost.model.strategies import ACCOUNTINGS
from cachecost.model.uncertainty import build_bank


def test_views_match_reruns(sample_calibration):
    """Both accountings, with a bootstrap bank and more samples than one chunk
    (8,192 rows), so chunks are merged. Hand check of the day-0 view: month 0 of a
    series ``steady + sum_i r_i*min(m, cap_i)`` is ``steady`` whatever the caps."""
    scenario = load_scenario(None)
    bank = build_bank(sample_calibration, np.random.default_rng(3))
    runs = {}
    for acc in ACCOUNTINGS:
        sc = dataclasses.replace(scenario, values={**scenario.values,
                                                   "storage.accounting": acc})
        st = make_static(sample_calibration, sc, bank)
        draws, replicate = draw_inputs(st, uncertain_inputs(sc), 9_000, 5)
        runs[acc] = simulate(st, draws, replicate=replicate)
        bare = dataclasses.replace(st, policies={n: None for n in st.policies})
        runs[acc, "none"] = simulate(bare, draws, replicate=replicate)
    grows = 0
    for acc in ACCOUNTINGS:
        other = next(a for a in ACCOUNTINGS if a != acc)
        for name, row in runs[acc].items():
            # day 0 under each accounting: month 0 of that accounting's own run
            np.testing.assert_array_equal(row[f"registry_gib_day0:{acc}"],
                                          row["registry_series"][:, 0])
            np.testing.assert_array_equal(row[f"registry_gib_day0:{other}"],
                                          runs[other][name]["registry_series"][:, 0])
            for view in ACCOUNTINGS:
                np.testing.assert_array_equal(row[f"registry_gib_no_cleanup:{view}"],
                                              runs[acc, "none"][name][f"registry_gib:{view}"])
                grows += bool(np.any(row[f"registry_gib_no_cleanup:{view}"]
                                     > row[f"registry_gib:{view}"]))
    assert grows > 0        # some strategy's cleanup matters, so the views differ
