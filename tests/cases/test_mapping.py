"""Kind 4 of issue 11: a job in the containers stage that builds no image.

Case 05 (tests/cases/05-*/qemu_jobs.json): QEMU's 24 image jobs and
``weekly-container-builds`` (stage containers, runs ``make docker-verify`` only).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cachecost.collect.derive import apply_mapping
from cachecost.collect.mapping import ImageMapper, load_mapping, shows_no_build
from cachecost.dataset.sample import SampleSettings, generate_sample
from cachecost.model.calibrate import DAYS_PER_MONTH, calibrate

CASE = json.loads((Path(__file__).parent / "05-containers-stage-job-that-builds-nothing"
                   / "qemu_jobs.json").read_text(encoding="utf-8"))


def _trace(image: str | None) -> str:
    if image is None:
        return CASE["trace_weekly_container_builds"]
    return CASE["trace_builds_image"].replace("{name}", image)


def test_case_05_qemu_container_jobs() -> None:
    """24 jobs map to their images; weekly-container-builds is not a container build."""
    m = ImageMapper()
    for j in CASE["jobs"]:
        m.learn_from_log(j["job"], _trace(j["image"]))
    got = {j["job"]: (m.is_container_build(j["job"], j["stage"]), m.image_for(j["job"]))
           for j in CASE["jobs"]}
    want = {j["job"]: (j["image"] is not None, j["image"]) for j in CASE["jobs"]}
    assert got == want
    assert sum(cb for cb, _ in got.values()) == 24
    assert m.learned_not_builds == {"weekly-container-builds"}


@pytest.mark.parametrize("text, no_build", [
    ("$ skopeo inspect docker://$TAG\n$ make docker-verify\nJob succeeded\n", True),
    ("", False),                                           # never ran / expired: unknown
    ("$ docker build -t $TAG .\nERROR: Cannot connect to the Docker daemon\n", False),
    ("$ /kaniko/executor --context . --destination $TAG\nerror checking push\n", False),
    ("$ buildah bud -t $TAG .\nError: no such file\n", False),
    ("#3 [ 2/12] RUN make\n#3 CACHED\n", False),           # builder markers
    ("The push refers to repository [reg.example/group/app]\n", False),   # names an image
])
def test_shows_no_build(text, no_build) -> None:
    assert shows_no_build(text) is no_build


def test_an_image_named_once_wins_over_a_log_without_a_build() -> None:
    m = ImageMapper()
    m.learn_from_log("x-container", "$ echo nothing to do\n")
    assert not m.is_container_build("x-container", "containers")
    m.learn_from_log("x-container", _trace("debian"))
    assert (m.is_container_build("x-container", "containers"), m.image_for("x-container")) \
        == (True, "debian")
    m.learn_from_log("x-container", "$ echo nothing to do\n")    # image already known
    assert m.is_container_build("x-container", "containers")


def test_mapping_file_and_learned_state(tmp_path: Path) -> None:
    f = tmp_path / "m.yml"
    f.write_text("container_stages: [containers]\nnot_container_builds: [verify-images]\n"
                 "jobs: {build-ci: ci-base}\n", encoding="utf-8")
    m = load_mapping(f, {"a-container": "a"}, ["weekly-container-builds"])
    assert not m.is_container_build("verify-images", "containers")
    assert not m.is_container_build("weekly-container-builds", "containers")
    assert m.is_container_build("a-container", "containers")
    assert m.is_container_build("build-ci", "test")           # explicit wins over stage
    f.write_text("not_container_builds: verify-images\n", encoding="utf-8")
    with pytest.raises(Exception, match="not_container_builds must be a list"):
        load_mapping(f)


def test_every_jobs_minutes_land_in_exactly_one_total() -> None:
    """Sample + a weekly verification job in stage containers (and an unmapped build).

    Hand-worked: calibrate's container minutes are those of jobs with is_container_build
    and an image; other minutes are all the rest; their sum is every job's minutes.
    """
    ds = generate_sample(SampleSettings(days=3))
    jobs = ds.jobs
    extra = jobs[jobs["is_container_build"]].head(3).copy()
    extra["job_id"] = jobs["job_id"].max() + np.arange(1, 4)
    extra["name"] = ["weekly-container-builds", "weekly-container-builds", "mystery-container"]
    extra["duration_s"] = [600.0, 700.0, 50.0]

    jobs = pd.concat([jobs, extra], ignore_index=True)
    mapper = ImageMapper(learned={n: i for n, i in zip(jobs["name"], jobs["image"],
                                                        strict=True) if isinstance(i, str)})
    mapper.learned.pop("mystery-container", None)
    mapper.learned.pop("weekly-container-builds", None)
    mapper.learn_from_log("weekly-container-builds", CASE["trace_weekly_container_builds"])
    jobs = apply_mapping(jobs, mapper)
    weekly = jobs[jobs["name"] == "weekly-container-builds"]
    assert not weekly["is_container_build"].any() and weekly["image"].isna().all()
    mystery = jobs[jobs["name"] == "mystery-container"]
    assert mystery["is_container_build"].all() and mystery["image"].isna().all()
    ds = dataclasses.replace(ds, jobs=jobs)
    cal = calibrate(ds)
    months = cal.months_of_data
    total_min = jobs["duration_s"].sum() / 60.0 / months
    assert cal.container_minutes_per_month + cal.other_minutes_per_month == \
        pytest.approx(total_min, rel=1e-12)
    assert cal.other_minutes_per_month * months * 60 >= 1350.0    # 600 + 700 + 50 in "other"
    assert months > 0 and DAYS_PER_MONTH > 0
