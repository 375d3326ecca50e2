"""cachecost.report.history on small hand-built datasets with answers worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cachecost.report import history

from .datasets import make_dataset


def _job(job_id, image="img-a", duration_s=100.0, *, status="success", outcome=None,
         created="2025-03-04T10:00:00Z", **extra):
    row = {"job_id": job_id, "pipeline_id": job_id // 10, "name": f"{image}-container",
           "stage": "containers", "status": status, "is_container_build": True,
           "image": image, "duration_s": duration_s, "cache_outcome": outcome,
           "created_at": created, "started_at": created}
    row.update(extra)
    return row


def test_pipelines_per_month_counts_by_utc_month_and_source():
    ds = make_dataset(pipelines=[
        {"pipeline_id": 1, "source": "push", "created_at": "2025-01-31T23:59:00Z"},
        # 00:30 at UTC+1 is still January in UTC
        {"pipeline_id": 2, "source": "push", "created_at": "2025-02-01T00:30:00+01:00"},
        {"pipeline_id": 3, "source": "schedule", "created_at": "2025-01-02T03:00:00Z"},
        {"pipeline_id": 4, "source": "push", "created_at": "2025-02-01T00:00:00Z"},
    ])
    got = history.count_pipelines_per_month(ds)
    assert got.to_dict("records") == [
        {"month": "2025-01", "source": "push", "pipelines": 2},
        {"month": "2025-01", "source": "schedule", "pipelines": 1},
        {"month": "2025-02", "source": "push", "pipelines": 1},
    ]


# Image img-a: five cached builds 100..120 s, two rebuilds 900 and 1000 s, plus
# a failed job and a job without an image that must be ignored.
CACHED_S = [100.0, 105.0, 110.0, 115.0, 120.0]
REBUILD_S = [900.0, 1000.0]


def _builds_dataset():
    jobs = [_job(10 + i, duration_s=d) for i, d in enumerate(CACHED_S + REBUILD_S)]
    jobs += [_job(50, duration_s=30.0, status="failed"),
             _job(51, image=None, duration_s=5000.0),
             {"job_id": 52, "pipeline_id": 5, "name": "build-x", "stage": "build",
              "status": "success", "duration_s": 9999.0, "created_at": "2025-03-04T10:00:00Z"}]
    return make_dataset(jobs=jobs)


def test_classify_splits_cached_from_rebuilds_and_skips_unusable_jobs():
    got = history.classify_container_builds(_builds_dataset())
    assert sorted(got["job_id"]) == list(range(10, 17))
    by_id = got.set_index("job_id")["is_cached"]
    assert by_id.loc[[10, 11, 12, 13, 14]].all()
    assert not by_id.loc[[15, 16]].any()
    assert set(got["classified_by"]) == {"duration split"}


def test_logged_outcome_wins_over_the_duration_split():
    jobs = [_job(10 + i, duration_s=d) for i, d in enumerate(CACHED_S + REBUILD_S)]
    # a slow build whose log said "hit" is cached; a fast one whose log said "partial" is not
    jobs += [_job(30, duration_s=950.0, outcome="hit"),
             _job(31, duration_s=101.0, outcome="partial")]
    got = history.classify_container_builds(make_dataset(jobs=jobs)).set_index("job_id")
    assert bool(got.loc[30, "is_cached"]) is True
    assert bool(got.loc[31, "is_cached"]) is False
    assert got.loc[30, "classified_by"] == "log"


def test_build_durations_in_minutes_per_image_and_class():
    got = history.summarize_build_durations(_builds_dataset()).set_index("build")
    assert got.loc["cached", "jobs"] == 5
    assert got.loc["cached", "p50"] == pytest.approx(110.0 / 60)
    assert got.loc["cached", "p10"] == pytest.approx(102.0 / 60)  # linear between 100 and 105
    assert got.loc["uncached", "jobs"] == 2
    assert got.loc["uncached", "p50"] == pytest.approx(950.0 / 60)


def test_cache_outcome_rate_per_week_and_basis():
    week1 = "2025-03-04T10:00:00Z"   # Tuesday; the week starts Monday 2025-03-03
    week2 = "2025-03-10T00:00:00Z"   # Monday of the next week
    jobs = [_job(1, duration_s=100, outcome="hit", created=week1),
            _job(2, duration_s=101, outcome="hit", created=week1),
            _job(3, duration_s=900, outcome="miss", created=week1),
            _job(4, duration_s=500, outcome="partial", created=week1),
            _job(5, duration_s=102, created=week2),
            _job(6, duration_s=103, created=week2),
            _job(7, duration_s=104, created=week2),
            _job(8, duration_s=1000, created=week2)]
    got = history.compute_cache_outcome_rate(make_dataset(jobs=jobs))
    logs = got[got["basis"] == "sampled logs"].set_index("outcome")
    assert (logs["week"] == pd.Timestamp("2025-03-03")).all()
    assert logs["share"].to_dict() == {"hit": 0.5, "miss": 0.25, "partial": 0.25}
    inferred = got[(got["basis"] == "inferred")
                   & (got["week"] == pd.Timestamp("2025-03-10"))].set_index("outcome")
    assert inferred["jobs"].to_dict() == {"cached": 3, "uncached": 1}
    assert inferred["share"].sum() == pytest.approx(1.0)


def test_queue_times_by_level_ignore_unknown():
    ds = make_dataset(
        pipelines=[{"pipeline_id": i, "queued_duration_s": q}
                   for i, q in enumerate([10.0, 20.0, 30.0, math.nan])],
        jobs=[_job(1, queued_duration_s=5.0), _job(2, queued_duration_s=7.0),
              {"job_id": 3, "pipeline_id": 0, "stage": "test", "queued_duration_s": 60.0}],
    )
    got = history.summarize_queue_times(ds).set_index("level")
    assert list(got.index) == ["pipelines", "container jobs", "other jobs"]
    assert got.loc["pipelines", "jobs"] == 3
    assert got.loc["pipelines", "p50"] == 20.0
    assert got.loc["container jobs", "p50"] == 6.0
    assert got.loc["other jobs", "max_s"] == 60.0


def test_registry_size_sums_tags_and_keeps_dedup_where_known():
    ds = make_dataset(
        repositories=[
            {"repository_id": 1, "name": "qemu/a", "image": "a", "size_bytes": 2.5e9},
            {"repository_id": 2, "name": "qemu/a-cache", "image": "a",
             "is_cache_repository": True},
            {"repository_id": 3, "name": "qemu/b", "image": "b", "size_bytes": 1e9},
        ],
        tags=[{"repository_id": 1, "tag_name": "latest", "total_size_bytes": 1e9},
              {"repository_id": 1, "tag_name": "staging-10.0", "total_size_bytes": 2e9},
              {"repository_id": 3, "tag_name": "latest", "total_size_bytes": 4e9}],
    )
    got = history.summarize_registry_size(ds)
    assert list(got["repository"]) == ["qemu/b", "qemu/a", "qemu/a-cache"]
    a = got.set_index("repository").loc["qemu/a"]
    assert (a["tags"], a["tag_sum_bytes"], a["dedup_bytes"]) == (2, 3e9, 2.5e9)
    cache = got.set_index("repository").loc["qemu/a-cache"]
    assert cache["is_cache_repository"] and cache["tags"] == 0 and cache["tag_sum_bytes"] == 0
    assert math.isnan(cache["dedup_bytes"])


def test_billed_minutes_include_retried_attempts_and_skip_never_started():
    ds = make_dataset(jobs=[
        _job(1, duration_s=600.0, started_at="2025-03-31T23:00:00Z"),
        _job(2, duration_s=300.0, status="failed", is_retried=True,
             started_at="2025-03-31T22:00:00Z"),
        _job(3, duration_s=math.nan, status="canceled", started_at=None),
        _job(4, duration_s=120.0, started_at="2025-04-01T01:00:00Z"),
        {"job_id": 5, "pipeline_id": 1, "stage": "build", "status": "success",
         "duration_s": 6000.0, "started_at": "2025-03-10T00:00:00Z"},
    ])
    got = history.sum_billed_build_minutes(ds)
    assert got.to_dict("records") == [
        {"month": "2025-03", "attempt": "final attempt", "jobs": 1, "minutes": 10.0},
        {"month": "2025-03", "attempt": "retried attempt", "jobs": 1, "minutes": 5.0},
        {"month": "2025-04", "attempt": "final attempt", "jobs": 1, "minutes": 2.0},
    ]


def test_empty_dataset_gives_empty_frames():
    ds = make_dataset()
    for fn in (history.count_pipelines_per_month, history.summarize_build_durations,
               history.compute_cache_outcome_rate, history.summarize_queue_times,
               history.summarize_registry_size, history.sum_billed_build_minutes):
        assert fn(ds).empty, fn.__name__
