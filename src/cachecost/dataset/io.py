"""Load, validate, write and describe a dataset.

A dataset directory holds ``metadata.json`` and one Parquet file per table
(:mod:`cachecost.dataset.schema`). Parquet because each table is typed and columnar
(timestamps stay UTC timestamps, nulls stay nulls), compresses the bundled
sample to a few hundred kB, and is read by pandas, pyarrow, DuckDB and
Polars alike without a server; a snapshot is a plain folder that can be
copied, diffed by ``cachecost data`` and never edited in place.

    ds = load_dataset()                 # bundled sample
    ds = load_dataset("data/raw/gitlab.com/qemu-project/qemu")
    ds.jobs[ds.jobs.is_container_build]

Every write goes to a temporary file in the same directory, is flushed to
disk, then renamed over the target, so a crash leaves the old file or the new
one, never half of either.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cachecost.config import resolve_data_dir
from cachecost.dataset import schema
from cachecost.errors import DatasetError
from cachecost.textfmt import format_bytes

METADATA_FILE = "metadata.json"
#: What a fetch keeps its watermarks in (``cachecost.collect.store``); written before
#: ``metadata.json``, so a folder with it and without metadata is an unfinished fetch.
FETCH_STATE_FILE = "fetch_state.json"
#: What ``cachecost fetch --group`` writes at the top of a group folder
#: (``cachecost.collect.group``), which holds one dataset per project, not a dataset.
GROUP_FILE = "group.json"

_ARROW_TYPES = {
    "int": pa.int64(),
    "int?": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


@dataclass
class Dataset:
    """A loaded dataset: its directory, metadata and one DataFrame per table."""

    path: Path
    metadata: dict[str, Any]
    pipelines: pd.DataFrame
    jobs: pd.DataFrame
    registry_repositories: pd.DataFrame
    registry_tags: pd.DataFrame
    registry_layers: pd.DataFrame | None = None
    image_changes: pd.DataFrame | None = None
    forks: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_synthetic(self) -> bool:
        """True when the data is the generated sample, not fetched history."""
        return bool(self.metadata.get("is_synthetic"))

    def table(self, name: str) -> pd.DataFrame | None:
        """Return a table by name (None for an absent optional table)."""
        return getattr(self, name)


def arrow_schema(table: str) -> pa.Schema:
    """Return the Arrow schema a table is written with."""
    return pa.schema(
        [pa.field(c.name, _ARROW_TYPES[c.kind]) for c in schema.ALL_TABLES[table]]
    )


def empty_table(table: str) -> pd.DataFrame:
    """Return an empty DataFrame with the table's columns and dtypes."""
    return _to_pandas(arrow_schema(table).empty_table(), table)


# --------------------------------------------------------------------------- writing


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it over ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_table(data_dir: str | os.PathLike[str], table: str, df: pd.DataFrame) -> Path:
    """Write one table atomically, cast to its schema; return the file path."""
    target = Path(data_dir) / f"{table}.parquet"
    sch = arrow_schema(table)
    optional = {c.name for c in schema.ALL_TABLES[table] if c.optional}
    df = df.assign(**{n: None for n in optional if n not in df.columns})
    missing = [n for n in sch.names if n not in df.columns]
    if missing:
        raise DatasetError(f"{target}: cannot write, column {missing[0]!r} missing")
    frame = df[sch.names].copy()
    for col in schema.ALL_TABLES[table]:
        if col.kind == "timestamp":
            frame[col.name] = pd.to_datetime(frame[col.name], utc=True)
        elif col.kind == "str":
            frame[col.name] = frame[col.name].astype(object).where(frame[col.name].notna(), None)
    arrow = pa.Table.from_pandas(frame, schema=sch, preserve_index=False)
    with atomic_path(target) as tmp:
        pq.write_table(arrow, tmp, compression="zstd")
    return target


def write_metadata(data_dir: str | os.PathLike[str], metadata: dict[str, Any]) -> Path:
    """Write ``metadata.json`` atomically (sorted keys, so snapshots diff cleanly)."""
    target = Path(data_dir) / METADATA_FILE
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target


