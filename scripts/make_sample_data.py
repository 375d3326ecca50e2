#!/usr/bin/env python3
"""Regenerate the bundled synthetic sample dataset in data/sample/.

    python scripts/make_sample_data.py            # default settings, deterministic
    python scripts/make_sample_data.py --out DIR  # somewhere else

The data is synthetic and labeled so in its metadata (is_synthetic: true).
"""

from __future__ import annotations

import argparse
import sys

from cachecost.config import SAMPLE_DATA_DIR
from cachecost.dataset.io import write_dataset
from cachecost.dataset.sample import SampleSettings, generate_sample


def main(argv: list[str] | None = None) -> int:
    """Write the sample and print its counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(SAMPLE_DATA_DIR), help="output directory")
    args = parser.parse_args(argv)
    ds = generate_sample(SampleSettings())
    write_dataset(ds, args.out)
    counts = ds.metadata["generator"]["counts"]
    print(f"wrote synthetic sample to {args.out}: " +
          ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
