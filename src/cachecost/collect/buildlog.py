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
* kaniko (``pkg/executor/build.go``): before it executes anything, ``optimize`` looks up
  the cache for each command whose ``ShouldCacheOutput()`` is true -- ``RUN`` (unless
  ``--cache-run-layers=false``) and ``COPY`` only under ``--cache-copy-layers``
  (``pkg/commands/commands.go`` ``GetCommand``; ``ADD``, ``WORKDIR`` and the config-only
  commands keep ``BaseCommand``'s ``false``) -- printing ``Using caching version of cmd:
  <cmd>`` per hit and, at the first miss, ``No cached layer found for cmd <cmd>``; then it
  sets ``stopCache`` and looks nothing up again, so every later cacheable command runs and
  is pushed (``Pushing layer <key> to cache now``, ``pkg/executor/push.go``) without a
  line of its own about the cache. It then logs each instruction as it executes it
  (``INFO[0008] COPY . .``); a cached one is followed by ``Found cached layer, extracting
  to filesystem``, any other ran. Without these headers the lookups, ``Running: [...]``
  lines and layers pushed bound the counts from below.

A builder line may sit behind a per-line prefix a log collector adds (timestamps,
``[task : step]``, ``Step #0:``, ``kubectl logs --prefix``): each marker is searched in the
whole line. One step rule for every builder (:data:`STEP_INSTRUCTIONS`): ``RUN``,
``COPY``, ``ADD`` and ``WORKDIR`` are steps -- executed when they ran, cached when served
from cache; ``FROM`` and config-only instructions are not. The outcome is ``hit`` (every
step cached), ``miss`` (none), ``partial`` (some), ``unknown`` (no builder markers at
all). Under kaniko ``WORKDIR``, ``ADD`` and (without ``--cache-copy-layers``) ``COPY`` can
never come from its cache, so they are executed steps in every kaniko build: a build whose
every lookup hit reads ``partial`` when such a step ran, as the same build does under
BuildKit. ``run_steps`` counts the ``RUN`` steps apart (cached or executed): the layers
kaniko's cache holds per key with its default flags, the unit the model's
``tags_per_change`` counts in. A log GitLab Runner cut at its size limit is marked
(``log_limit_bytes``): its counts are lower bounds.

    result = classify_build_log(trace_text)
    result.outcome, result.cached_steps, result.executed_steps   # ('partial', 3, 2)
    result.run_steps                                              # 4 of those 5 were RUN
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

#: A builder line may sit behind a per-line prefix a log collector or build service adds
#: (``Jul 20 11:08:45  │ ``, ``[task : step] ``, ``Step #0: ``, ``kubectl logs --prefix``'s
#: ``[pod/x/container] ``): each builder token is searched anywhere in the line, where it
#: starts a word (not after a letter, digit, ``#`` or ``-``).
_B = r"(?<![\w#-])"
_DOCKER_STEP = re.compile(_B + r"Step (\d+)(?:/(\d+))? : (\w+)")
_DOCKER_CACHED = re.compile(_B + r"---> Using cache\s*$")
_BUILDKIT_STEP = re.compile(_B + r"#(\d+) \[([^\]]*?)\s*(\d+)/(\d+)\] (\w+)")
_BUILDKIT_STATUS = re.compile(_B + r"#(\d+) (CACHED|DONE\b|ERROR\b|CANCELED\b)")
_BUILDKIT_OUTPUT = re.compile(_B + r"#(\d+) \d+\.\d+ ")
#: a BuildKit vertex's output line ``#8 0.512 ...``: what follows is a RUN's own output
#: (a nested build, a tool logging like kaniko), never the outer builder's line
_BUILDKIT_NESTED = re.compile(_B + r"#\d+ \d+\.\d+ ")
_BUILDKIT_NEW_BUILD = re.compile(
    _B + r"#0 building with |" + _B + r"#1 \[internal\] load build definition")
_BUILDAH_STEP = re.compile(_B + r"(?:\[\d+/\d+\] )?STEP (\d+)(?:/(\d+))?: (\w+)")
_BUILDAH_CACHED = re.compile(_B + r"--> Using cache\b")
#: kaniko's log formats (logrus): "color" (default) ``INFO[0003] msg`` (``--log-timestamp``:
#: ``INFO[2024-05-16T17:52:43Z] msg``), "text" ``time="..." level=info msg="..."``,
#: "json" ``{"level":"info","msg":"...","time":"..."}``
_KANIKO_INFO = re.compile(_B + r"(?:INFO|WARN|DEBU|ERRO|TRAC)\[[^\]]*\] ?")
_KANIKO_TEXT = re.compile(_B + r'time="[^"]*" level=\w+ msg="((?:[^"\\]|\\.)*)"')
_KANIKO_JSON = re.compile(r'"msg":\s*"((?:[^"\\]|\\.)*)"')
_KANIKO_CACHED = re.compile(r"^Using caching version of cmd:\s*(\w+)?")
_KANIKO_FOUND = re.compile(r"^Found cached layer, extracting to filesystem")
_KANIKO_MISSED = re.compile(r"^No cached layer found for cmd")
_KANIKO_PUSHED = re.compile(r"^Pushing layer (\S+) to cache now")
_KANIKO_RUNNING = re.compile(r"^Running: \[")
_KANIKO_OLD_CMD = re.compile(r"^cmd: (?!workdir\b)\S")
_KANIKO_MARKERS = re.compile(
    r"^(?:Checking for cached layer |Unpacking rootfs as cmd |Taking snapshot of "
    r"|Retrieving image manifest |Building stage )")
#: kaniko logs each instruction as it executes it (``logrus.Info(command.String())``), in
#: the Dockerfile's own spelling: all capitals or all lower case.
_KANIKO_INSTRUCTION = re.compile(r"^([A-Z]+|[a-z]+)(?=\s|$)")
#: GitLab Runner's notice when a job's log passes its ``output_limit`` (4096 KiB by
#: default): ``Job's log exceeded limit of 4194304 bytes.`` (older runners: ``Build log
#: exceeded ...``); nothing the job prints after it is kept.
_LOG_CUT = re.compile(r"(?:Job's|Build) log exceeded limit of (\d+) bytes\.")

#: The instructions that are build steps, for every builder: those BuildKit numbers
#: ``[i/total]`` and runs as vertices -- ``RUN``, ``COPY``, ``ADD``, ``WORKDIR`` (moby/buildkit
#: ``frontend/dockerfile/dockerfile2llb/convert.go``, ``buildDispatchStates``: ``cmdTotal``
#: counts ``AddCommand``, ``CopyCommand``, ``RunCommand``, ``WorkdirCommand`` besides the
#: base). The other instructions (``ENV``, ``ARG``, ``LABEL``, ``CMD``, ``EXPOSE``,
#: ``VOLUME``, ``USER``...) only change the image config: BuildKit never logs them, so the
#: classic builder's, buildah's and kaniko's headers for them are not counted either, and the
#: same build reads the same under every builder.
STEP_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})
#: every Dockerfile instruction (docs.docker.com "Dockerfile reference"): a kaniko line that
#: starts with one of these is the header of the instruction kaniko executes next
_INSTRUCTIONS = STEP_INSTRUCTIONS | frozenset({
    "FROM", "ARG", "ENV", "LABEL", "MAINTAINER", "CMD", "ENTRYPOINT", "EXPOSE", "VOLUME",
    "USER", "SHELL", "STOPSIGNAL", "HEALTHCHECK", "ONBUILD"})
