"""Chapter 12: the Inception block, GoogLeNet in its book and native forms, and the record."""

from __future__ import annotations

import numpy as onp
from mxnet import init, np, npx

from d2lcnn.lessons import (
    GOOGLENET_INCEPTIONS,
    GOOGLENET_SPECS,
    GoogLeNet,
    Inception,
    scale_inception,
)
from d2lcnn.tools.summary import summary

npx.set_np()


def test_inception_concatenates_the_four_paths():
    block = Inception(64, (96, 128), (16, 32), 32, in_channels=192)
    block.initialize()
    assert block.out_channels == 64 + 128 + 32 + 32 == 256
    assert block(np.zeros((2, 192, 12, 12))).shape == (2, 256, 12, 12)
    # The 1×1 reductions before the 3×3 and 5×5 convolutions: 192 → 96 → 128 and 192 → 16 → 32.
    assert block.p2_2.weight.shape == (128, 96, 3, 3)
    assert block.p3_2.weight.shape == (32, 16, 5, 5)


def test_inception_keeps_its_input_in_the_pooling_path():
    # With the other paths' weights at zero and path 4's 1×1 convolution the identity, the last
    # channels are the 3×3 max pooling (stride 1, padding 1) of the input.
    block = Inception(1, (1, 1), (1, 1), 2, in_channels=2)
    block.initialize(init.Zero())
    block.p4_2.weight.set_data(np.eye(2).reshape(2, 2, 1, 1))
    X = np.array(onp.random.RandomState(0).uniform(size=(1, 2, 5, 5)).astype("float32"))
    padded = onp.pad(X.asnumpy(), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-onp.inf)
    pooled = onp.max([padded[:, :, i:i + 5, j:j + 5] for i in range(3) for j in range(3)], axis=0)
    out = block(X).asnumpy()
    onp.testing.assert_allclose(out[:, 3:], pooled, atol=1e-6)
    assert not out[:, :3].any()


def test_scale_inception():
    assert scale_inception((64, (96, 128), (16, 32), 32), 8) == (8, (12, 16), (2, 4), 4)
    assert scale_inception((64, (96, 128), (16, 32), 32), 1) == (64, (96, 128), (16, 32), 32)
    assert scale_inception((16, (16, 16), (16, 16), 16), 32) == (1, (1, 1), (1, 1), 1)


def _inception_channels(net):
    return [[block.out_channels for block in stage if isinstance(block, Inception)]
            for stage in net.features[2:]]


def test_book_form_is_the_books_googlenet():
    net = GoogLeNet(GOOGLENET_SPECS["book"])
    assert _inception_channels(net) == [[256, 480], [512, 512, 512, 528, 832], [832, 1024]]
    table = summary(net, (2, 1, 96, 96), depth=2)
    assert table.total_params == 5_977_530
    assert [r.output_shape for r in table.rows] == [
        (2, 64, 24, 24), (2, 192, 12, 12), (2, 480, 6, 6), (2, 832, 3, 3), (2, 1024, 1, 1),
        (2, 10)]


def test_native_form_divides_every_inception_width():
    spec = GOOGLENET_SPECS["native"]
    net = GoogLeNet(spec)
    expected = [[sum((c1, c2[1], c3[1], c4)) for c1, c2, c3, c4 in
                 (scale_inception(channels, spec["width_ratio"])
                  for channels in GOOGLENET_INCEPTIONS[stage])]
                for stage in ("b3", "b4", "b5")]
    assert _inception_channels(net) == expected


def test_native_form_sides_and_receptive_field():
    table = summary(GoogLeNet(GOOGLENET_SPECS["native"]), (2, 1, 28, 28), depth=2)
    assert table.output_shape == (2, 10)
    sides = [r.output_shape[-1] for r in table.rows[:5]]
    assert sides == [14, 7, 4, 2, 1]  # b1 and b2 pool 28 → 14 → 7, b3 and b4 pool again
    assert table.rows[2].receptive_field >= 28  # b3's output sees the whole image
    leaves = summary(GoogLeNet(GOOGLENET_SPECS["native"]), (1, 1, 28, 28))
    spatial = [r for r in leaves.rows if r.receptive_field is not None]
    assert spatial[-1].receptive_field >= 28
    book = summary(GoogLeNet(GOOGLENET_SPECS["book"]), (1, 1, 96, 96))
    assert leaves.total_macs * 10 < book.total_macs
