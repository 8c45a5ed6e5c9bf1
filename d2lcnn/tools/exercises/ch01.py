"""Self-checks of chapter 01 (cross-correlation)."""

from . import Part, Question

NOTEBOOK = "01_cross_correlation"


def _signal():
    from mxnet import np

    return np.array([1.0, 2, 3, 4, 5]), np.array([1.0, 0, -1])


def _corr1d(padding: int = 0):
    from d2lcnn.lessons import corr1d

    return corr1d(*_signal(), padding=padding)


def _conv1d():
    from d2lcnn.lessons import conv1d

    return conv1d(*_signal())


def _band_image():
    """The chapter's 6×8 image: ones with a band of zeros in columns 2–5."""
    from mxnet import np

    X = np.ones((6, 8))
    X[:, 2:6] = 0
    return X


def _second_difference():
    from mxnet import np

    from d2lcnn.lessons import corr2d

    return corr2d(_band_image(), np.array([[1.0, -2, 1]]))


def _horizontal_edges():
    """Input X.T and target: the horizontal edges of X.T, found by the column kernel [1, −1]ᵀ."""
    from mxnet import np

    from d2lcnn.lessons import corr2d

    image = _band_image().T
    return image, corr2d(image, np.array([[1.0], [-1.0]]))


def _least_squares_kernel():
    """The (2, 1) kernel (and bias) with the smallest squared error: where gradient descent ends."""
    import numpy as onp

    image, target = (a.asnumpy() for a in _horizontal_edges())
    rows, cols = target.shape
    A = onp.array([[image[i, j], image[i + 1, j], 1.0] for i in range(rows) for j in range(cols)])
    solution = onp.linalg.lstsq(A, target.reshape(-1), rcond=None)[0]
    return solution[:2].reshape(2, 1)


def _loss_trend(lr: float, bias: bool) -> str:
    """'shrink', 'grow' or 'shrink then grow': the loss over 30 steps from the chapter's start."""
    from mxnet import autograd, np, npx
    from mxnet.util import np_array, np_shape

    from d2lcnn.lessons import ScratchConv2D, corr2d

    X = _band_image()
    Y = corr2d(X, np.array([[1.0, -1.0]]))
    with np_shape(True), np_array(True):  # the layer's parameters as np arrays, as in the chapter
        npx.random.seed(0)  # the chapter's starting kernel
        layer = ScratchConv2D(kernel_size=(1, 2))
        layer.initialize()
        losses = []
        for _ in range(30):
            with autograd.record():
                loss = ((layer(X) - Y) ** 2).sum()
            loss.backward()
            for param in (layer.weight, layer.bias) if bias else (layer.weight,):
                param.set_data(param.data() - lr * param.grad())
            losses.append(float(loss))
    lowest = losses.index(min(losses))
    if lowest == len(losses) - 1:
        return "shrink"
    return "grow" if lowest == 0 else "shrink then grow"


def _stacked_ones_gradient():
    """∂Z/∂X for the central output Z of three stacked 2×2 convolutions with kernels of ones."""
    from mxnet import autograd, np

    from d2lcnn.lessons import corr2d

    X = np.ones((8, 8))
    X.attach_grad()
    with autograd.record():
        Z = X
        for _ in range(3):
            Z = corr2d(Z, np.ones((2, 2)))
        z = Z[2, 2]
    z.backward()
    return X.grad.asnumpy()


def _field_width() -> int:
    import numpy as onp

    columns = onp.nonzero(_stacked_ones_gradient().sum(axis=0))[0]
    return int(columns.max() - columns.min() + 1)


_TRENDS = ("shrink", "grow", "shrink then grow")
_TREND_HINT = "'shrink', 'grow' or 'shrink then grow'"

QUESTIONS = (
    Question(1, parts=(
        Part("corr", _corr1d, "corr1d(x, w)",
             slips=((_conv1d, "that is conv1d: corr1d does not flip the kernel, "
                              "y_i = x_i − x_{i+2}"),)),
        Part("corr_padded", lambda: _corr1d(padding=1), "corr1d(x, w, padding=1)"),
        Part("conv", _conv1d, "conv1d(x, w)",
             slips=((_corr1d, "that is corr1d: conv1d flips the kernel first, "
                              "so it computes x_{i+2} − x_i"),)),
    ), hint_text="corr1d: y_i = Σ_k w_k x_{i+k}, so with w = (1, 0, −1) it is x_i − x_{i+2}; "
                 "padding=1 adds one zero at each end; conv1d flips w first."),
    Question(2, parts=(
        Part("shape", lambda: tuple(_second_difference().shape), "the output shape"),
        Part("first_row", lambda: _second_difference()[0], "the first row of the output"),
    ), hint_text="A 1×3 kernel shrinks only the width, by 3 − 1. Slide x_j − 2x_{j+1} + x_{j+2} "
                 "along the row 1 1 0 0 0 0 1 1."),
    Question(3, parts=(
        Part("shape", lambda: tuple(_least_squares_kernel().shape),
             "the kernel's shape (k_h, k_w)",
             slips=((lambda: (1, 2), "a 1×2 kernel compares left and right neighbours: it sees "
                                     "vertical edges only"),)),
        Part("kernel", _least_squares_kernel, "the kernel it converges to",
             rel_tol=0.02),
    ), hint_text="A horizontal edge is a change from one row to the next: compare each pixel "
                 "with the one below it. The target is corr2d(X.T, K.T)."),
    Question(4, parts=(
        Part("lr_0017", lambda: _loss_trend(0.017, bias=True),
             f"the loss over 30 steps with lr = 0.017 and a bias ({_TREND_HINT})",
             choices=_TRENDS),
        Part("lr_003", lambda: _loss_trend(0.03, bias=False),
             f"the loss with lr = 0.03, bias kept at zero ({_TREND_HINT})", choices=_TRENDS),
        Part("lr_0035", lambda: _loss_trend(0.035, bias=False),
             f"the loss with lr = 0.035, bias kept at zero ({_TREND_HINT})", choices=_TRENDS),
    ), hint_text="Each step multiplies the error along an eigenvector of the Hessian by "
                 "1 − lr·λ. Above 2/λ_max the steepest direction grows, but the starting error "
                 "lies almost entirely along the slow direction (from ~0 towards (1, −1)), "
                 "which still shrinks."),
    Question(5, parts=(
        Part("field", _field_width, "the width of the receptive field of one output",
             slips=((lambda: 2 * 3, "windows of neighbouring layers overlap: each 2×2 layer "
                                    "widens the field by k − 1 = 1, not by k"),)),
        Part("largest", lambda: int(_stacked_ones_gradient().max()),
             "the largest entry of the gradient"),
    ), hint_text="Each layer adds k − 1 = 1 to the width. The paths from one input pixel to the "
                 "output multiply along each axis: 1, 3, 3, 1 is the third row of Pascal's "
                 "triangle."),
)
