"""Chapter 07's NumPy layers (d2lcnn.lessons.numpy_layers): gradient checks in float64, and the
same outputs as MXNet's built-in layers with the same weights."""

from __future__ import annotations

import numpy as onp
import pytest
from mxnet import autograd, gluon, np, npx
from mxnet.gluon import nn

from d2lcnn.lessons import (
    Affine,
    Convolution,
    MaxPooling,
    Net,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    check_layer_gradients,
    check_net_gradients,
    col2im,
    conv2d_naive,
    im2col,
    mean_cross_entropy,
    numerical_gradient,
    relative_error,
    softmax_rows,
)
from d2lcnn.tools import data

npx.set_np()


@pytest.fixture
def rng():
    return onp.random.default_rng(0)


def _mx(a):
    return np.array(a, dtype=a.dtype)


# --------------------------------------------------------------------------- im2col / col2im


def test_im2col_rows_are_windows():
    x = onp.arange(2 * 2 * 4 * 4, dtype=onp.float64).reshape(2, 2, 4, 4)
    col = im2col(x, 3, stride=1, padding=0)
    assert col.shape == (2 * 2 * 2, 2 * 3 * 3)
    # Row 3 is example 0, output (1, 1): the window x[0, :, 1:4, 1:4] flattened as (c, kh, kw).
    onp.testing.assert_array_equal(col[3], x[0, :, 1:4, 1:4].ravel())
    onp.testing.assert_array_equal(col[4], x[1, :, 0:3, 0:3].ravel())


@pytest.mark.parametrize("kernel, stride, padding", [(3, 1, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 0))])
def test_col2im_is_the_adjoint_of_im2col(rng, kernel, stride, padding):
    # <im2col(x), c> == <x, col2im(c)> for all x and c: col2im is im2col's transpose.
    x = rng.standard_normal((2, 3, 6, 7))
    col = im2col(x, kernel, stride, padding)
    c = rng.standard_normal(col.shape)
    lhs = onp.sum(col * c)
    rhs = onp.sum(x * col2im(c, x.shape, kernel, stride, padding))
    assert abs(lhs - rhs) < 1e-10 * abs(lhs)


def test_im2col_errors_name_the_problem():
    with pytest.raises(ValueError, match="kernel spans 3 pixels"):
        im2col(onp.zeros((1, 1, 2, 2)), 3)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        im2col(onp.zeros((2, 2)), 1)
    with pytest.raises(ValueError, match="stride"):
        im2col(onp.zeros((1, 1, 4, 4)), 2, stride=0)


# --------------------------------------------------------------------------- same as MXNet


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), (3, 2)])
def test_convolution_matches_conv2d_and_naive_loops(rng, stride, padding):
    x = rng.standard_normal((2, 3, 9, 8))
    W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    ours = Convolution(W, b, stride, padding).forward(x)
    conv = nn.Conv2D(4, 3, strides=stride, padding=padding, in_channels=3)
    conv.initialize()
    conv.cast("float64")
    conv.weight.set_data(_mx(W))
    conv.bias.set_data(_mx(b))
    onp.testing.assert_allclose(ours, conv(_mx(x)).asnumpy(), rtol=1e-12, atol=1e-12)
    onp.testing.assert_allclose(ours, conv2d_naive(x, W, b, stride, padding), atol=1e-12)


@pytest.mark.parametrize("pool, stride, padding", [(2, None, 0), (3, 2, 0), (3, 2, 1), (2, 1, 1)])
def test_max_pooling_matches_maxpool2d(rng, pool, stride, padding):
    x = rng.standard_normal((2, 3, 7, 6))
    ours = MaxPooling(pool, stride, padding).forward(x)
    gluon_out = nn.MaxPool2D(pool, strides=stride, padding=padding)(_mx(x))
    onp.testing.assert_array_equal(ours, gluon_out.asnumpy())


def test_max_pooling_ignores_padding_for_negative_inputs():
    x = -onp.ones((1, 1, 2, 2))
    out = MaxPooling(2, stride=1, padding=1).forward(x)
    assert (out == -1).all()  # zero padding would give 0 at the border


def test_affine_matches_dense(rng):
    x = rng.standard_normal((5, 2, 3, 4))  # Dense flattens (2, 3, 4) to 24 features
    W, b = rng.standard_normal((7, 24)), rng.standard_normal(7)
    dense = nn.Dense(7, in_units=24)
    dense.initialize()
    dense.cast("float64")
    dense.weight.set_data(_mx(W))
    dense.bias.set_data(_mx(b))
    onp.testing.assert_allclose(Affine(W, b).forward(x), dense(_mx(x)).asnumpy(),
                                rtol=1e-12)


def test_relu_and_sigmoid_match_mxnet(rng):
    x = rng.standard_normal((3, 4)) * 5
    x[0, 0] = -800.0  # exp(800) overflows: the stable sigmoid must still give 0
    onp.testing.assert_allclose(Relu().forward(x), npx.relu(_mx(x)).asnumpy())
    onp.testing.assert_allclose(Sigmoid().forward(x), npx.sigmoid(_mx(x)).asnumpy(),
                                rtol=1e-12)
    assert onp.isfinite(Sigmoid().forward(x)).all()


