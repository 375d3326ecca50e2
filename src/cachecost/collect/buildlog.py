"""Read a container build's log and say whether its steps came from cache.

GitLab's framing is removed first (:func:`clean_log`):

* runner >= 17 timestamp prefixes (``FF_TIMESTAMPS``): ``<RFC 3339 time with 6 decimals>Z
  <2 hex: stream number><O|E: stdout/stderr><'+' continues the previous line, else ' '>``,
  e.g. ``2024-05-16T17:52:43.160456Z 01O `` (gitlabhq ``lib/gitlab/ci/trace/stream.rb``
  ``TIMESTAMP_HEADER_REGEX``; ``ansi2json/converter.rb`` documents the fields). A ``+``
  line is glued to the line before it, as GitLab's log viewer does;
* ``section_start:<unix time>:<name>[<options>]\\r\\e[0K`` / ``section_end:...`` markers;
* ANSI colour and erase sequences;
* ``\\r`` progress overwrites: a line shows what follows its last ``\\r``.

Then each builder's step headers and cache markers are read:

* classic ``docker build``: ``Step 2/12 : RUN ...`` (very old: ``Step 2 : RUN``), then
  `` ---> Using cache`` when cached;
* BuildKit (``--progress=plain``): ``#7 [ 2/12] RUN ...`` -- the index is padded to the
  width of the total, and stage and platform may prefix it: ``#9 [stage-1 3/9]``,
  ``#9 [linux/arm64 builder 2/7]``. A vertex's header is printed again whenever its output
  resumes, so each vertex ``#N`` counts once; it ends with ``#N CACHED`` (cached),
  ``#N DONE 1.2s`` or ``#N ERROR: ...`` (executed). Output lines ``#N 0.383 ...`` with no
  end line (a build cut short) also mean it ran;
* buildah / podman: ``STEP 2/4: RUN ...``, with a stage prefix ``[1/2] STEP 2/4: ...``;
  older buildah ``STEP 2: RUN ...``; then ``--> Using cache <id>`` when cached;
* kaniko (``pkg/executor/build.go``): while looking its cache up it prints
  ``Using caching version of cmd: <cmd>`` per hit and, at the first miss,
  ``No cached layer found for cmd <cmd>`` -- and then stops looking (``break``): every
  later cacheable command runs. A command that runs prints ``Running: [/bin/sh -c ...]``
  (older versions: ``cmd: /bin/sh``) and, once snapshotted, ``Pushing layer <key> to cache
  now``. Executed steps are the larger of the commands seen running and the distinct layers
  pushed (a failing last command runs but is never pushed; ``--cache-copy-layers`` pushes
  COPY layers too); cached steps are the ``Using caching version`` lines.

``FROM`` is not a step. The outcome is ``hit`` (every step cached), ``miss`` (none),
``partial`` (some), ``unknown`` (no builder markers at all).

    result = classify_build_log(trace_text)
    result.outcome, result.cached_steps, result.executed_steps   # ('partial', 3, 2)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]")
_SECTION = re.compile(r"section_(?:start|end):\d+:[^\s\r\[]+(?:\[[^\]]*\])?\r?")
#: GitLab's TIMESTAMP_HEADER_REGEX (lib/gitlab/ci/trace/stream.rb): 27-character UTC time,
#: a space, stream number (2 hex digits), stream type (O or E), '+' (continuation) or ' '.
_TIMESTAMP = re.compile(
    r"^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d\.\d{6}Z [0-9a-f]{2}[EO]([+ ])")

_DOCKER_STEP = re.compile(r"^Step (\d+)(?:/(\d+))? : (\w+)")
_DOCKER_CACHED = re.compile(r"^\s*---> Using cache\s*$")
_BUILDKIT_STEP = re.compile(r"^#(\d+) \[([^\]]*?)\s*(\d+)/(\d+)\] (\w+)")
_BUILDKIT_STATUS = re.compile(r"^#(\d+) (CACHED|DONE\b|ERROR\b|CANCELED\b)")
_BUILDKIT_OUTPUT = re.compile(r"^#(\d+) \d+\.\d+ ")
_BUILDKIT_NEW_BUILD = re.compile(r"^#0 building with |^#1 \[internal\] load build definition")
_BUILDAH_STEP = re.compile(r"^(?:\[\d+/\d+\] )?STEP (\d+)(?:/(\d+))?: (\w+)")
_BUILDAH_CACHED = re.compile(r"^--> Using cache\b")
#: kaniko's log formats (logrus): "color" (default) ``INFO[0003] msg`` (``--log-timestamp``:
#: ``INFO[2024-05-16T17:52:43Z] msg``), "text" ``time="..." level=info msg="..."``,
#: "json" ``{"level":"info","msg":"...","time":"..."}``
_KANIKO_INFO = re.compile(r"^(?:INFO|WARN|DEBU|ERRO|TRAC)\[[^\]]*\] ?")
_KANIKO_TEXT = re.compile(r'^time="[^"]*" level=\w+ msg="((?:[^"\\]|\\.)*)"')
_KANIKO_JSON = re.compile(r'"msg":\s*"((?:[^"\\]|\\.)*)"')
_KANIKO_CACHED = re.compile(r"^Using caching version of cmd:")
_KANIKO_MISSED = re.compile(r"^No cached layer found for cmd")
_KANIKO_PUSHED = re.compile(r"^Pushing layer (\S+) to cache now")
_KANIKO_RUNNING = re.compile(r"^Running: \[")
_KANIKO_OLD_CMD = re.compile(r"^cmd: (?!workdir\b)\S")
_KANIKO_MARKERS = re.compile(
    r"^(?:Checking for cached layer |Unpacking rootfs as cmd |Taking snapshot of "
    r"|Retrieving image manifest |Building stage )")

#: header words that are no build step: the base image, buildah's final commit
_NOT_STEPS = ("FROM", "COMMIT")
BUILDERS = ("docker", "buildkit", "kaniko", "buildah")
OUTCOMES = ("hit", "partial", "miss", "unknown")


@dataclass(frozen=True)
class BuildLogResult:
    """What a build log says about its cache use.

    ``outcome``: hit, partial, miss or unknown; ``cached_steps`` / ``executed_steps``:
    build steps (not ``FROM``) restored from cache / run; ``builder``: docker, buildkit,
    kaniko, buildah, or None when no builder's markers were found.
    """

    outcome: str
    cached_steps: int
    executed_steps: int
    builder: str | None

    def as_dict(self) -> dict:
        """The JSON form ``cachecost buildlog --json`` prints."""
        return asdict(self)


def clean_log(text: str) -> list[str]:
    """Return the log's lines as a reader sees them (GitLab's framing removed).

    See the module doc: timestamp prefixes (continuations glued), section markers,
    ANSI sequences and ``\\r`` overwrites.
    """
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        m = _TIMESTAMP.match(raw)
        if m:
            body = raw[m.end():]
            if m.group(1) == "+" and lines:
                lines[-1] += body
                continue
            raw = body
        lines.append(raw)
    out = []
    for line in lines:
        line = _ANSI.sub("", _SECTION.sub("", line)).rstrip("\r")
        out.append(line.rsplit("\r", 1)[-1])
    return out


def _outcome(cached: int, executed: int) -> str:
    if cached and executed:
        return "partial"
    if cached:
        return "hit"
    if executed:
        return "miss"
    return "unknown"


def _count_sequential(lines: list[str], step: re.Pattern, cached: re.Pattern
                      ) -> tuple[int, int]:
    """Count steps headed by ``step`` lines (not FROM); cached when a ``cached`` line follows.

    The instruction is the pattern's last group. A header repeated right after itself
    (same index and instruction, nothing in between) is the same step.
    """
    n_cached = n_exec = 0
    current: tuple | None = None
    is_cached = False
    seen_body = False

    def close() -> None:
        nonlocal n_cached, n_exec
        if current is not None and current[-1].upper() not in _NOT_STEPS:
            if is_cached:
                n_cached += 1
            else:
                n_exec += 1

    for line in lines:
        m = step.match(line)
        if m:
            if current == m.groups() and not seen_body:
                continue
            close()
            current, is_cached, seen_body = m.groups(), False, False
        elif current is not None:
            if cached.match(line):
                is_cached = True
            elif line.strip():
                seen_body = True
    close()
    return n_cached, n_exec


def _count_buildkit(lines: list[str]) -> tuple[int, int]:
    """Count BuildKit vertices that are build steps: each ``#N`` once, per build."""
    build = 0
    instr: dict[tuple[int, str], str] = {}
    state: dict[tuple[int, str], str] = {}
    for line in lines:
        if _BUILDKIT_NEW_BUILD.match(line) and any(k[0] == build for k in instr):
            build += 1
        m = _BUILDKIT_STEP.match(line)
        if m:
            instr.setdefault((build, m.group(1)), m.group(5))
            continue
        m = _BUILDKIT_STATUS.match(line)
        if m:
            key = (build, m.group(1))
            word = m.group(2)
            if word == "CACHED" or state.get(key) not in ("CACHED", "DONE", "ERROR"):
                state[key] = word
            continue
        m = _BUILDKIT_OUTPUT.match(line)
        if m:
            state.setdefault((build, m.group(1)), "OUTPUT")
    n_cached = n_exec = 0
    for key, word in instr.items():
        if word.upper() == "FROM":
            continue
        s = state.get(key)
        if s == "CACHED":
            n_cached += 1
        elif s in ("DONE", "ERROR", "OUTPUT"):
            n_exec += 1
    return n_cached, n_exec


