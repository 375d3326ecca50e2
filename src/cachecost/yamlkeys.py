"""YAML read with PyYAML's safe loader, a key given twice in one mapping refused.

    doc = load_yaml_unique_keys(text)   # yaml.constructor.ConstructorError on a repeated key

PyYAML keeps the last of two equal keys without a word (YAML 1.2 says keys are
unique), so a scenario that sets ``name`` twice would silently use the second.
The error carries the line and column of the second key (``problem_mark``).
"""

from __future__ import annotations

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


def load_yaml_unique_keys(text: str | bytes) -> Any:
    """``yaml.safe_load(text)``, but a repeated key in any mapping is an error.

    Raises:
        yaml.YAMLError: a syntax error, or ``ConstructorError`` for a repeated key.
    """
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
