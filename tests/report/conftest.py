"""The report tests' fixtures (defined in :mod:`.sitekit`)."""

from .sitekit import (  # noqa: F401  (pytest finds fixtures by name)
    browser_context,
    hostile_site,
    one_scenario,
    sample_site,
    tiny_notebooks,
)
