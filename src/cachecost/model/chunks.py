"""Joining the Monte Carlo's chunks of samples into whole arrays, sharing memory.

:func:`cachecost.model.simulate.simulate` evaluates cache-sized chunks of samples;
:func:`merge_chunks` joins their ``{strategy: {metric: array}}`` results.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Blocks this large are mapped fresh for every call: glibc's malloc maps any
#: allocation above ``DEFAULT_MMAP_THRESHOLD_MAX`` (32 MiB on 64-bit) with ``mmap``
#: and never serves it from memory freed before (malloc/malloc.c).
FRESH_MAPPING_BYTES = 1 << 25


def merge_chunks(parts: list[dict[str, dict[str, np.ndarray]]]
                  ) -> dict[str, dict[str, np.ndarray]]:
    """Join the chunks' arrays along the samples, read-only. An array shared between
    strategies or metrics within every chunk is joined once and stays shared; so is an
    array equal, in every chunk, to one already joined (a cost two strategies share,
    a registry view no cleanup changes); one value throughout is a read-only
    broadcast, and so is a (K, M) series repeating one column (its column joined).

    The joined arrays are rows of one block of memory per shape (about 65 MB at
    100,000 samples, :func:`_block`)."""
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
        block = _block((len(group), k, *trailing))
        for row, j in zip(block, group, strict=True):
            np.concatenate([a[:, 0] if j.kind == "column" else a for a in j.arrays], out=row)
        block.flags.writeable = False
        for row, j in zip(block, group, strict=True):
            m = j.arrays[0].shape[1] if j.kind == "column" else 0
            j.merged = np.broadcast_to(row[:, None], (k, m)) if j.kind == "column" else row


def _block(shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised float array of ``shape``; at :data:`FRESH_MAPPING_BYTES` or
    more, in private anonymous memory mapped here rather than by numpy, so not
    advised to take transparent huge pages.

    numpy asks the kernel for huge pages on every array of 4 MiB or more
    (numpy/_core/src/multiarray/alloc.c, ``indicate_hugepages``); with the kernel's
    default THP ``defrag`` setting (``madvise``) the first write of each 2 MiB page
    of freshly mapped memory may then wait while the kernel compacts memory to find
    one. Filling the 42 MiB block of (K,) rows at 100,000 samples inside repeated
    ``run_model`` calls so took either 0.01 s (free huge pages at hand) or
    0.12-0.16 s (compaction), by the state of the machine's memory; here it takes
    a steady 0.024-0.026 s of ordinary 4 KiB page faults (docs/model.md section 7).
    The memory is returned when the last array viewing it is freed. Smaller blocks
    (malloc reuses freed memory, already paged in) and platforms without anonymous
    ``mmap`` flags: :func:`numpy.empty`."""
    size_bytes = int(np.prod(shape)) * np.dtype(float).itemsize
    private, anonymous = getattr(mmap, "MAP_PRIVATE", 0), getattr(mmap, "MAP_ANONYMOUS", 0)
    if size_bytes < FRESH_MAPPING_BYTES or not (private and anonymous):
        return np.empty(shape)
    memory = mmap.mmap(-1, size_bytes, flags=private | anonymous)
    return np.frombuffer(memory, dtype=float).reshape(shape)
