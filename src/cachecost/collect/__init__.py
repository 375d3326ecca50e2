"""Stage 1, collect: CI history from GitLab and layer sizes from the registry.

* :mod:`.fetch`     the incremental, resumable fetch that strings the phases together
* :mod:`.gitlab`    GitLab's REST API through python-gitlab, one module per API resource
* :mod:`.oci`       the container registry through the OCI distribution API
* :mod:`.buildlog`  what a build log says about the cache (hit, miss, steps)
* :mod:`.mapping`   which job builds which image, which repository holds which image

    from cachecost.collect import run_fetch
    run_fetch("https://gitlab.com", "qemu-project/qemu", since="2025-09-01")
"""

import importlib
from typing import Any


def __getattr__(name: str) -> Any:  # PEP 562: the heavy imports wait until asked for
    if name in __all__:
        return getattr(importlib.import_module("cachecost.collect.fetch"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["run_fetch"]
