"""The TypedDicts of cachecost.model.result_types say exactly what results.json holds."""

from __future__ import annotations

import json

import pytest

from cachecost.config import SCENARIOS_DIR
from cachecost.model import result_types as rt
from cachecost.model.results import run_model
from cachecost.model.scenario import load_scenario


@pytest.fixture(scope="module", params=sorted(SCENARIOS_DIR.glob("*.yaml")),
                ids=lambda p: p.stem)
def results(request, sample, sample_calibration):
    return json.loads(json.dumps(run_model(sample, load_scenario(request.param), samples=300,
                                           calibration=sample_calibration)))


def _keys(typed: type) -> set[str]:
    return set(typed.__annotations__)


def test_every_key_of_the_document_is_typed_and_none_is_missing(results):
    assert set(results) == rt.Results.__required_keys__     # the runner adds "backtest"
    assert _keys(rt.Results) == rt.Results.__required_keys__ | {"backtest"}
    for s in results["strategies"].values():
        assert rt.StrategyResult.__required_keys__ <= set(s) <= _keys(rt.StrategyResult)
        assert set(s["total_cost_usd_per_month"]) == _keys(rt.Quantiles)
        assert set(s["storage_risk"]) == _keys(rt.StorageRisk)
    assert set(results["recommendation"]) == _keys(rt.Recommendation)
    assert all(set(b) == _keys(rt.TornadoBar) for b in results["tornado"])
    assert all(set(b) == _keys(rt.BreakEven) for b in results["break_even"])
    assert all(set(i) == _keys(rt.InputRow) for i in results["inputs"])
    assert all(set(c) <= _keys(rt.Claim) for c in results["claims"])
    assert all(set(v) == _keys(rt.ValueOfInformation)
               for v in results["value_of_information"])
    assert set(results["calibration"]) == _keys(rt.CalibrationSummary)


def test_numbers_have_the_types_the_shapes_state(results):
    rec = results["recommendation"]
    assert isinstance(rec["winner"], str) and rec["winner"] in results["strategies"]
    assert isinstance(rec["saving_usd_per_month"], float)
    assert isinstance(rec["is_status_quo_kept"], bool)
    for b in results["break_even"]:
        assert b["value"] is None or isinstance(b["value"], float)
        assert isinstance(b["current"], float)
