"""The jobs of a CI configuration that build container images: recognised by what they run.

See :mod:`cachecost.collect.ciconfig` for how the configuration is merged and the job's
shell followed. A job builds an image when a command of its ``before_script``/``script``
is one of

* ``docker build`` / ``docker image build`` / ``docker buildx build`` (``b``),
  ``podman build``, ``buildah bud`` / ``buildah build``, ``nerdctl build``: Dockerfile
  ``-f``/``--file`` (relative to the job's directory), else ``<context>/Dockerfile``
  (the context is the last argument); image from ``-t``/``--tag``;
* kaniko's ``/kaniko/executor``: ``--dockerfile`` (relative to ``--context``), image from
  ``--destination``/``-d``;
* ``buildctl build`` (``buildctl-daemonless.sh build``): ``--local dockerfile=<dir>`` and
  ``--opt filename=<name>`` (default ``Dockerfile``), image from ``--output
  type=image,name=<ref>``;

or the job extends ``.fdo.container-build@<distribution>`` (freedesktop.org
ci-templates; the image is pushed to ``$CI_REGISTRY_IMAGE/$FDO_REPO_SUFFIX`` or
``$CI_REGISTRY_IMAGE/<distribution>/$FDO_DISTRIBUTION_VERSION``, tagged
``$FDO_DISTRIBUTION_TAG``, and rebuilt only when no image has that tag: its inputs are the
CI files that write the tag -- the job's, its parents', the top-level variables' when the
tag names one; an upper bound, as a commit to them that leaves the tag alone rebuilds
nothing).

    builds = container_builds(config, origin)
    {b.job: b.image for b in builds}      # {'wasm64-emsdk-cross-container': 'emsdk-wasm64-cross'}
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from cachecost.collect.ciconfig import (
    as_list,
    expand,
    resolve_jobs,
    shell_assignments,
    shell_commands,
    top_level_variables,
)

#: flags of the build commands that take no value (every other ``-x``/``--x`` takes one)
_BOOLEAN_FLAGS = frozenset({
    "--pull", "--no-cache", "--rm", "--force-rm", "-q", "--quiet", "--push", "--load",
    "--squash", "--compress", "--layers", "--disable-compression", "--disable-content-trust",
    "--tls-verify", "--cache", "--cache-copy-layers", "--cache-run-layers", "--no-push",
    "--reproducible", "--single-snapshot", "--skip-tls-verify", "--use-new-run",
    "--cleanup", "--insecure", "--insecure-pull", "--debug", "--sbom", "--provenance"})
_DOCKER_LIKE = {"docker": ("build", "buildx", "image", "builder"), "podman": ("build",),
                "buildah": ("bud", "build"), "nerdctl": ("build",)}
#: ci-templates' container-build templates: ``.fdo.container-build@<distribution>[@<arch>]``
_FDO_TEMPLATE = re.compile(r"^\.fdo\.container-build@([\w.-]+?)(?:@[\w.-]+)?$")
#: the job's directory as GitLab names it: paths under it are repository paths
_PROJECT_DIR = re.compile(r"^(?:\$\{?CI_PROJECT_DIR\}?|\$\{?CI_BUILDS_DIR\}?[^/]*)/?")
_NAMED = re.compile(r"\$\{?([A-Za-z_]\w*)")
_WRAPPERS = frozenset({"sudo", "time", "exec", "env", "command", "nice"})


@dataclass(frozen=True)
class ContainerBuild:
    """One job that builds an image: its name, the image, the files the image is built from.

    ``image`` is None when the pushed repository could not be resolved; ``inputs`` holds
    repository-relative paths only (a path still naming a run-time variable is left out).
    """

    job: str
    image: str | None
    inputs: tuple[str, ...] = field(default=())
    builder: str = ""


def _options(words: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """A command's options (flag -> values, ``--x=y`` split) and its positional words."""
    opts: dict[str, list[str]] = {}
    positional: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w.startswith("-") and w != "-":
            flag, eq, value = w.partition("=")
            if not eq and flag not in _BOOLEAN_FLAGS and i + 1 < len(words):
                value, i = words[i + 1], i + 1
            opts.setdefault(flag, []).append(value)
        else:
            positional.append(w)
        i += 1
    return opts, positional


