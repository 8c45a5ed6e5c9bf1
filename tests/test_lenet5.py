"""d2lcnn.lenet5: the original LeNet-5's parameters and connections, against the paper."""

from __future__ import annotations

import pytest

from d2lcnn.lenet5 import C3_CONNECTIONS, lenet5_layer_table, lenet5_totals


def _by_name(c3: str) -> dict:
    return {layer.name: layer for layer in lenet5_layer_table(c3)}


def test_layers_as_in_the_paper():
    layers = _by_name("partial")
    expected = {  # LeCun et al. 1998, section II.B
        "C1": (156, 122_304), "S2": (12, 5_880), "C3": (1_516, 151_600), "S4": (32, 2_000),
        "C5": (48_120, 48_120), "F6": (10_164, 10_164), "output": (840, 840),
    }
    assert {name: (layer.params, layer.connections) for name, layer in layers.items()} == expected
    assert [layer.output for layer in layers.values()] == ["6×28×28", "6×14×14", "16×10×10", "16×5×5",
                                                   "120×1×1", "84", "10"]
    assert lenet5_totals("partial") == (60_840, 340_908)  # the paper's 340,908 connections


def test_full_c3_as_in_the_notes():
    c3 = _by_name("full")["C3"]
    assert (c3.params, c3.connections) == (2_416, 241_600)
    assert lenet5_totals("full")[0] == 60_840 + 900


def test_c3_table_shape():
    assert len(C3_CONNECTIONS) == 16
    assert sorted(len(maps) for maps in C3_CONNECTIONS) == [3] * 6 + [4] * 9 + [6]
    assert all(set(maps) <= set(range(6)) for maps in C3_CONNECTIONS)


def test_bad_c3_is_explained():
    with pytest.raises(ValueError, match="partial"):
        lenet5_layer_table("some")
