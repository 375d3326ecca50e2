"""A project's CI configuration read as GitLab reads it, and the jobs in it that build images.

GitLab's rules, applied in GitLab's order (docs.gitlab.com ``ci/yaml/includes.md``,
``ci/yaml/yaml_optimization.md``, ``ci/variables/index.md``):

1. **includes**: each file's ``include:`` entries are merged first, in order, then the file's
   own keys over them -- a deep merge: mappings merge key by key, any other value (a list,
   a script) is replaced. Local includes are read here (wildcards ``*``/``**`` included);
   a ``project:``/``remote:``/``template:`` include is not readable from files alone:
   GitLab's own merge (``GET /projects/:id/ci/lint``, ``merged_yaml``) has them;
2. **extends**: a job is the deep merge of its parents (in the order listed, the last
   winning; each resolved the same way, up to 11 levels) and then its own keys;
3. ``default:`` fills the keywords a job does not set, the top-level ``variables:`` sit
   under the job's (``inherit:`` can refuse either); ``!reference [job, key]`` takes the
   value at that path of the merged configuration;
4. ``parallel: matrix:`` makes one job per combination of values, named
   ``"job: [v1, v2]"`` as GitLab names them.

A job is a **container build** by what it runs, not by its stage: a script line that
calls ``docker build`` / ``docker buildx build`` / ``podman build`` / ``buildah bud``
(or ``build``) / ``nerdctl build``, kaniko's ``/kaniko/executor``, ``buildctl build``
(``buildctl-daemonless.sh``); or a job extending freedesktop.org ci-templates'
``.fdo.container-build@<distribution>`` template. The job's shell is followed as far as
its build command: its variables, then the ``export X=...`` / ``X=...`` lines of
``before_script`` and ``script`` in order, expanded the way the shell does (``$X``,
``${X}``, ``${X:-default}``, ``${X-default}``, ``${X:=default}``, ``${X:+alt}``, nested).
Its **image** is the last path component of the pushed repository (``--tag``/``-t``,
kaniko's ``--destination``, buildctl's ``name=``; ci-templates: ``FDO_REPO_SUFFIX`` or
``<distribution>/<FDO_DISTRIBUTION_VERSION>``; a build pushing nothing: its Dockerfile's
name without extension, or a plain ``Dockerfile``'s directory); its **inputs** are the Dockerfile the
command reads (``-f``/``--file``, kaniko's ``--dockerfile``, buildctl's
``--local dockerfile=`` and ``--opt filename=``; else ``<context>/Dockerfile``), or for
ci-templates the CI files that write the image's tag (:mod:`cachecost.collect.cibuilds`).

    config = merge_ci_files({".gitlab-ci.yml": doc, ...})
    builds = container_builds(config)          # [ContainerBuild(job, image, inputs), ...]
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import product
from typing import Any

import yaml

#: top-level keys that are no job (GitLab ``ci/yaml/index.md``, "Global keywords")
GLOBAL_KEYS = frozenset({"default", "include", "stages", "variables", "workflow", "image",
                         "services", "cache", "before_script", "after_script", "types",
                         "spec"})
#: keywords ``default:`` gives a job that does not set them
DEFAULT_KEYS = ("after_script", "artifacts", "before_script", "cache", "hooks", "id_tokens",
                "image", "interruptible", "retry", "services", "tags", "timeout")
_MAX_EXTENDS_DEPTH = 11
#: variables GitLab sets at run time: left as they are (a path naming one is unresolved)
_RUNTIME_PREFIXES = ("CI_", "GITLAB_")


@dataclass(frozen=True)
class Reference:
    """A ``!reference [job, key, ...]`` tag, resolved after ``extends``."""

    path: tuple[str, ...]


class CiLoader(yaml.SafeLoader):
    """A safe YAML loader that keeps GitLab's ``!reference`` tags (other tags: plain values)."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        items = loader.construct_sequence(node)
        return Reference(tuple(str(x) for x in items)) if suffix == "reference" else items
    return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None


