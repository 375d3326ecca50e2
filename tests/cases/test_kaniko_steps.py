"""Case 02's kind: kaniko's steps after its first cache miss, with every kind of instruction.

kaniko (GoogleContainerTools/kaniko ``pkg/executor/build.go``) first walks the stage's
commands in ``stageBuilder.optimize`` and looks up the cache for each command whose
``ShouldCacheOutput()`` is true: ``RUN`` (``--cache-run-layers``, on by default) and
``COPY`` only under ``--cache-copy-layers`` (``pkg/commands/commands.go`` ``GetCommand``;
``ADD``, ``WORKDIR`` and the config-only commands keep ``BaseCommand``'s ``false``). Each
lookup prints ``Checking for cached layer <key>...`` (``pkg/cache/cache.go``), then ``Using
caching version of cmd: <cmd>`` on a hit or, at the first miss, ``No cached layer found for
cmd <cmd>`` -- after which ``stopCache`` is set and nothing more is looked up. Then
``stageBuilder.build`` logs every command as it executes it (``logrus.Info(command
.String())``): a cached one prints ``Found cached layer, extracting to filesystem``
(``pkg/commands/run.go``, ``copy.go``); a ``RUN`` that runs prints ``Cmd:``, ``Args:``,
``Running: [...]`` (``run.go``); a command that ran and is cacheable has its layer pushed:
``Pushing layer <key> to cache now`` (``pkg/executor/push.go``).

The project's rule (``collect/buildlog.py``, issue 22 and case 08): a step is a ``RUN``,
``COPY``, ``ADD`` or ``WORKDIR``; cached when served from cache, executed when it ran --
under kaniko, the steps its cache never covers always run. ``run_steps`` counts the
``RUN`` steps among them: what case 02's README counts ("0 / 3", "0 / 2"), kaniko's cached
layers per key. The logs below are synthetic, written here as kaniko prints them; each
count is worked by hand in its test's docstring.
"""

from __future__ import annotations

import json

import pytest

from cachecost.collect.buildlog import classify_build_log

#: FROM alpine / RUN a / WORKDIR /src / COPY . . / RUN b / RUN c / RUN d / RUN e /
#: ENV X=1 / CMD ["e"]
DOCKERFILE = ["RUN a", "WORKDIR /src", "COPY . .", "RUN b", "RUN c", "RUN d", "RUN e",
              "ENV X=1", 'CMD ["e"]']


def _cacheable(cmd: str, cache_copy: bool) -> bool:
    word = cmd.split()[0].upper()
    return word == "RUN" or (word == "COPY" and cache_copy)


def _executed_lines(cmd: str, key: str, cache_copy: bool) -> list[str]:
    """What kaniko prints for a command it executes (no cache)."""
    word = cmd.split()[0].upper()
    if word == "RUN":
        out = ["Cmd: /bin/sh", f"Args: [-c {cmd[4:]}]", f"Running: [/bin/sh -c {cmd[4:]}]",
               "Taking snapshot of full filesystem..."]
    elif word == "WORKDIR":
        out = ["Cmd: workdir", f"Changed working directory to {cmd.split()[1]}",
               "Taking snapshot of files..."]
    elif word in ("COPY", "ADD"):
        out = ["Taking snapshot of files..."]
    else:
        return ["No files changed in this command, skipping snapshotting."]
    if _cacheable(cmd, cache_copy):
        out.append(f"Pushing layer reg/cache:{key} to cache now")
    return out


def kaniko_log(cmds: list[str], hits: int, *, cache_copy: bool = False,
               fail_last: bool = False) -> str:
    """kaniko's default ("color") log of one stage: the first ``hits`` cacheable commands
    found in the cache, the next one missed (if any), every later one run."""
    keys = [f"{i:064x}" for i in range(len(cmds))]
    out = ["Retrieving image manifest alpine:3.20", "Executing 0 build triggers",
           "Building stage 'alpine:3.20' [idx: '0', base-idx: '-1']"]
    cached: set[int] = set()
    for i, c in enumerate(cmds):                      # optimize: the lookups
        if not _cacheable(c, cache_copy):
            continue
        out.append(f"Checking for cached layer reg/cache:{keys[i]}...")
        if len(cached) == hits:
            out.append(f"No cached layer found for cmd {c}")
            break
        out.append(f"Using caching version of cmd: {c}")
        cached.add(i)
    out.append(f"Unpacking rootfs as cmd {cmds[0]} requires it.")
    for i, c in enumerate(cmds):                      # build: every command in order
        out.append(c)
        if i in cached:
            out.append("Found cached layer, extracting to filesystem")
            continue
        lines = _executed_lines(c, keys[i], cache_copy)
        if fail_last and i == len(cmds) - 1:
            out += lines[:3]
            return "\n".join(f"INFO[0002] {x}" for x in out) + (
                "\nerror building image: error building stage: failed to execute command: "
                "waiting for process to exit: exit status 1\n")
        out += lines
    out.append("Pushing image to reg/app:latest")
    return "\n".join(f"INFO[0002] {x}" for x in out) + "\n"


