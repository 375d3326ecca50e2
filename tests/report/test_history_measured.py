"""The CI-history page's measured inputs: image changes, fork activity, registry usage."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cachecost.collect.fetch import fetch_project_history
from cachecost.collect.gitlab.client import connect
from cachecost.config import NOTEBOOKS_DIR
from cachecost.dataset.io import load_dataset
from cachecost.dataset.sample import SampleSettings, generate_sample
from cachecost.report import figures, history
from cachecost.standin import StandinData, start_standin
from cachecost.standin.extra import ExtraData

GIB = 1024**3



@pytest.fixture(scope="module")
def sample(sample_unmeasured):
    """These tests add their own measurements to a sample that has none (the bundled
    sample carries synthetic ones since issue 24)."""
    return sample_unmeasured

@pytest.fixture(scope="module")
def fetched(tmp_path_factory) -> tuple[Path, ExtraData]:
    """A dataset fetched from the stand-in (3 days), with its served truth."""
    out = tmp_path_factory.mktemp("fetched")
    data = StandinData(generate_sample(SampleSettings(days=3)))
    with start_standin(data, tokens={"t": {"read_api"}}) as srv:
        client = connect(srv.url, environ={"GITLAB_TOKEN": "t"})
        fetch_project_history(client, "qemu-project/qemu", out)
        client.close()
        return out, srv.extra


def test_image_changes_one_marker_per_commit_and_image(fetched) -> None:
    path, extra = fetched
    ds = load_dataset(path)
    df = history.list_image_changes(ds)
    want = extra.image_changes_frame(ds.pipelines["created_at"].min())
    assert len(df) == len(want.drop_duplicates(["image", "commit"])) > 0
    assert set(df["image"]) == set(want["image"])
    fig = figures.plot_image_changes(df)
    assert len(fig.data[0].x) == len(df)
    assert f"{len(df)} in all" in fig.layout.title.text


def test_fork_activity_sums_what_the_forks_served(fetched) -> None:
    path, extra = fetched
    ds = load_dataset(path)
    df = history.summarize_fork_activity(ds)
    truth = extra.forks_truth()
    active = truth[truth["is_active"]]
    assert df["pipelines"].sum() == active["pipelines"].sum()
    assert df["image_change_pipelines"].sum() == active["image_change_pipelines"].sum()
    assert (df["other_pipelines"] == df["pipelines"] - df["image_change_pipelines"]).all()
    figs = history.fork_activity_figures(ds)
    assert figs["forks_active"] == len(active) and figs["sampling_fraction"] == 1.0
    fig = figures.plot_fork_activity(df, figs)
    assert f"{len(active)} of {len(active)} active forks sampled" in fig.layout.title.text


def test_registry_usage_shows_both_figures_with_the_date(fetched) -> None:
    path, extra = fetched
    ds = load_dataset(path)
    df = history.registry_usage_frame(ds)
    assert list(df["level"]) == ["this project", "root namespace qemu-project"]
    assert df["size_bytes"].tolist() == [float(extra.data.container_registry_size_bytes()),
                                         float(extra.namespace_registry_size_bytes())]
    fig = figures.plot_registry_usage(df)
    assert ds.metadata["registry_usage"]["read_at"] in fig.layout.title.text


def test_without_measurements_the_figures_say_so(sample) -> None:
    for fig in (figures.plot_image_changes(history.list_image_changes(sample)),
                figures.plot_fork_activity(history.summarize_fork_activity(sample),
                                           history.fork_activity_figures(sample)),
                figures.plot_registry_usage(history.registry_usage_frame(sample))):
        assert "cachecost-not-measured" in fig.data and "dataset" in fig.data


def test_user_text_in_fork_paths_is_escaped() -> None:
    df = pd.DataFrame({"fork": ["<b>x</b>/qemu"], "owner": ["<b>x</b>"], "pipelines": [2],
                       "image_change_pipelines": [1], "other_pipelines": [1]})
    figs = {"forks_sampled": 1, "forks_active": 1, "sampling_fraction": 1.0,
            "read_at": "2026-01-01", "pipelines_per_month": 2.0, "owners": 1.0}
    fig = figures.plot_fork_activity(df, figs)
    assert fig.data[0].x[0] == "&lt;b&gt;x&lt;/b&gt;/qemu"


def test_history_notebook_shows_the_measured_data(fetched, tmp_path) -> None:
    import papermill

    path, extra = fetched
    out = tmp_path / "01.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS_DIR / "01-ci-history.ipynb"), str(out),
                               parameters={"data_dir": str(path)}, kernel_name="python3",
                               progress_bar=False)
    text = json.dumps(json.loads(out.read_text())["cells"])
    assert "root namespace qemu-project" in text
    assert "Measured changes of each image" in text
    assert "active forks sampled" in text
