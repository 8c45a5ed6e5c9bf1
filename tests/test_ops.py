"""From-scratch convolution and pooling (d2lcnn.ops) against Gluon's built-in layers."""

from __future__ import annotations

import itertools

import numpy as onp
import pytest
from mxnet import autograd, np, npx
from mxnet.gluon import nn

from d2lcnn import ops

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
        if all(ops.effective_kernel_size(ki, di) <= ni + 2 * pi
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
    assert ops.conv_output_shape(8, kernel, padding, stride) == expected
    conv = _gluon_conv(1, 1, kernel, padding, stride)
    assert conv(np.zeros((1, 1, 8, 8))).shape[2:] == expected


@pytest.mark.parametrize("case", range(40))
def test_output_shape_matches_gluon_random(case):
    n, k, p, s, d = _random_geometry(_rng(1, case))
    conv = _gluon_conv(1, 1, k, p, s, d)
    assert conv(np.zeros((1, 1, *n))).shape[2:] == ops.conv_output_shape(n, k, p, s, d)


def test_output_size_is_the_books_formula():
    # d2l: ⌊(n − k + p_h + s) / s⌋ with p_h the total padding, here 2·padding; dilation 1
    for n, k, p, s in itertools.product(range(1, 12), range(1, 6), range(3), range(1, 5)):
        if k <= n + 2 * p:
            assert ops.conv_output_size(n, k, p, s) == (n - k + 2 * p + s) // s


def test_effective_kernel_size():
    assert [ops.effective_kernel_size(3, d) for d in (1, 2, 3)] == [3, 5, 7]
    assert ops.conv_output_shape(8, 3, dilation=2) == ops.conv_output_shape(8, 5) == (4, 4)


def test_padding_modes():
    n, k = 8, 3
    sizes = {mode: ops.conv_output_size(n, k, ops.padding_for(mode, k)) for mode in
             ("valid", "same", "full")}
    assert sizes == {"valid": n - k + 1, "same": n, "full": n + k - 1}
    assert ops.padding_for("same", 3, dilation=2) == 2
    with pytest.raises(ValueError, match="'same' padding needs an odd kernel"):
        ops.padding_for("same", 4)
    with pytest.raises(ValueError, match="'valid', 'same' or 'full'"):
        ops.padding_for("half", 3)


def test_kernel_larger_than_padded_input_is_explained():
    with pytest.raises(ValueError, match=r"kernel spans 5 pixels but the padded input has only 4 "
                                         r"\(4 \+ 2·0\).*pad by at least 1 per side"):
        ops.conv_output_size(4, 5)
    with pytest.raises(ValueError, match=r"kernel 3 with dilation 3"):
        ops.conv_output_shape((8, 4), 3, dilation=3)
    with pytest.raises(ValueError, match="kernel spans"):
        ops.corr2d(np.ones((3, 3)), np.ones((4, 1)))
    with pytest.raises(ValueError, match="kernel spans"):
        ops.pool2d(np.ones((1, 2, 2)), 3, padding=0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(stride=0), "stride must be an int ≥ 1"),
    (dict(padding=-1), "padding must be an int ≥ 0"),
    (dict(dilation=0), "dilation must be an int ≥ 1"),
])
def test_bad_geometry_is_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ops.conv_output_size(8, 3, **kwargs)


def test_bad_pairs_are_explained():
    with pytest.raises(TypeError, match="padding must be an int or a pair"):
        ops.corr2d(np.ones((4, 4)), np.ones((2, 2)), padding=(1, 1, 1))
    with pytest.raises(TypeError, match="stride must be an int or a pair"):
        ops.corr2d(np.ones((4, 4)), np.ones((2, 2)), stride=1.5)
    with pytest.raises(ValueError, match="stride must be at least 1"):
        ops.pool2d(np.ones((4, 4)), 2, stride=(1, 0))


# --- 1-D ---------------------------------------------------------------------------------------

