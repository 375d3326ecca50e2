"""Fetch a project's CI history from GitLab into a dataset: incremental and resumable.

Phases, each gentle on the API:

1. **project**   one request: id, registry on/off, ``container_registry_size``;
2. **pipelines** by ``updated_after`` (the watermark), oldest update first, 100 a page;
   then the child pipelines the same way (GitLab's list omits them unless asked with
   ``source=parent_pipeline``; their jobs are in the jobs list): one more request when
   nothing changed, with a watermark of their own;
3. **jobs**      project-wide, newest first, keyset-paginated, stopping at the newest
   job already stored; never one request per pipeline; ``workers`` id ranges walked at
   once (:mod:`cachecost.collect.gitlab.jobwalk`). Retried attempts are kept and flagged;
   **changed_jobs**: the jobs of pipelines GitLab changed in place since they were stored
   (a skipped job run again after a retry, a manual job played, a job stored unfinished)
   read again, their pipelines found by the ``updated_after`` pass
   (:mod:`cachecost.collect.gitlab.changed`); only ``success``, ``failed`` and
   ``canceled`` jobs count as final;
4. **logs**      a sample of container-build logs (``logs_per_image`` per job name),
   classified by :mod:`cachecost.collect.buildlog`; they also teach the job->image mapping
   (:mod:`cachecost.collect.mapping`);
5. **registry**  repositories, deduplicated sizes and tag details, skipped when
   ``container_registry_size`` has not changed since the last fetch; a figure below
   the project's own tags is stored as unknown (:mod:`cachecost.collect.registryphase`);
6. **measure**   image changes from the repository, fork activity and the namespace's
   registry usage (:mod:`cachecost.collect.measure`); a refused part is one warning.

Before the pipelines' times, the pipelines of stored jobs that the list did not show are
read by id (``_Fetch.fetch_unlisted_pipelines``), so every job's pipeline is
stored, as :func:`cachecost.dataset.io.load_dataset` requires.

Pipelines and registry do not depend on the jobs, so a side thread asks for them
while the jobs walk and the logs run; each phase keeps at most ``workers``
requests in flight.

Durability: every table write is atomic (:func:`cachecost.dataset.io.write_table`)
and ``fetch_state.json`` (the watermarks) is written only after the data it
describes. Rows merge by id, so a rerun after a crash, Ctrl-C or dropped
connection re-asks at most one checkpoint's worth and never stores duplicates.
A jobs walk cut short resumes from the ``next`` links it saved, one per id range.

    result = run_fetch("https://gitlab.com", "qemu-project/qemu", since="2025-09-01")
    print(result.summary())
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from cachecost.collect.buildlog import classify_build_log
from cachecost.collect.derive import apply_mapping, flag_retried
from cachecost.collect.fetchopts import (
    MAX_WORKERS,
    FetchOptions,
    FetchResult,
    parse_since,
    progress_bar,
)
from cachecost.collect.gitlab.changed import (
    alive_pipelines,
    changed_pipelines,
    pipelines_to_reread,
    read_jobs_again,
)
from cachecost.collect.gitlab.client import GitlabClient, connect
from cachecost.collect.gitlab.joblogs import log_cut_at
from cachecost.collect.gitlab.jobs import JobColumns
from cachecost.collect.gitlab.jobwalk import TOP, JobWalk
from cachecost.collect.gitlab.pipelines import (
    CHILD_SOURCE,
    PIPELINE_DONE_STATUSES,
    derive_pipeline_times,
    fetch_pipeline_details,
    iter_pipeline_pages,
)
from cachecost.collect.gitlab.projects import ProjectInfo, get_project
from cachecost.collect.logsample import LogSample
from cachecost.collect.mapping import load_mapping
from cachecost.collect.measure import run_measurements
from cachecost.collect.registryphase import RegistryPhase
from cachecost.collect.store import (
    Checkpoints,
    Store,
    merge_by_id,
    rows_to_frame,
    to_schema,
)
from cachecost.collect.walksave import WalkSaver
from cachecost.config import default_data_dir, removed_on_failure
from cachecost.dataset.io import empty_table, write_metadata
from cachecost.dataset.schema import SCHEMA_VERSION
from cachecost.errors import CachecostError, FetchInterrupted

_KEYS = {"pipelines": "pipeline_id", "jobs": "job_id"}


def _iso(ts: pd.Timestamp | None) -> str | None:
    return None if ts is None or pd.isna(ts) else ts.isoformat()


# --------------------------------------------------------------------------- the fetch


class _Fetch:
    """One fetch run; phases are methods, shared state lives here."""

    def __init__(self, client: GitlabClient, project_path: str, data_dir: Path,
                 options: FetchOptions) -> None:
        self.client, self.project_path, self.options = client, project_path, options
        self.store = Store(data_dir, client.url, project_path)
        st = self.store.state
        if options.since is not None and st["since"] is None and \
                st["jobs"]["complete_max_id"] is None:
            st["since"] = _iso(options.since)
        self.since = pd.Timestamp(st["since"]) if st["since"] else options.since
        self.mapper = load_mapping(options.mapping_file, st.get("learned_images"),
                                   st.get("learned_not_builds"),
                                   st.get("measure", {}).get("image_changes"))
        self.result = FetchResult(data_dir, client.url, project_path)
        self._project: ProjectInfo | None = None     # set by the first phase
        self._stopping = threading.Event()
        # the jobs walk, the side thread and the log sample each keep ``workers`` threads;
        # all together never more than twice that many requests are in flight
        client.limit_in_flight(2 * options.workers)
        self._logs: LogSample | None = None
        self.unsaved_top: int | None = None     # a complete walk's watermark, not yet saved
        self._walks: list[JobWalk] = []
        self.registry = RegistryPhase(client, self.store, options)
        #: the pipelines table as last saved (by the pipeline_times phase)
        self.pipelines: pd.DataFrame = empty_table("pipelines")
        self._measure_kinds: Counter[str] = Counter()
        self._measure_parts: Counter[str] = Counter()
        # jobs changed in place (cachecost.collect.gitlab.changed), set by _prepare_reread
        self.jobs: pd.DataFrame = empty_table("jobs")
        self._had_jobs: frozenset[int] = frozenset()
        self._alive: set[int] = set()
        self._fetch_started: pd.Timestamp | None = None
        self._pipelines_listed = threading.Event()
        self._reread_done: frozenset[int] = frozenset()
        self._logs_cut: dict[int, int] = {}       # sampled logs GitLab Runner cut: id -> bytes

    @property
    def project(self) -> ProjectInfo:
        """The project read by :meth:`fetch_project`, the first phase; every later phase uses it."""
        if self._project is None:
            raise RuntimeError("the project is read first (fetch_project) before any other phase")
        return self._project

    @property
    def logs(self) -> LogSample:
        """The build-log sample that :meth:`fetch_jobs` opens; the walks and the logs phase feed it."""
        if self._logs is None:
            raise RuntimeError("the log sample is opened by fetch_jobs before any walk runs")
        return self._logs

    def _phase(self, name: str, fn) -> None:
        t0 = time.monotonic()
        try:
            fn()
        finally:
            self.result.seconds_by_phase[name] = round(time.monotonic() - t0, 3)

    def run(self) -> FetchResult:
        try:
            return self._run()
        except FetchInterrupted as exc:      # say what is on disk: something, or nothing
            raise FetchInterrupted(f"{exc}; {self.store.describe_saved()}") from None

    def _run(self) -> FetchResult:
        t0 = time.monotonic()
        self._phase("project", self.fetch_project)
        self._prepare_reread()
        # The pipelines list and the registry do not depend on the jobs: a side thread
        # asks for them while the jobs walk runs (each phase keeps ``workers`` at once).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="side") as side:
            beside = side.submit(self._side_phases)
            try:
                self._phase("jobs", self.fetch_jobs)
                self.settle_jobs()
            except BaseException:
                self._stopping.set()         # the side thread saves what it has and stops
                self.client.abort()          # requests still running or retrying give up
                for walk in self._walks:
                    walk.join()
                raise
            finally:
                if self._logs is not None:
                    self._logs.close()
            beside.result()
        self._project = self.registry.judge(self.project)   # an unmeasured figure: None
        self._phase("unlisted_pipelines", self.fetch_unlisted_pipelines)
        self._phase("pipeline_times", self.fill_pipeline_times)
        if self.options.measure:
            self._phase("measure", self.measure)
        self.result.registry_note = self.registry.save(self.mapper.known_images())
        self.write_metadata()
        self.result.elapsed_s = time.monotonic() - t0
        self.result.requests = self.client.requests
        by_kind = self.client.requests_by_kind.copy()
        by_kind.subtract(self._measure_kinds)     # the measure phase's, by part instead
        by_kind.update(self._measure_parts)
        self.result.requests_by_phase = dict(sorted((k, n) for k, n in by_kind.items() if n))
        self.result.retries = self.client.retries
        self.result.rate_limit_paused_s = self.client.rate_limit.paused_s
        self.result.jobs_watermark = self.store.state["jobs"]["complete_max_id"]
        return self.result

    def _side_phases(self) -> None:
        try:
            self._phase("pipelines", self.fetch_pipelines)
        finally:
            self._pipelines_listed.set()
        if not self._stopping.is_set():
            self._phase("registry", lambda: self.registry.download(self.project))

    # ---------------------------------------------------------------- phases
    def fetch_project(self) -> None:
        # First contact: fail fast (no long retry loop) on a wrong URL.
        self._project = get_project(self.client, self.project_path, attempts=2)
        self.registry.reported_size = self._project.container_registry_size_bytes

    def _prepare_reread(self) -> None:
        """What the stored data say before this fetch changes them (rules 1-3 of
        :mod:`cachecost.collect.gitlab.changed`), and GitLab's time as it starts."""
        self.jobs = self.store.load("jobs")
        self.store.state["jobs"].setdefault("stale_pipelines", [])
        self.store.state["jobs"].setdefault("gone_pipelines", [])
        self._had_jobs = frozenset(int(i) for i in self.jobs["pipeline_id"].unique())
        self._alive = alive_pipelines(self.jobs, self.store.load("pipelines")) - set(
            self.store.state["jobs"].get("gone_pipelines", []))
        started = self.client.first_answer_at
        self._fetch_started = None if started is None else pd.Timestamp(started)

    def fetch_pipelines(self) -> None:
        """The pipelines list, then the child pipelines it omits, each from its watermark."""
        pipes = self.store.load("pipelines")
        for source, mark in ((None, "updated_after"), (CHILD_SOURCE, "child_updated_after")):
            pipes = self._fetch_pipeline_list(pipes, source, mark)
            if self._stopping.is_set():
                break
        if not self.store.has("pipelines"):
            self.store.save("pipelines", pipes)

    def _fetch_pipeline_list(self, pipes: pd.DataFrame, source: str | None, mark: str
                             ) -> pd.DataFrame:
        st = self.store.state["pipelines"]
        after = (pd.Timestamp(st[mark]) - pd.Timedelta(seconds=1)
                 if st.get(mark) else self.since)
        buffer: list[dict] = []
        newest = pd.Timestamp(st[mark]) if st.get(mark) else None

        def flush() -> None:
            nonlocal pipes, buffer
            if not buffer:
                return
            listed = rows_to_frame(buffer, "pipelines")
            stale = pipelines_to_reread(listed, pipes, self._had_jobs, self._fetch_started)
            # the list starts a second before the watermark (inclusive): count only the
            # pipelines new or changed against the stored rows, not those listed again
            self.result.pipelines_fetched += int(listed.loc[changed_pipelines(
                listed, pipes), "pipeline_id"].nunique())
            pipes = merge_by_id(pipes, listed, "pipeline_id")
            self.store.save("pipelines", pipes)     # data first ...
            st[mark] = _iso(newest)
            jobs_st = self.store.state["jobs"]      # whose jobs to read again: kept until read
            jobs_st["stale_pipelines"] = sorted(set(jobs_st["stale_pipelines"]) | stale)
            self.store.save_state()                 # ... then the watermark
            buffer = []

        checkpoint = Checkpoints(self.options.checkpoint_pages, self.options.checkpoint_s)
        with progress_bar(self.options, "pipelines", "pipeline") as bar:
            try:
                for rows in iter_pipeline_pages(self.client, self.project.project_id, after,
                                                source=source):
                    buffer.extend(rows)
                    if rows:
                        top = max(r["updated_at"] for r in rows)
                        newest = top if newest is None else max(newest, top)
                    bar.update(len(rows))
                    if self._stopping.is_set():
                        break
                    if checkpoint.is_due():
                        flush()
            finally:
                flush()
        return pipes

    def fetch_jobs(self) -> None:
        """Walk the jobs list down to the newest job stored (jobs changed in place below it:
        :meth:`reread_changed`)."""
        st = self.store.state["jobs"]
        pid, opts = self.project.project_id, self.options
        self._logs = LogSample(
            self.client, pid, self.mapper, per_name=opts.logs_per_image,
            above=self.store.state["logs"]["sampled_above_id"],
            classified=set(self.jobs.loc[self.jobs["cache_outcome"].notna(), "job_id"]),
            workers=opts.workers)
        with progress_bar(self.options, "jobs", "job") as bar:
            if st["walk"]:       # an older walk, below the new one: it settles no log pick
                self._walk_jobs(JobWalk.resume(
                    self.client, pid, st["walk"], since=self.since, workers=opts.workers,
                    pages_per_segment=opts.pages_per_segment), bar, settles_logs=False)
            self._walk_jobs(JobWalk(
                self.client, pid, stop_id=st["complete_max_id"], since=self.since,
                workers=opts.workers, pages_per_segment=opts.pages_per_segment), bar,
                defers_last_save=True)
        # retry flags and images: derived once, after the walks; the logs phase saves them
        self.jobs = apply_mapping(flag_retried(self.jobs), self.mapper)

    def _walk_jobs(self, walk: JobWalk, bar: tqdm, *, settles_logs: bool = True,
                   defers_last_save: bool = False) -> None:
        """Run one walk, saving rows and then the walk's state every few pages.

        A checkpoint is written by a writer thread while the walk goes on (the walk
        would otherwise stand idle for as long as a table write takes); checkpoints are
        written one at a time and in order, each with the walk state of its own rows.
        With ``defers_last_save``, a walk that completes leaves its last write to the
        logs phase (:meth:`_save_jobs`), which writes the jobs table anyway.
        """
        self._walks.append(walk)
        saver = WalkSaver(self, walk)
        checkpoint = Checkpoints(self.options.checkpoint_pages, self.options.checkpoint_s)
        try:
            for items in walk.pages():
                saver.buffer.add(items)
                self.logs.see(items, walk.read_above() if settles_logs else TOP)
                self.result.jobs_fetched += len(items)
                bar.update(len(items))
                if checkpoint.is_due():
                    saver.flush(wait=False)
        except BaseException:
            try:
                saver.flush(wait=True)
            finally:
                saver.shutdown()
            raise
        try:
            saver.finish() if defers_last_save and walk.is_complete else saver.flush(wait=True)
        finally:
            saver.shutdown()

    def _save_jobs(self) -> None:
        """Write the jobs table, then the watermarks of a walk whose last write waited and
        the pipelines whose jobs were read again."""
        self.store.save("jobs", self.jobs)
        st = self.store.state["jobs"]
        if self.unsaved_top is not None:
            st["walk"] = None
            st["complete_max_id"] = max(self.unsaved_top, st["complete_max_id"] or 0)
            self.unsaved_top = None
        if self._reread_done:
            st["stale_pipelines"] = sorted(set(st["stale_pipelines"]) - self._reread_done)
            self._reread_done = frozenset()
        self.store.save_state()

    def settle_jobs(self) -> None:
        """Read again what changed in place, then the log sample; save the jobs once."""
        try:
            self._phase("changed_jobs", self.reread_changed)
            self._phase("logs", self.fetch_logs)
        finally:
            self._save_jobs()              # data first, then what the walk and sample did

    def reread_changed(self) -> None:
        """Read again the jobs of pipelines GitLab changed in place, after the pipelines
        list named them (rules and ways: :mod:`cachecost.collect.gitlab.changed`)."""
        self._pipelines_listed.wait()
        ids = set(self.store.state["jobs"]["stale_pipelines"]) | self._alive
        if not ids:
            return
        walks: list[JobWalk] = self._walks     # joined if the fetch fails meanwhile
        items, gone = read_jobs_again(self.client, self.project.project_id, ids, self.jobs,
                                      since=self.since, workers=self.options.workers,
                                      pages_per_segment=self.options.pages_per_segment,
                                      on_walk=walks.append)
        if gone:            # deleted: their stored jobs stay as stored, never asked for again
            st = self.store.state["jobs"]
            st["gone_pipelines"] = sorted(set(st["gone_pipelines"]) | gone)
        if items:
            rows = to_schema(JobColumns().add(items).frame(), "jobs")
            self.jobs = apply_mapping(flag_retried(merge_by_id(self.jobs, rows, "job_id")),
                                      self.mapper)
        self._reread_done = frozenset(ids)
        self.result.pipelines_reread, self.result.jobs_reread = len(ids), len(items)

    def fetch_logs(self) -> None:
        """Read and classify a sample of build logs (the caller saves the jobs)."""
        n = self.options.logs_per_image
        st = self.store.state
        if n > 0 and not self.jobs.empty:
            self._read_log_sample(n)
            st["learned_images"] = dict(sorted(self.mapper.learned.items()))
            st["learned_not_builds"] = sorted(self.mapper.learned_not_builds)
            st["logs"]["sampled_above_id"] = int(self.jobs["job_id"].max())
            if self._logs_cut:                 # job id (text: JSON keys) -> the byte limit
                st["logs"]["cut_bytes"] = {**st["logs"].get("cut_bytes", {}),
                                           **{str(i): n for i, n in self._logs_cut.items()}}

    def _read_log_sample(self, n: int) -> None:
        jobs = self.jobs
        above = self.store.state["logs"]["sampled_above_id"]
        cand = jobs[jobs["is_container_build"] & (jobs["status"] == "success")
                    & jobs["cache_outcome"].isna()]
        if above is not None:
            cand = cand[cand["job_id"] > above]
        # n most recent per job name (the image is not known before the log is read)
        pick = cand.sort_values("job_id", ascending=False).groupby("name").head(n)
        results: dict[int, Any] = {}
        names = dict(zip(pick["job_id"], pick["name"], strict=True))
        with progress_bar(self.options, "build logs", "log", total=len(pick)) as bar:
            for job_id, text in self.logs.texts(pick["job_id"].tolist()):
                results[job_id] = classify_build_log(text)
                if (limit := log_cut_at(text)) is not None:
                    self._logs_cut[int(job_id)] = limit
                self.mapper.learn_from_log(names[job_id], text)
                bar.update(1)
        # a job whose log shows it builds nothing has no cache outcome either
        results = {i: r for i, r in results.items()
                   if names[i] not in self.mapper.learned_not_builds}
        if not results:
            return
        idx = jobs["job_id"].isin(list(results))
        ids = jobs.loc[idx, "job_id"]
        jobs.loc[idx, "cache_outcome"] = ids.map(lambda i: results[i].outcome).to_numpy()
        jobs.loc[idx, "cached_steps"] = ids.map(lambda i: results[i].cached_steps).to_numpy()
        jobs.loc[idx, "executed_steps"] = ids.map(
            lambda i: results[i].executed_steps).to_numpy()
        jobs.loc[idx, "builder"] = ids.map(lambda i: results[i].builder).to_numpy()
        jobs.loc[idx, "run_steps"] = ids.map(lambda i: results[i].run_steps).to_numpy()
        self.result.outcomes.update(r.outcome for r in results.values())
        self.result.logs_read = len(results)
        self.jobs = apply_mapping(jobs, self.mapper)    # the logs may have named more images

    def fetch_unlisted_pipelines(self) -> None:
        """The pipelines of stored jobs the pipelines list did not show, one request each.

        The list pages by offset in ``updated_at`` order, so a pipeline updated while it
        is paged moves past pages already read and one listed after it is skipped; a
        pipeline created after the list's last page and before the jobs walk read its
        jobs is not listed either. A pipeline answered 404 was deleted since its jobs were
        read (GitLab deletes its jobs with it): those jobs are left out, with a warning.
        So every stored job's pipeline is stored (``cachecost.dataset.io.check_ids``).
        """
        pipes = self.store.load("pipelines")
        missing = sorted(set(self.jobs["pipeline_id"].astype(int))
                         - set(pipes["pipeline_id"].astype(int)))
        if not missing:
            return
        gone: set[int] = set()
        rows = fetch_pipeline_details(self.client, self.project.project_id, missing,
                                      workers=self.options.workers, gone=gone)
        self.result.pipelines_fetched += len(rows)
        self.store.save("pipelines", merge_by_id(pipes, rows_to_frame(rows, "pipelines"),
                                                 "pipeline_id"))
        if gone:
            dropped = self.jobs["pipeline_id"].isin(gone)
            n = int(dropped.sum())
            self.result.warnings.append(
                f"{n:,} job{'s' if n != 1 else ''} of {len(gone):,} "
                f"pipeline{'s' if len(gone) != 1 else ''} deleted during the fetch (first: "
                f"pipeline {min(gone)}) left out")
            self.jobs = self.jobs[~dropped].reset_index(drop=True)
            self._save_jobs()

    def fill_pipeline_times(self) -> None:
        pipes = self.pipelines = self.store.load("pipelines")
        if pipes.empty:
            return
        if self.options.pipeline_durations == "details":
            todo = pipes.loc[pipes["status"].isin(PIPELINE_DONE_STATUSES)
                             & pipes["duration_s"].isna(), "pipeline_id"].tolist()
            with progress_bar(self.options, "pipeline details", "pipeline", len(todo)):
                rows = fetch_pipeline_details(self.client, self.project.project_id, todo,
                                              workers=self.options.workers)
            self.result.pipeline_details_fetched = len(rows)
            pipes = merge_by_id(pipes, rows_to_frame(rows, "pipelines"), "pipeline_id")
        else:
            pipes = derive_pipeline_times(pipes, self.jobs)
        self.store.save("pipelines", pipes)
        self.pipelines = pipes

    def measure(self) -> None:
        """Image changes, forks, registry usage (after the other phases: counted apart)."""
        pipes = self.pipelines
        start = self.since if self.since is not None else (
            pipes["created_at"].min() if len(pipes) else pd.Timestamp.now(tz="UTC"))
        before = self.client.requests_by_kind.copy()
        report = run_measurements(self.client, self.store, self.project, start,
                                  workers=self.options.workers,
                                  fork_budget=self.options.fork_request_budget)
        self._measure_kinds = self.client.requests_by_kind - before
        self._measure_parts = Counter({f"measure:{k}": n for k, n in report.requests.items()})
        self.result.warnings += report.warnings
        self.result.measure_notes += report.notes
        ci = self.store.state.get("measure", {}).get("image_changes") or {}
        self.mapper.use_ci_config(ci.get("ci_jobs"), ci.get("ci_builds"))
        remapped = apply_mapping(self.jobs, self.mapper)  # the CI configuration's builds
        if not remapped[["is_container_build", "image"]].equals(
                self.jobs[["is_container_build", "image"]]):
            self.jobs = remapped
            self._save_jobs()

    def write_metadata(self) -> None:
        jobs = self.jobs
        repos = self.store.load("registry_repositories")
        tags = self.store.load("registry_tags")
        container = jobs[jobs["is_container_build"]] if not jobs.empty else jobs
        self.result.totals = {
            "pipelines": len(self.pipelines), "jobs": len(jobs),
            "retried_jobs": int(jobs["is_retried"].sum()) if len(jobs) else 0,
            "container_jobs": len(container),
            "unmapped_container_jobs": int(container["image"].isna().sum()),
            "registry_repositories": len(repos), "registry_tags": len(tags),
        }
        st = self.store.state
        write_metadata(self.store.path, {
            "schema_version": SCHEMA_VERSION,
            "source": "gitlab",
            "instance_url": self.client.url,
            "project_path": self.project_path,
            "project_id": self.project.project_id,
            "fetched_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            # the stand-in marks its answers (client.SYNTHETIC_HEADER); a real GitLab never
            "is_synthetic": self.client.is_synthetic,
            "since": st["since"],
            "container_registry_size_bytes": self.project.container_registry_size_bytes,
            # what GitLab sent, and why the figure above is null though it sent one
            "container_registry_size_reported_bytes": self.registry.reported_size,
            **({"container_registry_size_note": self.registry.size_note}
               if self.registry.size_note else {}),
            "registry_note": self.result.registry_note,
            "pipeline_durations": ("pipeline details (GET /pipelines/:id)"
                                   if self.options.pipeline_durations == "details"
                                   else "derived from jobs"),
            "unmapped_container_jobs": self.result.totals["unmapped_container_jobs"],
            "learned_job_images": st.get("learned_images", {}),
            # sampled logs cut at GitLab Runner's output limit: their step counts are a
            # lower bound (job id -> the limit in bytes)
            "job_logs_cut_bytes": st["logs"].get("cut_bytes", {}),
            "jobs_building_no_image": st.get("learned_not_builds", []),
            **({"registry_usage": st["measure"]["registry_usage"]}
               if st.get("measure", {}).get("registry_usage") else {}),
            **({"image_inputs": st["measure"]["image_changes"]["inputs"]}
               if st.get("measure", {}).get("image_changes", {}).get("inputs") else {}),
        })


