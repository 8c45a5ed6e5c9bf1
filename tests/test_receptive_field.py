"""Chapter 05's receptive fields (d2lcnn.lessons.receptive_fields): the backward and forward forms
agree with each other, with the geometry read from Gluon layers, with summary()'s RF column, and
with autograd (the pixels an output depends on)."""

from __future__ import annotations

import math

import numpy as onp
import pytest
from mxnet import autograd, init, np, npx
from mxnet.gluon import nn

from d2lcnn.lessons import (
    as_geometry,
    layers_from_net,
    num_params,
    receptive_field,
    receptive_field_steps,
)
from d2lcnn.tools.blocks import Geometry
from d2lcnn.tools.summary import summary

npx.set_np()

SEVEN_LAYERS = [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)]


def lenet_stack():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, 5, padding=2, activation="sigmoid"), nn.AvgPool2D(2, 2),
            nn.Conv2D(16, 5, activation="sigmoid"), nn.AvgPool2D(2, 2),
            nn.Dense(120, activation="sigmoid"), nn.Dense(84, activation="sigmoid"), nn.Dense(10))
    return net


def alexnet_stack():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(96, 11, strides=4, activation="relu"), nn.MaxPool2D(3, 2),
            nn.Conv2D(256, 5, padding=2, activation="relu"), nn.MaxPool2D(3, 2),
            nn.Conv2D(384, 3, padding=1, activation="relu"),
            nn.Conv2D(384, 3, padding=1, activation="relu"),
            nn.Conv2D(256, 3, padding=1, activation="relu"), nn.MaxPool2D(3, 2),
            nn.Dense(4096, activation="relu"), nn.Dropout(0.5),
            nn.Dense(4096, activation="relu"), nn.Dropout(0.5), nn.Dense(10))
    return net


@pytest.mark.parametrize("layers, expected", [
    ([(3, 1), (3, 1)], 5),
    ([(3, 1)] * 3, 7),
    ([(3, 2), (2, 1)], 5),
    (SEVEN_LAYERS, 30),
    ([], 1),
])
def test_worked_examples(layers, expected):
    assert receptive_field(layers) == expected
    steps = receptive_field_steps(layers)
    assert (steps[-1].receptive_field if steps else 1) == expected


def test_forward_form_jump_and_start():
    steps = receptive_field_steps(SEVEN_LAYERS)
    assert [s.jump for s in steps] == [1, 2, 2, 4, 4, 4, 8]
    assert [s.receptive_field for s in steps] == [3, 4, 8, 10, 18, 26, 30]
    # unpadded 3×3 conv: the first output is centred on input pixel 1 (centre 1.5)
    assert steps[0].start == 1.5


def test_forms_agree_after_every_layer():
    for n in range(1, len(SEVEN_LAYERS) + 1):
        assert receptive_field_steps(SEVEN_LAYERS[:n])[-1].receptive_field == \
            receptive_field(SEVEN_LAYERS[:n])


def test_as_geometry_defaults_and_geometry_passes_through():
    assert as_geometry(3) == Geometry(3, 1, 0, 1)
    assert as_geometry((3, 2)) == Geometry(3, 2, 0, 1)
    assert as_geometry([5, 1, 2]) == Geometry(5, 1, 2, 1)
    g = Geometry(3, 1, 1, 2)
    assert as_geometry(g) is g


def test_dilation_widens_the_kernel():
    assert as_geometry((3, 1, 0, 2)).effective_kernel == 5
    assert receptive_field([(3, 1, 0, 2), (3, 1, 0, 4)]) == 1 + 4 + 8


def test_lenet_and_alexnet_from_gluon():
    assert [(g.kernel, g.stride) for g in layers_from_net(lenet_stack())] == \
        [(5, 1), (2, 2), (5, 1), (2, 2)]
    assert layers_from_net(lenet_stack())[0] == Geometry(5, 1, 2, 1)
    assert receptive_field(layers_from_net(lenet_stack())) == 16
    assert receptive_field(layers_from_net(alexnet_stack())) == 195


def test_layers_from_net_walks_nested_blocks_and_skips_the_rest():
    net = nn.HybridSequential()
    inner = nn.HybridSequential()
    inner.add(nn.Conv2D(4, 3, dilation=2), nn.MaxPool2D(3, 2, padding=1))
    net.add(nn.Conv2D(4, 5, strides=2), inner, nn.GlobalAvgPool2D(), nn.Dense(10))
    assert layers_from_net(net) == [Geometry(5, 2, 0, 1), Geometry(3, 1, 0, 2),
                                    Geometry(3, 2, 1, 1)]


@pytest.mark.parametrize("make, shape", [(lenet_stack, (1, 1, 28, 28)),
                                         (alexnet_stack, (1, 1, 224, 224))])
def test_same_as_the_rf_column_of_summary(make, shape):
    rows = [r for r in summary(make(), shape).rows if r.receptive_field is not None]
    steps = receptive_field_steps(layers_from_net(make()))
    geometry_rows = [r for r in rows if r.kind.startswith(("Conv2D", "MaxPool2D", "AvgPool2D"))]
    assert [r.receptive_field for r in geometry_rows] == [s.receptive_field for s in steps]


def test_autograd_sees_exactly_the_predicted_field():
    chain = nn.HybridSequential()
    for k, s in SEVEN_LAYERS:
        chain.add(nn.Conv2D(1, k, strides=s, in_channels=1, use_bias=False) if k == 3
                  else nn.AvgPool2D(k, s))
    chain.initialize(init.One())
    x = np.zeros((1, 1, 64, 64))
    x.attach_grad()
    with autograd.record():
        out = chain(x)[0, 0, 1, 2]
    out.backward()
    grad = x.grad[0, 0].asnumpy()
    rows, cols = onp.nonzero(grad.any(axis=1))[0], onp.nonzero(grad.any(axis=0))[0]
    last = receptive_field_steps(layers_from_net(chain))[-1]
    for i, pixels in ((1, rows), (2, cols)):
        centre = last.start + i * last.jump
        first = int(centre - last.receptive_field / 2)
        assert (pixels.min(), pixels.max()) == (first, first + last.receptive_field - 1)
        assert len(pixels) == last.receptive_field


def test_num_params_matches_gluon():
    net = lenet_stack()
    net.initialize()
    net(np.zeros((1, 1, 28, 28)))
    assert num_params(net) == sum(p.data().size for p in net.collect_params().values()) == 61_706
    conv = nn.Conv2D(100, 10, in_channels=1)  # shapes known without initialising
    assert num_params(conv) == 10_100 == math.prod((100, 1, 10, 10)) + 100


def test_bad_layers_are_explained():
    with pytest.raises(ValueError, match="stride must be at least 1"):
        receptive_field([(3, 0)])
    with pytest.raises(ValueError, match="padding must be at least 0"):
        receptive_field([(3, 1, -1)])
    with pytest.raises(TypeError, match=r"\(kernel, stride\[, padding\[, dilation\]\]\)"):
        receptive_field([(3, 1, 0, 1, 9)])
