"""Scenario loading and validation: every bad input is one line, exit 2, through the CLI."""

from __future__ import annotations

import pytest
from model_test_helpers import write_scenario

from cachecost import cli
from cachecost.config import SCENARIOS_DIR
from cachecost.errors import CachecostError
from cachecost.model.distributions import Distribution
from cachecost.model.scenario import DEFAULT_SCENARIO_PATH, KEYS, load_scenario

DEFAULT_SCENARIOS = sorted(SCENARIOS_DIR.glob("*.yaml"))


def test_default_scenario_loads_with_contract_fields():
    sc = load_scenario(None)
    assert sc.path == DEFAULT_SCENARIO_PATH.resolve()
    assert sc.name == "qemu-private-runners"
    assert sc.title and len(sc.description) > 100
    assert len(sc.sha256) == 64
    assert sc.baseline == "dind-inline-cache"


@pytest.mark.parametrize("path", [*DEFAULT_SCENARIOS,
                                  *sorted((SCENARIOS_DIR / "group").glob("*.yaml"))],
                         ids=lambda p: p.stem)
def test_shipped_scenarios_load_and_explain_themselves(path):
    sc = load_scenario(path)
    assert sc.name == path.stem
    assert path.read_text().startswith("#"), "each scenario opens with its comment block"
    assert sc.description.split()[0] in path.read_text().splitlines()[0]


@pytest.mark.parametrize("path", DEFAULT_SCENARIOS, ids=lambda p: p.stem)
def test_scenario_texts_price_the_registry_as_the_model_does(path):
    """Since issue 21 the registry is priced along the cleanup's path over the pack year
    (``registry.priced_path``: G(12)), the steady state reported beside it; a scenario
    (its comment block is its ``description``) that says a strategy "is priced at its
    steady state" describes the retired rule."""
    text = " ".join(load_scenario(path).description.split()).lower()
    assert "priced at its steady state" not in text
    assert "steady state" not in text or "priced along" in text


def test_at_least_three_default_scenarios():
    assert {"qemu-private-runners", "gitlab-hosted-oss", "registry-quota-enforced"} <= {
        p.stem for p in DEFAULT_SCENARIOS}


def test_missing_keys_take_defaults_with_citations(tmp_path):
    sc = load_scenario(write_scenario(
        tmp_path, "# minimal\nname: x\nbaseline: no-cache\ncompute: {mode: private-runners}\n"))
    for section, keys in KEYS.items():
        for key, spec in keys.items():
            given = f"{section}.{key}" == "compute.mode"
            assert sc.source(f"{section}.{key}") == ("scenario" if given else "default")
            assert spec.unit is not None
    price = sc.value("storage.usd_per_10gib_year")
    assert isinstance(price, Distribution) and price.median == 60.0
    assert "980d1376" in KEYS["storage"]["usd_per_10gib_year"].citation


BAD = [
    ("unknown key", "storage:\n  usd_per_gib: 3\n", "storage.usd_per_gib", "unknown key"),
    ("unknown top key", "colour: red\n", "colour", "unknown key"),
    ("wrong type", "storage:\n  quota_gib: lots\n", "storage.quota_gib", "expected a number"),
    ("wrong type dist", "forks:\n  owners: many\n", "forks.owners", "expected a number"),
    ("negative price", "storage:\n  usd_per_10gib_year: -60\n", "storage.usd_per_10gib_year",
     ">= 0"),
    ("p10 > p90", "forks:\n  pipelines_per_month: {lognormal: {p10: 90, p90: 10}}\n",
     "forks.pipelines_per_month", "p10 (90) > p90 (10)"),
    ("low > high", "forks:\n  image_change_share: {uniform: {low: 0.5, high: 0.1}}\n",
     "forks.image_change_share", "low (0.5) > high (0.1)"),
    ("share above 1", "assumptions:\n  changed_bytes_share: 1.5\n",
     "assumptions.changed_bytes_share", "<= 1"),
    ("bad enum", "storage:\n  accounting: by-size\n", "storage.accounting", "expected one of"),
    ("bad baseline", "baseline: buildah\n", "baseline", "expected one of"),
    ("bad horizon", "horizon_months: 0\n", "horizon_months", "expected an integer"),
    ("bad cleanup", "storage:\n  cleanup_policy: {keep_n: 2.5}\n",
     "storage.cleanup_policy.keep_n", "expected null or"),
    ("bad override", "overrides:\n  alpine: {cached_build_min: -1}\n",
     "overrides.alpine.cached_build_min", "expected a number >= 0"),
    ("price 1e308", "compute:\n  mode: private-runners\n  node_cost_usd_per_year: 1.0e+308\n",
     "compute.node_cost_usd_per_year", "1e+308 USD/year is outside the plausible range 0 to"),
    ("factor 1e12", "workload:\n  upstream_pipelines_factor: 1.0e+12\n",
     "workload.upstream_pipelines_factor", "outside the plausible range 0 to 100 x ("),
    ("lognormal p90 too far", "workload:\n  image_changes_factor: {lognormal: {p10: 1, "
     "p90: 1000}}\n", "workload.image_changes_factor", "1000 x is outside the plausible"),
    ("namespace minutes 2e9", "compute:\n  other_usage_minutes_per_month: 2.0e+9\n",
     "compute.other_usage_minutes_per_month", "outside the plausible range 0 to 1e+09"),
    ("quota 1e300", "storage:\n  quota_gib: 1.0e+300\n", "storage.quota_gib",
     "outside the plausible range 0 to 1.04858e+06 GiB (a pebibyte"),
    ("override too large", "overrides:\n  alpine: {compressed_size_gib: 1.0e+9}\n",
     "overrides.alpine.compressed_size_gib", "outside the plausible range 0 to 1024"),
    ("yaml syntax", "storage: {usd_per_10gib_year: [1, 2\n", "line ", "YAML syntax error"),
    ("not a mapping", "- a\n- b\n", "top level", "expected a mapping"),
]


