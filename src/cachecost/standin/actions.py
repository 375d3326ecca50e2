"""GitLab's rules for jobs that run again, applied to the stand-in: retry, play, reset skipped.

What GitLab does (gitlabhq, read for this module):

* ``POST /projects/:id/jobs/:job_id/retry`` (``lib/api/ci/jobs.rb``): 201 and the new job
  (``Entities::Ci::Job``), or 403 ``Job is not retryable``. ``Ci::RetryJobService`` clones the
  job under a **new, higher id** (the old one becomes ``retried``); only the latest attempt of
  a ``success``, ``failed`` or ``canceled`` job is retryable (``Ci::Processable#retryable?``).
  Then ``Ci::ResetSkippedJobsService`` processes the pipeline's **skipped** jobs of later stages
  again **under their own ids** (``pipeline.processables.after_stage(stage_idx).skipped`` →
  ``job.process``).
* ``POST /projects/:id/jobs/:job_id/play``: 200 and the job, or 400 ``Unplayable Job`` unless
  ``playable?`` (``action? && (manual? || scheduled? || retryable?)``). ``Ci::PlayBuildService``
  → ``Ci::EnqueueJobService``: ``job.enqueue!`` on the **same job** (same id), then
  ``ResetSkippedJobsService``; a manual job that already ran cannot be enqueued
  (``StateMachines::InvalidTransition``) and is retried instead.
* ``app/models/commit_status.rb``: ``success``, ``failed`` and ``canceled`` have no transition
  out; ``skipped`` and ``manual`` do (``process`` → ``created``, ``enqueue`` → ``pending``).
* A pipeline whose job runs again is running again: its status, ``finished_at``, ``duration``
  and ``updated_at`` change (``Ci::PipelineProcessing::AtomicProcessingService``).

The stand-in applies an action at its clock ``T`` (:attr:`StandinData.now`; the end of
history when unset) and moves the clock never back: a new run is queued ``QUEUED_S``
seconds, then runs for its duration (the job's own when it has one, else a fixed one per
id), ``status`` ``success`` unless :attr:`StandinData.run_outcomes` says otherwise. Jobs of a
later stage wait for the stage before them; a stage with a failure leaves the stages after it
skipped, as GitLab skips them again. Actions need every pipeline of the history created
(clock at or past the last one), so that a new id is the highest, as GitLab's ids are.

    actions.make_manual(data, [job_id])             # history: a `when: manual` job not played
    actions.skip_after_failures(data)               # history: later stages skipped after a failure
    new = actions.retry_job(data, failed_id)        # the clone's JSON, status pending
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from cachecost.standin.data import format_time

if TYPE_CHECKING:
    from cachecost.standin.data import StandinData

#: Seconds from enqueue to start of every new run (GitLab: ``queued_duration``).
QUEUED_S = 5.0
#: Seconds between one stage's last job finishing and the next stage's jobs being enqueued.
STAGE_GAP_S = 2.0
_FINISHED = ("success", "failed", "canceled")
_RUNNER = "shared-runners-manager-1.gitlab.com"


class ActionRefused(Exception):
    """GitLab refuses the action: ``status`` (400, 403, 404) and its ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def default_duration_s(job_id: int) -> float:
    """The run time of a job that has none of its own (skipped, manual): 60-599 s by id."""
    return float(60 + (int(job_id) * 37) % 540)


# ---------------------------------------------------------------------- history (setup)


def make_manual(data: StandinData, job_ids: list[int]) -> None:
    """Rewrite history: these jobs are ``when: manual`` jobs nobody played (status ``manual``,
    no times, allowed to fail so the pipeline does not wait for them). Call before serving."""
    with data._lock:
        jobs = data._jobs
        m = jobs["job_id"].isin(job_ids)
        _clear_run(jobs, m)
        jobs.loc[m, "status"] = "manual"
        jobs.loc[m, "is_allowed_failure"] = True
        jobs["is_action"] = jobs.get("is_action", pd.Series(False, index=jobs.index)) | m
        for pid in jobs.loc[m, "pipeline_id"].unique():
            _settle_pipeline(data, int(pid), touched_at=None)
        _changed(data)


