"""Data-parallel training on several devices, checked on CPU contexts ``cpu(0)``, ``cpu(1)``, …
(distinct contexts on the same processor, as MXNet treats several GPUs): same parameters on every
device, and the same as training on one device, on real Fashion-MNIST images."""

from __future__ import annotations

import mxnet as mx
import numpy as onp
import pytest
from mxnet import npx

from d2lcnn.lessons import (
    LENET,
    LeNet,
    evaluate_accuracy,
    evaluate_accuracy_parallel,
    train,
    train_parallel,
)
from d2lcnn.tools import data
from d2lcnn.tools.run import TrainingRun

npx.set_np()


def loaders(num_train=1000, num_test=300, batch_size=100):
    images, labels = data.load_arrays("fashion-mnist", "train")
    test_images, test_labels = data.load_arrays("fashion-mnist", "test")
    train_iter = data.ArrayLoader(images[:num_train], labels[:num_train], batch_size,
                                  device=mx.cpu())
    test_iter = data.ArrayLoader(test_images[:num_test], test_labels[:num_test], batch_size,
                                 device=mx.cpu())
    return train_iter, test_iter


def trained(devices, num_epochs=2, kvstore=None, **kwargs):
    """LeNet (sigmoid, as in the book: no ReLU kinks for rounding to flip) trained from seed 0."""
    net = LeNet()
    history = train_parallel(net, *loaders(**kwargs), num_epochs=num_epochs, lr=0.9,
                             devices=devices, kvstore=kvstore, seed=0, form=LENET.book,
                             verbose=False)
    return net, history


def parameters(net) -> dict[str, list[onp.ndarray]]:
    """Each parameter's copies, keyed by name without the instance prefix (lenet3_conv0_weight ->
    conv0_weight), so that two instances of a network compare."""
    return {name.split("_", 1)[1]: [a.asnumpy() for a in p.list_data()]
            for name, p in net.collect_params().items()}


@pytest.fixture(scope="module")
def one_device():
    return trained([mx.cpu(0)])


def assert_same_as_one_device(net, history, one_device, atol=1e-5):
    reference_net, reference = one_device
    expected = parameters(reference_net)
    for name, copies in parameters(net).items():
        for copy in copies:
            onp.testing.assert_allclose(copy, expected[name][0], rtol=1e-4, atol=atol,
                                        err_msg=name)
    onp.testing.assert_allclose(history.train_loss, reference.train_loss, rtol=1e-5)
    onp.testing.assert_allclose(history.train_acc, reference.train_acc, atol=2e-3)
    onp.testing.assert_allclose(history.test_acc, reference.test_acc, atol=4e-3)


def test_two_devices_match_one(one_device):
    net, history = trained([mx.cpu(0), mx.cpu(1)], kvstore="device")
    for name, (first, second) in parameters(net).items():
        assert onp.array_equal(first, second), name  # every device gets the same update
    assert_same_as_one_device(net, history, one_device)
    assert history.device == "cpu(0)+cpu(1)" and history.examples_seen == 2000
    assert "LeNet, book form, on cpu(0)+cpu(1): 2 epoch(s), 2,000 examples seen" in history.summary()


def test_three_devices_uneven_shares():
    # batch 100 over 3 devices: 34 + 33 + 33; the last batch (2 examples) leaves one device idle.
    # (The kvstore is "local" here, the default for CPU contexts.)
    reference = trained([mx.cpu(0)], num_epochs=1, num_train=302)
    net, history = trained([mx.cpu(0), mx.cpu(1), mx.cpu(2)], num_epochs=1, num_train=302)
    assert_same_as_one_device(net, history, reference)


def test_evaluate_accuracy_on_several_devices(one_device):
    net, _ = one_device
    _, test_iter = loaders(num_test=250)
    net.collect_params().reset_ctx([mx.cpu(0), mx.cpu(1)])
    try:
        both = evaluate_accuracy_parallel(net, test_iter, [mx.cpu(0), mx.cpu(1)])
        one = evaluate_accuracy(net, test_iter, mx.cpu(1))
    finally:
        net.collect_params().reset_ctx(mx.cpu(0))
    assert both == pytest.approx(one)


def test_device_names_are_understood():
    _, history = trained(["cpu(0)", "cpu:1"], num_epochs=1, num_train=200, num_test=100)
    assert history.device == "cpu(0)+cpu(1)"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [({"devices": []}, ValueError, "empty"),
     ({"devices": [mx.cpu(0), mx.cpu(0)]}, ValueError, "twice"),
     ({"devices": ["tpu"]}, ValueError, "'tpu' is not a device.*'gpu\\(1\\)'"),
     ({"devices": [mx.cpu(0)], "kvstore": "nccl-ring"}, ValueError, "not a kvstore type"),
     ({"devices": [mx.cpu(0)], "kvstore": "dist_sync"}, RuntimeError,
      "needs a scheduler and servers")],
)
def test_bad_device_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        train_parallel(LeNet(), *loaders(num_train=100, num_test=100), num_epochs=1, lr=0.9,
                       verbose=False, **kwargs)


def test_a_run_takes_one_device_or_several_not_both():
    """TrainingRun, under both loops: device= (chapter 08's train) or devices= (train_parallel)."""
    with pytest.raises(ValueError, match="not both"):
        TrainingRun(LeNet(), *loaders(num_train=100, num_test=100), 1, 0.9, device=mx.cpu(0),
                    devices=[mx.cpu(1)], verbose=False)


def test_the_parallel_loop_on_one_device_takes_chapter_08s_steps(one_device):
    """Chapter 16's train_parallel on one device is chapter 08's train, step for step."""
    net = LeNet()
    history = train(net, *loaders(), num_epochs=2, lr=0.9, device=mx.cpu(0), seed=0,
                    form=LENET.book, verbose=False)
    reference_net, reference = one_device
    expected = parameters(reference_net)
    for name, copies in parameters(net).items():
        onp.testing.assert_array_equal(copies[0], expected[name][0], err_msg=name)
    assert history.train_loss == reference.train_loss
    assert history.test_acc == reference.test_acc
