"""Lesson code of notebooks/10_vgg.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

from mxnet.gluon import nn

from d2lcnn.tools.networks import BookResult, Form, Network

from .training import native_recipe


def conv_relu(channels, kernel_size, stride=1, padding=0, in_channels=0,
              batch_norm=False):
    """A convolution followed by ReLU; with batch_norm, batch normalization (chapter 13) between
    the two, and no bias in the convolution (batch norm's shift β does its work)."""
    if not batch_norm:
        return nn.Conv2D(channels, kernel_size, stride, padding, in_channels=in_channels,
                         activation="relu")
    block = nn.HybridSequential()
    block.add(nn.Conv2D(channels, kernel_size, stride, padding, in_channels=in_channels,
                        use_bias=False),
              nn.BatchNorm(in_channels=channels), nn.Activation("relu"))
    return block


def vgg_block(num_convs, num_channels, in_channels=0, first_padding=1, batch_norm=False):
    """VGG's block (Simonyan and Zisserman, 2014, "Very deep convolutional networks for
    large-scale image recognition"): num_convs 3×3 convolutions with num_channels output channels
    and ReLU, then 2×2 max pooling with stride 2. With padding 1 the convolutions keep height and
    width and the pooling halves them: (batch, in_channels, H, W) -> (batch, num_channels, H/2,
    W/2). first_padding: the first convolution's padding (p makes its output side H + 2p − 2).
    batch_norm: batch normalization between each convolution and its ReLU. in_channels 0:
    inferred at the first forward pass."""
    block = nn.HybridSequential()
    for i in range(num_convs):
        block.add(conv_relu(num_channels, 3, padding=first_padding if i == 0 else 1,
                            in_channels=in_channels, batch_norm=batch_norm))
        in_channels = num_channels
    block.add(nn.MaxPool2D(pool_size=2, strides=2))
    return block


VGG_CONV_ARCHS = {
    # (number of 3×3 convolutions, channels) per block: the paper's configurations A, B, D, E
    11: ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),
    13: ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512)),
    16: ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)),
    19: ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)),
}

VGG_SPECS = {
    # blocks: (convolutions, channels) per vgg_block; first_padding: of the first convolution;
    # dense: the hidden dense layers' units, each followed by dropout
    "book": {"blocks": ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128)), "first_padding": 1,
             "dense": (4096, 4096), "dropout": 0.5, "batch_norm": False},
    "native": {"blocks": ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128)), "first_padding": 3,
               "dense": (256, 256), "dropout": 0.5, "batch_norm": True},
}


class VGG(nn.HybridBlock):
    """VGG (Simonyan and Zisserman, 2014, "Very deep convolutional networks for large-scale image
    recognition"), built from a spec of VGG_SPECS: one vgg_block per (convolutions, channels) of
    spec["blocks"], then dense layers with ReLU and dropout, and the output layer.

    Five blocks halve the side five times: input (batch, in_channels, 224, 224) for the "book"
    spec (7×7 maps after the last block), (batch, in_channels, 28, 28) for the "native" one (its
    first convolution pads to 32×32, 1×1 maps after the last block); output (batch, num_classes).
    """

    def __init__(self, spec, num_classes=10, in_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.features = nn.HybridSequential()
        for i, (num_convs, channels) in enumerate(spec["blocks"]):
            padding = spec["first_padding"] if i == 0 else 1
            self.features.add(vgg_block(num_convs, channels, in_channels, padding,
                                        spec["batch_norm"]))
            in_channels = channels
        for units in spec["dense"]:
            self.features.add(nn.Dense(units, activation="relu"), nn.Dropout(spec["dropout"]))
        self.output = nn.Dense(num_classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


VGG11 = Network(
    key="vgg", title="VGG-11", chapter="10",
    book=Form("book", lambda: VGG(VGG_SPECS["book"]), input_size=224, batch_size=128,
              num_epochs=10, lr=0.05,
              about="the book's VGG-11 with a quarter of the channels, on images resized to "
                    "224×224"),
    native=Form("native", lambda: VGG(VGG_SPECS["native"]), input_size=28,
                **native_recipe(12, 0.1),
                about="VGG-11's convolutions with batch normalization on 28×28 images padded to "
                      "32×32, small dense layers"),
    book_recipe=lambda: VGG({**VGG_SPECS["native"], "batch_norm": False}),
    book_result=BookResult(train_loss=0.176, train_acc=0.936, test_acc=0.923,
                           examples_per_sec=2_463,
                           notebook="chapter_convolutional-modern/vgg.ipynb"))


__all__ = ['conv_relu', 'vgg_block', 'VGG_CONV_ARCHS', 'VGG_SPECS', 'VGG', 'VGG11']
