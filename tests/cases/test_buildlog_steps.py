"""Issue 22 kinds 2 and 3: one step rule for every builder, builder lines behind a prefix,
logs cut at the runner's size limit.

Cases 08 and 09 (``tests/cases/08-*``, ``09-*``; see each README) are real kaniko logs
counted by hand. The variants below are written here (synthetic logs in each builder's
format, as its source prints them), each with its count worked out in its comment. The rule:
a build step is a ``RUN``, ``COPY``, ``ADD`` or ``WORKDIR`` (what BuildKit numbers
``[i/total]``); it is cached when the builder says it restored it from cache, executed when
it ran; ``FROM`` and config-only instructions (``ENV``, ``CMD``, ``EXPOSE``...) are no steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cachecost.cli import main
from cachecost.collect.buildlog import classify_build_log

HERE = Path(__file__).parent
CASE_08 = HERE / "08-kaniko-steps-that-are-not-run/kaniko-run-cached-copy-executed.log"
CASE_09 = HERE / "09-builder-lines-behind-a-prefix/do-app-platform-kaniko-framed.log"


def _counts(text: str) -> tuple:
    r = classify_build_log(text)
    return r.builder, r.outcome, r.cached_steps, r.executed_steps


# ------------------------------------------------------------------ the cases
def test_case_08_kaniko_copy_and_workdir_ran() -> None:
    """RUN pip install came from cache ("Found cached layer"); WORKDIR /usr/src/app,
    COPY requirements.txt ./ and COPY . . ran; CMD, EXPOSE, VOLUME change the config only.
    1 cached, 3 executed: partial (cachecost read hit, 1 / 0, before). 1 RUN step."""
    assert _counts(CASE_08.read_text(encoding="utf-8")) == ("kaniko", "partial", 1, 3)
    assert classify_build_log(CASE_08.read_text(encoding="utf-8")).run_steps == 1


def test_case_09_kaniko_behind_app_platform_frame() -> None:
    """Every line behind ``Jul 20 11:08:45  │ ``. RUN apk add and RUN npm install cached;
    WORKDIR /frontend, COPY package*.json ./, COPY . . ran, RUN ... npm run build ran and
    failed: 2 cached, 4 executed (ARG/ENV are no steps). Before: unknown, no builder.
    RUN steps: apk add, npm install, npm run build = 3 (the README's "2 / >=1" in RUNs)."""
    assert _counts(CASE_09.read_text(encoding="utf-8")) == ("kaniko", "partial", 2, 4)
    assert classify_build_log(CASE_09.read_text(encoding="utf-8")).run_steps == 3


# ------------------------------------------------------------------ one rule, four builders
# One Dockerfile: FROM / RUN apk add (cached) / WORKDIR /app (ran) / COPY . . (ran) /
# ENV PORT=8080 / CMD ["app"]. Each builder's log of that build, as it prints it. The steps:
# RUN cached, WORKDIR and COPY executed -> partial, 1 cached / 2 executed, under all four;
# the classic builder's and buildah's ENV and CMD headers are no steps.
SAME_BUILD = {
    "docker": ["Step 1/6 : FROM alpine:3.20", " ---> 1111aaaa",
               "Step 2/6 : RUN apk add gcc", " ---> Using cache", " ---> 2222bbbb",
               "Step 3/6 : WORKDIR /app", " ---> Running in 3333cccc",
               " ---> 4444dddd", "Step 4/6 : COPY . .", " ---> 5555eeee",
               "Step 5/6 : ENV PORT=8080", " ---> Running in 6666ffff", " ---> 7777aaaa",
               'Step 6/6 : CMD ["app"]', " ---> Running in 8888bbbb", " ---> 9999cccc",
               "Successfully built 9999cccc"],
    "buildkit": ["#0 building with \"default\" instance using docker driver",
                 "#1 [internal] load build definition from Dockerfile", "#1 DONE 0.0s",
                 "#5 [1/4] FROM docker.io/library/alpine:3.20", "#5 DONE 0.0s",
                 "#6 [2/4] RUN apk add gcc", "#6 CACHED",
                 "#7 [3/4] WORKDIR /app", "#7 DONE 0.0s",
                 "#8 [4/4] COPY . .", "#8 DONE 0.1s",
                 "#9 exporting to image", "#9 DONE 0.2s"],
    "kaniko": ["INFO[0000] Retrieving image manifest alpine:3.20",
               "INFO[0001] Checking for cached layer reg/cache:ab12...",
               "INFO[0001] Using caching version of cmd: RUN apk add gcc",
               "INFO[0001] Unpacking rootfs as cmd COPY . . requires it.",
               "INFO[0002] RUN apk add gcc",
               "INFO[0002] Found cached layer, extracting to filesystem",
               "INFO[0003] WORKDIR /app", "INFO[0003] Cmd: workdir",
               "INFO[0003] Changed working directory to /app",
               "INFO[0003] Taking snapshot of files...",
               "INFO[0003] COPY . .", "INFO[0003] Taking snapshot of files...",
               "INFO[0003] ENV PORT=8080",
               "INFO[0003] No files changed in this command, skipping snapshotting.",
               'INFO[0003] CMD ["app"]',
               "INFO[0003] No files changed in this command, skipping snapshotting."],
    "buildah": ["STEP 1/6: FROM alpine:3.20", "STEP 2/6: RUN apk add gcc",
                "--> Using cache 2222bbbb", "--> 2222bbbb", "STEP 3/6: WORKDIR /app",
                "--> 3333cccc", "STEP 4/6: COPY . .", "--> 4444dddd",
                "STEP 5/6: ENV PORT=8080", "--> 5555eeee", 'STEP 6/6: CMD ["app"]',
                "COMMIT app", "--> 6666ffff"],
}

# Same Dockerfile without WORKDIR/COPY: FROM / RUN a (cached) / RUN b (cached) / ENV X=$V /
# CMD. The RUNs hit; ENV and CMD were re-done (a new build arg) -- config only, so every
# builder reads hit, 2 cached / 0 executed (the classic builder read partial 2 / 2 before).
RUNS_HIT_CONFIG_CHANGED = {
    "docker": ["Step 1/5 : FROM alpine", " ---> 1", "Step 2/5 : RUN a", " ---> Using cache",
               " ---> 2", "Step 3/5 : RUN b", " ---> Using cache", " ---> 3",
               "Step 4/5 : ENV X=2", " ---> Running in 4", " ---> 5",
               'Step 5/5 : CMD ["b"]', " ---> Running in 6", " ---> 7"],
    "buildkit": ["#4 [1/3] FROM docker.io/library/alpine", "#4 DONE 0s",
                 "#5 [2/3] RUN a", "#5 CACHED", "#6 [3/3] RUN b", "#6 CACHED"],
    "kaniko": ["INFO[0001] Using caching version of cmd: RUN a",
               "INFO[0001] Using caching version of cmd: RUN b",
               "INFO[0002] RUN a", "INFO[0002] Found cached layer, extracting to filesystem",
               "INFO[0002] RUN b", "INFO[0002] Found cached layer, extracting to filesystem",
               "INFO[0002] ENV X=2", 'INFO[0002] CMD ["b"]'],
    "buildah": ["STEP 1/5: FROM alpine", "STEP 2/5: RUN a", "--> Using cache 2", "--> 2",
                "STEP 3/5: RUN b", "--> Using cache 3", "--> 3", "STEP 4/5: ENV X=2",
                "--> 4", 'STEP 5/5: CMD ["b"]', "COMMIT x", "--> 5"],
}


@pytest.mark.parametrize("builder", sorted(SAME_BUILD))
def test_one_rule_every_builder(builder) -> None:
    """... and one RUN step (RUN apk add) under every builder."""
    text = "\n".join(SAME_BUILD[builder]) + "\n"
    assert _counts(text) == (builder, "partial", 1, 2)
    assert classify_build_log(text).run_steps == 1


@pytest.mark.parametrize("builder", sorted(RUNS_HIT_CONFIG_CHANGED))
def test_config_only_instructions_are_no_steps(builder) -> None:
    text = "\n".join(RUNS_HIT_CONFIG_CHANGED[builder]) + "\n"
    assert _counts(text) == (builder, "hit", 2, 0)


def test_kaniko_lower_case_dockerfile_and_cached_copy() -> None:
    """A Dockerfile in lower case (kaniko logs each instruction as written) built with
    ``--cache-copy-layers``: ``copy . .`` restored from cache, ``run make`` cached,
    ``workdir /src`` ran, ``run make test`` ran: 2 cached, 2 executed. ``Cmd: workdir`` and
    ``Args: [...]`` lines are no headers."""
    text = "\n".join([
        "INFO[0001] Using caching version of cmd: copy . .",
        "INFO[0001] Using caching version of cmd: run make",
        "INFO[0001] No cached layer found for cmd run make test",
        "INFO[0002] workdir /src", "INFO[0002] Cmd: workdir",
        "INFO[0002] copy . .", "INFO[0002] Found cached layer, extracting to filesystem",
        "INFO[0003] run make", "INFO[0003] Found cached layer, extracting to filesystem",
        "INFO[0004] run make test", "INFO[0004] Cmd: /bin/sh",
        "INFO[0004] Args: [-c make test]", "INFO[0004] Running: [/bin/sh -c make test]",
        "INFO[0009] Pushing layer reg/cache:ff00 to cache now"]) + "\n"
    assert _counts(text) == ("kaniko", "partial", 2, 2)


# ------------------------------------------------------------------ prefixes
PREFIXES = {
    "app-platform": lambda i: f"Jul 20 11:{8 + i // 60:02d}:{i % 60:02d}  │ ",
    "tekton": lambda i: "[build-image : build-and-push] ",
    "cloud-build": lambda i: "Step #0: ",
    "cloud-build-named": lambda i: 'Step #1 - "docker-build": ',
    "kubectl": lambda i: "[pod/build-7f9c2-x4kq/kaniko] ",
    "compose": lambda i: "builder-1  | ",
    "sed": lambda i: "build| ",
    "iso-time": lambda i: f"2024-07-20T11:08:{i % 60:02d}.123Z ",
}


def _kaniko_formats(lines: list[str], fmt: str) -> list[str]:
    """kaniko's ``color`` lines as its ``text`` or ``json`` formatter prints them."""
    out = []
    for line in lines:
        if not line.startswith("INFO["):
            out.append(line)
            continue
        msg = line.split("] ", 1)[1]
        out.append(f'time="2024-07-20T11:08:45Z" level=info msg="{msg.replace(chr(34), chr(92) + chr(34))}"'
                   if fmt == "text" else
                   json.dumps({"level": "info", "msg": msg, "time": "2024-07-20T11:08:45Z"}))
    return out


BUILDS = {**SAME_BUILD,
          "kaniko-text": _kaniko_formats(SAME_BUILD["kaniko"], "text"),
          "kaniko-json": _kaniko_formats(SAME_BUILD["kaniko"], "json"),
          "buildah-stages": [f"[1/1] {x}" if x.startswith("STEP") else x
                             for x in SAME_BUILD["buildah"]]}


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
@pytest.mark.parametrize("build", sorted(BUILDS))
def test_a_line_prefix_never_hides_a_builder_line(build, prefix) -> None:
    """Every line of the four-builder build behind a collector's prefix: still partial 1/2."""
    lines = [PREFIXES[prefix](i) + line for i, line in enumerate(BUILDS[build])]
    builder = build.split("-")[0]
    assert _counts("\n".join(lines) + "\n") == (builder, "partial", 1, 2)


def test_prefixed_repeated_header_counts_once() -> None:
    """A classic header printed twice with only an empty prefixed line between: one step.

    Step 2/3 RUN a (cached) + Step 3/3 RUN b (ran): 1 cached, 1 executed."""
    p = "Jul 20 11:08:45  │ "
    text = "\n".join(p + x for x in [
        "Step 1/3 : FROM alpine", " ---> 1", "Step 2/3 : RUN a", "", "Step 2/3 : RUN a",
        " ---> Using cache", " ---> 2", "Step 3/3 : RUN b", " ---> Running in 3", " ---> 4"])
    assert _counts(text) == ("docker", "partial", 1, 1)


def test_builder_lines_inside_a_buildkit_run_are_its_output() -> None:
    """A RUN of the BuildKit build prints a classic build and kaniko-style lines of its own
    (``#7 0.512 Step 1/3 : RUN x``): they are the RUN's output. BuildKit: RUN apk cached
    (#6), RUN ./nested-build.sh ran (#7): 1 cached, 1 executed."""
    text = "\n".join([
        "#5 [1/3] FROM docker.io/library/alpine", "#5 DONE 0.0s",
        "#6 [2/3] RUN apk add docker", "#6 CACHED",
        "#7 [3/3] RUN ./nested-build.sh", "#7 0.512 Step 1/3 : FROM busybox",
        "#7 0.513 Step 2/3 : RUN a", "#7 0.514  ---> Using cache",
        "#7 0.515 Step 3/3 : RUN b", "#7 0.516  ---> Using cache",
        "#7 0.600 INFO[0000] Using caching version of cmd: RUN c",
        "#7 0.601 INFO[0000] RUN c", "#7 0.602 INFO[0000] Found cached layer, extracting",
        "#7 DONE 1.2s"]) + "\n"
    assert _counts(text) == ("buildkit", "partial", 1, 1)


# ------------------------------------------------------------------ logs cut at the limit
def _cut(lines: list[str], notice: str) -> str:
    return "\n".join(lines) + "\n" + notice


RUNNER_NOTICE = ("\x1b[0;33mJob's log exceeded limit of 4194304 bytes.\n"
                 "Job execution will continue but no more output will be collected.\x1b[0;m\n")


@pytest.mark.parametrize("notice, limit", [
    (RUNNER_NOTICE, 4194304),
    # older runners, a custom output_limit of 8192 KiB
    ("\n\x1b[31;1mBuild log exceeded limit of 8388608 bytes.\x1b[0;m\n", 8388608),
    # behind GitLab's runner timestamps
    ("2024-05-16T17:52:43.160456Z 01O Job's log exceeded limit of 4194304 bytes.\n", 4194304),
])
def test_log_cut_at_the_limit_is_marked(notice, limit) -> None:
    """The BuildKit build cut after its cached RUN: hit 1 / 0 as far as it shows, marked
    incomplete (steps after the cut are unknown, the counts a lower bound)."""
    r = classify_build_log(_cut(SAME_BUILD["buildkit"][:7], notice))
    assert (r.outcome, r.cached_steps, r.executed_steps) == ("hit", 1, 0)
    assert r.log_limit_bytes == limit and r.is_complete is False
    assert classify_build_log("\n".join(SAME_BUILD["buildkit"])).is_complete is True


def test_buildlog_command_says_a_log_was_cut(tmp_path, capsys) -> None:
    cut, whole = tmp_path / "cut.log", tmp_path / "whole.log"
    cut.write_text(_cut(SAME_BUILD["kaniko"][:6], RUNNER_NOTICE), encoding="utf-8")
    whole.write_text("\n".join(SAME_BUILD["kaniko"]), encoding="utf-8")
    assert main(["buildlog", str(cut), str(whole), "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["is_complete"], r["log_limit_bytes"], r["cached_steps"], r["executed_steps"])
            for r in rows] == [(False, 4194304, 1, 0), (True, None, 1, 2)]
    assert main(["buildlog", str(cut), str(whole)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"{cut}: kaniko, hit, 1 cached / 0 executed steps, 1 of them RUN "
                      "(log cut at GitLab Runner's 4,194,304-byte limit: counts are lower bounds)")
    assert out[1] == f"{whole}: kaniko, partial, 1 cached / 2 executed steps, 1 of them RUN"


# ------------------------------------------------------------------ any prefix (property)

#: prefix characters: letters, digits and the punctuation collectors frame lines with; none
#: that starts a builder token ('#', '-', '[', '"', '{') and no capital I, O, S or T (so no
#: "INFO[", "Step", "STEP", "time="), so the prefix cannot itself read as a builder line
_PREFIX_CHARS = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHJKLMNPQRUVWXYZ"
                                     "0123456789 :/.|│]()_@+,")) 
_PREFIX = st.tuples(st.text(_PREFIX_CHARS, max_size=30),
                    st.sampled_from([" ", "  │ ", "] ", ": ", "| ", "\t"]))


@settings(max_examples=60, deadline=None)
@given(prefix=_PREFIX, build=st.sampled_from(sorted(BUILDS)))
def test_any_prefix_ending_in_a_separator(prefix, build) -> None:
    """A prefix of any text that ends in a separator (space, frame, bracket, colon) in front
    of every line: the same build, partial 1/2, whatever the builder and format."""
    head = "".join(prefix)
    lines = [head + line for line in BUILDS[build]]
    assert _counts("\n".join(lines) + "\n") == (build.split("-")[0], "partial", 1, 2)
