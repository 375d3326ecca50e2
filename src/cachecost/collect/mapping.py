"""Which CI jobs build container images, and which image each one builds.

In QEMU a job's name is not its image's: ``arm64-debian-cross-container``
builds ``debian-arm64-cross`` from ``tests/docker/dockerfiles/debian-arm64-cross.docker``
and pushes ``qemu/debian-arm64-cross``. First rule: the CI configuration, read as GitLab
merges it (:mod:`cachecost.collect.cibuilds`, by the measurement phase): a job it defines
that runs a build command (or extends ci-templates' ``.fdo.container-build@...``) is a
container build, with the image it pushes -- whatever its stage
(:meth:`ImageMapper.use_ci_config`). A job that runs no build command the configuration
shows (it may call a script or a make target that does), or one it does not define, follows
the default rule:

1. a job in stage ``containers`` is a container build -- until one of its logs shows
   that it builds nothing (no image named, no builder's step markers, no build
   command): QEMU's ``weekly-container-builds`` extends the container template but only
   runs ``make docker-verify``. Such a job name is learned as *not a build*, and its
   jobs' minutes count with the other CI jobs;
2. its image is learned from a build log: the expanded
   ``tests/docker/dockerfiles/<image>.docker`` path, or the push destination
   (``The push refers to repository [...]``, kaniko's ``Pushing image to ...``);
   once learned for one job name it applies to every job of that name.

Anything else goes in an explicit mapping file (YAML)::

    container_stages: [containers, images]   # stages whose jobs build images
    not_container_builds: [weekly-container-builds]   # in those stages, but build nothing
    jobs:                                    # exact job name -> image
      build-ci-image: ci-base
    patterns:                                # regex on the job name -> image (\\1 = group)
      - match: '^image-(.+)$'
        image: '\\1'

Explicit entries win over what logs say. Container jobs that stay unmapped
keep ``image = null`` and are counted, never dropped: every job is either a
container build (with or without a known image) or another CI job, never both.

    mapper = load_mapping("mapping.yml")          # or ImageMapper() for the default
    mapper.learn_from_log("arm64-debian-cross-container", trace, "qemu-project/qemu")
    mapper.image_for("arm64-debian-cross-container")   # 'debian-arm64-cross'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cachecost.collect.buildlog import classify_build_log
from cachecost.dataset.catalog import QEMU_DOCKERFILE
from cachecost.errors import CachecostError, read_user_file
from cachecost.yamlkeys import load_yaml_unique_keys

_PARALLEL_INDEX = re.compile(r" \d+/\d+$")
_DOCKERFILE = re.compile(QEMU_DOCKERFILE)
_PUSH = re.compile(
    r"(?:The push refers to repository \[|Pushing image to |Pushed )"
    r"([\w.-]+(?::\d+)?/[\w./-]+?)(?:[:@][\w.:-]+)?\]?\s*$"
)


#: a command that builds an image, as the job's script echoes it ("$ docker build ...")
_BUILD_COMMAND = re.compile(
    r"\b(?:docker|podman|buildah|nerdctl)\s+(?:buildx\s+|image\s+)?(?:build|bud)\b"
    r"|/kaniko/executor\b|\bbuildctl(?:-daemonless\.sh)?\s+build\b|\bmake\s+docker-image")


def shows_no_build(text: str) -> bool:
    """True when a job's log shows it builds no image.

    No image named (:func:`image_from_log`), no builder step markers
    (:func:`~cachecost.collect.buildlog.classify_build_log` finds no builder) and no build
    command (``docker build``, ``buildah bud``, ``/kaniko/executor``, ``buildctl build``...).
    An empty log (the job never ran, the log expired) shows nothing either way: False.
    """
    if not text.strip() or image_from_log(text) is not None:
        return False
    if classify_build_log(text).builder is not None:
        return False
    return _BUILD_COMMAND.search(text) is None


def image_from_repository(repository_path: str) -> str:
    """Return the image a registry path holds: its last path component, without tag.

    ``registry.gitlab.com/qemu-project/qemu/qemu/debian-arm64-cross:latest``
    -> ``debian-arm64-cross``.
    """
    path = repository_path.split("@", 1)[0]
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def image_from_log(text: str) -> str | None:
    """Return the image a build log shows being built or pushed, or None.

    Unexpanded variables (``$NAME.docker``) do not match: only a concrete
    Dockerfile path or push destination counts.
    """
    found = None
    for line in text.splitlines():
        m = _DOCKERFILE.search(line)
        if m:
            return m.group(1)
        m = _PUSH.search(line.strip())
        if m and found is None:
            found = image_from_repository(m.group(1))
    return found


@dataclass
class ImageMapper:
    """Maps job (name, stage) to whether it builds an image and which one."""

    container_stages: tuple[str, ...] = ("containers",)
    jobs: dict[str, str] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    learned: dict[str, str] = field(default_factory=dict)
    #: job names in a container stage that build nothing: from the mapping file ...
    not_builds: set[str] = field(default_factory=set)
    #: ... or learned from their logs (:func:`shows_no_build`)
    learned_not_builds: set[str] = field(default_factory=set)
    #: every job name the CI configuration defines (None: not read) ...
    ci_jobs: frozenset[str] | None = None
    #: ... and those that build an image, with it (None: not resolved)
    ci_builds: dict[str, str | None] = field(default_factory=dict)

    def use_ci_config(self, jobs: list[str] | None, builds: dict[str, str | None] | None
                      ) -> None:
        """Take what the CI configuration says: its job names and its container builds."""
        if jobs is not None:
            self.ci_jobs = frozenset(jobs)
            self.ci_builds = dict(builds or {})

    def _ci_name(self, name: str) -> str | None:
        """``name`` as the CI configuration defines it (``job 2/4`` of ``parallel: 4`` is
        ``job``), or None when it does not define it."""
        if self.ci_jobs is None:
            return None
        if name in self.ci_jobs:
            return name
        base = _PARALLEL_INDEX.sub("", name)
        return base if base in self.ci_jobs else None

    def is_container_build(self, name: str, stage: str) -> bool:
        """True when the job builds a container image (see the module doc for the rule)."""
        if name in self.jobs or any(p.search(name) for p, _ in self.patterns):
            return True
        if name in self.not_builds or name in self.learned_not_builds:
            return False
        ci_name = self._ci_name(name)
        if ci_name is not None and ci_name in self.ci_builds:
            return True         # it runs a build command, whatever its stage
        # no build command the configuration shows (one may sit in a script or a make
        # target it calls): the stage decides, until a log shows the job builds nothing
        return stage in self.container_stages

    def image_for(self, name: str) -> str | None:
        """The image job ``name`` builds: explicit mapping, else learned from logs, else None."""
        if name in self.jobs:
            return self.jobs[name]
        for pattern, template in self.patterns:
            m = pattern.search(name)
            if m:
                return m.expand(template)
        ci_name = self._ci_name(name)
        if ci_name is not None and self.ci_builds.get(ci_name):
            return self.ci_builds[ci_name]
        return self.learned.get(name)

    def learn_from_log(self, name: str, text: str) -> str | None:
        """Learn job ``name``'s image from one of its logs; return it (or None).

        A log that shows no build (:func:`shows_no_build`) marks the name as not a
        container build, unless another of its logs named an image.
        """
        image = image_from_log(text)
        if image is not None:
            self.learned[name] = image
            self.learned_not_builds.discard(name)
        elif name not in self.learned and shows_no_build(text):
            self.learned_not_builds.add(name)
        return image

    def known_images(self) -> set[str]:
        """Every image some job is mapped to."""
        return set(self.jobs.values()) | set(self.learned.values()) | {
            i for i in self.ci_builds.values() if i}


def load_mapping(path: str | Path | None, learned: dict[str, str] | None = None,
                 learned_not_builds: list[str] | None = None,
                 ci: dict | None = None) -> ImageMapper:
    """Return the mapper for a YAML mapping file (None: the QEMU-style default rule).

    ``learned`` / ``learned_not_builds``: what earlier fetches learned from logs; ``ci``:
    what the last measurement read from the CI configuration (its ``ci_jobs`` and
    ``ci_builds``, see :meth:`ImageMapper.use_ci_config`).
    """
    mapper = ImageMapper(learned=dict(learned or {}),
                         learned_not_builds=set(learned_not_builds or ()))
    if ci:
        mapper.use_ci_config(ci.get("ci_jobs"), ci.get("ci_builds"))
    if path is None:
        return mapper
    p = Path(path)
    data = read_user_file(p, "mapping file")
    try:
        doc = load_yaml_unique_keys(data) or {}   # a job mapped twice is an error
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CachecostError(f"{p}: {where}not valid YAML ({problem})") from None
    if not isinstance(doc, dict):
        raise CachecostError(f"{p}: expected a mapping with container_stages/jobs/patterns")
    unknown = set(doc) - {"container_stages", "jobs", "patterns", "not_container_builds"}
    if unknown:
        raise CachecostError(f"{p}: unknown key {sorted(unknown)[0]!r}")
    stages = doc.get("container_stages", ["containers"])
    jobs = doc.get("jobs") or {}
    if not isinstance(stages, list) or not isinstance(jobs, dict):
        raise CachecostError(f"{p}: container_stages must be a list and jobs a mapping")
    excluded = doc.get("not_container_builds") or []
    if not isinstance(excluded, list):
        raise CachecostError(f"{p}: not_container_builds must be a list of job names")
    mapper.not_builds = {str(x) for x in excluded}
    mapper.container_stages = tuple(str(s) for s in stages)
    mapper.jobs = {str(k): str(v) for k, v in jobs.items()}
    for i, entry in enumerate(doc.get("patterns") or []):
        if not isinstance(entry, dict) or "match" not in entry or "image" not in entry:
            raise CachecostError(f"{p}: patterns[{i}] needs 'match' and 'image'")
        try:
            mapper.patterns.append((re.compile(str(entry["match"])), str(entry["image"])))
        except re.error as exc:
            raise CachecostError(f"{p}: patterns[{i}] is not a valid regex ({exc})") from None
    return mapper