def skip_after_failures(data: StandinData, pipeline_ids: list[int] | None = None) -> list[int]:
    """Rewrite history: in each pipeline with a failed job (not allowed to fail), the jobs of
    later stages are ``skipped``, as GitLab leaves them. Returns the skipped job ids."""
    skipped: list[int] = []
    with data._lock:
        jobs = data._jobs
        rank = stage_rank(data)
        latest = _latest(jobs)
        bad = jobs[latest & (jobs["status"] == "failed") & ~jobs["is_allowed_failure"]]
        if pipeline_ids is not None:
            bad = bad[bad["pipeline_id"].isin(pipeline_ids)]
        for pid, fails in bad.groupby("pipeline_id"):
            pid = cast(int, pid)
            first = min(rank[s] for s in fails["stage"])
            m = (jobs["pipeline_id"] == pid) & (jobs["stage"].map(rank) > first)
            _clear_run(jobs, m)
            jobs.loc[m, "status"] = "skipped"
            skipped += jobs.loc[m, "job_id"].astype(int).tolist()
            _settle_pipeline(data, int(pid), touched_at=None)
        _changed(data)
    return sorted(skipped)


# ---------------------------------------------------------------------- actions


def retry_job(data: StandinData, job_id: int) -> dict:
    """``POST /jobs/:job_id/retry``: the clone's API object as GitLab answers it (pending)."""
    t, row = _current(data, job_id)
    with data._lock:
        if not _is_retryable(data, row):
            raise ActionRefused(403, "403 Forbidden - Job is not retryable")
        clone = _clone(data, row, t)
        _reset_skipped(data, row, ready_at=clone["finished_at"],
                       ran_ok=clone["status"] == "success" or bool(row["is_allowed_failure"]))
        _settle_pipeline(data, int(row["pipeline_id"]), touched_at=t)
        _changed(data)
        return _as_queued(data, clone)


def retry_pipeline(data: StandinData, pipeline_id: int) -> dict:
    """``POST /pipelines/:pipeline_id/retry`` (201 and the pipeline): every latest failed or
    canceled job cloned, then every skipped job processed again under its own id
    (``Ci::RetryPipelineService``: ``retryable_builds`` ... ``processables.latest.skipped``)."""
    t = data._clock()
    detail = data.pipeline_detail(pipeline_id)
    if detail is None:
        raise ActionRefused(404, "404 Not found")
    with data._lock:
        jobs = data._jobs
        mine = jobs[jobs["pipeline_id"] == pipeline_id]
        again = mine[_latest(mine) & mine["status"].isin(["failed", "canceled"])]
        ready, all_ok = t, True
        for row in again.to_dict("records"):
            clone = _clone(data, row, t)
            ready = max(ready, clone["finished_at"])
            all_ok &= clone["status"] == "success" or bool(row["is_allowed_failure"])
        if len(again):
            first = min(again["stage"], key=lambda st: stage_rank(data)[st])
            _reset_skipped(data, {"pipeline_id": pipeline_id, "stage": first},
                           ready_at=ready, ran_ok=all_ok)
        _settle_pipeline(data, pipeline_id, touched_at=t)
        _changed(data)
    return cast(dict, data.pipeline_detail(pipeline_id))


def play_job(data: StandinData, job_id: int) -> dict:
    """``POST /jobs/:job_id/play``: the same job enqueued (or, if it already ran, retried)."""
    t, row = _current(data, job_id)
    if not row["is_action"]:
        raise ActionRefused(400, "400 Bad request - Unplayable Job")
    if row["status"] != "manual":
        with data._lock:
            is_retryable = _is_retryable(data, row)
        if not is_retryable:
            raise ActionRefused(400, "400 Bad request - Unplayable Job")
        return retry_job(data, job_id)              # PlayBuildService#retry_build
    with data._lock:
        jobs = data._jobs
        i = jobs.index[jobs["job_id"] == job_id][0]
        run = _run(data, int(job_id), t, own_s=np.nan)
        for k, v in run.items():
            jobs.at[i, k] = v
        jobs.at[i, "true_outcome"] = data._true_outcome(SimpleNamespace(**jobs.loc[i].to_dict()))
        _reset_skipped(data, row, ready_at=run["finished_at"],
                       ran_ok=run["status"] == "success" or bool(row["is_allowed_failure"]))
        _settle_pipeline(data, int(row["pipeline_id"]), touched_at=t)
        _changed(data)
        return _as_queued(data, jobs.loc[i].to_dict())


