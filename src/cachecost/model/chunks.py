"""Joining the Monte Carlo's chunks of samples into whole arrays, sharing memory.

:func:`cachecost.model.simulate.simulate` evaluates cache-sized chunks of samples;
:func:`merge_chunks` joins their ``{strategy: {metric: array}}`` results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def merge_chunks(parts: list[dict[str, dict[str, np.ndarray]]]
                  ) -> dict[str, dict[str, np.ndarray]]:
    """Join the chunks' arrays along the samples, read-only. An array shared between
    strategies or metrics within every chunk is joined once and stays shared; so is an
    array equal, in every chunk, to one already joined (a cost two strategies share,
    a registry view no cleanup changes); one value throughout is a read-only
    broadcast, and so is a (K, M) series repeating one column (its column joined).

    The joined arrays are rows of one block of memory per shape (about 50 MB at
    100,000 samples): one allocation the kernel backs with huge pages, where some
    sixty separate 0.8 MB arrays each page-faulted ~200 times when first written
    (12,000 faults, ~30 ms)."""
    done: dict[tuple[int, ...], _Joined] = {}
    joined: dict[tuple[Any, ...], list[_Joined]] = {}
    for name in parts[0]:
        for key in parts[0][name]:
            arrays = [part[name][key] for part in parts]
            ids = tuple(id(a) for a in arrays)
            if ids not in done:
                done[ids] = _join(arrays, joined)
    _fill([j for same in joined.values() for j in same])
    return {name: {key: done[tuple(id(part[name][key]) for part in parts)].merged
                   for key in parts[0][name]} for name in parts[0]}


@dataclass
class _Joined:
    """One merged array in the making: the chunks' ``arrays`` and, once
    :func:`_fill` has run, the read-only ``merged`` array."""

    arrays: list[np.ndarray]
    kind: str                   # "constant", "column" (a (K, M) broadcast column), "full"
    merged: np.ndarray = field(default_factory=lambda: np.empty(0))


def _join(arrays: list[np.ndarray], joined: dict[tuple[Any, ...], list[_Joined]]
          ) -> _Joined:
    """The merged array for the chunks' ``arrays``: an equal one in ``joined``, or a
    new one (recorded there)."""
    first = arrays[0]
    probe = (first.shape[1:], first.flat[0].item(), first.flat[-1].item())
    same = joined.setdefault(probe, [])
    for other in same:
        if all(np.array_equal(a, b) for a, b in zip(arrays, other.arrays, strict=True)):
            return other
    value = first.flat[0]
    if all(a.min() == value and a.max() == value for a in arrays):
        kind = "constant"
    elif first.ndim == 2 and all(a.strides[1] == 0 for a in arrays):
        kind = "column"
    else:
        kind = "full"
    same.append(_Joined(arrays, kind))
    return same[-1]


def _fill(merges: list[_Joined]) -> None:
    """Set every ``merged``: constants as broadcasts, the rest joined into rows of one
    read-only block per trailing shape ((K,) rows, (K, M) series)."""
    by_shape: dict[tuple[int, ...], list[_Joined]] = {}
    for j in merges:
        k = sum(len(a) for a in j.arrays)
        first = j.arrays[0]
        if j.kind == "constant":
            j.merged = np.broadcast_to(first.flat[0], (k, *first.shape[1:]))
        else:
            by_shape.setdefault(() if j.kind == "column" else first.shape[1:], []).append(j)
    for trailing, group in by_shape.items():
        k = sum(len(a) for a in group[0].arrays)
        block = np.empty((len(group), k, *trailing))
        for row, j in zip(block, group, strict=True):
            np.concatenate([a[:, 0] if j.kind == "column" else a for a in j.arrays], out=row)
        block.flags.writeable = False
        for row, j in zip(block, group, strict=True):
            m = j.arrays[0].shape[1] if j.kind == "column" else 0
            j.merged = np.broadcast_to(row[:, None], (k, m)) if j.kind == "column" else row