def fetch_project_history(client: GitlabClient, project_path: str, data_dir: str | Path,
                          options: FetchOptions | None = None) -> FetchResult:
    """Fetch (or continue fetching) ``project_path`` into ``data_dir``; see the module doc.

    A fetch that fails before it saved any table removes the directories it made
    for ``data_dir`` (a watermark file alone is not worth a folder); an existing
    ``data_dir`` is kept as it is.
    """
    fetch: _Fetch | None = None
    with removed_on_failure(data_dir, keep=lambda: fetch is not None and fetch.store.has_tables_written()):
        fetch = _Fetch(client, project_path.strip("/"), Path(data_dir),
                       options or FetchOptions())
        return fetch.run()


def run_fetch(url: str | None, project: str, *, since: str | None = None,
              data_dir: str | Path | None = None, gitlab_config: str | None = None,
              logs_per_image: int = 2, mapping: str | None = None,
              pipeline_durations: str = "jobs", show_progress: bool = False,
              max_retries: int | None = None, workers: int = 4) -> FetchResult:
    """Resolve credentials, connect and fetch: what ``cachecost fetch`` and the notebook call.

    The token comes from the environment or python-gitlab's config file only.
    """
    if not project or project.strip("/").count("/") < 1:
        raise CachecostError(f"--project {project!r} is not a path like group/project")
    options = FetchOptions(since=parse_since(since), logs_per_image=logs_per_image,
                           mapping_file=mapping, pipeline_durations=pipeline_durations,
                           show_progress=show_progress, workers=workers)
    if logs_per_image < 0:
        raise CachecostError("--logs-per-image must be 0 or more")
    if not 1 <= workers <= MAX_WORKERS:
        raise CachecostError(f"--workers must be between 1 and {MAX_WORKERS}, not {workers}")
    client = connect(url, gitlab_config, max_retries=max_retries)
    try:
        target = Path(data_dir) if data_dir else default_data_dir(client.url, project)
        return fetch_project_history(client, project, target, options)
    finally:
        client.close()
