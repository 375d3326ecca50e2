"""The build logs a fetch reads, started while the jobs walk is still going.

    sample = LogSample(client, project_id, mapper, per_name=2, above=None,
                       classified=set(), workers=4)
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from cachecost.collect.gitlab.client import GitlabClient
from cachecost.collect.gitlab.joblogs import fetch_trace
from cachecost.collect.mapping import ImageMapper


class LogSample:
    """The build logs to read, started while the jobs walk is still going.

    The sample is the ``per_name`` newest successful container builds of each job
    name newer than the last sample (and not classified before). The walk reads
    id ranges out of order, but once every job above some id has been read
    (:meth:`JobWalk.read_above`), a name whose ``per_name`` newest candidates all
    lie above it is settled: its logs are asked for at once, ``workers`` at a time,
    while the walk goes on. What is not settled by the end is asked for then;
    the picks are the same either way.
    """

    def __init__(self, client: GitlabClient, project_id: int, mapper: ImageMapper, *,
                 per_name: int, above: int | None, classified: set[int], workers: int) -> None:
        self.client, self.project_id, self.mapper = client, project_id, mapper
        self.per_name, self.above, self.classified = per_name, above, classified
        self.newest: dict[str, list[int]] = {}     # per job name, a min-heap of the newest
        self.settled: set[str] = set()
        self.started: dict[int, Future] = {}
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="logs")

    def see(self, items: list[dict], read_above: int) -> None:
        """Take in a page of job items; start the logs of every name now settled."""
        if self.per_name <= 0:
            return
        for item in items:
            job_id = int(item["id"])
            # GitLab's job entity always has both; "" stands in for one a stand-in omits
            name, stage = item.get("name") or "", item.get("stage") or ""
            if item.get("status") != "success" or job_id in self.classified or \
                    (self.above is not None and job_id <= self.above) or \
                    not self.mapper.is_container_build(name, stage):
                continue
            heap = self.newest.setdefault(name, [])
            if len(heap) < self.per_name:
                heapq.heappush(heap, job_id)
            elif job_id > heap[0]:
                heapq.heapreplace(heap, job_id)
        for name, heap in self.newest.items():
            if name not in self.settled and len(heap) == self.per_name and \
                    heap[0] >= read_above:
                self.settled.add(name)
                for job_id in heap:
                    self._start(job_id)

    def _start(self, job_id: int) -> None:
        if job_id not in self.started:
            self.started[job_id] = self.pool.submit(fetch_trace, self.client,
                                                    self.project_id, job_id)

    def texts(self, job_ids: list[int]) -> Iterator[tuple[int, str]]:
        """Yield ``(job_id, log text)`` for the picked jobs, in order, asking for the rest."""
        for job_id in job_ids:
            self._start(job_id)
        for job_id in job_ids:
            yield job_id, self.started[job_id].result()

    def close(self) -> None:
        """Stop asking: logs not yet started are dropped, those running are waited for."""
        self.pool.shutdown(wait=True, cancel_futures=True)
