"""Lesson code of notebooks/14_resnet.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

from mxnet.gluon import nn

from d2lcnn.tools.networks import BookResult, Form, Network

from .training import native_recipe


class Residual(nn.HybridBlock):
    """ResNet's residual block (残差块; He, Zhang, Ren and Sun, 2016, "Deep residual learning for
    image recognition"): two 3×3 convolutions with num_channels outputs, each followed by batch
    norm, ReLU after the first; the input is added to the result and a ReLU applied:
    relu(bn2(conv2(relu(bn1(conv1(X))))) + X).

    strides=2 halves height and width in the first convolution. Where the shapes of input and
    output differ (other channels, or stride 2), use_1x1conv=True puts a 1×1 convolution with the
    same channels and stride (conv3) on the shortcut so that the sum is defined; otherwise conv3
    is None and the input is added as it is. (batch, in_channels, H, W) ->
    (batch, num_channels, H / strides, W / strides).
    """

    def __init__(self, num_channels, use_1x1conv=False, strides=1, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = nn.Conv2D(num_channels, kernel_size=3, padding=1, strides=strides,
                               in_channels=in_channels)
        self.conv2 = nn.Conv2D(num_channels, kernel_size=3, padding=1, in_channels=num_channels)
        if use_1x1conv:
            self.conv3 = nn.Conv2D(num_channels, kernel_size=1, strides=strides,
                                   in_channels=in_channels)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm(in_channels=num_channels)
        self.bn2 = nn.BatchNorm(in_channels=num_channels)

    def hybrid_forward(self, F, X):
        Y = F.npx.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.npx.relu(Y + X)


def resnet_block(num_channels, num_residuals, first_block=False, in_channels=0):
    """A ResNet stage (模块) of num_residuals Residual blocks with num_channels channels. Unless
    it is the first stage (which follows a max pooling), its first block halves height and width
    and changes the channels, with a 1×1 convolution on the shortcut."""
    stage = nn.HybridSequential()
    for i in range(num_residuals):
        if i == 0 and not first_block:
            stage.add(Residual(num_channels, use_1x1conv=True, strides=2,
                               in_channels=in_channels))
        else:
            stage.add(Residual(num_channels, in_channels=in_channels))
        in_channels = num_channels
    return stage


RESNET_SPECS = {
    # stem: (channels, kernel, stride, padding) of its convolution, followed by batch norm, ReLU
    # and max pooling (window, stride, padding); stages: (channels, residual blocks) each
    "book": {"stem": (64, 7, 2, 3), "pool": (3, 2, 1),
             "stages": [(64, 2), (128, 2), (256, 2), (512, 2)]},
    "native": {"stem": (16, 3, 1, 1), "pool": (3, 2, 1),
               "stages": [(16, 2), (32, 2), (64, 2), (128, 2)]},
}


class ResNet(nn.HybridBlock):
    """ResNet (He, Zhang, Ren and Sun, 2016, "Deep residual learning for image recognition"), in
    d2l's form, built from a spec of RESNET_SPECS: the stem (a convolution, batch norm, ReLU, max
    pooling), one resnet_block per stage, global average pooling, and the output layer. Both
    specs give ResNet-18: 1 + 4 · 2 · 2 + 1 = 18 layers with weights.

    Input (batch, in_channels, 96, 96) for the "book" spec (224×224 works too), (batch,
    in_channels, 28, 28) for the "native" one; output (batch, num_classes) scores.
    """

    def __init__(self, spec, num_classes=10, in_channels=1, **kwargs):
        super().__init__(**kwargs)
        channels, kernel, stride, padding = spec["stem"]
        self.features = nn.HybridSequential()
        self.features.add(nn.Conv2D(channels, kernel, stride, padding, in_channels=in_channels),
                          nn.BatchNorm(in_channels=channels), nn.Activation("relu"),
                          nn.MaxPool2D(*spec["pool"]))
        for i, (out, residuals) in enumerate(spec["stages"]):
            self.features.add(resnet_block(out, residuals, first_block=i == 0,
                                           in_channels=channels))
            channels = out
        self.features.add(nn.GlobalAvgPool2D())
        self.output = nn.Dense(num_classes, in_units=channels)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


RESNET18 = Network(
    key="resnet18", title="ResNet-18", chapter="14",
    book=Form("book", lambda: ResNet(RESNET_SPECS["book"]), input_size=96, batch_size=256,
              num_epochs=10, lr=0.05, about="the book's ResNet-18 on images resized to 96×96"),
    native=Form("native", lambda: ResNet(RESNET_SPECS["native"]), input_size=28,
                **native_recipe(13, 0.1),
                about="ResNet-18's design adapted to 28×28 images"),
    book_recipe=lambda: ResNet(RESNET_SPECS["native"]),
    book_result=BookResult(train_loss=0.013, train_acc=0.996, test_acc=0.924,
                           examples_per_sec=4_565,
                           notebook="chapter_convolutional-modern/resnet.ipynb"))


__all__ = ['Residual', 'resnet_block', 'RESNET_SPECS', 'ResNet', 'RESNET18']