CiLoader.add_multi_constructor("!", _tag)


_INPUT = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def load_ci_yaml(text: str) -> dict:
    """Parse one CI file; a file that is no mapping is empty. Raises ``yaml.YAMLError``.

    A file with a ``spec:`` header (``spec: inputs: ...``, then ``---``, then the
    configuration: GitLab's ``ci/yaml/inputs.md``) is its second document, its
    ``$[[ inputs.x ]]`` replaced by the inputs' defaults (an include's own ``inputs:`` are
    not applied).
    """
    docs = list(yaml.load_all(text, Loader=CiLoader))  # noqa: S506 - a SafeLoader subclass
    head = docs[0] if docs else None
    if len(docs) >= 2 and isinstance(head, dict) and "spec" in head:
        found = head.get("spec")
        spec: dict = found if isinstance(found, dict) else {}
        found = spec.get("inputs")
        inputs: dict = found if isinstance(found, dict) else {}
        defaults = {str(k): str(v.get("default", "")) if isinstance(v, dict) else ""
                    for k, v in inputs.items()}
        body = text.split("\n---", 1)[1] if "\n---" in text else ""
        body = _INPUT.sub(lambda m: defaults.get(m.group(1), m.group(0)), body)
        doc = yaml.load(body, Loader=CiLoader)  # noqa: S506 - a SafeLoader subclass
    else:
        doc = head
    return doc if isinstance(doc, dict) else {}


def as_list(value: Any) -> list:
    """``value`` as a list: itself, ``[]`` for None, else ``[value]``."""
    return value if isinstance(value, list) else [] if value is None else [value]


def deep_merge(base: Any, over: Any) -> Any:
    """GitLab's deep merge: mappings key by key (``over`` wins), anything else replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = deep_merge(base[key], value) if key in base else value
        return out
    return over


# --------------------------------------------------------------------------- includes


def local_includes(doc: dict) -> list[str]:
    """The local files a CI file includes, in order (leading ``/`` removed; may be globs)."""
    out = []
    for item in as_list(doc.get("include")):
        local = item if isinstance(item, str) and "://" not in item else \
            item.get("local") if isinstance(item, dict) else None
        if isinstance(local, str):
            out.append(local.lstrip("/"))
    return out


def foreign_includes(doc: dict) -> list[str]:
    """The includes a file merge cannot read (another project, a URL, a template)."""
    out = []
    for item in as_list(doc.get("include")):
        if isinstance(item, str) and "://" in item:
            out.append(item)
        elif isinstance(item, dict) and "local" not in item:
            what = item.get("project") or item.get("remote") or item.get("template") \
                or item.get("component")
            out.append(f"{what} {item.get('file', '')}".strip())
    return out


def _matching(pattern: str, paths: Iterable[str]) -> list[str]:
    """Files a wildcard include names: ``*`` within a directory, ``**`` across them."""
    rx = re.compile("^" + re.escape(pattern).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
                    + "$")
    return sorted(p for p in paths if rx.match(p))


def merge_ci_files(docs: dict[str, dict], entry: str | None = None
                   ) -> tuple[dict, dict[str, str]]:
    """Merge CI files the way GitLab merges includes; return ``(config, origin)``.

    ``docs``: path -> parsed file. ``entry``: the file GitLab starts from (normally
    ``.gitlab-ci.yml``); None merges every file no other file includes, in the given order.
    ``origin`` names, per top-level key, the file whose content won. A file included twice
    is merged once (GitLab refuses duplicates, keeping one is the closest reading).
    """
    included = {p for d in docs.values() for pat in local_includes(d)
                for p in ([pat] if "*" not in pat else _matching(pat, docs))}
    roots = [entry] if entry is not None else [p for p in docs if p not in included]
    seen: set[str] = set()
    origin: dict[str, str] = {}

    def merged(path: str) -> dict:
        if path in seen or path not in docs:
            return {}
        seen.add(path)
        out: dict = {}
        for pat in local_includes(docs[path]):
            for p in ([pat] if "*" not in pat else _matching(pat, docs)):
                out = deep_merge(out, merged(p))
        own = {k: v for k, v in docs[path].items() if k != "include"}
        origin.update({str(k): path for k in own})
        return deep_merge(out, own)

    config: dict = {}
    for root in roots:
        config = deep_merge(config, merged(root))
    return config, origin


# --------------------------------------------------------------------------- jobs


def _extended(name: str, raw: dict[str, dict], depth: int = 0) -> dict:
    job = raw.get(name)
    if not isinstance(job, dict) or depth > _MAX_EXTENDS_DEPTH:
        return {}
    base: dict = {}
    for parent in as_list(job.get("extends")):
        base = deep_merge(base, _extended(str(parent), raw, depth + 1))
    return deep_merge(base, job)


def _resolve_refs(value: Any, config: dict, depth: int = 0) -> Any:
    """Replace ``!reference`` tags by what they point at; script lists flattened."""
    if isinstance(value, Reference) and depth < 10:
        target: Any = config
        for key in value.path:
            target = target.get(key) if isinstance(target, dict) else None
        return _resolve_refs(target, config, depth + 1)
    if isinstance(value, list):
        out = []
        for item in value:
            item = _resolve_refs(item, config, depth)
            out += item if isinstance(item, list) else [item]
        return out
    if isinstance(value, dict):
        return {k: _resolve_refs(v, config, depth) for k, v in value.items()}
    return value


def _variables(value: Any) -> dict[str, str]:
    """A ``variables:`` block as name -> text (``{value: x, description: ...}`` read too)."""
    out = {}
    for k, v in (value or {}).items() if isinstance(value, dict) else ():
        v = v.get("value") if isinstance(v, dict) else v
        out[str(k)] = "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
    return out


def top_level_variables(config: dict) -> list[str]:
    """The names the configuration's top-level ``variables:`` define."""
    return list(_variables(config.get("variables")))


