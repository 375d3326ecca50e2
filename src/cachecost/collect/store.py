"""The dataset directory a fetch writes into: typed tables, merges by id, the watermarks.

Every table write is atomic (:func:`cachecost.dataset.io.write_table`) and
``fetch_state.json`` is written only after the data it describes, so a fetch cut
short at any point leaves a dataset that the next run resumes.

    store = Store(Path("data/raw/demo"), "https://gitlab.com", "qemu-project/qemu")
    jobs = merge_by_id(store.load("jobs"), rows_to_frame(rows, "jobs"), "job_id")
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from cachecost.dataset import schema
from cachecost.dataset.io import (
    FETCH_STATE_FILE,
    atomic_path,
    empty_table,
    read_table,
    write_table,
)
from cachecost.errors import CachecostError

STATE_FILE = FETCH_STATE_FILE
STATE_VERSION = 1
#: The columns a build-log sample fills; a re-fetched job keeps them.
LOG_COLUMNS = ("cache_outcome", "cached_steps", "executed_steps", "builder", "run_steps")


def rows_to_frame(rows: list[dict], table: str) -> pd.DataFrame:
    """Rows (dicts from :mod:`cachecost.collect.gitlab`) as a DataFrame with the table's dtypes."""
    if not rows:
        return empty_table(table)
    names = [c.name for c in schema.ALL_TABLES[table]]
    return to_schema(pd.DataFrame(rows, columns=names), table)