BUILDERS = ("docker", "buildkit", "kaniko", "buildah")
OUTCOMES = ("hit", "partial", "miss", "unknown")


@dataclass(frozen=True)
class BuildLogResult:
    """What a build log says about its cache use.

    ``outcome``: hit, partial, miss or unknown; ``cached_steps`` / ``executed_steps``:
    build steps (``RUN``, ``COPY``, ``ADD``, ``WORKDIR``: :data:`STEP_INSTRUCTIONS`)
    restored from cache / run; ``builder``: docker, buildkit, kaniko, buildah, or None when
    no builder's markers were found. ``log_limit_bytes``: the runner's output limit the log
    was cut at (GitLab Runner ``output_limit``), None when the log is whole; a cut log's
    counts are lower bounds (:attr:`is_complete`). ``run_steps``: how many of the
    ``cached_steps + executed_steps`` are ``RUN`` instructions (kaniko's cached layers per
    cache key with its default flags; the model's ``run_steps``).
    """

    outcome: str
    cached_steps: int
    executed_steps: int
    builder: str | None
    log_limit_bytes: int | None = None
    run_steps: int = 0

    @property
    def is_complete(self) -> bool:
        """False when the runner cut the log: steps after the cut are not counted."""
        return self.log_limit_bytes is None

    def as_dict(self) -> dict:
        """The JSON form ``cachecost buildlog --json`` prints (``is_complete`` included)."""
        return {**asdict(self), "is_complete": self.is_complete}


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
                      ) -> tuple[int, int, int]:
    """Count steps headed by ``step`` lines; cached when a ``cached`` line follows.

    The instruction is the pattern's last group; only :data:`STEP_INSTRUCTIONS` count. A
    header repeated right after itself (same index and instruction, nothing in between) is
    the same step; a line is empty when nothing follows the width of the header's prefix.
    Returns (cached, executed, of them ``RUN``).
    """
    n_cached = n_exec = n_run = 0
    current: tuple | None = None
    is_cached = False
    seen_body = False
    prefix_len = 0

    def close() -> None:
        nonlocal n_cached, n_exec, n_run
        if current is not None and current[-1].upper() in STEP_INSTRUCTIONS:
            n_run += current[-1].upper() == "RUN"
            if is_cached:
                n_cached += 1
            else:
                n_exec += 1

    for line in lines:
        m = step.search(line)
        if m and _BUILDKIT_NESTED.search(line, 0, m.start()):
            m = None
        if m:
            if current == m.groups() and not seen_body:
                continue
            close()
            current, is_cached, seen_body = m.groups(), False, False
            prefix_len = m.start()
        elif current is not None:
            if cached.search(line):
                is_cached = True
            elif line[prefix_len:].strip():
                seen_body = True
    close()
    return n_cached, n_exec, n_run


