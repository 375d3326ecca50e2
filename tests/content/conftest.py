"""Fixtures for the content tests: the hand-made results dict and provenance."""

from __future__ import annotations

import copy

import pytest

from .handmade import make_provenance, make_results


@pytest.fixture
def results() -> dict:
    return copy.deepcopy(make_results())


@pytest.fixture
def provenance() -> dict:
    return make_provenance()
