"""The CI configuration read over HTTP the way GitLab reads it (issue 22, kind 4).

The stand-in answers the lint endpoint with 404 (no GitLab merge to ask for), so the files
are read: the project's ``.gitlab-ci.yml`` and what it includes. Served here: libvirt's
trimmed configuration (``tests/cases/ci-configs/libvirt``), and the stand-in's QEMU-like
files behind a ``.gitlab-ci.yml`` whose include is a wildcard.
"""

from __future__ import annotations

from pathlib import Path

from cachecost.dataset.io import load_dataset
from cachecost.standin import StandinData, start_standin
from cachecost.standin.extra import ExtraData

from .fetchkit import TOKEN
from .test_measure import _fetch

LIBVIRT = Path(__file__).parents[1] / "cases" / "ci-configs" / "libvirt"


def test_libvirt_configuration_read_from_gitlab_ci_yml(small_sample, tmp_path) -> None:
    """.gitlab-ci.yml -> ci/gitlab.yml -> 3 templates/jobs files: 5 files, no tree; three
    images from ci/containers/<NAME>.Dockerfile (worked in tests/cases/test_ci_config.py)."""
    extra = ExtraData(StandinData(small_sample))
    extra.files = {str(p.relative_to(LIBVIRT)): p.read_text(encoding="utf-8")
                   for p in sorted(LIBVIRT.rglob("*.yml"))}
    with start_standin(extra.data, tokens={TOKEN: {"read_api"}}, extra=extra) as srv:
        _fetch(srv, tmp_path)
        assert srv.counts["repository/files"] == 5 and srv.counts["repository/tree"] == 0
    assert load_dataset(tmp_path).metadata["image_inputs"] == {
        "ci-almalinux-9": ["ci/containers/almalinux-9.Dockerfile"],
        "ci-debian-12": ["ci/containers/debian-12.Dockerfile"],
        "ci-debian-12-cross-aarch64": ["ci/containers/debian-12-cross-aarch64.Dockerfile"]}


def test_wildcard_include_listed_with_the_tree(small_sample, tmp_path) -> None:
    """``include: '.gitlab-ci.d/container*.yml'``: one tree listing, then core, cross,
    template (not buildtest.yml, not containers.yml, which is removed): 1 + 3 files; every
    image of the stand-in found."""
    extra = ExtraData(StandinData(small_sample))
    del extra.files[".gitlab-ci.d/containers.yml"]
    extra.files[".gitlab-ci.yml"] = "include: '.gitlab-ci.d/container*.yml'\n"
    with start_standin(extra.data, tokens={TOKEN: {"read_api"}}, extra=extra) as srv:
        _fetch(srv, tmp_path)
        assert srv.counts["repository/tree"] == 1
        assert srv.counts["repository/files"] == 1 + 3
    assert sorted(load_dataset(tmp_path).metadata["image_inputs"]) == extra.images
