"""Self-checks of chapter 02 (padding and stride)."""

from . import Part, Question

NOTEBOOK = "02_padding_and_stride"

DILATIONS = (1, 2, 4, 8)


def _halving_padding(kernel: int) -> int:
    """The smallest padding with which stride 2 turns 28 into 14 for a kernel of this size."""
    from d2lcnn.lessons import conv_output_size

    return next(p for p in range(kernel) if conv_output_size(28, kernel, p, 2) == 14)


def _which_halve_16() -> str:
    from d2lcnn.lessons import conv_output_size

    halves = [k for k in (2, 3) if conv_output_size(16, k, _halving_padding(k), 2) == 8]
    return {(2, 3): "both", (2,): "k=2", (3,): "k=3", (): "neither"}[tuple(halves)]


def _stem() -> tuple[int, int]:
    from d2lcnn.lessons import conv_output_shape

    conv = conv_output_shape(224, 7, padding=3, stride=2)
    pool = conv_output_shape(conv, 3, padding=1, stride=2)
    return conv[0], pool[0]


def _macs(stride: int) -> int:
    from d2lcnn.lessons import conv_output_shape

    h, w = conv_output_shape(224, 3, padding=1, stride=stride)
    return h * w * 3 * 3


def _smallest_input() -> int:
    """The smallest n for which the four dilated 3×3 layers (no padding) still give an output."""
    from d2lcnn.lessons import conv_output_size

    def fits(n: int) -> bool:
        try:
            for d in DILATIONS:
                n = conv_output_size(n, 3, dilation=d)
        except ValueError:
            return False
        return True

    return next(n for n in range(1, 100) if fits(n))


def _dilated_field() -> int:
    """Width of the input region the central output depends on, by autograd (as in the chapter)."""
    import numpy as onp
    from mxnet import autograd, np

    from d2lcnn.lessons import corr2d

    X = np.ones((_smallest_input() + 4,) * 2)
    X.attach_grad()
    with autograd.record():
        Z = X
        for d in DILATIONS:
            Z = corr2d(Z, np.ones((3, 3)), dilation=d)
        centre = Z[Z.shape[0] // 2, Z.shape[1] // 2]
    centre.backward()
    columns = onp.nonzero(X.grad.asnumpy().sum(axis=0))[0]
    return int(columns.max() - columns.min() + 1)


def _unread_last_row_parity() -> str:
    from d2lcnn.tools import explore

    sizes = range(3, 40)
    unread = {n for n in sizes if n - 1 in explore.conv_geometry(n=n, k=3, p=0, s=2).never_read}
    if unread == {n for n in sizes if n % 2 == 0}:
        return "even"
    if unread == {n for n in sizes if n % 2 == 1}:
        return "odd"
    raise AssertionError(f"no parity rule: the last row is unread for n in {sorted(unread)}")


QUESTIONS = (
    Question(1, parts=(
        Part("p_k2", lambda: _halving_padding(2), "the padding for k = 2 with stride 2"),
        Part("p_k3", lambda: _halving_padding(3), "the padding for k = 3 with stride 2"),
        Part("halve_16", _which_halve_16,
             "which of the two settings turn 16×16 into 8×8 ('both', 'k=2', 'k=3' or 'neither')",
             choices=("both", "k=2", "k=3", "neither")),
    ), hint_text="Solve ⌊(28 + 2p − k)/2⌋ + 1 = 14 for p, then put n = 16 into the same formula."),
    Question(2, parts=(
        Part("conv", lambda: _stem()[0], "the side after the 7×7 convolution"),
        Part("pool", lambda: _stem()[1], "the side after the 3×3 pooling"),
    ), hint_text="o = ⌊(n + 2p − k)/s⌋ + 1 twice: the pooling's n is the convolution's o."),
    Question(3, parts=(
        Part("stride1", lambda: _macs(1), "the multiply-adds with stride 1"),
        Part("stride2", lambda: _macs(2), "the multiply-adds with stride 2",
             slips=((lambda: _macs(1) // 2, "stride 2 halves the output along both axes: the "
                                           "cost falls by 2 · 2"),)),
        Part("ratio", lambda: _macs(1) / _macs(2), "the ratio stride 1 / stride 2"),
    ), hint_text="Every output value costs k² = 9 multiply-adds; count the outputs with "
                 "conv_output_shape."),
    Question(4, parts=(
        Part("field", _dilated_field, "the receptive field's width",
             slips=((lambda: 1 + sum(DILATIONS), "each layer widens the field by d·(k − 1) = 2d, "
                                                 "not by d"),)),
        Part("min_input", _smallest_input, "the smallest input size that still gives an output"),
    ), hint_text="With stride 1, each layer adds d·(k − 1) to the width. Without padding, the "
                 "input must hold the whole field for one output to exist."),
    Question(5, parts=(
        Part("parity", _unread_last_row_parity,
             "the sizes n that leave the last row unread ('even' or 'odd')",
             choices=("even", "odd")),
    ), hint_text="The windows start at 0, 2, 4, …; the last one that fits covers rows up to "
                 "2·⌊(n − 3)/2⌋ + 2. When does that miss row n − 1?"),
)
