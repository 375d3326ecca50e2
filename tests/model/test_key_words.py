"""The scenario keys' words for any project: only a default's citation names QEMU.

A scenario with ``thread: none`` (any project, the group's) reads each key's range reason
(in the one-line error for a value out of range) and how to measure it (the value of
information); before, three range reasons named QEMU ("100 times QEMU's measured load",
"QEMU's runner nodes cost about $2,625 a year", "beyond any QEMU image").
"""

from __future__ import annotations

import re

import pytest
import yaml

from cachecost.commands.model import format_explain
from cachecost.errors import CachecostError
from cachecost.group.report import GROUP_SCENARIO_PATH
from cachecost.model.keys import KEYS
from cachecost.model.scenario import load_scenario
from cachecost.model.voi import how_to_measure

#: QEMU, its people, paths and images (what a key's words must not name for any project).
QEMU = re.compile(r"qemu|bonzini|berrang|hexagon|lcitool|tests/docker|emsdk|microsoft",
                  re.IGNORECASE)


@pytest.mark.parametrize("dotted", [f"{s}.{k}" for s, keys in KEYS.items() for k in keys])
def test_every_key_is_worded_for_any_project(dotted):
    section, key = dotted.split(".")
    spec = KEYS[section][key]
    for field in ("doc", "name", "range_reason"):
        assert not QEMU.search(getattr(spec, field)), (field, getattr(spec, field))
    assert not QEMU.search(how_to_measure(dotted, has_thread=False))


@pytest.mark.parametrize(("section", "key", "value"), [
    ("workload", "upstream_pipelines_factor", 1000),       # _FACTOR
    ("compute", "node_cost_usd_per_year", 1e9),            # _MONEY_YEAR
    ("assumptions", "uncached_to_cached_ratio", 1000),
])
def test_an_out_of_range_value_is_refused_without_naming_qemu(tmp_path, section, key, value):
    """A value past the plausible range in a thread-none scenario: one line naming the file,
    the key and the range's reason, which names no QEMU figure."""
    doc = yaml.safe_load(GROUP_SCENARIO_PATH.read_text(encoding="utf-8"))
    doc.setdefault(section, {})[key] = value
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(CachecostError) as err:
        load_scenario(path)
    message = str(err.value)
    assert f"{section}.{key}" in message and "plausible range" in message
    assert not QEMU.search(message), message


def test_explain_for_a_group_scenario_names_qemu_only_in_cited_sources():
    """``cachecost model --explain`` with the group's scenario (thread: none): taking out
    each default's citation (the dated source of its figure), no line names QEMU."""
    scenario = load_scenario(GROUP_SCENARIO_PATH)
    text = format_explain(scenario)
    for keys in KEYS.values():
        for spec in keys.values():
            if spec.citation:
                text = text.replace(spec.citation, "")
    assert not QEMU.search(text), QEMU.findall(text)


def test_explain_says_which_defaults_the_data_replaces():
    """``--explain`` reads no data, so it prints ``workload.monthly_minutes_cv = 0.0``, the
    default with no data; with the bundled sample the model runs on the measured 0.066
    (12 full months). The line says so, as do the fork and other-registry lines; a default
    the data never replaces (``assumptions.changed_bytes_share``) says nothing of it."""
    text = format_explain(load_scenario(GROUP_SCENARIO_PATH))
    line = {ln.split(" = ")[0].strip(): ln for ln in text.splitlines() if " = " in ln}
    assert "replaced by the data's month-to-month spread when it has 3 or more full " \
           "calendar months" in line["workload.monthly_minutes_cv"]
    for dotted in ("forks.pipelines_per_month", "forks.owners", "forks.image_change_share",
                   "storage.other_usage_gib"):
        assert "replaced by" in line[dotted], line[dotted]
    assert "replaced by" not in line["assumptions.changed_bytes_share"]
