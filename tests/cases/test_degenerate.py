"""Kind 6 of issue 11: degenerate datasets. Every command gives a result or one clear line
and exit 2 -- never a traceback.

Case 04: cachecost's own stand-in with its registry disabled -> fetch -> ``cachecost model``
(was ``KeyError: 'compressed_size_gib'``). The zoo: a property-based test derives datasets
from a small sample by removing or narrowing what a real project may lack -- no registry,
no registry repository mapped to an image, no container jobs, one pipeline, no logs read,
an image never rebuilt, only failed jobs -- in any combination, and runs ``cachecost data``,
``cachecost model`` and the report's model and history parts on each.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cachecost.cli import main
from cachecost.collect.fetch import fetch_project_history
from cachecost.collect.gitlab.client import connect
from cachecost.dataset.io import Dataset, empty_table, load_dataset, write_dataset
from cachecost.dataset.sample import SampleSettings, generate_sample
from cachecost.errors import CachecostError
from cachecost.model.results import run_model
from cachecost.model.scenario import load_scenario
from cachecost.report import history
from cachecost.report.provenance import collect_provenance
from cachecost.report.summary import format_summary_text, is_url_line
from cachecost.standin import StandinData, start_standin

TOKEN = "glpat-degenerate-test-token"
SAMPLES = 300
DEGENERACIES = ("no_registry", "registry_unmapped", "no_container_jobs", "one_pipeline",
                "no_logs_read", "never_rebuilt", "only_failed_jobs", "one_image")


@pytest.fixture(scope="module")
def base() -> Dataset:
    return generate_sample(SampleSettings(days=4))


def degrade(ds: Dataset, kinds: frozenset[str]) -> Dataset:
    """The sample with each degeneracy in ``kinds`` applied (see the module doc)."""
    jobs, pipes = ds.jobs.copy(), ds.pipelines.copy()
    repos, tags = ds.registry_repositories.copy(), ds.registry_tags.copy()
    if "one_image" in kinds:
        first = sorted(jobs["image"].dropna().unique())[0]
        jobs = jobs[jobs["image"].isna() | (jobs["image"] == first)]
    if "one_pipeline" in kinds:
        keep = int(pipes["pipeline_id"].iloc[len(pipes) // 2])
        pipes = pipes[pipes["pipeline_id"] == keep]
        jobs = jobs[jobs["pipeline_id"] == keep]
    if "no_container_jobs" in kinds:
        jobs = jobs[~jobs["is_container_build"]]
    if "no_logs_read" in kinds:
        jobs = jobs.assign(cache_outcome=None, cached_steps=pd.NA, executed_steps=pd.NA)
        jobs["cached_steps"] = jobs["cached_steps"].astype("Int64")
        jobs["executed_steps"] = jobs["executed_steps"].astype("Int64")
    if "never_rebuilt" in kinds:
        # every container build as fast as its image's fastest: no rebuild to see
        cb = jobs["is_container_build"] & jobs["duration_s"].notna()
        fastest = jobs[cb].groupby("image")["duration_s"].transform("min")
        jobs.loc[cb, "duration_s"] = fastest
        jobs.loc[cb & jobs["cache_outcome"].notna(), "cache_outcome"] = "hit"
    if "only_failed_jobs" in kinds:
        ran = jobs["status"].isin(["success", "failed"])
        jobs.loc[ran, "status"] = "failed"
        jobs.loc[ran, "failure_reason"] = "script_failure"
        jobs["cache_outcome"] = None
        pipes["status"] = "failed"
    if "registry_unmapped" in kinds:
        repos["image"] = None
    if "no_registry" in kinds:
        repos, tags = empty_table("registry_repositories"), empty_table("registry_tags")
    return dataclasses.replace(ds, jobs=jobs.reset_index(drop=True),
                               pipelines=pipes.reset_index(drop=True),
                               registry_repositories=repos.reset_index(drop=True),
                               registry_tags=tags.reset_index(drop=True), registry_layers=None,
                               metadata={**ds.metadata, "degenerate": sorted(kinds)})


def _run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _assert_result_or_one_line(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err
    if code == 0:
        assert out.strip()
    else:
        assert code == 2, (code, err)
        assert err.startswith("cachecost: error: ") and err.count("\n") == 1, err


def check_every_command(data_dir: Path, capsys) -> dict[str, int]:
    """Run data, model (json, text) and the report's parts; return each exit code."""
    codes = {}
    code, out, err = _run_cli(["data", "--data", str(data_dir), "--json"], capsys)
    _assert_result_or_one_line(code, out, err)
    codes["data"] = code
    code, out, err = _run_cli(["model", "--data", str(data_dir), "--samples", str(SAMPLES),
                               "--format", "json"], capsys)
    _assert_result_or_one_line(code, out, err)
    codes["model"] = code
    if code == 0:
        results = json.loads(out)
        assert results["strategies"]
        for s in results["strategies"].values():
            assert np.isfinite(s["total_cost_usd_per_month"]["p50"])
        code, out, err = _run_cli(["model", "--data", str(data_dir), "--samples", "50",
                                   "--format", "text"], capsys)
        _assert_result_or_one_line(code, out, err)
    # the report's parts: the model summary and the history tables
    ds = load_dataset(data_dir)
    scenario = load_scenario(None)
    try:
        results = run_model(ds, scenario, samples=SAMPLES)
    except CachecostError as exc:
        assert "\n" not in str(exc)
        codes["report"] = 2
    else:
        text = format_summary_text(results, collect_provenance(ds, scenario, built_at="x"),
                                   None)
        # 72 columns, but a URL longer than that stands alone on its line, unbroken
        assert text.strip() and all(len(x) <= 72 or is_url_line(x) for x in text.splitlines())
        codes["report"] = 0
    for fn in (history.count_pipelines_per_month, history.classify_container_builds,
               history.summarize_build_durations, history.compute_cache_outcome_rate,
               history.summarize_queue_times, history.summarize_registry_size,
               history.sum_billed_build_minutes):
        assert isinstance(fn(ds), pd.DataFrame)
    return codes


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.frozensets(st.sampled_from(DEGENERACIES), min_size=1, max_size=3))
def test_degenerate_zoo_every_command(base, kinds, tmp_path_factory, capsys) -> None:
    data_dir = write_dataset(degrade(base, kinds), tmp_path_factory.mktemp("zoo"))
    codes = check_every_command(data_dir, capsys)
    has_container_build_with_duration = not ({"no_container_jobs", "only_failed_jobs"}
                                             & kinds)
    if has_container_build_with_duration and "one_pipeline" not in kinds:
        # enough to model: the model must give a result, not an error
        assert codes["model"] == 0 and codes["report"] == 0, kinds
    assert codes["data"] == 0


