"""The networks of the series as Gluon ``HybridBlock`` s, built like Gluon's own model zoo.

Each network keeps its architecture as data (a spec at module level), splits into ``features``
(everything up to the last hidden layer) and ``output`` (the classifier layer), and has a thin
constructor function. ``num_classes`` and ``in_channels`` are parameters throughout; giving
``in_channels`` lets the first layer's weights take their shape at once instead of at the first
forward pass.
"""

from __future__ import annotations

from mxnet.gluon import HybridBlock, nn

__all__ = ["LeNet", "AlexNet", "lenet", "alexnet"]


class LeNet(HybridBlock):
    r"""LeNet from `"Gradient-Based Learning Applied to Document Recognition"
    <http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf>`_ (LeCun et al., 1998), as taught in d2l.

    Two convolution blocks (5×5 kernels, 6 then 16 channels, sigmoid, 2×2 average pooling with
    stride 2) and three dense layers (120, 84, ``num_classes``). The first convolution pads by 2 so
    that a 28×28 input behaves like the paper's 32×32 one. Input (batch, in_channels, 28, 28);
    output (batch, num_classes) logits. 61,706 parameters for 1 input channel and 10 classes.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "sigmoid",
                 **kwargs) -> None:
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            self.features.add(
                nn.Conv2D(6, kernel_size=5, padding=2, in_channels=in_channels,
                          activation=activation),
                nn.AvgPool2D(pool_size=2, strides=2),
                nn.Conv2D(16, kernel_size=5, in_channels=6, activation=activation),
                nn.AvgPool2D(pool_size=2, strides=2),
                nn.Dense(120, activation=activation),  # Dense flattens (batch, 16, 5, 5) itself
                nn.Dense(84, in_units=120, activation=activation),
            )
            self.output = nn.Dense(num_classes, in_units=84)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


alexnet_spec = {
    # (channels, kernel, stride, padding, max-pool 3×3/2 after it)
    "conv": [(96, 11, 4, 0, True), (256, 5, 1, 2, True), (384, 3, 1, 1, False),
             (384, 3, 1, 1, False), (256, 3, 1, 1, True)],
    "dense": [4096, 4096],
    "dropout": 0.5,
}


class AlexNet(HybridBlock):
    r"""AlexNet from `"ImageNet Classification with Deep Convolutional Neural Networks"
    <https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks>`_
    (Krizhevsky, Sutskever and Hinton, 2012), in d2l's single-GPU form.

    Five convolutions (11×11 stride 4, then 5×5 and three 3×3; 96-256-384-384-256 channels, ReLU),
    3×3 stride-2 max pooling after the 1st, 2nd and 5th, then two dense layers of 4096 with
    dropout 0.5, and the output layer. Input (batch, in_channels, 224, 224); output
    (batch, num_classes).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            channels_in = in_channels
            for channels, kernel, stride, padding, pool in alexnet_spec["conv"]:
                self.features.add(nn.Conv2D(channels, kernel_size=kernel, strides=stride,
                                            padding=padding, in_channels=channels_in,
                                            activation="relu"))
                if pool:
                    self.features.add(nn.MaxPool2D(pool_size=3, strides=2))
                channels_in = channels
            for units in alexnet_spec["dense"]:
                self.features.add(nn.Dense(units, activation="relu"),
                                  nn.Dropout(alexnet_spec["dropout"]))
            self.output = nn.Dense(num_classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def lenet(num_classes: int = 10, in_channels: int = 1, **kwargs) -> LeNet:
    """LeNet (d2l's version of LeNet-5) for 28×28 inputs; see :class:`LeNet`."""
    return LeNet(num_classes=num_classes, in_channels=in_channels, **kwargs)


def alexnet(num_classes: int = 10, in_channels: int = 1, **kwargs) -> AlexNet:
    """AlexNet for 224×224 inputs; see :class:`AlexNet`."""
    return AlexNet(num_classes=num_classes, in_channels=in_channels, **kwargs)
