"""Self-checks of chapter 14 (ResNet)."""

from functools import cache

from . import Part, Question

NOTEBOOK = "14_resnet"

#: The book's stage widths (exercise 2), and the book's stem convolution (exercise 3).
BOOK_WIDTHS = (64, 128, 256, 512)
BOOK_STEM = (7, 2, 3)  # kernel, stride, padding
#: Exercise 4: the bottleneck's channels (outside, inside) and the map it works on.
WIDE, NARROW, SIDE = 256, 64, 56


def _summary(build, input_shape, **kwargs):
    """summary() of the network ``build()`` makes, built and run with MXNet's NumPy interface,
    as the lessons use it."""
    from mxnet.util import np_array, np_shape

    from d2lcnn.tools.summary import summary

    with np_shape(True), np_array(True):
        return summary(build(), input_shape, **kwargs)


def _native_spec(**changes) -> dict:
    from d2lcnn.lessons import RESNET_SPECS

    return {**RESNET_SPECS["native"], **changes}


@cache
def _wide_native():
    """The native form with the book's widths (and a stem as wide as the first stage)."""
    from d2lcnn.lessons import ResNet

    native = _native_spec()
    stages = [(c, n) for c, (_, n) in zip(BOOK_WIDTHS, native["stages"], strict=True)]
    spec = _native_spec(stem=(BOOK_WIDTHS[0], *native["stem"][1:]), stages=stages)
    return _summary(lambda: ResNet(spec), (1, 1, 28, 28))


@cache
def _native():
    from d2lcnn.lessons import ResNet

    return _summary(lambda: ResNet(_native_spec()), (1, 1, 28, 28))


def _book_stem_spec() -> dict:
    channels = _native_spec()["stem"][0]
    return _native_spec(stem=(channels, *BOOK_STEM))


@cache
def _book_stem(depth=None):
    from d2lcnn.lessons import ResNet

    return _summary(lambda: ResNet(_book_stem_spec()), (1, 1, 28, 28), depth=depth)


def _stage_sides() -> tuple[int, ...]:
    rows = {row.name: row.output_shape[-1] for row in _book_stem(depth=2).rows}
    return tuple(rows[f"features.{4 + i}"] for i in range(len(_book_stem_spec()["stages"])))


def _sides_rounding_down() -> tuple[int, ...]:
    """The slip: every stride-2 step taken as n // 2 (the padding of 1 rounds up instead)."""
    sides, side = [], _stage_sides()[0]
    for _ in range(len(_book_stem_spec()["stages"])):
        sides.append(side)
        side //= 2
    return tuple(sides)


@cache
def _bottleneck(count_bn: bool = True):
    """Parameters of 1×1 (256 → 64), 3×3 (64 → 64), 1×1 (64 → 256), each with batch norm."""
    from mxnet.gluon import nn

    def build():
        block = nn.HybridSequential()
        for c_in, c_out, k in ((WIDE, NARROW, 1), (NARROW, NARROW, 3), (NARROW, WIDE, 1)):
            block.add(nn.Conv2D(c_out, k, padding=k // 2, in_channels=c_in))
            if count_bn:
                block.add(nn.BatchNorm(in_channels=c_out), nn.Activation("relu"))
        return block

    return _summary(build, (1, WIDE, SIDE, SIDE))


@cache
def _basic():
    from d2lcnn.lessons import Residual

    return _summary(lambda: Residual(WIDE, in_channels=WIDE), (1, WIDE, SIDE, SIDE))


def _no_biases(table) -> int:
    return table.total_params - sum(row.output_shape[1] for row in table.rows
                                    if row.kind.split()[0] == "Conv2D")


QUESTIONS = (
    Question(2, parts=(
        Part("params", lambda: _wide_native().total_params,
             "the parameters of the native form with the book's widths (summary's total)",
             slips=((lambda: 16 * _native().total_params,
                     "that is the k² rule's estimate, 16 times the native form: close, but the "
                     "stem's single input channel, the output layer's 10 classes and the biases "
                     "do not grow with the square of the widths; count with summary"),
                    (lambda: _wide_native().trainable_params,
                     "summary's total also counts batch norm's moving statistics"))),
    ), hint_text="Make the copy {**RESNET_SPECS['native'], 'stem': (64, 3, 1, 1), 'stages': "
                 "[(64, 2), (128, 2), (256, 2), (512, 2)]}; the widths grow 4 times, so most "
                 "parameters about 16 times."),
    Question(3, parts=(
        Part("sides", _stage_sides, "the sides of the feature maps after the four stages",
             slips=((_sides_rounding_down,
                     "a 3×3 convolution with stride 2 and padding 1 maps n to ⌊(n − 1)/2⌋ + 1, "
                     "which rounds an odd side up"),)),
        Part("rf", lambda: _book_stem().receptive_field,
             "the widest receptive field of the network with the book's stem, in input pixels",
             slips=((lambda: _native().receptive_field,
                     "that is the native stem's (3×3, stride 1); a stride of 2 at the start "
                     "doubles the step of every later layer"),)),
    ), hint_text="28 → ⌊(28 + 6 − 7)/2⌋ + 1 after the stem's convolution, then the pooling and "
                 "the stride-2 blocks; for the field, r grows by (k − 1)·j at every layer and j "
                 "by the stride (chapter 05), or compare with the book's form."),
    Question(4, parts=(
        Part("bottleneck", lambda: _bottleneck().total_params,
             "the parameters of the bottleneck block with its three batch norms (summary's total)",
             slips=((lambda: _bottleneck().trainable_params,
                     "summary's total also counts batch norm's moving statistics"),
                    (lambda: _bottleneck(count_bn=False).total_params,
                     "the three batch norms hold 4 numbers per channel each"),
                    (lambda: _no_biases(_bottleneck()), "each convolution has biases too"))),
        Part("basic", lambda: _basic().total_params,
             "the parameters of two 3×3 convolutions on 256 channels with their batch norms "
             "(Residual(256))",
             slips=((lambda: _basic().trainable_params,
                     "summary's total also counts batch norm's moving statistics"),
                    (lambda: _no_biases(_basic()), "each convolution has biases too"))),
    ), hint_text="A k×k convolution from c_i to c_o channels has c_o·c_i·k² weights and c_o "
                 "biases; a batch norm on c channels holds 4c numbers (γ, β, moving mean and "
                 "variance)."),
)