def test_softmax_with_loss_matches_gluon_loss_and_autograd(rng):
    scores, t = rng.standard_normal((6, 5)) * 3, onp.array([0, 4, 2, 2, 1, 3])
    layer = SoftmaxWithLoss()
    loss = layer.forward(scores, t)
    dx = layer.backward()
    x = _mx(scores)
    x.attach_grad()
    with autograd.record():
        ce = gluon.loss.SoftmaxCrossEntropyLoss()(x, np.array(t)).mean()
    ce.backward()
    assert abs(loss - float(ce)) < 1e-12
    onp.testing.assert_allclose(dx, x.grad.asnumpy(), atol=1e-12)
    # One-hot labels give the same loss.
    assert abs(layer.forward(scores, onp.eye(5)[t]) - loss) < 1e-12


def test_softmax_rows_and_mean_cross_entropy_match_mxnet(rng):
    scores, t = rng.standard_normal((6, 5)) * 3, onp.array([0, 4, 2, 2, 1, 3])
    onp.testing.assert_allclose(softmax_rows(scores), npx.softmax(_mx(scores)).asnumpy(),
                                rtol=1e-12)
    gluon_loss = gluon.loss.SoftmaxCrossEntropyLoss()(_mx(scores), np.array(t)).mean()
    assert abs(mean_cross_entropy(softmax_rows(scores), t) - float(gluon_loss)) < 1e-12
    assert onp.isfinite(softmax_rows(scores * 1e4)).all()


def test_naive_conv_checks_the_channels():
    with pytest.raises(ValueError, match="channels"):
        conv2d_naive(onp.zeros((1, 2, 5, 5)), onp.zeros((1, 3, 3, 3)))


# --------------------------------------------------------------------------- gradient checks


def _layers(rng):
    return {
        "Affine": (Affine(rng.standard_normal((4, 18)), rng.standard_normal(4)),
                   rng.standard_normal((3, 2, 3, 3))),
        "Relu": (Relu(), rng.standard_normal((3, 2, 4, 4))),
        "Sigmoid": (Sigmoid(), rng.standard_normal((3, 5))),
        "Convolution": (Convolution(rng.standard_normal((3, 2, 3, 3)),
                                    rng.standard_normal(3), stride=2, padding=1),
                        rng.standard_normal((2, 2, 5, 6))),
        "MaxPooling": (MaxPooling(2), rng.standard_normal((2, 2, 4, 6))),
        "MaxPooling overlapping, padded": (MaxPooling(3, 2, 1),
                                           rng.standard_normal((2, 2, 5, 5))),
    }


@pytest.mark.parametrize("name", list(_layers(onp.random.default_rng(0))))
def test_layer_gradients(name):
    layer, x = _layers(onp.random.default_rng(1))[name]
    errors = check_layer_gradients(layer, x)
    assert set(errors) == {"x", *layer.params}
    assert max(errors.values()) < 1e-6, errors


def test_softmax_with_loss_gradient(rng):
    errors = check_layer_gradients(SoftmaxWithLoss(), rng.standard_normal((4, 6)),
                                   t=onp.array([5, 0, 2, 2]))
    assert errors["x"] < 1e-6


def _small_net(rng, dtype=onp.float64):
    def init(*shape):
        return (rng.standard_normal(shape) * 0.1).astype(dtype)

    return Net([
        Convolution(init(3, 1, 3, 3), init(3), padding=1), Relu(),
        MaxPooling(2), Affine(init(5, 3 * 3 * 3), init(5)), Sigmoid(),
        Affine(init(4, 5), init(4)),
    ])


def test_whole_net_gradients(rng):
    net = _small_net(rng)
    errors = check_net_gradients(net, rng.standard_normal((3, 1, 6, 6)), onp.array([0, 3, 1]))
    assert set(errors) == {"0.W", "0.b", "3.W", "3.b", "5.W", "5.b"}
    assert max(errors.values()) < 1e-6, errors


def test_numerical_gradient_of_a_known_function():
    x = onp.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: float(onp.sum(x ** 3)), x)
    onp.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-9)
    onp.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored


def test_relative_error():
    assert relative_error(onp.ones(3), onp.ones(3)) == 0
    assert relative_error(onp.ones(3), -onp.ones(3)) == 1
    assert relative_error(onp.zeros(3), onp.zeros(3)) == 0


def test_gradient_checks_refuse_float32(rng):
    with pytest.raises(TypeError, match="float64"):
        check_layer_gradients(Relu(), rng.standard_normal(3).astype(onp.float32))


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="before forward"):
        Relu().backward(onp.ones(3))


def test_affine_rejects_wrong_input_size(rng):
    with pytest.raises(ValueError, match="features"):
        Affine(onp.zeros((2, 5)), onp.zeros(2)).forward(onp.zeros((1, 4)))


# --------------------------------------------------------------------------- training


def test_small_cnn_learns_real_images(data_dir):
    images, labels = data.load_arrays("fashion-mnist", "train")
    x = (images[:1000, None] / 255).astype(onp.float32)
    t = labels[:1000].astype(onp.int64)
    rng = onp.random.default_rng(0)

    def init(*shape, scale):
        return (rng.standard_normal(shape) * scale).astype(onp.float32)

    net = Net([
        Convolution(init(8, 1, 3, 3, scale=0.3), onp.zeros(8, onp.float32), padding=1),
        Relu(), MaxPooling(2),
        Affine(init(10, 8 * 14 * 14, scale=0.02), onp.zeros(10, onp.float32)),
    ])
    first = net.loss(x, t)
    for step in range(60):
        batch = slice(step % 20 * 50, step % 20 * 50 + 50)
        _, grads = net.gradient(x[batch], t[batch])
        for name, param in net.params.items():
            param -= 0.1 * grads[name]
    assert net.loss(x, t) < 0.7 * first
    assert net.accuracy(x, t) > 0.5  # chance is 0.1
