"""Chapter 06's activations and losses (d2lcnn.lessons.activations): closed-form derivatives agree
with autograd; every function, layer and loss with Gluon's built-in where Gluon has one."""

from __future__ import annotations

import numpy as onp
import pytest
from mxnet import autograd, gluon, init, np, npx
from mxnet.gluon import nn

from d2lcnn.lessons import (
    ACTIVATIONS,
    Maxout,
    binary_cross_entropy,
    cross_entropy,
    elu,
    leaky_relu,
    leaky_relu_grad,
    maxout,
    mse,
    prelu,
    prelu_grad_alpha,
    relu,
    relu_grad,
    rrelu,
    sigmoid,
    softmax,
    softmax_jacobian,
)

npx.set_np()

# A grid without 0, where ReLU-like functions have no derivative; the kink has its own test.
GRID = np.linspace(-6, 6, 240, dtype="float64")


def _autograd(fn, x):
    x = x.copy()
    x.attach_grad()
    with autograd.record():
        y = fn(x)
    y.backward()
    return x.grad.asnumpy()


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_closed_form_derivative_matches_autograd(name):
    act = ACTIVATIONS[name]
    # 1e-6: MXNet's derivative of erf (GELU) uses a single-precision constant.
    onp.testing.assert_allclose(_autograd(act.function, GRID), act.derivative(GRID).asnumpy(),
                                atol=1e-6)


@pytest.mark.parametrize("name", [n for n, a in ACTIVATIONS.items() if a.builtin])
def test_function_matches_gluon_builtin(name):
    act = ACTIVATIONS[name]
    x = GRID.astype("float32")
    onp.testing.assert_allclose(act.builtin()(x).asnumpy(), act.function(GRID).asnumpy(),
                                atol=1e-6)


def test_relu_like_derivatives_at_zero_follow_mxnet():
    zero = np.zeros(1, dtype="float64")
    assert float(relu_grad(zero)) == 0.0
    assert float(leaky_relu_grad(zero)) == pytest.approx(0.01)
    assert _autograd(relu, zero)[0] == _autograd(npx.relu, zero)[0] == 0.0


@pytest.mark.parametrize("alpha", [0.01, 0.2])
def test_leaky_relu_matches_gluon_layer_and_operator(alpha):
    x = GRID.astype("float32")
    ours = leaky_relu(x, alpha).asnumpy()
    onp.testing.assert_allclose(ours, nn.LeakyReLU(alpha)(x).asnumpy(), rtol=1e-6)
    onp.testing.assert_allclose(ours, npx.leaky_relu(x, act_type="leaky", slope=alpha).asnumpy(),
                                rtol=1e-6)


def test_prelu_gradient_for_alpha_matches_gluon():
    layer = nn.PReLU()
    layer.initialize()
    x = np.array([-2.0, -0.5, 1.0, 3.0])
    with autograd.record():
        y = layer(x)
    y.backward()
    onp.testing.assert_allclose(y.asnumpy(), prelu(x, 0.25).asnumpy())
    assert float(layer.alpha.grad()[0]) == pytest.approx(float(prelu_grad_alpha(x).sum()))


def test_prelu_per_channel_matches_gluon():
    layer = nn.PReLU(alpha_initializer=init.Constant(0.1), in_channels=3)
    layer.initialize()
    layer.alpha.set_data(np.array([0.1, 0.2, 0.3]))
    x = np.random.normal(size=(2, 3, 4, 4))
    onp.testing.assert_allclose(layer(x).asnumpy(),
                                prelu(x, layer.alpha.data().reshape(1, 3, 1, 1)).asnumpy(),
                                rtol=1e-6)


# --------------------------------------------------------------------------- RReLU

LOWER, UPPER = 1 / 8, 1 / 3


def test_rrelu_test_mode_matches_mxnet_operator():
    x = GRID.astype("float32")
    builtin = npx.leaky_relu(x, act_type="rrelu", lower_bound=LOWER, upper_bound=UPPER)[0]
    onp.testing.assert_allclose(rrelu(x, LOWER, UPPER).asnumpy(), builtin.asnumpy(), rtol=1e-6)
    onp.testing.assert_allclose(rrelu(x, LOWER, UPPER, training=False).asnumpy(),
                                leaky_relu(x, (LOWER + UPPER) / 2).asnumpy(), rtol=1e-6)


def test_rrelu_training_mode_draws_a_slope_per_value():
    # MXNet 1.9.1's rrelu operator crashes in training mode on the CPU, so the training mode is
    # checked by its statistics and against autograd.
    npx.random.seed(0)
    x = -np.ones(50_000, dtype="float64")
    x.attach_grad()
    with autograd.record():  # training: follows autograd's flag
        y = rrelu(x)
    y.backward()
    slopes = (-y).asnumpy()
    assert slopes.min() >= LOWER and slopes.max() <= UPPER
    assert slopes.mean() == pytest.approx((LOWER + UPPER) / 2, abs=2e-3)
    assert slopes.std() == pytest.approx((UPPER - LOWER) / 12 ** 0.5, rel=0.02)  # uniform
    onp.testing.assert_allclose(x.grad.asnumpy(), slopes)
    positive = np.array([0.5, 2.0, 7.0])
    assert onp.array_equal(rrelu(positive, training=True).asnumpy(), positive.asnumpy())
    # Two calls draw different slopes.
    assert not onp.array_equal(rrelu(x, training=True).asnumpy(), rrelu(x, training=True).asnumpy())