def _read(text: str) -> tuple:
    r = classify_build_log(text)
    return r.builder, r.outcome, r.cached_steps, r.executed_steps, r.run_steps


def test_hit_hit_miss_run_run() -> None:
    """Default flags; RUN a and RUN b hit, RUN c misses: RUN c, d, e run after it (kaniko
    looks nothing up after the first miss). WORKDIR and COPY run in every kaniko build
    (never cacheable without --cache-copy-layers). Cached: RUN a, RUN b = 2. Executed:
    WORKDIR, COPY, RUN c, RUN d, RUN e = 5. RUN steps: a..e = 5 (2 cached, 3 executed: case
    02's count). ENV and CMD are no steps. partial."""
    assert _read(kaniko_log(DOCKERFILE, 2)) == ("kaniko", "partial", 2, 5, 5)


def test_miss_at_the_first_lookup() -> None:
    """RUN a misses: one "No cached layer" line, then everything runs. Cached 0; executed
    RUN a, WORKDIR, COPY, RUN b..e = 7; RUN 5; miss (case 02's first log in small)."""
    text = kaniko_log(DOCKERFILE, 0)
    assert text.count("No cached layer found") == 1
    assert text.count("to cache now") == 5
    assert _read(text) == ("kaniko", "miss", 0, 7, 5)


def test_every_lookup_hits_but_workdir_and_copy_ran() -> None:
    """All 5 RUNs hit (no miss line); WORKDIR and COPY ran: cached 5, executed 2, partial --
    the same build reads partial under BuildKit (case 08's kind). RUN 5."""
    assert _read(kaniko_log(DOCKERFILE, 5)) == ("kaniko", "partial", 5, 2, 5)


def test_all_hits_runs_only() -> None:
    """FROM / RUN a / RUN b / RUN c / ENV / CMD, all three RUNs hit: hit 3 / 0, RUN 3."""
    cmds = ["RUN a", "RUN b", "RUN c", "ENV X=1", 'CMD ["c"]']
    assert _read(kaniko_log(cmds, 3)) == ("kaniko", "hit", 3, 0, 3)


@pytest.mark.parametrize("hits, want", [
    # lookups RUN a, COPY, RUN b hit; RUN c misses; RUN c, d, e run and push. Cached: RUN a,
    # COPY, RUN b = 3; executed: WORKDIR, RUN c, d, e = 4; RUN 5
    (3, ("kaniko", "partial", 3, 4, 5)),
    # RUN a hits, COPY misses: COPY and every later command run, COPY pushed too (5 pushes).
    # Cached: RUN a = 1; executed: WORKDIR, COPY, RUN b..e = 6; RUN 5
    (1, ("kaniko", "partial", 1, 6, 5)),
    # all 6 lookups hit (5 RUN + COPY); only WORKDIR ran: 6 / 1, RUN 5
    (6, ("kaniko", "partial", 6, 1, 5)),
])
def test_cache_copy_layers(hits, want) -> None:
    """--cache-copy-layers: COPY is looked up and pushed like a RUN (ShouldCacheOutput)."""
    text = kaniko_log(DOCKERFILE, hits, cache_copy=True)
    assert ("Using caching version of cmd: COPY . ." in text) == (hits >= 2)
    assert _read(text) == want


def test_cache_copy_layers_copy_only_build_is_a_hit() -> None:
    """FROM / COPY a / COPY b / ENV, --cache-copy-layers, both COPYs hit: hit 2 / 0, no RUN."""
    cmds = ["COPY a /a", "COPY b /b", "ENV X=1"]
    assert _read(kaniko_log(cmds, 2, cache_copy=True)) == ("kaniko", "hit", 2, 0, 0)


