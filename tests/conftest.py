"""Shared fixtures: the bundled sample, loaded once."""

from __future__ import annotations

from dataclasses import replace

import pytest

# One headless Chromium for the whole session, shared by every directory's browser tests:
# two session fixtures would start two sync Playwrights in one thread, and the second
# refuses ("Sync API inside the asyncio loop").
from report.sitekit import browser_context  # noqa: F401  (pytest finds fixtures by name)

from cachecost.dataset.io import Dataset, load_dataset


@pytest.fixture(scope="session")
def sample() -> Dataset:
    """The bundled synthetic sample dataset."""
    return load_dataset()


@pytest.fixture(scope="session")
def sample_unmeasured() -> Dataset:
    """The sample without what a fetch measures besides the CI history (image change
    commits, forks, the namespace's registry usage): a dataset as ``cachecost fetch``
    leaves it when those reads were refused."""
    sample = load_dataset()
    meta = {k: v for k, v in sample.metadata.items() if k not in ("image_inputs",
                                                                   "registry_usage")}
    return replace(sample, metadata=meta, image_changes=None, forks=None)
