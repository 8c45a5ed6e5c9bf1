"""The block tree of a network, its feature maps, filters and batch-norm parameters, and their
pictures (headless)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as onp
import pytest
from mxnet import autograd, np, npx
from mxnet.gluon import nn

from d2lcnn.lessons import LeNet
from d2lcnn.tools import blocks as features
from d2lcnn.tools import data, plot

npx.set_np()


@pytest.fixture()
def lenet():
    net = LeNet()
    net.initialize()
    return net


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _bn_net():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(4, kernel_size=3, in_channels=1), nn.BatchNorm(in_channels=4),
            nn.Activation("relu"), nn.GlobalAvgPool2D(), nn.Dense(3, in_units=4))
    net.initialize()
    return net


def test_layer_paths_and_get_layer(lenet):
    paths = features.layer_paths(lenet)
    assert paths[:3] == ["features", "features.0", "features.1"]  # a layer's own activation: no path
    assert "output" in paths
    assert features.get_layer(lenet, "features.2") is lenet.features[2]
    assert features.get_layer(lenet, "output") is lenet.output


def test_get_layer_names_the_missing_part(lenet):
    with pytest.raises(KeyError, match=r"features has no child '9'.*'features.0'"):
        features.get_layer(lenet, "features.9")


def test_feature_maps_equal_running_the_layers_by_hand(lenet):
    X, _ = data.example_image(0)
    expected = X
    for layer in list(lenet.features)[:3]:
        expected = layer(expected)
    maps = features.feature_maps(lenet, X, "features.2")
    assert maps.shape == (1, 16, 10, 10)
    assert onp.allclose(maps.asnumpy(), expected.asnumpy())
    # the block itself works as well as its path; NumPy input is accepted
    again = features.feature_maps(lenet, X.asnumpy(), lenet.features[2])
    assert onp.allclose(again.asnumpy(), expected.asnumpy())


def test_feature_maps_keep_a_hybridized_net_hybridized(lenet):
    lenet.hybridize(static_alloc=True)
    X, _ = data.example_image(1)
    before = lenet(X).asnumpy()
    maps = features.feature_maps(lenet, X, "features.0")
    assert maps.shape == (1, 6, 28, 28)
    assert lenet._active and dict(lenet._flags)["static_alloc"] is True
    assert onp.allclose(lenet(X).asnumpy(), before)


def test_feature_maps_run_in_predict_mode():
    net = _bn_net()
    X, _ = data.example_image(2)
    X = np.concatenate([X, data.example_image(3)[0]])
    with autograd.train_mode():
        net(X)  # moves the moving statistics away from their initial values
    bn = net[1]
    moving_mean = bn.running_mean.data().asnumpy().copy()
    maps = features.feature_maps(net, X, "1")
    # predict mode: normalised with the moving statistics, which stay unchanged
    conv = net[0](X).asnumpy()
    var = bn.running_var.data().asnumpy()
    expected = (conv - moving_mean[None, :, None, None]) / onp.sqrt(var[None, :, None, None] + 1e-5)
    assert onp.allclose(maps.asnumpy(), expected, atol=1e-5)
    assert onp.array_equal(bn.running_mean.data().asnumpy(), moving_mean)


def test_feature_maps_reject_a_foreign_layer(lenet):
    X, _ = data.example_image(0)
    with pytest.raises(ValueError, match="not a layer of this net"):
        features.feature_maps(lenet, X, nn.Dense(3))


def test_first_conv_and_missing_conv(lenet):
    assert features.first_conv(lenet) is lenet.features[0]
    assert features.first_conv(lenet).weight.shape == (6, 1, 5, 5)
    with pytest.raises(ValueError, match="no Conv2D"):
        features.first_conv(nn.Dense(3))


def test_batch_norm_parameters_start_at_one_and_zero():
    found = features.batch_norm_parameters(_bn_net())
    assert [p.path for p in found] == ["1"]
    assert onp.array_equal(found[0].gamma, onp.ones(4))
    assert onp.array_equal(found[0].beta, onp.zeros(4))
    assert features.batch_norm_parameters(LeNet()) == []


def test_example_image_is_the_real_test_image():
    images, labels = data.load_arrays("fashion-mnist", "test")
    X, label = data.example_image(5)
    assert X.shape == (1, 1, 28, 28) and X.dtype == onp.float32
    assert onp.allclose(X.asnumpy()[0, 0] * 255, images[5])
    assert label == data.text_labels([labels[5]])[0]
    X96, _ = data.example_image(5, resize=96)
    assert X96.shape == (1, 1, 96, 96)
    assert 0 <= float(X96.min()) and float(X96.max()) <= 1
    with pytest.raises(IndexError, match="10,000 test images"):
        data.example_image(10_000)


def test_show_filters_draws_one_panel_per_filter(lenet):
    axes = plot.show_filters(features.first_conv(lenet).weight.data(), num_cols=3)
    assert len(axes) == 6
    assert [len(ax.images) for ax in axes] == [1] * 6
    # several input channels: mean or one of them, and at most max_filters panels
    weight = lenet.features[2].weight.data()  # (16, 6, 5, 5)
    axes = plot.show_filters(weight, in_channel=2, max_filters=10, num_cols=5)
    assert sum(len(ax.images) for ax in axes) == 10
    assert onp.allclose(axes[0].images[0].get_array(), weight.asnumpy()[0, 2])


@pytest.mark.parametrize("weight, kwargs, message", [
    (onp.zeros((2, 5, 5)), {"in_channel": 3}, "in_channel"),
    (onp.zeros((5, 5)), {}, "c_out, c_in"),
])
def test_show_filters_rejects_bad_input(weight, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot.show_filters(weight, **kwargs)


def test_show_feature_maps_with_the_input_first(lenet):
    X, _ = data.example_image(0)
    maps = features.feature_maps(lenet, X, "features.0")
    axes = plot.show_feature_maps(maps, image=X, num_cols=4)
    drawn = [ax for ax in axes if ax.images]
    assert len(drawn) == 7  # input + 6 channels
    assert drawn[0].get_title() == "input" and drawn[1].get_title() == "ch 0"
    assert onp.allclose(drawn[1].images[0].get_array(), maps.asnumpy()[0, 0])
    assert len([ax for ax in plot.show_feature_maps(maps[0], max_maps=4) if ax.images]) == 4


def test_show_feature_maps_of_chosen_channels():
    maps = onp.arange(5 * 3 * 3, dtype="float32").reshape(5, 3, 3)
    axes = plot.show_feature_maps(maps, channels=[4, 1])
    drawn = [ax for ax in axes if ax.images]
    assert [ax.get_title() for ax in drawn] == ["ch 4", "ch 1"]
    assert onp.array_equal(drawn[0].images[0].get_array(), maps[4])
    with pytest.raises(ValueError, match=r"channels \[5\] do not exist: the maps have 5"):
        plot.show_feature_maps(maps, channels=[0, 5])


def test_show_feature_maps_wants_one_example():
    with pytest.raises(ValueError, match="one example"):
        plot.show_feature_maps(onp.zeros((2, 3, 4, 4)))


def test_walk_visits_every_block_once_with_paths_and_depths(lenet):
    found = [(path, depth) for path, _, depth in features.walk(lenet)]
    assert found[:3] == [("", 0), ("features", 1), ("features.0", 2)]
    assert ("output", 1) in found and ("features.0.act", 3) not in found
    inside = [path for path, _, _ in features.walk(lenet, into_layers=True)]
    assert "features.0.act" in inside


def test_geometry_of_convolution_and_pooling(lenet):
    assert features.geometry_of(lenet.features[0]) == features.Geometry(5, 1, 2, 1)
    assert features.geometry_of(lenet.features[1]) == features.Geometry(2, 2, 0, 1)
    assert features.geometry_of(lenet.features[4]) is None  # a dense layer
    assert features.geometry_of(nn.GlobalAvgPool2D()) is None
    dilated = nn.Conv2D(1, 3, dilation=2)
    assert features.geometry_of(dilated).effective_kernel == 5


def test_first_device(lenet):
    assert str(features.first_device(lenet)) == "cpu(0)"
    assert features.first_device(nn.MaxPool2D()) is None  # no parameters, no device
    with pytest.raises(ValueError, match=r"not been initialised: call net.initialize\(\)"):
        features.first_device(nn.Dense(3))
    deferred = nn.Dense(3)
    deferred.initialize()  # shapes still unknown: the device is known
    assert str(features.first_device(deferred)) == "cpu(0)"
