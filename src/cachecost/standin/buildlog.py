"""The job logs the GitLab stand-in serves: a GitLab-runner-style trace per job.

:func:`render_trace` writes the log of one job record (:meth:`StandinData.job_record
<cachecost.standin.data.StandinData.job_record>`) as ``GET /projects/:id/jobs/:job_id/trace``
returns it: section markers and ANSI codes, the builder's own output for each RUN step
with the cache outcome the stand-in's truth says (``true_outcome``), the push, and every
4th job with GitLab Runner's ``FF_TIMESTAMPS`` prefixes (:func:`timestamped`). Each
image is built by one builder (:func:`builder_for_image`): docker, BuildKit, kaniko or
buildah, so the fetch's log parsers see all four.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pandas as pd

from cachecost.dataset.catalog import QEMU_IMAGES
from cachecost.standin.data import REGISTRY_HOST, VERIFICATION_JOB

_BUILDERS = ("docker", "buildkit", "kaniko", "buildah")
#: RUN steps in each catalog image's Dockerfile (any other image: 4)
_RUN_STEPS = {c.image: c.run_steps for c in QEMU_IMAGES}


def builder_for_image(image: str) -> str:
    """Return the image builder the stand-in pretends built ``image`` (stable per image)."""
    return _BUILDERS[int(hashlib.sha1(image.encode()).hexdigest(), 16) % len(_BUILDERS)]


_SECTION = "section_start:{t}:{name}\r\x1b[0K\x1b[0K\x1b[36;1m{title}\x1b[0;m"
_SECTION_END = "section_end:{t}:{name}\r\x1b[0K"


def _step_lines(builder: str, steps: int, outcome: str, image: str) -> list[str]:
    """The builder's own output for ``steps`` RUN steps with the given cache outcome.

    ``builder``: "docker", "buildkit", "kaniko", anything else is buildah; ``outcome``
    "hit" caches every step, "partial" the first ``steps // 2``, "miss" (or other) none.
    """
    cached = {"hit": steps, "miss": 0, "partial": steps // 2}.get(outcome, 0)
    lines_of = _STEP_LINES.get(builder, _buildah_steps)
    return lines_of(steps, cached, steps + 1, image)


def _docker_steps(steps: int, cached: int, total: int, image: str) -> list[str]:
    """Classic ``docker build`` output: ``Step i/total``, `` ---> Using cache``."""
    lines: list[str] = []
    lines.append(f"Step 1/{total} : FROM registry.standin.example/library/base:{image}")
    lines.append(" ---> 4f1a2b3c4d5e")
    for i in range(steps):
        lines.append(f"Step {i + 2}/{total} : RUN ./step-{i}.sh")
        if i < cached:
            lines += [" ---> Using cache", f" ---> {i:012x}"]
        else:
            lines += [f" ---> Running in {i + 100:012x}", f"step {i} output",
                      f"Removing intermediate container {i + 100:012x}",
                      f" ---> {i + 200:012x}"]
    lines.append(f"Successfully built {image[:12]:0<12}")
    return lines


def _buildkit_steps(steps: int, cached: int, total: int, image: str) -> list[str]:
    """BuildKit (plain progress) output: ``#n [i/total] RUN``, ``#n CACHED``."""
    lines: list[str] = []
    # BuildKit pads the step index to the width of the total: "[ 2/12]"
    w = len(str(total))
    lines += ["#0 building with \"default\" instance using docker driver",
              "#1 [internal] load build definition from "
              f"tests/docker/dockerfiles/{image}.docker", "#1 DONE 0.0s",
              f"#2 [{1:>{w}}/{total}] FROM registry.standin.example/library/base",
              "#2 DONE 0.1s"]
    for i in range(steps):
        n = i + 3
        lines.append(f"#{n} [{i + 2:>{w}}/{total}] RUN ./step-{i}.sh")
        if i < cached:
            lines.append(f"#{n} CACHED")
        else:
            lines.append(f"#{n} 1.234 step {i} output")
            # BuildKit prints a vertex's header again when its output resumes
            lines += [f"#{n} [{i + 2:>{w}}/{total}] RUN ./step-{i}.sh",
                      f"#{n} 60.100 step {i} done", f"#{n} DONE 61.2s"]
    lines.append(f"#{steps + 3} exporting to image")
    return lines


def _kaniko_steps(steps: int, cached: int, total: int, image: str) -> list[str]:
    """kaniko output: the cache lookups up to the first miss, then every command."""
    lines: list[str] = []
    # pkg/executor/build.go: the cache is looked up until the first miss, then every
    # later command runs and its layer is pushed to the cache.
    lines.append("INFO[0000] Retrieving image manifest registry.standin.example/base")
    for i in range(steps):
        lines.append(f"INFO[0001] Checking for cached layer {REGISTRY_HOST}/cache:{i}...")
        if i < cached:
            lines.append(f"INFO[0001] Using caching version of cmd: RUN ./step-{i}.sh")
        else:
            lines.append(f"INFO[0002] No cached layer found for cmd RUN ./step-{i}.sh")
            break
    for i in range(steps):
        lines.append(f"INFO[0003] RUN ./step-{i}.sh")
        if i < cached:
            lines.append("INFO[0003] Found cached layer, extracting to filesystem")
        else:
            lines += ["INFO[0003] Cmd: /bin/sh", f"INFO[0003] Args: [-c ./step-{i}.sh]",
                      f"INFO[0003] Running: [/bin/sh -c ./step-{i}.sh]", f"step {i} output",
                      "INFO[0004] Taking snapshot of full filesystem...",
                      f"INFO[0005] Pushing layer {REGISTRY_HOST}/cache:{i:064x} to cache now"]
    return lines