def write_dataset(ds: Dataset, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write every table, then the metadata last; return the directory."""
    out = Path(data_dir) if data_dir is not None else ds.path
    for name in schema.ALL_TABLES:
        df = ds.table(name)
        if df is not None:
            write_table(out, name, df)
    write_metadata(out, ds.metadata)
    return out


# --------------------------------------------------------------------------- loading


def _kind_matches(kind: str, typ: pa.DataType) -> bool:
    if kind in ("int", "int?"):
        return pa.types.is_integer(typ)
    if kind == "float":
        return pa.types.is_floating(typ) or pa.types.is_integer(typ)
    if kind == "str":
        return pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_null(typ)
    if kind == "bool":
        return pa.types.is_boolean(typ)
    if kind == "timestamp":
        return pa.types.is_timestamp(typ) or pa.types.is_null(typ)
    raise ValueError(kind)


#: column-name endings whose values cannot be negative (running seconds, bytes, build
#: steps); queue times are left out: the pipelines' are derived from two clocks' stamps
_NON_NEGATIVE = ("duration_s", "_bytes", "_steps")
_MAY_BE_NEGATIVE = ("queued_duration_s",)
#: The longest a job can run, seconds: a project's job timeout is at most one month
#: (gitlabhq app/models/project.rb ``MAX_BUILD_TIMEOUT = 1.month``; ActiveSupport's month
#: is 30.436875 days = 2,629,746 s). A job's ``duration_s`` above it (or not finite) is
#: not a measurement: it would price months of compute per build.
MAX_JOB_DURATION_S = 2_629_746

_EXPECTED = {
    "int": "integers",
    "int?": "integers",
    "float": "numbers",
    "str": "strings",
    "bool": "booleans",
    "timestamp": "UTC timestamps",
}


def _to_pandas(arrow: pa.Table, table: str) -> pd.DataFrame:
    df = arrow.to_pandas()
    for col in schema.ALL_TABLES[table]:
        if col.kind == "int?":
            df[col.name] = df[col.name].astype("Int64")
        elif col.kind == "float":
            df[col.name] = df[col.name].astype("float64")
        elif col.kind == "timestamp":
            df[col.name] = pd.to_datetime(df[col.name], utc=True)
    return df


def read_table(data_dir: Path, table: str, *, required: bool = True) -> pd.DataFrame | None:
    """Read and check one table; raise DatasetError naming the file and column."""
    path = data_dir / f"{table}.parquet"
    if not path.exists():
        if required:
            raise DatasetError(f"{path}: missing (every dataset needs table {table!r})")
        return None
    if not path.is_file():
        raise DatasetError(f"{path}: is a {'directory' if path.is_dir() else 'special file'}"
                           f", not a Parquet file (table {table!r} is one file)")
    try:
        arrow = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetError(f"{path}: not a readable Parquet file ({first})") from None
    for col in schema.ALL_TABLES[table]:
        if col.name not in arrow.schema.names and col.optional:
            arrow = arrow.append_column(col.name, pa.nulls(len(arrow), _ARROW_TYPES[col.kind]))
        _check_column(path, table, col, arrow)
    return _to_pandas(arrow.select([c.name for c in schema.ALL_TABLES[table]]), table)


def _check_column(path: Path, table: str, col: schema.Column, arrow: pa.Table) -> None:
    """One column of ``table`` (read from ``path``): there, of its kind, in range."""
    if col.name not in arrow.schema.names:
        raise DatasetError(f"{path}: column {col.name!r} missing")
    typ = arrow.schema.field(col.name).type
    if not _kind_matches(col.kind, typ):
        raise DatasetError(
            f"{path}: column {col.name!r} holds {typ}, expected {_EXPECTED[col.kind]}"
        )
    if (col.name.endswith(_NON_NEGATIVE) and col.name not in _MAY_BE_NEGATIVE
            and col.kind in ("int", "int?", "float")):
        low = pc.min(arrow.column(col.name)).as_py()
        if low is not None and low < 0:
            raise DatasetError(f"{path}: column {col.name!r} holds {low:g}; durations, "
                               "sizes and step counts cannot be negative")
    if table == "jobs" and col.name == "duration_s":
        high = pc.max(arrow.column(col.name)).as_py()
        if high is not None and not high <= MAX_JOB_DURATION_S:   # NaN and inf too
            raise DatasetError(
                f"{path}: column 'duration_s' holds {high:g} s; no job runs longer than "
                f"GitLab's largest job timeout, one month ({MAX_JOB_DURATION_S:,} s)")


def read_metadata(data_dir: Path) -> dict[str, Any]:
    """Read and check ``metadata.json``."""
    path = data_dir / METADATA_FILE
    if not path.is_file():
        if (data_dir / FETCH_STATE_FILE).is_file():
            raise DatasetError(
                f"{data_dir}: a fetch into this folder has not finished ({FETCH_STATE_FILE} "
                f"is there, {METADATA_FILE} not yet); run the same cachecost fetch again "
                "to finish it")
        if (data_dir / GROUP_FILE).is_file():
            raise DatasetError(
                f"{data_dir}: a fetched group, not one project's dataset; report it with "
                f"cachecost report --group {data_dir}")
        raise DatasetError(f"{path}: missing (not a cachecost dataset directory)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise DatasetError(f"{path}: expected a JSON object at the top level")
    for key, typ in schema.METADATA_KEYS.items():
        if key not in meta:
            raise DatasetError(f"{path}: key {key!r} missing")
        if not isinstance(meta[key], typ) or (typ is int and isinstance(meta[key], bool)):
            raise DatasetError(f"{path}: key {key!r} has the wrong type")
    if meta["schema_version"] > schema.SCHEMA_VERSION:
        raise DatasetError(
            f"{path}: schema_version {meta['schema_version']} is newer than this cachecost "
            f"understands ({schema.SCHEMA_VERSION}); upgrade cachecost"
        )
    return meta


def load_dataset(data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """Load and validate a dataset (default: the bundled synthetic sample).

    Raises:
        DatasetError: one line naming the directory, file or column at fault.
    """
    path = resolve_data_dir(data_dir)
    if not path.exists():
        raise DatasetError(f"{path}: no such data directory")
    if not path.is_dir():
        raise DatasetError(f"{path}: not a directory")
    meta = read_metadata(path)
    # one DataFrame per schema table, passed to Dataset by name
    tables: dict[str, Any] = {name: read_table(path, name) for name in schema.TABLES}
    tables.update({name: read_table(path, name, required=False)
                   for name in schema.OPTIONAL_TABLES})
    check_ids(path, tables["pipelines"], tables["jobs"])
    return Dataset(path=path, metadata=meta, **tables)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def check_ids(data_dir: Path, pipelines: pd.DataFrame, jobs: pd.DataFrame) -> None:
    """Each pipeline and job id once, and every job's pipeline in ``pipelines.parquet``.

    GitLab ids are unique per instance (a retried job is a new job with a new id, a job
    run again in place keeps its one row), and a fetch merges rows by id
    (:func:`cachecost.collect.store.merge_by_id`), so a repeated id is a file edited or
    joined by hand: every sum over it would count that job twice. Child pipelines are
    stored like any other (``cachecost fetch`` asks for ``source=parent_pipeline``), so a
    job of a child pipeline has its pipeline too.

    Raises:
        DatasetError: one line naming the file, how many ids are at fault and the first.
    """
    for table, df, key, noun in (("pipelines", pipelines, "pipeline_id", "pipeline"),
                                 ("jobs", jobs, "job_id", "job")):
        repeated = df.loc[df[key].duplicated(), key]
        if len(repeated):
            n = int(repeated.nunique())
            raise DatasetError(
                f"{data_dir / f'{table}.parquet'}: {_plural(n, f'{noun} id', f'{noun} ids')} "
                f"appear{'s' if n == 1 else ''} more than once (first: {repeated.iloc[0]})")
    orphan = jobs[~jobs["pipeline_id"].isin(pipelines["pipeline_id"])]
    if len(orphan):
        first = orphan.iloc[0]
        raise DatasetError(
            f"{data_dir / 'jobs.parquet'}: {_plural(len(orphan), 'job belongs', 'jobs belong')}"
            f" to {_plural(int(orphan['pipeline_id'].nunique()), 'pipeline', 'pipelines')} "
            f"not in pipelines.parquet (first: job {first['job_id']} of pipeline "
            f"{first['pipeline_id']})")


# --------------------------------------------------------------------------- describing


def _median(series: pd.Series) -> float | None:
    s = series.dropna()
    return float(s.median()) if len(s) else None


#: Why GitLab may send ``container_registry_size: 0`` for a registry it holds images in.
UNMEASURED_REGISTRY_REASON = (
    "GitLab did not measure it (GitLab Self-Managed counts registry storage only with the "
    "registry's metadata database; without it the project statistics keep their default, 0)")


def project_registry_size(reported: float | None, tag_sizes: pd.Series
                          ) -> tuple[int | None, str | None]:
    """GitLab's ``container_registry_size`` of a project if it can be a measurement.

    The registry stores every blob of a manifest at least once, so the project's
    deduplicated bytes are at least its largest tag's ``total_size``; a figure below that
    (the 0 of a GitLab Self-Managed without the registry metadata database, docs
    ``user/packages/container_registry/reduce_container_registry_storage``) was not measured.
    Returns ``(bytes, None)``, or ``(None, why)`` with one line saying why it is unknown.
    ``tag_sizes``: the tags' ``total_size_bytes`` (NaN ignored; none: nothing to check).
    """
    if reported is None or pd.isna(reported):
        return None, "the server gave no project-wide figure"
    largest = tag_sizes.dropna().max() if len(tag_sizes) else None
    if largest is not None and pd.notna(largest) and float(reported) < float(largest):
        return None, (f"the project statistics say {format_bytes(float(reported))}, less than "
                      f"its largest image ({format_bytes(float(largest))}): "
                      f"{UNMEASURED_REGISTRY_REASON}")
    return int(reported), None


def _registry_dedup(md: dict[str, Any], repos: pd.DataFrame,
                    tags: pd.DataFrame) -> dict[str, Any]:
    """The project's deduplicated registry size, and where it comes from.

    First the project's own figure (``statistics.container_registry_size``, stored as
    metadata ``container_registry_size_bytes``) when it can be a measurement
    (:func:`project_registry_size`); else the sum of the repositories' deduplicated sizes
    when every repository has one. Otherwise it is unknown (null), ``registry_dedup_source``
    says why, ``registry_dedup_at_least_bytes`` is the largest image's ``total_size`` (the
    registry stores at least that), and when some repositories have a size their sum is
    ``registry_dedup_partial``, labelled with how many it covers.
    """
    sizes = tags["total_size_bytes"] if "total_size_bytes" in tags else pd.Series(dtype=float)
    project, why = project_registry_size(md.get("container_registry_size_bytes"), sizes)
    if md.get("container_registry_size_note"):      # the fetch found it unmeasured
        why = md["container_registry_size_note"]
    sized = repos["size_bytes"].dropna()
    partial = None
    at_least = None
    if project is not None:
        total, source = int(project), "project statistics (container_registry_size)"
    elif len(repos) and len(sized) == len(repos):
        total, source = int(sized.sum()), f"sum of all {len(repos)} repositories' sizes"
    else:
        total, source = None, f"unknown: {why}"
        if len(sized):
            partial = {"size_bytes": int(sized.sum()), "repositories": int(len(sized)),
                       "of_repositories": int(len(repos)),
                       "note": "partial: only these repositories' deduplicated sizes are "
                               "known; not the project's size"}
        if sizes.notna().any():
            at_least = int(sizes.max())
    return {"registry_dedup_size_bytes": total, "registry_dedup_source": source,
            "registry_dedup_partial": partial, "registry_dedup_at_least_bytes": at_least}


def describe_dataset(ds: Dataset) -> dict[str, Any]:
    """Summarize a dataset; the dict behind ``cachecost data --json`` (a public contract).

    ``registry_total_size_bytes`` and each image's ``registry_size_bytes`` add up
    tag sizes (``total_size`` per tag, shared layers counted again): what GitLab's
    project views show. ``registry_dedup_size_bytes`` is the project's
    deduplicated registry size where the data have it (``registry_dedup_source``
    says from what), else null (``registry_dedup_source`` says why: no figure, or
    one below the project's own tags, which GitLab did not measure), with
    ``registry_dedup_partial`` holding the sum over the repositories that have one,
    labelled as partial, and ``registry_dedup_at_least_bytes`` the largest image's
    size (the registry stores at least that).
    """
    jobs, repos, tags = ds.jobs, ds.registry_repositories, ds.registry_tags
    container = jobs[jobs["is_container_build"]]
    tag_bytes = tags.groupby("repository_id")["total_size_bytes"].sum()
    repo_bytes = repos.set_index("repository_id").assign(tag_bytes=tag_bytes)["tag_bytes"]
    repo_bytes = repo_bytes.fillna(0)
    image_repos = repos.dropna(subset=["image"])
    images: dict[str, Any] = {}
    names = sorted(set(container["image"].dropna()) | set(image_repos["image"]))
    for image in names:
        ij = container[container["image"] == image]
        ids = image_repos.loc[
            (image_repos["image"] == image) & ~image_repos["is_cache_repository"], "repository_id"
        ]
        images[image] = {
            "container_jobs": int(len(ij)),
            "median_duration_s": _median(ij.loc[ij["status"] == "success", "duration_s"]),
            "registry_size_bytes": int(repo_bytes.reindex(ids).fillna(0).sum()),
        }
    md = ds.metadata
    dedup = _registry_dedup(md, repos, tags)
    return {
        "is_synthetic": ds.is_synthetic,
        "path": str(ds.path),
        "source": md.get("source"),
        "instance_url": md.get("instance_url"),
        "project_path": md.get("project_path"),
        "fetched_at": md.get("fetched_at"),
        "tables": {
            name: int(len(df))
            for name in schema.ALL_TABLES
            if (df := ds.table(name)) is not None
        },
        "registry_total_size_bytes": int(tags["total_size_bytes"].fillna(0).sum()),
        **dedup,
        "container_jobs": int(len(container)),
        "unmapped_container_jobs": int(container["image"].isna().sum()),
        "images": images,
    }
