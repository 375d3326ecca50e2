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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cachecost.config import SCENARIOS_DIR
from cachecost.errors import CachecostError, read_user_file
from cachecost.model.distributions import EXPECTED_FORM, Distribution, fixed, parse_distribution
from cachecost.model.keys import KEYS as KEYS  # re-exported: the scenario's keys
from cachecost.model.keys import MONEY_KINDS, OVERRIDABLE, OVERRIDE_RANGES, Key
from cachecost.model.keys import key_spec as key_spec
from cachecost.model.strategies import BUILDERS, STRATEGIES, STRATEGY_NAMES
from cachecost.yamlkeys import load_yaml_unique_keys

#: GitLab's allowed cleanup-policy values (app/models/container_expiration_policy.rb:
#: keep_n_options, older_than_options; 60d added by commit c7be549c, 2021-09-29).
KEEP_N_CHOICES = (1, 5, 10, 25, 50, 100)
OLDER_THAN_DAYS_CHOICES = (7, 14, 30, 60, 90)

DEFAULT_SCENARIO_NAME = "qemu-private-runners"
DEFAULT_SCENARIO_PATH = SCENARIOS_DIR / f"{DEFAULT_SCENARIO_NAME}.yaml"

#: The mailing-list threads whose claims a scenario can check (``thread:``): the
#: qemu-devel thread on Camilla Conte's kaniko patch and Berrangé's review (May 2024,
#: shared/seed). A scenario without the key checks it (the scenarios cachecost was
#: written for); ``thread: none`` checks no thread's claims and words its pages for
#: any project (the group report's scenario).
QEMU_THREAD = "qemu-devel-2024-05"
THREADS = (QEMU_THREAD,)
NO_THREAD = "none"
#: ``builder: unknown`` (or no ``builder:`` key): the project's builder is not known.
UNKNOWN_BUILDER = "unknown"

_TOP_KEYS = ("name", "title", "description", "seed", "horizon_months", "baseline",
             "thread", "builder", "strategies", "overrides", *KEYS)


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
    thread: str | None = QEMU_THREAD     # whose claims are checked; None: no thread's
    #: the builder the project's CI uses (:data:`~cachecost.model.strategies.BUILDERS`;
    #: None: unknown), which words a strategy named after another tool by what it is
    builder: str | None = None
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


def _check_range(path: Path, dotted: str, values: Any, minimum: float | None,
                 maximum: float | None, unit: str, reason: str) -> None:
    """Raise unless every stated value lies in the plausible range [minimum, maximum]."""
    for value in values:
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            low = f"{minimum:g}" if minimum is not None else "-inf"
            high = f"{maximum:g}" if maximum is not None else "inf"
            unit_text = f" {unit}" if unit else ""
            raise _fail(path, dotted, f"{value:g}{unit_text} is outside the plausible range "
                                      f"{low} to {high}{unit_text} ({reason}); expected a "
                                      f"value within it")


def _parse_dist(path: Path, dotted: str, spec: Key, raw: Any) -> Distribution | None:
    if raw is None and spec.kind == "dist?":
        return None
    try:
        dist = parse_distribution(raw, minimum=spec.minimum,
                                  maximum=spec.maximum if spec.is_hard_maximum else None)
    except ValueError as exc:
        unit = f" ({spec.unit})" if spec.unit else ""
        null = " or null" if spec.kind == "dist?" else ""
        expected = f"expected {EXPECTED_FORM}{null}, with values{_bounds(spec)}{unit}"
        msg = str(exc)
        if f"expected {EXPECTED_FORM}" in msg:     # the parser said it already: say it once
            raise _fail(path, dotted, msg.replace(f"expected {EXPECTED_FORM}", expected, 1)
                        ) from None
        raise _fail(path, dotted, f"{msg}; {expected}") from None
    # the values the scenario states (a lognormal's p10 and p90) within the plausible range
    _check_range(path, dotted, dist.params, spec.minimum, spec.maximum, spec.unit,
                 spec.range_reason)
    return dist


def _parse_number(path: Path, dotted: str, spec: Key, raw: Any) -> float | None:
    if raw is None:
        return None
    bounds = _bounds(spec)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise _fail(path, dotted, f"expected a number{bounds} ({spec.unit}) or null, "
                                  f"got {raw!r}")
    if spec.minimum is not None and raw < spec.minimum:
        raise _fail(path, dotted, f"expected a number{bounds} ({spec.unit}), got {raw!r}")
    _check_range(path, dotted, [raw], spec.minimum, spec.maximum, spec.unit, spec.range_reason)
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
    parsers: dict[str, Callable[[Path, str, Key, Any], Any]] = {
        "dist": _parse_dist, "dist?": _parse_dist, "number?": _parse_number,
        "enum": _parse_enum, "bool": _parse_bool, "kinds": _parse_kinds,
        "cleanup?": lambda p, d, _s, r: _parse_cleanup(p, d, r),
        "cleanups": lambda p, d, _s, r: _parse_cleanups(p, d, r),
    }
    return parsers[spec.kind](path, dotted, spec, raw)


def _parse_cleanups(path: Path, dotted: str, raw: Any) -> dict[str, dict[str, float | None] | None]:
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
            top, reason = OVERRIDE_RANGES[name]
            _check_range(path, f"{key}.{name}", [value], 0.0, top, "", reason)
            out[str(image)][name] = float(value)
    return out


#: What a scenario must say itself (no silent default decides what is compared, or how).
REQUIRED_KEYS = ("name", "baseline", "compute.mode")


def _require_identity(path: Path, doc: dict[str, Any]) -> None:
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


def _read_yaml(file: Path) -> tuple[bytes, str, dict[str, Any]]:
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


def _parse_choice(file: Path, key: str, raw: Any, choices: tuple[str, ...], none: str
                  ) -> str | None:
    """``<key>:`` one of ``choices``, or ``none`` (the word for None): ``thread:`` one of
    :data:`THREADS` or ``none`` (no thread's claims); ``builder:`` one of
    :data:`~cachecost.model.strategies.BUILDERS` or ``unknown``."""
    if raw == none:
        return None
    if raw not in choices:
        raise _fail(file, key, f"expected one of {', '.join((*choices, none))}, got {raw!r}")
    return str(raw)


def _apply_top_level(file: Path, doc: dict[str, Any], scenario: Scenario) -> None:
    """seed, horizon_months, thread, builder, strategies, baseline, overrides."""
    if "thread" in doc:
        scenario.thread = _parse_choice(file, "thread", doc["thread"], THREADS, NO_THREAD)
    if "builder" in doc:
        scenario.builder = _parse_choice(file, "builder", doc["builder"], BUILDERS,
                                         UNKNOWN_BUILDER)
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


def _apply_sections(file: Path, doc: dict[str, Any], scenario: Scenario) -> None:
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
