"""Chapter 14: the residual block, ResNet-18 in its book and native forms, and its record."""

from __future__ import annotations

import numpy as onp
import pytest
from mxnet import np, npx

from d2lcnn.lessons import RESNET18, RESNET_SPECS, Residual, ResNet, resnet_block
from d2lcnn.tools.summary import summary

npx.set_np()


def test_residual_shapes_with_and_without_1x1_conv():
    X = np.zeros((4, 3, 6, 6))
    same = Residual(3)
    down = Residual(6, use_1x1conv=True, strides=2)
    for block in (same, down):
        block.initialize()
    assert same.conv3 is None and same(X).shape == (4, 3, 6, 6)
    assert down.conv3 is not None and down(X).shape == (4, 6, 3, 3)
    broken = Residual(6, strides=2)
    broken.initialize()
    with pytest.raises(Exception, match="broadcast"):
        broken(X).wait_to_read()


def test_residual_adds_the_input():
    # With the convolutions' weights at zero the block is relu(bn2(0 + bias) + x) = relu(x).
    block = Residual(3, in_channels=3)
    block.initialize()
    for conv in (block.conv1, block.conv2):
        conv.weight.set_data(np.zeros_like(conv.weight.data()))
    X = np.array(onp.random.RandomState(0).normal(size=(2, 3, 5, 5)).astype("float32"))
    onp.testing.assert_allclose(block(X).asnumpy(), onp.maximum(X.asnumpy(), 0), atol=1e-5)


def test_residual_block_parameters():
    # Two 3×3 convolutions and two batch norms; the downsampling one adds a 1×1 shortcut.
    identity = summary(Residual(64), (1, 64, 56, 56))
    down = summary(Residual(128, use_1x1conv=True, strides=2), (1, 64, 56, 56))
    assert (identity.total_params, identity.non_trainable_params) == (74_368, 256)
    assert (down.total_params, down.non_trainable_params) == (230_784, 512)
    assert down.output_shape == (1, 128, 28, 28)
    assert down.total_macs < identity.total_macs


def test_resnet_block_downsamples_all_but_the_first_stage():
    first = resnet_block(8, 2, first_block=True, in_channels=8)
    later = resnet_block(16, 2, in_channels=8)
    assert [b.conv3 is not None for b in first] == [False, False]
    assert [b.conv3 is not None for b in later] == [True, False]
    for stage in (first, later):
        stage.initialize()
    X = np.zeros((2, 8, 10, 10))
    assert first(X).shape == (2, 8, 10, 10)
    assert later(X).shape == (2, 16, 5, 5)


def test_book_form_is_the_books_resnet18():
    table = summary(ResNet(RESNET_SPECS["book"]), (2, 1, 96, 96), depth=2)
    assert table.output_shape == (2, 10)
    assert (table.total_params, table.non_trainable_params) == (11_186_186, 7_808)
    stages = [r.output_shape for r in table.rows if r.kind == "HybridSequential"]
    assert stages == [(2, 64, 24, 24), (2, 128, 12, 12), (2, 256, 6, 6), (2, 512, 3, 3)]


def _layers_with_weights(table):
    return [r for r in table.rows if r.kind.split()[0] in ("Conv2D", "Dense")
            and not r.kind.startswith("Conv2D 1×1")]


@pytest.mark.parametrize("name", ["book", "native"])
def test_both_forms_have_18_layers_with_weights(name):
    size = RESNET18.form(name).input_size
    assert len(_layers_with_weights(summary(ResNet(RESNET_SPECS[name]), (1, 1, size, size)))) == 18


def test_native_form_sees_the_whole_image():
    table = summary(ResNet(RESNET_SPECS["native"]), (1, 1, 28, 28))
    spatial = [r for r in table.rows if r.receptive_field is not None]
    assert spatial[-1].receptive_field >= 28
    assert spatial[-1].output_shape[-1] >= 2  # the last stage still has a grid, not one pixel
    assert table.total_macs * 10 < summary(ResNet(RESNET_SPECS["book"]), (1, 1, 96, 96)).total_macs
