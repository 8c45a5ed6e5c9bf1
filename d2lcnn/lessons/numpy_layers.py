"""Lesson code of notebooks/07_layers_from_scratch_numpy.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

from collections.abc import Callable, Iterable

import numpy as onp

from d2lcnn.tools.arrays import as_pair

from .conv_scratch import conv_output_size


class Layer:
    """Base of the NumPy layers: ``forward(x) -> y`` and ``backward(dout) -> dx``, where dout is
    ∂L/∂y for a scalar loss L and dx = ∂L/∂x has x's shape. ``params``: name -> array (changed in
    place by training); ``grads``: name -> ∂L/∂param, filled by ``backward``."""

    def __init__(self) -> None:
        self.params: dict[str, onp.ndarray] = {}
        self.grads: dict[str, onp.ndarray] = {}

    def forward(self, x: onp.ndarray) -> onp.ndarray:
        raise NotImplementedError

    def backward(self, dout: onp.ndarray) -> onp.ndarray:
        raise NotImplementedError

    def _need_forward(self, cached) -> None:
        if cached is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"


def numerical_gradient(f: Callable[[], float], x: onp.ndarray, eps: float = 1e-5) -> onp.ndarray:
    """Central differences (f(x + ε·e_i) − f(x − ε·e_i)) / 2ε for every element i of ``x``.

    ``f`` takes no arguments and reads ``x``, which is changed in place one element at a time
    and restored. Use float64: in float32 the difference of two nearly equal losses keeps only
    a few significant digits. The error is O(ε²) (the Taylor terms of even order cancel).
    """
    grad = onp.zeros_like(x, dtype=onp.float64)
    for idx in onp.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = f()
        x[idx] = old - eps
        f_minus = f()
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a: onp.ndarray, b: onp.ndarray) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖): 0 for equal arrays, 1 for opposite ones; scale-free."""
    a, b = onp.asarray(a, dtype=onp.float64), onp.asarray(b, dtype=onp.float64)
    denom = onp.linalg.norm(a) + onp.linalg.norm(b)
    return 0.0 if denom == 0 else float(onp.linalg.norm(a - b) / denom)


def require_float64(**arrays: onp.ndarray) -> None:
    """TypeError naming the first array that is not float64 (gradient checks need float64)."""
    for name, array in arrays.items():
        if array.dtype != onp.float64:
            raise TypeError(f"{name} is {array.dtype}; gradient checks need float64 "
                            "(use .astype(numpy.float64))")


def check_layer_gradients(layer: Layer, x: onp.ndarray, t: onp.ndarray | None = None,
                          seed: int = 0, eps: float = 1e-5) -> dict[str, float]:
    """Compare a layer's backward pass with numerical gradients; return the relative errors.

    The scalar checked is L = Σ y ⊙ R for a fixed random R of the output's shape (so every
    output value matters, with its own weight). With labels ``t`` the layer is a loss layer
    (``forward(x, t)`` returns the loss, ``backward()`` its gradient) and L is that loss. Returns
    {"x": error of ∂L/∂x, and one entry per parameter}. ``x`` and the parameters must be float64.
    """
    require_float64(x=x, **layer.params)
    x = x.copy()
    if t is not None:
        layer.forward(x, t)
        analytic = {"x": layer.backward()}

        def loss() -> float:
            return layer.forward(x, t)
    else:
        R = onp.random.default_rng(seed).standard_normal(layer.forward(x).shape)
        analytic = {"x": layer.backward(R)}
        analytic |= {k: v.copy() for k, v in layer.grads.items()}

        def loss() -> float:
            return float(onp.sum(layer.forward(x) * R))

    errors = {"x": relative_error(analytic["x"], numerical_gradient(loss, x, eps))}
    for name, param in layer.params.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(loss, param, eps))
    return errors


class Affine(Layer):
    """Fully connected (dense) layer: y = x Wᵀ + b, like Gluon's ``nn.Dense``.

    ``W`` (out_features, in_features), ``b`` (out_features,). The input (N, ...) is flattened to
    (N, in_features), as ``nn.Dense`` does; the gradient comes back in the input's shape.
    Backward: dx = dout · W, dW = doutᵀ · x, db = Σ_n dout.
    """

    def __init__(self, W: onp.ndarray, b: onp.ndarray) -> None:
        super().__init__()
        if W.ndim != 2 or b.shape != (W.shape[0],):
            raise ValueError(f"W must be (out, in) and b (out,), got {W.shape} and {b.shape}")
        self.params = {"W": W, "b": b}
        self.x: onp.ndarray | None = None
        self.x_shape: tuple[int, ...] = ()

    def forward(self, x: onp.ndarray) -> onp.ndarray:
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        if self.x.shape[1] != self.params["W"].shape[1]:
            raise ValueError(f"input has {self.x.shape[1]} features per example, W expects "
                             f"{self.params['W'].shape[1]}")
        return self.x @ self.params["W"].T + self.params["b"]

    def backward(self, dout: onp.ndarray) -> onp.ndarray:
        self._need_forward(self.x)
        self.grads["W"] = dout.T @ self.x
        self.grads["b"] = dout.sum(axis=0)
        return (dout @ self.params["W"]).reshape(self.x_shape)


