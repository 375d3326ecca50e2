"""Stage 0, the dataset: what every other stage reads and writes.

* :mod:`.schema`   tables, columns, units and types
* :mod:`.io`       load, validate, write (atomically) and describe a dataset directory
* :mod:`.catalog`  QEMU's 24 CI images: the reference project's shape
* :mod:`.sample`   the bundled synthetic sample's generator

    from cachecost.dataset import load_dataset
    ds = load_dataset()          # the bundled synthetic sample
"""

from cachecost.dataset.io import Dataset, describe_dataset, load_dataset, write_dataset

__all__ = ["Dataset", "describe_dataset", "load_dataset", "write_dataset"]
