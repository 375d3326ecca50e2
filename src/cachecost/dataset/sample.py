"""Generate the bundled synthetic sample dataset, shaped like QEMU's CI.

Deterministic for a given :class:`SampleSettings` (numpy's PCG64 with a fixed
seed). Twelve calendar months of pipelines from several sources; every pipeline
runs a ``containers`` stage that builds the 24 images of
:mod:`cachecost.dataset.catalog` (cached in a few minutes unless the image's
Dockerfile or base changed since its last build, then tens of minutes), then
``build`` and ``test`` stages. Some jobs fail, some are retried, some are
canceled before they start (null duration). A few container jobs per image
carry a cache outcome and the builder as if their build log had been read.

Besides the CI history it carries what a fetch measures (:mod:`cachecost.collect.measure`):
the change commits of every image's Dockerfile (``image_changes``: the generator's own
change events, one commit per event; an lcitool refresh is one commit touching every
lcitool image), the forks (``forks``: a few active forks sampled, their pipeline counts
drawn from Poisson) and the namespace's registry usage (``metadata.registry_usage``).

Two settings make the datasets the backtest tests with (:mod:`cachecost.model.backtest`):
``switch_to_kaniko_day`` moves every container job from docker-in-docker (BuildKit
markers in its logs) to kaniko with a cache repository on that day -- an all-hit
build then pulls and extracts the cached layers, and a cache entry older than
``kaniko_cache_ttl_days`` is a miss (kaniko ``--cache-ttl``) -- and
``change_rate_factor`` multiplies every change rate from ``change_rate_factor_from_day``
on (drift).

Everything here is invented. The metadata says ``is_synthetic: true`` and
every page built from it says so at the top.

    ds = generate_sample(SampleSettings())
    write_dataset(ds, "data/sample")
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cachecost.dataset.catalog import QEMU_IMAGES
from cachecost.dataset.io import Dataset
from cachecost.dataset.schema import SCHEMA_VERSION

_BUILD_JOBS = (
    "build-system-alpine", "build-system-ubuntu", "build-system-debian", "build-system-fedora",
    "build-system-centos", "build-system-opensuse", "cross-arm64-system", "cross-s390x-system",
    "cross-win64-system", "build-tcg-disabled",
)
_TEST_JOBS = (
    "check-system-alpine", "check-system-ubuntu", "check-system-debian", "check-system-fedora",
    "check-system-centos", "check-system-opensuse", "avocado-system-debian",
    "avocado-system-fedora", "functional-system-ubuntu", "check-unit",
)
# Refs are user-supplied text; one carries markup that every page must show as text.
_DOCKERFILES = "tests/docker/dockerfiles"
_MR_REFS = ("docs/fix-typo", "hw/arm-new-board", "tcg/riscv-fixes", "ci/containers-debian13",
            "block/nvme-cleanup", "fix/<b>not-bold</b>")


@dataclass(frozen=True)
class SampleSettings:
    """What the generator makes; stored in the dataset's metadata."""

    seed: int = 20240516
    start_date: str = "2024-12-01"
    days: int = 365
    #: mean pipelines per day by source (Poisson)
    pipelines_per_day: dict[str, float] = field(
        default_factory=lambda: {
            "push": 4.0, "merge_request_event": 2.5, "schedule": 1.0, "web": 0.4,
        }
    )
    #: mean days between changes of one image's Dockerfile (forcing a full build)
    image_change_every_days: float = 35.0
    #: mean days between lcitool refreshes that change every generated Dockerfile at once
    lcitool_refresh_every_days: float = 45.0
    #: chance that a changed image rebuilds only its later layers (partial cache hit)
    partial_rebuild_share: float = 0.3
    job_failure_rate: float = 0.03
    retry_share_of_failures: float = 0.7
    cancel_rate: float = 0.01
    logs_per_image: int = 8
    stable_branches: tuple[str, ...] = ("staging-10.0", "staging-10.1")
    #: forks listed, active in the window, sampled of the active; mean pipelines a month
    #: of an active fork; share of a fork's pipelines whose commit changes an image
    forks_listed: int = 240
    forks_active: int = 36
    forks_sampled: int = 12
    fork_pipelines_per_month: float = 2.0
    fork_image_change_share: float = 0.05
    #: registry GiB of the namespace's other projects (counts against the same quota)
    other_projects_registry_gib: float = 6.0
    #: the day every container job moves to kaniko with a cache repository (None: never)
    switch_to_kaniko_day: int | None = None
    kaniko_cache_ttl_days: float = 14.0
    #: kaniko all-hit build: cached build + minutes per GiB pulled and extracted
    kaniko_pull_extract_min_per_gib: float = 0.6
    kaniko_cache_bytes_share: float = 0.85
    #: multiplies every change rate from ``change_rate_factor_from_day`` on (drift)
    change_rate_factor: float = 1.0
    change_rate_factor_from_day: int = 0


