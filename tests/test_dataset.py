"""Loading, validating and writing datasets (cachecost.dataset.io)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cachecost.config import SAMPLE_DATA_DIR
from cachecost.dataset import schema
from cachecost.dataset.io import describe_dataset, load_dataset, write_dataset, write_table
from cachecost.errors import DatasetError


@pytest.fixture()
def copy_of_sample(tmp_path: Path) -> Path:
    dst = tmp_path / "ds"
    shutil.copytree(SAMPLE_DATA_DIR, dst)
    return dst


def test_sample_loads_with_every_table_and_column(sample):
    for name, cols in schema.TABLES.items():
        df = sample.table(name)
        assert list(df.columns) == [c.name for c in cols]
        assert len(df) > 0
    assert sample.is_synthetic
    assert str(sample.jobs["created_at"].dt.tz) == "UTC"


def test_missing_directory_names_the_path(tmp_path):
    with pytest.raises(DatasetError, match=r"nope: no such data directory"):
        load_dataset(tmp_path / "nope")


def test_missing_table_names_the_file(copy_of_sample):
    (copy_of_sample / "jobs.parquet").unlink()
    with pytest.raises(DatasetError, match=r"jobs\.parquet: missing"):
        load_dataset(copy_of_sample)


def test_missing_column_names_file_and_column(copy_of_sample):
    path = copy_of_sample / "jobs.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["duration_s"]), path)
    with pytest.raises(DatasetError, match=r"jobs\.parquet: column 'duration_s' missing"):
        load_dataset(copy_of_sample)


def test_mistyped_column_names_file_column_and_expectation(copy_of_sample):
    path = copy_of_sample / "pipelines.parquet"
    table = pq.read_table(path)
    idx = table.schema.get_field_index("created_at")
    table = table.set_column(idx, "created_at", pa.array(["yesterday"] * len(table)))
    pq.write_table(table, path)
    with pytest.raises(DatasetError) as err:
        load_dataset(copy_of_sample)
    msg = str(err.value)
    assert "pipelines.parquet" in msg and "'created_at'" in msg and "timestamps" in msg
    assert "\n" not in msg


@pytest.mark.parametrize(("table", "column"), [
    ("jobs", "duration_s"), ("pipelines", "duration_s"), ("registry_tags", "total_size_bytes"),
])
def test_negative_duration_or_size_names_file_column_and_value(copy_of_sample, table, column):
    """Running times and sizes cannot be negative (GitLab reports none): a dataset holding
    one is corrupt, and loading it says where, in one line. (Queue times may be: a
    pipeline's is derived from stamps of two clocks.)"""
    path = copy_of_sample / f"{table}.parquet"
    t = pq.read_table(path)
    idx = t.schema.get_field_index(column)
    values = t.column(column).to_pylist()
    values[3] = -50.0
    pq.write_table(t.set_column(idx, column, pa.array(values, pa.float64())), path)
    with pytest.raises(DatasetError) as err:
        load_dataset(copy_of_sample)
    msg = str(err.value)
    assert f"{table}.parquet" in msg and f"'{column}'" in msg and "-50" in msg, msg
    assert "\n" not in msg


def test_corrupt_parquet_is_one_line(copy_of_sample):
    (copy_of_sample / "registry_tags.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DatasetError) as err:
        load_dataset(copy_of_sample)
    assert "registry_tags.parquet: not a readable Parquet file" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        (json.dumps({"schema_version": 1}), "key 'source' missing"),
    ],
)
def test_bad_metadata(copy_of_sample, content, expected):
    (copy_of_sample / "metadata.json").write_text(content)
    with pytest.raises(DatasetError, match=expected):
        load_dataset(copy_of_sample)


def test_newer_schema_version_is_refused(copy_of_sample):
    meta = json.loads((copy_of_sample / "metadata.json").read_text())
    meta["schema_version"] = schema.SCHEMA_VERSION + 1
    (copy_of_sample / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match="upgrade cachecost"):
        load_dataset(copy_of_sample)


def test_roundtrip_preserves_values(sample, tmp_path):
    write_dataset(sample, tmp_path / "copy")
    again = load_dataset(tmp_path / "copy")
    # the sample holds the required tables and two optional ones (image changes, forks)
    held = [n for n in schema.ALL_TABLES if sample.table(n) is not None]
    assert held == [*schema.TABLES, "image_changes", "forks"]
    for name in held:
        pd.testing.assert_frame_equal(sample.table(name), again.table(name))
    assert again.metadata == sample.metadata
    # nothing but the dataset's own files is left behind (temporary files are renamed away)
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == sorted(
        [f"{n}.parquet" for n in held] + ["metadata.json"]
    )


def test_failed_write_leaves_previous_file(sample, tmp_path):
    write_dataset(sample, tmp_path)
    before = (tmp_path / "jobs.parquet").read_bytes()
    with pytest.raises(DatasetError, match="column 'name' missing"):
        write_table(tmp_path, "jobs", sample.jobs.drop(columns=["name"]))
    assert (tmp_path / "jobs.parquet").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_describe_counts_follow_the_tables(sample):
    desc = describe_dataset(sample)
    jobs = sample.jobs
    assert desc["tables"]["jobs"] == len(jobs)
    builds = jobs[jobs["is_container_build"]]
    assert sum(v["container_jobs"] for v in desc["images"].values()) == len(builds)
    tags = sample.registry_tags
    assert desc["registry_total_size_bytes"] == int(tags["total_size_bytes"].sum())
    assert sum(v["registry_size_bytes"] for v in desc["images"].values()) == int(
        tags["total_size_bytes"].sum()
    )


def test_describe_counts_unmapped_container_jobs(sample):
    ds = load_dataset()
    ds.jobs = sample.jobs.copy()
    first = ds.jobs.index[ds.jobs["is_container_build"]][:3]
    ds.jobs.loc[first, "image"] = None
    assert describe_dataset(ds)["unmapped_container_jobs"] == 3
