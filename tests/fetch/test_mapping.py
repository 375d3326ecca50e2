"""Container jobs mapped to images: QEMU's rule (job name != image name) and mapping files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cachecost.collect.derive import apply_mapping
from cachecost.collect.mapping import (
    ImageMapper,
    image_from_log,
    image_from_repository,
    load_mapping,
)
from cachecost.errors import CachecostError

QEMU_DOCKER_LOG = """\
$ export TAG="$CI_REGISTRY_IMAGE/qemu/$NAME:latest"
$ docker build --tag "$TAG" -f "tests/docker/dockerfiles/$NAME.docker" tests/docker/dockerfiles
Step 1/3 : FROM debian:12
$ docker push "$TAG"
The push refers to repository [registry.gitlab.com/qemu-project/qemu/qemu/debian-arm64-cross]
"""


def test_qemu_job_name_is_not_the_image_name() -> None:
    mapper = ImageMapper()
    assert mapper.is_container_build("arm64-debian-cross-container", "containers")
    assert mapper.image_for("arm64-debian-cross-container") is None      # not guessed
    assert mapper.learn_from_log("arm64-debian-cross-container", QEMU_DOCKER_LOG) == \
        "debian-arm64-cross"
    assert mapper.image_for("arm64-debian-cross-container") == "debian-arm64-cross"


def test_unexpanded_dockerfile_variable_is_not_an_image() -> None:
    assert image_from_log('-f "tests/docker/dockerfiles/$NAME.docker" .') is None


@pytest.mark.parametrize("line, image", [
    ("+ docker build -f tests/docker/dockerfiles/debian-hexagon-cross.docker .",
     "debian-hexagon-cross"),
    ("INFO[0120] Pushing image to registry.gitlab.com/qemu-project/qemu/qemu/fedora:latest",
     "fedora"),
    ("The push refers to repository [registry.example:5000/group/proj/python]", "python"),
])
def test_image_from_dockerfile_path_or_push_destination(line: str, image: str) -> None:
    assert image_from_log(line) == image


def test_image_from_repository_path() -> None:
    assert image_from_repository("qemu-project/qemu/qemu/debian-arm64-cross") == \
        "debian-arm64-cross"
    assert image_from_repository("registry.example/g/p/img:1.0") == "img"


def test_mapping_file_rules_win_and_unmapped_jobs_are_kept(tmp_path: Path) -> None:
    f = tmp_path / "mapping.yml"
    f.write_text("container_stages: [images]\n"
                 "jobs:\n  build-base: ci-base\n"
                 "patterns:\n  - match: '^img-(.+)$'\n    image: 'ci-\\1'\n")
    mapper = load_mapping(f, learned={"img-web": "from-log"})
    jobs = pd.DataFrame({
        "job_id": [1, 2, 3, 4, 5],
        "name": ["build-base", "img-web", "mystery-image", "unit-tests", "arm64-x-container"],
        "stage": ["prep", "images", "images", "test", "containers"],
    })
    out = apply_mapping(jobs, mapper)
    assert out["is_container_build"].tolist() == [True, True, True, False, False]
    assert out["image"].tolist() == ["ci-base", "ci-web", None, None, None]
    assert int((out["is_container_build"] & out["image"].isna()).sum()) == 1  # kept, counted


@pytest.mark.parametrize("text, needle", [
    ("jobs: [1, 2]\n", "container_stages must be a list"),
    ("surprise: 1\n", "unknown key 'surprise'"),
    ("patterns:\n  - match: '(('\n    image: x\n", "not a valid regex"),
    ("a: [\n", "not valid YAML"),
    ("jobs:\n  x: y\n  bad: [1, 2\n", r"line 4, column 1: not valid YAML"),   # where, too
    # a job mapped twice: PyYAML kept the second image without a word (issue 23)
    ("jobs:\n  build-a: image-a\n  build-a: image-b\n",
     r"line 3, column 3: not valid YAML \(key 'build-a' given twice"),
])
def test_bad_mapping_file_is_one_line(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "m.yml"
    f.write_text(text)
    with pytest.raises(CachecostError, match=needle) as exc:
        load_mapping(f)
    assert "\n" not in str(exc.value) and str(f) in str(exc.value)


def test_fetch_with_a_mapping_file_counts_unmapped(standin, token_env, tmp_path: Path) -> None:
    from cachecost.dataset.io import describe_dataset, load_dataset

    from .fetchkit import fetch_cli
    f = tmp_path / "mapping.yml"
    f.write_text("jobs:\n  python-container: python\n")
    out = tmp_path / "data"
    assert fetch_cli(standin, out, "--mapping", str(f), "--logs-per-image", "0") == 0
    desc = describe_dataset(load_dataset(out))
    truth = standin.data.jobs_frame()
    cont = truth[truth["stage"] == "containers"]
    assert desc["container_jobs"] == len(cont)
    # the measurement read the CI files: the jobs they define that build an image (every
    # visible job but build-system-alpine, which runs make) are mapped without the file
    ci_jobs = {line[:-1] for text in standin.extra.files.values() for line in text.splitlines()
               if line.endswith(":") and not line[0].isspace() and line[0] != "."
               and line != "include:"} - {"build-system-alpine"}
    assert len(ci_jobs) > 10
    assert desc["unmapped_container_jobs"] == int(
        (~cont["name"].isin(ci_jobs | {"python-container"})).sum())
