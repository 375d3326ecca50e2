"""Build hook: ship notebooks/, scenarios/ and data/sample/ inside the wheel.

Those three folders stay the single source in git (top level of the checkout);
a wheel (``pip install .``, ``uv build``, or a wheel built from the sdist, which
carries them through MANIFEST.in) gets a copy at ``cachecost/_bundled/``, where
:mod:`cachecost.config` finds them when cachecost runs installed. An editable
install reads the checkout's folders and copies nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: (source under the checkout, destination under cachecost/_bundled/, files to take)
BUNDLED = (
    ("notebooks", "notebooks", "*.ipynb"),
    ("scenarios", "scenarios", "*.yaml"),
    ("scenarios/group", "scenarios/group", "*.yaml"),
    ("data/sample", "data/sample", "*"),
)


class BuildPyWithResources(build_py):
    """build_py that also copies the bundled resources into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "cachecost" / "_bundled"
        for source, dest, pattern in BUNDLED:
            files = sorted(p for p in (ROOT / source).glob(pattern) if p.is_file())
            if not files:
                raise SystemExit(f"setup.py: {ROOT / source}: nothing to bundle ({pattern})")
            (target / dest).mkdir(parents=True, exist_ok=True)
            for f in files:
                shutil.copy2(f, target / dest / f.name)


setup(cmdclass={"build_py": BuildPyWithResources})
