"""Kinds 1 and 2 of issue 11: builder step headers in every form, kaniko after its first miss.

The cases' logs (tests/cases/01-*, 02-*, 03-*/trace_*.log; see each README) are real logs
with values counted by hand; the variants below are written here, each with its count
worked out in its comment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cachecost.cli import main
from cachecost.collect.buildlog import classify_build_log, clean_log

HERE = Path(__file__).parent


def _read(rel: str) -> str:
    return (HERE / rel).read_text(encoding="utf-8")


# ------------------------------------------------------------------ the cases
@pytest.mark.parametrize("rel, builder, outcome, cached, executed, runs", [
    # 12-step Dockerfile: [ 2/12]..[ 7/12] CACHED (6), [ 8/12] ERROR (ran, failed: 1);
    # RUN at 2, 3, 6, 7, 8 (4 WORKDIR, 5 COPY): 5 RUN
    ("01-buildkit-padded-step-numbers/buildkit-12-steps-failed.log",
     "buildkit", "partial", 6, 1, 5),
    # [ 2/11]..[ 6/11] CACHED (5), [ 7/11]..[11/11] DONE (5); FROM [ 1/11] is no step;
    # RUN at 2, 4, 6, 8, 11 (3 WORKDIR, 5/7/9/10 COPY): 5
    ("01-buildkit-padded-step-numbers/buildkit-11-steps-succeeded.log",
     "buildkit", "partial", 5, 5, 5),
    # first miss at RUN addgroup; RUN chown, RUN yarn install run after it (3 RUN, 3
    # pushes: the README's "0 / 3" counts these, kaniko's cacheable commands), and WORKDIR,
    # COPY package.json, COPY yarn.lock, COPY . ran too (kaniko never caches them without
    # --cache-copy-layers): 7 executed steps, 3 of them RUN. ENV, EXPOSE, USER, CMD change
    # the config only.
    ("02-kaniko-steps-after-first-miss/kaniko-miss-then-three-runs.log",
     "kaniko", "miss", 0, 7, 3),
    # RUN chmod (missed, ran, pushed) and RUN ./gradlew (ran, failed, never pushed): the
    # README's "0 / 2"; plus WORKDIR /app and four COPYs: 7 executed, 2 of them RUN
    ("02-kaniko-steps-after-first-miss/kaniko-miss-second-run-failed.log",
     "kaniko", "miss", 0, 7, 2),
    # runner timestamps + sections; [builder 2/4], [builder 3/4], [builder 4/4] and
    # [stage-1 2..8/9] CACHED (3 + 7 = 10); [stage-1 9/9] DONE (1); RUN at builder 2/4,
    # 4/4 and stage-1 5/9, 8/9: 4
    ("03-child-pipelines/trace_1001.log", "buildkit", "partial", 10, 1, 4),
])
def test_case_logs(rel, builder, outcome, cached, executed, runs) -> None:
    r = classify_build_log(_read(rel))
    assert (r.builder, r.outcome, r.cached_steps, r.executed_steps, r.run_steps) == (
        builder, outcome, cached, executed, runs)


# ------------------------------------------------------------------ kind 1 variants
def _bk(header_fmt: str, n: int, cached: int) -> str:
    """A BuildKit log of ``n`` instructions (FROM + n-1 RUN), the first ``cached`` RUN cached."""
    w = len(str(n))
    out = ["#0 building with \"default\" instance using docker driver",
           "#1 [internal] load build definition from Dockerfile", "#1 DONE 0.0s",
           f"#2 {header_fmt.format(i=f'{1:>{w}}', n=n)} FROM docker.io/library/debian:12",
           "#2 DONE 0.1s"]
    for k in range(2, n + 1):
        v = k + 1
        out.append(f"#{v} {header_fmt.format(i=f'{k:>{w}}', n=n)} RUN step{k}")
        out += [f"#{v} CACHED"] if k - 1 <= cached else [f"#{v} 0.5 out", f"#{v} DONE 1.0s"]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("fmt", ["[{i}/{n}]", "[stage-1 {i}/{n}]",
                                 "[linux/arm64 builder {i}/{n}]", "[linux/amd64 {i}/{n}]"],
                         ids=["padded", "stage", "platform+stage", "platform"])
@pytest.mark.parametrize("n, cached", [(18, 7), (12, 11), (9, 0), (100, 50)])
def test_buildkit_headers_every_form(fmt, n, cached) -> None:
    """n instructions = FROM + (n-1) steps; ``cached`` of them CACHED, the rest DONE."""
    r = classify_build_log(_bk(fmt, n, cached))
    assert (r.builder, r.cached_steps, r.executed_steps) == ("buildkit", cached, n - 1 - cached)
    assert r.outcome == ("hit" if cached == n - 1 else "miss" if cached == 0 else "partial")


def test_buildkit_repeated_headers_count_once() -> None:
    """#5 printed three times (output interleaved with #6): still one executed step.

    Steps: #4 CACHED, #5 DONE, #6 DONE -> 1 cached, 2 executed.
    """
    text = ("#3 [1/4] FROM alpine\n#3 DONE 0s\n#4 [2/4] RUN a\n#4 CACHED\n"
            "#5 [3/4] RUN b\n#5 0.1 x\n#6 [4/4] RUN c\n#6 0.2 y\n"
            "#5 [3/4] RUN b\n#5 0.3 z\n#6 [4/4] RUN c\n#6 DONE 1s\n"
            "#5 [3/4] RUN b\n#5 DONE 2s\n")
    r = classify_build_log(text)
    assert (r.cached_steps, r.executed_steps) == (1, 2)


def test_buildkit_error_and_cut_short_count_as_executed_canceled_not() -> None:
    """#4 CACHED; #5 ERROR (ran); #6 output, no end (ran); #7 CANCELED before output (no)."""
    text = ("#3 [ 1/10] FROM alpine\n#4 [ 2/10] RUN a\n#4 CACHED\n"
            "#5 [ 3/10] RUN b\n#5 ERROR: process did not complete\n"
            "#6 [ 4/10] RUN c\n#6 1.234 compiling\n"
            "#7 [ 5/10] RUN d\n#7 CANCELED\n")
    r = classify_build_log(text)
    assert (r.outcome, r.cached_steps, r.executed_steps) == ("partial", 1, 2)


