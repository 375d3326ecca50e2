"""Job logs (traces): ``GET /projects/:id/jobs/:job_id/trace``.

Logs are large and one request each, so :mod:`cachecost.collect.fetch` reads only a
sample (``--logs-per-image``), a bounded few at a time (:class:`cachecost.collect.logsample.LogSample`).

    text = fetch_trace(client, 123, 7001)
    log_cut_at(text)          # 4194304 when GitLab Runner stopped collecting it there

GitLab sends a log as ``text/plain`` without a charset (``lib/api/ci/jobs.rb``); its bytes
are what the runner wrote, UTF-8 (the runner keeps the limit cut on a UTF-8 boundary,
``helpers/trace`` ``TestTraceLimitEnsureValidUTF8``), so it is decoded as UTF-8
(:meth:`GitlabClient.get_text`), never as HTTP's ISO-8859-1 default.
"""

from __future__ import annotations

import re

from cachecost.collect.gitlab.client import GitlabClient

#: GitLab Runner's line where it stops collecting a log (``output_limit``, 4096 KiB by
#: default; gitlab-runner ``helpers/trace/buffer.go`` ``writeLimitExceededMessage``), maybe
#: behind ANSI codes or a timestamp prefix.
_LIMIT_LINE = re.compile(r"Job's log exceeded limit of (\d+) bytes\.")


def fetch_trace(client: GitlabClient, project_id: int, job_id: int) -> str:
    """One job's log as text."""
    return client.get_text(f"/projects/{project_id}/jobs/{job_id}/trace",
                           what=f"the log of job {job_id}")


def log_cut_at(text: str) -> int | None:
    """The byte limit at which GitLab Runner cut this log (its counts are then a lower
    bound), or None for a whole log."""
    m = _LIMIT_LINE.search(text)
    return int(m.group(1)) if m else None
