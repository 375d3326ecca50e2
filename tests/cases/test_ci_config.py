"""Issue 22 kind 4: any project's CI read as GitLab reads it.

Case 10 (``tests/cases/10-qemu-dockerfile-variable``: QEMU's container template and the
wasm jobs) and the trimmed real configurations in ``tests/cases/ci-configs`` (libvirt, a
freedesktop.org ci-templates project, a project using every other builder). Every expected
image and path below is read off the fixture by hand; the variants vary one thing each
(a variable form, a merge rule) and say what GitLab or the shell does with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cachecost.collect.cibuilds import container_builds, image_inputs_of
from cachecost.collect.ciconfig import expand, load_ci_yaml, merge_ci_files, resolve_jobs
from cachecost.collect.gitlab.cilint import merged_ci_config
from cachecost.collect.mapping import ImageMapper
from cachecost.collect.measure import image_inputs
from cachecost.errors import ApiError

HERE = Path(__file__).parent
CASE_10 = HERE / "10-qemu-dockerfile-variable"
CONFIGS = HERE / "ci-configs"
D = "tests/docker/dockerfiles"


def _docs(root: Path) -> dict[str, dict]:
    """Every YAML file under ``root`` as GitLab names it (path from the repository root)."""
    return {str(p.relative_to(root)): load_ci_yaml(p.read_text(encoding="utf-8"))
            for p in sorted(root.rglob("*.yml"))}


def _builds(docs: dict[str, dict], entry: str | None = None) -> dict[str, tuple]:
    config, origin = merge_ci_files(docs, entry)
    return {b.job: (b.image, b.inputs) for b in container_builds(config, origin)}


def _qemu_docs() -> dict[str, dict]:
    return {".gitlab-ci.d/container-template.yml":
            load_ci_yaml((CASE_10 / "container-template.yml").read_text(encoding="utf-8")),
            ".gitlab-ci.d/container-cross.yml":
            load_ci_yaml((CASE_10 / "container-cross-excerpt.yml").read_text(encoding="utf-8"))}


# ------------------------------------------------------------------ the case
def test_case_10_qemu_wasm_dockerfile_through_variables() -> None:
    """``export DOCKERFILE_NAME=${DOCKERFILE:-$NAME}`` then ``-f ".../$DOCKERFILE_NAME.docker"``:
    the wasm jobs set DOCKERFILE=emsdk-wasm-cross, the fedora job sets none (NAME used)."""
    assert image_inputs(_qemu_docs()) == {
        "emsdk-wasm32-cross": [f"{D}/emsdk-wasm-cross.docker"],
        "emsdk-wasm64-cross": [f"{D}/emsdk-wasm-cross.docker"],
        "fedora-win64-cross": [f"{D}/fedora-win64-cross.docker"],
    }


# ------------------------------------------------------------------ variable forms
TEMPLATE = """
.container_job_template:
  stage: containers
  variables:
    DOCKERFILES: tests/docker/dockerfiles
  before_script:
    - export TAG="$CI_REGISTRY_IMAGE/qemu/$NAME:latest"
    - {assign}
  script:
    - docker build --tag "$TAG" -f "{path}" .
wasm-container:
  extends: [.container_job_template, .wasm]
  variables: {{NAME: emsdk-wasm64-cross}}
.wasm:
  variables: {{DOCKERFILE: emsdk-wasm-cross}}
plain-container:
  extends: .container_job_template
  variables: {{NAME: fedora-win64-cross}}