@pytest.mark.parametrize("kind", DEGENERACIES)
def test_each_degeneracy_alone(base, kind, tmp_path, capsys) -> None:
    """Each kind alone; the model runs unless no container build is left to calibrate."""
    data_dir = write_dataset(degrade(base, frozenset({kind})), tmp_path / "ds")
    codes = check_every_command(data_dir, capsys)
    want = 2 if kind in ("no_container_jobs", "only_failed_jobs") else 0
    assert codes == {"data": 0, "model": want, "report": want}


def test_no_registry_uses_the_documented_fallback_size(base, tmp_path, capsys) -> None:
    """No registry: every image takes the fallback size, and the results say so."""
    from cachecost.model.calibrate import DEFAULT_IMAGE_GIB, calibrate
    cal = calibrate(degrade(base, frozenset({"no_registry"})))
    assert (cal.images["compressed_size_gib"] == DEFAULT_IMAGE_GIB).all()
    assert any("without registry data" in n for n in cal.notes)


def test_case_04_standin_registry_disabled(tmp_path, capsys) -> None:
    """The case's repro: stand-in, registry disabled, fetch, model -> a model run."""
    data = StandinData.from_sample(days=3, registry_mode="disabled")
    srv = start_standin(data, tokens={TOKEN: {"read_api"}})
    try:
        client = connect(srv.url, None, environ={"GITLAB_TOKEN": TOKEN})
        try:
            fetch_project_history(client, data.project_path, tmp_path / "ds")
        finally:
            client.close()
    finally:
        srv.stop()
    ds = load_dataset(tmp_path / "ds")
    assert ds.registry_repositories.empty
    code, out, err = _run_cli(["model", "--data", str(tmp_path / "ds"), "--samples", "500",
                               "--format", "text"], capsys)
    assert (code, err) == (0, "")
    assert "container builds:" in out
    results = run_model(ds, load_scenario(None), samples=500)
    notes = json.dumps(results)
    assert "without registry data" in notes
