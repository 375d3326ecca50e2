"""Property tests (hypothesis) of the model's formulas on random hand-made calibrations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_test_helpers import evaluate, make_calibration

from cachecost.model.strategies import STRATEGY_NAMES

positive = st.floats(min_value=0.01, max_value=1000, allow_nan=False)
share = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def images(draw, n_max=4):
    """1..n_max images with consistent minutes (hit <= change <= miss) and sizes."""
    rows = {}
    for i in range(draw(st.integers(1, n_max))):
        hit = draw(st.floats(0.1, 30))
        miss = hit + draw(st.floats(0.0, 60))
        change = hit + draw(share) * (miss - hit)
        size = draw(st.floats(0.01, 5))
        tags = float(draw(st.integers(1, 5)))
        rows[f"img{i}"] = {
            "builds_per_month": draw(st.floats(0.0, 2000)),
            "changes_per_month": draw(st.floats(0.0, 20)),
            "cached_build_min": hit, "change_build_min": change, "uncached_build_min": miss,
            "compressed_size_gib": size, "per_tag_gib": size * tags,
            "dedup_gib": size * (1 + 0.25 * (tags - 1)), "tags_kept": tags,
            "run_steps": float(draw(st.integers(1, 10))),
        }
    return make_calibration(rows, other_minutes=draw(st.floats(0, 1e5)))


COMMON = settings(max_examples=40, deadline=None)


@COMMON
@given(cal=images(), low=st.floats(0.0, 3.0), extra=st.floats(0.0, 3.0),
       changes=st.floats(0.0, 3.0))
def test_more_pipelines_never_lower_compute(fixed_scenario_session, cal, low, extra, changes):
    a = evaluate(cal, fixed_scenario_session, workload__upstream_pipelines_factor=low,
                 workload__image_changes_factor=changes)
    b = evaluate(cal, fixed_scenario_session, workload__upstream_pipelines_factor=low + extra,
                 workload__image_changes_factor=changes)
    for name in STRATEGY_NAMES:
        assert b[name]["compute_minutes_per_month"] >= \
            a[name]["compute_minutes_per_month"] - 1e-9 * (1 + a[name]["compute_minutes_per_month"])
        assert b[name]["compute_cost_usd_per_month"] >= \
            a[name]["compute_cost_usd_per_month"] - 1e-9 * (1 + a[name]["compute_cost_usd_per_month"])


@COMMON
@given(cal=images(), price=st.floats(0.0, 500), extra=st.floats(0.0, 500),
       changes=st.floats(0.0, 3.0))
def test_higher_storage_price_never_lowers_storage_cost(fixed_scenario_session, cal, price, extra,
                                                        changes):
    a = evaluate(cal, fixed_scenario_session, storage__usd_per_10gib_year=price,
                 workload__image_changes_factor=changes)
    b = evaluate(cal, fixed_scenario_session, storage__usd_per_10gib_year=price + extra,
                 workload__image_changes_factor=changes)
    for name in STRATEGY_NAMES:
        assert b[name]["storage_cost_usd_per_month"] >= a[name]["storage_cost_usd_per_month"]


@COMMON
@given(cal=images(), changes=st.floats(0.0, 5.0), check=st.floats(0.0, 5.0),
       refresh=st.floats(0.0, 30.0), reads=st.sampled_from([0.0, 1.0]),
       carried=st.floats(1.0, 20.0))
def test_no_cache_compute_is_never_below_a_cached_strategy(fixed_scenario_session, cal, changes,
                                                           check, refresh, reads, carried):
    r = evaluate(cal, fixed_scenario_session, workload__image_changes_factor=changes,
                 assumptions__rebuild_check_minutes=check,
                 workload__scheduled_refresh_per_month=refresh,
                 forks__reads_upstream_registry_probability=reads,
                 forks__pipelines_per_image_change=carried)
    worst = r["no-cache"]
    for name in STRATEGY_NAMES:
        for metric in ("compute_minutes_per_month", "fork_compute_minutes_per_month"):
            assert worst[metric] >= r[name][metric] - 1e-9 * (1 + worst[metric])


@COMMON
@given(cal=images())
def test_cached_strategies_converge_to_no_cache_when_every_pipeline_changes_every_image(
        fixed_scenario_session, cal):
    # every build follows a change that rewrites the image from its base: changes = builds
    # and a change rebuild costs a full build (nothing to reuse, no intermediate stage saved)
    cal.images["changes_per_month"] = cal.images["builds_per_month"]
    cal.images["change_build_min"] = cal.images["uncached_build_min"]
    r = evaluate(cal, fixed_scenario_session, assumptions__buildkit_max_change_saving_share=0.0)
    target = r["no-cache"]["compute_minutes_per_month"]
    for name in STRATEGY_NAMES:
        assert r[name]["compute_minutes_per_month"] == pytest.approx(target, rel=1e-9,
                                                                     abs=1e-9)


@COMMON
@given(cal=images(), changes=st.floats(0.0, 3.0), u=share, r=share)
def test_dedup_kaniko_extra_storage_is_stale_cache_tags_only(fixed_scenario_session, cal, changes,
                                                             u, r):
    res = evaluate(cal, fixed_scenario_session, workload__image_changes_factor=changes,
                   assumptions__changed_bytes_share=u, assumptions__kaniko_cache_bytes_share=r)
    extra = (res["kaniko-cache-repo"]["registry_gib:root-namespace-dedup"]
             - res["dind-inline-cache"]["registry_gib:root-namespace-dedup"])
    img = cal.images
    c = np.minimum(img["changes_per_month"] * changes, img["builds_per_month"])
    # kaniko's own cleanup (keep 1, older than 14 days) keeps the sets of the last 14 days
    stale_tags_gib = float(np.sum(min(u, r) * img["compressed_size_gib"] * c * 14 / 30.4375))
    assert extra == pytest.approx(stale_tags_gib, rel=1e-9, abs=1e-9)
    # ... and with no change at all, nothing extra
    res0 = evaluate(cal, fixed_scenario_session, workload__image_changes_factor=0.0)
    assert res0["kaniko-cache-repo"]["registry_gib:root-namespace-dedup"] == pytest.approx(
        res0["dind-inline-cache"]["registry_gib:root-namespace-dedup"])