"""


@pytest.mark.parametrize("assign, path", [
    ("export DOCKERFILE_NAME=${DOCKERFILE:-$NAME}", "$DOCKERFILES/$DOCKERFILE_NAME.docker"),
    ("export DOCKERFILE_NAME=${DOCKERFILE:-$NAME}", "${DOCKERFILES}/${DOCKERFILE_NAME}.docker"),
    ('DOCKERFILE_NAME="${DOCKERFILE:-${NAME}}"', "$DOCKERFILES/$DOCKERFILE_NAME.docker"),
    ("true", "$DOCKERFILES/${DOCKERFILE:-${NAME}}.docker"),               # nested, inline
    ("true", "$DOCKERFILES/${DOCKERFILE-$NAME}.docker"),                  # unset: default
    ("export X=1 DOCKERFILE_NAME=${DOCKERFILE:=$NAME}", "$DOCKERFILES/$DOCKERFILE.docker"),
    ("export D2=${DOCKERFILE:+$DOCKERFILE}", "$DOCKERFILES/${D2:-$NAME}.docker"),
])
def test_dockerfile_variable_forms(assign, path) -> None:
    """Each form gives emsdk-wasm-cross for the wasm job (DOCKERFILE set by a hidden parent)
    and NAME for the plain job (DOCKERFILE unset)."""
    docs = {"c.yml": load_ci_yaml(TEMPLATE.format(assign=assign, path=path))}
    assert _builds(docs) == {
        "plain-container": ("fedora-win64-cross", (f"{D}/fedora-win64-cross.docker",)),
        "wasm-container": ("emsdk-wasm64-cross", (f"{D}/emsdk-wasm-cross.docker",))}


@pytest.mark.parametrize("text, env, want", [
    ("$A/${B}", {"A": "a", "B": "b"}, "a/b"),
    ("${A:-x}", {"A": ""}, "x"),             # set but empty: ':-' takes the default
    ("${A-x}", {"A": ""}, ""),               # '-' only when unset
    ("${A-x}", {}, "x"),
    ("${A:-${B:-${C}}}", {"C": "c"}, "c"),   # nested twice
    ("${A:+alt}", {"A": "1"}, "alt"),
    ("${A:+alt}", {}, ""),
    ("$CI_PROJECT_DIR/x", {}, "$CI_PROJECT_DIR/x"),    # set by GitLab at run time: kept
    ("${CI_COMMIT_TAG:-dev}", {}, "${CI_COMMIT_TAG:-dev}"),
    ("$UNSET/x", {}, "/x"),                  # the shell's empty expansion
    ("$$A", {"A": "a"}, "$A"),               # GitLab's escape of a literal '$'
])
def test_expand_like_the_shell(text, env, want) -> None:
    assert expand(text, dict(env)) == want


@pytest.mark.parametrize("variables, script, want", [
    # the job moves before building: paths are from where it runs
    ({}, ['cd docker/app && docker build -t "$CI_REGISTRY_IMAGE/app:1" .'],
     ("app", ("docker/app/Dockerfile",))),
    # variables naming variables, expanded as GitLab does before the shell starts
    ({"BASE": "$CI_REGISTRY_IMAGE/imgs", "DIR": "images/$NAME", "NAME": "web"},
     ["docker build -t $BASE/$NAME -f $DIR/Dockerfile ."], ("web", ("images/web/Dockerfile",))),
    # kaniko: a relative --dockerfile is read in --context
    ({}, ["/kaniko/executor --context ci/img --dockerfile Containerfile --destination r/x:1"],
     ("x", ("ci/img/Containerfile",))),
    # wrappers and --flag=value spellings
    ({}, ["sudo docker image build --file=ci/Dockerfile.ci --tag=reg/ci-base ."],
     ("ci-base", ("ci/Dockerfile.ci",))),
    ({}, ["podman build --layers=false -t reg/p ."], ("p", ("Dockerfile",))),
    ({}, ["nerdctl build -t reg/n sub"], ("n", ("sub/Dockerfile",))),
    # the Dockerfile on stdin, or a directory outside the repository: no input path
    ({}, ["docker build -t r/s - < Dockerfile"], ("s", ())),
    ({}, ["cd /tmp && docker build -t r/t ."], ("t", ())),
])
def test_build_commands_in_other_shapes(variables, script, want) -> None:
    docs = {"c.yml": {"job": {"stage": "test", "variables": variables, "script": script}}}
    assert _builds(docs) == {"job": want}


@pytest.mark.parametrize("script", [
    ['echo "docker build -t x ."'], ["docker run --rm x make"], ["docker buildx ls"],
    ["make docker-verify"], ["buildah push x"],
])
def test_commands_that_build_nothing(script) -> None:
    assert _builds({"c.yml": {"job": {"script": script}}}) == {}


# ------------------------------------------------------------------ GitLab's merge rules
def test_includes_merge_in_order_the_including_file_last() -> None:
    """root includes a then b; b's ``x`` wins over a's, root's own variables over both;
    mappings merge key by key (V1 from a, V2 from b), scripts are replaced."""
    docs = {"root.yml": {"include": [{"local": "/a.yml"}, "b.yml"],
                         "x": {"variables": {"V2": "root"}}},
            "a.yml": {"x": {"script": ["a"], "variables": {"V1": "a", "V2": "a"}}},
            "b.yml": {"x": {"script": ["b"], "variables": {"V2": "b"}}}}
    config, origin = merge_ci_files(docs, "root.yml")
    assert config["x"] == {"script": ["b"], "variables": {"V1": "a", "V2": "root"}}
    assert origin["x"] == "root.yml"


def test_file_with_a_spec_header_reads_its_inputs_defaults() -> None:
    """``spec: inputs: {dir: {default: ci/images}}`` then ``---``: the job's
    ``$[[ inputs.dir ]]`` is ci/images."""
    doc = load_ci_yaml("spec:\n  inputs:\n    dir:\n      default: ci/images\n---\n"
                       "img:\n  script:\n    - docker build -t r/base -f $[[ inputs.dir ]]/"
                       "base.Dockerfile .\n")
    assert _builds({"c.yml": doc}) == {"img": ("base", ("ci/images/base.Dockerfile",))}


def test_wildcard_include() -> None:
    """``include: 'ci/*.yml'`` takes ci/a.yml and ci/b.yml, not ci/sub/c.yml."""
    docs = {"r.yml": {"include": "ci/*.yml"}, "ci/a.yml": {"a": {"script": ["1"]}},
            "ci/b.yml": {"b": {"script": ["2"]}}, "ci/sub/c.yml": {"c": {"script": ["3"]}}}
    config, _ = merge_ci_files(docs, "r.yml")
    assert sorted(config) == ["a", "b"]


def test_extends_default_inherit_and_reference() -> None:
    """``j`` extends [.p1, .p2]: .p2's V wins over .p1's, j's own W over both; .p1's script
    is replaced by .p2's, then a ``!reference`` flattens .setup's script into j's;
    ``default: before_script`` reaches j but not ``k`` (``inherit: default: false``), and
    top-level variables reach j but not k (``inherit: variables: false``)."""
    config = load_ci_yaml("""
