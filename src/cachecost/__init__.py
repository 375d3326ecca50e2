"""cachecost: measure and model what CI container-image caching costs.

The public API, for notebooks and a Python prompt::

    import cachecost
    ds = cachecost.load_dataset()          # the bundled synthetic sample, or a path
    cachecost.describe_dataset(ds)         # the same dict as `cachecost data --json`
"""

from cachecost.dataset import Dataset, describe_dataset, load_dataset, write_dataset
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
