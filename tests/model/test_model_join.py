"""Joining the simulation's chunks (``chunks.merge_chunks``): every figure is exactly the
concatenation of its chunks, while arrays stay shared only as long as every chunk
agrees, and one value or one repeated column stays a broadcast."""

from __future__ import annotations

import numpy as np
import pytest

from cachecost.model.chunks import merge_chunks


def _parts():
    """Two chunks of 3 and 2 rows. In chunk 1: ``a`` and ``b`` are one array, ``c``
    equals it in content, ``zero`` is all 0, ``col`` repeats one column, ``flat`` is 7
    throughout. In chunk 2: ``b`` parts from ``a`` (so must ``b`` take a's first 3
    rows), ``c`` still equals ``a``, ``zero`` holds a 5 (so its first 3 rows are 0),
    ``col`` is a full (2, 4) matrix, ``flat`` is still 7."""
    a1 = np.array([1.0, 2.0, 3.0])
    col1 = np.broadcast_to(np.array([1.0, 2.0, 3.0])[:, None], (3, 4))
    chunk1 = {"s": {"a": a1, "b": a1, "c": a1.copy(), "zero": np.zeros(3),
                    "col": col1, "flat": np.full(3, 7.0)}}
    a2 = np.array([4.0, 5.0])
    col2 = np.arange(8.0).reshape(2, 4)
    chunk2 = {"s": {"a": a2, "b": np.array([4.0, 6.0]), "c": a2.copy(),
                    "zero": np.array([0.0, 5.0]), "col": col2, "flat": np.full(2, 7.0)}}
    return chunk1, chunk2


def test_join_matches_concatenation():
    """Hand check: b = [1, 2, 3, 4, 6], zero = [0, 0, 0, 0, 5]; col's first 3 rows
    repeat 1, 2, 3 across its 4 columns. a, b and zero are rows of one block."""
    chunk1, chunk2 = _parts()
    out = merge_chunks([chunk1, chunk2])["s"]
    for key in chunk1["s"]:
        expected = np.concatenate([np.broadcast_to(chunk1["s"][key], chunk1["s"][key].shape),
                                   chunk2["s"][key]])
        np.testing.assert_array_equal(out[key], expected)
        assert not out[key].flags.writeable
    np.testing.assert_array_equal(out["b"], [1, 2, 3, 4, 6])
    np.testing.assert_array_equal(out["zero"], [0, 0, 0, 0, 5])
    assert out["a"] is out["c"]                 # equal in every chunk: one array
    assert out["b"] is not out["a"]
    assert out["flat"].strides == (0,)          # one value throughout: a broadcast
    assert out["col"].strides[1] != 0
    # the distinct (K,) figures are rows of one read-only block (one allocation)
    assert out["a"].base is out["b"].base is out["zero"].base is not None


def test_join_keeps_a_repeated_column_and_a_constant_as_views():
    """Two chunks whose (K, M) figure repeats one column in both stay a view of one
    (K,) column; a constant stays a broadcast of its value."""
    col = np.broadcast_to(np.array([1.0, 2.0])[:, None], (2, 3))
    parts = [{"s": {"col": col, "k": np.full(2, 3.0)}} for _ in range(2)]
    out = merge_chunks(parts)["s"]
    assert out["col"].strides[1] == 0
    np.testing.assert_array_equal(out["col"][:, 0], [1, 2, 1, 2])
    assert out["k"].strides == (0,) and float(out["k"][0]) == 3.0
    with pytest.raises(ValueError):
        out["k"][0] = 1.0