def test_conv1d_flips_the_kernel():
    impulse = np.array([0, 0, 0, 1, 0, 0, 0.0])
    w = np.array([1, 0.5, 0.25])
    # convolution returns the kernel in order (impulse response), cross-correlation reversed
    assert ops.conv1d(impulse, w).tolist() == [0, 1, 0.5, 0.25, 0]
    assert ops.corr1d(impulse, w).tolist() == [0, 0.25, 0.5, 1, 0]


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
    assert _close(ops.corr1d(x, w, p), conv(x.reshape(1, 1, n))[0, 0])
    conv.weight.set_data(w[::-1].reshape(1, 1, k))
    assert _close(ops.conv1d(x, w, p), conv(x.reshape(1, 1, n))[0, 0])


def test_corr1d_rejects_2d_input():
    with pytest.raises(ValueError, match="1-D x and w"):
        ops.corr1d(np.ones((2, 3)), np.ones(2))


# --- 2-D, one channel -------------------------------------------------------------------------

def test_corr2d_d2l_example():
    X = np.arange(9.0).reshape(3, 3)
    K = np.arange(4.0).reshape(2, 2)
    assert ops.corr2d(X, K).tolist() == [[19, 25], [37, 43]]


def test_corr2d_equals_the_double_loop_definition():
    rng = _rng(3)
    X, K = rng.standard_normal((5, 7)), rng.standard_normal((2, 3))
    expected = onp.array([[(X[i:i + 2, j:j + 3] * K).sum() for j in range(5)] for i in range(4)])
    got = ops.corr2d(np.array(X, dtype="float64"), np.array(K, dtype="float64")).asnumpy()
    assert onp.allclose(got, expected)


@pytest.mark.parametrize("case", range(40))
def test_corr2d_matches_gluon_conv2d(case):
    rng = _rng(4, case)
    n, k, p, s, d = _random_geometry(rng)
    batch = int(rng.integers(1, 4))
    X, K = _random(rng, batch, 1, *n), _random(rng, *k)
    conv = _gluon_conv(1, 1, k, p, s, d, weight=K.reshape(1, 1, *k))
    assert _close(ops.corr2d(X, K, p, s, d), conv(X)), (n, k, p, s, d)


def test_corr2d_gradient_matches_gluon():
    rng = _rng(5)
    X, K = _random(rng, 2, 1, 7, 6), _random(rng, 3, 2)
    conv = _gluon_conv(1, 1, (3, 2), padding=1, stride=(2, 1), weight=K.reshape(1, 1, 3, 2))
    K.attach_grad()
    with autograd.record():
        loss = (ops.corr2d(X, K, padding=1, stride=(2, 1)) ** 2).sum()
    loss.backward()
    with autograd.record():
        gluon_loss = (conv(X) ** 2).sum()
    gluon_loss.backward()
    assert _close(K.grad, conv.weight.grad()[0, 0])


def test_edge_detection_finds_the_band_edges():
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    Y = ops.corr2d(X, np.array([[1.0, -1.0]]))
    assert onp.nonzero(Y.asnumpy()[0])[0].tolist() == [1, 5]
    assert Y[:, 1].tolist() == [1] * 6 and Y[:, 5].tolist() == [-1] * 6
    assert float(abs(ops.corr2d(X.T, np.array([[1.0, -1.0]]))).sum()) == 0  # horizontal edges: none


def test_scratch_conv2d_matches_gluon():
    rng = _rng(6)
    X = _random(rng, 3, 1, 6, 8)
    layer = ops.ScratchConv2D((2, 3), padding=1, stride=2)
    layer.initialize()
    layer.bias.set_data(np.array([0.5]))
    conv = _gluon_conv(1, 1, (2, 3), padding=1, stride=2,
                       weight=layer.weight.data().reshape(1, 1, 2, 3), bias=np.array([0.5]))
    assert _close(layer(X), conv(X))
    assert {p.shape for p in layer.collect_params().values()} == {(2, 3), (1,)}


def test_scratch_conv2d_learns_the_edge_kernel():
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    Y = ops.corr2d(X, np.array([[1.0, -1.0]]))
    npx.random.seed(0)
    layer = ops.ScratchConv2D((1, 2))
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
        ops.corr2d(np.ones((4, 4)), np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match="last two axes"):
        ops.corr2d(np.ones(4), np.ones((1, 1)))


# --- channels ----------------------------------------------------------------------------------