# ---------------------------------------------------------------------- rules


def stage_rank(data: StandinData) -> dict[str, int]:
    """Stage order (GitLab's ``stage_idx``): by the first time a job of the stage started."""
    first = data._jobs.groupby("stage")["created_at"].min()
    started = data._jobs.groupby("stage")["started_at"].min()
    order = started.fillna(first).sort_values()
    return {stage: i for i, stage in enumerate(order.index)}


def _latest(jobs: pd.DataFrame) -> pd.Series:
    return jobs["job_id"] == jobs.groupby(["pipeline_id", "name"])["job_id"].transform("max")


def _current(data: StandinData, job_id: int) -> tuple[pd.Timestamp, dict]:
    """The clock and the job as served now; 404 when there is none."""
    t = data._clock()
    if (data._pipelines["created_at"] > t).any():
        raise RuntimeError("stand-in actions need the clock past the last pipeline's creation")
    view = data._view()[1]
    hit = view[view["job_id"] == job_id]
    if hit.empty:
        raise ActionRefused(404, "404 Job Not Found")
    row = hit.iloc[0].to_dict()
    row["is_action"] = bool(row.get("is_action", False))
    return t, row


def _is_retryable(data: StandinData, row: dict) -> bool:
    """``Ci::Processable#retryable?``: the latest attempt, finished."""
    jobs = data._jobs
    same = jobs[(jobs["pipeline_id"] == row["pipeline_id"]) & (jobs["name"] == row["name"])]
    return row["status"] in _FINISHED and int(row["job_id"]) == int(same["job_id"].max())


def _run(data: StandinData, job_id: int, enqueued: pd.Timestamp, own_s: float,
         outcome_of: int | None = None) -> dict:
    """One new run of job ``job_id`` enqueued at ``enqueued``: times, status, runner.

    Its status and seconds come from :attr:`StandinData.run_outcomes` under ``outcome_of``
    (default ``job_id``), else ``success`` for ``own_s`` (or :func:`default_duration_s`).
    """
    status, seconds = data.run_outcomes.get(
        job_id if outcome_of is None else outcome_of, ("success", None))
    if seconds is None:
        seconds = own_s if pd.notna(own_s) and own_s > 0 else default_duration_s(job_id)
    start = (enqueued + pd.Timedelta(seconds=QUEUED_S)).floor("ms")
    return {"status": status, "started_at": start,
            "finished_at": (start + pd.Timedelta(seconds=float(seconds))).floor("ms"),
            "duration_s": float(seconds), "queued_duration_s": QUEUED_S,
            "failure_reason": "script_failure" if status == "failed" else None,
            "runner_description": _RUNNER}


def _clone(data: StandinData, row: dict, t: pd.Timestamp) -> dict:
    """``Ci::CloneJobService``: the same job under the next id, created at ``t``."""
    jobs = data._jobs
    src = jobs[jobs["job_id"] == row["job_id"]].iloc[0].to_dict()
    new_id = int(jobs["job_id"].max()) + 1
    clone = {**src, "job_id": new_id, "created_at": t.floor("ms"), "is_retried": False,
             "cache_outcome": None, "cached_steps": None, "executed_steps": None,
             "run_steps": None,
             "is_clone": True}
    # the action's outcome is keyed by the job acted on (the clone's id is not known before)
    clone.update(_run(data, new_id, t, own_s=src["duration_s"], outcome_of=int(row["job_id"])))
    clone["true_outcome"] = data._true_outcome(SimpleNamespace(**clone))
    if "is_clone" not in jobs:
        jobs["is_clone"] = False
    data._jobs = pd.concat([jobs, pd.DataFrame([clone])], ignore_index=True)
    data._jobs["is_clone"] = data._jobs["is_clone"].astype(bool)
    return clone


