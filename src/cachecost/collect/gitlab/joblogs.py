"""Job logs (traces): ``GET /projects/:id/jobs/:job_id/trace``.

Logs are large and one request each, so :mod:`cachecost.collect.fetch` reads only a
sample (``--logs-per-image``), a bounded few at a time (:class:`cachecost.collect.logsample.LogSample`).

    text = fetch_trace(client, 123, 7001)
"""

from __future__ import annotations

from cachecost.collect.gitlab.client import GitlabClient


def fetch_trace(client: GitlabClient, project_id: int, job_id: int) -> str:
    """One job's log as text."""
    return client.get_text(f"/projects/{project_id}/jobs/{job_id}/trace",
                           what=f"the log of job {job_id}")
