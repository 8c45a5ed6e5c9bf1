"""Lesson code of notebooks/12_googlenet.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

from mxnet.gluon import nn

from d2lcnn.tools.networks import BookResult, Form, Network

from .training import native_recipe
from .vgg import conv_relu


class Inception(nn.HybridBlock):
    """GoogLeNet's Inception block (Szegedy et al., 2015, "Going deeper with convolutions"): four
    parallel paths whose outputs are concatenated along the channel axis, so that
    (batch, in_channels, H, W) -> (batch, c1 + c2[1] + c3[1] + c4, H, W).

    1. 1×1 convolution, c1 channels;
    2. 1×1 convolution to c2[0] channels, then 3×3 (padding 1) to c2[1];
    3. 1×1 convolution to c3[0] channels, then 5×5 (padding 2) to c3[1];
    4. 3×3 max pooling (stride 1, padding 1), then 1×1 convolution to c4.

    Every convolution has a ReLU (and batch normalization before it with batch_norm). The 1×1
    convolutions before the 3×3 and 5×5 ones cut the channels, and so the cost, of the expensive
    paths. in_channels 0: inferred at the first forward pass.
    """

    def __init__(self, c1, c2, c3, c4, in_channels=0, batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.out_channels = c1 + c2[1] + c3[1] + c4
        self.p1_1 = conv_relu(c1, 1, in_channels=in_channels, batch_norm=batch_norm)
        self.p2_1 = conv_relu(c2[0], 1, in_channels=in_channels, batch_norm=batch_norm)
        self.p2_2 = conv_relu(c2[1], 3, padding=1, in_channels=c2[0], batch_norm=batch_norm)
        self.p3_1 = conv_relu(c3[0], 1, in_channels=in_channels, batch_norm=batch_norm)
        self.p3_2 = conv_relu(c3[1], 5, padding=2, in_channels=c3[0], batch_norm=batch_norm)
        self.p4_1 = nn.MaxPool2D(pool_size=3, strides=1, padding=1)
        self.p4_2 = conv_relu(c4, 1, in_channels=in_channels, batch_norm=batch_norm)

    def hybrid_forward(self, F, x):
        p1 = self.p1_1(x)
        p2 = self.p2_2(self.p2_1(x))
        p3 = self.p3_2(self.p3_1(x))
        p4 = self.p4_2(self.p4_1(x))
        # F.concat, the Concat operator of MXNet's older nd interface, not np.concatenate: see
        # below the cell for why (as_nd_ndarray and as_np_ndarray only relabel, no copy).
        paths = (p.as_nd_ndarray() for p in (p1, p2, p3, p4))
        return F.concat(*paths, dim=1).as_np_ndarray()


GOOGLENET_INCEPTIONS = {
    # (c1, (c2 reduce, c2), (c3 reduce, c3), c4) of each Inception block, stage by stage
    "b3": [(64, (96, 128), (16, 32), 32), (128, (128, 192), (32, 96), 64)],
    "b4": [(192, (96, 208), (16, 48), 64), (160, (112, 224), (24, 64), 64),
           (128, (128, 256), (24, 64), 64), (112, (144, 288), (32, 64), 64),
           (256, (160, 320), (32, 128), 128)],
    "b5": [(256, (160, 320), (32, 128), 128), (384, (192, 384), (48, 128), 128)],
}

GOOGLENET_SPECS = {
    # b1, b2: the stem, convolutions (channels, kernel, stride, padding) and max poolings;
    # inceptions: divided by width_ratio; pool: (window, stride, padding) of every max pooling;
    # batch_norm: batch normalization before every ReLU
    "book": {"b1": [(64, 7, 2, 3), "pool"], "b2": [(64, 1, 1, 0), (192, 3, 1, 1), "pool"],
             "inceptions": GOOGLENET_INCEPTIONS, "width_ratio": 1, "pool": (3, 2, 1),
             "batch_norm": False},
    "native": {"b1": [(32, 3, 1, 1), "pool"], "b2": [(16, 1, 1, 0), (48, 3, 1, 1), "pool"],
               "inceptions": GOOGLENET_INCEPTIONS, "width_ratio": 4, "pool": (3, 2, 1),
               "batch_norm": True},
}


def scale_inception(channels, ratio):
    """An Inception block's (c1, (c2 reduce, c2), (c3 reduce, c3), c4) with every channel count
    divided by ratio (rounded down, at least 1)."""
    c1, (c2_reduce, c2), (c3_reduce, c3), c4 = channels
    return (max(1, c1 // ratio), (max(1, c2_reduce // ratio), max(1, c2 // ratio)),
            (max(1, c3_reduce // ratio), max(1, c3 // ratio)), max(1, c4 // ratio))


class GoogLeNet(nn.HybridBlock):
    """GoogLeNet (Szegedy et al., 2015, "Going deeper with convolutions"), in d2l's form (no
    auxiliary classifiers, no local response normalization), built from a spec of
    GOOGLENET_SPECS.

    features: five stages — b1 and b2 the stem (convolutions with ReLU and max poolings, as the
    spec lists them, with batch normalization before each ReLU when spec["batch_norm"]); b3,
    b4, b5 the Inception blocks of spec["inceptions"] with their channels
    divided by spec["width_ratio"], b3 and b4 ending in max pooling, b5 in global average pooling.
    output: one dense layer. Input (batch, in_channels, 96, 96) for the "book" spec (224×224 works
    too), (batch, in_channels, 28, 28) for the "native" one; output (batch, num_classes).
    """

    def __init__(self, spec, num_classes=10, in_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.features = nn.HybridSequential()
        for stage in ("b1", "b2"):
            layers = nn.HybridSequential()
            for layer in spec[stage]:
                if layer == "pool":
                    layers.add(nn.MaxPool2D(*spec["pool"]))
                else:
                    channels, kernel, stride, padding = layer
                    layers.add(conv_relu(channels, kernel, stride, padding, in_channels,
                                         spec["batch_norm"]))
                    in_channels = channels
            self.features.add(layers)
        for stage in ("b3", "b4", "b5"):
            layers = nn.HybridSequential()
            for channels in spec["inceptions"][stage]:
                inception = Inception(*scale_inception(channels, spec["width_ratio"]),
                                      in_channels=in_channels, batch_norm=spec["batch_norm"])
                layers.add(inception)
                in_channels = inception.out_channels
            layers.add(nn.GlobalAvgPool2D() if stage == "b5" else nn.MaxPool2D(*spec["pool"]))
            self.features.add(layers)
        self.output = nn.Dense(num_classes, in_units=in_channels)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


GOOGLENET = Network(
    key="googlenet", title="GoogLeNet", chapter="12",
    book=Form("book", lambda: GoogLeNet(GOOGLENET_SPECS["book"]), input_size=96, batch_size=128,
              num_epochs=10, lr=0.1, about="the book's GoogLeNet on images resized to 96×96"),
    native=Form("native", lambda: GoogLeNet(GOOGLENET_SPECS["native"]), input_size=28,
                **native_recipe(8, 0.1),
                about="GoogLeNet with a small stem, narrower Inception blocks and batch "
                      "normalization, on 28×28 images"),
    book_recipe=lambda: GoogLeNet({**GOOGLENET_SPECS["native"], "batch_norm": False}),
    book_result=BookResult(train_loss=0.256, train_acc=0.903, test_acc=0.907,
                           examples_per_sec=2_344,
                           notebook="chapter_convolutional-modern/googlenet.ipynb"))


__all__ = ['Inception', 'GOOGLENET_INCEPTIONS', 'GOOGLENET_SPECS', 'scale_inception', 'GoogLeNet', 'GOOGLENET']
