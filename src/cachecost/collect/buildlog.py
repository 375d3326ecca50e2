"""Read a container build's log and say whether its layers came from cache.

Each image builder marks cached steps in its own words:

* classic ``docker build``:  ``Step 3/7 : RUN ...`` then `` ---> Using cache``
* BuildKit (``--progress=plain``): ``#5 [2/6] RUN ...`` then ``#5 CACHED``
* kaniko:  ``Using caching version of cmd: RUN ...`` / ``No cached layer found for cmd RUN ...``
* buildah / podman: ``STEP 2/6: RUN ...`` then ``--> Using cache <id>``

:func:`classify_build_log` counts cached and executed steps (``FROM`` is not a
step) and names the outcome: ``hit`` (every step cached), ``miss`` (none),
``partial`` (some), ``unknown`` (no builder markers at all). GitLab's section
markers, ANSI colours and per-line timestamps are removed first.

    result = classify_build_log(trace_text)
    result.outcome, result.cached_steps, result.executed_steps   # ('partial', 3, 2)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SECTION = re.compile(r"section_(?:start|end):\d+:[\w.-]+(?:\[[^\]]*\])?\r?")
#: GitLab >= 17 may prefix each line with "2025-01-01T00:00:00.000000Z 00O ".
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z \w{2,4}\+? ?")

_DOCKER_STEP = re.compile(r"^Step \d+/\d+ : (\w+)")
_DOCKER_CACHED = re.compile(r"^\s*---> Using cache\s*$")
_BUILDKIT_STEP = re.compile(r"^#(\d+) \[(?:[\w.-]+ )?\d+/\d+\] (\w+)")
_BUILDKIT_CACHED = re.compile(r"^#(\d+) CACHED\s*$")
_KANIKO_CACHED = re.compile(r"Using caching version of cmd:")
_KANIKO_MISSED = re.compile(r"No cached layer found for cmd")
_BUILDAH_STEP = re.compile(r"^STEP \d+(?:/\d+)?: (\w+)")
_BUILDAH_CACHED = re.compile(r"^--> Using cache\b")


@dataclass(frozen=True)
class BuildLogResult:
    """What a build log says about its cache use."""

    outcome: str          # hit, partial, miss or unknown
    cached_steps: int
    executed_steps: int
    builder: str | None   # docker, buildkit, kaniko, buildah, or None if none recognised


def clean_log(text: str) -> list[str]:
    """Return the log's lines without ANSI codes, section markers and line timestamps."""
    text = _SECTION.sub("", _ANSI.sub("", text))
    return [_TIMESTAMP.sub("", line.rstrip("\r")) for line in text.replace("\r\n", "\n")
            .split("\n")]


def _outcome(cached: int, executed: int) -> str:
    if cached and executed:
        return "partial"
    if cached:
        return "hit"
    if executed:
        return "miss"
    return "unknown"


def _count_blocks(lines: list[str], step: re.Pattern, cached: re.Pattern) -> tuple[int, int]:
    """Count steps (not FROM) headed by ``step`` lines, cached when a ``cached`` line follows."""
    n_cached = n_exec = 0
    current: str | None = None      # instruction of the open step
    is_cached = False

    def close() -> None:
        nonlocal n_cached, n_exec
        if current is not None and current.upper() != "FROM":
            if is_cached:
                n_cached += 1
            else:
                n_exec += 1

    for line in lines:
        m = step.match(line)
        if m:
            close()
            current, is_cached = m.group(m.lastindex), False
        elif current is not None and cached.match(line):
            is_cached = True
    close()
    return n_cached, n_exec


def _count_buildkit(lines: list[str]) -> tuple[int, int]:
    steps: dict[str, str] = {}
    cached: set[str] = set()
    for line in lines:
        m = _BUILDKIT_STEP.match(line)
        if m:
            steps[m.group(1)] = m.group(2)
            continue
        m = _BUILDKIT_CACHED.match(line)
        if m:
            cached.add(m.group(1))
    real = [n for n, instr in steps.items() if instr.upper() != "FROM"]
    n_cached = sum(1 for n in real if n in cached)
    return n_cached, len(real) - n_cached


def classify_build_log(text: str) -> BuildLogResult:
    """Classify one build log; the builder whose markers show the most steps wins."""
    lines = clean_log(text)
    counts = {
        "docker": _count_blocks(lines, _DOCKER_STEP, _DOCKER_CACHED),
        "buildkit": _count_buildkit(lines),
        "kaniko": (sum(bool(_KANIKO_CACHED.search(x)) for x in lines),
                   sum(bool(_KANIKO_MISSED.search(x)) for x in lines)),
        "buildah": _count_blocks(lines, _BUILDAH_STEP, _BUILDAH_CACHED),
    }
    builder, (cached, executed) = max(counts.items(), key=lambda kv: sum(kv[1]))
    if cached + executed == 0:
        return BuildLogResult("unknown", 0, 0, None)
    return BuildLogResult(_outcome(cached, executed), cached, executed, builder)
