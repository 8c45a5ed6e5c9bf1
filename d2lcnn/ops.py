"""Convolution and pooling from scratch (chapters 01–04), on MXNet ``np`` arrays.

Each operation is its textbook definition written with array slicing, so it runs under
``autograd`` (chapter 01 learns a kernel through :func:`corr2d`) and is checked against its Gluon
built-in (``nn.Conv1D``, ``nn.Conv2D``, ``nn.Dense``, ``nn.MaxPool2D``, ``nn.AvgPool2D``) in
``tests/test_ops.py``.

Conventions, the same as Gluon's:

- 2-D operations act on the last two axes (height, width); leading axes (batch, channel) are kept;
- ``padding`` is *per side*: ``padding=1`` adds one row on top and one at the bottom, so the total
  padding of the book's formula is p_h = 2 · padding;
- an int for ``padding``, ``stride``, ``dilation`` or a kernel size means the same value for height
  and width; a pair gives (height, width);
- output size per axis: ⌊(n + 2·padding − d·(k − 1) − 1) / s⌋ + 1 (:func:`conv_output_size`).

What deep learning calls convolution is **cross-correlation** (互相关): the kernel is not flipped.
:func:`conv1d` is the flipped, signal-processing convolution, for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence

from mxnet import np
from mxnet.gluon import nn

__all__ = [
    "as_pair",
    "effective_kernel_size",
    "conv_output_size",
    "conv_output_shape",
    "padding_for",
    "pad2d",
    "corr1d",
    "conv1d",
    "corr2d",
    "ScratchConv2D",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_1x1",
    "conv_param_count",
    "pool2d",
]

IntOrPair = int | Sequence[int]


def as_pair(value: IntOrPair, name: str, minimum: int = 1) -> tuple[int, int]:
    """``value`` as a (height, width) pair of ints ≥ ``minimum``; ``name`` is used in errors."""
    if isinstance(value, int):
        pair = (value, value)
    elif isinstance(value, Sequence):
        pair = tuple(value)
    else:
        pair = ()
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints (height, width), got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return pair


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Input pixels spanned by a kernel of ``kernel_size`` taps spaced ``dilation`` apart.

    d · (k − 1) + 1: a 3-tap kernel with dilation 2 spans 5 pixels.
    """
    return dilation * (kernel_size - 1) + 1


def conv_output_size(
    input_size: int, kernel_size: int, padding: int = 0, stride: int = 1, dilation: int = 1
) -> int:
    """Output length along one axis of a convolution or pooling window sliding over the input.

    ⌊(n + 2p − k_eff) / s⌋ + 1 with k_eff = d · (k − 1) + 1 (``padding`` p per side). With the
    book's total padding p_h = 2p this is d2l's ⌊(n − k + p_h + s) / s⌋ (for d = 1).
    Raises ValueError, naming the fix, when the kernel does not fit in the padded input.
    """
    for name, value, minimum in [("input size", input_size, 1), ("kernel size", kernel_size, 1),
                                 ("padding", padding, 0), ("stride", stride, 1),
                                 ("dilation", dilation, 1)]:
        if not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an int ≥ {minimum}, got {value!r}")
    span = effective_kernel_size(kernel_size, dilation)
    padded = input_size + 2 * padding
    if span > padded:
        dilated = f" (kernel {kernel_size} with dilation {dilation})" if dilation > 1 else ""
        raise ValueError(
            f"kernel spans {span} pixels{dilated} but the padded input has only {padded} "
            f"({input_size} + 2·{padding}): use a smaller kernel or dilation, or pad by at least "
            f"{-(-(span - input_size) // 2)} per side"
        )
    return (padded - span) // stride + 1


