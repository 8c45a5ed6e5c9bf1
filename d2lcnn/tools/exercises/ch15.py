"""Self-checks of chapter 15 (DenseNet)."""

from functools import cache

from . import Part, Question

NOTEBOOK = "15_densenet"

#: Exercise 1's copy of the book's spec: another growth rate and more convolutions per block.
GROWTH_RATE, CONVS_PER_BLOCK = 16, 6
#: Exercise 3: DenseNet-BC's bottleneck has 4·g output channels.
BOTTLENECK_FACTOR = 4


def _summary(build, input_shape, **kwargs):
    """summary() of the network ``build()`` makes, built and run with MXNet's NumPy interface,
    as the lessons use it."""
    from mxnet.util import np_array, np_shape

    from d2lcnn.tools.summary import summary

    with np_shape(True), np_array(True):
        return summary(build(), input_shape, **kwargs)


def _spec(name: str) -> dict:
    from d2lcnn.lessons import DENSENET_SPECS

    return DENSENET_SPECS[name]


def _exercise1_spec() -> dict:
    book = _spec("book")
    return {**book, "growth_rate": GROWTH_RATE, "blocks": [CONVS_PER_BLOCK] * len(book["blocks"])}


def _channel_rule(spec: dict, halve: bool = True) -> tuple[int, ...]:
    """Channels after the stem, then after each dense block and each transition layer."""
    channels = spec["stem"][0]
    rule = [channels]
    for i, num_convs in enumerate(spec["blocks"]):
        channels += num_convs * spec["growth_rate"]
        rule.append(channels)
        if i < len(spec["blocks"]) - 1:
            channels = channels // 2 if halve else channels
            rule.append(channels)
    return tuple(rule)


def _measured_channels(spec: dict, side: int = 96) -> tuple[int, ...]:
    """The channels summary measures after the stem's pooling and each block and transition."""
    from d2lcnn.lessons import DenseNet

    rows = _summary(lambda: DenseNet(spec), (1, 1, side, side), depth=2).rows
    return tuple(row.output_shape[1] for row in rows[3:3 + 2 * len(spec["blocks"])])


@cache
def _exercise1_params(trainable: bool = False) -> int:
    from d2lcnn.lessons import DenseNet

    table = _summary(lambda: DenseNet(_exercise1_spec()), (1, 1, 96, 96))
    return table.trainable_params if trainable else table.total_params


@cache
def _native_rounding_up():
    """The native DenseNet with every transition's 2×2 average pooling rounding up."""
    from mxnet.gluon import nn

    from d2lcnn.lessons import DenseNet

    def build():
        net = DenseNet(_spec("native"))
        for block in net.features:
            if isinstance(block, nn.HybridSequential) and isinstance(block[-1], nn.AvgPool2D):
                block.register_child(nn.AvgPool2D(pool_size=2, strides=2, ceil_mode=True),
                                     str(len(block) - 1))  # the transition's last layer
        return net

    return _summary(build, (1, 1, 28, 28))


@cache
def _native():
    from d2lcnn.lessons import DenseNet

    return _summary(lambda: DenseNet(_spec("native")), (1, 1, 28, 28))


@cache
def _first_block(bottleneck: bool):
    """The book's first dense block (from the stem's 64 channels at 24×24), plain or with
    DenseNet-BC's 1×1 bottleneck of 4·g channels before each 3×3 convolution."""
    from mxnet.gluon import nn

    from d2lcnn.lessons import DenseBlock, conv_block

    book = _spec("book")
    c, g, n = book["stem"][0], book["growth_rate"], book["blocks"][0]

    def build():
        if not bottleneck:
            return DenseBlock(n, g, in_channels=c)
        block = DenseBlock(0, g)  # empty; its convolution blocks are added here
        for i in range(n):
            step = nn.HybridSequential()
            step.add(nn.BatchNorm(in_channels=c + i * g), nn.Activation("relu"),
                     nn.Conv2D(BOTTLENECK_FACTOR * g, kernel_size=1, in_channels=c + i * g),
                     conv_block(g, in_channels=BOTTLENECK_FACTOR * g))
            block.net.add(step)
        return block

    return _summary(build, (1, c, 24, 24))


