"""The fetch's registry phase: repositories, sizes and tags, and whether GitLab's figure is one.

Asked for beside the jobs walk (:meth:`RegistryPhase.download`), judged once the tags are
known (:meth:`RegistryPhase.judge`: a ``container_registry_size`` below the project's own
tags was not measured, case 12 of issue 22), written once the logs have taught the mapping
(:meth:`RegistryPhase.save`). Skipped when ``container_registry_size`` has not changed since
the last fetch.

    phase = RegistryPhase(client, store, options)
    phase.download(project)              # beside the jobs walk
    project = phase.judge(project)       # container_registry_size_bytes None if unmeasured
    note = phase.save(mapper.known_images())
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from cachecost.collect.fetchopts import FetchOptions, progress_bar
from cachecost.collect.gitlab.client import GitlabClient
from cachecost.collect.gitlab.projects import ProjectInfo
from cachecost.collect.gitlab.registry import (
    RegistryUnavailable,
    fetch_repository_sizes,
    fetch_tag_details,
    list_repositories,
    repository_rows,
)
from cachecost.collect.store import Store, rows_to_frame
from cachecost.dataset.io import empty_table, project_registry_size
from cachecost.textfmt import format_bytes


class RegistryPhase:
    """One fetch's registry: what was downloaded (or why not), GitLab's figure as sent and,
    when that figure cannot be a measurement, why (:attr:`size_note`)."""

    def __init__(self, client: GitlabClient, store: Store, options: FetchOptions) -> None:
        self.client, self.store, self.options = client, store, options
        #: a note (skipped, refused), or (repositories, sizes, tags) downloaded
        self.outcome: str | tuple[list[dict], dict[int, float], list[dict]] = "not fetched"
        #: ``container_registry_size`` as GitLab sent it (bytes), None if not visible
        self.reported_size: int | None = None
        #: why the project's figure is unknown though GitLab sent one; None if it is known
        self.size_note: str | None = None

    def download(self, project: ProjectInfo) -> None:
        """Ask for repositories, sizes and tags (unless disabled or unchanged)."""
        st = self.store.state["registry"]
        size = self.reported_size = project.container_registry_size_bytes
        if not project.is_registry_enabled:
            self.outcome = "disabled for this project, skipped"
        elif size and size == st["container_registry_size_bytes"] and \
                self.store.has("registry_tags"):
            self.outcome = ("unchanged since the last fetch (same container_registry_size), "
                            "skipped")
        else:
            try:
                self.outcome = self._download(project.project_id)
            except RegistryUnavailable as exc:
                self.outcome = f"{exc}, skipped; the dataset has no registry data"

    def _download(self, pid: int) -> tuple[list[dict], dict[int, float], list[dict]]:
        workers = self.options.workers
        repos = list_repositories(self.client, pid)
        sizes = fetch_repository_sizes(self.client, [r["id"] for r in repos], workers=workers)
        pairs = [(int(r["id"]), t["name"]) for r in repos for t in r.get("tags") or []]
        with progress_bar(self.options, "registry tags", "tag", len(pairs)) as bar:
            tags = fetch_tag_details(self.client, pid, pairs, workers=workers)
            bar.update(len(pairs))
        return repos, sizes, tags

    def judge(self, project: ProjectInfo) -> ProjectInfo:
        """``project`` with ``container_registry_size_bytes`` None when GitLab's figure is
        below its own tags' sizes (rule: :func:`cachecost.dataset.io.project_registry_size`);
        the measurements and the metadata then carry None, never the 0."""
        if self.reported_size is None or not project.is_registry_enabled:
            return project
        if isinstance(self.outcome, str):            # skipped or refused: what is stored
            sizes = self.store.load("registry_tags")["total_size_bytes"]
        else:
            sizes = pd.Series([t["total_size_bytes"] for t in self.outcome[2]], dtype=float)
        size, why = project_registry_size(self.reported_size, sizes)
        if size is not None:
            return project
        self.size_note = why
        return dataclasses.replace(project, container_registry_size_bytes=None)

    def save(self, known_images: set[str]) -> str:
        """Write the registry tables; return the note the fetch's summary gives."""
        note = self.outcome
        if not isinstance(note, str):
            repos, sizes, tags = note
            rows = repository_rows(repos, sizes, known_images)
            self.store.save("registry_repositories",
                            rows_to_frame(rows, "registry_repositories"))
            self.store.save("registry_tags", rows_to_frame(tags, "registry_tags"))
            # as GitLab sent it: "unchanged" compares the next fetch's with it
            self.store.state["registry"]["container_registry_size_bytes"] = self.reported_size
            self.store.save_state()
            total = sum(t["total_size_bytes"] for t in tags
                        if not math.isnan(t["total_size_bytes"]))
            note = (f"{len(repos)} repositories, {len(tags)} tags, {format_bytes(total)} "
                    "summed over tags")
        for table in ("registry_repositories", "registry_tags"):
            if not self.store.has(table):
                self.store.save(table, empty_table(table))
        return note
