"""Lesson code of notebooks/06_activations_and_losses.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

from mxnet import autograd, np, npx
from mxnet.gluon import nn


def step(x):
    """Heaviside step: 1 where x > 0, else 0 (the perceptron's activation)."""
    return (x > 0).astype(x.dtype)


def step_grad(x):
    """0 everywhere (undefined at 0): no gradient ever flows through a step."""
    return np.zeros_like(x)


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), from (−∞, ∞) to (0, 1)."""
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    """σ'(x) = σ(x) (1 − σ(x)), at most 1/4 (at x = 0)."""
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    """tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x)) = 2σ(2x) − 1, from (−∞, ∞) to (−1, 1)."""
    return np.tanh(x)


def tanh_grad(x):
    """tanh'(x) = 1 − tanh²(x), at most 1 (at x = 0)."""
    return 1 - np.tanh(x) ** 2


def relu(x):
    """ReLU(x) = max(x, 0), written as a ``where`` so that autograd's derivative at 0 is 0, as
    for ``npx.relu`` (``np.maximum(x, 0)`` would give 1 there)."""
    return np.where(x > 0, x, np.zeros_like(x))


def relu_grad(x):
    """1 where x > 0, else 0."""
    return (x > 0).astype(x.dtype)


def leaky_relu(x, alpha=0.01):
    """x where x > 0, else αx: a small slope instead of 0 for negative inputs."""
    return np.where(x > 0, x, alpha * x)


def leaky_relu_grad(x, alpha=0.01):
    """1 where x > 0, else α."""
    return np.where(x > 0, np.ones_like(x), alpha * np.ones_like(x))


def prelu(x, alpha):
    """Parametric ReLU: leaky ReLU whose slope α is a parameter learned with the weights (Gluon's
    ``nn.PReLU`` starts it at 0.25). ``alpha``: a scalar or an array broadcast against x."""
    return np.where(x > 0, x, alpha * x)


def prelu_grad(x, alpha):
    """∂PReLU/∂x: 1 where x > 0, else α."""
    return np.where(x > 0, np.ones_like(x), alpha * np.ones_like(x))


def prelu_grad_alpha(x, alpha=None):
    """∂PReLU/∂α: 0 where x > 0, else x (it does not depend on α)."""
    return np.where(x > 0, np.zeros_like(x), x)


def elu(x, alpha=1.0):
    """ELU: x where x > 0, else α(e^x − 1), which tends to −α: smooth and with mean nearer 0."""
    # exp of min(x, 0): for large positive x the unused branch must not overflow, or autograd
    # would multiply its infinite derivative by 0 and give NaN.
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


def elu_grad(x, alpha=1.0):
    """1 where x > 0, else α e^x (= ELU(x) + α)."""
    return np.where(x > 0, np.ones_like(x), alpha * np.exp(np.minimum(x, 0)))


def gelu(x):
    """GELU(x) = x Φ(x) = x · ½(1 + erf(x/√2)), Φ the standard normal CDF (the exact form, which
    Gluon's ``nn.GELU`` computes; the tanh formula of the paper approximates it)."""
    return x * 0.5 * (1 + npx.erf(x / math.sqrt(2)))


def gelu_grad(x):
    """GELU'(x) = Φ(x) + x φ(x), φ the standard normal density."""
    density = np.exp(-0.5 * x ** 2) / math.sqrt(2 * math.pi)
    return 0.5 * (1 + npx.erf(x / math.sqrt(2))) + x * density


@dataclass(frozen=True)
class Activation:
    """An elementwise activation: its function, closed-form derivative, and Gluon's built-in
    layer (``None`` where Gluon has none), each a callable taking and returning ``mxnet.np``
    arrays (``builtin`` makes the layer)."""

    name: str
    function: Callable
    derivative: Callable
    builtin: Callable | None


def initialized_prelu():
    """Gluon's ``nn.PReLU``, initialised (α = 0.25)."""
    layer = nn.PReLU()
    layer.initialize()
    return layer