def _count_buildkit(lines: list[str]) -> tuple[int, int, int]:
    """Count BuildKit vertices that are build steps: each ``#N`` once, per build.

    Returns (cached, executed, of them ``RUN``)."""
    build = 0
    instr: dict[tuple[int, str], str] = {}
    state: dict[tuple[int, str], str] = {}
    for line in lines:
        if _BUILDKIT_NEW_BUILD.search(line) and any(k[0] == build for k in instr):
            build += 1
        m = _BUILDKIT_STEP.search(line)
        if m:
            instr.setdefault((build, m.group(1)), m.group(5))
            continue
        m = _BUILDKIT_STATUS.search(line)
        if m:
            key = (build, m.group(1))
            word = m.group(2)
            if word == "CACHED" or state.get(key) not in ("CACHED", "DONE", "ERROR"):
                state[key] = word
            continue
        m = _BUILDKIT_OUTPUT.search(line)
        if m:
            state.setdefault((build, m.group(1)), "OUTPUT")
    n_cached = n_exec = n_run = 0
    for key, word in instr.items():
        if word.upper() not in STEP_INSTRUCTIONS:
            continue
        s = state.get(key)
        if s == "CACHED":
            n_cached += 1
        elif s in ("DONE", "ERROR", "OUTPUT"):
            n_exec += 1
        else:
            continue
        n_run += word.upper() == "RUN"
    return n_cached, n_exec, n_run


def _kaniko_message(line: str) -> str | None:
    """The message of a kaniko log line in any of its formats, behind any prefix (not
    inside a BuildKit vertex's output)."""
    if _BUILDKIT_NESTED.search(line):
        return None
    m = _KANIKO_INFO.search(line)
    if m:
        return line[m.end():].strip()
    m = _KANIKO_TEXT.search(line)
    if m is None and '{"' in line:
        m = _KANIKO_JSON.search(line)
    if m:
        return m.group(1).replace('\\"', '"').strip()
    return None


@dataclass
class _KanikoTally:
    """What kaniko's lines say, counted as they come (see :func:`_count_kaniko`)."""

    lookups_hit: int = 0        # "Using caching version of cmd"
    run_lookups_hit: int = 0    # ... of a RUN
    missed: int = 0             # "No cached layer found for cmd"
    running: int = 0            # "Running: [...]"
    old_cmd: int = 0            # old kaniko's "cmd: /bin/sh"
    markers: int = 0            # lines only kaniko prints
    steps_cached: int = 0       # step headers followed by "Found cached layer"
    steps_run: int = 0          # step headers not followed by it
    found: int = 0              # "Found cached layer, extracting to filesystem"
    run_headers: int = 0        # step headers of RUN instructions (cached or run)
    open_step: str = ""         # the last header's step instruction, not yet closed

    def header(self, word: str) -> None:
        self.close()
        self.open_step = word.upper() if word.upper() in STEP_INSTRUCTIONS else ""

    def close(self, cached: bool = False) -> None:
        if self.open_step:
            self.run_headers += self.open_step == "RUN"
            if cached:
                self.steps_cached += 1
            else:
                self.steps_run += 1
        self.open_step = ""


