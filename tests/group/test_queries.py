"""The group SQL: DuckDB over the hive layout, and the same queries on Spark SQL / Trino."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlglot

from cachecost.dataset.io import load_dataset
from cachecost.group import connect
from cachecost.group.queries import QUERIES, run_query


@pytest.mark.parametrize("name", sorted(QUERIES))
@pytest.mark.parametrize("engine", ["spark", "trino"])
def test_query_transpiles_unchanged_in_meaning(fetched_group, name, engine):
    """Each query, transpiled to ``engine`` and read back, gives DuckDB the same rows.

    The round trip goes through ``engine``'s SQL text (what docs/group.md runs there),
    so a construct sqlglot cannot say in that dialect, or says differently, shows up
    as different rows or a failed query.
    """
    out, _, _ = fetched_group
    con = connect(out)
    text = sqlglot.transpile(QUERIES[name], read="duckdb", write=engine, pretty=True)[0]
    back = sqlglot.transpile(text, read=engine, write="duckdb")[0]
    want = run_query(con, name)
    got = con.sql(back).df()
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_group_totals_equal_the_sum_of_the_projects_datasets(fetched_group):
    """The SQL over every project's Parquet at once equals summing each dataset loaded
    alone with pandas (jobs, container jobs, their seconds, pipelines)."""
    out, result, _ = fetched_group
    con = connect(out)
    total = run_query(con, "group_totals").iloc[0]
    per = run_query(con, "project_totals")
    jobs = container = pipes = 0
    secs = 0.0
    done = [s for s in result.scans if s.status == "done"]
    assert len(done) == 2
    for s in done:
        ds = load_dataset(out / f"project={s.project_path.replace('/', '~')}")
        jobs += len(ds.jobs)
        container += int(ds.jobs["is_container_build"].sum())
        secs += float(ds.jobs["duration_s"].fillna(0).sum())
        pipes += len(ds.pipelines)
    assert int(total["jobs"]) == jobs == int(per["jobs"].sum())
    assert int(total["container_jobs"]) == container
    assert float(total["duration_s"]) == pytest.approx(secs, rel=1e-12)
    assert int(per["pipelines"].sum()) == pipes
    assert int(total["projects"]) == len(done)
