"""One voice: ``cachecost model --format text`` and ``summary.txt`` state the decision in the
same words (:mod:`cachecost.report.lead`, :mod:`cachecost.report.answers`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cachecost import cli
from cachecost.config import SCENARIOS_DIR
from cachecost.dataset.io import load_dataset
from cachecost.model.results import run_model
from cachecost.model.scenario import load_scenario
from cachecost.report import answers
from cachecost.report.provenance import collect_provenance
from cachecost.report.summary import format_summary_text

SAMPLES = 2000
#: The first screen of the reply: a mail client shows about this many lines.
FIRST_SCREEN_LINES = 25


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each with its whitespace collapsed."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _flip_paragraph(text: str) -> str:
    found = [p for p in _paragraphs(text)
             if p.startswith(("What would flip it:", "Nothing within the ranges"))]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def both() -> dict[str, tuple[Path, str, dict]]:
    """Per default scenario: (scenario path, summary.txt, results), the seed the CLI uses."""
    out = {}
    ds = load_dataset(None)
    for path in sorted(SCENARIOS_DIR.glob("*.yaml")):
        scenario = load_scenario(path)
        results = run_model(ds, scenario, samples=SAMPLES)
        summary = format_summary_text(results, collect_provenance(ds, scenario), None)
        out[path.stem] = (path, summary, results)
    return out


@pytest.mark.parametrize("name", [p.stem for p in sorted(SCENARIOS_DIR.glob("*.yaml"))])
def test_cli_and_summary_state_the_same_flips_and_verdicts(capsys, both, name):
    """The CLI once listed the model's five raw flip strings (one a $0.22 swing, below the
    $1 tie rule) where summary.txt quoted three: now both print one paragraph, equal word
    for word, and each claim's verdict sentence in the thread's order."""
    path, summary, results = both[name]
    assert cli.main(["model", "--scenario", str(path), "--samples", str(SAMPLES),
                     "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert _flip_paragraph(text) == _flip_paragraph(summary)
    assert "workload." not in _flip_paragraph(text)          # reader names, not keys
    flat_cli, flat_summary = " ".join(text.split()), " ".join(summary.split())
    rows = answers.claim_rows(results)
    assert len(rows) == 6
    at_cli = [flat_cli.index(" ".join(answers.verdict_sentence(r).split())) for r in rows]
    at_summary = [flat_summary.index(" ".join(answers.verdict_sentence(r).split()))
                  for r in rows]
    assert at_cli == sorted(at_cli) and at_summary == sorted(at_summary)
    # the recommendation's opening, word for word
    opening = _paragraphs(summary)[3]
    assert opening.startswith(("Switch from", "Keep ")) and opening in _paragraphs(text)


def test_default_reply_leads_with_the_answer(both):
    """The first 25 lines of the default summary.txt hold the recommendation, its saving
    with the interval, the registry against dind's and kaniko's, and what would flip it."""
    _, summary, results = both["qemu-private-runners"]
    rec = results["recommendation"]
    head = " ".join("\n".join(summary.splitlines()[:FIRST_SCREEN_LINES]).split())
    if rec["winner"] != results["baseline"]:
        assert f"Switch from {results['baseline']} to {rec['winner']}: it saves $" \
            in head
        assert "in 80% of the simulations" in head
    else:
        assert f"Keep {rec['winner']}" in head
    gib = {n: s["registry_gib"][results["accounting"]]["p50"]
           for n, s in results["strategies"].items()}
    ratio = gib[rec["winner"]] / gib["dind-inline-cache"]
    assert f"{ratio:.1f}× dind-inline-cache's {gib['dind-inline-cache']:.1f} GiB" in head
    assert "kaniko-cache-repo's" in head and "archived upstream on 2025-06-03" in head
    flips = "What would flip it:" if "What would flip it:" in summary else "Nothing within"
    assert flips in head
    assert summary.index(flips) < summary.index("The thread's claims, checked")
