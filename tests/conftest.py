"""Shared fixtures: the bundled sample, loaded once."""

from __future__ import annotations

import pytest

from cachecost.dataset.io import Dataset, load_dataset


@pytest.fixture(scope="session")
def sample() -> Dataset:
    """The bundled synthetic sample dataset."""
    return load_dataset()
