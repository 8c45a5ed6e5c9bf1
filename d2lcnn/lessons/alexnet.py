"""Lesson code of notebooks/09_alexnet.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

from mxnet.gluon import nn

from d2lcnn.tools.networks import BookResult, Form, Network

from .training import native_recipe

ALEXNET_SPECS = {
    # convolutions: (channels, kernel, stride, padding, max pooling after it)
    "book": {"convs": [(96, 11, 4, 0, True), (256, 5, 1, 2, True), (384, 3, 1, 1, False),
                       (384, 3, 1, 1, False), (256, 3, 1, 1, True)],
             "pool": (3, 2), "dense": [4096, 4096], "dropout": 0.5},
    "native": {"convs": [(32, 3, 1, 1, True), (64, 5, 1, 2, True), (96, 3, 1, 1, False),
                         (96, 3, 1, 1, False), (64, 3, 1, 1, True)],
               "pool": (3, 2), "dense": [512, 512], "dropout": 0.5},
}


class AlexNet(nn.HybridBlock):
    """AlexNet (Krizhevsky, Sutskever and Hinton, 2012, "ImageNet classification with deep
    convolutional neural networks"), built from a spec of ALEXNET_SPECS: convolutions with ReLU,
    some followed by max pooling, then dense layers with ReLU and dropout, and the output layer.

    Input (batch, in_channels, 224, 224) for the "book" spec, (batch, in_channels, 28, 28) for the
    "native" one; output (batch, num_classes) scores. batch_norm=True puts batch normalization
    (chapter 13) between every convolution and its ReLU.
    """

    def __init__(self, spec, num_classes=10, in_channels=1, batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.features = nn.HybridSequential()
        for channels, kernel, stride, padding, pool in spec["convs"]:
            self.features.add(nn.Conv2D(channels, kernel, stride, padding,
                                        in_channels=in_channels,
                                        activation=None if batch_norm else "relu"))
            if batch_norm:
                self.features.add(nn.BatchNorm(in_channels=channels), nn.Activation("relu"))
            if pool:
                self.features.add(nn.MaxPool2D(*spec["pool"]))
            in_channels = channels
        for units in spec["dense"]:
            self.features.add(nn.Dense(units, activation="relu"), nn.Dropout(spec["dropout"]))
        self.output = nn.Dense(num_classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


ALEXNET = Network(
    key="alexnet", title="AlexNet", chapter="09",
    book=Form("book", lambda: AlexNet(ALEXNET_SPECS["book"]), input_size=224, batch_size=128,
              num_epochs=10, lr=0.01, about="the book's AlexNet on images resized to 224×224"),
    native=Form("native", lambda: AlexNet(ALEXNET_SPECS["native"]), input_size=28,
                **native_recipe(10, 0.05),
                about="AlexNet's design adapted to 28×28 images"),
    book_recipe=lambda: AlexNet(ALEXNET_SPECS["native"]),
    book_result=BookResult(train_loss=0.333, train_acc=0.878, test_acc=0.891,
                           examples_per_sec=3_898,
                           notebook="chapter_convolutional-modern/alexnet.ipynb"))


__all__ = ['ALEXNET_SPECS', 'AlexNet', 'ALEXNET']