def test_buildkit_two_builds_in_one_job() -> None:
    """Two builds, vertex numbers restart: 2 cached (first) + 3 executed (second)."""
    r = classify_build_log(_bk("[{i}/{n}]", 3, 2) + _bk("[{i}/{n}]", 4, 0))
    assert (r.cached_steps, r.executed_steps) == (2, 3)


@pytest.mark.parametrize("text, builder, cached, executed", [
    # podman with a stage prefix: 2 stages; FROMs skipped; 2/4 and 3/4 cached, 4/4 ran,
    # stage 2's 2/2 ran -> 2 cached, 2 executed
    ("[1/2] STEP 1/4: FROM fedora:40 AS build\n[1/2] STEP 2/4: RUN dnf -y install gcc\n"
     "--> Using cache 1a2b\n--> 1a2b\n[1/2] STEP 3/4: COPY . /src\n--> Using cache 3c4d\n"
     "[1/2] STEP 4/4: RUN make\nbuilding\n--> 5e6f\n[2/2] STEP 1/2: FROM fedora:40\n"
     "[2/2] STEP 2/2: COPY --from=build /src/out /bin\n--> 7a8b\n[2/2] COMMIT x\n",
     "buildah", 2, 2),
    # old buildah: "STEP n:" with no total, its last step a COMMIT (no build step):
    # 1 cached, 1 ran
    ("STEP 1: FROM alpine\nSTEP 2: RUN apk add gcc\n--> Using cache 99aa\n"
     "STEP 3: RUN make\nmake output\nSTEP 4: COMMIT img\n", "buildah", 1, 1),
    # classic builder with 12 steps: steps 2-5 cached, 6-12 run (7)
    ("".join(f"Step {k}/12 : {'FROM debian' if k == 1 else f'RUN s{k}'}\n"
             + (" ---> Using cache\n" if 2 <= k <= 5 else f" ---> Running in {k:012x}\n")
             + f" ---> {k:012x}\n" for k in range(1, 13)), "docker", 4, 7),
    # very old classic builder: "Step 2 : RUN"
    ("Step 1 : FROM ubuntu\n ---> 1\nStep 2 : RUN a\n ---> Using cache\n ---> 2\n"
     "Step 3 : RUN b\n ---> Running in 3\n ---> 4\n", "docker", 1, 1),
])
def test_other_builders_headers(text, builder, cached, executed) -> None:
    r = classify_build_log(text)
    assert (r.builder, r.cached_steps, r.executed_steps) == (builder, cached, executed)


