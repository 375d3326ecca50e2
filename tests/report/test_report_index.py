"""The index page: the scenarios side by side, strategies ordered by cost."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

from cachecost.report.site import render_index
from tests.content.handmade import make_provenance, make_results


def test_index_rows_are_ordered_by_cost_cheapest_first(tmp_path: Path) -> None:
    results = make_results()   # medians: rebuild 300, bk-min 320, bk-max 330, kaniko 350,
    second = make_results()    # dind 400, no-cache 1000 ($/month)
    second["strategies"]["no-cache"]["total_cost_usd_per_month"]["p50"] = 100.0
    scenarios = []
    for name, data in (("a", results), ("b", second)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(data), encoding="utf-8")
        scenarios.append(SimpleNamespace(name=name, title=f"Scenario {name}",
                                         description="d", sha256="0" * 64))
    state = {"scenarios": {s.name: {"built_at": "t"} for s in scenarios}}
    pages = [{"stem": "02-caching-decision", "title": "Decision"}]
    prov = {**make_provenance(), "scenario": None, "git_is_dirty": False}
    page = render_index(tmp_path, scenarios, pages, state, prov)
    rows = re.findall(r'<tr><th scope="row">.*?<code>([\w-]+)</code></th>', page)
    # mean of the two scenarios' medians: no-cache (1000 + 100) / 2 = 550 sits after kaniko
    assert rows == ["rebuild-on-change", "buildkit-registry-cache-min",
                    "buildkit-registry-cache-max", "kaniko-cache-repo", "dind-inline-cache",
                    "no-cache"]
    assert "null" not in page
