"""Chapter 15: the dense block, the transition layer, DenseNet in its book and native forms,
and its record."""

from __future__ import annotations

import mxnet as mx
import numpy as onp
import pytest
from mxnet import np, npx

from d2lcnn.lessons import (
    DENSENET_SPECS,
    DenseBlock,
    DenseNet,
    conv_block,
    transition_block,
)
from d2lcnn.tools.summary import summary

npx.set_np()


def test_conv_block_is_pre_activation():
    block = conv_block(8, in_channels=3)
    assert [type(b).__name__ for b in block] == ["BatchNorm", "Activation", "Conv2D"]
    block.initialize()
    assert block(np.zeros((2, 3, 5, 5))).shape == (2, 8, 5, 5)


@pytest.mark.parametrize("in_channels", [3, 0])  # given, or inferred at the first pass
def test_dense_block_grows_the_channels(in_channels):
    block = DenseBlock(2, 10, in_channels=in_channels)
    block.initialize()
    assert block(np.zeros((4, 3, 8, 8))).shape == (4, 3 + 2 * 10, 8, 8)
    assert summary(DenseBlock(4, 32, in_channels=64), (1, 64, 24, 24)).output_shape == (
        1, 64 + 4 * 32, 24, 24)


def test_dense_block_keeps_its_input():
    block = DenseBlock(2, 4, in_channels=3)
    block.initialize()
    X = np.array(onp.random.RandomState(0).uniform(size=(2, 3, 5, 5)).astype("float32"))
    Y = block(X)
    onp.testing.assert_array_equal(Y[:, :3].asnumpy(), X.asnumpy())
    first = block.net[0](X)  # the first convolution's output comes next
    onp.testing.assert_allclose(Y[:, 3:7].asnumpy(), first.asnumpy(), atol=1e-6)


def test_transition_halves_channels_and_side():
    transition = transition_block(10, in_channels=23)
    transition.initialize()
    assert transition(np.zeros((4, 23, 8, 8))).shape == (4, 10, 4, 4)
    assert transition(np.zeros((4, 23, 7, 7))).shape == (4, 10, 3, 3)  # rounding down


def test_book_form_channel_arithmetic_and_parameters():
    # 64 → +4·32 = 192 → /2 = 96 → 224 → 112 → 240 → 120 → 248.
    table = summary(DenseNet(DENSENET_SPECS["book"]), (2, 1, 96, 96), depth=2)
    channels = [r.output_shape[1] for r in table.rows
                if r.kind in ("DenseBlock", "HybridSequential")]
    assert channels == [192, 96, 224, 112, 240, 120, 248]
    assert table.output_shape == (2, 10)
    assert (table.total_params, table.non_trainable_params) == (764_834, 6_608)


def test_native_form_channels_follow_the_rule():
    spec = DENSENET_SPECS["native"]
    channels, expected = spec["stem"][0], []
    for i, convs in enumerate(spec["blocks"]):
        channels += convs * spec["growth_rate"]
        expected.append(channels)
        if i < len(spec["blocks"]) - 1:
            channels //= 2
            expected.append(channels)
    table = summary(DenseNet(spec), (1, 1, 28, 28), depth=2)
    assert [r.output_shape[1] for r in table.rows
            if r.kind in ("DenseBlock", "HybridSequential")] == expected


def test_native_form_sees_the_whole_image():
    table = summary(DenseNet(DENSENET_SPECS["native"]), (1, 1, 28, 28))
    spatial = [r for r in table.rows if r.receptive_field is not None]
    assert spatial[-1].receptive_field >= 28
    book = summary(DenseNet(DENSENET_SPECS["book"]), (1, 1, 96, 96))
    assert table.total_params < book.total_params and table.total_macs < book.total_macs


def test_book_form_cannot_run_at_28():
    # Its transitions halve 7 → 3 → 1 → nothing: the third has no 2×2 window to average.
    net = DenseNet(DENSENET_SPECS["book"])
    net.initialize()
    with pytest.raises(mx.base.MXNetError):
        net(np.zeros((1, 1, 28, 28))).wait_to_read()
