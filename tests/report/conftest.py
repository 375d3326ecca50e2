"""The report tests' fixtures (defined in :mod:`.sitekit`; the one headless Chromium of the
session, ``browser_context``, is shared from tests/conftest.py)."""

from .sitekit import (  # noqa: F401  (pytest finds fixtures by name)
    hostile_site,
    one_scenario,
    sample_site,
    tiny_notebooks,
)
