"""Chapter 11: the 1×1 convolution, the NiN block, NiN in its book and native forms, and the
record."""

from __future__ import annotations

import numpy as onp
import pytest
from mxnet import np, npx
from mxnet.gluon import nn

from d2lcnn.lessons import ALEXNET_SPECS, NIN_SPECS, AlexNet, NiN, nin_block
from d2lcnn.tools.summary import summary

npx.set_np()


def test_a_1x1_convolution_is_a_dense_layer_at_every_pixel():
    X = np.array(onp.random.RandomState(0).uniform(size=(4, 3, 7, 7)).astype("float32"))
    conv, dense = nn.Conv2D(5, kernel_size=1, in_channels=3), nn.Dense(5, in_units=3)
    conv.initialize()
    dense.initialize()
    dense.weight.set_data(conv.weight.data().reshape(5, 3))
    dense.bias.set_data(conv.bias.data())
    Y_dense = dense(X.transpose(0, 2, 3, 1).reshape(-1, 3)).reshape(4, 7, 7, 5)
    onp.testing.assert_allclose(conv(X).asnumpy(), Y_dense.transpose(0, 3, 1, 2).asnumpy(),
                                atol=1e-6)


def test_global_average_pooling_is_the_mean():
    X = np.array(onp.random.RandomState(0).uniform(size=(2, 4, 5, 6)).astype("float32"))
    Y = nn.GlobalAvgPool2D()(X)
    onp.testing.assert_allclose(Y.asnumpy()[:, :, 0, 0], X.asnumpy().mean(axis=(2, 3)), atol=1e-6)


def test_nin_block():
    block = nin_block(16, kernel_size=5, strides=1, padding=2, in_channels=3)
    block.initialize()
    assert block(np.zeros((2, 3, 12, 12))).shape == (2, 16, 12, 12)
    assert [b._kwargs["kernel"] for b in block] == [(5, 5), (1, 1), (1, 1)]
    strided = nin_block(96, kernel_size=11, strides=4, padding=0, in_channels=1)
    strided.initialize()
    assert strided(np.zeros((1, 1, 224, 224))).shape == (1, 96, 54, 54)


def test_book_form_is_the_books_nin():
    table = summary(NiN(NIN_SPECS["book"]), (2, 1, 224, 224))
    assert table.output_shape == (2, 10)
    assert table.total_params == 1_992_166
    assert not any(r.kind.startswith("Dense") for r in table.rows)
    # An order of magnitude fewer parameters than AlexNet.
    alexnet = summary(AlexNet(ALEXNET_SPECS["book"]), (1, 1, 224, 224))
    assert alexnet.total_params == 46_764_746
    assert table.total_params * 20 < alexnet.total_params


def _expected_params(spec, num_classes=10, in_channels=1):
    """Parameters of a NiN spec counted from the spec alone: per block, the first convolution
    and two 1×1 convolutions, each with a bias, or (with batch norm) with 4 numbers per channel
    in its batch norm instead."""
    total = 0
    per_channel = 4 if spec["batch_norm"] else 1
    blocks = [(c, k) for c, k, _, _ in spec["blocks"]] + [(num_classes, spec["classifier"][0])]
    for channels, kernel in blocks:
        total += kernel * kernel * in_channels * channels + per_channel * channels
        total += 2 * (channels * channels + per_channel * channels)
        in_channels = channels
    return total


@pytest.mark.parametrize("name, size", [("book", 224), ("native", 28)])
def test_parameters_follow_the_spec(name, size):
    assert summary(NiN(NIN_SPECS[name]), (1, 1, size, size)).total_params == _expected_params(
        NIN_SPECS[name])


def test_native_form_sides_and_receptive_field():
    table = summary(NiN(NIN_SPECS["native"]), (1, 1, 28, 28))
    assert not any(r.kind.startswith("Dense") for r in table.rows)
    pools = [r.output_shape[-1] for r in table.rows if r.kind.startswith("MaxPool")]
    assert pools == [13, 6, 2]
    assert table.rows[0].output_shape[-1] == 28  # the first block keeps every pixel
    spatial = [r for r in table.rows if r.receptive_field is not None]
    assert spatial[-1].receptive_field >= 28
    assert table.total_macs * 10 < summary(NiN(NIN_SPECS["book"]), (1, 1, 224, 224)).total_macs
