"""cachecost: measure and model what CI container-image caching costs.

The public API, for notebooks and a Python prompt::

    import cachecost
    ds = cachecost.load_dataset()          # the bundled synthetic sample, or a path
    cachecost.describe_dataset(ds)         # the same dict as `cachecost data --json`

The dataset functions are imported on first use (they bring pandas and
pyarrow), so ``cachecost --version`` and ``--help`` start in a blink.
"""

from typing import TYPE_CHECKING, Any

from cachecost.errors import CachecostError

__version__ = "0.1.0"  # the one place: pyproject.toml reads it (dynamic version)

__all__ = [
    "CachecostError",
    "Dataset",
    "__version__",
    "describe_dataset",
    "load_dataset",
    "write_dataset",
]

_FROM_DATASET = ("Dataset", "describe_dataset", "load_dataset", "write_dataset")

if TYPE_CHECKING:
    from cachecost.dataset import Dataset, describe_dataset, load_dataset, write_dataset


def __getattr__(name: str) -> Any:
    """Import the dataset API on first use (PEP 562)."""
    if name in _FROM_DATASET:
        import cachecost.dataset

        return getattr(cachecost.dataset, name)
    raise AttributeError(f"module 'cachecost' has no attribute {name!r}")
