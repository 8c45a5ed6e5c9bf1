"""Lesson code of notebooks/01_cross_correlation.ipynb, notebooks/02_padding_and_stride.ipynb, notebooks/03_channels.ipynb, notebooks/04_pooling.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

import numpy as onp
from mxnet import np
from mxnet.gluon import nn

from d2lcnn.tools.arrays import as_pair


def corr1d(x, w, padding=0):
    """1-D cross-correlation (互相关): y_i = Σ_k w_k · x_{i+k}, the kernel not flipped.

    x: (n,), w: (k,); x is zero-padded by `padding` on each side -> (n + 2·padding − k + 1,).
    """
    if x.ndim != 1 or w.ndim != 1:
        raise ValueError(f"corr1d takes 1-D x and w, got shapes {x.shape} and {w.shape}")
    if padding:
        zeros = np.zeros((padding,), dtype=x.dtype, ctx=x.ctx)
        x = np.concatenate([zeros, x, zeros])
    n = x.shape[0] - w.shape[0] + 1  # number of positions where the kernel fits
    if n < 1:
        raise ValueError(f"the kernel ({w.shape[0]} taps) is longer than the padded signal "
                         f"({x.shape[0]}): pad more or use a shorter kernel")
    y = 0
    for k in range(w.shape[0]):
        y = y + w[k] * x[k : k + n]
    return y


def conv1d(x, w, padding=0):
    """1-D convolution (卷积) as in signal processing: y_t = Σ_k w_k · x_{t−k}.

    corr1d with the kernel flipped. x: (n,), w: (k,) -> (n + 2·padding − k + 1,); output i is
    aligned with input i + k − 1 − padding.
    """
    if w.ndim != 1:
        raise ValueError(f"conv1d takes a 1-D kernel w, got shape {w.shape}")
    return corr1d(x, w[::-1], padding)


class ScratchConv2D(nn.Block):
    """A convolutional layer from scratch: a kernel `weight` (k_h, k_w) and a scalar `bias`.

    forward(X): X (..., H, W) -> corr2d(X, weight, **corr2d_options) + bias. With the same weight
    and bias it equals nn.Conv2D(1, kernel_size, in_channels=1) on (N, 1, H, W). A plain Block (not
    hybridizable): corr2d needs the concrete input shape.
    """

    def __init__(self, kernel_size, **corr2d_options):
        super().__init__()
        self.corr2d_options = corr2d_options
        self.weight = self.params.get("weight", shape=as_pair(kernel_size, "kernel_size"))
        self.bias = self.params.get("bias", shape=(1,), init="zeros")

    def forward(self, X):
        return corr2d(X, self.weight.data(), **self.corr2d_options) + self.bias.data()


def effective_kernel_size(kernel_size, dilation=1):
    """Input pixels spanned by a kernel of `kernel_size` taps spaced `dilation` apart: d·(k − 1) + 1."""
    return dilation * (kernel_size - 1) + 1


def conv_output_size(input_size, kernel_size, padding=0, stride=1, dilation=1):
    """Output length along one axis of a convolution (or pooling) window sliding over the input.

    ⌊(n + 2p − k_eff) / s⌋ + 1, with p the padding per side and k_eff = d·(k − 1) + 1. Raises
    ValueError, saying what to change, when the kernel does not fit in the padded input.
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
            f"{-(-(span - input_size) // 2)} per side")
    return (padded - span) // stride + 1


def conv_output_shape(input_shape, kernel_size, padding=0, stride=1, dilation=1):
    """(H_out, W_out) of a 2-D convolution or pooling: conv_output_size along each axis.

    Each argument is an int (the same for height and width) or a (height, width) pair.
    """
    axes = zip(as_pair(input_shape, "input shape"), as_pair(kernel_size, "kernel_size"),
               as_pair(padding, "padding", 0), as_pair(stride, "stride"),
               as_pair(dilation, "dilation"), strict=True)
    return tuple(conv_output_size(*axis) for axis in axes)


def pad2d(X, padding, value=0.0):
    """X (..., H, W) with `padding` rows/columns of `value` added on each side of the last two axes.

    `padding`: an int or a (rows, columns) pair, per side. Differentiable: gradients flow to X.
    (Built with concatenate: MXNet 1.9.1's np.pad ignores constant_values.)
    """
    p_h, p_w = as_pair(padding, "padding", 0)
    if p_w:
        side = np.full((*X.shape[:-1], p_w), value, dtype=X.dtype, ctx=X.ctx)
        X = np.concatenate([side, X, side], axis=-1)
    if p_h:
        side = np.full((*X.shape[:-2], p_h, X.shape[-1]), value, dtype=X.dtype, ctx=X.ctx)
        X = np.concatenate([side, X, side], axis=-2)
    return X