def _reset_skipped(data: StandinData, row: dict, *, ready_at: pd.Timestamp,
                   ran_ok: bool) -> None:
    """``ResetSkippedJobsService``: the pipeline's skipped jobs of later stages run again,
    stage after stage, under their own ids; none does if the job they wait for failed."""
    if not ran_ok:
        return                                    # processed, then skipped again
    jobs = data._jobs
    rank = stage_rank(data)
    later = (jobs["pipeline_id"] == row["pipeline_id"]) & (jobs["status"] == "skipped") & \
        (jobs["stage"].map(rank) > rank[row["stage"]])
    t = ready_at
    for _, stage in sorted(jobs[later].groupby("stage"), key=lambda kv: rank[kv[0]]):
        enqueued = t + pd.Timedelta(seconds=STAGE_GAP_S)
        failed = False
        for i, job_id in zip(stage.index, stage["job_id"].astype(int), strict=True):
            run = _run(data, int(job_id), enqueued, own_s=np.nan)
            for k, v in run.items():
                jobs.at[i, k] = v
            jobs.at[i, "true_outcome"] = data._true_outcome(
                SimpleNamespace(**jobs.loc[i].to_dict()))
            t = max(t, run["finished_at"])
            failed |= run["status"] == "failed" and not bool(jobs.at[i, "is_allowed_failure"])
        if failed:
            return                                # the stages after it stay skipped


def _clear_run(jobs: pd.DataFrame, m: pd.Series) -> None:
    jobs.loc[m, ["started_at", "finished_at"]] = pd.NaT
    jobs.loc[m, ["duration_s", "queued_duration_s"]] = np.nan
    jobs.loc[m, "runner_description"] = None
    jobs.loc[m, "failure_reason"] = None
    jobs.loc[m, "true_outcome"] = None


def _settle_pipeline(data: StandinData, pipeline_id: int,
                     touched_at: pd.Timestamp | None) -> None:
    """A pipeline's status, finish, duration and ``updated_at`` from its latest jobs."""
    jobs = data._jobs[data._jobs["pipeline_id"] == pipeline_id]
    latest = jobs[_latest(jobs)]
    counted = latest[~latest["is_allowed_failure"]]
    if (counted["status"] == "failed").any():
        status = "failed"
    elif (counted["status"] == "canceled").any():
        status = "canceled"
    elif (latest["status"] == "success").any():
        status = "success"
    else:
        status = "skipped"
    ran = latest.dropna(subset=["started_at", "finished_at"]).sort_values("started_at")
    union, end = 0.0, None
    for s, f in zip(ran["started_at"], ran["finished_at"], strict=True):
        if end is None or s > end:
            union += (f - s).total_seconds()
            end = f
        elif f > end:
            union += (f - end).total_seconds()
            end = f
    pipes = data._pipelines
    i = pipes.index[pipes["pipeline_id"] == pipeline_id][0]
    finished = latest["finished_at"].max()
    pipes.at[i, "status"] = status
    pipes.at[i, "finished_at"] = finished
    pipes.at[i, "duration_s"] = float(round(union))
    marks = [x for x in (pipes.at[i, "updated_at"], finished, touched_at) if pd.notna(x)]
    pipes.at[i, "updated_at"] = max(marks).floor("ms")


def _changed(data: StandinData) -> None:
    """Forget the rendered views; the end of history may have moved."""
    data._cache = {}
    data.end = max(data._jobs["finished_at"].max(), data._pipelines["updated_at"].max())


def _as_queued(data: StandinData, row: dict) -> dict:
    """The job's API object as GitLab answers the action: enqueued, not started."""
    rec = SimpleNamespace(**{**row, "status": "pending", "duration_s": np.nan,
                             "queued_duration_s": np.nan, "failure_reason": None,
                             "runner_description": None,
                             "created_at_text": format_time(row["created_at"]),
                             "started_at_text": None, "finished_at_text": None})
    return data.job_item(rec)
