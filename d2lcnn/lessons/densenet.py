"""Lesson code of notebooks/15_densenet.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

from mxnet.gluon import nn

from d2lcnn.tools.networks import BookResult, Form, Network

from .training import native_recipe


def conv_block(num_channels, in_channels=0):
    """DenseNet's convolution block, in the pre-activation order of He et al. (2016, "Identity
    mappings in deep residual networks"): batch norm, ReLU, then a 3×3 convolution (padding 1)
    with num_channels outputs. (batch, in_channels, H, W) -> (batch, num_channels, H, W)."""
    block = nn.HybridSequential()
    block.add(nn.BatchNorm(in_channels=in_channels), nn.Activation("relu"),
              nn.Conv2D(num_channels, kernel_size=3, padding=1, in_channels=in_channels))
    return block


class DenseBlock(nn.HybridBlock):
    """DenseNet's dense block (稠密块; Huang, Liu, van der Maaten and Weinberger, 2017, "Densely
    connected convolutional networks"): num_convs conv_blocks, each of which sees the
    concatenation of the block's input and the outputs of every conv_block before it, along the
    channels. Each adds num_channels (the growth rate) channels: (batch, c, H, W) ->
    (batch, c + num_convs · num_channels, H, W). in_channels (c), when given, fixes the shapes at
    once instead of at the first forward pass."""

    def __init__(self, num_convs, num_channels, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.net = nn.HybridSequential()
        for i in range(num_convs):
            self.net.add(conv_block(num_channels,
                                    in_channels + i * num_channels if in_channels else 0))

    def hybrid_forward(self, F, X):
        for block in self.net:
            Y = block(X)
            X = F.np.concatenate((X, Y), axis=1)  # the channel axis
        return X


def transition_block(num_channels, in_channels=0):
    """DenseNet's transition layer (过渡层): batch norm, ReLU, a 1×1 convolution to num_channels
    channels (d2l halves them), and 2×2 average pooling with stride 2, which halves height and
    width (rounding down). Keeps in check the channels that dense blocks keep adding."""
    block = nn.HybridSequential()
    block.add(nn.BatchNorm(in_channels=in_channels), nn.Activation("relu"),
              nn.Conv2D(num_channels, kernel_size=1, in_channels=in_channels),
              nn.AvgPool2D(pool_size=2, strides=2))
    return block


DENSENET_SPECS = {
    # stem: (channels, kernel, stride, padding) of its convolution, followed by batch norm, ReLU
    # and max pooling (window, stride, padding); blocks: convolutions per dense block, each adding
    # growth_rate channels; a transition layer halves channels and side between two blocks
    "book": {"stem": (64, 7, 2, 3), "pool": (3, 2, 1), "growth_rate": 32,
             "blocks": [4, 4, 4, 4]},
    "native": {"stem": (32, 3, 1, 1), "pool": (3, 2, 1), "growth_rate": 16,
               "blocks": [4, 4, 4, 4]},
}


class DenseNet(nn.HybridBlock):
    """DenseNet (Huang, Liu, van der Maaten and Weinberger, 2017, "Densely connected
    convolutional networks"), in d2l's small form, built from a spec of DENSENET_SPECS: ResNet's
    stem (a convolution, batch norm, ReLU, max pooling), dense blocks with a transition_block
    halving channels and side between them, then batch norm, ReLU, global average pooling and the
    output layer. The "book" spec's channels run 64 -> 192 -> 96 -> 224 -> 112 -> 240 -> 120 -> 248.

    Input (batch, in_channels, 96, 96) for the "book" spec, (batch, in_channels, 28, 28) for the
    "native" one; output (batch, num_classes) scores.
    """

    def __init__(self, spec, num_classes=10, in_channels=1, **kwargs):
        super().__init__(**kwargs)
        channels, kernel, stride, padding = spec["stem"]
        self.features = nn.HybridSequential()
        self.features.add(nn.Conv2D(channels, kernel, stride, padding, in_channels=in_channels),
                          nn.BatchNorm(in_channels=channels), nn.Activation("relu"),
                          nn.MaxPool2D(*spec["pool"]))
        for i, num_convs in enumerate(spec["blocks"]):
            self.features.add(DenseBlock(num_convs, spec["growth_rate"], in_channels=channels))
            channels += num_convs * spec["growth_rate"]
            if i != len(spec["blocks"]) - 1:
                self.features.add(transition_block(channels // 2, in_channels=channels))
                channels //= 2
        self.features.add(nn.BatchNorm(in_channels=channels), nn.Activation("relu"),
                          nn.GlobalAvgPool2D())
        self.output = nn.Dense(num_classes, in_units=channels)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


DENSENET = Network(
    key="densenet", title="DenseNet", chapter="15",
    book=Form("book", lambda: DenseNet(DENSENET_SPECS["book"]), input_size=96, batch_size=256,
              num_epochs=10, lr=0.1, about="the book's DenseNet on images resized to 96×96"),
    native=Form("native", lambda: DenseNet(DENSENET_SPECS["native"]), input_size=28,
                **native_recipe(5, 0.1),
                about="DenseNet's design adapted to 28×28 images"),
    book_recipe=lambda: DenseNet(DENSENET_SPECS["native"]),
    book_result=BookResult(train_loss=0.145, train_acc=0.946, test_acc=0.858,
                           examples_per_sec=5_373,
                           notebook="chapter_convolutional-modern/densenet.ipynb"))


__all__ = ['conv_block', 'DenseBlock', 'transition_block', 'DENSENET_SPECS', 'DenseNet', 'DENSENET']
