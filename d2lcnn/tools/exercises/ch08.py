"""Self-checks of chapter 08 (LeNet)."""

from . import Part, Question

NOTEBOOK = "08_lenet"

#: The names ``summary`` gives LeNet's layers with parameters, in order.
_LAYER_NAMES = ("features.0", "features.2", "features.4", "features.5", "output")


def _lenet_layers(conv1: int, conv2: int, dense1_inputs: int | None = None):
    """LeNet's layers with parameters (conv1 and conv2 output channels), shapes known.
    dense1_inputs: the first dense layer's inputs (default: conv2 maps of 5×5, as in LeNet)."""
    from mxnet.gluon import nn

    dense1_inputs = conv2 * 5 * 5 if dense1_inputs is None else dense1_inputs
    return (nn.Conv2D(conv1, kernel_size=5, padding=2, in_channels=1),
            nn.Conv2D(conv2, kernel_size=5, in_channels=conv1),
            nn.Dense(120, in_units=dense1_inputs),
            nn.Dense(84, in_units=120),
            nn.Dense(10, in_units=84))


def _layer_params(conv1: int, conv2: int, dense1_inputs: int | None = None) -> list[int]:
    from d2lcnn.lessons import num_params

    return [num_params(layer) for layer in _lenet_layers(conv1, conv2, dense1_inputs)]


def _wide_params() -> int:
    return sum(_layer_params(12, 32))


def _wide_params_same_dense() -> int:
    """The slip: wider convolutions, but the first dense layer still reading 16 × 5 × 5."""
    return sum(_layer_params(12, 32, dense1_inputs=16 * 5 * 5))


def _wide_params_no_bias() -> int:
    from d2lcnn.lessons import num_params

    return sum(num_params(layer) - layer.bias.shape[0] for layer in _lenet_layers(12, 32))


def _largest_growth() -> str:
    growth = [wide - narrow for wide, narrow in zip(_layer_params(12, 32), _layer_params(6, 16), strict=True)]
    return _LAYER_NAMES[growth.index(max(growth))]


def _steps(batch_size: int) -> int:
    from d2lcnn.tools.data import DATASETS

    return -(-DATASETS["fashion-mnist"].num_train // batch_size)  # the last batch is smaller


def _steps_dropping_last(batch_size: int) -> int:
    from d2lcnn.tools.data import DATASETS

    return DATASETS["fashion-mnist"].num_train // batch_size


QUESTIONS = (
    Question(2, parts=(
        Part("params", _wide_params,
             "the parameter count of LeNet with 12 and 32 channels in its convolutions",
             slips=((_wide_params_same_dense, "the first dense layer grows too: it now reads "
                                              "32 × 5 × 5 = 800 inputs, not 400"),
                    (_wide_params_no_bias, "the biases are missing: one per output channel "
                                           "or unit"))),
        Part("layer", _largest_growth,
             "the layer (its name in summary) whose parameter count grows by the most",
             choices=_LAYER_NAMES),
    ), hint_text="A k×k convolution from c_i to c_o channels has c_o·c_i·k² + c_o parameters; a "
                 "dense layer n_in·n_out + n_out. The second convolution still leaves 5×5 maps, "
                 "so the first dense layer reads (channels × 5 × 5) inputs."),
    Question(3, parts=(
        Part("steps_64", lambda: _steps(64), "the number of steps per epoch with batch_size=64",
             slips=((lambda: _steps_dropping_last(64), "60,000 / 64 = 937.5: the last, smaller "
                                                       "batch of 32 images is a step too"),)),
        Part("steps_256", lambda: _steps(256), "the number of steps per epoch with batch_size=256",
             slips=((lambda: _steps_dropping_last(256), "60,000 / 256 = 234.4: the last, "
                                                        "smaller batch of 96 images is a step "
                                                        "too"),)),
    ), hint_text="One step per batch; the loader keeps the last, smaller batch, so the count is "
                 "60,000 / batch size rounded up."),
)
