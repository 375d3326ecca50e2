"""What a fetch is asked (:class:`FetchOptions`, ``--since``) and what it did (:class:`FetchResult`).

:mod:`cachecost.collect.fetch` runs the fetch; these are its inputs and its report.

    options = FetchOptions(since=parse_since("2025-09-01"), workers=4)
    print(result.summary())
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from cachecost.collect.measure import FORK_REQUEST_BUDGET
from cachecost.errors import CachecostError

#: The most requests a phase may keep in flight (the fetch as a whole: twice that).
MAX_WORKERS = 16


# --------------------------------------------------------------------------- inputs


def parse_since(text: str | None) -> pd.Timestamp | None:
    """Parse ``--since YYYY-MM-DD`` as midnight UTC; raise a one-line error if it isn't."""
    if text is None or str(text).strip() == "":
        return None
    try:
        day = datetime.strptime(str(text).strip(), "%Y-%m-%d")
    except ValueError:
        raise CachecostError(
            f"--since {text!r} is not a date like 2025-09-01 (YYYY-MM-DD)") from None
    since = pd.Timestamp(day, tz="UTC")
    if since > pd.Timestamp.now(tz="UTC"):
        raise CachecostError(f"--since {text}: a date in the future; nothing would be fetched")
    return since


@dataclass
class FetchOptions:
    """How to fetch (all optional)."""

    since: pd.Timestamp | None = None
    logs_per_image: int = 2
    mapping_file: str | None = None
    #: "jobs": derive pipeline durations from their jobs (no request);
    #: "details": one ``GET /pipelines/:id`` per new or changed finished pipeline.
    pipeline_durations: str = "jobs"
    #: requests at once per phase (job pages, logs, registry); the fetch: twice that at most
    workers: int = 4
    #: the jobs walk's segments, in pages (see :mod:`cachecost.collect.gitlab.jobwalk`)
    pages_per_segment: int = 24
    #: save rows and then watermarks every this many pages, at most once per this many seconds
    checkpoint_pages: int = 50
    checkpoint_s: float = 5.0
    show_progress: bool = False
    #: measure image changes, forks and registry usage (:mod:`cachecost.collect.measure`)
    measure: bool = True
    fork_request_budget: int = FORK_REQUEST_BUDGET


@dataclass
class FetchResult:
    """What one fetch did; :meth:`summary` is the paragraph the CLI prints."""

    data_dir: Path
    instance_url: str
    project_path: str
    pipelines_fetched: int = 0
    jobs_fetched: int = 0
    pipeline_details_fetched: int = 0
    #: pipelines whose jobs were read again (changed in place), and the job items read
    pipelines_reread: int = 0
    jobs_reread: int = 0
    logs_read: int = 0
    outcomes: Counter = field(default_factory=Counter)
    registry_note: str = ""
    totals: dict[str, int] = field(default_factory=dict)
    requests_by_phase: dict[str, int] = field(default_factory=dict)
    seconds_by_phase: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    rate_limit_paused_s: float = 0.0
    elapsed_s: float = 0.0
    jobs_watermark: int | None = None
    #: one line each: what could not be measured, and what the model does instead
    warnings: list[str] = field(default_factory=list)
    measure_notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph: what was fetched, how, and what the dataset now holds."""
        t = self.totals
        outcome = ", ".join(f"{n} {k}" for k, n in sorted(self.outcomes.items())) or "none"
        return (
            f"Fetched {self.pipelines_fetched:,} new or updated pipelines and "
            f"{self.jobs_fetched:,} jobs of {self.project_path} from {self.instance_url} in "
            f"{self.elapsed_s:.1f} s with {self.requests:,} requests ({self.retries} retried); "
            f"read {self.logs_read} build logs (cache: {outcome}); registry: "
            f"{self.registry_note}. The dataset in {self.data_dir} now holds "
            f"{t.get('pipelines', 0):,} pipelines and {t.get('jobs', 0):,} jobs "
            f"({t.get('retried_jobs', 0):,} retried, {t.get('container_jobs', 0):,} container "
            f"builds, {t.get('unmapped_container_jobs', 0):,} of them not mapped to an image), "
            f"{t.get('registry_repositories', 0):,} registry repositories and "
            f"{t.get('registry_tags', 0):,} tags; the next run continues after job "
            f"{self.jobs_watermark if self.jobs_watermark is not None else '-'}."
            + (f" Read again the jobs of {self.pipelines_reread:,} pipelines GitLab changed "
               f"in place ({self.jobs_reread:,} jobs)." if self.pipelines_reread else "")
            + (f" Measured: {'; '.join(self.measure_notes)}." if self.measure_notes else "")
        )


@contextmanager
def progress_bar(options: FetchOptions, desc: str, unit: str, total: int | None = None
                 ) -> Iterator[tqdm]:
    """A tqdm bar on stderr for one phase, shown only with ``options.show_progress``."""
    bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
               disable=not options.show_progress, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()