def _read_kaniko_message(msg: str, t: _KanikoTally, pushed: set[str]) -> None:
    if (c := _KANIKO_CACHED.match(msg)) is not None:
        t.lookups_hit += 1
        t.run_lookups_hit += (c.group(1) or "").upper() == "RUN"
    elif _KANIKO_FOUND.match(msg):
        t.found += 1
        t.close(cached=True)
    elif _KANIKO_MISSED.match(msg):
        t.missed += 1
    elif (p := _KANIKO_PUSHED.match(msg)) is not None:
        pushed.add(p.group(1))
    elif _KANIKO_RUNNING.match(msg):
        t.running += 1
    elif _KANIKO_OLD_CMD.match(msg):
        t.old_cmd += 1
    elif _KANIKO_MARKERS.match(msg):
        t.markers += 1
    elif (h := _KANIKO_INSTRUCTION.match(msg)) is not None and \
            h.group(1).upper() in _INSTRUCTIONS:
        t.header(h.group(1))


def _count_kaniko(lines: list[str]) -> tuple[int, int, int, bool]:
    """Count kaniko's cached and executed steps and, of them, ``RUN``; the flag says
    whether it is kaniko at all.

    kaniko (``pkg/executor/build.go`` ``stageBuilder.build``) logs every instruction it
    executes (``logrus.Info(command.String())``); a cached ``RUN`` (or ``COPY`` under
    ``--cache-copy-layers``) then logs ``Found cached layer, extracting to filesystem``
    (``pkg/commands/run.go`` ``CachingRunCommand.ExecuteCommand``, ``copy.go``
    ``CachingCopyCommand.ExecuteCommand``); any other step ran. Without the headers (a log
    cut short, an old kaniko) the cache lookups (``Using caching version of cmd``), the
    commands seen running and the distinct layers pushed bound the counts from below; the
    ``RUN`` steps then: the ``RUN`` lookups that hit plus the ``Running: [...]`` lines
    (``pkg/commands/run.go`` prints one per ``RUN`` it executes, none for a cached one).
    """
    t = _KanikoTally()
    pushed: set[str] = set()
    for line in lines:
        msg = _kaniko_message(line)
        if msg is not None:
            _read_kaniko_message(msg, t, pushed)
    t.close()
    cached = max(t.steps_cached, t.lookups_hit, t.found)
    executed = max(t.steps_run, len(pushed), t.running, t.old_cmd, t.missed)
    runs = max(t.run_headers, t.run_lookups_hit + t.running)
    is_kaniko = bool(t.lookups_hit or t.missed or pushed or t.markers or t.found)
    if not is_kaniko:
        return cached, 0, 0, False
    return cached, executed, runs, True


def log_limit_bytes(lines: list[str]) -> int | None:
    """The output limit GitLab Runner cut this log at, None when it was not cut."""
    for line in reversed(lines):
        m = _LOG_CUT.search(line)
        if m:
            return int(m.group(1))
    return None


def classify_build_log(text: str) -> BuildLogResult:
    """Classify one build log; the builder whose markers show the most steps wins."""
    lines = clean_log(text)
    kaniko = _count_kaniko(lines)
    counts = {
        "docker": _count_sequential(lines, _DOCKER_STEP, _DOCKER_CACHED),
        "buildkit": _count_buildkit(lines),
        "kaniko": kaniko[:3],
        "buildah": _count_sequential(lines, _BUILDAH_STEP, _BUILDAH_CACHED),
    }
    limit = log_limit_bytes(lines)
    builder, (cached, executed, runs) = max(counts.items(),
                                            key=lambda kv: kv[1][0] + kv[1][1])
    if cached + executed == 0:
        return BuildLogResult("unknown", 0, 0, "kaniko" if kaniko[3] else None, limit)
    return BuildLogResult(_outcome(cached, executed), cached, executed, builder, limit,
                          min(runs, cached + executed))
