"""Which CI jobs build container images, and which image each one builds.

In QEMU a job's name is not its image's: ``arm64-debian-cross-container``
builds ``debian-arm64-cross`` from ``tests/docker/dockerfiles/debian-arm64-cross.docker``
and pushes ``qemu/debian-arm64-cross``. The default rule (QEMU-style projects):

1. a job in stage ``containers`` is a container build;
2. its image is learned from a build log: the expanded
   ``tests/docker/dockerfiles/<image>.docker`` path, or the push destination
   (``The push refers to repository [...]``, kaniko's ``Pushing image to ...``);
   once learned for one job name it applies to every job of that name.

Anything else goes in an explicit mapping file (YAML)::

    container_stages: [containers, images]   # stages whose jobs build images
    jobs:                                    # exact job name -> image
      build-ci-image: ci-base
    patterns:                                # regex on the job name -> image (\\1 = group)
      - match: '^image-(.+)$'
        image: '\\1'

Explicit entries win over what logs say. Container jobs that stay unmapped
keep ``image = null`` and are counted, never dropped.

    mapper = load_mapping("mapping.yml")          # or ImageMapper() for the default
    mapper.learn_from_log("arm64-debian-cross-container", trace, "qemu-project/qemu")
    mapper.image_for("arm64-debian-cross-container")   # 'debian-arm64-cross'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cachecost.errors import CachecostError

_DOCKERFILE = re.compile(r"tests/docker/dockerfiles/([A-Za-z0-9][\w.+-]*?)\.docker\b")
_PUSH = re.compile(
    r"(?:The push refers to repository \[|Pushing image to |Pushed )"
    r"([\w.-]+(?::\d+)?/[\w./-]+?)(?:[:@][\w.:-]+)?\]?\s*$"
)


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

    def is_container_build(self, name: str, stage: str) -> bool:
        """True when the job builds a container image."""
        return stage in self.container_stages or name in self.jobs or any(
            p.search(name) for p, _ in self.patterns)

    def image_for(self, name: str) -> str | None:
        """The image job ``name`` builds: explicit mapping, else learned from logs, else None."""
        if name in self.jobs:
            return self.jobs[name]
        for pattern, template in self.patterns:
            m = pattern.search(name)
            if m:
                return m.expand(template)
        return self.learned.get(name)

    def learn_from_log(self, name: str, text: str) -> str | None:
        """Learn job ``name``'s image from one of its build logs; return it (or None)."""
        image = image_from_log(text)
        if image is not None:
            self.learned[name] = image
        return image

    def known_images(self) -> set[str]:
        """Every image some job is mapped to."""
        return set(self.jobs.values()) | set(self.learned.values())


def load_mapping(path: str | Path | None, learned: dict[str, str] | None = None) -> ImageMapper:
    """Return the mapper for a YAML mapping file (None: the QEMU-style default rule)."""
    mapper = ImageMapper(learned=dict(learned or {}))
    if path is None:
        return mapper
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise CachecostError(f"{p}: cannot read mapping file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise CachecostError(f"{p}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise CachecostError(f"{p}: expected a mapping with container_stages/jobs/patterns")
    unknown = set(doc) - {"container_stages", "jobs", "patterns"}
    if unknown:
        raise CachecostError(f"{p}: unknown key {sorted(unknown)[0]!r}")
    stages = doc.get("container_stages", ["containers"])
    jobs = doc.get("jobs") or {}
    if not isinstance(stages, list) or not isinstance(jobs, dict):
        raise CachecostError(f"{p}: container_stages must be a list and jobs a mapping")
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
