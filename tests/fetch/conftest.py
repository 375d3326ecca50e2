"""Fixtures for the fetch tests: a GitLab stand-in on 127.0.0.1 and a clean environment.

Every test talks over real HTTP to a stand-in started here on an ephemeral
port; nothing leaves the machine. The token is a recognisable fake so tests
can grep for leaks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cachecost.collect.fetch import fetch_project_history
from cachecost.collect.gitlab.client import connect
from cachecost.dataset.io import Dataset, load_dataset
from cachecost.dataset.sample import SampleSettings, generate_sample
from cachecost.standin import StandinData, StandinServer, start_standin

from .fetchkit import DAYS, NO_SCOPE_TOKEN, PROJECT, TOKEN


@pytest.fixture(scope="session")
def small_sample() -> Dataset:
    """A 3-day synthetic sample (about 20 pipelines, 900 jobs)."""
    return generate_sample(SampleSettings(days=DAYS))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GitLab credentials or config leak in from the developer's machine."""
    for var in ("GITLAB_TOKEN", "GITLAB_PRIVATE_TOKEN", "CI_JOB_TOKEN", "CI_SERVER_URL",
                "GITLAB_URL", "GITLAB_OAUTH_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYTHON_GITLAB_CFG", str(tmp_path / "no-python-gitlab.cfg"))


@pytest.fixture
def standin(small_sample: Dataset) -> Iterator[StandinServer]:
    """A fresh stand-in serving the small sample; tokens: TOKEN (read_api), NO_SCOPE_TOKEN."""
    data = StandinData(small_sample)
    srv = start_standin(data, tokens={TOKEN: {"read_api"}, NO_SCOPE_TOKEN: {"read_user"}})
    yield srv
    srv.stop()


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """Put the valid token in GITLAB_TOKEN."""
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    return TOKEN


@pytest.fixture(scope="session")
def reference(small_sample, tmp_path_factory) -> Dataset:
    """An uninterrupted, fault-free fetch of the whole stand-in (clock at the end)."""
    out = tmp_path_factory.mktemp("reference")
    with start_standin(StandinData(small_sample), tokens={TOKEN: {"read_api"}}) as srv:
        client = connect(srv.url, environ={"GITLAB_TOKEN": TOKEN})
        fetch_project_history(client, PROJECT, out)
    return load_dataset(out)
