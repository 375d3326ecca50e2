"""Project jobs, newest first, with keyset pagination: one listing for all pipelines.

``GET /projects/:id/jobs?pagination=keyset&order_by=id&sort=desc`` returns
every job of the project (retried attempts included), 100 per page, and a
``Link: rel="next"`` cursor. The walk stops at the newest job already stored,
so a fetch never asks for jobs pipeline by pipeline.

The cursor is GitLab's keyset cursor (``Gitlab::Pagination::Keyset::Paginator``
in GitLab's source): URL-safe base64 of the JSON object
``{"id": "<last id on the page>", "_kd": "n"}``, read as "the jobs with an id
below this one". :class:`JobsCursor` recognises that shape in a link the server
sent and builds the same link for any other id, so :mod:`cachecost.collect.gitlab.jobwalk`
can walk several id ranges at once.

    items, next_url = fetch_job_page(client, 123)
    cursor = JobsCursor.from_next_url(next_url, last_id=items[-1]["id"])
    items, _ = fetch_job_page(client, 123, cursor.url_below(5_000_000))
    jobs = JobColumns().add(items).frame()
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd

from cachecost.collect.gitlab.client import GitlabClient

#: The query of the first page of the walk.
KEYSET_PARAMS = {"pagination": "keyset", "order_by": "id", "sort": "desc"}


class JobColumns:
    """API job items gathered as ``jobs`` columns, page by page.

    Adding a page costs about a millisecond, which a walk spends while it waits
    for the network; :meth:`frame` then builds the table in one go. Times stay
    ISO 8601 text for a vectorised parse; the mapping, retry flag and log columns
    are filled later.
    """

    def __init__(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in _JOB_FIELDS}
        self.columns.update({name: [] for name in _JOB_DERIVED})

    def __len__(self) -> int:
        return len(self.columns["job_id"])

    def add(self, items: list[dict]) -> JobColumns:
        """Append a page of API items; return self."""
        c = self.columns
        c["job_id"] += [int(i["id"]) for i in items]
        c["pipeline_id"] += [int((i.get("pipeline") or {}).get("id") or 0) for i in items]
        for name, key in _JOB_FIELDS.items():
            if key is not None:
                c[name] += [i.get(key) for i in items]
        c["is_retried"] += [bool(i.get("retried", False)) for i in items]
        c["is_allowed_failure"] += [bool(i.get("allow_failure", False)) for i in items]
        c["runner_description"] += [(i.get("runner") or {}).get("description") for i in items]
        for name, value in _JOB_DERIVED.items():
            c[name] += [value] * len(items)
        return self

    def frame(self) -> pd.DataFrame:
        """The gathered items as a frame (dtypes cast by the caller)."""
        df = pd.DataFrame(self.columns)
        for col in ("duration_s", "queued_duration_s"):
            df[col] = pd.to_numeric(df[col].astype(object))
        return df


#: ``jobs`` column -> API key (None: filled by :meth:`JobColumns.add` itself).
_JOB_FIELDS = {
    "job_id": None, "pipeline_id": None, "name": "name", "stage": "stage", "status": "status",
    "ref": "ref", "created_at": "created_at", "started_at": "started_at",
    "finished_at": "finished_at", "duration_s": "duration",
    "queued_duration_s": "queued_duration", "is_retried": None, "is_allowed_failure": None,
    "failure_reason": "failure_reason", "runner_description": None,
}
#: Columns filled after the fetch (mapping, retry flags, logs), with their starting value.
_JOB_DERIVED = {"is_container_build": False, "image": None, "cache_outcome": None,
                "cached_steps": None, "executed_steps": None, "run_steps": None}


def fetch_job_page(client: GitlabClient, project_id: int, url: str | None = None
                   ) -> tuple[list[dict], str | None]:
    """One page of the jobs list, newest first: ``(API items, next_url)``.

    ``url`` is a ``next`` link (from the server or :meth:`JobsCursor.url_below`);
    without it, the first page. Items stay as the API sent them: the caller
    converts the ones it keeps (:class:`JobColumns`), many pages at once.
    """
    if url is None:
        return client.get_page(f"/projects/{project_id}/jobs", KEYSET_PARAMS,
                               what="the project's jobs list")
    return client.get_page(url, None, what="the project's jobs list")


@dataclass(frozen=True)
class JobsCursor:
    """Builds the jobs list's ``next`` link for "the jobs below id N".

    Made only from a link the server sent whose cursor has exactly GitLab's
    keyset shape; otherwise :meth:`from_next_url` returns None and the caller
    follows the server's links one by one.
    """

    scheme: str
    netloc: str
    path: str
    query: tuple[tuple[str, str], ...]     # the link's parameters but the cursor
    extra: tuple[tuple[str, str], ...]     # the cursor's keys but the id (``_kd``)
    is_id_text: bool                       # GitLab writes the id as a string

    @classmethod
    def from_next_url(cls, next_url: str | None, last_id: int | None = None
                      ) -> JobsCursor | None:
        """The builder for ``next_url``'s shape, or None if its cursor is not GitLab's.

        With ``last_id``, the cursor must also point just below that job (the
        last one on the page the link came with), as GitLab's does.
        """
        if not next_url:
            return None
        parts = urlsplit(next_url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        cursors = [v for k, v in query if k == "cursor"]
        if len(cursors) != 1:
            return None
        try:
            decoded = json.loads(base64.urlsafe_b64decode(cursors[0].encode("ascii")))
        except (ValueError, binascii.Error, UnicodeError):
            return None
        if not isinstance(decoded, dict) or set(decoded) != {"id", "_kd"} or \
                decoded["_kd"] != "n" or not str(decoded["id"]).isdigit():
            return None
        if last_id is not None and int(decoded["id"]) != int(last_id):
            return None
        return cls(parts.scheme, parts.netloc, parts.path,
                   tuple((k, v) for k, v in query if k != "cursor"),
                   (("_kd", "n"),), isinstance(decoded["id"], str))

    def url_below(self, job_id: int) -> str:
        """The link to the page of jobs with an id below ``job_id``, newest first."""
        value: int | str = str(job_id) if self.is_id_text else int(job_id)
        raw = json.dumps({"id": value, **dict(self.extra)}, separators=(",", ":"))
        cursor = base64.urlsafe_b64encode(raw.encode("ascii")).decode("ascii")
        query = urlencode([*self.query, ("cursor", cursor)])
        return urlunsplit((self.scheme, self.netloc, self.path, query, ""))