class Relu(Layer):
    """y = max(x, 0); the gradient passes where x > 0 and is 0 elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.mask: onp.ndarray | None = None

    def forward(self, x: onp.ndarray) -> onp.ndarray:
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout: onp.ndarray) -> onp.ndarray:
        self._need_forward(self.mask)
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class Sigmoid(Layer):
    """y = 1 / (1 + e^(−x)); dy/dx = y (1 − y), computed from the stored output."""

    def __init__(self) -> None:
        super().__init__()
        self.out: onp.ndarray | None = None

    def forward(self, x: onp.ndarray) -> onp.ndarray:
        # Two branches so that e^(−x) never overflows for very negative x.
        e = onp.exp(-onp.abs(x))
        self.out = onp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self.out

    def backward(self, dout: onp.ndarray) -> onp.ndarray:
        self._need_forward(self.out)
        return dout * self.out * (1 - self.out)


def im2col(x: onp.ndarray, kernel_size: int | tuple[int, int],
           stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
           pad_value: float = 0.0) -> onp.ndarray:
    """Unfold every kernel window of ``x`` (N, C, H, W) into one row.

    Returns an array of shape (N · OH · OW, C · KH · KW): row n·OH·OW + i·OW + j holds the window
    whose output lands at (i, j) of example n, flattened in (c, kh, kw) order, the order of a
    flattened Gluon weight (C, KH, KW). ``pad_value`` fills the border (0 for convolution, −∞
    for max pooling, which must never pick the padding).

    Instead of visiting the OH · OW windows, it visits the KH · KW kernel offsets: for offset
    (a, b), the pixels that meet it in all windows are one strided slice of the input.
    """
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {x.shape}")
    (kh, kw), (sh, sw) = as_pair(kernel_size, "kernel_size"), as_pair(stride, "stride")
    ph, pw = as_pair(padding, "padding", minimum=0)
    n, c, h, w = x.shape
    oh = conv_output_size(h, kh, padding=ph, stride=sh)
    ow = conv_output_size(w, kw, padding=pw, stride=sw)
    xp = onp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    col = onp.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            col[:, :, a, b] = xp[:, :, a:a + sh * oh:sh, b:b + sw * ow:sw]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c * kh * kw)


class Convolution(Layer):
    """2-D convolution layer (cross-correlation, 互相关) by :func:`im2col`, like ``nn.Conv2D``.

    ``W`` (F, C, KH, KW), ``b`` (F,); input (N, C, H, W) -> output (N, F, OH, OW). Forward: one
    matrix product im2col(x) · W_flatᵀ, (N·OH·OW, C·KH·KW) × (C·KH·KW, F). Backward: the same
    product's gradients, then :func:`col2im` for the input.
    """

    def __init__(self, W: onp.ndarray, b: onp.ndarray, stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        if W.ndim != 4 or b.shape != (W.shape[0],):
            raise ValueError(f"W must be (F, C, KH, KW) and b (F,), got {W.shape} and {b.shape}")
        self.params = {"W": W, "b": b}
        self.stride, self.padding = stride, padding
        self.col: onp.ndarray | None = None
        self.x_shape: tuple[int, int, int, int] = (0, 0, 0, 0)

    def forward(self, x: onp.ndarray) -> onp.ndarray:
        W, b = self.params["W"], self.params["b"]
        f, c, kh, kw = W.shape
        if x.ndim != 4 or x.shape[1] != c:
            raise ValueError(f"input must be (N, {c}, H, W) for this W, got {x.shape}")
        n, _, h, w = x.shape
        oh = conv_output_size(h, kh, padding=self.padding, stride=self.stride)
        ow = conv_output_size(w, kw, padding=self.padding, stride=self.stride)
        self.x_shape = x.shape
        self.col = im2col(x, (kh, kw), self.stride, self.padding)
        out = self.col @ W.reshape(f, -1).T + b  # (N·OH·OW, F)
        return out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2)

    def backward(self, dout: onp.ndarray) -> onp.ndarray:
        self._need_forward(self.col)
        W = self.params["W"]
        f = W.shape[0]
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, f)  # (N·OH·OW, F), rows as in col
        self.grads["W"] = (dout.T @ self.col).reshape(W.shape)
        self.grads["b"] = dout.sum(axis=0)
        dcol = dout @ W.reshape(f, -1)
        return col2im(dcol, self.x_shape, W.shape[2:], self.stride, self.padding)


def conv2d_naive(x: onp.ndarray, W: onp.ndarray, b: onp.ndarray | None = None,
                 stride: int = 1, padding: int = 0) -> onp.ndarray:
    """Convolution (in deep learning's sense: cross-correlation) by explicit loops over every
    output value: x (N, C, H, W), W (F, C, KH, KW), b (F,) -> (N, F, OH, OW). Slow; it is the
    definition the fast versions are checked against."""
    n, c, h, w = x.shape
    f, c_w, kh, kw = W.shape
    if c_w != c:
        raise ValueError(f"x has {c} channels but W expects {c_w}")
    oh = conv_output_size(h, kh, padding=padding, stride=stride)
    ow = conv_output_size(w, kw, padding=padding, stride=stride)
    xp = onp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = onp.zeros((n, f, oh, ow), dtype=onp.result_type(x, W))
    for i in range(n):
        for k in range(f):
            for r in range(oh):
                for s in range(ow):
                    window = xp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw]
                    out[i, k, r, s] = onp.sum(window * W[k])
    if b is not None:
        out += b.reshape(1, f, 1, 1)
    return out


def col2im(col: onp.ndarray, x_shape: tuple[int, int, int, int],
           kernel_size: int | tuple[int, int], stride: int | tuple[int, int] = 1,
           padding: int | tuple[int, int] = 0) -> onp.ndarray:
    """The adjoint of :func:`im2col`: add each row of ``col`` back onto its window.

    ``col`` (N · OH · OW, C · KH · KW) -> array of ``x_shape`` (N, C, H, W). Where windows
    overlap their values add up, and values that fell on the padding are dropped; so for the
    gradient of anything computed from ``im2col(x)``, ``col2im(d_col)`` is the gradient for x.
    """
    (kh, kw), (sh, sw) = as_pair(kernel_size, "kernel_size"), as_pair(stride, "stride")
    ph, pw = as_pair(padding, "padding", minimum=0)
    n, c, h, w = x_shape
    oh = conv_output_size(h, kh, padding=ph, stride=sh)
    ow = conv_output_size(w, kw, padding=pw, stride=sw)
    if col.shape != (n * oh * ow, c * kh * kw):
        raise ValueError(f"col has shape {col.shape}, but windows of {kh}×{kw} over {x_shape} "
                         f"need ({n * oh * ow}, {c * kh * kw})")
    col = col.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    xp = onp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=col.dtype)
    for a in range(kh):
        for b in range(kw):
            xp[:, :, a:a + sh * oh:sh, b:b + sw * ow:sw] += col[:, :, a, b]
    return xp[:, :, ph:ph + h, pw:pw + w]


class MaxPooling(Layer):
    """Max pooling (最大汇聚) per channel, like ``nn.MaxPool2D``; the stride defaults to the pool
    size (non-overlapping windows), as in Gluon. Padding counts as −∞, so it is never the max.

    Forward: im2col of each channel on its own, max over each row; the position of the max is
    kept, and backward sends each gradient to that one input pixel (overlapping windows add up).
    """

    def __init__(self, pool_size: int | tuple[int, int] = 2,
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        self.pool = as_pair(pool_size, "pool_size")
        self.stride = self.pool if stride is None else as_pair(stride, "stride")
        self.padding = as_pair(padding, "padding", minimum=0)
        self.argmax: onp.ndarray | None = None
        self.x_shape: tuple[int, int, int, int] = (0, 0, 0, 0)

    def forward(self, x: onp.ndarray) -> onp.ndarray:
        n, c, h, w = x.shape
        oh = conv_output_size(h, self.pool[0], padding=self.padding[0], stride=self.stride[0])
        ow = conv_output_size(w, self.pool[1], padding=self.padding[1], stride=self.stride[1])
        # Channels as examples: each row of col is one window of one channel.
        col = im2col(x.reshape(n * c, 1, h, w), self.pool, self.stride, self.padding,
                     pad_value=-onp.inf)
        self.x_shape = x.shape
        self.argmax = col.argmax(axis=1)
        out = col[onp.arange(len(col)), self.argmax]
        return out.reshape(n, c, oh, ow)

    def backward(self, dout: onp.ndarray) -> onp.ndarray:
        self._need_forward(self.argmax)
        n, c, h, w = self.x_shape
        dcol = onp.zeros((self.argmax.size, self.pool[0] * self.pool[1]), dtype=dout.dtype)
        dcol[onp.arange(self.argmax.size), self.argmax] = dout.reshape(-1)
        dx = col2im(dcol, (n * c, 1, h, w), self.pool, self.stride, self.padding)
        return dx.reshape(self.x_shape)


def softmax_rows(x: onp.ndarray) -> onp.ndarray:
    """Softmax over the last axis of a NumPy array, shifted by the row maximum so that exp never
    overflows."""
    e = onp.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def mean_cross_entropy(y: onp.ndarray, t: onp.ndarray) -> float:
    """Mean cross-entropy −(1/N) Σ_n log y[n, t_n] of probabilities y (N, K) and integer labels
    t (N,) (or one-hot t (N, K))."""
    if t.shape == y.shape:
        t = t.argmax(axis=1)
    n = y.shape[0]
    return float(-onp.log(y[onp.arange(n), t] + 1e-300).mean())


class SoftmaxWithLoss(Layer):
    """Softmax followed by the mean cross-entropy loss, as one layer.

    ``forward(x, t)``: scores x (N, K), integer labels t (N,) or one-hot (N, K) -> the loss.
    ``backward()`` -> ∂loss/∂x = (softmax(x) − onehot(t)) / N: the famous y − t, divided by N
    because the loss is the batch mean.
    """

    def __init__(self) -> None:
        super().__init__()
        self.y: onp.ndarray | None = None
        self.t: onp.ndarray | None = None

    def forward(self, x: onp.ndarray, t: onp.ndarray) -> float:
        self.y = softmax_rows(x)
        self.t = t.argmax(axis=1) if t.shape == x.shape else t.astype(onp.int64)
        return mean_cross_entropy(self.y, self.t)

    def backward(self, dout: float = 1.0) -> onp.ndarray:
        self._need_forward(self.y)
        n = self.y.shape[0]
        dx = self.y.copy()
        dx[onp.arange(n), self.t] -= 1
        return dx * (dout / n)


class Net:
    """A chain of NumPy layers ending in :class:`SoftmaxWithLoss`.

    ``params`` maps ``"<layer index>.<name>"`` (e.g. ``"0.W"``) to the layers' own arrays, so an
    SGD step ``p -= lr * g`` changes the network; :meth:`gradient` returns the gradients under
    the same keys.
    """

    def __init__(self, layers: Iterable[Layer], loss: SoftmaxWithLoss | None = None) -> None:
        self.layers = list(layers)
        self.loss_layer = loss or SoftmaxWithLoss()

    @property
    def params(self) -> dict[str, onp.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.params.items()}

    def predict(self, x: onp.ndarray) -> onp.ndarray:
        """Scores (logits) (N, K) for a batch x."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x: onp.ndarray, t: onp.ndarray) -> float:
        return self.loss_layer.forward(self.predict(x), t)

    def gradient(self, x: onp.ndarray, t: onp.ndarray) -> tuple[float, dict[str, onp.ndarray]]:
        """Forward and backward pass: (loss, gradient of every parameter, keyed like params)."""
        loss = self.loss(x, t)
        dout = self.loss_layer.backward()
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                 for k, v in layer.grads.items()}
        return loss, grads

    def accuracy(self, x: onp.ndarray, t: onp.ndarray, batch_size: int = 1000) -> float:
        """Fraction of examples whose highest score is their label (evaluated in batches)."""
        correct = 0
        for start in range(0, len(x), batch_size):
            scores = self.predict(x[start:start + batch_size])
            correct += int((scores.argmax(axis=1) == t[start:start + batch_size]).sum())
        return correct / len(x)

    def __repr__(self) -> str:
        return "Net(\n" + "".join(f"  {i}: {layer!r}\n" for i, layer in enumerate(self.layers)) + ")"


def check_net_gradients(net: Net, x: onp.ndarray, t: onp.ndarray,
                        eps: float = 1e-5) -> dict[str, float]:
    """Relative error between backpropagation and numerical gradients of the loss for every
    parameter of ``net`` (float64), keyed like ``net.params``."""
    require_float64(x=x, **net.params)
    _, grads = net.gradient(x, t)
    grads = {k: v.copy() for k, v in grads.items()}
    return {name: relative_error(grads[name], numerical_gradient(lambda: net.loss(x, t), p, eps))
            for name, p in net.params.items()}


__all__ = ['Layer', 'numerical_gradient', 'relative_error', 'require_float64', 'check_layer_gradients', 'Affine', 'Relu', 'Sigmoid', 'im2col', 'Convolution', 'conv2d_naive', 'col2im', 'MaxPooling', 'softmax_rows', 'mean_cross_entropy', 'SoftmaxWithLoss', 'Net', 'check_net_gradients']
