"""Lesson code of notebooks/11_nin.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

from mxnet.gluon import nn

from d2lcnn.tools.networks import BookResult, Form, Network

from .training import native_recipe
from .vgg import conv_relu


def nin_block(num_channels, kernel_size, strides, padding, in_channels=0,
              batch_norm=False):
    """NiN's block (Lin, Chen and Yan, 2013, "Network in network"): a kernel_size convolution with
    the given strides and padding, then two 1×1 convolutions — a small MLP applied at every
    pixel — all with num_channels outputs and ReLU (batch_norm: batch normalization before each
    ReLU, see chapter 10's conv_relu). (batch, in_channels, H, W) -> (batch, num_channels, H', W')
    with H' = ⌊(H + 2·padding − kernel_size)/strides⌋ + 1. in_channels 0: inferred at the first
    forward pass."""
    block = nn.HybridSequential()
    block.add(conv_relu(num_channels, kernel_size, strides, padding, in_channels, batch_norm),
              conv_relu(num_channels, 1, in_channels=num_channels, batch_norm=batch_norm),
              conv_relu(num_channels, 1, in_channels=num_channels, batch_norm=batch_norm))
    return block


NIN_SPECS = {
    # blocks: (channels, kernel, stride, padding) of each hidden NiN block's first convolution,
    # each block followed by max pooling (window, stride); classifier: (kernel, stride, padding)
    # of the last block's first convolution, which has one channel per class; batch_norm: batch
    # normalization before every ReLU
    "book": {"blocks": [(96, 11, 4, 0), (256, 5, 1, 2), (384, 3, 1, 1)], "pool": (3, 2),
             "dropout": 0.5, "classifier": (3, 1, 1), "batch_norm": False},
    "native": {"blocks": [(32, 3, 1, 1), (64, 5, 1, 2), (96, 3, 1, 1)], "pool": (3, 2),
               "dropout": 0.5, "classifier": (3, 1, 1), "batch_norm": True},
}


class NiN(nn.HybridBlock):
    """Network in Network (Lin, Chen and Yan, 2013, "Network in network"), built from a spec of
    NIN_SPECS: a nin_block per spec["blocks"] entry, each followed by max pooling; dropout; then
    the output, a nin_block with num_classes channels whose maps global average pooling turns
    into the scores — no dense layer at all.

    Input (batch, in_channels, 224, 224) for the "book" spec, (batch, in_channels, 28, 28) for the
    "native" one; output (batch, num_classes).
    """

    def __init__(self, spec, num_classes=10, in_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.features = nn.HybridSequential()
        for channels, kernel, stride, padding in spec["blocks"]:
            self.features.add(nin_block(channels, kernel, stride, padding, in_channels,
                                        spec["batch_norm"]),
                              nn.MaxPool2D(*spec["pool"]))
            in_channels = channels
        self.features.add(nn.Dropout(spec["dropout"]))
        self.output = nn.HybridSequential()
        self.output.add(nin_block(num_classes, *spec["classifier"], in_channels,
                                  spec["batch_norm"]),
                        nn.GlobalAvgPool2D(), nn.Flatten())

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


NIN = Network(
    key="nin", title="NiN", chapter="11",
    book=Form("book", lambda: NiN(NIN_SPECS["book"]), input_size=224, batch_size=128,
              num_epochs=10, lr=0.1, about="the book's NiN on images resized to 224×224"),
    native=Form("native", lambda: NiN(NIN_SPECS["native"]), input_size=28,
                **native_recipe(8, 0.1),
                about="NiN's design adapted to 28×28 images, with batch normalization"),
    book_recipe=lambda: NiN({**NIN_SPECS["native"], "batch_norm": False}),
    book_result=BookResult(train_loss=0.370, train_acc=0.866, test_acc=0.877,
                           examples_per_sec=2_898,
                           notebook="chapter_convolutional-modern/nin.ipynb"))


__all__ = ['nin_block', 'NIN_SPECS', 'NiN', 'NIN']