def test_rrelu_outside_training_is_deterministic():
    x = -np.ones(100)
    with autograd.record():
        y = rrelu(x, training=False)
    assert onp.allclose(y.asnumpy(), -(LOWER + UPPER) / 2)


# --------------------------------------------------------------------------- Maxout


def test_maxout_groups_consecutive_features():
    z = np.array([[1.0, 5.0, 2.0, -1.0, -3.0, -2.0]])
    assert maxout(z, 3).asnumpy().tolist() == [[5.0, -1.0]]
    assert maxout(z, 2).asnumpy().tolist() == [[5.0, 2.0, -2.0]]
    conv_like = np.random.normal(size=(2, 6, 3, 3))
    expected = conv_like.asnumpy().reshape(2, 3, 2, 3, 3).max(axis=2)
    onp.testing.assert_array_equal(maxout(conv_like, 2).asnumpy(), expected)
    with pytest.raises(ValueError, match="groups of 4"):
        maxout(z, 4)


def test_maxout_layer_is_the_max_of_its_affine_pieces():
    layer = Maxout(units=4, pieces=3, in_units=6)
    layer.initialize(init.Normal(1.0))
    x = np.random.normal(size=(5, 6))
    weight, bias = layer.dense.weight.data().asnumpy(), layer.dense.bias.data().asnumpy()
    pieces = onp.stack([x.asnumpy() @ weight[j::3].T + bias[j::3] for j in range(3)])
    onp.testing.assert_allclose(layer(x).asnumpy(), pieces.max(axis=0), rtol=1e-5)
    assert sum(p.data().size for p in layer.collect_params().values()) == 3 * 4 * (6 + 1)


@pytest.mark.parametrize("slopes, builtin", [
    ((1.0, 0.0), nn.Activation("relu")),
    ((1.0, 0.01), nn.LeakyReLU(0.01)),
    ((1.0, 0.3), nn.LeakyReLU(0.3)),
])
def test_two_piece_maxout_is_a_gluon_activation(slopes, builtin):
    unit = Maxout(units=1, pieces=2, in_units=1)
    unit.initialize()
    unit.dense.weight.set_data(np.array(slopes).reshape(2, 1))
    unit.dense.bias.set_data(np.zeros(2))
    x = GRID.astype("float32")
    onp.testing.assert_allclose(unit(x.reshape(-1, 1)).asnumpy().ravel(), builtin(x).asnumpy(),
                                rtol=1e-6, atol=1e-7)


def test_maxout_gradient_goes_to_the_winning_piece():
    z = np.array([[1.0, 5.0, 2.0, -1.0, -3.0, -2.0]])
    grad = _autograd(lambda v: maxout(v, 3), z)
    assert grad.tolist() == [[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]]


# --------------------------------------------------------------------------- softmax, losses


def test_elu_has_no_nan_gradient_for_large_inputs():
    x = np.array([-1.0, 100.0, 1000.0], dtype="float64")
    assert onp.isfinite(_autograd(elu, x)).all()


def test_softmax_matches_npx_is_stable_and_has_the_stated_jacobian():
    z = np.array([[2.0, 1.0, 0.1], [1000.0, 0.0, -1000.0]], dtype="float64")
    s = softmax(z)
    onp.testing.assert_allclose(s.asnumpy(), npx.softmax(z).asnumpy(), atol=1e-12)
    assert onp.isfinite(s.asnumpy()).all()
    onp.testing.assert_allclose(s.sum(axis=1).asnumpy(), 1.0)
    v = z[0]
    rows = [_autograd(lambda x, i=i: softmax(x)[i], v) for i in range(3)]
    onp.testing.assert_allclose(onp.stack(rows), softmax_jacobian(v).asnumpy(), atol=1e-12)
    with pytest.raises(ValueError, match="one vector"):
        softmax_jacobian(z)


def test_sigmoid_is_softmax_of_two():
    pairs = np.stack([GRID, np.zeros_like(GRID)], axis=1)
    onp.testing.assert_allclose(softmax(pairs)[:, 0].asnumpy(), sigmoid(GRID).asnumpy(),
                                atol=1e-12)


def test_losses_match_gluon():
    z = np.random.normal(size=(4, 5), scale=2).astype("float64")
    label = np.array([0, 3, 3, 1])
    onp.testing.assert_allclose(cross_entropy(softmax(z), label).asnumpy(),
                                gluon.loss.SoftmaxCrossEntropyLoss()(z, label).asnumpy(),
                                rtol=1e-10)
    t = np.random.uniform(size=(4, 5)).astype("float64")
    onp.testing.assert_allclose(mse(z, t).asnumpy(), 2 * gluon.loss.L2Loss()(z, t).asnumpy(),
                                rtol=1e-10)
    labels_on = (np.random.uniform(size=(4, 5)) > 0.5).astype("float64")
    onp.testing.assert_allclose(
        binary_cross_entropy(sigmoid(z), labels_on).asnumpy(),
        gluon.loss.SigmoidBinaryCrossEntropyLoss()(z, labels_on).asnumpy(), rtol=1e-6)


def test_softmax_cross_entropy_gradient_is_y_minus_t():
    z = np.random.normal(size=(3, 4)).astype("float64")
    label = np.array([1, 0, 3])
    grad = _autograd(lambda v: cross_entropy(softmax(v), label).sum(), z)
    onp.testing.assert_allclose(grad, (softmax(z) - npx.one_hot(label, 4)).asnumpy(), atol=1e-12)