def _inherits(job: dict, what: str, key: str) -> bool:
    rule = job.get("inherit", {}).get(what, True) if isinstance(job.get("inherit"), dict) \
        else True
    return key in rule if isinstance(rule, list) else rule is not False


def _matrix_names(name: str, job: dict) -> Iterator[tuple[str, dict[str, str]]]:
    """``(job name, its matrix variables)`` per ``parallel: matrix`` combination."""
    parallel = job.get("parallel")
    matrix = parallel.get("matrix") if isinstance(parallel, dict) else None
    if not isinstance(matrix, list):
        yield name, {}
        return
    for entry in matrix:
        if not isinstance(entry, dict):
            continue
        keys = [str(k) for k in entry]
        for values in product(*(as_list(entry[k]) for k in entry)):
            texts = [str(v) for v in values]
            yield f"{name}: [{', '.join(texts)}]", dict(zip(keys, texts, strict=True))


def resolve_jobs(config: dict) -> dict[str, dict]:
    """The visible jobs of a merged configuration, each as GitLab runs it.

    ``extends`` applied, ``default:`` and top-level ``variables:`` inherited, ``!reference``
    resolved, one entry per ``parallel: matrix`` combination; ``variables`` is a flat
    name -> text mapping (matrix values over the job's over the top level's).
    """
    raw = {str(k): v for k, v in config.items()
           if isinstance(v, dict) and str(k) not in GLOBAL_KEYS}
    found = config.get("default")
    default: dict = found if isinstance(found, dict) else {}
    top_vars = _variables(config.get("variables"))
    jobs: dict[str, dict] = {}
    for name in raw:
        if name.startswith("."):
            continue
        job = _extended(name, raw)
        for key in DEFAULT_KEYS:
            if key not in job and key in default and _inherits(job, "default", key):
                job[key] = default[key]
        job = _resolve_refs(job, {**raw, **config})
        own = _variables(job.get("variables"))
        inherited = {k: v for k, v in top_vars.items() if _inherits(job, "variables", k)}
        for full_name, matrix in _matrix_names(name, job):
            jobs[full_name] = {**job, "variables": {**inherited, **own, **matrix},
                               "base_name": name}
    return jobs