def _first(opts: dict[str, list[str]], *flags: str) -> str | None:
    for f in flags:
        if opts.get(f):
            return opts[f][0]
    return None


def _repo_path(path: str | None, cwd: str = ".") -> str | None:
    """``path`` as a repository path: under ``$CI_PROJECT_DIR`` from the root, relative
    from the job's directory ``cwd``; None for a URL, stdin, an absolute path elsewhere,
    a path still naming a run-time variable, or one leaving the repository."""
    if path is None:
        return None
    text = path.strip()
    anchored = _PROJECT_DIR.sub("", text)
    base = "." if anchored != text else cwd
    if "$" in anchored or "://" in anchored or anchored == "-" or anchored.startswith("/"):
        return None
    norm = posixpath.normpath(posixpath.join(base, anchored or "."))
    return None if norm.startswith("..") else norm


def _image_of(ref: str | None) -> str | None:
    """The last path component of a pushed reference, without tag or digest."""
    if not ref:
        return None
    last = ref.split("@", 1)[0].rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0]
    return last if last and "$" not in last else None


def _image_of_dockerfile(path: str | None) -> str | None:
    """A build that names no pushed reference: its Dockerfile's name without extension
    (``x.docker``, ``x.Dockerfile``), or for a plain ``Dockerfile`` its directory's name."""
    if not path:
        return None
    head, base = posixpath.split(path)
    if base.lower() in ("dockerfile", "containerfile"):
        return posixpath.basename(head) or None
    for prefix in ("Dockerfile.", "Containerfile."):   # Dockerfile.<name>: the name
        if base.startswith(prefix):
            return base.removeprefix(prefix) or None
    return (base.rsplit(".", 1)[0] if "." in base else base) or None


def _strip_wrappers(words: list[str]) -> list[str]:
    while words and (words[0] in _WRAPPERS or ("=" in words[0] and words[0][0].isalpha())):
        words = words[1:]
    return words


def _dockerfile_in(context: str, name: str | None, cwd: str) -> str | None:
    """The Dockerfile ``name`` read relative to ``context`` (kaniko, buildctl), default
    ``<context>/Dockerfile``."""
    ctx = _repo_path(context, cwd)
    if ctx is None:
        return None
    return _repo_path(name or "Dockerfile", ctx)


def read_build_command(words: list[str], cwd: str = "."
                       ) -> tuple[str, str | None, str | None] | None:
    """``(builder, dockerfile, pushed ref)`` when ``words`` (expanded) build an image;
    ``cwd``: the job's directory (repository path) the command runs in."""
    words = _strip_wrappers(words)
    if not words:
        return None
    prog = posixpath.basename(words[0])
    if prog in _DOCKER_LIKE:
        rest = [w for w in words[1:] if not w.startswith("-")][:2]
        subs = _DOCKER_LIKE[prog]
        if not rest or rest[0] not in subs or (rest[0] in ("buildx", "image", "builder")
                                               and rest[1:2] not in (["build"], ["b"])):
            return None
        after = words[words.index(rest[-1] if rest[0] in ("buildx", "image", "builder")
                                  else rest[0]) + 1:]
        opts, positional = _options(after)
        file = _first(opts, "-f", "--file")
        context = positional[-1] if positional else "."
        dockerfile = _repo_path(file, cwd) if file else _dockerfile_in(context, None, cwd)
        return prog, dockerfile, _first(opts, "-t", "--tag")
    if prog == "executor" and "kaniko" in words[0]:
        opts, _ = _options(words[1:])
        context = _first(opts, "--context", "-c") or "."
        context = context.removeprefix("dir://")
        return "kaniko", _dockerfile_in(context, _first(opts, "--dockerfile", "-f"), cwd), \
            _first(opts, "--destination", "-d")
    if prog in ("buildctl", "buildctl-daemonless.sh") and "build" in words[1:]:
        opts, _ = _options(words[words.index("build") + 1:])
        local = dict(v.split("=", 1) for v in opts.get("--local", []) if "=" in v)
        names = dict(v.split("=", 1) for v in opts.get("--opt", []) if "=" in v)
        out = dict(kv.split("=", 1) for v in opts.get("--output", []) for kv in v.split(",")
                   if "=" in kv)
        return "buildctl", _dockerfile_in(local.get("dockerfile", "."),
                                          names.get("filename"), cwd), out.get("name")
    return None


