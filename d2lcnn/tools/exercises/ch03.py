"""Self-checks of chapter 03 (multiple input and output channels)."""

from . import Part, Question

NOTEBOOK = "03_channels"


def _macs(c_in: int, c_out: int, k: int, side: int = 56) -> int:
    """Multiply-adds of a k×k convolution, c_in → c_out channels, on a side×side map kept by padding."""
    return c_out * c_in * k * k * side * side


def _params(c_in: int, c_out: int, k: int) -> int:
    from d2lcnn.lessons import conv_param_count

    return conv_param_count(c_in, c_out, k)


def _bottleneck_macs() -> int:
    return _macs(256, 64, 1) + _macs(64, 64, 3) + _macs(64, 256, 1)


def _transpose(stride: int):
    from mxnet import np

    from d2lcnn.lessons import conv_transpose2d

    return conv_transpose2d(np.ones((2, 2)), np.ones((2, 2)), stride=stride)


def _transpose_shape() -> tuple[int, ...]:
    from d2lcnn.lessons import conv_transpose_output_size

    side = conv_transpose_output_size(14, 4, padding=1, stride=2)
    return (1, 16, side, side)


def _transpose_layer_params() -> int:
    from mxnet.gluon import nn

    layer = nn.Conv2DTranspose(16, kernel_size=4, strides=2, padding=1, in_channels=32)
    layer.initialize()
    return sum(p.data().size for p in layer.collect_params().values())


QUESTIONS = (
    Question(1, parts=(
        Part("params", lambda: _params(256, 256, 3),
             "the number of parameters of the 3×3 convolution (weights and biases)",
             slips=((lambda: 256 * 256 * 9, "the 256 biases are missing"),)),
        Part("macs", lambda: _macs(256, 256, 3), "its number of multiply-adds on the 56×56 map",
             slips=((lambda: 256 * 9 * 56 * 56, "every output channel reads all 256 input "
                                                "channels: multiply by c_i too"),)),
        Part("ratio", lambda: _macs(256, 256, 3) / _bottleneck_macs(),
             "the multiply-adds of the 3×3 convolution divided by the bottleneck's"),
    ), hint_text="A k×k convolution from c_i to c_o channels that keeps an h×w map does "
                 "c_o · c_i · k² · h · w multiply-adds; add up the three layers of the bottleneck."),
    Question(2, parts=(
        Part("stride2", lambda: _transpose(2), "the 4×4 result with stride 2"),
        Part("stride1", lambda: _transpose(1), "the 3×3 result with stride 1"),
    ), hint_text="Every input value scatters a copy of the kernel, scaled by the value, to the "
                 "position it maps to (i·s, j·s); overlapping copies add up."),
    Question(3, parts=(
        Part("shape", _transpose_shape, "the output shape (batch, channels, height, width)"),
        Part("params", _transpose_layer_params,
             "the number of parameters of the layer (weights and biases)"),
    ), hint_text="n = (h − 1)·s − 2p + k per side; the weight is (in_channels, channels, 4, 4) "
                 "and there is one bias per output channel."),
)
