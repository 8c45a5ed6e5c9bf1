"""Chapter 05's count of the original LeNet-5 (d2lcnn.lessons.receptive_fields) against the paper
(LeCun, Bottou, Bengio and Haffner, 1998, section II.B)."""

from __future__ import annotations

import pytest
from mxnet import np, npx
from mxnet.gluon import nn

from d2lcnn.lessons import C3_CONNECTIONS, lenet5_layer_table, lenet5_totals, num_params

npx.set_np()


def _by_name(c3: str) -> dict:
    return {layer.name: layer for layer in lenet5_layer_table(c3)}


def test_layers_as_in_the_paper():
    layers = _by_name("partial")
    expected = {  # (trained parameters, connections)
        "C1": (156, 122_304), "S2": (12, 5_880), "C3": (1_516, 151_600), "S4": (32, 2_000),
        "C5": (48_120, 48_120), "F6": (10_164, 10_164), "output": (0, 840),
    }
    assert {name: (layer.params, layer.connections) for name, layer in layers.items()} == expected
    assert [layer.output for layer in layers.values()] == [
        "6×28×28", "6×14×14", "16×10×10", "16×5×5", "120×1×1", "84", "10"]
    # The RBF output layer's 10 × 84 centres are fixed by hand: connections, not parameters.
    assert {name: layer.fixed for name, layer in layers.items() if layer.fixed} == {"output": 840}
    # The paper: 340,908 connections and 60,000 trainable parameters.
    assert lenet5_totals("partial") == (60_000, 340_908)


def test_full_c3():
    c3 = _by_name("full")["C3"]
    assert (c3.params, c3.connections) == (2_416, 241_600)
    assert lenet5_totals("full") == (60_000 + 900, 340_908 + 90_000)


def test_same_padding_lenet_from_the_full_c3_count():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, 5, padding=2), nn.AvgPool2D(2, 2), nn.Conv2D(16, 5), nn.AvgPool2D(2, 2),
            nn.Dense(120), nn.Dense(84), nn.Dense(10))
    net.initialize()
    net(np.zeros((1, 1, 28, 28)))
    # No trainable subsampling (−12, −32); the output layer's 840 weights are trained, + 10 biases.
    assert num_params(net) == lenet5_totals("full")[0] - 12 - 32 + 840 + 10 == 61_706


def test_c3_table_shape():
    assert len(C3_CONNECTIONS) == 16
    assert sorted(len(maps) for maps in C3_CONNECTIONS) == [3] * 6 + [4] * 9 + [6]
    assert all(set(maps) <= set(range(6)) for maps in C3_CONNECTIONS)
    assert sum(len(maps) for maps in C3_CONNECTIONS) == 60  # of the 96 map pairs


def test_bad_c3_is_explained():
    with pytest.raises(ValueError, match="partial"):
        lenet5_layer_table("some")
