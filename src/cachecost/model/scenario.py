"""Load and validate a scenario file: the stated assumptions of one model run.

A scenario is a YAML file in ``scenarios/``. Its leading comment block explains
it (and becomes :attr:`Scenario.description` unless a ``description`` key is
given); its keys carry their units (``usd_per_10gib_year``,
``quota_minutes_per_month``). Every key is optional: :data:`KEYS` holds each
one's default, unit, meaning and, for defaults, a dated citation
(``docs/model.md`` lists them all). Uncertain inputs take a distribution
(:mod:`cachecost.model.distributions`).

    scenario = load_scenario(None)                 # scenarios/qemu-private-runners.yaml
    scenario.value("storage.usd_per_10gib_year")   # a Distribution
    scenario.source("storage.usd_per_10gib_year")  # "scenario" or "default"

Any bad input raises :class:`~cachecost.errors.CachecostError` with one line
naming the file, the key and the expected form (the CLI exits 2).
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cachecost.config import SCENARIOS_DIR
from cachecost.errors import CachecostError, read_user_file
from cachecost.model.distributions import EXPECTED_FORM, Distribution, fixed, parse_distribution
from cachecost.model.strategies import STRATEGIES, STRATEGY_NAMES
from cachecost.yamlkeys import load_yaml_unique_keys

#: GitLab's allowed cleanup-policy values (app/models/container_expiration_policy.rb:
#: keep_n_options, older_than_options; 60d added by commit c7be549c, 2021-09-29).
KEEP_N_CHOICES = (1, 5, 10, 25, 50, 100)
OLDER_THAN_DAYS_CHOICES = (7, 14, 30, 60, 90)

DEFAULT_SCENARIO_NAME = "qemu-private-runners"
DEFAULT_SCENARIO_PATH = SCENARIOS_DIR / f"{DEFAULT_SCENARIO_NAME}.yaml"

_ASSUMED = "cachecost assumption, no public figure (2026-11-27)"
#: GitLab combines a discount with the runner's factor by the minimum (docs/model.md §2).
_COST_FACTOR_RB = ("GitLab ee/lib/gitlab/ci/minutes/cost_factor.rb apply_discount, "
                   "'discounts so take the lowest value' (gitlab-org/gitlab issue 351933, 2022)")


@dataclass(frozen=True)
class Key:
    """One scenario key: its kind, default, unit, meaning and the default's citation.

    Kinds: ``dist`` (a distribution), ``dist?`` (a distribution or null),
    ``number?`` (a number or null), ``int``, ``enum``, ``bool``, ``cleanup?``
    (null or ``{keep_n: N, older_than_days: D}`` with GitLab's allowed values),
    ``cleanups`` (``{strategy: cleanup? }``), ``kinds`` (a list of money kinds).
    """

    kind: str
    default: Any
    unit: str
    doc: str
    citation: str | None = None
    minimum: float | None = 0.0
    maximum: float | None = None
    choices: tuple[str, ...] = ()


#: Every key a scenario may hold, by section. ``docs/model.md`` documents the same table.
KEYS: dict[str, dict[str, Key]] = {
    "workload": {
        "upstream_pipelines_factor": Key(
            "dist", 1.0, "x", "multiplies the measured upstream pipelines per month"),
        "image_changes_factor": Key(
            "dist", {"lognormal": {"p10": 0.432, "p90": 1.728}}, "x",
            "multiplies the image changes (rebuilds) per month drawn from each image's "
            "posterior: how the future differs from the measured window (mean 1, so the "
            "expected rate stays the measured one; a factor of 4 from p10 to p90)",
            _ASSUMED),
        "base_image_refresh_share": Key(
            "dist", {"uniform": {"low": 0.0, "high": 0.5}}, "share",
            "share of measured rebuilds caused by a new base image, not an input change "
            "(rebuild-on-change leaves them out: they overwrite the same hash tag)",
            _ASSUMED, maximum=1.0),
        "build_minutes_factor": Key(
            "dist", 1.0, "x", "multiplies every measured build time"),
        "scheduled_refresh_per_month": Key(
            "dist", 4.35, "builds/month",
            "forced full rebuilds per image under rebuild-on-change (weekly)",
            "QEMU weekly-container-builds, PULL 2025-11-17"),
    },
    "compute": {
        "mode": Key("enum", "private-runners", "", "who pays for upstream runner time",
                    choices=("private-runners", "gitlab-hosted")),
        "usd_per_runner_hour": Key(
            "dist?", None, "USD/runner-hour",
            "private runners: price of one job-hour; null = node_cost_usd_per_year divided "
            "by the measured CI runner-hours"),
        "node_cost_usd_per_year": Key(
            "dist", {"triangular": {"low": 2250, "mode": 2625, "high": 3000}}, "USD/year",
            "private runners: yearly cost of the runner nodes that run all CI jobs",
            "Bonzini and Berrange, qemu-devel 2023-06-28"),
        "sponsor_budget_usd_per_year": Key(
            "number?", 10000.0, "USD/year", "sponsor credits per year (null: none)",
            "Bonzini, qemu-devel 2023-06-28"),
        "other_spend_usd_per_year": Key(
            "number?", 2500.0, "USD/year",
            "other spending from the same budget (cluster overhead)",
            "Bonzini, qemu-devel 2023-06-28, AKS overhead estimate"),
        "cost_factor": Key(
            "dist?", 0.5, "x",
            "gitlab-hosted: GitLab's discount factor for the project's jobs (GitLab for Open "
            "Source program, public project: 0.5; null: no discount). GitLab bills the lower "
            "of it and the runner's size factor, never their product",
            _COST_FACTOR_RB + ", PUBLIC_OPEN_SOURCE_PLAN = 0.5; compute_minutes.md 2025"),
        "runner_size_factor": Key(
            "dist", 1.0, "x",
            "gitlab-hosted: size factor of the runner upstream's other CI jobs use (small 1, "
            "medium 2, large 3, xlarge 6, 2xlarge 12)",
            "GitLab doc ci/pipelines/compute_minutes.md, 2025"),
        "container_runner_size_factor": Key(
            "dist?", None, "x",
            "gitlab-hosted: size factor of the runner the container-build jobs use (null: "
            "runner_size_factor, the runner of every other job)",
            "GitLab doc ci/pipelines/compute_minutes.md, 2025; hosted_runners/linux.md 2024"),
        "quota_minutes_per_month": Key(
            "number?", 50000.0, "minutes/month", "gitlab-hosted: monthly compute quota",
            "GitLab doc subscriptions/community_programs.md, 2025"),
        "usd_per_1000_minutes": Key(
            "dist", 10.0, "USD/1000 minutes", "gitlab-hosted: price of minutes over the quota",
            "GitLab compute-minutes purchase doc, 2025; gitaly#3109, 2020"),
    },
    "forks": {
        "pipelines_per_month": Key(
            "dist", {"triangular": {"low": 10, "mode": 40, "high": 150}}, "pipelines/month",
            "fork pipelines that run the container stage (not in the upstream data)", _ASSUMED),
        "owners": Key(
            "dist", {"triangular": {"low": 5, "mode": 15, "high": 40}}, "namespaces",
            "fork owners those pipelines spread over (each has its own quota)", _ASSUMED),
        "image_change_share": Key(
            "dist", {"uniform": {"low": 0.0, "high": 0.05}}, "share",
            "share of fork pipelines that change a given image's inputs", _ASSUMED,
            maximum=1.0),
        "cost_factor": Key(
            "dist?", 0.008, "x",
            "GitLab's discount factor for fork jobs (public fork of a public OSS-program "
            "project: 0.008; null: no discount); billed: the lower of it and the fork "
            "runner's size factor",
            _COST_FACTOR_RB + ", OPEN_SOURCE_CONTRIBUTION = 0.008 (gitlab-org/gitlab issue "
            "352830, 2022); compute_minutes.md 2025"),
        "runner_size_factor": Key(
            "dist", 1.0, "x", "runner size factor of fork jobs",
            "GitLab doc ci/pipelines/compute_minutes.md, 2025"),
        "reads_upstream_registry_probability": Key(
            "dist", 0.9, "probability",
            "probability that a fork's job can read upstream's registry (dind pulling "
            "upstream's latest, kaniko reading upstream's $NAME-cache: the same permission); "
            "each Monte Carlo sample draws yes/no",
            "a public project's registry can be pulled by any job token (gitlab-org/gitlab MR "
            "135263, 2023) and QEMU's fork jobs --cache-from upstream's latest today "
            "(container-template.yml, 2025); against: Berrange, qemu-devel 2024-05, caching "
            "failed in his fork, while upstream's cache repository was still empty "
            "[inference] (shared/reference/domain-facts.md §3)", maximum=1.0),
        "pipelines_per_image_change": Key(
            "dist", {"triangular": {"low": 1, "mode": 3, "high": 10}}, "pipelines",
            "fork pipelines that carry one image change (its first and every later one "
            "until it is merged or dropped): kaniko rebuilds from the changed step in each, "
            "dind only in the first", _ASSUMED, minimum=1.0),
        "other_ci_minutes_per_pipeline": Key(
            "dist?", None, "minutes/pipeline",
            "runner minutes of a fork pipeline's other (non-container) jobs, which draw on "
            "the fork owner's quota first; null: upstream's measured other CI minutes per "
            "pipeline (a fork runs the same .gitlab-ci.yml)",
            "measured upstream pipelines (the dataset); QEMU forks run pipelines when "
            "QEMU_CI is set (.gitlab-ci.d/base.yml, shared/reference/domain-facts.md §5)"),
        "quota_minutes_per_month": Key(
            "number?", 400.0, "minutes/month", "a fork owner's free monthly quota",
            "GitLab pricing page 2026"),
        "usd_per_1000_minutes": Key(
            "dist", 10.0, "USD/1000 minutes", "price a fork owner pays over the quota",
            "GitLab compute-minutes purchase doc, 2025"),
    },
    "storage": {
        "accounting": Key(
            "enum", "root-namespace-dedup", "",
            "how registry bytes are counted: per-tag sums or GitLab.com's root-namespace dedup",
            "GitLab doc reduce_container_registry_storage.md, 2024-25",
            choices=("per-tag", "root-namespace-dedup")),
        "usd_per_10gib_year": Key(
            "dist", 60.0, "USD/(10 GiB year)", "price of storage above billed_above_gib",
            "gitlab-org/gitlab commit 980d1376, 2022"),
        "billed_above_gib": Key(
            "number?", None, "GiB",
            "cash: namespace GiB above this are bought as annual 10 GiB packs sized for the "
            "peak; null = registry storage not billed",
            "GitLab doc storage_usage_quotas.md, 2025: registry not in the limit"),
        "shadow_usd_per_10gib_year": Key(
            "dist?", None, "USD/(10 GiB year)",
            "shadow price: an explicit trade-off rate per registry GiB (prorated), never "
            "charged to a budget; null = none",
            "trade-off rate, not a bill: GitLab.com does not bill the registry "
            "(storage_usage_quotas.md 2025)"),
        "quota_gib": Key(
            "number?", None, "GiB", "namespace storage quota (null: none)",
            "none enforced for the registry, storage_usage_quotas.md 2025"),
        "other_usage_gib": Key(
            "number?", 0.0, "GiB", "other namespace usage counted against the same quota"),
        "cleanup_policy": Key(
            "cleanup?", None, "",
            "one cleanup policy for every strategy that piles up tags: {keep_n, "
            "older_than_days}; null = each strategy's own (docs/model.md §3)",
            "GitLab app/models/container_expiration_policy.rb"),
        "cleanup_policies": Key(
            "cleanups", None, "",
            "per-strategy cleanup policy {strategy: {keep_n, older_than_days} or null}; "
            "null = no cleanup (growth shown as a risk, months to quota)"),
        "cleanup_what_if": Key(
            "cleanup?", {"keep_n": 5, "older_than_days": 14}, "",
            "cleanup policy for the what-if curve; 14 days = kaniko's cache TTL, older "
            "entries are misses anyway", "kaniko --cache-ttl default 336 h, cmd/executor/cmd/root.go"),
    },
    "assumptions": {
        "changed_bytes_share": Key(
            "dist", {"uniform": {"low": 0.5, "high": 1.0}}, "share",
            "share of an image's bytes rewritten by a change (new layers after the changed "
            "step)", f"{_ASSUMED}; kaniko keys change for every later layer",
            maximum=1.0),
        "kaniko_cache_bytes_share": Key(
            "dist", {"triangular": {"low": 0.7, "mode": 0.85, "high": 0.95}}, "share",
            "share of an image's bytes in RUN layers (what kaniko's cache repo holds)",
            _ASSUMED, maximum=1.0),
        "kaniko_cache_ttl_hours": Key(
            "dist", 336.0, "hours", "kaniko --cache-ttl: older entries are misses, not deleted",
            "kaniko cmd/executor/cmd/root.go, 2025"),
        "kaniko_layer_digest_shared_probability": Key(
            "dist", 0.8, "probability",
            "probability that kaniko's cache layers share digests with the image's layers "
            "(then free under root-namespace dedup); each Monte Carlo sample draws yes/no",
            "inference from kaniko build.go, untested", maximum=1.0),
        "kaniko_full_change_share": Key(
            "dist", {"uniform": {"low": 0.5, "high": 1.0}}, "share",
            "share of changes that rewrite an image's first cached layer (the rest leave "
            "early layers to expire by the TTL from their own push)", _ASSUMED, maximum=1.0),
        "kaniko_pull_extract_min_per_gib": Key(
            "dist", {"triangular": {"low": 0.3, "mode": 0.6, "high": 1.5}}, "minutes/GiB",
            "kaniko cache hit: minutes to pull and extract a GiB of cached layers (a "
            "measured kaniko_hit_build_min override replaces it)",
            f"{_ASSUMED}; kaniko pkg/commands/run.go CachingRunCommand extracts each layer"),
        "buildkit_max_extra_bytes_share": Key(
            "dist", {"uniform": {"low": 0.0, "high": 0.3}}, "share",
            "mode=max: intermediate-stage layers per cache ref, as a share of the image",
            "Docker registry cache docs [inference]"),
        "buildkit_max_change_saving_share": Key(
            "dist", {"uniform": {"low": 0.0, "high": 0.3}}, "share",
            "mode=max: share of a change rebuild saved by cached intermediate stages",
            _ASSUMED, maximum=1.0),
        "rebuild_check_minutes": Key(
            "dist", {"triangular": {"low": 0.3, "mode": 0.5, "high": 1.0}}, "minutes",
            "rebuild-on-change: a job that only checks the registry for its tag", _ASSUMED),
        "uncached_to_cached_ratio": Key(
            "dist", 3.0, "x", "full/cached build time for an image whose data show no rebuild",
            "debian-hexagon-cross 3 vs 9 min, QEMU commit b9052d36, 2022"),
    },
}

KEYS["decision"] = {
    "weighs": Key(
        "kinds", ["project_cash", "shadow", "fork_owners_cash"], "",
        "the kinds of money the recommendation adds up: project_cash (runner time, "
        "minutes over a quota, storage packs), shadow (the storage shadow price), "
        "fork_owners_cash (what fork owners pay)"),
}

MONEY_KINDS = ("project_cash", "shadow", "fork_owners_cash")

#: Per-image values calibration derives; a scenario may override each (``"*"``: every image).
OVERRIDABLE = (
    "cached_build_min", "uncached_build_min", "change_build_min", "builds_per_month",
    "changes_per_month", "compressed_size_gib", "tags_kept", "run_steps",
    "failed_min_per_month", "is_multi_stage", "kaniko_hit_build_min",
)

_TOP_KEYS = ("name", "title", "description", "seed", "horizon_months", "baseline",
             "strategies", "overrides", *KEYS)


@dataclass
class Scenario:
    """A validated scenario: identity, horizon, strategies, and every input's value."""

    name: str
    title: str
    description: str
    sha256: str
    path: Path
    seed: int = 20240516
    horizon_months: int = 12
    baseline: str = "dind-inline-cache"
    strategies: tuple[str, ...] = STRATEGY_NAMES
    values: dict[str, Any] = field(default_factory=dict)    # "section.key" -> parsed value
    sources: dict[str, str] = field(default_factory=dict)   # "section.key" -> scenario|default
    overrides: dict[str, dict[str, float]] = field(default_factory=dict)

    def value(self, dotted: str) -> Any:
        """Return an input's parsed value (a Distribution for uncertain inputs)."""
        return self.values[dotted]

    def source(self, dotted: str) -> str:
        """Return where an input came from: ``scenario`` or ``default``."""
        return self.sources[dotted]


def _fail(path: Path, key: str, expected: str) -> CachecostError:
    return CachecostError(f"{path}: {key}: {expected}")


def _bounds(spec: Key) -> str:
    bounds = f" >= {spec.minimum:g}" if spec.minimum is not None else ""
    if spec.maximum is not None:
        bounds += f" and <= {spec.maximum:g}"
    return bounds


def _parse_dist(path: Path, dotted: str, spec: Key, raw: Any) -> Distribution | None:
    if raw is None and spec.kind == "dist?":
        return None
    try:
        return parse_distribution(raw, minimum=spec.minimum, maximum=spec.maximum)
    except ValueError as exc:
        unit = f" ({spec.unit})" if spec.unit else ""
        null = " or null" if spec.kind == "dist?" else ""
        expected = f"expected {EXPECTED_FORM}{null}, with values{_bounds(spec)}{unit}"
        msg = str(exc)
        if f"expected {EXPECTED_FORM}" in msg:     # the parser said it already: say it once
            raise _fail(path, dotted, msg.replace(f"expected {EXPECTED_FORM}", expected, 1)
                        ) from None
        raise _fail(path, dotted, f"{msg}; {expected}") from None


def _parse_number(path: Path, dotted: str, spec: Key, raw: Any) -> float | None:
    if raw is None:
        return None
    bounds = _bounds(spec)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise _fail(path, dotted, f"expected a number{bounds} ({spec.unit}) or null, "
                                  f"got {raw!r}")
    if spec.minimum is not None and raw < spec.minimum:
        raise _fail(path, dotted, f"expected a number{bounds} ({spec.unit}), got {raw!r}")
    return float(raw)


def _parse_enum(path: Path, dotted: str, spec: Key, raw: Any) -> Any:
    if raw not in spec.choices:
        raise _fail(path, dotted, f"expected one of {', '.join(spec.choices)}, got {raw!r}")
    return raw


def _parse_bool(path: Path, dotted: str, spec: Key, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise _fail(path, dotted, f"expected true or false, got {raw!r}")
    return raw


def _parse_kinds(path: Path, dotted: str, spec: Key, raw: Any) -> list[str]:
    if (not isinstance(raw, list) or not raw or any(k not in MONEY_KINDS for k in raw)
            or len(set(raw)) != len(raw)):
        raise _fail(path, dotted, f"expected a list of distinct names from "
                                  f"{', '.join(MONEY_KINDS)}, got {raw!r}")
    return list(raw)


def _parse_value(path: Path, dotted: str, spec: Key, raw: Any) -> Any:
    """Parse one leaf value according to its Key spec."""
    parsers = {
        "dist": _parse_dist, "dist?": _parse_dist, "number?": _parse_number,
        "enum": _parse_enum, "bool": _parse_bool, "kinds": _parse_kinds,
        "cleanup?": lambda p, d, _s, r: _parse_cleanup(p, d, r),
        "cleanups": lambda p, d, _s, r: _parse_cleanups(p, d, r),
    }
    return parsers[spec.kind](path, dotted, spec, raw)


def _parse_cleanups(path: Path, dotted: str, raw: Any) -> dict[str, dict | None]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(path, dotted, f"expected a mapping of strategy name to a cleanup policy "
                                  f"or null, got {raw!r}")
    out = {}
    for name, policy in raw.items():
        if name not in STRATEGIES:
            raise _fail(path, f"{dotted}.{name}", f"unknown strategy; expected one of "
                                                 f"{', '.join(STRATEGY_NAMES)}")
        out[str(name)] = _parse_cleanup(path, f"{dotted}.{name}", policy)
    return out


_CLEANUP_CHOICES = {"keep_n": KEEP_N_CHOICES, "older_than_days": OLDER_THAN_DAYS_CHOICES}


def _parse_cleanup(path: Path, dotted: str, raw: Any) -> dict[str, float | None] | None:
    """Parse ``{keep_n: N, older_than_days: D}`` with the values GitLab allows
    (app/models/container_expiration_policy.rb: keep_n 1, 5, 10, 25, 50, 100;
    older_than 7d, 14d, 30d, 60d, 90d)."""
    expected = (f"expected null or {{keep_n: one of {', '.join(map(str, KEEP_N_CHOICES))} "
                f"or null, older_than_days: one of "
                f"{', '.join(map(str, OLDER_THAN_DAYS_CHOICES))} or null}} (GitLab's values)")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _fail(path, dotted, f"{expected}, got {raw!r}")
    out: dict[str, float | None] = {"keep_n": None, "older_than_days": None}
    for k, v in raw.items():
        if k not in out:
            raise _fail(path, f"{dotted}.{k}", f"unknown key; {expected}")
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                              or v not in _CLEANUP_CHOICES[k]):
            raise _fail(path, f"{dotted}.{k}", f"{expected}, got {v!r}")
        out[k] = None if v is None else float(v)
    return out


def _leading_comment(text: str) -> str:
    """Return the comment block at the top of a YAML file as one paragraph of prose."""
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            if stripped == "" and not lines:
                continue
            break
        lines.append(stripped.lstrip("#").strip())
    return " ".join(" ".join(lines).split())


def _expect_str(path: Path, key: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _fail(path, key, f"expected a non-empty string, got {raw!r}")
    return raw.strip()


def _expect_int(path: Path, key: str, raw: Any, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise _fail(path, key, f"expected an integer from {low} to {high}, got {raw!r}")
    return raw


def _parse_overrides(path: Path, raw: Any) -> dict[str, dict[str, float]]:
    expected = (f"expected a mapping of image name (or \"*\") to {{{', '.join(OVERRIDABLE)}}}"
                " with numbers >= 0")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(path, "overrides", f"{expected}, got {raw!r}")
    out: dict[str, dict[str, float]] = {}
    for image, fields in raw.items():
        key = f"overrides.{image}"
        if not isinstance(fields, dict):
            raise _fail(path, key, f"{expected}, got {fields!r}")
        out[str(image)] = {}
        for name, value in fields.items():
            if name not in OVERRIDABLE:
                raise _fail(path, f"{key}.{name}", f"unknown key; expected one of "
                                                   f"{', '.join(OVERRIDABLE)}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 \
                    or not math.isfinite(value):
                raise _fail(path, f"{key}.{name}", f"expected a number >= 0, got {value!r}")
            out[str(image)][name] = float(value)
    return out


#: What a scenario must say itself (no silent default decides what is compared, or how).
REQUIRED_KEYS = ("name", "baseline", "compute.mode")


def _require_identity(path: Path, doc: dict) -> None:
    """Raise unless the scenario names itself, its baseline and its compute mode."""
    if not doc:
        raise CachecostError(f"{path}: empty scenario; it needs at least "
                             f"{', '.join(REQUIRED_KEYS)} (see scenarios/*.yaml)")
    compute = doc.get("compute")
    missing = [k for k in REQUIRED_KEYS
               if (k == "compute.mode" and not (isinstance(compute, dict) and "mode" in compute))
               or (k != "compute.mode" and k not in doc)]
    if missing:
        raise CachecostError(f"{path}: missing {', '.join(missing)}; a scenario must name "
                             "itself, its baseline and its compute mode (see scenarios/*.yaml)")


#: The largest scenario file read (the shipped ones are a few KiB).
MAX_SCENARIO_BYTES = 1024 * 1024


def _read_yaml(file: Path) -> tuple[bytes, str, dict]:
    """The file's bytes, text and top-level mapping (unknown and repeated keys rejected)."""
    data = read_user_file(file, "scenario file", max_bytes=MAX_SCENARIO_BYTES)
    try:
        text = data.decode("utf-8")
        doc = load_yaml_unique_keys(text)
    except UnicodeDecodeError:
        raise CachecostError(f"{file}: not UTF-8 text; expected a YAML scenario") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            raise CachecostError(f"{file}: {where}{problem}") from None
        raise CachecostError(f"{file}: {where}YAML syntax error ({problem}); expected a "
                             f"YAML mapping of scenario keys") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise CachecostError(f"{file}: top level: expected a mapping of scenario keys, got "
                             f"{type(doc).__name__}")
    for key in doc:
        if key not in _TOP_KEYS:
            raise _fail(file, str(key), f"unknown key; expected one of {', '.join(_TOP_KEYS)}")
    return data, text, doc


def _apply_top_level(file: Path, doc: dict, scenario: Scenario) -> None:
    """seed, horizon_months, strategies, baseline, overrides."""
    if "seed" in doc:
        scenario.seed = _expect_int(file, "seed", doc["seed"], 0, 2**63 - 1)
    if "horizon_months" in doc:
        scenario.horizon_months = _expect_int(file, "horizon_months", doc["horizon_months"],
                                              1, 120)
    if "strategies" in doc:
        raw = doc["strategies"]
        if (not isinstance(raw, list) or not raw
                or any(s not in STRATEGY_NAMES for s in raw) or len(set(raw)) != len(raw)):
            raise _fail(file, "strategies", f"expected a list of distinct names from "
                                            f"{', '.join(STRATEGY_NAMES)}, got {raw!r}")
        scenario.strategies = tuple(raw)
    if "baseline" in doc:
        if doc["baseline"] not in STRATEGY_NAMES:
            raise _fail(file, "baseline", f"expected one of {', '.join(STRATEGY_NAMES)}, "
                                          f"got {doc['baseline']!r}")
        scenario.baseline = doc["baseline"]
    if scenario.baseline not in scenario.strategies:
        raise _fail(file, "baseline", f"expected one of the listed strategies "
                                      f"({', '.join(scenario.strategies)})")
    scenario.overrides = _parse_overrides(file, doc.get("overrides"))


def _apply_sections(file: Path, doc: dict, scenario: Scenario) -> None:
    """Every section's keys: given values parsed, the others from their defaults."""
    for section, keys in KEYS.items():
        given = doc.get(section) or {}
        if not isinstance(given, dict):
            raise _fail(file, section, f"expected a mapping with keys {', '.join(keys)}, "
                                       f"got {given!r}")
        for key in given:
            if key not in keys:
                raise _fail(file, f"{section}.{key}",
                            f"unknown key; expected one of {', '.join(keys)}")
        for key, spec in keys.items():
            dotted = f"{section}.{key}"
            is_given = key in given
            raw = given[key] if is_given else spec.default
            scenario.values[dotted] = _parse_value(file, dotted, spec, raw)
            scenario.sources[dotted] = "scenario" if is_given else "default"


def load_scenario(path: str | os.PathLike[str] | None = None) -> Scenario:
    """Load, validate and return a scenario (None: :data:`DEFAULT_SCENARIO_PATH`).

    Raises:
        CachecostError: ``"<file>: <key>: expected ..."`` on any bad input.
    """
    file = Path(path).expanduser() if path is not None else DEFAULT_SCENARIO_PATH
    data, text, doc = _read_yaml(file)
    scenario = Scenario(
        name=_expect_str(file, "name", doc.get("name", file.stem)),
        title=_expect_str(file, "title", doc.get("title", file.stem)),
        description=(_expect_str(file, "description", doc["description"])
                     if "description" in doc else _leading_comment(text)),
        sha256=hashlib.sha256(data).hexdigest(),
        path=file.resolve(),
    )
    _apply_top_level(file, doc, scenario)
    _apply_sections(file, doc, scenario)
    _require_identity(file, doc)        # after the keys' own checks, which say more
    return scenario


def describe_value(value: Any) -> Any:
    """Return a JSON-able form of a parsed input value."""
    if isinstance(value, Distribution):
        return value.to_json()
    return value


def as_distribution(value: Any) -> Distribution:
    """Return a Distribution for a parsed numeric value (numbers become fixed)."""
    return value if isinstance(value, Distribution) else fixed(float(value))