# --------------------------------------------------------------------------- the shell


def _braced(text: str, i: int) -> int:
    """Index just past the ``}`` closing the ``${`` opened at ``i`` (nesting counted)."""
    depth = 0
    for j in range(i, len(text)):
        if text.startswith("${", j):
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(text)


_NAME = re.compile(r"[A-Za-z_]\w*")
_BRACE = re.compile(r"([A-Za-z_]\w*)(?:(:?[-=+])(.*))?$", re.S)


def expand(text: str, env: dict[str, str]) -> str:
    """Expand ``$X``, ``${X}``, ``${X:-d}``, ``${X-d}``, ``${X:=d}``, ``${X:+a}`` (nested).

    A variable that is not set takes the default a form gives; without one it stays as
    written when GitLab sets it at run time (``CI_*``), else it is empty, as in the shell.
    """
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = _braced(text, i)
            m = _BRACE.match(text[i + 2:end - 1])
            out.append(_substitute(m, env) if m else text[i:end])
            i = end
        elif text[i] == "$" and (m := _NAME.match(text, i + 1)):
            out.append(_lookup(m.group(0), env, f"${m.group(0)}"))
            i = m.end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _lookup(name: str, env: dict[str, str], written: str) -> str:
    if name in env:
        return env[name]
    return written if name.startswith(_RUNTIME_PREFIXES) else ""


def _substitute(m: re.Match, env: dict[str, str]) -> str:
    name, op, word = m.group(1), m.group(2), m.group(3) or ""
    value = env.get(name)
    if op is None:
        return _lookup(name, env, "${" + name + "}")
    is_set = value is not None and (value != "" or not op.startswith(":"))
    if op.endswith("+"):
        return expand(word, env) if is_set else ""
    if is_set:
        return str(value)
    if name.startswith(_RUNTIME_PREFIXES):
        return "${" + m.group(0) + "}"
    default = expand(word, env)
    if op.endswith("="):
        env[name] = default
    return default


def shell_commands(script: list) -> Iterator[list[str]]:
    """Each simple command of a script, as words (quotes removed, variables not expanded)."""
    text = "\n".join(str(x) for x in script if x is not None).replace("\\\n", " ")
    for line in text.splitlines():
        for part in re.split(r"&&|\|\||;|\|", line):
            try:
                words = shlex.split(part, comments=True)
            except ValueError:
                continue
            words = _without_redirections(words)
            if words:
                yield words


_REDIRECT = re.compile(r"^(?:\d*|&)(?:<<?<?|>>?)(?:&\d+|&-)?(.*)$")


def _without_redirections(words: list[str]) -> list[str]:
    """The words without their redirections (``< file``, ``>/dev/null``, ``2>&1``)."""
    out: list[str] = []
    skip = False
    for w in words:
        if skip:
            skip = False
            continue
        m = _REDIRECT.match(w)
        if m and not w.isdigit():
            skip = m.group(1) == "" and not w.endswith(("&1", "&2", "&-"))
            continue
        out.append(w)
    return out


_ASSIGN = re.compile(r"^([A-Za-z_]\w*)=(.*)$", re.S)


def shell_assignments(words: list[str]) -> list[tuple[str, str]] | None:
    """The ``X=...`` of an ``export`` line or a line of assignments only, else None."""
    rest = words[1:] if words[0] in ("export", "declare", "readonly", "local") else words
    found = [(m.group(1), m.group(2)) for w in rest if (m := _ASSIGN.match(w))]
    return found if found and len(found) == len(rest) else None
