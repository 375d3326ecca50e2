"""The group aggregates as SQL, one engine-neutral query each.

Each query reads the views of :func:`cachecost.group.connect` (``catalog``, ``jobs``,
``pipelines``, ``registry_repositories``) and uses only what DuckDB, Spark SQL and
Trino share: ``SUM``, ``COUNT``, ``CASE``, ``COALESCE``, ``GROUP BY``, ``LEFT JOIN``.
``tests/group/test_queries.py`` transpiles each to Spark SQL and Trino with sqlglot,
runs the transpiled text (read back into DuckDB's dialect) and checks it gives the
same rows. Units in the column names: ``_s`` seconds, ``_bytes`` bytes.

    rows = run_query(con, "project_totals")       # a DataFrame, one row per project
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

#: name -> SQL (DuckDB's dialect, which is the neutral subset here)
QUERIES: dict[str, str] = {
    # per project: what its dataset holds (jobs of retried attempts included: they ran)
    "project_totals": """
SELECT c.project AS project,
       c.project_path AS project_path,
       c.builder AS builder,
       c.strategy AS strategy,
       COALESCE(j.jobs, 0) AS jobs,
       COALESCE(j.container_jobs, 0) AS container_jobs,
       COALESCE(j.duration_s, 0) AS duration_s,
       COALESCE(j.container_duration_s, 0) AS container_duration_s,
       COALESCE(p.pipelines, 0) AS pipelines,
       COALESCE(r.repository_size_bytes, 0) AS repository_size_bytes
FROM catalog AS c
LEFT JOIN (
    SELECT project,
           COUNT(*) AS jobs,
           SUM(CASE WHEN is_container_build THEN 1 ELSE 0 END) AS container_jobs,
           SUM(COALESCE(duration_s, 0)) AS duration_s,
           SUM(CASE WHEN is_container_build THEN COALESCE(duration_s, 0) ELSE 0 END)
               AS container_duration_s
    FROM jobs GROUP BY project) AS j ON j.project = c.project
LEFT JOIN (SELECT project, COUNT(*) AS pipelines FROM pipelines GROUP BY project) AS p
    ON p.project = c.project
LEFT JOIN (SELECT project, SUM(COALESCE(size_bytes, 0)) AS repository_size_bytes
           FROM registry_repositories GROUP BY project) AS r ON r.project = c.project
WHERE c.status = 'done'
ORDER BY container_duration_s DESC, project
""",
    # the whole group in one row
    "group_totals": """
SELECT COUNT(DISTINCT project) AS projects,
       COUNT(*) AS jobs,
       SUM(CASE WHEN is_container_build THEN 1 ELSE 0 END) AS container_jobs,
       SUM(COALESCE(duration_s, 0)) AS duration_s,
       SUM(CASE WHEN is_container_build THEN COALESCE(duration_s, 0) ELSE 0 END)
           AS container_duration_s
FROM jobs
""",
    # which builders and strategies the group's projects use
    "strategy_mix": """
SELECT COALESCE(builder, 'none') AS builder,
       COALESCE(strategy, 'none') AS strategy,
       COUNT(*) AS projects,
       SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS fetched
FROM catalog
WHERE builds_images
GROUP BY COALESCE(builder, 'none'), COALESCE(strategy, 'none')
ORDER BY projects DESC, builder, strategy
""",
    # container-build minutes per image and project, the heaviest first
    "image_minutes": """
SELECT project, image,
       COUNT(*) AS builds,
       SUM(COALESCE(duration_s, 0)) AS duration_s
FROM jobs
WHERE is_container_build AND image IS NOT NULL
GROUP BY project, image
ORDER BY duration_s DESC, project, image
""",
}


def run_query(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """Run one of :data:`QUERIES` on a :func:`cachecost.group.connect` connection."""
    return con.sql(QUERIES[name]).df()