def job_environment(name: str, job: dict) -> dict[str, str]:
    """The job's variables as its shell starts with them: each value expanded against the
    others (GitLab expands variables that name variables), ``CI_JOB_NAME`` set."""
    env = {**job["variables"], "CI_JOB_NAME": name}
    for _ in range(3):                  # a variable naming one that names another
        env = {k: expand(v, dict(env)) for k, v in env.items()}
    return env


def _shell_build(name: str, job: dict) -> ContainerBuild | None:
    """Follow the job's shell to its first build command (variables expanded as it runs,
    ``cd`` followed)."""
    env = job_environment(name, job)
    cwd: str | None = "."
    script = as_list(job.get("before_script")) + as_list(job.get("script"))
    for words in shell_commands(script):
        assigned = shell_assignments(words)
        if assigned is not None:
            for key, value in assigned:
                env[key] = expand(value, env)
            continue
        words = [expand(w, env) for w in words]
        if words[0] in ("cd", "pushd"):
            cwd = _repo_path(words[1] if len(words) > 1 else "$CI_PROJECT_DIR", cwd or ".")
            continue
        found = read_build_command(words, cwd or ".")
        if found is not None:
            builder, dockerfile, ref = found
            dockerfile = dockerfile if cwd is not None else None
            image = _image_of(ref) if ref else _image_of_dockerfile(dockerfile)
            return ContainerBuild(name, image, (dockerfile,) if dockerfile else (), builder)
    return None


def _fdo_build(name: str, job: dict, origin: dict[str, str], top_variables: set[str]
               ) -> ContainerBuild | None:
    """A ci-templates container-build job (module doc), or None. ``top_variables``: the
    names the top-level ``variables:`` define."""
    distro = next((m.group(1) for p in as_list(job.get("extends"))
                   if (m := _FDO_TEMPLATE.match(str(p)))), None)
    if distro is None:
        return None
    env = job_environment(name, job)
    suffix = expand(env.get("FDO_REPO_SUFFIX", ""), env)
    version = expand(env.get("FDO_DISTRIBUTION_VERSION", ""), env)
    image = _image_of(suffix or (f"{distro}/{version}" if version else None))
    # ci-templates rebuilds only when no image has the tag: the image changes with
    # FDO_DISTRIBUTION_TAG, written in the CI files defining the job, its parents, or the
    # top-level variable the tag names
    keys = [job["base_name"], *(str(p) for p in as_list(job.get("extends")))]
    tag = str(job["variables"].get("FDO_DISTRIBUTION_TAG", ""))
    if set(_NAMED.findall(tag)) & top_variables:
        keys.append("variables")
    inputs = [origin[k] for k in keys if k in origin]
    return ContainerBuild(name, image, tuple(dict.fromkeys(inputs)), "ci-templates")


def container_builds(config: dict, origin: dict[str, str] | None = None
                     ) -> list[ContainerBuild]:
    """Every visible job of a merged configuration that builds an image, in name order.

    ``origin``: top-level key -> the file defining it (from
    :func:`~cachecost.collect.ciconfig.merge_ci_files`), for ci-templates jobs' inputs.
    """
    out = []
    top = set(top_level_variables(config))
    for name, job in sorted(resolve_jobs(config).items()):
        build = _fdo_build(name, job, origin or {}, top) or _shell_build(name, job)
        if build is not None:
            out.append(build)
    return out


def image_inputs_of(builds: list[ContainerBuild]) -> dict[str, list[str]]:
    """image -> its input paths (every job building the image adds its own), sorted."""
    out: dict[str, list[str]] = {}
    for b in builds:
        if b.image is None:
            continue
        paths = out.setdefault(b.image, [])
        paths += [p for p in b.inputs if p not in paths]
    return dict(sorted(out.items()))
