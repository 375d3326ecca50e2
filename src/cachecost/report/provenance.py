"""Where a report's numbers come from: data, scenario, code and build time.

Every report page, ``summary.txt`` and ``summary.md`` carry this record so a
reader can tell synthetic sample numbers from measured ones and rebuild the
same page::

    prov = collect_provenance(load_dataset(), load_scenario(None))
    prov["data_source"]   # "synthetic sample" or "<instance_url> <project_path>"

``built_at`` is the only key that changes between two builds of the same
inputs; it honours ``SOURCE_DATE_EPOCH`` (reproducible-builds.org) so a
packager can pin it. Summaries must not print it.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from typing import Any

from cachecost import __version__
from cachecost.config import PROJ_ROOT

SYNTHETIC_SOURCE = "synthetic sample"
SYNTHETIC_NOTICE = "SYNTHETIC SAMPLE DATA \u2014 not measured from any real project"
#: Output metadata key of what a notebook shows only when run alone (JupyterLab): the
#: synthetic notice, which a built page carries in its banner instead; export drops it.
LAB_ONLY_MARK = "cachecost_lab_only"


def format_build_time(now: datetime | None = None) -> str:
    """Return the build time as ISO 8601 UTC to the second (``2026-01-31T12:00:00Z``)."""
    if now is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        now = (
            datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else datetime.now(UTC)
        )
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git(*args: str) -> str | None:
    if not (PROJ_ROOT / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(PROJ_ROOT), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def find_git_commit() -> str | None:
    """Return the checkout's ``HEAD`` commit, or None outside a git checkout."""
    commit = _git("rev-parse", "HEAD")
    return commit or None


def has_uncommitted_changes() -> bool | None:
    """Return True when tracked files differ from ``HEAD`` (None outside a checkout)."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status)


def describe_data_source(metadata: dict[str, Any]) -> str:
    """Return ``"synthetic sample"`` or ``"<instance_url> <project_path>"`` for a dataset."""
    if metadata.get("is_synthetic"):
        return SYNTHETIC_SOURCE
    parts = [str(metadata.get(k)) for k in ("instance_url", "project_path") if metadata.get(k)]
    return " ".join(parts) or str(metadata.get("source") or "unknown source")


def collect_provenance(dataset: Any, scenario: Any, *, built_at: str | None = None) -> dict[str, Any]:
    """Return the provenance record of one report (see the module docstring).

    ``dataset`` is a :class:`cachecost.dataset.io.Dataset`, ``scenario`` a
    :class:`cachecost.model.scenario.Scenario` (anything with ``name``, ``title``
    and ``sha256``).
    """
    meta = dataset.metadata
    return {
        "is_synthetic": bool(meta.get("is_synthetic")),
        "data_source": describe_data_source(meta),
        "instance_url": meta.get("instance_url"),
        "project_path": meta.get("project_path"),
        "fetched_at": str(meta.get("fetched_at") or "unknown"),
        "scenario": scenario.name,
        "scenario_title": scenario.title,
        "scenario_sha256": scenario.sha256,
        "cachecost_version": __version__,
        "git_commit": find_git_commit(),
        "git_is_dirty": has_uncommitted_changes(),
        "built_at": built_at or format_build_time(),
    }