def conv_output_shape(
    input_shape: IntOrPair,
    kernel_size: IntOrPair,
    padding: IntOrPair = 0,
    stride: IntOrPair = 1,
    dilation: IntOrPair = 1,
) -> tuple[int, int]:
    """(height, width) of the output of a 2-D convolution or pooling; see :func:`conv_output_size`.

    >>> conv_output_shape(8, (3, 5), padding=(0, 1), stride=(3, 4))
    (2, 2)
    """
    n, k = as_pair(input_shape, "input shape"), as_pair(kernel_size, "kernel_size")
    p, s, d = (as_pair(padding, "padding", 0), as_pair(stride, "stride"),
               as_pair(dilation, "dilation"))
    return tuple(conv_output_size(*args) for args in zip(n, k, p, s, d, strict=True))


def padding_for(mode: str, kernel_size: int, dilation: int = 1) -> int:
    """Per-side padding of the three classic modes, along one axis.

    - ``"valid"``: no padding, windows stay inside the input (n → n − k + 1);
    - ``"same"``: (k_eff − 1) / 2, the output keeps the input size (stride 1); needs an odd k_eff;
    - ``"full"``: k_eff − 1, every window that overlaps the input at all (n → n + k − 1).
    """
    span = effective_kernel_size(kernel_size, dilation)
    if mode == "valid":
        return 0
    if mode == "full":
        return span - 1
    if mode == "same":
        if span % 2 == 0:
            raise ValueError(
                f"'same' padding needs an odd kernel: k = {span} would need {span - 1} padding "
                f"pixels, which cannot be split evenly between the two sides (Gluon pads both "
                f"sides alike); use an odd kernel size"
            )
        return (span - 1) // 2
    raise ValueError(f"mode must be 'valid', 'same' or 'full', got {mode!r}")


def pad2d(X: np.ndarray, padding: IntOrPair, value: float = 0.0) -> np.ndarray:
    """``X`` (..., H, W) with ``padding`` rows/columns of ``value`` added on each side.

    (``mx.np.pad`` ignores ``constant_values`` in MXNet 1.9.1, so this builds the border itself;
    max pooling pads with −∞.) Differentiable: gradients flow to the inner part.
    """
    p_h, p_w = as_pair(padding, "padding", 0)
    if p_w:
        side = np.full((*X.shape[:-1], p_w), value, dtype=X.dtype, ctx=X.ctx)
        X = np.concatenate([side, X, side], axis=-1)
    if p_h:
        side = np.full((*X.shape[:-2], p_h, X.shape[-1]), value, dtype=X.dtype, ctx=X.ctx)
        X = np.concatenate([side, X, side], axis=-2)
    return X


def corr1d(x: np.ndarray, w: np.ndarray, padding: int = 0) -> np.ndarray:
    """1-D cross-correlation (互相关): y_i = Σ_k w_k · x_{i+k}, kernel not flipped.

    ``x``: (n,), ``w``: (k,), zero-padded by ``padding`` on each side -> (n + 2·padding − k + 1,).
    """
    if x.ndim != 1 or w.ndim != 1:
        raise ValueError(f"corr1d takes 1-D x and w, got shapes {x.shape} and {w.shape}")
    n = conv_output_size(x.shape[0], w.shape[0], padding)
    if padding:
        zeros = np.zeros((padding,), dtype=x.dtype, ctx=x.ctx)
        x = np.concatenate([zeros, x, zeros])
    y = 0
    for k in range(w.shape[0]):
        y = y + w[k] * x[k : k + n]
    return y


def conv1d(x: np.ndarray, w: np.ndarray, padding: int = 0) -> np.ndarray:
    """1-D convolution (卷积) as in signal processing: y_t = Σ_k w_k · x_{t−k}.

    The same as :func:`corr1d` with the kernel flipped. ``x``: (n,), ``w``: (k,)
    -> (n + 2·padding − k + 1,); output i is aligned with input i + k − 1 − padding.
    """
    if w.ndim != 1:
        raise ValueError(f"conv1d takes a 1-D kernel w, got shape {w.shape}")
    return corr1d(x, w[::-1], padding)