def test_failed_last_run() -> None:
    """RUN a hits, RUN b misses; RUN b, c, d run and push; RUN e runs ("Running:") and fails,
    never pushed (3 pushes). Cached: RUN a = 1; executed: WORKDIR, COPY, RUN b, c, d, e = 6;
    RUN 5."""
    cmds = DOCKERFILE[:7]
    text = kaniko_log(cmds, 1, fail_last=True)
    assert text.count("to cache now") == 3 and text.count("Running: [") == 4
    assert _read(text) == ("kaniko", "partial", 1, 6, 5)


def test_add_is_never_cached_by_kaniko() -> None:
    """FROM / ADD https://x/t.tgz /t / RUN a / RUN b: both RUNs hit, ADD ran (kaniko's
    AddCommand has no cache, even under --cache-copy-layers): partial 2 / 1, RUN 2."""
    cmds = ["ADD https://x/t.tgz /t", "RUN a", "RUN b"]
    for copy in (False, True):
        assert _read(kaniko_log(cmds, 2, cache_copy=copy)) == ("kaniko", "partial", 2, 1, 2)


def test_lower_case_dockerfile() -> None:
    """The same build as :func:`test_hit_hit_miss_run_run` from a lower-case Dockerfile
    (kaniko logs each command as written): 2 / 5, RUN 5."""
    cmds = [c.split()[0].lower() + c[len(c.split()[0]):] for c in DOCKERFILE]
    assert _read(kaniko_log(cmds, 2)) == ("kaniko", "partial", 2, 5, 5)


def _format(text: str, fmt: str) -> str:
    """kaniko's ``--log-format`` / ``--log-timestamp`` forms of its default lines."""
    out = []
    for line in text.splitlines():
        if not line.startswith("INFO["):
            out.append(line)
            continue
        msg = line.split("] ", 1)[1]
        if fmt == "timestamp":
            out.append(f"INFO[2024-05-16T17:52:43Z] {msg}")
        elif fmt == "text":
            esc = msg.replace('"', '\\"')
            out.append(f'time="2024-05-16T17:52:43Z" level=info msg="{esc}"')
        else:
            out.append(json.dumps({"level": "info", "msg": msg, "time": "2024-05-16T17:52:43Z"}))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("fmt", ["timestamp", "text", "json"])
@pytest.mark.parametrize("hits, copy, want", [
    (2, False, ("kaniko", "partial", 2, 5, 5)),     # test_hit_hit_miss_run_run
    (0, False, ("kaniko", "miss", 0, 7, 5)),        # test_miss_at_the_first_lookup
    (3, True, ("kaniko", "partial", 3, 4, 5)),      # test_cache_copy_layers, 3 hits
])
def test_other_log_formats(fmt, hits, copy, want) -> None:
    """The same builds in kaniko's other formats read the same."""
    assert _read(_format(kaniko_log(DOCKERFILE, hits, cache_copy=copy), fmt)) == want


def test_without_step_headers_runs_from_lookups_and_running_lines() -> None:
    """A log that kept only kaniko's cache and run lines (no instruction headers, as a
    collector that filters on keywords prints it): RUN a and RUN b hit (2 lookups); RUN c
    missed; 3 "Running:" lines (RUN c, d, e) and 3 pushes. Cached 2, executed 3 (the lower
    bound the lines give); RUN 2 + 3 = 5."""
    keep = ("Using caching version", "No cached layer", "Running: [", "to cache now")
    text = "\n".join(x for x in kaniko_log(DOCKERFILE, 2).splitlines()
                     if any(k in x for k in keep)) + "\n"
    assert _read(text) == ("kaniko", "partial", 2, 3, 5)


def test_two_stages_each_looks_up_its_own_cache() -> None:
    """A multi-stage build: kaniko runs ``optimize`` per stage, so each stage has its own
    lookups and its own first miss. Stage 0: RUN a, RUN b hit (2 cached). Stage 1: RUN c
    misses, COPY --from=0 and RUN d run after it (3 executed). Cached 2, executed 3; RUN
    a, b, c, d = 4; partial."""
    stage0 = kaniko_log(["RUN a", "RUN b"], 2)
    stage1 = kaniko_log(["RUN c", "COPY --from=0 /out /out", "RUN d"], 0)
    text = stage0 + "INFO[0003] Saving file out for later use\nINFO[0003] Deleting filesystem...\n"
    assert _read(text + stage1) == ("kaniko", "partial", 2, 3, 4)