def test_multi_in_d2l_example():
    X = np.array([[[0.0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]])
    K = np.array([[[0.0, 1], [2, 3]], [[1, 2], [3, 4]]])
    assert ops.corr2d_multi_in(X, K).tolist() == [[56, 72], [104, 120]]
    K3 = np.stack([K, K + 1, K + 2])
    Y = ops.corr2d_multi_in_out(X, K3)
    assert Y.shape == (3, 2, 2) and Y[0].tolist() == [[56, 72], [104, 120]]


@pytest.mark.parametrize("case", range(25))
def test_multi_in_out_matches_gluon(case):
    rng = _rng(7, case)
    n, k, p, s, d = _random_geometry(rng, max_size=8)
    c_i, c_o = (int(v) for v in rng.integers(1, 5, 2))
    X, K, b = _random(rng, c_i, *n), _random(rng, c_o, c_i, *k), _random(rng, c_o)
    conv = _gluon_conv(c_i, c_o, k, p, s, d, weight=K, bias=b)
    expected = conv(X[None])[0]
    assert _close(ops.corr2d_multi_in_out(X, K, p, s, d) + b.reshape(-1, 1, 1), expected)
    if c_o == 1:
        assert _close(ops.corr2d_multi_in(X, K[0], p, s, d) + b, expected[0])


def test_channel_mismatch_is_explained():
    with pytest.raises(ValueError, match="X has 3 input channels but K has 2"):
        ops.corr2d_multi_in(np.ones((3, 4, 4)), np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match=r"K must be \(c_o, c_i, k_h, k_w\)"):
        ops.corr2d_multi_in_out(np.ones((3, 4, 4)), np.ones((3, 2, 2)))
    with pytest.raises(ValueError, match="same c_i"):
        ops.corr2d_1x1(np.ones((3, 4, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"\(c_o, c_i, 1, 1\)"):
        ops.corr2d_1x1(np.ones((3, 4, 4)), np.ones((2, 3, 3, 3)))


@pytest.mark.parametrize("c_i, c_o, h, w", [(3, 2, 3, 3), (1, 5, 4, 7), (6, 1, 2, 2), (4, 4, 1, 5)])
def test_1x1_convolution_is_a_dense_layer_per_pixel(c_i, c_o, h, w):
    rng = _rng(8, c_i, c_o, h, w)
    X, K = _random(rng, c_i, h, w), _random(rng, c_o, c_i, 1, 1)
    Y = ops.corr2d_1x1(X, K)
    assert _close(Y, ops.corr2d_multi_in_out(X, K))
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
    assert ops.conv_param_count(c_i, c_o, kernel) == gluon_count
    assert ops.conv_param_count(c_i, c_o, kernel, use_bias=False) == gluon_count - c_o


# --- pooling -----------------------------------------------------------------------------------

def test_pool2d_d2l_examples():
    X = np.arange(9.0).reshape(3, 3)
    assert ops.pool2d(X, 2, stride=1).tolist() == [[4, 5], [7, 8]]
    assert ops.pool2d(X, 2, "avg", stride=1).tolist() == [[2, 3], [5, 6]]
    X = np.arange(16.0).reshape(1, 1, 4, 4)
    assert ops.pool2d(X, 3).tolist() == [[[[10]]]]
    assert ops.pool2d(X, 3, padding=1, stride=2)[0, 0].tolist() == [[5, 7], [13, 15]]
    assert ops.pool2d(X, (2, 3), padding=(0, 1), stride=(2, 3))[0, 0].tolist() == [[5, 7], [13, 15]]


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
    Y = ops.pool2d(X, size, mode, padding, stride)
    assert Y.shape[:2] == X.shape[:2]  # channels are kept
    assert _close(Y, layer(X)), (size, padding, stride, shape)


def test_max_pool_gradient_goes_to_the_maximum():
    rng = _rng(10)
    X = _random(rng, 1, 2, 5, 5)
    grads = []
    for pool in (lambda x: ops.pool2d(x, 2, padding=1, stride=2), nn.MaxPool2D(2, 2, 1)):
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
    assert _close(ops.pool2d(X, (5, 4), "avg"), expected)
    assert _close(X.mean(axis=(2, 3), keepdims=True), expected)


def test_pool2d_bad_input_is_explained():
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg'"):
        ops.pool2d(np.ones((4, 4)), 2, mode="sum")
    with pytest.raises(ValueError, match="padding 2 must be smaller than pool_size 2"):
        ops.pool2d(np.ones((4, 4)), 2, padding=2)