def window_taps(X, kernel_size, stride=1, dilation=1):
    """Yield (a, b, values) for every kernel entry (a, b): the input values it multiplies.

    X: (..., H, W), already padded. Window (i, j) reads X[i·s + a·d, j·s + b·d] through entry
    (a, b), so `values` is one strided slice of X, of shape (..., H_out, W_out).
    """
    k_h, k_w = as_pair(kernel_size, "kernel_size")
    (s_h, s_w), (d_h, d_w) = as_pair(stride, "stride"), as_pair(dilation, "dilation")
    o_h, o_w = conv_output_shape(X.shape[-2:], (k_h, k_w), 0, (s_h, s_w), (d_h, d_w))
    for a in range(k_h):
        for b in range(k_w):
            top, left = a * d_h, b * d_w
            yield a, b, X[..., top : top + (o_h - 1) * s_h + 1 : s_h,
                          left : left + (o_w - 1) * s_w + 1 : s_w]


def corr2d(X, K, padding=0, stride=1, dilation=1):
    """2-D cross-correlation (二维互相关): Y[i, j] = Σ_a Σ_b K[a, b] · X[i·s + a·d, j·s + b·d].

    X: (..., H, W), zero-padded by `padding` per side; K: (k_h, k_w). Returns (..., H_out, W_out)
    (conv_output_shape). One scaled, strided slice of the padded input per kernel entry, added up:
    the same numbers as a loop over the outputs, but differentiable and fast.
    """
    if K.ndim != 2:
        raise ValueError(f"K must be a 2-D kernel (k_h, k_w), got shape {K.shape}")
    if X.ndim < 2:
        raise ValueError(f"X must have height and width as its last two axes, got shape {X.shape}")
    conv_output_shape(X.shape[-2:], K.shape, padding, stride, dilation)  # why K does not fit
    Y = 0
    for a, b, values in window_taps(pad2d(X, padding), K.shape, stride, dilation):
        Y = Y + K[a, b] * values
    return Y


def padding_for(mode, kernel_size, dilation=1):
    """Padding per side of the modes "valid", "same" and "full", along one axis (stride 1).

    valid: 0 (n → n − k + 1); same: (k_eff − 1) / 2 (n → n), needs an odd k_eff;
    full: k_eff − 1 (n → n + k_eff − 1); k_eff = d·(k − 1) + 1.
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
                f"sides alike); use an odd kernel size")
        return (span - 1) // 2
    raise ValueError(f"mode must be 'valid', 'same' or 'full', got {mode!r}")


def corr2d_multi_in(X, K, padding=0, stride=1, dilation=1):
    """Several input channels (多输入通道): correlate channel by channel, then add up.

    X: (c_i, H, W), K: (c_i, k_h, k_w) -> (H_out, W_out): one output channel.
    """
    if X.ndim != 3 or K.ndim != 3:
        raise ValueError(f"X must be (c_i, H, W) and K (c_i, k_h, k_w), got {X.shape} and {K.shape}")
    if X.shape[0] != K.shape[0]:
        raise ValueError(f"X has {X.shape[0]} input channels but K has {K.shape[0]}: they must match")
    return sum(corr2d(x, k, padding, stride, dilation) for x, k in zip(X, K, strict=True))


def corr2d_multi_in_out(X, K, padding=0, stride=1, dilation=1):
    """Several output channels (多输出通道): one multi-input kernel per output channel, stacked.

    X: (c_i, H, W), K: (c_o, c_i, k_h, k_w), Gluon's weight layout -> (c_o, H_out, W_out).
    """
    if K.ndim != 4:
        raise ValueError(f"K must be (c_o, c_i, k_h, k_w), got shape {K.shape}")
    return np.stack([corr2d_multi_in(X, k, padding, stride, dilation) for k in K])


def conv_param_count(in_channels, out_channels, kernel_size, use_bias=True):
    """Parameters of a convolution layer: c_o · c_i · k_h · k_w weights, plus c_o biases.

    Independent of the image size: the same kernels slide over every position.
    """
    k_h, k_w = as_pair(kernel_size, "kernel_size")
    return out_channels * in_channels * k_h * k_w + (out_channels if use_bias else 0)


def corr2d_1x1(X, K):
    """1×1 convolution as a matrix product: a dense layer applied at every pixel.

    X: (c_i, H, W), K: (c_o, c_i, 1, 1) or (c_o, c_i) -> (c_o, H, W). Each pixel's c_i channel
    values are multiplied by the same (c_o, c_i) matrix; pixels never mix.
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


def conv_transpose_output_size(input_size, kernel_size, padding=0, stride=1,
                               output_padding=0):
    """Output length along one axis of a transposed convolution: (h − 1)·s − 2p + k + output_padding.

    A convolution with the same k, p and s maps this size back to h. With s > 1 several sizes map to
    the same h: output_padding (0 ≤ output_padding < s) chooses a larger one.
    """
    if not 0 <= output_padding < stride:
        raise ValueError(f"output_padding must be at least 0 and smaller than the stride "
                         f"({stride}), got {output_padding}")
    size = (input_size - 1) * stride - 2 * padding + kernel_size + output_padding
    if size < 1:
        raise ValueError(f"padding {padding} per side cuts away all {size + 2 * padding} output "
                         "pixels: use less padding")
    return size


