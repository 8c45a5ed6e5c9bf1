"""summary(): per-layer shapes, parameters, multiply-adds and receptive fields, and the totals."""

from __future__ import annotations

import pytest
from mxnet import np, npx

from d2lcnn.lessons import (
    BN_LENET_SPECS,
    GOOGLENET_SPECS,
    RESNET_SPECS,
    BNLeNet,
    GoogLeNet,
    LeNet,
    ResNet,
)
from d2lcnn.tools.summary import side_by_side, summary

npx.set_np()


def test_lenet_table():
    table = summary(LeNet(), (1, 1, 28, 28))
    rows = [(r.name, r.kind, r.output_shape, r.params, r.macs, r.rf_text) for r in table.rows]
    assert rows == [
        ("features.0", "Conv2D 5×5/1 p2, sigmoid", (1, 6, 28, 28), 156, 117_600, "5"),
        ("features.1", "AvgPool2D 2×2/2", (1, 6, 14, 14), 0, 0, "6"),
        ("features.2", "Conv2D 5×5/1, sigmoid", (1, 16, 10, 10), 2_416, 240_000, "14"),
        ("features.3", "AvgPool2D 2×2/2", (1, 16, 5, 5), 0, 0, "16"),
        ("features.4", "Dense, sigmoid", (1, 120), 48_120, 48_000, "all"),
        ("features.5", "Dense, sigmoid", (1, 84), 10_164, 10_080, "all"),
        ("output", "Dense", (1, 10), 850, 840, "all"),
    ]
    assert table.total_params == table.trainable_params == 61_706
    assert table.non_trainable_params == 0
    assert table.total_macs == 416_520
    assert table.output_shape == (1, 10)
    text = str(table)
    assert text.splitlines()[0] == "LeNet, input 1×1×28×28"
    assert text.splitlines()[-1] == "total: 61,706 parameters, 416,520 multiply-adds per example"


def test_batch_size_does_not_change_per_example_counts():
    one, many = summary(LeNet(), (1, 1, 28, 28)), summary(LeNet(), (8, 1, 28, 28))
    assert one.total_macs == many.total_macs
    assert many.rows[0].output_shape == (8, 6, 28, 28)


def test_depth_aggregates_blocks():
    table = summary(LeNet(), (1, 1, 28, 28), depth=1)
    assert [(r.name, r.params, r.macs) for r in table.rows] == [
        ("features", 61_706 - 850, 416_520 - 840), ("output", 850, 840)]
    assert table.rows[0].output_shape == (1, 84)


def test_depth_lists_leaves_above_that_depth():
    # ResNet's stem layers are leaves at depth 2, its stages blocks at depth 2.
    table = summary(ResNet(RESNET_SPECS["book"]), (1, 1, 96, 96), depth=2)
    assert [r.kind.split()[0] for r in table.rows] == [
        "Conv2D", "BatchNorm", "Activation", "MaxPool2D", *["HybridSequential"] * 4,
        "GlobalAvgPool2D", "Dense"]
    assert sum(r.params for r in table.rows) == table.total_params
    assert sum(r.macs for r in table.rows) == table.total_macs


def test_moving_statistics_are_counted_apart():
    table = summary(BNLeNet(BN_LENET_SPECS["book"], builtin=True), (1, 1, 28, 28))
    assert table.non_trainable_params == 452
    assert "(44,878 trainable, 452 moving statistics)" in str(table)
    bn_rows = [r for r in table.rows if r.kind == "BatchNorm"]
    assert [r.params for r in bn_rows] == [4 * 6, 4 * 16, 4 * 120, 4 * 84]
    assert all(r.macs == 0 for r in bn_rows)


def test_receptive_field_through_branches():
    # Inception: the 5×5 path widens the field most; the next block sees the concatenation.
    table = summary(GoogLeNet(GOOGLENET_SPECS["book"]), (1, 1, 96, 96))
    rf = {r.name: r.receptive_field for r in table.rows}
    assert rf["features.1.2"] == 27  # after b2, jump 8
    assert rf["features.2.0.p1_1"] == 27
    assert rf["features.2.0.p2_2"] == 27 + 2 * 8
    assert rf["features.2.0.p3_2"] == 27 + 4 * 8
    assert rf["features.2.1.p1_1"] == 59  # the widest joined path
    assert rf["features.4.2"] is None  # global average pooling sees everything


def test_receptive_field_through_residual_blocks():
    table = summary(ResNet(RESNET_SPECS["book"]), (1, 1, 96, 96), depth=2)
    rf = [r.receptive_field for r in table.rows]
    # stem 7, pool 11 (jump 4); stage 1: four 3×3 at jump 4; stage 2 starts with stride 2.
    assert rf[:6] == [7, 7, 7, 11, 11 + 4 * 2 * 4, 43 + 8 + 3 * 16]


def test_hybridized_net_is_restored():
    net = LeNet()
    net.initialize()
    net.hybridize()
    summary(net, (1, 1, 28, 28))
    assert net._active
    assert net(np.zeros((2, 1, 28, 28))).shape == (2, 10)


def test_bad_input_shape():
    with pytest.raises(ValueError, match="batch, channels, height, width"):
        summary(LeNet(), (1, 28, 28))


def test_memory_columns_count_outputs_and_parameters():
    table = summary(LeNet(), (1, 1, 28, 28), memory=True)
    first = table.rows[0]
    assert first.activations == 6 * 28 * 28
    text = str(table)
    assert "act. KiB" in text and "param. KiB" in text
    assert f"{6 * 28 * 28 * 4 / 1024:,.1f}" in text.splitlines()[3]
    assert "MiB of outputs per example" in text.splitlines()[-1]


def test_title_names_the_network():
    assert str(summary(LeNet(), (1, 1, 28, 28), title="LeNet")).startswith("LeNet, input 1×1×28×28")


def test_side_by_side_skips_global_pooling_for_the_last_maps():
    book = summary(ResNet(RESNET_SPECS["book"]), (1, 1, 96, 96))
    native = summary(ResNet(RESNET_SPECS["native"]), (1, 1, 28, 28))
    text = side_by_side({"book": book, "native": native})
    assert "512×3×3" in text and "128×2×2" in text
    assert f"{book.total_params:,}" in text and f"{native.total_macs:,}" in text
