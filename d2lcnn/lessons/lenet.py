"""Lesson code of notebooks/08_lenet.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

from mxnet.gluon import nn

from d2lcnn.tools.networks import BookResult, Form, Network


class LeNet(nn.HybridBlock):
    """LeNet (LeCun et al., 1998, "Gradient-based learning applied to document recognition"), as
    d2l teaches it: two convolution blocks (5×5, 6 then 16 channels, each followed by 2×2 pooling
    with stride 2), then dense layers of 120, 84 and num_classes units.

    Input (batch, in_channels, 28, 28); output (batch, num_classes) class scores. With one input
    channel and 10 classes: 61,706 parameters. activation: of every hidden layer ("sigmoid" as in
    1998, or "relu"); pool: the pooling layer (nn.AvgPool2D as in the book, or nn.MaxPool2D).
    """

    def __init__(self, num_classes=10, in_channels=1, activation="sigmoid", pool=nn.AvgPool2D,
                 **kwargs):
        super().__init__(**kwargs)
        self.features = nn.HybridSequential()
        self.features.add(
            nn.Conv2D(6, kernel_size=5, padding=2, in_channels=in_channels, activation=activation),
            pool(pool_size=2, strides=2),
            nn.Conv2D(16, kernel_size=5, in_channels=6, activation=activation),
            pool(pool_size=2, strides=2),
            nn.Dense(120, activation=activation),  # Dense flattens (batch, 16, 5, 5) itself
            nn.Dense(84, in_units=120, activation=activation))
        self.output = nn.Dense(num_classes, in_units=84)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


LENET = Network(
    key="lenet", title="LeNet", chapter="08",
    book=Form("book", LeNet, input_size=28, batch_size=256, num_epochs=10, lr=0.9,
              about="d2l's LeNet: sigmoid activations and average pooling, as in 1998"),
    book_result=BookResult(train_loss=0.473, train_acc=0.823, test_acc=0.827,
                           examples_per_sec=35_726,
                           notebook="chapter_convolutional-neural-networks/lenet.ipynb"))


__all__ = ['LeNet', 'LENET']