def _digest(*parts: object) -> str:
    return "sha256:" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def _whole(seconds: float) -> float:
    """Seconds rounded to whole seconds, at least 1 (times and durations: the sample
    keeps a year of jobs in a few MB; a second is well below any figure it feeds)."""
    return float(max(1, round(float(seconds))))


def _sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def _ts(dt: datetime) -> pd.Timestamp:
    return pd.Timestamp(dt)


def generate_sample(settings: SampleSettings | None = None) -> Dataset:
    """Return the synthetic dataset for ``settings`` (default settings if None)."""
    return _Generator(settings or SampleSettings()).dataset()


@dataclass
class _Pipeline:
    """The pipeline jobs are being added to."""

    pipeline_id: int
    ref: str
    created: datetime
    jobs: list[dict[str, Any]] = field(default_factory=list)


class _Generator:
    """Draws the sample from one random stream; the order of the draws is the seed's contract.

    (Reordering any draw changes every number after it, and the committed sample
    in data/sample/ with it: tests/test_sample.py checks they agree.)
    """

    def __init__(self, s: SampleSettings) -> None:
        self.s = s
        self.rng = np.random.default_rng(s.seed)
        self.start = datetime.fromisoformat(s.start_date).replace(tzinfo=UTC)
        self.end = self.start + timedelta(days=s.days)
        self.job_id = 7_000_000
        self.last_built: dict[str, datetime] = {}
        self.kaniko_pushed: dict[str, datetime] = {}    # image -> its cache's last push
        self.switch = (None if s.switch_to_kaniko_day is None
                       else self.start + timedelta(days=s.switch_to_kaniko_day))

    def dataset(self) -> Dataset:
        """Draw everything: change events, pipelines with jobs, logs read, registry."""
        s = self.s
        # Change events per image (Dockerfile edits) and shared lcitool refreshes.
        lcitool = self._events(s.lcitool_refresh_every_days)
        own = {c.image: self._events(s.image_change_every_days) for c in QEMU_IMAGES}
        if s.change_rate_factor != 1.0:        # drift: more events from a day on
            lcitool = sorted(lcitool + self._later_events(s.lcitool_refresh_every_days))
            for c in QEMU_IMAGES:
                own[c.image] = sorted(own[c.image]
                                      + self._later_events(s.image_change_every_days))
        self.lcitool, self.own = lcitool, own
        self.changes = {c.image: sorted(own[c.image] + (lcitool if c.is_lcitool else []))
                        for c in QEMU_IMAGES}
        pipelines: list[dict[str, Any]] = []
        jobs: list[dict[str, Any]] = []
        for i, (created, source) in enumerate(self._pipeline_starts()):
            pipeline, pipe_jobs = self._pipeline(i, created, source)
            pipelines.append(pipeline)
            jobs.extend(pipe_jobs)
        jobs_df = self._read_logs(pd.DataFrame(jobs))
        repos, tags = self._registry()
        pipelines_df = pd.DataFrame(pipelines)
        changes_df = self._image_changes()
        forks_df = self._forks()
        project_bytes = float(sum(r["size_bytes"] for r in repos))
        meta = {
            "schema_version": SCHEMA_VERSION,
            "source": "synthetic-sample",
            "instance_url": None,
            "project_path": "qemu-project/qemu",
            "fetched_at": self.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "is_synthetic": True,
            "description": "SYNTHETIC sample shaped like QEMU's CI; not measured from any project",
            "image_inputs": {c.image: [f"{_DOCKERFILES}/{c.image}.docker"] for c in QEMU_IMAGES},
            "registry_usage": {
                "project_path": "qemu-project/qemu",
                "container_registry_size_bytes": int(project_bytes),
                "namespace": "qemu-project",
                "namespace_container_registry_size_bytes": int(
                    project_bytes + s.other_projects_registry_gib * 2.0**30),
                "is_estimated": False,
                "read_at": self.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "generator": {
                "script": "scripts/make_sample_data.py",
                "settings": {k: (list(v) if isinstance(v, tuple) else v)
                             for k, v in asdict(s).items()},
                "counts": {
                    "pipelines": len(pipelines_df), "jobs": len(jobs_df),
                    "container_jobs": int(jobs_df["is_container_build"].sum()),
                    "images": len(QEMU_IMAGES),
                    "registry_repositories": len(repos), "registry_tags": len(tags),
                    "image_changes": len(changes_df), "forks": len(forks_df),
                },
            },
        }
        return Dataset(
            path=Path("."), metadata=meta, pipelines=pipelines_df, jobs=jobs_df,
            registry_repositories=pd.DataFrame(repos), registry_tags=pd.DataFrame(tags),
            image_changes=changes_df, forks=forks_df,
        )

    def _events(self, mean_days: float) -> list[datetime]:
        """Poisson change events over the window, in time order."""
        s, rng = self.s, self.rng
        n = rng.poisson(s.days / mean_days)
        return sorted(self.start + timedelta(seconds=float(x)) for x in
                      rng.uniform(0, s.days * 86400, n))

    def _later_events(self, mean_days: float) -> list[datetime]:
        """Poisson events at ``(change_rate_factor - 1) / mean_days`` a day from
        ``change_rate_factor_from_day`` on: added to the base events, the rate there is
        the factor times the base rate (a sum of Poisson processes is one)."""
        s, rng = self.s, self.rng
        span = s.days - s.change_rate_factor_from_day
        n = rng.poisson(max(s.change_rate_factor - 1.0, 0.0) * span / mean_days)
        return sorted(self.start + timedelta(days=s.change_rate_factor_from_day,
                                             seconds=float(x))
                      for x in rng.uniform(0, span * 86400, n))

    def _image_changes(self) -> pd.DataFrame:
        """One commit per change event: an image's own Dockerfile edit touches its
        Dockerfile; an lcitool refresh is one commit touching every lcitool image's."""
        rows = []
        for c in QEMU_IMAGES:
            path = f"{_DOCKERFILES}/{c.image}.docker"
            for t in self.own[c.image]:
                rows.append({"image": c.image, "commit": _sha(self.s.seed, c.image, t),
                             "time": _ts(t), "path": path})
            for t in self.lcitool if c.is_lcitool else []:
                rows.append({"image": c.image, "commit": _sha(self.s.seed, "lcitool", t),
                             "time": _ts(t), "path": path})
        return pd.DataFrame(rows, columns=["image", "commit", "time", "path"])

    def _forks(self) -> pd.DataFrame:
        """Forks listed, the first ``forks_active`` active in the window, the first
        ``forks_sampled`` of those read: pipelines ~ Poisson(rate x months), those on a
        commit changing an image ~ Binomial(pipelines, share)."""
        s, rng = self.s, self.rng
        months = s.days / 30.4375
        rows = []
        for k in range(s.forks_listed):
            active, sampled = k < s.forks_active, k < s.forks_sampled
            pipes = int(rng.poisson(s.fork_pipelines_per_month * months)) if sampled else None
            changing = (int(rng.binomial(pipes, s.fork_image_change_share))
                        if pipes is not None else None)
            last = (self.end - timedelta(days=float(rng.uniform(0, s.days)))) if active \
                else (self.start - timedelta(days=float(rng.uniform(1, 900))))
            rows.append({
                "fork_id": 60_000_000 + k, "path": f"contributor{k:03d}/qemu",
                "owner": f"contributor{k:03d}",
                "created_at": _ts(min(last, self.start) - timedelta(days=30 + k)),
                "last_activity_at": _ts(last), "is_active": active, "is_sampled": sampled,
                "pipelines": pipes, "image_change_pipelines": changing,
                "sampling_fraction": s.forks_sampled / s.forks_active,
                "window_start": _ts(self.start), "read_at": _ts(self.end),
            })
        df = pd.DataFrame(rows)
        for col in ("pipelines", "image_change_pipelines"):
            df[col] = pd.array(df[col].to_numpy(dtype=object), dtype="Int64")
        return df

    def _pipeline_starts(self) -> list[tuple[datetime, str]]:
        """Pipelines (created time, source), in time order."""
        s, rng = self.s, self.rng
        starts: list[tuple[datetime, str]] = []
        for source, per_day in s.pipelines_per_day.items():
            n = rng.poisson(per_day * s.days)
            for x in rng.uniform(0, s.days * 86400, n):
                starts.append((self.start + timedelta(seconds=_whole(x)), source))
        starts.sort()
        return starts

    def _ref(self, source: str) -> str:
        if source == "push":
            return "staging" if self.rng.random() < 0.85 else str(
                self.rng.choice(self.s.stable_branches))
        if source == "merge_request_event":
            return str(self.rng.choice(_MR_REFS))
        return "master"

    def _pipeline(self, i: int, created: datetime,
                  source: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """One pipeline and its jobs: containers, then build, then test stage."""
        s, rng = self.s, self.rng
        pipeline_id = 1_500_000 + i
        ref = self._ref(source)
        sha = hashlib.sha1(f"{s.seed}-{i}".encode()).hexdigest()
        queue0 = _whole(rng.exponential(25.0))
        t0 = created + timedelta(seconds=queue0)
        where = _Pipeline(pipeline_id, ref, created)
        pipe_jobs = where.jobs
        stage_end = max([t0] + [self._container_job(c, t0, where) for c in QEMU_IMAGES])
        b0, stage_end2 = stage_end, stage_end
        for name in _BUILD_JOBS:
            e = self._add_job(name, "build", b0, float(rng.lognormal(np.log(22 * 60), 0.2)),
                              where)
            stage_end2 = max(stage_end2, e)
        t_end = stage_end2
        for name in _TEST_JOBS:
            e = self._add_job(name, "test", stage_end2,
                              float(rng.lognormal(np.log(14 * 60), 0.3)), where)
            t_end = max(t_end, e)
        statuses = {j["status"] for j in pipe_jobs if not j["is_retried"]
                    and not j["is_allowed_failure"]}
        pstatus = "failed" if "failed" in statuses else "success"
        pipeline = {
            "pipeline_id": pipeline_id, "iid": 90_000 + i, "ref": ref, "sha": sha,
            "source": source, "status": pstatus, "created_at": _ts(created),
            "updated_at": _ts(t_end), "started_at": _ts(t0), "finished_at": _ts(t_end),
            "duration_s": (t_end - t0).total_seconds(), "queued_duration_s": queue0,
        }
        return pipeline, pipe_jobs

    def _container_job(self, c: Any, t0: datetime, where: _Pipeline) -> datetime:
        """Image ``c``'s build job: cached unless the image changed since its last build."""
        s, rng, created = self.s, self.rng, where.created
        prev = self.last_built.get(c.image)
        changed = any((prev is None or e > prev) and e <= created
                      for e in self.changes[c.image])
        if changed:
            outcome = "partial" if rng.random() < s.partial_rebuild_share else "miss"
        else:
            outcome = "hit"
        hit_min, builder = c.cached_build_min, "buildkit"
        if self.switch is not None and created >= self.switch:
            hit_min, builder = self._kaniko_hit_min(c), "kaniko"
            pushed = self.kaniko_pushed.get(c.image)
            if outcome == "hit" and (pushed is None or created - pushed > timedelta(
                    days=s.kaniko_cache_ttl_days)):
                outcome = "miss"             # no cache entry yet, or every one expired
            if outcome != "hit":
                self.kaniko_pushed[c.image] = created
        base = {"hit": hit_min, "miss": c.uncached_build_min,
                "partial": (hit_min + c.uncached_build_min) / 2}[outcome]
        run_s = base * 60 * float(rng.lognormal(0, 0.12))
        self.last_built[c.image] = created
        return self._add_job(c.job_name, "containers", t0, run_s, where, image=c.image,
                             outcome=outcome, steps=c.run_steps, builder=builder)

    def _kaniko_hit_min(self, c: Any) -> float:
        """A kaniko all-hit build's minutes: the cached build plus pulling and extracting
        the cached layers (``kaniko_cache_bytes_share`` of the image, at
        ``kaniko_pull_extract_min_per_gib``), the model's own kaniko assumption."""
        s = self.s
        gib = c.compressed_size_mb * 1e6 / 2.0**30
        return (c.cached_build_min
                + gib * s.kaniko_cache_bytes_share * s.kaniko_pull_extract_min_per_gib)

    def _add_job(self, name: str, stage: str, begin: datetime, run_s: float,
                 where: _Pipeline, *, image: str | None = None, outcome: str | None = None,
                 steps: int | None = None, builder: str | None = None) -> datetime:
        """Append one job (and its retry, if a failure is retried); return when it ended."""
        s, rng = self.s, self.rng
        pipeline_id, ref, created, pipe_jobs = where.pipeline_id, where.ref, where.created, \
            where.jobs
        self.job_id += 1
        job_id = self.job_id
        queued = _whole(float(rng.exponential(20.0)) + (float(rng.exponential(600)) if
                                                          rng.random() < 0.03 else 0.0))
        r = rng.random()
        status = "success"
        if r < s.cancel_rate:
            status = "canceled"
        elif r < s.cancel_rate + s.job_failure_rate:
            status = "failed"
        started = begin + timedelta(seconds=queued)
        row: dict[str, Any] = {
            "job_id": job_id, "pipeline_id": pipeline_id, "name": name, "stage": stage,
            "ref": ref, "created_at": _ts(created), "queued_duration_s": queued,
            "is_retried": False, "is_allowed_failure": name.startswith("avocado"),
            "failure_reason": None, "runner_description": f"k8s-runner-{job_id % 7}",
            "is_container_build": stage == "containers", "image": image,
            "cache_outcome": None, "cached_steps": pd.NA, "executed_steps": pd.NA,
            "builder": None,
            "_outcome": outcome, "_steps": steps, "_builder": builder,
        }
        if status == "canceled":
            row.update(status="canceled", started_at=pd.NaT, finished_at=pd.NaT,
                       duration_s=np.nan, runner_description=None)
            pipe_jobs.append(row)
            return begin
        dur = _whole(run_s if status == "success" else run_s * float(rng.uniform(0.1, 0.9)))
        row.update(status=status, started_at=_ts(started),
                   finished_at=_ts(started + timedelta(seconds=dur)), duration_s=dur)
        if status == "failed":
            row["failure_reason"] = "script_failure"
        pipe_jobs.append(row)
        end_t = started + timedelta(seconds=dur)
        if status == "failed" and rng.random() < s.retry_share_of_failures:
            row["is_retried"] = True
            retry = dict(row)
            self.job_id += 1
            rdur = _whole(run_s * float(rng.lognormal(0, 0.05)))
            rstart = end_t + timedelta(seconds=_whole(rng.exponential(30)))
            retry.update(job_id=self.job_id, status="success", failure_reason=None,
                         is_retried=False, started_at=_ts(rstart),
                         finished_at=_ts(rstart + timedelta(seconds=rdur)), duration_s=rdur)
            pipe_jobs.append(retry)
            end_t = rstart + timedelta(seconds=rdur)
        return end_t

    def _read_logs(self, jobs_df: pd.DataFrame) -> pd.DataFrame:
        """Read a few logs per image: the cache outcome and step counts of a sample of builds."""
        for _image, grp in jobs_df[jobs_df["is_container_build"]
                                  & (jobs_df["status"] == "success")].groupby("image"):
            pick = self.rng.choice(grp.index.to_numpy(),
                                   size=min(self.s.logs_per_image, len(grp)), replace=False)
            for idx in sorted(pick):
                outcome = str(jobs_df.at[idx, "_outcome"])
                step_count: Any = jobs_df.at[idx, "_steps"]       # an integer column
                steps = int(step_count)
                cached = {"hit": steps, "miss": 0, "partial": steps // 2}[outcome]
                jobs_df.at[idx, "cache_outcome"] = outcome
                jobs_df.at[idx, "cached_steps"] = cached
                jobs_df.at[idx, "executed_steps"] = steps - cached
                builder: Any = jobs_df.at[idx, "_builder"]
                jobs_df.at[idx, "builder"] = builder
        jobs_df = jobs_df.drop(columns=["_outcome", "_steps", "_builder"])
        jobs_df["cached_steps"] = jobs_df["cached_steps"].astype("Int64")
        jobs_df["executed_steps"] = jobs_df["executed_steps"].astype("Int64")
        return jobs_df

    def _registry(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """One repository per image with ``latest`` and some stable-branch tags."""
        s, rng = self.s, self.rng
        repos: list[dict[str, Any]] = []
        tags: list[dict[str, Any]] = []
        for k, c in enumerate(QEMU_IMAGES):
            repo_id = 4_200_000 + k
            tag_names = ["latest"] + [b for b in s.stable_branches if rng.random() < 0.6]
            size = c.compressed_size_mb * 1e6
            for t in tag_names:
                tag_size = size * (1.0 if t == "latest" else float(rng.uniform(0.9, 1.0)))
                tags.append({
                    "repository_id": repo_id, "tag_name": t,
                    "digest": _digest(s.seed, c.image, t),
                    "total_size_bytes": float(round(tag_size)),
                    "created_at": _ts(self.end - timedelta(days=float(rng.uniform(0, 20)))),
                })
            repos.append({
                "repository_id": repo_id, "path": f"qemu-project/qemu/qemu/{c.image}",
                "name": f"qemu/{c.image}", "image": c.image, "is_cache_repository": False,
                "created_at": _ts(self.start - timedelta(days=400 + k)),
                "tags_count": len(tag_names),
                # tags of one image share most base layers: dedup size ~ one tag + 25% per extra
                "size_bytes": float(round(size * (1 + 0.25 * (len(tag_names) - 1)))),
            })
        return repos, tags