def _windows(X: np.ndarray, kernel_size, stride, dilation):
    """Yield (a, b, slice of X) for every kernel tap (a, b): the input values that tap multiplies.

    ``X`` is already padded; tap (a, b) of every window is X[a·d + i·s, b·d + j·s] for output
    (i, j), one strided slice. Summing taps instead of windows keeps every step differentiable.
    """
    (k_h, k_w), (s_h, s_w), (d_h, d_w) = kernel_size, stride, dilation
    o_h = (X.shape[-2] - effective_kernel_size(k_h, d_h)) // s_h + 1
    o_w = (X.shape[-1] - effective_kernel_size(k_w, d_w)) // s_w + 1
    for a in range(k_h):
        for b in range(k_w):
            top, left = a * d_h, b * d_w
            yield a, b, X[..., top : top + (o_h - 1) * s_h + 1 : s_h,
                          left : left + (o_w - 1) * s_w + 1 : s_w]


def _geometry(X, kernel_shape, padding, stride, dilation):
    if X.ndim < 2:
        raise ValueError(f"X must have height and width as its last two axes, got shape {X.shape}")
    k = as_pair(tuple(kernel_shape), "kernel shape")
    p, s, d = as_pair(padding, "padding", 0), as_pair(stride, "stride"), as_pair(dilation, "dilation")
    conv_output_shape(X.shape[-2:], k, p, s, d)  # raises a clear error when the kernel does not fit
    return k, p, s, d


def corr2d(
    X: np.ndarray,
    K: np.ndarray,
    padding: IntOrPair = 0,
    stride: IntOrPair = 1,
    dilation: IntOrPair = 1,
) -> np.ndarray:
    """2-D cross-correlation (二维互相关): Y[i, j] = Σ_a Σ_b K[a, b] · X[i·s + a·d, j·s + b·d].

    ``X``: (..., H, W), zero-padded by ``padding`` per side; ``K``: (k_h, k_w). Returns
    (..., H_out, W_out) (:func:`conv_output_shape`). Computed as k_h · k_w scaled, shifted copies
    of X added up — the same numbers as the double loop over output cells, but differentiable
    (no in-place writes) and fast.
    """
    if K.ndim != 2:
        raise ValueError(f"K must be a 2-D kernel (k_h, k_w), got shape {K.shape}")
    k, p, s, d = _geometry(X, K.shape, padding, stride, dilation)
    Y = 0
    for a, b, taps in _windows(pad2d(X, p), k, s, d):
        Y = Y + K[a, b] * taps
    return Y


