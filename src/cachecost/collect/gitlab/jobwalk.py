"""Walk the project's jobs list newest first, several id ranges at once.

GitLab's jobs list is keyset-paginated: each page's ``next`` link carries a
cursor, so one chain of pages cannot overlap with itself. But GitLab's cursor
means "the jobs with an id below N" (:class:`cachecost.collect.gitlab.jobs.JobsCursor`),
so a chain can start at any id. The walk reads the first page, then cuts the id
range below it into **segments** and follows ``workers`` chains at once::

    ids:   top ........................................................ floor
           [page 1][ segment 0    ][ segment 1    ][ segment 2    ] ...
                    hi0        lo0  hi1        lo1  hi2        lo2

Each segment starts at a cursor for its ``hi`` and follows the server's own
``next`` links until a page reaches an id below its ``lo`` (where the segment
below begins). The walk ends at the **floor**: the newest job already stored
(``stop_id``), a job created before ``since``, or the end of the list; once a
segment reaches it no segment below is started. Rows are kept once: each
segment keeps only ids in ``[lo, hi)``.

Segment size is ``pages_per_segment`` pages at the id density seen so far (ids
per job, from the pages read). It decides only how the work is cut, never what
is fetched: a segment holding fewer jobs than guessed costs one short page.
Once no new segment is needed, a worker left idle takes the lower half of the
segment with the most left to read (:meth:`JobWalk._split`), so the walk does
not end with one chain read page by page while the others wait.

Every job at or above :meth:`JobWalk.read_above` has been read: the log
sample (:class:`cachecost.collect.logsample.LogSample`) uses it to start reading build logs
before the walk ends.

If the server's cursor is not GitLab's shape, there is one segment and the walk
is the plain chain of ``next`` links.

**Durable state.** :meth:`JobWalk.state` is a JSON-able dict (kept in
``fetch_state.json``): the top id, the floor, where the next segment would
start, and for each unfinished segment the link it continues from. It accounts
only for pages already yielded, so saving it after their rows are written means
a resumed walk (:meth:`JobWalk.resume`) repeats at most the pages in flight and
misses none.

    walk = JobWalk(client, project_id, stop_id=None, since=None, workers=4)
    for items in walk.pages():         # the API's job items kept, per page, as they arrive
        ...
    walk.state()                       # None once the walk is complete
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachecost.collect.gitlab.client import GitlabClient
from cachecost.collect.gitlab.convert import parse_time
from cachecost.collect.gitlab.jobs import JobsCursor, fetch_job_page

#: Above every job id: the ``hi`` of a segment that starts at the top.
TOP = 2**63 - 1
PAGE_SIZE = 100
#: A segment is split near the end of the walk only with this many pages left.
SPLIT_PAGES = 8
#: Below the lowest job seen, the half split off may hold nothing (the list may end
#: there): such a split is made only once this many pages were read, where one
#: wasted request is under 2 % of the walk.
BLIND_SPLIT_PAGES = 64


@dataclass(eq=False)                        # segments compare by identity
class Segment:
    """Jobs with ``lo <= id < hi``, to be read from ``url`` on (the jobs below ``pos``)."""

    hi: int
    lo: int
    url: str
    pos: int = -1            # ids below this are still to read; -1: from ``hi``

    def __post_init__(self) -> None:
        if self.pos < 0:
            self.pos = self.hi

    def as_dict(self) -> dict[str, Any]:
        """The segment as the walk state saves it (job ids; ``[lo, pos)`` is still to read from ``url``)."""
        return {"hi": self.hi, "lo": self.lo, "url": self.url, "pos": self.pos}


class JobWalk:
    """One walk down the jobs list from its top to ``stop_id`` (exclusive) or ``since``;
    see the module doc. :meth:`resume` continues one from its saved :meth:`state`."""

    def __init__(self, client: GitlabClient, project_id: int, *, stop_id: int | None,
                 since: datetime | None, workers: int = 4, pages_per_segment: int = 24
                 ) -> None:
        self.client, self.project_id = client, project_id
        self.stop_id, self.since = stop_id, since
        self.workers = max(1, workers)
        self.pages_per_segment = max(1, pages_per_segment)
        self.top_id: int | None = None
        self.segments: list[Segment] = []
        self.next_hi: int | None = None     # where the next segment starts; None: no more
        self.cursor: JobsCursor | None = None
        self.cursor_url: str | None = None
        self.is_started = False
        self.floor_seen = 0                 # no job below this id is wanted (or exists)
        self.lowest_seen = TOP              # the lowest job id on any page read
        self.pages_read = 0
        self._pool: ThreadPoolExecutor | None = None
        self._ids_spanned = 0               # for the density estimate: ids per job
        self._jobs_spanned = 0

    # ------------------------------------------------------------------ construction
    @classmethod
    def resume(cls, client: GitlabClient, project_id: int, state: dict[str, Any], *,
               since: datetime | None, workers: int = 4, pages_per_segment: int = 24
               ) -> JobWalk:
        """Continue a walk from its saved :meth:`state`."""
        walk = cls(client, project_id, stop_id=state.get("stop_id"), since=since,
                   workers=workers, pages_per_segment=pages_per_segment)
        walk.is_started = True
        walk.top_id = state.get("top_id")
        if "segments" not in state:         # a walk saved before segments: one chain
            state = {"segments": [{"hi": TOP, "lo": 0, "url": state["next_url"]}]}
        walk.segments = [Segment(int(s["hi"]), int(s["lo"]), s["url"], int(s.get("pos", -1)))
                         for s in state["segments"]]
        walk.cursor_url = state.get("cursor_url")
        walk.cursor = JobsCursor.from_next_url(walk.cursor_url)
        walk.next_hi = state.get("next_hi") if walk.cursor else None
        walk.floor_seen = int(state.get("floor_seen", 0))
        walk.lowest_seen = int(state.get("lowest_seen", TOP))
        walk._ids_spanned = int(state.get("ids_spanned", 0))
        walk._jobs_spanned = int(state.get("jobs_spanned", 0))
        return walk

    # ------------------------------------------------------------------ state
    @property
    def is_complete(self) -> bool:
        """True when every segment is done and none is left to start."""
        return self.is_started and not self.segments and self.next_hi is None

    def state(self) -> dict[str, Any] | None:
        """What :meth:`resume` needs, for the pages yielded so far; None when complete."""
        if not self.is_started or self.is_complete:
            return None
        return {"top_id": self.top_id, "stop_id": self.stop_id, "next_hi": self.next_hi,
                "cursor_url": self.cursor_url, "floor_seen": self.floor_seen,
                "lowest_seen": self.lowest_seen,
                "segments": [s.as_dict() for s in self.segments],
                "ids_spanned": self._ids_spanned, "jobs_spanned": self._jobs_spanned}

    def read_above(self) -> int:
        """Every job with an id at or above this has been read (and yielded)."""
        if not self.is_started:
            return TOP
        unread = [s.pos for s in self.segments if s.pos > max(s.lo, self.floor_seen)]
        if self.next_hi is not None:
            unread.append(self.next_hi)
        return max(unread, default=self._floor_lo())

    # ------------------------------------------------------------------ the walk
    def pages(self) -> Iterator[list[dict]]:
        """Yield the kept job items (as the API sent them) of each page, as pages arrive."""
        if not self.is_started:
            items, nxt = fetch_job_page(self.client, self.project_id)
            self.is_started = True
            if items:
                self.top_id = int(items[0]["id"])
            top = Segment(TOP, self._floor_lo(), "")
            kept, is_done = self._take(top, items, nxt)
            if not is_done:
                # _take leaves a segment open only while the page has a ``next`` link
                assert nxt is not None
                self._split_below(top, items, nxt)
            yield kept
        if self.is_complete:
            return
        yield from self._pages_in_parallel()

    def join(self) -> None:
        """Wait for requests still running after the walk stopped early (after an error)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _pages_in_parallel(self) -> Iterator[list[dict]]:
        self._pool = pool = ThreadPoolExecutor(max_workers=self.workers,
                                               thread_name_prefix="jobs")
        in_flight: dict[Future, Segment] = {}
        try:
            self._fill(pool, in_flight)
            while in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for fut in done:
                    seg = in_flight.pop(fut)
                    items, nxt = fut.result()
                    if seg not in self.segments:    # below the floor found meanwhile
                        continue
                    kept, is_done = self._take(seg, items, nxt)
                    if is_done:
                        self.segments = [s for s in self.segments if s is not seg]
                    else:
                        seg.url = nxt
                    yield kept
                self._fill(pool, in_flight)
        finally:
            for fut in in_flight:
                fut.cancel()
            pool.shutdown(wait=False, cancel_futures=True)

    def _fill(self, pool: ThreadPoolExecutor, in_flight: dict[Future, Segment]) -> None:
        """Ask for the next page of up to ``workers`` segments, starting new ones as needed."""
        busy = {id(s) for s in in_flight.values()}
        for seg in list(self.segments):
            if len(in_flight) >= self.workers:
                return
            if id(seg) not in busy:
                in_flight[pool.submit(fetch_job_page, self.client, self.project_id,
                                      seg.url)] = seg
        while len(in_flight) < self.workers:
            new = self._next_segment() if self.next_hi is not None else self._split()
            if new is None:
                if self.next_hi is None:
                    return
                continue
            self.segments.append(new)
            in_flight[pool.submit(fetch_job_page, self.client, self.project_id,
                                  new.url)] = new

    # ------------------------------------------------------------------ segments
    def _floor_lo(self) -> int:
        """The lowest id the walk may still keep."""
        return max(self.floor_seen, 0 if self.stop_id is None else self.stop_id + 1)

    def _span(self) -> int:
        """Ids in one segment: ``pages_per_segment`` pages at the density seen so far."""
        per_job = self._ids_spanned / self._jobs_spanned if self._jobs_spanned else 1.0
        return max(1, math.ceil(per_job * PAGE_SIZE * self.pages_per_segment))

    def _next_segment(self) -> Segment | None:
        assert self.next_hi is not None and self.cursor is not None
        hi = self.next_hi
        lo = hi - self._span()
        if lo <= self._floor_lo():
            lo, self.next_hi = self._floor_lo(), None
        else:
            self.next_hi = lo
        if hi <= lo:
            return None
        return Segment(hi, lo, self.cursor.url_below(hi))

    def _split(self) -> Segment | None:
        """Near the end, a worker with nothing to start takes the lower half of the segment
        with the most left to read, so the walk ends with every worker busy rather than
        one segment read page by page. A split costs about one page more; it is made
        only where it saves at least ``SPLIT_PAGES / 2`` rounds."""
        if self.cursor is None or not self.segments:
            return None
        floor = self._floor_lo()                 # nothing below it is wanted or exists
        seg = max(self.segments, key=lambda s: s.pos - max(s.lo, floor))
        lo = max(seg.lo, floor)
        page_ids = self._span() / self.pages_per_segment          # ids on one page
        if seg.pos - lo < SPLIT_PAGES * page_ids:
            return None
        mid = (lo + seg.pos) // 2
        if self.lowest_seen >= mid and self.pages_read < BLIND_SPLIT_PAGES:
            return None     # no job seen that low: in a short walk, not worth a probe
        lower = Segment(mid, lo, self.cursor.url_below(mid))
        seg.lo = mid
        return lower

    def _split_below(self, top: Segment, items: list[dict], nxt: str) -> None:
        """After the first page: the segments below it (one chain if the cursor is unknown)."""
        last_id = int(items[-1]["id"])
        self.cursor = JobsCursor.from_next_url(nxt, last_id)
        if self.cursor is None:
            self.segments = [Segment(last_id, top.lo, nxt)]
            return
        self.cursor_url = nxt
        self.next_hi = last_id
        first = self._next_segment()
        if first is not None:              # None: the page ended just above the floor
            first.url = nxt                # the server's own link for the same place
            self.segments = [first]

    def _take(self, seg: Segment, items: list[dict], nxt: str | None
              ) -> tuple[list[dict], bool]:
        """The items of one page that belong to ``seg``, and whether ``seg`` is done.

        A page can also show the floor: a job at or below ``stop_id``, one created
        before ``since``, or (no ``next`` link) the oldest job there is.
        """
        kept: list[dict] = []
        is_done = nxt is None
        floor_at: int | None = None
        for item in items:
            job_id = int(item["id"])
            if job_id >= seg.hi:
                continue
            if self.stop_id is not None and job_id <= self.stop_id:
                is_done, floor_at = True, job_id
                break
            if job_id < seg.lo:
                is_done = True
                break
            if self.since is not None and parse_time(item["created_at"]) < self.since:
                is_done, floor_at = True, job_id
                break
            kept.append(item)
        if nxt is None:
            end = int(items[-1]["id"]) if items else seg.hi
            floor_at = end if floor_at is None else max(floor_at, end)
        self.pages_read += 1
        if items:
            seg.pos = min(seg.pos, int(items[-1]["id"]))
            self.lowest_seen = min(self.lowest_seen, int(items[-1]["id"]))
        if len(kept) > 1:
            self._ids_spanned += int(kept[0]["id"]) - int(kept[-1]["id"])
            self._jobs_spanned += len(kept) - 1
        if floor_at is not None:
            self._reach_floor(floor_at)
        return kept, is_done

    def _reach_floor(self, job_id: int) -> None:
        """No job below ``job_id`` is wanted: drop the segments there, start none below."""
        self.floor_seen = max(self.floor_seen, job_id)
        if self.next_hi is not None and self.next_hi <= job_id:
            self.next_hi = None
        self.segments = [s for s in self.segments if s.hi > job_id]
