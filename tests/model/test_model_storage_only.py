"""``simulate(..., storage_only=True)`` (the claims' re-runs) gives the full run's
registry figures, bit for bit, and nothing else."""

from __future__ import annotations

import dataclasses

import numpy as np

from cachecost.model.results import draw_inputs
from cachecost.model.scenario import load_scenario
from cachecost.model.simulate import make_static, simulate, uncertain_inputs
from cachecost.model.uncertainty import build_bank

REGISTRY_KEYS = {"registry_steady_gib", "registry_growth_gib_per_month",
                 "registry_gib:per-tag", "registry_gib:root-namespace-dedup",
                 "registry_series"}


def test_storage_only_matches_the_full_run(sample_calibration):
    """Both accountings, with and without cleanup policies, with a bootstrap bank and
    more samples than one chunk (8,192 rows) so the chunks are merged."""
    scenario = load_scenario(None)
    for acc in ("per-tag", "root-namespace-dedup"):
        sc = dataclasses.replace(scenario, values={**scenario.values,
                                                   "storage.accounting": acc})
        bank = build_bank(sample_calibration, np.random.default_rng(3))
        for no_policies in (False, True):
            st = make_static(sample_calibration, sc, bank)
            if no_policies:
                st = dataclasses.replace(st, policies={n: None for n in st.policies})
            draws, replicate = draw_inputs(st, uncertain_inputs(sc), 9_000, 5)
            full = simulate(st, draws, replicate=replicate)
            slim = simulate(st, draws, replicate=replicate, storage_only=True)
            assert set(slim) == set(full)
            for name in full:
                assert set(slim[name]) == REGISTRY_KEYS
                for key in REGISTRY_KEYS:
                    np.testing.assert_array_equal(slim[name][key], full[name][key])