def test_gitlab_framing_removed_first() -> None:
    """Timestamps (with a '+' continuation), sections, colours and \\r overwrites.

    The header "#4 [ 2/12] RUN a" arrives split in two chunks (the second a '+'
    continuation); "#4 CACHED" is drawn over a progress line with \\r. 1 cached, 1 executed.
    """
    ts = "2024-05-16T17:52:43.{:06d}Z {}"
    raw = "\n".join([
        ts.format(1, "00O ") + "\x1b[0Ksection_start:1706626773:step_script\r\x1b[0K",
        ts.format(2, "00O+") + "\x1b[0K\x1b[36;1mExecuting step_script\x1b[0;m",
        ts.format(3, "01O ") + "#3 [ 1/12] FROM alpine",
        ts.format(4, "01O ") + "#4 [ 2/1",
        ts.format(5, "01O+") + "2] RUN a",
        ts.format(6, "01O ") + "#4 resolving 10%\r#4 CACHED",
        ts.format(7, "01E ") + "\x1b[31m#5 [ 3/12] RUN b\x1b[0m",
        ts.format(8, "01O ") + "#5 DONE 3.0s",
        ts.format(9, "00O ") + "\x1b[0Ksection_end:1706626783:step_script\r\x1b[0K",
    ]) + "\n"
    lines = clean_log(raw)
    assert "#4 [ 2/12] RUN a" in lines and "#4 CACHED" in lines
    assert "Executing step_script" in lines
    assert not any("\x1b" in x or "section_" in x or "\r" in x or x.startswith("2024-")
                   for x in lines)
    r = classify_build_log(raw)
    assert (r.builder, r.outcome, r.cached_steps, r.executed_steps) == (
        "buildkit", "partial", 1, 1)


# ------------------------------------------------------------------ kind 2 variants
def _kaniko(cmds: list[str], hits: int, *, fail_last: bool = False, old: bool = False) -> str:
    """kaniko's lines as pkg/executor/build.go prints them: lookup until the first miss."""
    out = ["INFO[0000] Retrieving image manifest debian:12"]
    for i, c in enumerate(cmds):
        out.append(f"INFO[0001] Checking for cached layer reg/cache:{i:064x}...")
        if i < hits:
            out.append(f"INFO[0001] Using caching version of cmd: {c}")
        else:
            out.append(f"INFO[0001] No cached layer found for cmd {c}")
            break
    for i, c in enumerate(cmds):
        out.append(f"INFO[0002] {c}")
        if i < hits:
            out.append("INFO[0002] Found cached layer, extracting to filesystem")
            continue
        out += (["INFO[0002] cmd: /bin/sh", f"INFO[0002] args: [-c {c[4:]}]"] if old else
                ["INFO[0002] Cmd: /bin/sh", f"INFO[0002] Running: [/bin/sh -c {c[4:]}]"])
        if fail_last and i == len(cmds) - 1:
            out.append("error building image: exit status 1")
            break
        out.append(f"INFO[0003] Pushing layer reg/cache:{i:064x} to cache now")
    return "\n".join(out) + "\n"


