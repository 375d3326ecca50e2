"""Fail when a notebook carries outputs or execution counts (notebooks are committed clean).

    python scripts/check_notebooks_clean.py notebooks/*.ipynb

Prints one line per offending notebook and exits 1; exits 0 when all are clean.
Clear a notebook with ``jupyter nbconvert --clear-output --inplace NOTEBOOK``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def dirty_cells(path: Path) -> list[int]:
    """Indexes of the code cells of ``path`` that have outputs or an execution count."""
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    return [i for i, c in enumerate(cells) if c.get("cell_type") == "code"
            and (c.get("outputs") or c.get("execution_count") is not None)]


def main(argv: list[str]) -> int:
    bad = 0
    for name in argv:
        cells = dirty_cells(Path(name))
        if cells:
            bad += 1
            print(f"{name}: cells {cells} carry outputs; clear them with "
                  f"`jupyter nbconvert --clear-output --inplace {name}`")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
