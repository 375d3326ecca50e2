"""Fixtures for the model tests: the sample dataset and its calibration, a fixed scenario."""

from __future__ import annotations

import pytest
from model_test_helpers import FIXED_SCENARIO, write_scenario

from cachecost.dataset.io import load_dataset
from cachecost.model.calibrate import calibrate
from cachecost.model.scenario import load_scenario


@pytest.fixture(scope="session")
def sample():
    return load_dataset()


@pytest.fixture(scope="session")
def sample_calibration(sample):
    return calibrate(sample)


@pytest.fixture
def fixed_scenario(tmp_path):
    return load_scenario(write_scenario(tmp_path, FIXED_SCENARIO))


@pytest.fixture(scope="session")
def fixed_scenario_session(tmp_path_factory):
    """The fixed scenario, once per session (hypothesis tests must not use per-test fixtures)."""
    return load_scenario(write_scenario(tmp_path_factory.mktemp("scenario"), FIXED_SCENARIO))