# The elementwise activations of chapter 06, by name; PReLU with its initial α = 0.25.
ACTIVATIONS = {a.name: a for a in [
    Activation("step", step, step_grad, None),
    Activation("sigmoid", sigmoid, sigmoid_grad, lambda: nn.Activation("sigmoid")),
    Activation("tanh", tanh, tanh_grad, lambda: nn.Activation("tanh")),
    Activation("ReLU", relu, relu_grad, lambda: nn.Activation("relu")),
    Activation("leaky ReLU", leaky_relu, leaky_relu_grad, lambda: nn.LeakyReLU(0.01)),
    Activation("PReLU", lambda x: prelu(x, 0.25), lambda x: prelu_grad(x, 0.25),
               initialized_prelu),
    Activation("ELU", elu, elu_grad, lambda: nn.ELU(1.0)),
    Activation("GELU", gelu, gelu_grad, lambda: nn.GELU()),
]}


def softmax(x, axis=-1):
    """softmax(x)_i = e^(x_i) / Σ_j e^(x_j) along ``axis``, shifted by the maximum (which does
    not change the result) so that exp never overflows."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_jacobian(x):
    """Jacobian of softmax for one vector x (K,): J = diag(s) − s sᵀ, (K, K), with s = softmax(x);
    J[i, j] = ∂s_i/∂x_j."""
    if x.ndim != 1:
        raise ValueError(f"softmax_jacobian takes one vector (K,), got shape {x.shape}")
    s = softmax(x)
    return np.diag(s) - np.outer(s, s)


def rrelu(x, lower=1 / 8, upper=1 / 3, training=None):
    """Randomized leaky ReLU: x where x > 0, else a·x. In training every value gets its own slope
    a ~ U[lower, upper], drawn anew at each call; otherwise a = (lower + upper) / 2, the mean
    slope. ``training`` None: training inside ``autograd.record()``, as for Gluon's layers."""
    if training is None:
        training = autograd.is_training()
    if training:
        slope = np.random.uniform(lower, upper, size=x.shape, dtype=x.dtype)
    else:
        slope = (lower + upper) / 2
    return np.where(x > 0, x, slope * x)


def maxout(z, pieces):
    """Maxout along axis 1: z (N, units·pieces, ...) -> (N, units, ...), output j the maximum of
    features j·pieces … j·pieces + pieces − 1 (works for dense and convolution outputs)."""
    n, features = z.shape[:2]
    if features % pieces:
        raise ValueError(f"{features} features cannot form groups of {pieces} pieces")
    return z.reshape(n, features // pieces, pieces, *z.shape[2:]).max(axis=2)


class Maxout(nn.Block):
    """A dense maxout layer: ``units`` outputs, each max_j (x W_jᵀ + b_j) over ``pieces`` affine
    pieces. Row u·pieces + j of the inner dense layer's weight is piece j of unit u. ``in_units``
    0: the input size is learned at the first forward pass."""

    def __init__(self, units, pieces, in_units=0, **kwargs):
        super().__init__(**kwargs)
        self.pieces = pieces
        self.dense = nn.Dense(units * pieces, in_units=in_units)

    def forward(self, x):
        return maxout(self.dense(x), self.pieces)


def mse(y, t):
    """Mean squared error of each example: mean over the last axis of (y − t)²."""
    return ((y - t) ** 2).mean(axis=-1)


def cross_entropy(y, label):
    """Cross-entropy −log y[n, label_n] of each example: y (N, K) probabilities, label (N,)
    integer classes."""
    return -np.log(y[np.arange(len(label)), label])


def binary_cross_entropy(p, t):
    """Binary cross-entropy of each example, averaged over its labels: p (N, L) probabilities,
    t (N, L) targets in {0, 1}: mean over L of −t log p − (1 − t) log(1 − p)."""
    return (-(t * np.log(p) + (1 - t) * np.log(1 - p))).mean(axis=-1)


__all__ = ['step', 'step_grad', 'sigmoid', 'sigmoid_grad', 'tanh', 'tanh_grad', 'relu', 'relu_grad', 'leaky_relu', 'leaky_relu_grad', 'prelu', 'prelu_grad', 'prelu_grad_alpha', 'elu', 'elu_grad', 'gelu', 'gelu_grad', 'Activation', 'initialized_prelu', 'ACTIVATIONS', 'softmax', 'softmax_jacobian', 'rrelu', 'maxout', 'Maxout', 'mse', 'cross_entropy', 'binary_cross_entropy']
