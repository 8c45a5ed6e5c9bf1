"""The from-scratch convolution and pooling of chapters 01–04 (d2lcnn.lessons.conv_scratch) against
Gluon's built-in layers: values, shapes, gradients and the messages of impossible settings."""

from __future__ import annotations

import itertools

import numpy as onp
import pytest
from mxnet import autograd, np, npx
from mxnet.gluon import nn

from d2lcnn.lessons import (
    ScratchConv2D,
    conv1d,
    conv_output_shape,
    conv_output_size,
    conv_param_count,
    conv_transpose2d,
    conv_transpose_output_size,
    corr1d,
    corr2d,
    corr2d_1x1,
    corr2d_multi_in,
    corr2d_multi_in_out,
    effective_kernel_size,
    pad2d,
    padding_for,
    pool2d,
    spread_out,
    window_taps,
)

npx.set_np()

RNG_SEED = 20240601


def _rng(*salt: int) -> onp.random.Generator:
    return onp.random.default_rng([RNG_SEED, *salt])


def _random(rng: onp.random.Generator, *shape: int) -> np.ndarray:
    return np.array(rng.standard_normal(shape).astype("float32"))


def _close(a, b, tol: float = 1e-4) -> bool:
    a, b = a.asnumpy(), b.asnumpy()
    return a.shape == b.shape and onp.allclose(a, b, rtol=tol, atol=tol)


def _gluon_conv(c_in: int, c_out: int, kernel, padding=0, stride=1, dilation=1, weight=None,
                bias=None) -> nn.Conv2D:
    conv = nn.Conv2D(c_out, kernel, strides=stride, padding=padding, dilation=dilation,
                     in_channels=c_in, use_bias=bias is not None)
    conv.initialize()
    if weight is not None:
        conv.weight.set_data(weight)
    if bias is not None:
        conv.bias.set_data(bias)
    return conv


def _random_geometry(rng: onp.random.Generator, max_size: int = 9):
    """A random (input, kernel, padding, stride, dilation) per axis that fits, as pairs."""
    while True:
        n = tuple(int(v) for v in rng.integers(1, max_size + 1, 2))
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        if all(effective_kernel_size(ki, di) <= ni + 2 * pi
               for ni, ki, pi, di in zip(n, k, p, d, strict=True)):
            return n, k, p, s, d


# --- output shape -----------------------------------------------------------------------------

@pytest.mark.parametrize("kernel, padding, stride, expected", [
    (3, 1, 1, (8, 8)),                   # the four cases, on an 8×8 input
    ((5, 3), (2, 1), 1, (8, 8)),
    (3, 1, 2, (4, 4)),
    ((3, 5), (0, 1), (3, 4), (2, 2)),
])
def test_output_shape_book_cases(kernel, padding, stride, expected):
    assert conv_output_shape(8, kernel, padding, stride) == expected
    conv = _gluon_conv(1, 1, kernel, padding, stride)
    assert conv(np.zeros((1, 1, 8, 8))).shape[2:] == expected


@pytest.mark.parametrize("case", range(40))
def test_output_shape_matches_gluon_random(case):
    n, k, p, s, d = _random_geometry(_rng(1, case))
    conv = _gluon_conv(1, 1, k, p, s, d)
    assert conv(np.zeros((1, 1, *n))).shape[2:] == conv_output_shape(n, k, p, s, d)


def test_output_size_is_the_books_formula():
    # d2l: ⌊(n − k + p_h + s) / s⌋ with p_h the total padding, here 2·padding; dilation 1
    for n, k, p, s in itertools.product(range(1, 12), range(1, 6), range(3), range(1, 5)):
        if k <= n + 2 * p:
            assert conv_output_size(n, k, p, s) == (n - k + 2 * p + s) // s


def test_effective_kernel_size():
    assert [effective_kernel_size(3, d) for d in (1, 2, 3)] == [3, 5, 7]
    assert conv_output_shape(8, 3, dilation=2) == conv_output_shape(8, 5) == (4, 4)


