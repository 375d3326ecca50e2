"""Job logs (traces): ``GET /projects/:id/jobs/:job_id/trace``, a bounded few at a time.

Logs are large and one request each, so :mod:`cachecost.fetch` reads only a
sample (``--logs-per-image``).

    for job_id, text in fetch_traces(client, 123, [7001, 7002]): ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from cachecost.gitlab.client import GitlabClient


def fetch_trace(client: GitlabClient, project_id: int, job_id: int) -> str:
    """One job's log as text."""
    return client.get_text(f"/projects/{project_id}/jobs/{job_id}/trace",
                           what=f"the log of job {job_id}")


def fetch_traces(client: GitlabClient, project_id: int, job_ids: Iterable[int], *,
                 workers: int = 4) -> Iterator[tuple[int, str]]:
    """Yield ``(job_id, log text)`` in the order given, ``workers`` requests at a time."""
    def one(job_id: int) -> tuple[int, str]:
        return job_id, fetch_trace(client, project_id, job_id)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(one, list(job_ids))