@cache
def _outputs(name: str) -> int:
    """Output values per example of every layer of the native form (summary with memory)."""
    from d2lcnn.lessons import RESNET_SPECS, DenseNet, ResNet

    build = (lambda: DenseNet(_spec("native"))) if name == "DenseNet" else (
        lambda: ResNet(RESNET_SPECS["native"]))
    return _summary(build, (1, 1, 28, 28), memory=True).total_activations


def _keeps_more() -> str:
    return max(("DenseNet", "ResNet-18"), key=_outputs)


def _last_block_input(halve: bool) -> int:
    return _channel_rule(_spec("native"), halve=halve)[-2]


QUESTIONS = (
    Question(1, parts=(
        Part("channels", lambda: _measured_channels(_exercise1_spec()),
             "the channels after the stem, then after each dense block and transition layer "
             "(8 numbers), for the book's spec with growth rate 16 and 6 convolutions per block",
             slips=((lambda: _channel_rule(_exercise1_spec(), halve=False),
                     "every transition layer halves the channels (rounding down)"),)),
        Part("params", _exercise1_params, "its parameters (summary's total at 96×96)",
             slips=((lambda: _exercise1_params(trainable=True),
                     "summary's total also counts batch norm's moving statistics"),)),
    ), hint_text="Each dense block adds (convolutions) × (growth rate) channels, each transition "
                 "halves them: 64 → 64 + 6·16 → … . Build DenseNet({**DENSENET_SPECS['book'], "
                 "'growth_rate': 16, 'blocks': [6, 6, 6, 6]}) and summary it at 96×96."),
    Question(2, parts=(
        Part("params", lambda: _native_rounding_up().total_params,
             "the parameters of the native form with transitions that round up"),
        Part("macs", lambda: _native_rounding_up().total_macs,
             "its multiply-adds per example",
             slips=((lambda: _native().total_macs,
                     "that is the native form as it is: the last two blocks now work at 4×4 and "
                     "2×2 instead of 3×3 and 1×1"),)),
    ), hint_text="Pooling has no parameters, and no layer's weights depend on the side of its "
                 "input; a convolution's multiply-adds grow with the number of output pixels."),
    Question(3, parts=(
        Part("params", lambda: _first_block(bottleneck=True).total_params,
             "the parameters of the book's first dense block with DenseNet-BC's bottlenecks "
             "(summary's total)",
             slips=((lambda: _first_block(bottleneck=True).trainable_params,
                     "summary's total also counts batch norm's moving statistics"),
                    (lambda: _first_block(bottleneck=False).total_params,
                     "that is the block without bottlenecks"))),
        Part("macs", lambda: _first_block(bottleneck=True).total_macs,
             "its multiply-adds per example (at 24×24)",
             slips=((lambda: _first_block(bottleneck=False).total_macs,
                     "that is the block without bottlenecks"),)),
    ), hint_text="Convolution i (i = 0 … 3) sees 64 + 32·i channels: a 1×1 convolution to "
                 "4·32 = 128 channels, then the 3×3 one from 128 to 32, each after a batch norm; "
                 "the bottleneck only saves where the input has more than 128 channels."),
    Question(4, parts=(
        Part("more", _keeps_more,
             "the native network whose layers keep more output values per example",
             choices=("DenseNet", "ResNet-18")),
        Part("ratio", lambda: _outputs("DenseNet") / _outputs("ResNet-18"),
             "the native DenseNet's outputs per example divided by the native ResNet-18's "
             "(summary(..., memory=True) of each, every layer listed)"),
    ), hint_text="Count at full depth (summary(net, (1, 1, 28, 28), memory=True), no depth): "
                 "the footer gives the MiB of outputs per example of all layers."),
    Question(5, parts=(
        Part("channels", lambda: _last_block_input(halve=False),
             "the channels entering the native form's last dense block when the transitions "
             "keep all channels",
             slips=((lambda: _last_block_input(halve=True),
                     "that is with transitions that halve the channels"),)),
    ), hint_text="Without halving, every dense block only adds: the stem's channels plus "
                 "(convolutions × growth rate) for each block before the last."),
)
