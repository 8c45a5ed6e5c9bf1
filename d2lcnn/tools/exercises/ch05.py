"""Self-checks of chapter 05 (receptive fields and parameter counts)."""

from . import Part, Question

NOTEBOOK = "05_receptive_field_and_parameters"

VGG11_CHAIN = [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2),
               (3, 1), (3, 1), (2, 2)]
SEVEN_LAYERS = [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)]


def _vgg11_field() -> int:
    from d2lcnn.lessons import receptive_field

    return receptive_field(VGG11_CHAIN)


def _plain_3x3_layers() -> int:
    """The fewest stacked 3×3 convolutions (stride 1) whose field, 2n + 1, reaches VGG-11's."""
    from d2lcnn.lessons import receptive_field

    n = 1
    while receptive_field([(3, 1)] * n) < _vgg11_field():
        n += 1
    return n


def _dilated_chain(conv3) -> list:
    chain = list(SEVEN_LAYERS)
    chain[4] = conv3  # conv3: the fifth layer of conv1 pool1 conv2 pool2 conv3 conv4 pool3
    return chain


def _dilated_field(conv3=(3, 1, 0, 2)) -> int:
    from d2lcnn.lessons import receptive_field

    return receptive_field(_dilated_chain(conv3))


def _conv_row(layer, shape):
    """The summary row of one layer (in a one-layer network, as summary lists a network's layers)."""
    from mxnet.gluon import nn

    from d2lcnn.tools.summary import summary

    net = nn.HybridSequential()
    net.add(layer)
    return summary(net, shape, memory=True).rows[0]


def _exercise3_row():
    from mxnet.gluon import nn

    return _conv_row(nn.Conv2D(128, 3, padding=1), (1, 64, 28, 28))


def _alexnet_conv1_kib(stride: int = 2) -> float:
    from mxnet.gluon import nn

    row = _conv_row(nn.Conv2D(96, 11, strides=stride), (1, 1, 224, 224))
    return row.activations * 4 / 1024  # float32 values → KiB


def _same_padding_lenet():
    from mxnet.gluon import nn

    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, 5, padding=2, activation="sigmoid"), nn.AvgPool2D(2, 2),
            nn.Conv2D(16, 5, activation="sigmoid"), nn.AvgPool2D(2, 2),
            nn.Dense(120, activation="sigmoid"), nn.Dense(84, activation="sigmoid"), nn.Dense(10))
    return net


def _lenet_counts(pool_inputs: int = 4, pool_bias: bool = False) -> tuple[int, int, int, int]:
    """(multiply-adds of summary, bias terms, pooling inputs, pooled values) of the LeNet."""
    import math

    from d2lcnn.tools.summary import summary

    rows = summary(_same_padding_lenet(), (1, 1, 28, 28)).rows
    macs = sum(r.macs for r in rows)
    biases = sum(math.prod(r.output_shape[1:]) for r in rows if not r.kind.startswith("AvgPool"))
    pooled = sum(math.prod(r.output_shape[1:]) for r in rows if r.kind.startswith("AvgPool"))
    return macs, biases, pooled * pool_inputs, pooled * pool_bias


def _connections(pool_bias: bool = False) -> int:
    return sum(_lenet_counts(pool_bias=pool_bias))


QUESTIONS = (
    Question(1, parts=(
        Part("rf", _vgg11_field, "the receptive field of VGG-11's convolutional part (pixels "
                                 "along one side)"),
        Part("layers", _plain_3x3_layers,
             "the fewest 3×3 convolutions without pooling whose field is at least as large",
             slips=((lambda: (_vgg11_field() - 1) // 2, "n stacked 3×3 layers see 2n + 1 pixels, "
                                                       "which is odd: the field must reach at "
                                                       "least the whole of VGG-11's"),)),
    ), hint_text="Go backwards from RF = 1: RF ← (RF − 1)·s + k for each layer, from the last "
                 "pooling to the first convolution. n stacked 3×3 layers see 2n + 1 pixels."),
    Question(2, parts=(
        Part("rf", _dilated_field, "the receptive field with conv3 dilated by 2",
             slips=((lambda: _dilated_field((3, 1)), "that is the chain without dilation: a "
                                                     "3×3 kernel with dilation 2 spans 5 pixels"),
                    (lambda: _dilated_field((6, 1)), "a kernel of k taps with dilation d spans "
                                                     "d·(k − 1) + 1 pixels, not d·k")),),
    ), hint_text="The dilated conv3 counts as a kernel of its span, 2·(3 − 1) + 1 = 5; run the "
                 "backward recursion of the seven-layer chain again with k = 5 for conv3."),
    Question(3, parts=(
        Part("macs", lambda: _exercise3_row().macs, "the multiply-adds of the layer",
             slips=((lambda: 128 * 3 * 3 * 28 * 28, "every output channel reads all 64 input "
                                                    "channels: multiply by c_i too"),)),
        Part("params", lambda: _exercise3_row().params, "its number of parameters",
             slips=((lambda: 128 * 64 * 3 * 3, "the 128 biases are missing"),)),
    ), hint_text="With padding 1 the output stays 28×28: c_o · c_i · k² multiply-adds at each "
                 "of the 28·28 positions; c_o · c_i · k² weights plus c_o biases."),
    Question(4, parts=(
        Part("kib", _alexnet_conv1_kib, "the output memory of the stride-2 layer, KiB per example",
             slips=((lambda: _alexnet_conv1_kib(4), "that is the stride-4 layer of the chapter"),
                    (lambda: 96 * 106 * 106 * 4 / 1024, "the output side is "
                                                        "⌊(224 − 11)/2⌋ + 1 = 107, not 106"))),
        Part("batch_mib", lambda: _alexnet_conv1_kib() * 128 / 1024,
             "the memory of this output for a batch of 128, in MiB"),
    ), hint_text="Output 96 × 107 × 107 float32 values of 4 bytes; 1 KiB = 1024 bytes, "
                 "1 MiB = 1024 KiB."),
    Question(5, parts=(
        Part("connections", _connections,
             "the connections of the same-padding LeNet, biases and pooling inputs included",
             slips=((lambda: _connections(pool_bias=True), "the average pooling here has no "
                                                           "trainable coefficient and no bias: 4 "
                                                           "connections per pooled value, not 5"),
                    (lambda: sum(_lenet_counts()[:2]), "count the pooling layers too: every "
                                                       "pooled value reads 4 inputs"),
                    (lambda: _lenet_counts()[0], "those are the multiply-adds: add one "
                                                 "connection per bias and the pooling inputs"))),
        Part("macs", lambda: _lenet_counts()[0], "the multiply-adds per example of summary"),
    ), hint_text="A layer with a bias has one more connection per output value than it has "
                 "multiply-adds; summary counts no multiply-adds for pooling, the paper counts "
                 "every input of a window."),
)