CMDS = [f"RUN step{i}" for i in range(6)]


@pytest.mark.parametrize("hits, fail_last, old, cached, executed", [
    (6, False, False, 6, 0),    # every lookup hits: hit 6/0
    (2, False, False, 2, 4),    # miss at the 3rd: 3rd..6th run -> 2 / 4
    (0, False, False, 0, 6),    # miss at the 1st, one "No cached layer" line, 6 run
    (0, True, False, 0, 6),     # ... the 6th fails: 5 pushes, 6 "Running" -> 6 executed
    (3, False, True, 3, 3),     # old kaniko ("cmd: /bin/sh"): 3 / 3
])
def test_kaniko_after_first_miss(hits, fail_last, old, cached, executed) -> None:
    r = classify_build_log(_kaniko(CMDS, hits, fail_last=fail_last, old=old))
    assert (r.builder, r.cached_steps, r.executed_steps) == ("kaniko", cached, executed)


@pytest.mark.parametrize("fmt", ["timestamp", "text", "json"])
def test_kaniko_log_formats(fmt) -> None:
    """The same build (2 hits, miss at the 3rd, 4 commands run) in kaniko's other formats."""
    def conv(line: str) -> str:
        if not line.startswith("INFO["):
            return line
        msg = line.split("] ", 1)[1]
        if fmt == "timestamp":
            return f"INFO[2024-05-16T17:52:43Z] {msg}"
        if fmt == "text":
            return f'time="2024-05-16T17:52:43Z" level=info msg="{msg}"'
        return json.dumps({"level": "info", "msg": msg, "time": "2024-05-16T17:52:43Z"})
    text = "\n".join(conv(x) for x in _kaniko(CMDS, 2).splitlines())
    r = classify_build_log(text)
    assert (r.builder, r.cached_steps, r.executed_steps) == ("kaniko", 2, 4)


# ------------------------------------------------------------------ the command
def test_buildlog_command_json_one_object_per_file(capsys) -> None:
    files = [str(HERE / "01-buildkit-padded-step-numbers/buildkit-11-steps-succeeded.log"),
             str(HERE / "02-kaniko-steps-after-first-miss/kaniko-miss-then-three-runs.log")]
    assert main(["buildlog", *files, "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["file"], r["builder"], r["outcome"], r["cached_steps"], r["executed_steps"],
             r["run_steps"]) for r in rows] == [(files[0], "buildkit", "partial", 5, 5, 5),
                                                (files[1], "kaniko", "miss", 0, 7, 3)]


def test_buildlog_command_text(capsys) -> None:
    f = str(HERE / "01-buildkit-padded-step-numbers/buildkit-12-steps-failed.log")
    assert main(["buildlog", f]) == 0
    assert capsys.readouterr().out == (
        f"{f}: buildkit, partial, 6 cached / 1 executed steps, 5 of them RUN\n")


def test_buildlog_command_text_case_02(capsys) -> None:
    """Case 02's first log: 7 executed steps, the 3 RUNs its README counts among them."""
    f = str(HERE / "02-kaniko-steps-after-first-miss/kaniko-miss-then-three-runs.log")
    assert main(["buildlog", f]) == 0
    assert capsys.readouterr().out == (
        f"{f}: kaniko, miss, 0 cached / 7 executed steps, 3 of them RUN\n")


@pytest.mark.parametrize("make", ["missing", "directory", "binary"])
def test_buildlog_command_bad_file_one_line_exit_2(make, tmp_path, capsys) -> None:
    target = tmp_path / "x.log"
    if make == "directory":
        target.mkdir()
    elif make == "binary":
        target.write_bytes(b"\x7fELF\x00\x00\x01")
    assert main(["buildlog", str(target)]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.count("\n") == 1 and str(target) in out.err and "Traceback" not in out.err
