"""A scenario's ``thread`` says whose claims it checks: the qemu-devel thread (the default,
so every QEMU scenario keeps its pages) or none (a group's projects), whose results carry
no claims and whose words name neither the thread nor QEMU."""

from __future__ import annotations

import re

import pytest
from model_test_helpers import write_scenario

from cachecost import cli
from cachecost.commands.model import format_text
from cachecost.config import SCENARIOS_DIR
from cachecost.errors import CachecostError
from cachecost.model.results import run_model
from cachecost.model.scenario import QEMU_THREAD, load_scenario
from cachecost.report import lead
from cachecost.report.answers import CLAIM_ORDER
from cachecost.report.export import NO_THREAD_MARK, select_thread_cells
from cachecost.report.summary import format_summary_markdown, format_summary_text

GROUP_SCENARIO = SCENARIOS_DIR / "group" / "gitlab-hosted-group.yaml"
#: What names the thread, QEMU or its people (the group pages' words must not).
THREAD_WORDS = re.compile(r"qemu|thread|berrang|conte\b|camilla|2024 patch|tests/docker|"
                          r"lcitool|emsdk|hexagon", re.IGNORECASE)
PROVENANCE = {"is_synthetic": True, "scenario": "s", "scenario_sha256": "0" * 64}


@pytest.fixture(scope="module")
def threadless(sample_unmeasured):
    """The group scenario on the sample without what a fetch measures: its data notes
    would quote the sample's own namespace (qemu-project), which is data, not wording."""
    return run_model(sample_unmeasured, load_scenario(GROUP_SCENARIO), samples=400)


def test_the_key_defaults_to_the_qemu_thread_and_none_turns_it_off():
    assert load_scenario(None).thread == QEMU_THREAD == "qemu-devel-2024-05"
    assert all(load_scenario(p).thread == QEMU_THREAD for p in SCENARIOS_DIR.glob("*.yaml"))
    assert load_scenario(GROUP_SCENARIO).thread is None


@pytest.mark.parametrize(("value", "shown"), [("qemu", "'qemu'"), ("", "None"),
                                              ("None", "'None'"), ("[none]", "['none']")])
def test_a_bad_thread_is_one_line_exit_2(tmp_path, capsys, value, shown):
    path = write_scenario(tmp_path, f"name: x\nbaseline: dind-inline-cache\nthread: {value}\n"
                                    "compute:\n  mode: gitlab-hosted\n", name="bad.yaml")
    with pytest.raises(CachecostError) as info:
        load_scenario(path)
    assert str(info.value) == (f"{path}: thread: expected one of qemu-devel-2024-05, none, "
                               f"got {shown}")
    assert cli.main(["model", "--scenario", str(path), "--samples", "10"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"cachecost: error: {info.value}\n"


def test_a_threadless_run_has_no_claims_and_its_words_name_no_qemu(threadless):
    assert threadless["thread"] is None and threadless["claims"] == []
    assert threadless["value_of_information"]                 # measured all the same
    kaniko = threadless["strategies"]["kaniko-cache-repo"]
    assert kaniko["title"] == "kaniko, separate cache repository"
    assert "$CI_REGISTRY_IMAGE/$NAME-cache" in kaniko["description"]
    for name, text in (("summary.txt", format_summary_text(threadless, PROVENANCE, None)),
                       ("summary.md", format_summary_markdown(threadless, PROVENANCE, None)),
                       ("model --format text", format_text(threadless)),
                       ("strategies", repr(threadless["strategies"])),
                       ("measure next", repr(threadless["value_of_information"]))):
        assert not THREAD_WORDS.search(text), (name, THREAD_WORDS.findall(text))
    assert "claims" not in format_summary_text(threadless, PROVENANCE, None).lower()


def test_the_registry_sentence_states_the_same_numbers_in_registry_terms(threadless):
    """The lead's second paragraph without a thread is the thread's sentence with its
    opening changed and, the builder unknown, kaniko's archival said of the tool the
    option is named after (the thread's option is kaniko itself), and nothing else: the
    same medians and ratios, one computation."""
    neutral = lead.registry_sentence(threadless)
    assert neutral.startswith("In registry terms: with ")
    as_thread = lead.registry_sentence({**threadless, "thread": QEMU_THREAD})
    assert as_thread == neutral.replace("In registry terms:", "In the thread's terms:", 1
                                        ).replace("kaniko, the builder kaniko-cache-repo is "
                                                  "named after, was", "kaniko was", 1)
    # results written before the key are the thread's (every scenario had it)
    old = {k: v for k, v in threadless.items() if k != "thread"}
    assert lead.registry_sentence(old) == as_thread


def test_a_qemu_scenario_still_checks_its_six_claims(sample):
    res = run_model(sample, load_scenario(None), samples=300)
    assert res["thread"] == QEMU_THREAD
    assert sorted(c["id"] for c in res["claims"]) == sorted(CLAIM_ORDER)
    assert len(res["claims"]) == 6
    text = format_summary_text(res, PROVENANCE, None)
    assert "The thread's claims, checked" in text and "In the thread's terms:" in text
    assert "(the 2024 patch)" in res["strategies"]["kaniko-cache-repo"]["title"]


def _cell(kind: str, tag: str | None = None, outputs: list | None = None) -> dict:
    cell = {"cell_type": kind, "metadata": {"tags": [tag]} if tag else {}, "source": tag or ""}
    if kind == "code":
        cell["outputs"] = outputs or []
    return cell


def test_the_page_keeps_the_cells_of_its_thread_choice():
    """Cells tagged "thread" show with a thread, "no-thread" ones without; the mark a
    thread-less claims cell prints is not shown; the notebook passed in is kept."""
    mark = {"output_type": "execute_result", "data": {"text/plain": ""},
            "metadata": {NO_THREAD_MARK: True}}
    plain = _cell("markdown")
    with_thread = {"cells": [plain, _cell("markdown", "thread"), _cell("markdown", "no-thread"),
                             _cell("code", "thread", [])]}
    kept = select_thread_cells(with_thread)["cells"]
    assert [c["metadata"].get("tags") for c in kept] == [None, ["thread"], ["thread"]]
    without = {"cells": [plain, _cell("markdown", "thread"), _cell("markdown", "no-thread"),
                         _cell("code", None, [mark])]}
    kept = select_thread_cells(without)["cells"]
    assert [c["metadata"].get("tags") for c in kept] == [None, ["no-thread"], None]
    assert kept[-1]["outputs"] == [] and without["cells"][-1]["outputs"] == [mark]


def test_every_how_to_measure_has_words_for_any_project():
    """What to measure next on a thread-less page: no key's how-to-measure names QEMU's
    project, paths or images (the thread's pages keep theirs)."""
    from cachecost.model.keys import KEYS
    from cachecost.model.voi import how_to_measure

    said = {f"{section}.{key}": how_to_measure(f"{section}.{key}", has_thread=False)
            for section, keys in KEYS.items() for key in keys}
    assert {k: v for k, v in said.items() if THREAD_WORDS.search(v)} == {}
    refresh = "workload.scheduled_refresh_per_month"
    assert how_to_measure(refresh) == KEYS["workload"]["scheduled_refresh_per_month"].measure
    assert "qemu-project/qemu" in how_to_measure(refresh)
    assert how_to_measure(refresh, has_thread=False).startswith("read the project's pipeline")