def spread_out(Y, stride):
    """Y (..., h, w) with s − 1 zeros between neighbours: Y[i, j] moves to (i·s_h, j·s_w).

    Returns (..., (h − 1)·s_h + 1, (w − 1)·s_w + 1); differentiable (a product with a 0/1 mask).
    """
    s_h, s_w = as_pair(stride, "stride")
    *batch, h, w = Y.shape
    mask = onp.zeros((1, s_h, 1, s_w))
    mask[0, 0, 0, 0] = 1  # keep the first of every s_h × s_w block
    Z = Y.reshape((*batch, h, 1, w, 1)) * np.array(mask, dtype=Y.dtype, ctx=Y.ctx)
    return Z.reshape((*batch, h * s_h, w * s_w))[..., : (h - 1) * s_h + 1, : (w - 1) * s_w + 1]


def conv_transpose2d(Y, K, padding=0, stride=1, output_padding=0):
    """Transposed convolution (转置卷积) of Y (..., h, w) with a kernel K (k_h, k_w).

    Every Y[i, j] adds Y[i, j] · K onto the output window at (i·s, j·s), overlapping copies add up,
    then `padding` rows and columns are cut off each side (`output_padding` more are kept at the
    bottom and right). Returns (..., H, W), H = conv_transpose_output_size(h, k_h, p, s,
    output_padding). It is the gradient of corr2d(X, K, padding, stride) with respect to X, and
    equals nn.Conv2DTranspose with one channel in and out.
    """
    if K.ndim != 2:
        raise ValueError(f"K must be a 2-D kernel (k_h, k_w), got shape {K.shape}")
    (k_h, k_w), (p_h, p_w) = K.shape, as_pair(padding, "padding", 0)
    (s_h, s_w), (q_h, q_w) = as_pair(stride, "stride"), as_pair(output_padding, "output_padding", 0)
    H = conv_transpose_output_size(Y.shape[-2], k_h, p_h, s_h, q_h)
    W = conv_transpose_output_size(Y.shape[-1], k_w, p_w, s_w, q_w)
    spread = spread_out(Y, (s_h, s_w))
    rows, cols = spread.shape[-2] + k_h - 1 + q_h, spread.shape[-1] + k_w - 1 + q_w  # before cutting
    keep = [(0, 0)] * (Y.ndim - 2)  # leading axes (batch, channels) are not padded
    Z = 0
    for a in range(k_h):
        for b in range(k_w):
            shift = [(a, rows - a - spread.shape[-2]), (b, cols - b - spread.shape[-1])]
            Z = Z + K[a, b] * np.pad(spread, tuple(keep + shift))  # spread-out Y moved by (a, b)
    return Z[..., p_h : p_h + H, p_w : p_w + W]


def pool2d(X, pool_size, mode="max", padding=0, stride=None):
    """Max or average pooling (汇聚/池化) over windows of `pool_size` on the last two axes.

    X: (..., H, W) -> (..., H_out, W_out): every channel is pooled on its own. `stride` defaults to
    `pool_size` (windows do not overlap), as in Gluon's nn.MaxPool2D. Padding (per side) acts, as
    in Gluon, as −∞ for max pooling (never chosen) and as zeros counted in the mean for average
    pooling; it must be smaller than the window, so every window sees a real pixel.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    if X.ndim < 2:
        raise ValueError(f"X must have height and width as its last two axes, got shape {X.shape}")
    k, p = as_pair(pool_size, "pool_size"), as_pair(padding, "padding", 0)
    stride = k if stride is None else stride
    conv_output_shape(X.shape[-2:], k, p, stride)  # why the window does not fit, if it does not
    if p[0] >= k[0] or p[1] >= k[1]:
        raise ValueError(f"padding {padding!r} must be smaller than pool_size {pool_size!r} on each "
                         f"axis, or some windows would hold padding only")
    fill = float("-inf") if mode == "max" else 0.0
    Y = None
    for _, _, values in window_taps(pad2d(X, p, fill), k, stride):
        if Y is None:
            Y = values
        else:
            Y = np.maximum(Y, values) if mode == "max" else Y + values
    return Y if mode == "max" else Y / (k[0] * k[1])


__all__ = ['corr1d', 'conv1d', 'ScratchConv2D', 'effective_kernel_size', 'conv_output_size', 'conv_output_shape', 'pad2d', 'window_taps', 'corr2d', 'padding_for', 'corr2d_multi_in', 'corr2d_multi_in_out', 'conv_param_count', 'corr2d_1x1', 'conv_transpose_output_size', 'spread_out', 'conv_transpose2d', 'pool2d']