class ScratchConv2D(nn.Block):
    """A 2-D convolution layer from scratch: one kernel ``weight`` (k_h, k_w) and a scalar ``bias``.

    ``forward(X)``: X (..., H, W) -> corr2d(X, weight) + bias, shape (..., H_out, W_out). It equals
    ``nn.Conv2D(1, kernel_size, in_channels=1)`` with the same weight and bias on (N, 1, H, W).
    A plain ``Block`` (not hybridizable): :func:`corr2d` needs the concrete input shape.
    """

    def __init__(self, kernel_size: IntOrPair, padding: IntOrPair = 0, stride: IntOrPair = 1,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.padding, self.stride = padding, stride
        self.weight = self.params.get("weight", shape=as_pair(kernel_size, "kernel_size"))
        self.bias = self.params.get("bias", shape=(1,), init="zeros")

    def forward(self, X: np.ndarray) -> np.ndarray:
        return corr2d(X, self.weight.data(), self.padding, self.stride) + self.bias.data()


def corr2d_multi_in(X: np.ndarray, K: np.ndarray, padding: IntOrPair = 0,
                    stride: IntOrPair = 1, dilation: IntOrPair = 1) -> np.ndarray:
    """Several input channels (多输入通道): correlate channel by channel, then add up.

    ``X``: (c_i, H, W), ``K``: (c_i, k_h, k_w) -> (H_out, W_out): one output channel.
    """
    if X.ndim != 3 or K.ndim != 3:
        raise ValueError(f"X must be (c_i, H, W) and K (c_i, k_h, k_w), got {X.shape} and {K.shape}")
    if X.shape[0] != K.shape[0]:
        raise ValueError(f"X has {X.shape[0]} input channels but K has {K.shape[0]}: they must match")
    return sum(corr2d(x, k, padding, stride, dilation) for x, k in zip(X, K, strict=True))


def corr2d_multi_in_out(X: np.ndarray, K: np.ndarray, padding: IntOrPair = 0,
                        stride: IntOrPair = 1, dilation: IntOrPair = 1) -> np.ndarray:
    """Several output channels (多输出通道): one multi-input kernel per output channel, stacked.

    ``X``: (c_i, H, W), ``K``: (c_o, c_i, k_h, k_w) — Gluon's weight layout -> (c_o, H_out, W_out).
    """
    if K.ndim != 4:
        raise ValueError(f"K must be (c_o, c_i, k_h, k_w), got shape {K.shape}")
    return np.stack([corr2d_multi_in(X, k, padding, stride, dilation) for k in K])


def corr2d_1x1(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    """1×1 convolution as a matrix product: a dense layer applied at every pixel.

    ``X``: (c_i, H, W), ``K``: (c_o, c_i, 1, 1) or (c_o, c_i) -> (c_o, H, W). Each pixel's c_i
    channel values are multiplied by the same (c_o, c_i) matrix; pixels never mix.
    """
    if K.ndim == 4:
        if K.shape[2:] != (1, 1):
            raise ValueError(f"a 1×1 kernel must have shape (c_o, c_i, 1, 1), got {K.shape}")
        K = K.reshape(K.shape[:2])
    if X.ndim != 3 or K.ndim != 2 or X.shape[0] != K.shape[1]:
        raise ValueError(f"X must be (c_i, H, W) and K (c_o, c_i[, 1, 1]) with the same c_i, "
                         f"got {X.shape} and {K.shape}")
    c_i, h, w = X.shape
    return np.dot(K, X.reshape(c_i, h * w)).reshape(K.shape[0], h, w)


def conv_param_count(in_channels: int, out_channels: int, kernel_size: IntOrPair,
                     use_bias: bool = True) -> int:
    """Parameters of a convolution layer: c_o · c_i · k_h · k_w weights, plus c_o biases.

    Independent of the image size: the same kernels slide over every position.
    """
    k_h, k_w = as_pair(kernel_size, "kernel_size")
    return out_channels * in_channels * k_h * k_w + (out_channels if use_bias else 0)


def pool2d(
    X: np.ndarray,
    pool_size: IntOrPair,
    mode: str = "max",
    padding: IntOrPair = 0,
    stride: IntOrPair | None = None,
) -> np.ndarray:
    """Max or average pooling (汇聚/池化) over windows of ``pool_size`` on the last two axes.

    ``X``: (..., H, W) -> (..., H_out, W_out); every channel is pooled on its own, so the channel
    count is kept. ``stride`` defaults to ``pool_size`` (non-overlapping windows), as in Gluon's
    ``nn.MaxPool2D``; d2l's from-scratch ``pool2d`` uses stride 1. Padding is per side and, as in
    Gluon, acts as −∞ for max pooling (never chosen) and as zeros *counted in the mean* for
    average pooling (``count_include_pad=True``). Padding must be smaller than the window, so
    that every window sees at least one real pixel.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    size = as_pair(pool_size, "pool_size")
    stride = size if stride is None else stride
    k, p, s, d = _geometry(X, size, padding, stride, 1)
    if p[0] >= k[0] or p[1] >= k[1]:
        raise ValueError(f"padding {padding!r} must be smaller than pool_size {pool_size!r} on each "
                         f"axis, or some windows would hold padding only")
    fill = float("-inf") if mode == "max" else 0.0
    Y = None
    for _, _, taps in _windows(pad2d(X, p, fill), k, s, d):
        if Y is None:
            Y = taps
        else:
            Y = np.maximum(Y, taps) if mode == "max" else Y + taps
    return Y if mode == "max" else Y / (k[0] * k[1])
