"""Every input bounded and checked before work (issue 23, items 1 and 2).

Before: a token with a trailing newline, a symlink loop as --data and
``cachecost buildlog /dev/zero`` (MemoryError) were tracebacks; a FIFO blocked
forever; duplicate scenario keys were silently merged (the last won);
``report --out`` into a user's folder replaced files there and a site could be
written into a dataset; ``--samples 5000000`` needed 10.4 GB.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cachecost.cli import main
from cachecost.collect.gitlab.client import clean_token, resolve_credentials
from cachecost.commands.buildlog import read_log
from cachecost.commands.report import default_out_dir
from cachecost.config import RAW_DATA_DIR, REPORTS_DIR, SAMPLE_DATA_DIR, SCENARIOS_DIR
from cachecost.errors import CachecostError
from cachecost.report.outdir import check_site_dir, find_debris, sweep_debris


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cachecost: error: "), err
    return err[0]


@pytest.fixture
def loop(tmp_path: Path) -> Path:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    return tmp_path / "a"


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "pipe")
    return tmp_path / "pipe"


# ------------------------------------------------------------------ files that are not files

@pytest.mark.parametrize(("which", "words"), [
    ("/dev/zero", "is a character device"),
    ("fifo", "is a FIFO (named pipe)"),
    ("loop", "Too many levels of symbolic links"),
])
@pytest.mark.parametrize("command", ["buildlog", "scenario"])
def test_devices_fifos_and_loops_are_refused_as_files(which, words, command, fifo, loop,
                                                      capsys):
    path = {"/dev/zero": "/dev/zero", "fifo": str(fifo), "loop": str(loop)}[which]
    argv = ["buildlog", path] if command == "buildlog" else ["model", "--scenario", path]
    assert main(argv) == 2
    line = one_error(capsys)
    assert path in line and words in line


@pytest.mark.parametrize("command", ["data", "model", "report"])
def test_a_symlink_loop_as_data_is_one_line(command, loop, tmp_path, capsys):
    extra = ["--out", str(tmp_path / "site")] if command == "report" else []
    assert main([command, "--data", str(loop), *extra]) == 2
    assert "symlink loop" in one_error(capsys)
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize(("target", "words"), [("loop", "is a symlink loop"),
                                               ("dangling", "is a symlink to a missing path")])
def test_an_output_folder_that_is_a_broken_symlink_is_refused_before_work(target, words,
                                                                          loop, tmp_path):
    """``fetch --data LOOP`` fetched every pipeline, then died at its first write with a
    FileExistsError traceback: ``Path.exists()`` is False for a symlink loop (and a
    dangling symlink), so the output check walked up to the writable parent and passed,
    while ``mkdir`` fails on the link. The check now names the link, before any request."""
    from cachecost.config import check_output_dir

    path = loop
    if target == "dangling":
        path = tmp_path / "dangling"
        path.symlink_to(tmp_path / "nowhere")
    with pytest.raises(CachecostError) as err:
        check_output_dir(path, "--data")
    assert str(err.value) == f"--data {path}: cannot write there ({path} {words}" + (
        ")" if target == "loop" else " (No such file or directory))")


def test_a_long_build_log_is_cut_and_said(tmp_path, capsys):
    """A 1,000-byte log read with a 100-byte bound: the first 100 bytes, and a note."""
    log = tmp_path / "job.log"
    log.write_bytes(b"0123456789" * 100)
    assert read_log(str(log), max_bytes=100) == "0123456789" * 10
    err = capsys.readouterr().err
    assert "cut at 100 B of 1000 B" in err and str(log) in err


def test_a_short_build_log_is_read_whole_without_a_note(tmp_path, capsys):
    log = tmp_path / "job.log"
    log.write_text("#5 [2/3] RUN make\n#5 CACHED\n", encoding="utf-8")
    assert read_log(str(log), max_bytes=100).endswith("CACHED\n")
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------ scenario YAML

@pytest.mark.parametrize(("extra", "key"), [
    ("name: again\n", "'name'"),
    ("x:\n  a: 1\n  a: 2\n", "'a'"),
])
def test_a_key_given_twice_is_an_error(tmp_path, extra, key, capsys):
    text = (SCENARIOS_DIR / "gitlab-hosted-oss.yaml").read_text(encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    lines = (text + "\n" + extra).splitlines()      # the second one is the last such line
    line_no = 1 + max(i for i, line in enumerate(lines)
                      if line.strip().startswith(key.strip("'") + ":"))
    assert main(["model", "--scenario", str(path)]) == 2
    line = one_error(capsys)
    assert f"key {key} given twice" in line and f"line {line_no}," in line


@pytest.mark.parametrize(("value", "words"), [
    ("1e308", "1e+308 USD/year is outside the plausible range 0 to 1e+07 USD/year"),
    ("1.0e308", "1e+308 USD/year is outside the plausible range"),
    ("3e7", "3e+07 USD/year is outside the plausible range"),
])
def test_a_price_in_exponent_form_is_a_number_checked_against_its_range(
        tmp_path, value, words, capsys):
    """Issue 23's ``node_cost_usd_per_year: 1e308``: PyYAML (YAML 1.1) read ``1e308`` as
    the string '1e308', so the error said "expected a number", not that the price is out
    of range, and a correct ``3e3`` ($3,000) was refused too. By hand: 1e308 and 3e7 are
    above the 1e7 USD/year bound; 3e3 = 3,000 is inside it and runs."""
    text = (SCENARIOS_DIR / "qemu-private-runners.yaml").read_text(encoding="utf-8")
    node = "  node_cost_usd_per_year: {triangular: {low: 2250, mode: 2625, high: 3000}}"
    assert node in text
    path = tmp_path / "s.yaml"
    path.write_text(text.replace(node, f"  node_cost_usd_per_year: {value}"), encoding="utf-8")
    assert main(["model", "--scenario", str(path), "--samples", "200"]) == 2
    assert words in one_error(capsys)
    path.write_text(text.replace(node, "  node_cost_usd_per_year: 3e3"), encoding="utf-8")
    assert main(["model", "--scenario", str(path), "--samples", "200", "--format", "json"]) == 0


# ------------------------------------------------------------------ tokens

@pytest.mark.parametrize(("raw", "clean"), [
    ("glpat-abc\n", "glpat-abc"), ("  glpat-abc\r\n", "glpat-abc"), ("glpat-abc", "glpat-abc"),
])
def test_a_pasted_token_loses_its_surrounding_whitespace(raw, clean):
    creds = resolve_credentials("https://gitlab.example", environ={"GITLAB_TOKEN": raw})
    assert creds.token == clean


@pytest.mark.parametrize("raw", ["glpat-a\nb", "glpat-a\x00b", "glpat-a\x7fb", "glpat-ä"])
def test_a_token_with_a_character_a_header_cannot_carry_is_refused(raw):
    with pytest.raises(CachecostError) as err:
        clean_token(raw, "environment variable GITLAB_TOKEN")
    assert "GITLAB_TOKEN" in str(err.value) and raw not in str(err.value)


# ------------------------------------------------------------------ --samples

def test_samples_above_the_memory_bound_are_refused_with_the_reason(capsys):
    assert main(["model", "--samples", "500001"]) == 2
    line = one_error(capsys)
    assert "500,000" in line and "memory" in line


# ------------------------------------------------------------------ --out

def test_report_refuses_a_folder_it_did_not_make(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("a user's own file", encoding="utf-8")
    assert main(["report", "--out", str(mine)]) == 2
    line = one_error(capsys)
    assert "'thesis.tex'" in line and "--force-out" in line
    assert sorted(os.listdir(mine)) == ["thesis.tex"]


def test_force_out_and_a_build_record_let_a_folder_be_used(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CachecostError, match="did not write"):
        check_site_dir(mine, None)
    assert check_site_dir(mine, None, is_forced=True) == mine
    (mine / ".cachecost-build.json").write_text("{}", encoding="utf-8")
    assert check_site_dir(mine, None) == mine


def test_debris_alone_does_not_make_a_folder_foreign_and_is_swept(tmp_path):
    site = tmp_path / "site"
    (site / ".gitlab-hosted-oss.build-k2j_x9ab").mkdir(parents=True)
    (site / ".gitlab-hosted-oss.build-k2j_x9ab" / "01-ci-history.html").write_text("x")
    (site / ".index.html.a1b2c3d4.tmp").write_text("x")
    (site / "assets").mkdir()
    (site / "assets" / ".plotly.min.js.zz9_qq1w.tmp").write_text("x")
    (site / ".well-known").mkdir()          # a user's hidden folder is not debris
    assert len(find_debris(site)) == 3
    with pytest.raises(CachecostError, match="'.well-known'"):
        check_site_dir(site, None)
    shutil.rmtree(site / ".well-known")
    assert check_site_dir(site, None) == site
    assert len(sweep_debris(site)) == 3
    assert sorted(p.name for p in site.rglob("*")) == ["assets"]


@pytest.mark.parametrize("where", ["itself", "inside", "inside-other"])
def test_a_site_is_never_written_into_a_dataset(tmp_path, where, capsys):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    out = {"itself": data, "inside": data / "site", "inside-other": data / "x" / "site"}[where]
    argv = ["report", "--out", str(out), "--force-out"]
    if where != "inside-other":
        argv += ["--data", str(data)]
    assert main(argv) == 2
    assert "inside the dataset" in one_error(capsys)
    assert not (data / "site").exists() and not (data / "x").exists()


def test_a_fetched_dataset_reports_into_its_own_folder():
    assert default_out_dir(None) == REPORTS_DIR
    assert default_out_dir(str(RAW_DATA_DIR / "demo")) == REPORTS_DIR / "demo"
    assert default_out_dir(str(RAW_DATA_DIR / "gitlab.com" / "g" / "p")) == \
        REPORTS_DIR / "gitlab.com" / "g" / "p"
    assert default_out_dir("/somewhere/else/qemu") == REPORTS_DIR / "qemu"


@pytest.mark.parametrize("site", ["demo", "gitlab.com/g/p", "group/demo-group/fdo~app"])
def test_the_default_reports_folder_may_hold_the_sites_of_other_datasets(site, tmp_path,
                                                                        monkeypatch):
    """README's order on a fresh clone: ``cachecost report --data data/raw/demo`` writes
    ``reports/demo/``, ``report --group`` writes ``reports/group/<group>/``; then
    ``cachecost report`` (the sample, into ``reports/``) must not call them foreign
    (before: "holds files cachecost did not write ('demo')", exit 2). A folder there
    without a build record is still foreign."""
    reports = tmp_path / "reports"
    monkeypatch.setattr("cachecost.report.outdir.REPORTS_DIR", reports)
    (reports / site).mkdir(parents=True)
    (reports / "README.md").write_text("x", encoding="utf-8")
    (reports / site / ".cachecost-build.json").write_text("{}", encoding="utf-8")
    assert check_site_dir(reports, None) == reports
    (reports / "mine").mkdir()
    (reports / "mine" / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CachecostError, match="'mine'"):
        check_site_dir(reports, None)
