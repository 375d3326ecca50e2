"""Build-log classification: each builder's own cache markers, counted step by step."""

from __future__ import annotations

import pytest

from cachecost.collect.buildlog import classify_build_log, clean_log

DOCKER_PARTIAL = """\
Step 1/4 : FROM debian:12
 ---> 4f1a2b3c4d5e
Step 2/4 : RUN apt-get update
 ---> Using cache
 ---> 0a1b2c3d4e5f
Step 3/4 : COPY . /src
 ---> 9e8d7c6b5a4f
Step 4/4 : RUN make
 ---> Running in 1234567890ab
Removing intermediate container 1234567890ab
 ---> 5f4e3d2c1b0a
Successfully built 5f4e3d2c1b0a
"""

BUILDKIT_HIT = """\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#2 [1/3] FROM docker.io/library/debian:12@sha256:abc
#2 DONE 0.1s
#3 [2/3] RUN apt-get update
#3 CACHED
#4 [3/3] RUN make
#4 CACHED
#5 exporting to image
"""

BUILDKIT_MULTISTAGE_MISS = """\
#3 [builder 1/2] FROM docker.io/library/golang:1.22
#4 [builder 2/2] RUN go build ./...
#4 12.3 compiling
#4 DONE 61.0s
#5 [stage-1 2/2] COPY --from=builder /out /bin
#5 DONE 0.2s
"""

KANIKO_MISS = """\
INFO[0000] Retrieving image manifest debian:12
INFO[0001] Checking for cached layer registry.example/cache:abc...
INFO[0001] No cached layer found for cmd RUN apt-get update
INFO[0002] Checking for cached layer registry.example/cache:def...
INFO[0002] No cached layer found for cmd RUN make
INFO[0003] RUN apt-get update
"""

KANIKO_PARTIAL = """\
INFO[0001] Using caching version of cmd: RUN apt-get update
INFO[0002] No cached layer found for cmd RUN make
"""

BUILDAH_HIT = """\
STEP 1/3: FROM registry.fedoraproject.org/fedora:40
STEP 2/3: RUN dnf install -y gcc
--> Using cache 7a8b9c0d1e2f
--> 7a8b9c0d1e2f
STEP 3/3: RUN make
--> Using cache 3c4d5e6f7a8b
COMMIT registry.example/qemu/fedora
"""

GITLAB_WRAPPED = (
    "\x1b[0KRunning with gitlab-runner 17.5.0\x1b[0;m\n"
    "section_start:1700000000:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting\x1b[0;m\n"
    "2025-01-01T00:00:00.000000Z 00O Step 1/2 : FROM alpine\n"
    "2025-01-01T00:00:00.100000Z 00O  ---> abc\n"
    "2025-01-01T00:00:00.200000Z 00O Step 2/2 : RUN apk add gcc\n"
    "2025-01-01T00:00:00.300000Z 00O  ---> \x1b[32mUsing cache\x1b[0m\n"
    "section_end:1700000060:step_script\r\x1b[0K\n"
)


@pytest.mark.parametrize("text, builder, outcome, cached, executed", [
    (DOCKER_PARTIAL, "docker", "partial", 1, 2),
    (BUILDKIT_HIT, "buildkit", "hit", 2, 0),
    (BUILDKIT_MULTISTAGE_MISS, "buildkit", "miss", 0, 2),
    (KANIKO_MISS, "kaniko", "miss", 0, 2),
    (KANIKO_PARTIAL, "kaniko", "partial", 1, 1),
    (BUILDAH_HIT, "buildah", "hit", 2, 0),
    (GITLAB_WRAPPED, "docker", "hit", 1, 0),
], ids=["docker-partial", "buildkit-hit", "buildkit-multistage-miss", "kaniko-miss",
        "kaniko-partial", "buildah-hit", "gitlab-wrapped-docker"])
def test_each_builders_markers(text, builder, outcome, cached, executed) -> None:
    r = classify_build_log(text)
    assert (r.builder, r.outcome, r.cached_steps, r.executed_steps) == (
        builder, outcome, cached, executed)


def test_no_markers_is_unknown() -> None:
    r = classify_build_log("$ make -j4\n[1/3000] Compiling C object foo.o\nJob succeeded\n")
    assert (r.outcome, r.cached_steps, r.executed_steps, r.builder) == ("unknown", 0, 0, None)


def test_using_cache_outside_a_step_does_not_count() -> None:
    r = classify_build_log(" ---> Using cache\nStep 1/1 : FROM alpine\n")
    assert r.outcome == "unknown"


def test_clean_log_strips_sections_ansi_and_timestamps() -> None:
    lines = clean_log(GITLAB_WRAPPED)
    assert "Step 2/2 : RUN apk add gcc" in lines
    assert " ---> Using cache" in lines
    assert not any("\x1b" in x or "section_" in x for x in lines)
