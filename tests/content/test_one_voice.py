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
from cachecost.report.page_tables import format_headline_frame
from cachecost.report.provenance import collect_provenance
from cachecost.report.site import summarize_scenario_for_index
from cachecost.report.summary import format_summary_text
from cachecost.textfmt import format_signed_usd, format_usd

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


@pytest.mark.parametrize("name", [p.stem for p in sorted(SCENARIOS_DIR.glob("*.yaml"))])
def test_one_saving_figure_for_one_comparison(both, name):
    """Issue 23: the answer said "saves $3.42 a month on average" while summary.txt's table
    and the decision page's table said "-$3.35" (the median difference). Now the answer's
    saving, summary.txt's "vs baseline" cell, the page table's Δ cell and the index's cell
    are one figure: the expected (mean) difference ``delta_vs_baseline_usd_per_month.mean``
    of the strategy the answer compares with today's (the winner after a switch, the
    runner-up when today's strategy is kept)."""
    _, summary, results = both[name]
    rec, base = results["recommendation"], results["baseline"]
    is_kept = rec["winner"] == base
    other = rec["runner_up"] if is_kept else rec["winner"]
    if other is None:
        pytest.skip("today's strategy is the only one")
    mean = results["strategies"][other]["delta_vs_baseline_usd_per_month"]["mean"]
    flat = " ".join(summary.split())
    # the answer
    if is_kept:
        said = re.search(rf"The runner-up, {re.escape(other)}, would cost an expected \(mean\) "
                         r"(\$[\d,.]+) a month more", flat)
        if said is None:        # a tie within the margin states no figure
            assert f"The runner-up, {other}, costs the same to within" in flat
        else:
            assert said.group(1) == format_usd(mean)
    else:
        said = re.search(rf"Switch from {re.escape(base)} to {re.escape(other)}: it saves "
                         r"(\$[\d,.]+) a month on average", flat)
        assert said is not None and said.group(1) == format_usd(-mean)
    # summary.txt's table: the row of `other` with its "vs baseline" cell
    rows = [line for line in summary.splitlines()
            if line.split()[:1] == [other] and "%)" in line]
    assert len(rows) == 1, rows
    assert rows[0].split()[-2] == format_signed_usd(mean)
    # the decision page's table and the index
    frame = format_headline_frame(results).set_index("strategy")
    assert frame.loc[other, "Δ vs baseline USD / month"].split()[0] == format_signed_usd(mean)
    index = summarize_scenario_for_index(results)["cells"][other]
    assert index["delta"] == f"{format_signed_usd(mean)} vs baseline"
