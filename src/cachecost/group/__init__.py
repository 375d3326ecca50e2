"""A fetched group as SQL tables: every project's Parquet at once, in-process (DuckDB).

    con = cachecost.group.connect("data/raw/demo-group")
    con.sql("SELECT project, count(*) AS jobs FROM jobs GROUP BY project").df()

The group folder (:mod:`cachecost.collect.group`) holds one dataset per project under
``project=<key>/`` (``<key>``: the project path with ``/`` as ``~``), so each table is
hive-partitioned by project: :func:`connect` makes one view per table over
``project=*/<table>.parquet`` with the partition column ``project``, and ``catalog``
over ``catalog.parquet``. The queries in :mod:`cachecost.group.queries` are plain
SQL that DuckDB, Spark SQL and Trino all read (docs/group.md: the same files and
queries on a distributed engine; a test transpiles each one with sqlglot).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cachecost.errors import CachecostError

if TYPE_CHECKING:
    import duckdb

#: the per-project tables a group folder may hold, each a view of :func:`connect`
TABLES = ("pipelines", "jobs", "registry_repositories", "registry_tags", "forks",
          "image_changes")
CATALOG_TABLE = "catalog"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def connect(group_dir: str | Path, *, memory_limit: str = "1GB",
            threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per table of the group folder.

    Views: ``catalog`` (one row per project) and each of :data:`TABLES` that at least
    one project holds, with a ``project`` column (the partition key). ``memory_limit``
    caps DuckDB's buffer (it spills beyond it). Raises :class:`CachecostError` when
    ``group_dir`` holds no ``catalog.parquet``.
    """
    import duckdb  # here: `report --group` imports this package, not DuckDB

    root = Path(group_dir)
    catalog = root / "catalog.parquet"
    if not catalog.is_file():
        raise CachecostError(f"{root}: not a fetched group (no catalog.parquet); run "
                             "cachecost fetch --group first")
    con = duckdb.connect(":memory:", config={"memory_limit": memory_limit,
                                             **({"threads": threads} if threads else {})})
    con.execute(f"CREATE VIEW {CATALOG_TABLE} AS SELECT * FROM read_parquet("
                f"{_sql_text(str(catalog))})")
    for table in TABLES:
        if not any(root.glob(f"project=*/{table}.parquet")):
            continue
        pattern = _sql_text(str(root / "project=*" / f"{table}.parquet"))
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({pattern}, "
                    "hive_partitioning = true, union_by_name = true)")
    return con