def to_schema(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Cast a frame's columns to the table's dtypes (times may be ISO 8601 text)."""
    cols = schema.ALL_TABLES[table]
    if df.empty:
        return empty_table(table)
    df = df.assign(**{c.name: None for c in cols if c.optional and c.name not in df.columns})
    df = df[[c.name for c in cols]].copy()
    for c in cols:
        if c.kind == "timestamp":
            df[c.name] = pd.to_datetime(df[c.name], utc=True, format="ISO8601")
        elif c.kind == "float":
            df[c.name] = pd.to_numeric(df[c.name], errors="coerce").astype("float64")
        elif c.kind == "int":
            df[c.name] = df[c.name].astype("int64")
        elif c.kind == "int?":
            df[c.name] = pd.array(df[c.name].where(df[c.name].notna(), None).to_numpy(dtype=object),
                                  dtype="Int64")
        elif c.kind == "bool":
            df[c.name] = df[c.name].astype(bool)
        else:
            df[c.name] = df[c.name].astype(object).where(df[c.name].notna(), None)
    return df


def merge_by_id(old: pd.DataFrame, new: pd.DataFrame, key: str) -> pd.DataFrame:
    """Union of two tables by id; a row in ``new`` replaces the stored one."""
    if new.empty:
        return old
    if old.empty:
        out = new
    else:
        if key == "job_id":  # a re-fetched job keeps the log sample already read for it
            prev = old.set_index("job_id")
            new = new.copy()
            for col in LOG_COLUMNS:
                keep = new[col].isna() & new["job_id"].isin(prev.index)
                if keep.any():
                    new.loc[keep, col] = new.loc[keep, "job_id"].map(prev[col])
        out = pd.concat([old, new], ignore_index=True)
    out = out.drop_duplicates(subset=key, keep="last").sort_values(key)
    return out.reset_index(drop=True)


class Checkpoints:
    """When to save during a walk: every ``checkpoint_pages`` pages, at most every
    ``checkpoint_s`` seconds (a fast walk does not rewrite its table every few pages)."""

    def __init__(self, pages: int, seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pages, self.seconds, self.clock = pages, seconds, clock
        self._count, self._last = 0, clock()

    def is_due(self) -> bool:
        """Count one page; True when a save is due (and start counting anew)."""
        self._count += 1
        if self._count < self.pages or self.clock() - self._last < self.seconds:
            return False
        self._count, self._last = 0, self.clock()
        return True


class Store:
    """A dataset directory being fetched into: its tables and ``fetch_state.json``."""

    def __init__(self, data_dir: Path, instance_url: str, project_path: str) -> None:
        self.path = data_dir
        self.state_path = data_dir / STATE_FILE
        self._lock = threading.Lock()      # the pipelines and jobs phases run side by side
        self.existed = self.state_path.is_file()
        self._state_text: str | None = None      # fetch_state.json as last read or written
        self.state = self._load_state(instance_url, project_path)
        #: rows of each table as this run last wrote it, and fetch_state.json (0) once
        #: written (empty: this run has written nothing)
        self.written: dict[str, int] = {}

    def _load_state(self, instance_url: str, project_path: str) -> dict[str, Any]:
        fresh = {"version": STATE_VERSION, "instance_url": instance_url,
                 "project_path": project_path, "since": None,
                 "pipelines": {"updated_after": None},
                 "jobs": {"complete_max_id": None, "walk": None},
                 "logs": {"sampled_above_id": None}, "learned_images": {},
                 "registry": {"container_registry_size_bytes": None}}
        if self.path.exists() and not self.path.is_dir():
            raise CachecostError(f"{self.path}: exists and is not a directory")
        if not self.state_path.is_file():
            if (self.path / "metadata.json").is_file():
                raise CachecostError(
                    f"{self.path}: holds a dataset not made by cachecost fetch "
                    f"(no {STATE_FILE}); choose another --data directory")
            return fresh
        try:
            self._state_text = self.state_path.read_text(encoding="utf-8")
            state = json.loads(self._state_text)
        except (OSError, ValueError) as exc:
            raise CachecostError(f"{self.state_path}: unreadable ({exc})") from None
        if (state.get("instance_url", "").rstrip("/") != instance_url.rstrip("/")
                or state.get("project_path") != project_path):
            raise CachecostError(
                f"{self.path}: holds {state.get('project_path')} from "
                f"{state.get('instance_url')}, not {project_path} from {instance_url}; "
                "choose another --data directory")
        return {**fresh, **state}

    def load(self, table: str) -> pd.DataFrame:
        """The stored table, or an empty one."""
        df = read_table(self.path, table, required=False)
        return empty_table(table) if df is None else df

    def has(self, table: str) -> bool:
        """True when the table's file exists."""
        return (self.path / f"{table}.parquet").is_file()

    def save(self, table: str, df: pd.DataFrame) -> None:
        """Write one table atomically."""
        write_table(self.path, table, df)
        with self._lock:
            self.written[table] = len(df)

    def has_tables_written(self) -> bool:
        """True once this run has written a table (not just ``fetch_state.json``)."""
        with self._lock:
            return any(t != STATE_FILE for t in self.written)

    def describe_saved(self) -> str:
        """What this run left on disk, for a failure's message: true whether or not it wrote.

        ``"nothing was written"`` (a new directory without a table is removed by
        :func:`cachecost.collect.fetch.fetch_project_history`), ``"nothing new was
        written; DIR is as it was"`` (an earlier fetch's dataset), or ``"saved so
        far: DIR holds N pipelines and M jobs; run the same command again to resume"``.
        """
        with self._lock:
            written = dict(self.written)
        tables = {t: n for t, n in written.items() if t != STATE_FILE}
        if not tables:
            if not self.existed:
                return "nothing was written"
            if not written:
                return f"nothing new was written; {self.path} is as it was"
            return (f"no new rows were saved, only the fetch's progress ({STATE_FILE}) in "
                    f"{self.path}; run the same command again to resume")
        held = " and ".join(f"{tables[t]:,} {t}" for t in ("pipelines", "jobs") if t in tables)
        return (f"saved so far: {self.path} holds {held or ', '.join(sorted(tables))}; run "
                "the same command again to resume")

    def save_state(self) -> None:
        """Write ``fetch_state.json`` atomically (call only after the data it describes)."""
        text = json.dumps(self.state, indent=2, sort_keys=True) + "\n"
        with self._lock:
            if text == self._state_text:        # unchanged: the file is left as it is
                return
            self.path.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.state_path) as tmp:
                tmp.write_text(text, encoding="utf-8")
            self._state_text = text
            self.written.setdefault(STATE_FILE, 0)
