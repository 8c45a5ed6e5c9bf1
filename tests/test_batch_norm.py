"""Chapter 13: batch normalization from scratch against Gluon's ``nn.BatchNorm`` (training and
prediction modes, moving statistics), and BN-LeNet in both variants."""

from __future__ import annotations

import numpy as onp
import pytest
from mxnet import autograd, np, npx
from mxnet.gluon import nn

from d2lcnn.lessons import (
    BN_LENET,
    BN_LENET_GLUON,
    BN_LENET_SPECS,
    BatchNorm,
    BNLeNet,
    batch_norm,
)
from d2lcnn.tools import data
from d2lcnn.tools.networks import choose_form
from d2lcnn.tools.summary import summary

npx.set_np()


@pytest.fixture(scope="module")
def images(data_dir):
    imgs, _ = data.load_arrays("fashion-mnist", "test", data_dir)
    return imgs[:256].astype("float32") / 255


def _conv_batches(images, channels=4, batch=8):
    """Real images grouped ``channels`` at a time into (batch, channels, 28, 28) inputs."""
    per = channels * batch
    return [np.array(images[i * per : (i + 1) * per].reshape(batch, channels, 28, 28))
            for i in range(len(images) // per)]


def _dense_batches(images, features=25, batch=16):
    """5×5 centre patches of real images as (batch, 25) inputs."""
    patches = images[:, 12:17, 12:17].reshape(len(images), features)
    return [np.array(patches[i * batch : (i + 1) * batch]) for i in range(len(images) // batch)]


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_batch_norm_matches_gluon_in_both_modes(images, kind):
    batches = _dense_batches(images) if kind == "dense" else _conv_batches(images)
    num_features = batches[0].shape[1]
    ours = BatchNorm(num_features, num_dims=batches[0].ndim)
    gluons = nn.BatchNorm(in_channels=num_features)
    ours.initialize()
    gluons.initialize()
    rng = onp.random.RandomState(0)
    gamma = np.array(rng.uniform(0.5, 2, num_features).astype("float32"))
    beta = np.array(rng.normal(size=num_features).astype("float32"))
    for layer in (ours, gluons):
        layer.gamma.set_data(gamma)
        layer.beta.set_data(beta)
    for X in batches[:3]:  # training mode: batch statistics, moving averages updated
        with autograd.record():
            Y_ours, Y_gluon = ours(X), gluons(X)
            loss = (Y_ours * Y_ours).sum() + (Y_gluon * Y_gluon).sum()
        loss.backward()  # nn.BatchNorm updates its moving averages in the backward pass
        onp.testing.assert_allclose(Y_ours.asnumpy(), Y_gluon.asnumpy(), atol=1e-4)
        onp.testing.assert_allclose(ours.gamma.grad().asnumpy(), gluons.gamma.grad().asnumpy(),
                                    rtol=1e-3, atol=1e-3)
        onp.testing.assert_allclose(ours.beta.grad().asnumpy(), gluons.beta.grad().asnumpy(),
                                    rtol=1e-3, atol=1e-3)
    onp.testing.assert_allclose(ours.moving_mean.data().asnumpy(),
                                gluons.running_mean.data().asnumpy(), atol=1e-6)
    onp.testing.assert_allclose(ours.moving_var.data().asnumpy(),
                                gluons.running_var.data().asnumpy(), atol=1e-6)
    assert not onp.allclose(ours.moving_var.data().asnumpy(), 1)  # they did move
    X = batches[3]  # prediction mode: the moving averages, unchanged by the pass
    before = ours.moving_mean.data().asnumpy()
    onp.testing.assert_allclose(ours(X).asnumpy(), gluons(X).asnumpy(), atol=1e-4)
    onp.testing.assert_array_equal(ours.moving_mean.data().asnumpy(), before)


def test_batch_norm_function_normalizes_per_channel(images):
    X = _conv_batches(images)[0]
    ones, zeros = np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1))
    with autograd.train_mode():
        Y, mean, var = batch_norm(X, ones, zeros, zeros, ones, momentum=0.9)
    Y = Y.asnumpy()
    onp.testing.assert_allclose(Y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    onp.testing.assert_allclose(Y.var(axis=(0, 2, 3)), 1, atol=1e-3)
    onp.testing.assert_allclose(mean.asnumpy().ravel(), 0.1 * X.asnumpy().mean(axis=(0, 2, 3)),
                                rtol=1e-5)
    with autograd.predict_mode():
        Y, mean2, _ = batch_norm(X, ones, zeros, mean, var)
    assert mean2 is mean
    onp.testing.assert_allclose(Y.asnumpy(), (X - mean).asnumpy() / onp.sqrt(var.asnumpy() + 1e-5),
                                rtol=1e-5)


def test_batch_norm_output_has_mean_beta_and_std_gamma_in_training_mode(images):
    X = _conv_batches(images)[0]
    gamma = np.array([[[[2.0]], [[0.5]], [[-1.0]], [[3.0]]]])
    beta = np.array([[[[1.0]], [[-2.0]], [[0.0]], [[0.5]]]])
    with autograd.train_mode():
        Y, _, _ = batch_norm(X, gamma, beta, np.zeros_like(beta), np.ones_like(beta))
    Y = Y.asnumpy()
    onp.testing.assert_allclose(Y.mean(axis=(0, 2, 3)), beta.asnumpy().ravel(), atol=1e-4)
    onp.testing.assert_allclose(Y.std(axis=(0, 2, 3)), onp.abs(gamma.asnumpy().ravel()),
                                rtol=1e-3)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="num_dims"):
        BatchNorm(3, num_dims=3)
    with pytest.raises(ValueError, match="num_features"):
        BatchNorm(0, num_dims=4)
    layer = BatchNorm(3, num_dims=4)
    layer.initialize()
    with pytest.raises(ValueError, match=r"\(batch, 3, H, W\)"):
        layer(np.zeros((2, 3)))
    layer.hybridize()
    with pytest.raises(RuntimeError, match="cannot be hybridized"):
        layer(np.zeros((2, 3, 4, 4)))


@pytest.mark.parametrize("builtin", [False, True])
def test_bn_lenet_parameters_and_moving_statistics(builtin):
    # d2l's BN-LeNet has no padding (28 → 24 → 12 → 8 → 4): 44,426 weights and biases, then
    # 2 × (6 + 16 + 120 + 84) = 452 γ and β and as many moving statistics.
    table = summary(BNLeNet(BN_LENET_SPECS["book"], builtin=builtin), (2, 1, 28, 28))
    assert table.output_shape == (2, 10)
    assert table.total_params == 45_330
    assert table.non_trainable_params == 452
    sides = [r.output_shape[-1] for r in table.rows if r.kind.startswith("AvgPool2D")]
    assert sides == [12, 4]


@pytest.mark.parametrize("builtin", [False, True])
def test_bn_lenet_trains_forward_and_backward(images, builtin):
    net = BNLeNet(BN_LENET_SPECS["book"], builtin=builtin)
    net.initialize()
    net.hybridize()
    X = np.array(images[:8, None])
    with autograd.record():
        loss = net(X).sum()
    loss.backward()
    grad = net.features[0].weight.grad().asnumpy()
    assert onp.isfinite(grad).all() and onp.abs(grad).sum() > 0
    moving = (net.features[1].moving_mean if not builtin else net.features[1].running_mean)
    assert not onp.allclose(moving.data().asnumpy(), 0)  # the training step moved them


def test_bn_lenet_hybridizes_around_the_scratch_batch_norm(images):
    net = BNLeNet(BN_LENET_SPECS["book"])
    net.initialize()
    X = np.array(images[:8, None])
    expected = net(X).asnumpy()
    net.hybridize(static_alloc=True, static_shape=True)
    for block in net.features:
        assert block._active == (not isinstance(block, BatchNorm))
    assert net.output._active
    assert not net._active and not net.features._active
    onp.testing.assert_allclose(net(X).asnumpy(), expected, atol=1e-5)
    with autograd.record():
        loss = net(X).sum()
    loss.backward()
    assert not onp.allclose(net.features[1].moving_mean.data().asnumpy(), 0)
    builtin = BNLeNet(BN_LENET_SPECS["book"], builtin=True)
    builtin.initialize()
    builtin.hybridize()
    assert builtin._active


def test_bn_lenet_scratch_and_builtin_compute_the_same_function(images):
    scratch = BNLeNet(BN_LENET_SPECS["book"])
    builtin = BNLeNet(BN_LENET_SPECS["book"], builtin=True)
    scratch.initialize()
    builtin.initialize()
    src = list(scratch.collect_params().values())
    dst = list(builtin.collect_params().values())
    assert [p.shape for p in src] == [p.shape for p in dst]
    for a, b in zip(src, dst, strict=True):
        b.set_data(a.data())
    X = np.array(images[:16, None])
    # Predict mode first: a training-mode pass moves the scratch layers' moving averages (in the
    # forward pass), not Gluon's (in the backward pass).
    for mode in (autograd.predict_mode, autograd.train_mode):
        with mode():
            onp.testing.assert_allclose(scratch(X).asnumpy(), builtin(X).asnumpy(), atol=1e-4)


def test_records_hold_the_books_settings_and_results():
    for record, builtin, test_acc, speed in ((BN_LENET, False, 0.873, 12_428),
                                            (BN_LENET_GLUON, True, 0.849, 35_940)):
        assert record.chapter == "13" and record.native is None
        book = record.book
        assert (book.input_size, book.batch_size, book.num_epochs, book.lr) == (28, 256, 10, 1.0)
        assert book.build().builtin is builtin
        assert (record.book_result.test_acc, record.book_result.examples_per_sec) == (
            test_acc, speed)
        assert record.book_result.notebook == "chapter_convolutional-modern/batch-norm.ipynb"
        assert choose_form(record).name == "book"  # the one form, on any device
    assert (BN_LENET.key, BN_LENET_GLUON.key) == ("bn_lenet", "bn_lenet_gluon")