def _buildah_steps(steps: int, cached: int, total: int, image: str) -> list[str]:
    """``buildah bud`` output: ``STEP i/total``, ``--> Using cache``."""
    lines: list[str] = []
    lines.append(f"+ buildah bud -f tests/docker/dockerfiles/{image}.docker -t $TAG .")
    lines.append(f"STEP 1/{total}: FROM registry.standin.example/library/base")
    for i in range(steps):
        lines.append(f"STEP {i + 2}/{total}: RUN ./step-{i}.sh")
        if i < cached:
            lines.append(f"--> Using cache {i:064x}")
        else:
            lines.append(f"step {i} output")
        lines.append(f"--> {i:012x}")
    return lines


#: The step-output renderer of each builder (``steps``, ``cached`` of them, ``total``
#: Dockerfile instructions, image name); any other builder is buildah.
_STEP_LINES: dict[str, Callable[[int, int, int, str], list[str]]] = {
    "docker": _docker_steps, "buildkit": _buildkit_steps, "kaniko": _kaniko_steps,
}


def _push_lines(builder: str, project_path: str, image: str) -> list[str]:
    dest = f"{REGISTRY_HOST}/{project_path}/qemu/{image}"
    if builder in ("docker", "buildkit"):
        return ['$ docker push "$TAG"', f"The push refers to repository [{dest}]",
                "latest: digest: sha256:0123 size: 2000"]
    if builder == "kaniko":
        return [f"INFO[0120] Pushing image to {dest}:latest",
                f"INFO[0125] Pushed {dest}@sha256:0123"]
    return ['$ buildah push "$TAG"', "Writing manifest to image destination"]


def render_trace(job, project_path: str) -> str:
    """A GitLab-runner-style log for ``job`` (section markers and ANSI codes included)."""
    t = int(job.created_at.timestamp())
    head = [
        "\x1b[0KRunning with gitlab-runner 17.5.0 (abcdef12)\x1b[0;m",
        _SECTION.format(t=t, name="prepare_executor", title="Preparing the executor"),
        _SECTION_END.format(t=t + 1, name="prepare_executor"),
        _SECTION.format(t=t + 1, name="step_script", title="Executing \"step_script\" stage"),
    ]
    if job.status in ("pending", "skipped", "canceled", "created"):
        return ""
    body: list[str] = []
    if job.is_container_build and isinstance(job.image, str):
        builder = builder_for_image(job.image)
        outcome = job.true_outcome or "miss"
        steps = _RUN_STEPS.get(job.image, 4)
        body += [
            '$ export TAG="$CI_REGISTRY_IMAGE/qemu/$NAME:latest"',
            '$ docker build --tag "$TAG" --cache-from "$TAG" '
            '-f "tests/docker/dockerfiles/$NAME.docker" tests/docker/dockerfiles',
        ]
        body += _step_lines(builder, steps, outcome, job.image)
        if job.status == "success":
            body += _push_lines(builder, project_path, job.image)
    elif job.name == VERIFICATION_JOB:
        body += ["$ apk -U add make bash skopeo",
                 "$ make docker-verify V=1 DOCKER_DEFAULT_REGISTRY=$CI_REGISTRY_IMAGE",
                 "verified 24 images"]
    else:
        body += ["$ make -j4", "[1/3000] Compiling C object libqemuutil.a.p/util_cutils.c.o"]
    tail = [] if job.status == "running" else [
        _SECTION_END.format(t=t + 60, name="step_script"),
        "\x1b[32;1mJob succeeded\x1b[0;m" if job.status == "success"
        else "\x1b[31;1mERROR: Job failed: exit code 1\x1b[0;m"]
    lines = head + body + tail
    if int(job.job_id) % 4 == 0:       # a job run with FF_TIMESTAMPS (runner >= 17)
        lines = timestamped(lines, job.created_at)
    return "\n".join(lines) + "\n"


def timestamped(lines: list[str], start: pd.Timestamp) -> list[str]:
    """Prefix each line as GitLab Runner >= 17 does with ``FF_TIMESTAMPS``.

    ``<UTC time, 6 decimals>Z <stream: 2 hex digits><O|E><'+' continuation or ' '> `` --
    gitlabhq ``lib/gitlab/ci/trace/stream.rb`` ``TIMESTAMP_HEADER_REGEX``. A section
    header's title comes as a continuation (``+``) of its marker line, as the runner
    writes it.
    """
    out = []
    for i, line in enumerate(lines):
        ts = (start + pd.Timedelta(milliseconds=37 * i)).tz_convert("UTC")
        stamp = ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
        if line.startswith("section_start:") and "\r\x1b[0K" in line:
            marker, title = line.split("\r\x1b[0K", 1)
            out += [f"{stamp} 00O {marker}\r\x1b[0K", f"{stamp} 00O+{title}"]
        else:
            out.append(f"{stamp} {'00' if line.startswith('section_') else '01'}O {line}")
    return out
