"""build_report on tiny notebooks: failures named, parameters checked, incremental, standalone."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cachecost.config import NOTEBOOKS_DIR
from cachecost.dataset.io import load_dataset
from cachecost.errors import CachecostError
from cachecost.report.build import BUILD_STATE_FILE, build_report, fingerprint_inputs

from .sitekit import TINY_CHART, read_json, visit, write_notebook


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_failing_cell_fails_the_build_naming_notebook_and_cell(
    tmp_path: Path, tiny_notebooks: Path, one_scenario: Path
) -> None:
    out = tmp_path / "out"
    first = build_report([one_scenario], None, out, notebooks_dir=tiny_notebooks, jobs=2)
    assert first.built and (out / "index.html").is_file()
    before = _tree(out)
    broken = write_notebook(tiny_notebooks / "02-broken.ipynb",
                            ["x = 1", "ratio = x / 0", "print('never')"])
    with pytest.raises(CachecostError) as err:
        build_report([one_scenario], None, out, notebooks_dir=tiny_notebooks, jobs=2)
    message = str(err.value)
    # Source cells (1-based): heading, setup, parameters, `x = 1`, then the failing cell 5;
    # it ran fifth, after papermill's injected-parameters cell.
    assert message.startswith(f"{broken}: cell 5 (In [5]) `ratio = x / 0`")
    assert "ZeroDivisionError: division by zero" in message
    assert "\n" not in message
    # nothing half-written: the previous build is intact and no staging dir is left behind
    assert _tree(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.is_dir()]


def test_unknown_parameter_is_rejected_before_anything_runs(
    tmp_path: Path, tiny_notebooks: Path, one_scenario: Path
) -> None:
    out = tmp_path / "out"
    with pytest.raises(CachecostError, match=r"unknown parameter 'horizon_typo'.*"
                                             r"declares: data_dir, scenario_path"):
        build_report([one_scenario], None, out, notebooks_dir=tiny_notebooks,
                     parameters={"horizon_typo": 12})
    assert not out.exists() or not any(out.iterdir())


def test_base_url_must_be_a_web_address(tmp_path: Path, tiny_notebooks: Path,
                                        one_scenario: Path) -> None:
    with pytest.raises(CachecostError, match="--base-url 'qemu.org': expected an http"):
        build_report([one_scenario], None, tmp_path / "out", notebooks_dir=tiny_notebooks,
                     base_url="qemu.org")


def test_notebook_without_the_contract_parameters_is_rejected(
    tmp_path: Path, one_scenario: Path
) -> None:
    nbs = tmp_path / "nbs"
    nb = write_notebook(nbs / "01-old.ipynb", ["1"], params='data_dir: str = ""  # data')
    with pytest.raises(CachecostError, match=rf"{nb}: unknown parameter 'scenario_path'"):
        build_report([one_scenario], None, tmp_path / "out", notebooks_dir=nbs)


def test_cli_rejects_unknown_parameter_in_one_line(tmp_path: Path, one_scenario: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cachecost", "report", "--scenario", str(one_scenario),
         "--out", str(tmp_path / "out"), "-p", "no_such_knob=3"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cachecost: error: ")
    assert "unknown parameter 'no_such_knob'" in lines[0]
    assert "Traceback" not in proc.stderr


def test_cli_bad_scenario_and_bad_options_fail_in_one_line(tmp_path: Path) -> None:
    for args in (["--scenario", str(tmp_path / "nope.yaml")], ["--url", "https://x"],
                 ["--data", str(tmp_path / "no-data")]):
        proc = subprocess.run(
            [sys.executable, "-m", "cachecost", "report", "--out", str(tmp_path / "o"), *args],
            capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 2, args
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert proc.stderr.startswith("cachecost: error: ")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_rebuild_is_incremental_per_scenario(
    tmp_path: Path, tiny_notebooks: Path, one_scenario: Path
) -> None:
    scen_a = tmp_path / "a.yaml"
    scen_b = tmp_path / "b.yaml"
    shutil.copy(one_scenario, scen_a)
    shutil.copy(one_scenario, scen_b)
    for path, name in ((scen_a, "copy-a"), (scen_b, "copy-b")):
        text = path.read_text()
        lines = [ln for ln in text.splitlines() if not ln.startswith(("name:", "title:"))]
        path.write_text("\n".join([*lines, f"name: {name}", f"title: Copy {name}", ""]))
    out = tmp_path / "out"
    kwargs = {"notebooks_dir": tiny_notebooks, "jobs": 2}
    first = build_report([scen_a, scen_b], None, out, **kwargs)
    assert sorted(first.built) == ["copy-a", "copy-b"]
    snapshot = _tree(out)

    again = build_report([scen_a, scen_b], None, out, **kwargs)
    assert again.built == [] and sorted(again.skipped) == ["copy-a", "copy-b"]
    assert _tree(out) == snapshot  # not even index.html or the state file was rewritten

    scen_b.write_text(scen_b.read_text() + "# an edit\n")
    third = build_report([scen_a, scen_b], None, out, **kwargs)
    assert third.built == ["copy-b"] and third.skipped == ["copy-a"]
    assert _tree(out / "copy-a") == {k[len("copy-a/"):]: v for k, v in snapshot.items()
                                      if k.startswith("copy-a/")}
    state = read_json(out / BUILD_STATE_FILE)
    assert state["scenarios"]["copy-b"]["inputs"]["scenario"] != \
        state["scenarios"]["copy-a"]["inputs"]["scenario"]


def test_fingerprint_covers_notebooks_data_package_and_options(
    tmp_path: Path, tiny_notebooks: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(load_dataset().path, data)
    notebooks = [tiny_notebooks / "01-tiny.ipynb"]
    base = fingerprint_inputs(data, notebooks, {"standalone": False})
    assert fingerprint_inputs(data, notebooks, {"standalone": False}) == base
    assert fingerprint_inputs(data, notebooks, {"standalone": True})["options"] != \
        base["options"]
    write_notebook(notebooks[0], [TINY_CHART, "print('more')"])
    changed = fingerprint_inputs(data, notebooks, {"standalone": False})
    assert changed["notebooks"] != base["notebooks"] and changed["data"] == base["data"]
    (data / "metadata.json").write_text((data / "metadata.json").read_text() + " ")
    assert fingerprint_inputs(data, notebooks, {"standalone": False})["data"] != base["data"]
    assert set(base) == {"data", "notebooks", "package", "options"}


def test_standalone_page_works_alone(
    tmp_path: Path, tiny_notebooks: Path, one_scenario: Path, browser_context
) -> None:
    out = tmp_path / "out"
    build = build_report([one_scenario], None, out, notebooks_dir=tiny_notebooks,
                         is_standalone=True, jobs=2)
    assert not (out / "assets").exists()
    page = build.pages[0]
    alone = tmp_path / "alone" / page.name
    alone.parent.mkdir()
    shutil.copy(page, alone)  # nothing else beside it
    seen = visit(browser_context, alone)
    assert seen.blocked_requests == []
    assert seen.console_errors == []
    assert seen.charts and all(c["traces"] > 0 and c["has_svg"] for c in seen.charts)
    assert "SYNTHETIC SAMPLE DATA" in seen.text


FAKE_FETCH_PARAMS = (
    'url: str = ""  # GitLab instance\n'
    'project: str = ""  # GROUP/PROJECT\n'
    'since: str = ""  # oldest pipeline, YYYY-MM-DD\n'
    'data_dir: str = ""  # where the dataset goes'
)
# Stands in for the FETCH helper's notebook: "fetches" by copying the sample.
FAKE_FETCH = (
    "from cachecost.dataset.io import load_dataset, write_dataset\n"
    "ds = load_dataset()\n"
    "ds.metadata = {**ds.metadata, 'is_synthetic': False, 'source': 'gitlab',\n"
    "               'instance_url': url, 'project_path': project, 'fetched_at': since}\n"
    "write_dataset(ds, data_dir)"
)


def test_fetch_needs_its_notebook_and_a_project(tmp_path: Path, tiny_notebooks: Path,
                                                one_scenario: Path) -> None:
    with pytest.raises(CachecostError, match="00-fetch-gitlab.ipynb: missing"):
        build_report([one_scenario], None, tmp_path / "out", notebooks_dir=tiny_notebooks,
                     fetch_params={"url": "https://gitlab.example", "project": "g/p"})
    write_notebook(tiny_notebooks / "00-fetch-gitlab.ipynb", [FAKE_FETCH],
                   params=FAKE_FETCH_PARAMS)
    with pytest.raises(CachecostError, match="--fetch needs --url URL and --project"):
        build_report([one_scenario], None, tmp_path / "out", notebooks_dir=tiny_notebooks,
                     fetch_params={"url": "https://gitlab.example", "project": None})


def test_fetch_through_the_real_fetch_notebook_from_the_gitlab_standin(
    tmp_path: Path, tiny_notebooks: Path, one_scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = NOTEBOOKS_DIR / "00-fetch-gitlab.ipynb"
    if not real.is_file():
        pytest.skip("notebooks/00-fetch-gitlab.ipynb does not exist yet")
    from cachecost.standin.data import StandinData
    from cachecost.standin.server import start_standin

    shutil.copy(real, tiny_notebooks / real.name)
    monkeypatch.setenv("GITLAB_TOKEN", "t0k")  # the token only ever travels in the environment
    monkeypatch.delenv("PYTHON_GITLAB_CFG", raising=False)
    data = StandinData.from_sample(days=3)
    out, fetched = tmp_path / "out", tmp_path / "fetched"
    with start_standin(data, tokens={"t0k": {"read_api"}}) as server:
        build = build_report(
            [one_scenario], None, out, notebooks_dir=tiny_notebooks, jobs=2,
            fetch_params={"url": server.url, "project": data.project_path,
                          "data_dir": str(fetched)},
        )
    assert (fetched / "metadata.json").is_file()
    page = build.pages[0].read_text()
    # the stand-in's data are synthetic: the page says so instead of naming it as the source
    assert 'class="cc-synthetic"' in page and f"{server.url} {data.project_path}" not in page
    executed = (out / "fetch" / "00-fetch-gitlab.ipynb").read_text()
    assert "t0k" not in executed and "t0k" not in page
