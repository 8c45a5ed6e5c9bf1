"""Chapter 10: the VGG block, VGG-11 in its book and native forms, the paper's configurations,
and the record."""

from __future__ import annotations

import pytest
from mxnet import np, npx
from mxnet.gluon import nn

from d2lcnn.lessons import VGG, VGG_CONV_ARCHS, VGG_SPECS, vgg_block
from d2lcnn.tools.summary import summary

npx.set_np()


def test_vgg_block_halves_the_side():
    block = vgg_block(2, 8, in_channels=3)
    block.initialize()
    assert block(np.zeros((2, 3, 16, 16))).shape == (2, 8, 8, 8)
    assert sum(isinstance(b, nn.Conv2D) for b in block) == 2
    padded = vgg_block(1, 8, in_channels=3, first_padding=3)
    padded.initialize()
    assert padded(np.zeros((2, 3, 28, 28))).shape == (2, 8, 16, 16)  # 28 → 32 → 16


def test_vgg_block_with_batch_norm():
    block = vgg_block(2, 8, in_channels=3, batch_norm=True)
    assert [[type(layer).__name__ for layer in b] for b in block[:2]] == [
        ["Conv2D", "BatchNorm", "Activation"]] * 2
    assert type(block[2]).__name__ == "MaxPool2D"
    assert block[0][0].bias is None  # batch norm's shift does the bias's work


def test_book_form_is_vgg11_with_a_quarter_of_the_channels():
    assert VGG_SPECS["book"]["blocks"] == tuple((n, c // 4) for n, c in VGG_CONV_ARCHS[11])
    table = summary(VGG(VGG_SPECS["book"]), (2, 1, 224, 224))
    assert table.output_shape == (2, 10)
    assert table.total_params == 43_093_322
    pools = [r.output_shape[-1] for r in table.rows if r.kind.startswith("MaxPool")]
    assert pools == [112, 56, 28, 14, 7]


def _expected_params(spec, num_classes=10, in_channels=1):
    """Parameters of a VGG spec counted from the spec alone: 3×3 convolutions, dense layers, and
    4 numbers per channel for each batch norm."""
    total, channels = 0, in_channels
    for num_convs, out in spec["blocks"]:
        for _ in range(num_convs):
            # with batch norm: no bias in the convolution, 4 numbers per channel in the norm
            total += 9 * channels * out + (4 * out if spec["batch_norm"] else out)
            channels = out
    units = channels  # five halvings of 32 (native) leave 1×1 maps
    for width in (*spec["dense"], num_classes):
        total += units * width + width
        units = width
    return total


@pytest.mark.parametrize("batch_norm", [False, True])
def test_native_form_parameters_follow_its_spec(batch_norm):
    spec = {**VGG_SPECS["native"], "batch_norm": batch_norm}
    table = summary(VGG(spec), (2, 1, 28, 28))
    assert table.output_shape == (2, 10)
    assert table.total_params == _expected_params(spec)


def test_native_form_pads_to_32_and_sees_the_whole_image():
    table = summary(VGG(VGG_SPECS["native"]), (1, 1, 28, 28))
    assert table.rows[0].output_shape[-1] == 32
    pools = [r.output_shape[-1] for r in table.rows if r.kind.startswith("MaxPool")]
    assert pools == [16, 8, 4, 2, 1]
    spatial = [r for r in table.rows if r.receptive_field is not None]
    assert spatial[-1].receptive_field >= 28
    book = summary(VGG(VGG_SPECS["book"]), (1, 1, 224, 224))
    assert table.total_macs * 10 < book.total_macs
    assert table.total_params * 10 < book.total_params


def test_imagenet_vgg_parameter_counts():
    # Simonyan and Zisserman's 133 M and 138 M: 224×224×3, 1000 classes, full width.
    counts = {}
    for depth in (11, 16):
        spec = {**VGG_SPECS["book"], "blocks": VGG_CONV_ARCHS[depth]}
        table = summary(VGG(spec, num_classes=1000, in_channels=3), (1, 3, 224, 224))
        assert table.output_shape == (1, 1000)
        conv = sum(r.params for r in table.rows if r.kind.startswith("Conv2D"))
        counts[depth] = (table.total_params, conv)
    assert counts[11] == (132_863_336, 9_220_480)
    assert counts[16] == (138_357_544, 14_714_688)
