"""A strategy named after a tool, worded by the project's builder (results["builder"]).

The group stand-in's buildah project is modelled as kaniko-cache-repo (buildah --layers
--cache-to/--cache-from: one cache image per step in a separate repository); its pages
said "kaniko was archived upstream" although it never runs kaniko.
"""

from __future__ import annotations

import pytest

from cachecost.model.strategies import STRATEGIES
from cachecost.report.lead import lead_source_ids, option_fact, registry_sentence
from cachecost.report.summary import format_summary_markdown, format_summary_text

ARCHIVED = "archived upstream on 2025-06-03"


def _bodies(results: dict, provenance: dict) -> list[str]:
    return [" ".join(body.split()) for body in (format_summary_text(results, provenance, None),
                                                format_summary_markdown(results, provenance,
                                                                        None))]


@pytest.mark.parametrize("builder", ["buildah", "dind", "ci-templates"])
def test_a_project_that_does_not_run_kaniko_is_not_told_kaniko_was_archived(
        results, provenance, builder):
    """Builder known and not kaniko, no thread: neither summary states kaniko's archival or
    cites it, and the registry sentence says what kaniko-cache-repo is (hand-made
    results: rebuild-on-change 40 GiB against kaniko-cache-repo's 120 GiB, 0.33×, no cleanup
    policy set)."""
    results.update(thread=None, builder=builder)
    for body in _bodies(results, provenance):
        assert ARCHIVED not in body and "GoogleContainerTools/kaniko, archived" not in body
    assert "kaniko-archived" not in lead_source_ids(results)
    assert option_fact(results, "kaniko-cache-repo") is None
    assert ("0.33× kaniko-cache-repo's 120.0 GiB (a separate cache repository, no cleanup)"
            in registry_sentence(results))


def test_a_kaniko_project_is_told(results, provenance):
    """Builder kaniko, no thread: the fact as it stands, with its source."""
    results.update(thread=None, builder="kaniko")
    for body in _bodies(results, provenance):
        assert f"kaniko was {ARCHIVED} and is no longer developed" in body
    assert "kaniko-archived" in lead_source_ids(results)
    assert "(a separate cache repository" not in registry_sentence(results)


def test_an_unknown_builder_hears_it_as_a_fact_about_the_tool(results, provenance):
    """Builder unknown, no thread: the fact is about kaniko, the tool the strategy is named
    after; with the thread (QEMU's, whose option is kaniko) it stays as the thread knows it."""
    results.update(thread=None, builder=None)
    for body in _bodies(results, provenance):
        assert f"kaniko, the builder kaniko-cache-repo is named after, was {ARCHIVED}" in body
    results.pop("thread")                 # results from before the key: the QEMU thread
    for body in _bodies(results, provenance):
        assert f"kaniko was {ARCHIVED} and is no longer developed" in body


def test_the_model_words_the_strategy_by_what_it_is_for_another_builder():
    """kaniko-cache-repo with buildah: titled and described as a separate cache repository,
    no kaniko flag, issue or archival in its words; with kaniko or unknown, kaniko's."""
    strategy = STRATEGIES["kaniko-cache-repo"]
    title, description, notes = strategy.words(False, "buildah")
    assert title == "separate cache repository"
    assert "--cache-repo" not in description and "kaniko#862" not in description
    assert not any("archived" in n or "kaniko#" in n for n in notes)
    for builder in ("kaniko", None):
        title, _, notes = strategy.words(False, builder)
        assert title.startswith("kaniko") and any("archived" in n for n in notes)