variables: {TOP: t}
default: {before_script: [echo default]}
.setup: {script: [s1, s2]}
.p1: {variables: {V: p1, W: p1}, script: [p1]}
.p2: {variables: {V: p2}, script: [p2]}
j:
  extends: [.p1, .p2]
  variables: {W: j}
  script: [!reference [.setup, script], mine]
k:
  inherit: {default: false, variables: false}
  script: [k]
""")
    jobs = resolve_jobs(config)
    assert sorted(jobs) == ["j", "k"]
    assert jobs["j"]["variables"] == {"TOP": "t", "V": "p2", "W": "j"}
    assert jobs["j"]["script"] == ["s1", "s2", "mine"]
    assert jobs["j"]["before_script"] == ["echo default"]
    assert "before_script" not in jobs["k"] and jobs["k"]["variables"] == {}


# ------------------------------------------------------------------ real projects
def test_libvirt_maps_without_a_mapping_file() -> None:
    """.gitlab-ci.yml -> ci/gitlab.yml -> the lcitool templates: three container jobs push
    ``$CI_REGISTRY_IMAGE/ci-$NAME`` from ``ci/containers/$NAME.Dockerfile``; the build job
    (``meson``) builds no image."""
    assert _builds(_docs(CONFIGS / "libvirt"), ".gitlab-ci.yml") == {
        "x86_64-almalinux-9-container": ("ci-almalinux-9",
                                         ("ci/containers/almalinux-9.Dockerfile",)),
        "x86_64-debian-12-container": ("ci-debian-12", ("ci/containers/debian-12.Dockerfile",)),
        "x86_64-debian-12-cross-aarch64-container": (
            "ci-debian-12-cross-aarch64", ("ci/containers/debian-12-cross-aarch64.Dockerfile",)),
    }


def test_freedesktop_ci_templates_without_the_template() -> None:
    """The template is in another project; the jobs extending ``.fdo.container-build@debian``
    push ``debian/$FDO_DISTRIBUTION_VERSION`` (= bookworm-slim through DEBIAN_VERSION) or
    ``$FDO_REPO_SUFFIX`` (= the job name, debian/arm64_build). ci-templates rebuilds when
    the tag changes: FDO_DISTRIBUTION_TAG is written in .debian-vars (container.yml) as
    ``${DEBIAN_TAG}``, a top-level variable of .gitlab-ci.yml: those two files."""
    assert _builds(_docs(CONFIGS / "freedesktop"), ".gitlab-ci.yml") == {
        "debian-container": ("bookworm-slim", (".gitlab-ci/container.yml", ".gitlab-ci.yml")),
        "debian/arm64_build": ("arm64_build", (".gitlab-ci/container.yml", ".gitlab-ci.yml")),
    }


def test_every_builder_by_what_the_job_runs() -> None:
    """None of these is in a stage named for containers, and the one that is builds nothing.
    kaniko: --dockerfile under ${CI_PROJECT_DIR}; buildah: -f; podman: --file; buildctl:
    --local dockerfile=web + --opt filename=Dockerfile.prod; buildx with a matrix: one job
    per platform, the Dockerfile in the context directory."""
    assert _builds(_docs(CONFIGS / "builders"), ".gitlab-ci.yml") == {
        "buildah-image": ("fedora", ("images/Containerfile.fedora",)),
        "buildkit-image": ("web", ("web/Dockerfile.prod",)),
        "buildx-image: [amd64]": ("multi-amd64", ("docker/multi/Dockerfile",)),
        "buildx-image: [arm64]": ("multi-arm64", ("docker/multi/Dockerfile",)),
        "kaniko-image": ("app", ("docker/app/Dockerfile",)),
        "podman-image": ("tools", ("tools.Dockerfile",)),
    }


def test_mapper_uses_what_the_configuration_runs() -> None:
    """With the configuration read, a job that runs a build command is a build whatever its
    stage (kaniko-image, stage build); one that shows none -- verify-containers runs
    ``make``, which may build -- and one it does not define follow the stage rule, until a
    log shows the job builds nothing; a ``parallel: 3`` index is the same job."""
    config, origin = merge_ci_files(_docs(CONFIGS / "builders"), ".gitlab-ci.yml")
    mapper = ImageMapper()
    mapper.use_ci_config(sorted(resolve_jobs(config)),
                         {b.job: b.image for b in container_builds(config, origin)})
    assert mapper.is_container_build("verify-containers", "containers")
    mapper.learn_from_log("verify-containers", "$ make docker-verify\nJob succeeded\n")
    assert not mapper.is_container_build("verify-containers", "containers")
    assert mapper.is_container_build("kaniko-image", "build")
    assert not mapper.is_container_build("unit-tests", "test")
    assert mapper.image_for("kaniko-image") == "app"
    assert mapper.image_for("buildx-image: [arm64]") == "multi-arm64"
    assert mapper.is_container_build("unknown-job", "containers")
    assert not mapper.is_container_build("unknown-job", "build")
    assert not mapper.is_container_build("unit-tests 2/3", "test")
    assert image_inputs_of(container_builds(config, origin))["fedora"] == [
        "images/Containerfile.fedora"]


# ------------------------------------------------------------------ GitLab's own merge
class _LintAnswers:
    """Answers of ``GET /projects/:id/ci/lint`` in the shape GitLab documents (api/lint.md)."""

    def __init__(self, answer: object) -> None:
        self.answer = answer

    def get_json(self, path: str, params: dict, *, what: str) -> object:
        assert path == "/projects/7/ci/lint" and params == {"content_ref": "main"}
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_lint_merged_yaml_is_read_with_its_local_files() -> None:
    """Older GitLab writes Ruby symbols (``:job:``); the local includes are the files to
    watch; a refusal (403) or an invalid configuration gives None (the files are merged
    here instead)."""
    answer = {"valid": True, "errors": [], "warnings": [],
              "merged_yaml": "---\n:job:\n  :script:\n  - docker build -t r/x:1 .\n",
              "includes": [{"type": "local", "location": "ci/a.yml"},
                           {"type": "project", "location": "templates/debian.yml"}]}
    merged = merged_ci_config(_LintAnswers(answer), 7, "main")  # type: ignore[arg-type]
    assert merged is not None
    assert merged.config == {"job": {"script": ["docker build -t r/x:1 ."]}}
    assert merged.local_files == (".gitlab-ci.yml", "ci/a.yml")
    assert _builds({"m": merged.config}) == {"job": ("x", ("Dockerfile",))}
    refused = _LintAnswers(ApiError("403 Forbidden", status=403))
    assert merged_ci_config(refused, 7, "main") is None  # type: ignore[arg-type]
    invalid = _LintAnswers({"valid": False, "errors": ["jobs config should contain"]})
    assert merged_ci_config(invalid, 7, "main") is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("dockerfile", "want"), [
    ("ci/Dockerfile.builder", "builder"),          # Dockerfile.<name>: the name
    ("ci/Containerfile.fedora", "fedora"),
    ("tests/docker/dockerfiles/alpine.docker", "alpine"),
    ("ci/fedora.Dockerfile", "fedora"),
    ("images/base/Dockerfile", "base"),             # plain Dockerfile: its directory
])
def test_an_image_without_a_pushed_name_is_named_by_its_dockerfile(dockerfile, want) -> None:
    """A build whose ``-t`` expands to nothing (a variable set outside the YAML) is named
    by its Dockerfile: ``Dockerfile.builder`` builds ``builder`` (the name after the dot),
    not ``Dockerfile`` (before: the extension was cut first, leaving ``Dockerfile``)."""
    config, origin = merge_ci_files({".gitlab-ci.yml": {"build-image": {
        "stage": "build", "script": [f'docker build -t "$TAG" -f {dockerfile} .']}}}, None)
    assert image_inputs_of(container_builds(config, origin)) == {want: [dockerfile]}