def _kaniko_message(line: str) -> str | None:
    """The message of a kaniko log line in any of its formats; None for other lines."""
    m = _KANIKO_INFO.match(line)
    if m:
        return line[m.end():].strip()
    m = _KANIKO_TEXT.match(line)
    if m is None and line.startswith("{"):
        m = _KANIKO_JSON.search(line)
    if m:
        return m.group(1).replace('\\"', '"').strip()
    return None


def _count_kaniko(lines: list[str]) -> tuple[int, int, bool]:
    """Count kaniko's cached and executed steps; the flag says whether it is kaniko at all."""
    cached = missed = running = old_cmd = markers = 0
    pushed: set[str] = set()
    for line in lines:
        msg = _kaniko_message(line)
        if msg is None:
            continue
        if _KANIKO_CACHED.match(msg):
            cached += 1
        elif _KANIKO_MISSED.match(msg):
            missed += 1
        elif (p := _KANIKO_PUSHED.match(msg)) is not None:
            pushed.add(p.group(1))
        elif _KANIKO_RUNNING.match(msg):
            running += 1
        elif _KANIKO_OLD_CMD.match(msg):
            old_cmd += 1
        elif _KANIKO_MARKERS.match(msg):
            markers += 1
    executed = max(len(pushed), running, old_cmd, missed)
    is_kaniko = bool(cached or missed or pushed or markers)
    return cached, executed if is_kaniko else 0, is_kaniko


def classify_build_log(text: str) -> BuildLogResult:
    """Classify one build log; the builder whose markers show the most steps wins."""
    lines = clean_log(text)
    kaniko = _count_kaniko(lines)
    counts = {
        "docker": _count_sequential(lines, _DOCKER_STEP, _DOCKER_CACHED),
        "buildkit": _count_buildkit(lines),
        "kaniko": kaniko[:2],
        "buildah": _count_sequential(lines, _BUILDAH_STEP, _BUILDAH_CACHED),
    }
    builder, (cached, executed) = max(counts.items(), key=lambda kv: sum(kv[1]))
    if cached + executed == 0:
        return BuildLogResult("unknown", 0, 0, "kaniko" if kaniko[2] else None)
    return BuildLogResult(_outcome(cached, executed), cached, executed, builder)
