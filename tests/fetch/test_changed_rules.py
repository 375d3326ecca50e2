"""Which pipelines' jobs are read again, and how (cachecost.collect.gitlab.changed), worked by hand."""

from __future__ import annotations

import pandas as pd

from cachecost.collect.gitlab.changed import (
    alive_pipelines,
    choose_reread,
    pipelines_to_reread,
)


def _pipes(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame({"pipeline_id": [r[0] for r in rows], "status": [r[1] for r in rows],
                         "updated_at": pd.to_datetime([r[2] for r in rows], utc=True)})


def test_reread_changed_new_with_jobs_and_during_the_fetch() -> None:
    """Stored: 1 success 10:00, 2 failed 11:00. Listed: 1 unchanged, 2 running 12:00 (changed),
    3 new at 12:30 with jobs stored (a walk raced its listing), 5 new at 12:40 without jobs
    (its jobs all came from this walk), 4 new at 13:00:00 while the fetch began at 13:00:00
    (GitLab's Date). By hand: {2, 3, 4}."""
    stored = _pipes([(1, "success", "2025-10-01T10:00Z"), (2, "failed", "2025-10-01T11:00Z")])
    listed = _pipes([(1, "success", "2025-10-01T10:00Z"), (2, "running", "2025-10-01T12:00Z"),
                     (3, "success", "2025-10-01T12:30Z"), (5, "success", "2025-10-01T12:40Z"),
                     (4, "running", "2025-10-01T13:00Z")])
    started = pd.Timestamp("2025-10-01T13:00Z")
    assert pipelines_to_reread(listed, stored, {1, 2, 3}, started) == {2, 3, 4}
    assert pipelines_to_reread(listed, stored, {1, 2, 3}, None) == {2, 3}
    # the same status, only updated_at moved (failed -> running -> failed between fetches)
    again = _pipes([(2, "failed", "2025-10-01T11:30Z")])
    assert pipelines_to_reread(again, stored, {2}, None) == {2}
    assert pipelines_to_reread(listed.iloc[:0], stored, {2}, started) == set()


def test_alive_jobs_or_pipelines_are_read_at_every_fetch() -> None:
    """Stored: a running job in 7, a skipped and a manual job in 8 (not alive: they move only
    when somebody acts, and then their pipeline changes), pipeline 9 pending. By hand: {7, 9}."""
    jobs = pd.DataFrame({"pipeline_id": [7, 7, 8, 8], "job_id": [1, 2, 3, 4],
                         "status": ["success", "running", "skipped", "manual"]})
    pipes = _pipes([(7, "running", "2025-10-01T10:00Z"), (8, "success", "2025-10-01T10:00Z"),
                    (9, "pending", "2025-10-01T10:00Z")])
    assert alive_pipelines(jobs, pipes) == {7, 9}


def test_the_cheaper_way_by_pages() -> None:
    """Stored: pipeline 1 jobs 1-150, pipeline 2 jobs 151-160, pipeline 3 jobs 161-1160.

    * {3}: its list 10 pages; the walk down to 161 reads 1,000 jobs, 10 pages: a tie, walk;
    * {1}: its list 2 pages; the walk down to 1 reads 1,160 jobs, 12 pages: its list;
    * {2, 3}: lists 1 + 10 = 11; walk down to 151: 1,010 jobs, 11 pages: walk;
    * {99} (no job stored): its list, 1 page.
    """
    jobs = pd.DataFrame({"job_id": range(1, 1161),
                         "pipeline_id": [1] * 150 + [2] * 10 + [3] * 1000})
    assert (choose_reread({3}, jobs).walk_floor, choose_reread({3}, jobs).pages) == (161, 10)
    assert (choose_reread({1}, jobs).walk_floor, choose_reread({1}, jobs).pages) == (None, 2)
    assert (choose_reread({2, 3}, jobs).walk_floor, choose_reread({2, 3}, jobs).pages) == \
        (151, 11)
    assert (choose_reread({99}, jobs).walk_floor, choose_reread({99}, jobs).pages) == (None, 1)