def test_padding_modes():
    n, k = 8, 3
    sizes = {mode: conv_output_size(n, k, padding_for(mode, k)) for mode in
             ("valid", "same", "full")}
    assert sizes == {"valid": n - k + 1, "same": n, "full": n + k - 1}
    assert padding_for("same", 3, dilation=2) == 2
    with pytest.raises(ValueError, match="'same' padding needs an odd kernel"):
        padding_for("same", 4)
    with pytest.raises(ValueError, match="'valid', 'same' or 'full'"):
        padding_for("half", 3)


def test_kernel_larger_than_padded_input_is_explained():
    with pytest.raises(ValueError, match=r"kernel spans 5 pixels but the padded input has only 4 "
                                         r"\(4 \+ 2·0\).*pad by at least 1 per side"):
        conv_output_size(4, 5)
    with pytest.raises(ValueError, match=r"kernel 3 with dilation 3"):
        conv_output_shape((8, 4), 3, dilation=3)
    with pytest.raises(ValueError, match="kernel spans"):
        corr2d(np.ones((3, 3)), np.ones((4, 1)))
    with pytest.raises(ValueError, match="kernel spans"):
        pool2d(np.ones((1, 2, 2)), 3, padding=0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(stride=0), "stride must be an int ≥ 1"),
    (dict(padding=-1), "padding must be an int ≥ 0"),
    (dict(dilation=0), "dilation must be an int ≥ 1"),
])
def test_bad_geometry_is_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(8, 3, **kwargs)


def test_bad_pairs_are_explained():
    with pytest.raises(TypeError, match="padding must be an int or a pair"):
        corr2d(np.ones((4, 4)), np.ones((2, 2)), padding=(1, 1, 1))
    with pytest.raises(TypeError, match="stride must be an int or a pair"):
        corr2d(np.ones((4, 4)), np.ones((2, 2)), stride=1.5)
    with pytest.raises(ValueError, match="stride must be at least 1"):
        pool2d(np.ones((4, 4)), 2, stride=(1, 0))


# --- 1-D ---------------------------------------------------------------------------------------

def test_conv1d_flips_the_kernel():
    impulse = np.array([0, 0, 0, 1, 0, 0, 0.0])
    w = np.array([1, 0.5, 0.25])
    # convolution returns the kernel in order (impulse response), cross-correlation reversed
    assert conv1d(impulse, w).tolist() == [0, 1, 0.5, 0.25, 0]
    assert corr1d(impulse, w).tolist() == [0, 0.25, 0.5, 1, 0]


@pytest.mark.parametrize("case", range(12))
def test_corr1d_matches_gluon_conv1d(case):
    rng = _rng(2, case)
    k = int(rng.integers(1, 5))
    n = int(rng.integers(k, 12))
    p = int(rng.integers(0, 3))
    x, w = _random(rng, n), _random(rng, k)
    conv = nn.Conv1D(1, k, padding=p, in_channels=1, use_bias=False)
    conv.initialize()
    conv.weight.set_data(w.reshape(1, 1, k))
    assert _close(corr1d(x, w, p), conv(x.reshape(1, 1, n))[0, 0])
    conv.weight.set_data(w[::-1].reshape(1, 1, k))
    assert _close(conv1d(x, w, p), conv(x.reshape(1, 1, n))[0, 0])


def test_corr1d_rejects_2d_input():
    with pytest.raises(ValueError, match="1-D x and w"):
        corr1d(np.ones((2, 3)), np.ones(2))


# --- 2-D, one channel -------------------------------------------------------------------------

def test_corr2d_d2l_example():
    X = np.arange(9.0).reshape(3, 3)
    K = np.arange(4.0).reshape(2, 2)
    assert corr2d(X, K).tolist() == [[19, 25], [37, 43]]


def test_corr2d_equals_the_double_loop_definition():
    rng = _rng(3)
    X, K = rng.standard_normal((5, 7)), rng.standard_normal((2, 3))
    expected = onp.array([[(X[i:i + 2, j:j + 3] * K).sum() for j in range(5)] for i in range(4)])
    got = corr2d(np.array(X, dtype="float64"), np.array(K, dtype="float64")).asnumpy()
    assert onp.allclose(got, expected)


