"""YAML read with PyYAML's safe loader, a key given twice in one mapping refused.

    doc = load_yaml_unique_keys(text)   # yaml.constructor.ConstructorError on a repeated key

PyYAML keeps the last of two equal keys without a word (YAML 1.2 says keys are
unique), so a scenario that sets ``name`` twice would silently use the second.
The error carries the line and column of the second key (``problem_mark``).

Numbers in exponent form without a dot or an exponent sign (``1e308``, ``3e3``) are
floats here, as in YAML 1.2; PyYAML's YAML 1.1 rules read them as strings, so a
scenario's ``1e308`` was refused as "not a number" instead of as out of range.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """Build the mapping; raise ConstructorError at the second of two equal keys."""
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice (the last would win silently)",
                    key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# YAML 1.2 core schema floats that YAML 1.1 misses: 1e3, 1.5e3, -2E-4 (no dot or no sign)
UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def load_yaml_unique_keys(text: str | bytes) -> Any:
    """``yaml.safe_load(text)``, but a repeated key in any mapping is an error.

    Raises:
        yaml.YAMLError: a syntax error, or ``ConstructorError`` for a repeated key.
    """
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
