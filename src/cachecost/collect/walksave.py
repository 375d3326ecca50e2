"""The checkpoints of a jobs walk: rows first, then the walk state, one at a time, in order.

:mod:`cachecost.collect.fetch` hands each walk's pages to a :class:`WalkSaver`; the fetch
itself is seen through :class:`JobsHolder` (its jobs table, its store, and the top id of a
complete walk whose last write it makes itself).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import pandas as pd

from cachecost.collect.gitlab.jobs import JobColumns
from cachecost.collect.gitlab.jobwalk import JobWalk
from cachecost.collect.store import Store, merge_by_id, to_schema


class JobsHolder(Protocol):
    """What a :class:`WalkSaver` reads and writes of the fetch it saves for."""

    jobs: pd.DataFrame
    store: Store
    unsaved_top: int | None


class WalkSaver:
    """The checkpoints of one jobs walk: rows first, then the walk state, in order.

    ``buffer`` gathers the rows read since the last checkpoint; :meth:`flush` hands them
    to a single writer thread (so checkpoints are written one at a time, in order, each
    with the walk state of its own rows); :meth:`finish` merges the last rows without
    writing them, for a complete walk whose last write the logs phase makes.
    """

    def __init__(self, fetch: JobsHolder, walk: JobWalk) -> None:
        self.fetch, self.walk = fetch, walk
        self.buffer = JobColumns()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        self._writing: Future | None = None

    def _save(self, rows: JobColumns, walk_state: dict | None, top_id: int | None) -> None:
        fetch = self.fetch
        st = fetch.store.state["jobs"]
        if len(rows):
            fetch.jobs = merge_by_id(fetch.jobs, to_schema(rows.frame(), "jobs"), "job_id")
            fetch.store.save("jobs", fetch.jobs)              # data first ...
        st["walk"] = walk_state
        if walk_state is None and top_id is not None:       # the walk is complete
            st["complete_max_id"] = max(top_id, st["complete_max_id"] or 0)
        fetch.store.save_state()                             # ... then the watermarks

    def flush(self, *, wait: bool) -> None:
        """Queue a checkpoint of the buffered rows and the walk state; ``wait`` for it."""
        rows, self.buffer = self.buffer, JobColumns()
        if self._writing is not None:
            self._writing.result()                           # the one before, first
        walk = self.walk
        self._writing = self._writer.submit(self._save, rows, walk.state(),
                                            walk.top_id if walk.is_complete else None)
        if wait:
            self._writing.result()

    def finish(self) -> None:
        """Complete walk: merge the last rows now, leave their write to the logs phase."""
        fetch = self.fetch
        if self._writing is not None:
            self._writing.result()
        if len(self.buffer):
            fetch.jobs = merge_by_id(fetch.jobs, to_schema(self.buffer.frame(), "jobs"),
                                     "job_id")
        fetch.unsaved_top = self.walk.top_id

    def shutdown(self) -> None:
        """Stop the writer thread (after the checkpoint it is writing)."""
        self._writer.shutdown()