@pytest.mark.parametrize("case", range(40))
def test_corr2d_matches_gluon_conv2d(case):
    rng = _rng(4, case)
    n, k, p, s, d = _random_geometry(rng)
    batch = int(rng.integers(1, 4))
    X, K = _random(rng, batch, 1, *n), _random(rng, *k)
    conv = _gluon_conv(1, 1, k, p, s, d, weight=K.reshape(1, 1, *k))
    assert _close(corr2d(X, K, p, s, d), conv(X)), (n, k, p, s, d)


def test_corr2d_gradient_matches_gluon():
    rng = _rng(5)
    X, K = _random(rng, 2, 1, 7, 6), _random(rng, 3, 2)
    conv = _gluon_conv(1, 1, (3, 2), padding=1, stride=(2, 1), weight=K.reshape(1, 1, 3, 2))
    K.attach_grad()
    with autograd.record():
        loss = (corr2d(X, K, padding=1, stride=(2, 1)) ** 2).sum()
    loss.backward()
    with autograd.record():
        gluon_loss = (conv(X) ** 2).sum()
    gluon_loss.backward()
    assert _close(K.grad, conv.weight.grad()[0, 0])


def test_edge_detection_finds_the_band_edges():
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    Y = corr2d(X, np.array([[1.0, -1.0]]))
    assert onp.nonzero(Y.asnumpy()[0])[0].tolist() == [1, 5]
    assert Y[:, 1].tolist() == [1] * 6 and Y[:, 5].tolist() == [-1] * 6
    assert float(abs(corr2d(X.T, np.array([[1.0, -1.0]]))).sum()) == 0  # horizontal edges: none


def test_scratch_conv2d_matches_gluon():
    rng = _rng(6)
    X = _random(rng, 3, 1, 6, 8)
    layer = ScratchConv2D((2, 3), padding=1, stride=2)
    layer.initialize()
    layer.bias.set_data(np.array([0.5]))
    conv = _gluon_conv(1, 1, (2, 3), padding=1, stride=2,
                       weight=layer.weight.data().reshape(1, 1, 2, 3), bias=np.array([0.5]))
    assert _close(layer(X), conv(X))
    assert {p.shape for p in layer.collect_params().values()} == {(2, 3), (1,)}


def test_scratch_conv2d_learns_the_edge_kernel():
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    Y = corr2d(X, np.array([[1.0, -1.0]]))
    npx.random.seed(0)
    layer = ScratchConv2D((1, 2))
    layer.initialize()
    for _ in range(30):
        with autograd.record():
            loss = ((layer(X) - Y) ** 2).sum()
        loss.backward()
        for param in (layer.weight, layer.bias):
            param.set_data(param.data() - 0.015 * param.grad())
    assert onp.allclose(layer.weight.data().asnumpy(), [[1, -1]], atol=0.05)


def test_corr2d_rejects_bad_kernels():
    with pytest.raises(ValueError, match=r"K must be a 2-D kernel"):
        corr2d(np.ones((4, 4)), np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match="last two axes"):
        corr2d(np.ones(4), np.ones((1, 1)))


# --- channels ----------------------------------------------------------------------------------

