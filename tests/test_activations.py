"""d2lcnn.activations: closed-form derivatives agree with autograd, functions with Gluon's
built-in layers."""

from __future__ import annotations

import numpy as onp
import pytest
from mxnet import autograd, np, npx
from mxnet.gluon import nn

from d2lcnn import activations

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


@pytest.mark.parametrize("name", list(activations.ACTIVATIONS))
def test_closed_form_derivative_matches_autograd(name):
    act = activations.ACTIVATIONS[name]
    # 1e-6: MXNet's derivative of erf (GELU) uses a single-precision constant.
    onp.testing.assert_allclose(_autograd(act.function, GRID), act.derivative(GRID).asnumpy(),
                                atol=1e-6)


@pytest.mark.parametrize("name", [n for n, a in activations.ACTIVATIONS.items() if a.builtin])
def test_function_matches_gluon_builtin(name):
    act = activations.ACTIVATIONS[name]
    x = GRID.astype("float32")
    onp.testing.assert_allclose(act.builtin()(x).asnumpy(), act.function(GRID).asnumpy(),
                                atol=1e-6)


def test_relu_like_derivatives_at_zero_follow_mxnet():
    zero = np.zeros(1, dtype="float64")
    assert float(activations.relu_grad(zero)) == 0.0
    assert float(activations.leaky_relu_grad(zero)) == pytest.approx(0.01)
    assert _autograd(activations.relu, zero)[0] == _autograd(npx.relu, zero)[0] == 0.0


def test_prelu_gradient_for_alpha_matches_gluon():
    layer = nn.PReLU()
    layer.initialize()
    x = np.array([-2.0, -0.5, 1.0, 3.0])
    with autograd.record():
        y = layer(x)
    y.backward()
    onp.testing.assert_allclose(y.asnumpy(), activations.prelu(x, 0.25).asnumpy())
    assert float(layer.alpha.grad()[0]) == pytest.approx(
        float(activations.prelu_grad_alpha(x).sum()))


def test_elu_has_no_nan_gradient_for_large_inputs():
    x = np.array([-1.0, 100.0, 1000.0], dtype="float64")
    assert onp.isfinite(_autograd(activations.elu, x)).all()


def test_softmax_matches_npx_is_stable_and_has_the_stated_jacobian():
    z = np.array([[2.0, 1.0, 0.1], [1000.0, 0.0, -1000.0]], dtype="float64")
    s = activations.softmax(z)
    onp.testing.assert_allclose(s.asnumpy(), npx.softmax(z).asnumpy(), atol=1e-12)
    assert onp.isfinite(s.asnumpy()).all()
    onp.testing.assert_allclose(s.sum(axis=1).asnumpy(), 1.0)
    v = z[0]
    rows = [_autograd(lambda x, i=i: activations.softmax(x)[i], v) for i in range(3)]
    onp.testing.assert_allclose(onp.stack(rows), activations.softmax_jacobian(v).asnumpy(),
                                atol=1e-12)
    with pytest.raises(ValueError, match="one vector"):
        activations.softmax_jacobian(z)


def test_sigmoid_is_softmax_of_two():
    pairs = np.stack([GRID, np.zeros_like(GRID)], axis=1)
    onp.testing.assert_allclose(activations.softmax(pairs)[:, 0].asnumpy(),
                                activations.sigmoid(GRID).asnumpy(), atol=1e-12)