@pytest.mark.parametrize(("case", "body", "key", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_scenario_is_one_line_exit_2(tmp_path, capsys, case, body, key, expected):
    path = write_scenario(tmp_path, body, name="bad.yaml")
    with pytest.raises(CachecostError):
        load_scenario(path)
    code = cli.main(["model", "--scenario", str(path), "--samples", "10"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("cachecost: error: ")
    assert str(path) in err and key in err and expected in err


def test_an_uncertain_month_spread_may_be_a_lognormal(tmp_path):
    """A coefficient of variation is no share of anything: its plausible maximum (10) is
    not 1 by definition, so a lognormal (p10 0.03, p90 0.25, both inside 0-10) loads, as a
    lognormal factor does (before: "values must be <= 3, got lognormal(p10=0.03,
    p90=0.25)"); its stated p90 past 10 is still refused, and a share (at most 1 by
    definition) still refuses a lognormal. A stated 3.46, what 12 months with all the CI
    in one measure (sqrt(12)), loads: the data can measure it, so a scenario may state
    it (before, the range ended at 3)."""
    head = "name: t\nbaseline: dind-inline-cache\ncompute: {mode: gitlab-hosted}\n"
    ok = write_scenario(tmp_path, head + "workload:\n  monthly_minutes_cv: {lognormal: {p10: 0.03, "
                        "p90: 0.25}}\n", name="ok.yaml")
    cv = load_scenario(ok).value("workload.monthly_minutes_cv")
    assert cv.kind == "lognormal" and cv.params == (0.03, 0.25)
    far = write_scenario(tmp_path, head + "workload:\n  monthly_minutes_cv: {lognormal: {p10: 0.1, "
                         "p90: 15}}\n", name="far.yaml")
    with pytest.raises(CachecostError, match="15 share is outside the plausible range 0 to 10"):
        load_scenario(far)
    burst = write_scenario(tmp_path, head + "workload:\n  monthly_minutes_cv: 3.46\n",
                           name="burst.yaml")
    assert load_scenario(burst).value("workload.monthly_minutes_cv").mean == 3.46
    share = write_scenario(tmp_path, head + "assumptions:\n  changed_bytes_share: {lognormal: "
                           "{p10: 0.5, p90: 0.9}}\n", name="share.yaml")
    with pytest.raises(CachecostError, match="values must be <= 1"):
        load_scenario(share)


@pytest.mark.parametrize("body", [
    "forks:\n  owners: many\n",                                  # not a number
    "forks:\n  owners: {gamma: {k: 1}}\n",                        # unknown kind
    "forks:\n  owners: [1, 2]\n",                                 # a list
])
def test_bad_distribution_states_the_expected_form_once(tmp_path, body):
    """The distribution parser's own "expected <forms>" is not repeated by the scenario's
    "expected <forms>, with values >= 0": one line, each part once, and it still names
    the bounds."""
    from cachecost.model.distributions import EXPECTED_FORM

    path = write_scenario(tmp_path, body, name="bad.yaml")
    with pytest.raises(CachecostError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert msg.count(EXPECTED_FORM) == 1, msg
    assert "forks.owners" in msg and ">= 0" in msg


def test_missing_scenario_file(tmp_path, capsys):
    path = tmp_path / "nope.yaml"
    assert cli.main(["model", "--scenario", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"cachecost: error: {path}: no such scenario file"


def test_unknown_override_image_is_reported(tmp_path, capsys):
    path = write_scenario(tmp_path, "name: o\nbaseline: no-cache\ncompute: {mode: private-runners}\n"
                                    "overrides:\n  no-such-image: {cached_build_min: 1}\n")
    assert cli.main(["model", "--scenario", str(path), "--samples", "10"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "overrides.no-such-image" in err and str(path) in err


def test_docs_reference_every_scenario_key():
    from cachecost.config import PROJ_ROOT

    doc = (PROJ_ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    for section, keys in KEYS.items():
        assert f"### `{section}`" in doc
        for key in keys:
            assert f"| `{key}` |" in doc, f"docs/model.md lacks {section}.{key}"


def test_every_key_is_complete():
    """One table per scenario key: each names itself for readers, says how to measure it
    (or that it is a choice), cites a public source unless the default is cachecost's own
    assumption, and each number has a plausible range with its reason, which its default
    lies within."""
    from cachecost.model.distributions import parse_distribution
    from cachecost.report.sources import resolve_citation

    names = {}
    for section, keys in KEYS.items():
        for key, spec in keys.items():
            dotted = f"{section}.{key}"
            assert spec.name and spec.name == spec.name.strip(" ."), dotted
            assert spec.measure, dotted
            assert names.setdefault(spec.name, dotted) == dotted, f"{dotted}: name reused"
            if spec.citation and not spec.citation.startswith("cachecost assumption"):
                # a cited default names a public source a reader can open
                assert resolve_citation(spec.citation)[1], f"{dotted}: {spec.citation}"
            if not spec.is_number:
                continue
            assert spec.minimum is not None and spec.maximum is not None, dotted
            assert spec.minimum < spec.maximum and spec.range_reason, dotted
            if spec.default is not None:
                stated = parse_distribution(spec.default, minimum=None).params
                assert all(spec.minimum <= v <= spec.maximum for v in stated), dotted


def test_reader_names_and_how_to_measure_come_from_the_key_table():
    from cachecost.model.voi import how_to_measure
    from cachecost.report.names import reader_name

    spec = KEYS["compute"]["node_cost_usd_per_year"]
    assert reader_name("compute.node_cost_usd_per_year") == spec.name == \
        "the runner nodes' yearly cost"
    assert how_to_measure("compute.node_cost_usd_per_year") == spec.measure
    assert how_to_measure("data.x") == "measure data.x directly"


def test_the_largest_plausible_values_give_finite_results(tmp_path, sample, sample_calibration):
    """Every price and factor at the top of its plausible range: the model's numbers stay
    finite (no overflow reaches the output)."""
    import json
    import math

    from cachecost.model.results import run_model

    body = ("name: big\nbaseline: dind-inline-cache\n"
            "compute:\n  mode: private-runners\n  node_cost_usd_per_year: 1.0e+7\n"
            "workload:\n  upstream_pipelines_factor: 100\n  build_minutes_factor: 100\n"
            "  image_changes_factor: 100\n"
            "storage:\n  usd_per_10gib_year: 6000\n  shadow_usd_per_10gib_year: 6000\n"
            "forks:\n  pipelines_per_month: 1000000\n  usd_per_1000_minutes: 1000\n")
    results = run_model(sample, load_scenario(write_scenario(tmp_path, body)), samples=200,
                        calibration=sample_calibration)
    text = json.dumps(results, allow_nan=False)
    total = results["strategies"]["no-cache"]["total_cost_usd_per_month"]["p50"]
    assert math.isfinite(total) and total > 1e6 and "Infinity" not in text


@pytest.mark.parametrize(("raw", "builder"), [("buildah", "buildah"), ("kaniko", "kaniko"),
                                              ("unknown", None)])
def test_the_builder_key_names_a_known_builder_or_unknown(tmp_path, raw, builder):
    """``builder:`` one of the builders cachecost detects, or ``unknown`` (None, as when
    the key is absent); anything else is one line naming the file, the key and the
    choices."""
    base = (SCENARIOS_DIR / "group" / "gitlab-hosted-group.yaml").read_text()
    path = tmp_path / "s.yaml"
    path.write_text(f"{base}\nbuilder: {raw}\n", encoding="utf-8")
    assert load_scenario(path).builder == builder
    path.write_text(f"{base}\nbuilder: podman\n", encoding="utf-8")
    with pytest.raises(CachecostError, match=r"s\.yaml: builder: expected one of dind, "
                                             r"docker, buildkit, kaniko, buildah, "
                                             r"ci-templates, unknown, got 'podman'"):
        load_scenario(path)