def test_multi_in_d2l_example():
    X = np.array([[[0.0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]])
    K = np.array([[[0.0, 1], [2, 3]], [[1, 2], [3, 4]]])
    assert corr2d_multi_in(X, K).tolist() == [[56, 72], [104, 120]]
    K3 = np.stack([K, K + 1, K + 2])
    Y = corr2d_multi_in_out(X, K3)
    assert Y.shape == (3, 2, 2) and Y[0].tolist() == [[56, 72], [104, 120]]


@pytest.mark.parametrize("case", range(25))
def test_multi_in_out_matches_gluon(case):
    rng = _rng(7, case)
    n, k, p, s, d = _random_geometry(rng, max_size=8)
    c_i, c_o = (int(v) for v in rng.integers(1, 5, 2))
    X, K, b = _random(rng, c_i, *n), _random(rng, c_o, c_i, *k), _random(rng, c_o)
    conv = _gluon_conv(c_i, c_o, k, p, s, d, weight=K, bias=b)
    expected = conv(X[None])[0]
    assert _close(corr2d_multi_in_out(X, K, p, s, d) + b.reshape(-1, 1, 1), expected)
    if c_o == 1:
        assert _close(corr2d_multi_in(X, K[0], p, s, d) + b, expected[0])


def test_channel_mismatch_is_explained():
    with pytest.raises(ValueError, match="X has 3 input channels but K has 2"):
        corr2d_multi_in(np.ones((3, 4, 4)), np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match=r"K must be \(c_o, c_i, k_h, k_w\)"):
        corr2d_multi_in_out(np.ones((3, 4, 4)), np.ones((3, 2, 2)))
    with pytest.raises(ValueError, match="same c_i"):
        corr2d_1x1(np.ones((3, 4, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"\(c_o, c_i, 1, 1\)"):
        corr2d_1x1(np.ones((3, 4, 4)), np.ones((2, 3, 3, 3)))


@pytest.mark.parametrize("c_i, c_o, h, w", [(3, 2, 3, 3), (1, 5, 4, 7), (6, 1, 2, 2), (4, 4, 1, 5)])
def test_1x1_convolution_is_a_dense_layer_per_pixel(c_i, c_o, h, w):
    rng = _rng(8, c_i, c_o, h, w)
    X, K = _random(rng, c_i, h, w), _random(rng, c_o, c_i, 1, 1)
    Y = corr2d_1x1(X, K)
    assert _close(Y, corr2d_multi_in_out(X, K))
    assert _close(Y, _gluon_conv(c_i, c_o, 1, weight=K)(X[None])[0])
    dense = nn.Dense(c_o, in_units=c_i, flatten=False, use_bias=False)
    dense.initialize()
    dense.weight.set_data(K.reshape(c_o, c_i))
    pixels = X.reshape(c_i, h * w).T  # (h·w, c_i): one row per pixel
    assert _close(Y, dense(pixels).T.reshape(c_o, h, w))


@pytest.mark.parametrize("c_i, c_o, kernel", [(1, 6, 5), (6, 16, 5), (3, 64, (3, 3)), (2, 3, (1, 4))])
def test_param_count_matches_gluon(c_i, c_o, kernel):
    conv = nn.Conv2D(c_o, kernel, in_channels=c_i)
    conv.initialize()
    gluon_count = sum(p.data().size for p in conv.collect_params().values())
    assert conv_param_count(c_i, c_o, kernel) == gluon_count
    assert conv_param_count(c_i, c_o, kernel, use_bias=False) == gluon_count - c_o


# --- pooling -----------------------------------------------------------------------------------

def test_pool2d_d2l_examples():
    X = np.arange(9.0).reshape(3, 3)
    assert pool2d(X, 2, stride=1).tolist() == [[4, 5], [7, 8]]
    assert pool2d(X, 2, "avg", stride=1).tolist() == [[2, 3], [5, 6]]
    X = np.arange(16.0).reshape(1, 1, 4, 4)
    assert pool2d(X, 3).tolist() == [[[[10]]]]
    assert pool2d(X, 3, padding=1, stride=2)[0, 0].tolist() == [[5, 7], [13, 15]]
    assert pool2d(X, (2, 3), padding=(0, 1), stride=(2, 3))[0, 0].tolist() == [[5, 7], [13, 15]]


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("case", range(25))
def test_pool2d_matches_gluon(mode, case):
    rng = _rng(9, case)
    size = tuple(int(v) for v in rng.integers(1, 4, 2))
    padding = tuple(int(rng.integers(0, k)) for k in size)  # padding < window, as Gluon requires
    stride = None if case % 3 == 0 else tuple(int(v) for v in rng.integers(1, 4, 2))
    shape = tuple(int(rng.integers(max(1, k - 2 * p), 9)) for k, p in zip(size, padding, strict=True))
    X = _random(rng, 2, int(rng.integers(1, 4)), *shape) - 5  # negative: −∞ padding must matter
    layer = (nn.MaxPool2D if mode == "max" else nn.AvgPool2D)(size, stride, padding)
    Y = pool2d(X, size, mode, padding, stride)
    assert Y.shape[:2] == X.shape[:2]  # channels are kept
    assert _close(Y, layer(X)), (size, padding, stride, shape)


def test_max_pool_gradient_goes_to_the_maximum():
    rng = _rng(10)
    X = _random(rng, 1, 2, 5, 5)
    grads = []
    for pool in (lambda x: pool2d(x, 2, padding=1, stride=2), nn.MaxPool2D(2, 2, 1)):
        x = X.copy()
        x.attach_grad()
        with autograd.record():
            out = pool(x).sum()
        out.backward()
        grads.append(x.grad)
    assert _close(*grads)


def test_global_average_pooling():
    rng = _rng(11)
    X = _random(rng, 2, 3, 5, 4)
    expected = nn.GlobalAvgPool2D()(X)
    assert expected.shape == (2, 3, 1, 1)
    assert _close(pool2d(X, (5, 4), "avg"), expected)
    assert _close(X.mean(axis=(2, 3), keepdims=True), expected)


def test_pool2d_bad_input_is_explained():
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg'"):
        pool2d(np.ones((4, 4)), 2, mode="sum")
    with pytest.raises(ValueError, match="padding 2 must be smaller than pool_size 2"):
        pool2d(np.ones((4, 4)), 2, padding=2)


# --- padding and window taps -------------------------------------------------------------------

def test_pad2d_adds_a_border_and_passes_gradients():
    X = np.arange(6.0).reshape(1, 2, 3)
    padded = pad2d(X, (1, 2), value=-1.0)
    assert padded.shape == (1, 4, 7)
    assert padded[0, 0].tolist() == [-1] * 7 and padded[0, 1].tolist() == [-1, -1, 0, 1, 2, -1, -1]
    X.attach_grad()
    with autograd.record():
        loss = (pad2d(X, 1) * 2).sum()
    loss.backward()
    assert X.grad.tolist() == [[[2, 2, 2], [2, 2, 2]]]


def test_window_taps_are_the_strided_slices_of_each_kernel_entry():
    X = np.arange(49.0).reshape(7, 7)
    taps = {(a, b): values for a, b, values in window_taps(X, (2, 3), stride=2, dilation=2)}
    assert sorted(taps) == [(a, b) for a in range(2) for b in range(3)]
    # output (i, j) reads X[2i + 2a, 2j + 2b]: 3 × 2 outputs (the kernel spans 3 × 5 pixels)
    assert taps[(1, 2)].tolist() == [[18, 20], [32, 34], [46, 48]]  # X[2i + 2, 2j + 4]
    with pytest.raises(ValueError, match="kernel spans 9 pixels"):
        list(window_taps(X, 3, dilation=4))


# --- transposed convolution --------------------------------------------------------------------

def test_spread_out_places_values_stride_apart():
    Y = np.array([[1.0, 2], [3, 4]])
    assert spread_out(Y, 2).tolist() == [[1, 0, 2], [0, 0, 0], [3, 0, 4]]
    assert spread_out(Y, (1, 3)).tolist() == [[1, 0, 0, 2], [3, 0, 0, 4]]
    assert spread_out(Y[None, None], 1).shape == (1, 1, 2, 2)


def test_conv_transpose2d_d2l_example():
    # d2l's trans_conv: X = [[0, 1], [2, 3]], K = [[0, 1], [2, 3]] -> [[0, 0, 1], [0, 4, 6], [4, 12, 9]]
    X = np.array([[0.0, 1], [2, 3]])
    K = np.array([[0.0, 1], [2, 3]])
    assert conv_transpose2d(X, K).tolist() == [[0, 0, 1], [0, 4, 6], [4, 12, 9]]
    assert conv_transpose2d(X, K, padding=1).tolist() == [[4]]
    assert conv_transpose2d(X, K, stride=2).tolist() == [[0, 0, 0, 1], [0, 0, 2, 3],
                                                         [0, 2, 0, 3], [4, 6, 6, 9]]


def test_conv_transpose_output_size_inverts_the_convolution():
    for n, k, p, s in itertools.product(range(1, 12), range(1, 6), range(3), range(1, 4)):
        if k > n + 2 * p:
            continue
        h = conv_output_size(n, k, p, s)
        q = (n + 2 * p - k) % s  # the rows the stride lost
        assert conv_transpose_output_size(h, k, p, s, q) == n, (n, k, p, s)
    with pytest.raises(ValueError, match="smaller than the stride"):
        conv_transpose_output_size(4, 3, 1, 2, output_padding=2)
    with pytest.raises(ValueError, match="cuts away all"):
        conv_transpose_output_size(1, 1, padding=1)


def _random_transpose_geometry(rng: onp.random.Generator):
    """A random (input, kernel, padding, stride, output padding) per axis, as pairs, that Gluon takes."""
    while True:
        h = tuple(int(v) for v in rng.integers(1, 6, 2))
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        q = tuple(int(rng.integers(0, si)) for si in s)
        if all((hi - 1) * si - 2 * pi + ki + qi >= 1
               for hi, ki, pi, si, qi in zip(h, k, p, s, q, strict=True)):
            return h, k, p, s, q


@pytest.mark.parametrize("case", range(40))
def test_conv_transpose2d_matches_gluon(case):
    rng = _rng(12, case)
    h, k, p, s, q = _random_transpose_geometry(rng)
    batch = int(rng.integers(1, 3))
    Y, K = _random(rng, batch, 1, *h), _random(rng, *k)
    tconv = nn.Conv2DTranspose(1, k, strides=s, padding=p, output_padding=q, in_channels=1,
                               use_bias=False)
    tconv.initialize()
    tconv.weight.set_data(K.reshape(1, 1, *k))
    expected = tconv(Y)
    assert expected.shape[2:] == tuple(conv_transpose_output_size(*axis)
                                       for axis in zip(h, k, p, s, q, strict=True))
    assert _close(conv_transpose2d(Y, K, p, s, q), expected), (h, k, p, s, q)


@pytest.mark.parametrize("case", range(25))
def test_conv_transpose2d_is_the_gradient_of_corr2d(case):
    rng = _rng(13, case)
    n, k, p, s, _ = _random_geometry(rng)
    n, k, p, s = (tuple(v) for v in (n, k, p, s))
    X, K = _random(rng, *n), _random(rng, *k)
    G = _random(rng, *conv_output_shape(n, k, p, s))
    X.attach_grad()
    with autograd.record():
        loss = (corr2d(X, K, p, s) * G).sum()
    loss.backward()
    q = tuple((ni + 2 * pi - ki) % si for ni, ki, pi, si in zip(n, k, p, s, strict=True))
    assert _close(conv_transpose2d(G, K, p, s, q), X.grad), (n, k, p, s)


def test_conv_transpose2d_is_differentiable():
    rng = _rng(14)
    Y, K = _random(rng, 1, 1, 3, 4), _random(rng, 3, 3)
    tconv = nn.Conv2DTranspose(1, 3, strides=2, padding=1, in_channels=1, use_bias=False)
    tconv.initialize()
    tconv.weight.set_data(K.reshape(1, 1, 3, 3))
    grads = []
    for layer in (lambda y: conv_transpose2d(y, K, 1, 2), tconv):
        y = Y.copy()
        y.attach_grad()
        with autograd.record():
            loss = (layer(y) ** 2).sum()
        loss.backward()
        grads.append(y.grad)
    assert _close(*grads)


def test_conv_transpose2d_rejects_bad_kernels():
    with pytest.raises(ValueError, match=r"K must be a 2-D kernel"):
        conv_transpose2d(np.ones((2, 2)), np.ones((1, 2, 2)))
