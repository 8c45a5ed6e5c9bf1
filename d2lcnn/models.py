"""The networks of the series as Gluon ``HybridBlock`` s, built like Gluon's own model zoo.

Each network keeps its architecture as data (a spec at module level), splits into ``features``
(everything up to the last hidden layer) and ``output`` (the classifier layer), and has a thin
constructor function. ``num_classes`` and ``in_channels`` are parameters throughout; giving
``in_channels`` lets the first layer's weights take their shape at once instead of at the first
forward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mxnet as mx
from mxnet import autograd, gluon, init, np
from mxnet.gluon import HybridBlock, nn

__all__ = [
    "LeNet", "AlexNet", "lenet", "alexnet", "alexnet_bn",
    "vgg_spec", "vgg_block", "VGG", "vgg", "vgg11", "vgg16", "vgg11_small",
    "nin_block", "NiN", "nin",
    "Inception", "GoogLeNet", "googlenet",
    "batch_norm", "BatchNorm", "BNLeNet", "bn_lenet",
    "Residual", "resnet_block", "ResNet", "resnet18",
    "conv_block", "DenseBlock", "transition_block", "DenseNet", "densenet",
    "Hyperparameters", "ModelEntry", "MODELS", "HYPERPARAMETERS",
]


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

    ``batch_norm=True`` puts batch norm (``nn.BatchNorm``) between each convolution and its ReLU,
    the AlexNet-with-batch-norm of the course notes (see :func:`alexnet_bn`).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, batch_norm: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            channels_in = in_channels
            for channels, kernel, stride, padding, pool in alexnet_spec["conv"]:
                self.features.add(nn.Conv2D(channels, kernel_size=kernel, strides=stride,
                                            padding=padding, in_channels=channels_in,
                                            activation=None if batch_norm else "relu"))
                if batch_norm:
                    self.features.add(nn.BatchNorm(in_channels=channels), nn.Activation("relu"))
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


def alexnet_bn(num_classes: int = 10, in_channels: int = 3, **kwargs) -> AlexNet:
    """AlexNet with batch norm after every convolution, for 227×227 RGB inputs, as in the course
    notes: with 10 classes it has 58,327,818 parameters, of which 2,752 are the moving means and
    variances of the batch norms (2 × (96 + 256 + 384 + 384 + 256)). At 227 the stride-4 11×11
    convolution fits exactly ((227 − 11)/4 + 1 = 55) and the last maps are 6×6."""
    net = AlexNet(num_classes=num_classes, in_channels=in_channels, batch_norm=True, **kwargs)
    net.display_name = "AlexNet-BN"
    return net


# ---------------------------------------------------------------------------------------------
# VGG
# ---------------------------------------------------------------------------------------------

#: VGG configurations (Simonyan and Zisserman, 2015, Table 1, columns A, B, D, E) in d2l's
#: ``conv_arch`` form: one (number of 3×3 convolutions, output channels) pair per block.
vgg_spec: dict[int, tuple[tuple[int, int], ...]] = {
    11: ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),
    13: ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512)),
    16: ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)),
    19: ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)),
}


def vgg_block(num_convs: int, num_channels: int, in_channels: int = 0) -> nn.HybridSequential:
    """VGG's block: ``num_convs`` 3×3 convolutions (padding 1, ReLU) with ``num_channels`` output
    channels, then 2×2 max pooling with stride 2. (batch, in_channels, H, W) ->
    (batch, num_channels, H/2, W/2); ``in_channels`` 0 means inferred at the first forward pass."""
    block = nn.HybridSequential(prefix="")
    for _ in range(num_convs):
        block.add(nn.Conv2D(num_channels, kernel_size=3, padding=1, in_channels=in_channels,
                            activation="relu"))
        in_channels = num_channels
    block.add(nn.MaxPool2D(pool_size=2, strides=2))
    return block


class VGG(HybridBlock):
    r"""VGG from `"Very Deep Convolutional Networks for Large-Scale Image Recognition"
    <https://arxiv.org/abs/1409.1556>`_ (Simonyan and Zisserman, 2015), as in d2l.

    ``conv_arch``: one (number of convolutions, channels) pair per :func:`vgg_block`, e.g.
    ``vgg_spec[11]``; then two dense layers of ``dense_units`` with ReLU and dropout 0.5, and the
    output layer. Five blocks halve 224×224 to 7×7. Input (batch, in_channels, 224, 224); output
    (batch, num_classes). VGG-16 on 3×224×224 with 1000 classes: 138,357,544 parameters.
    """

    def __init__(self, conv_arch, num_classes: int = 10, in_channels: int = 1,
                 dense_units: int = 4096, dropout: float = 0.5, **kwargs) -> None:
        super().__init__(**kwargs)
        conv_arch = tuple((int(n), int(c)) for n, c in conv_arch)
        if not conv_arch or any(n < 1 or c < 1 for n, c in conv_arch):
            raise ValueError(f"conv_arch must be (num_convs, channels) pairs of positive integers, "
                             f"e.g. vgg_spec[11]; got {conv_arch}")
        self.conv_arch = conv_arch
        self.display_name = f"VGG-{sum(n for n, _ in conv_arch) + 3}"
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            for num_convs, channels in conv_arch:
                self.features.add(vgg_block(num_convs, channels, in_channels))
                in_channels = channels
            for _ in range(2):
                self.features.add(nn.Dense(dense_units, activation="relu"), nn.Dropout(dropout))
            self.output = nn.Dense(num_classes, in_units=dense_units)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def vgg(conv_arch, ratio: int = 1, num_classes: int = 10, in_channels: int = 1,
        **kwargs) -> VGG:
    """VGG with the convolution channels of ``conv_arch`` divided by ``ratio`` (d2l trains
    VGG-11 with ratio 4 on Fashion-MNIST; the dense layers keep their 4096 units).

    ``conv_arch``: (num_convs, channels) pairs, or a depth from :data:`vgg_spec` (11, 13, 16, 19).
    """
    if isinstance(conv_arch, int):
        if conv_arch not in vgg_spec:
            raise ValueError(f"no VGG-{conv_arch} in vgg_spec; choose from {sorted(vgg_spec)} or "
                             "pass (num_convs, channels) pairs")
        conv_arch = vgg_spec[conv_arch]
    if not isinstance(ratio, int) or ratio < 1:
        raise ValueError(f"ratio must be a positive integer, got {ratio!r}")
    net = VGG([(n, c // ratio) for n, c in conv_arch], num_classes, in_channels, **kwargs)
    if ratio != 1:
        net.display_name += f", ratio {ratio}"
    return net


def vgg11(num_classes: int = 10, in_channels: int = 1, **kwargs) -> VGG:
    """VGG-11 (configuration A), full width; 224×224 inputs."""
    return vgg(vgg_spec[11], 1, num_classes, in_channels, **kwargs)


def vgg16(num_classes: int = 10, in_channels: int = 1, **kwargs) -> VGG:
    """VGG-16 (configuration D), full width; 224×224 inputs."""
    return vgg(vgg_spec[16], 1, num_classes, in_channels, **kwargs)


def vgg11_small(num_classes: int = 10, in_channels: int = 1, **kwargs) -> VGG:
    """VGG-11 with a quarter of the channels, the network d2l trains on Fashion-MNIST at 224."""
    return vgg(vgg_spec[11], 4, num_classes, in_channels, **kwargs)


# ---------------------------------------------------------------------------------------------
# NiN
# ---------------------------------------------------------------------------------------------

#: NiN's blocks: (channels, kernel, stride, padding) of each block's first convolution; the
#: three hidden ones are followed by 3×3 max pooling with stride 2, the last one makes the classes.
nin_spec = {
    "blocks": [(96, 11, 4, 0), (256, 5, 1, 2), (384, 3, 1, 1)],
    "classifier": (3, 1, 1),
    "dropout": 0.5,
}


def nin_block(num_channels: int, kernel_size: int, strides: int, padding: int,
              in_channels: int = 0) -> nn.HybridSequential:
    """NiN's block: a ``kernel_size`` convolution then two 1×1 convolutions (a small MLP applied
    at every pixel), all with ``num_channels`` outputs and ReLU."""
    block = nn.HybridSequential(prefix="")
    block.add(nn.Conv2D(num_channels, kernel_size, strides, padding, in_channels=in_channels,
                        activation="relu"),
              nn.Conv2D(num_channels, kernel_size=1, in_channels=num_channels, activation="relu"),
              nn.Conv2D(num_channels, kernel_size=1, in_channels=num_channels, activation="relu"))
    return block


class NiN(HybridBlock):
    r"""Network in Network from `"Network In Network" <https://arxiv.org/abs/1312.4400>`_
    (Lin, Chen and Yan, 2014), as in d2l.

    AlexNet's convolution sizes (11×11/4 96, 5×5 256, 3×3 384), each turned into a NiN block, with
    3×3 stride-2 max pooling between them; then dropout 0.5 and a last NiN block with
    ``num_classes`` channels whose maps global average pooling turns into the logits: no dense
    layer at all. Input (batch, in_channels, 224, 224); output (batch, num_classes).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            for channels, kernel, stride, padding in nin_spec["blocks"]:
                self.features.add(nin_block(channels, kernel, stride, padding, in_channels),
                                  nn.MaxPool2D(pool_size=3, strides=2))
                in_channels = channels
            self.features.add(nn.Dropout(nin_spec["dropout"]))
            self.output = nn.HybridSequential(prefix="")
            self.output.add(nin_block(num_classes, *nin_spec["classifier"], in_channels),
                            nn.GlobalAvgPool2D(), nn.Flatten())

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def nin(num_classes: int = 10, in_channels: int = 1, **kwargs) -> NiN:
    """NiN for 224×224 inputs; see :class:`NiN`."""
    return NiN(num_classes=num_classes, in_channels=in_channels, **kwargs)


# ---------------------------------------------------------------------------------------------
# GoogLeNet
# ---------------------------------------------------------------------------------------------


class Inception(HybridBlock):
    """GoogLeNet's Inception block: four parallel paths whose outputs are concatenated along the
    channel axis, so the block outputs ``c1 + c2[1] + c3[1] + c4`` channels at the input's height
    and width.

    1. 1×1 convolution, ``c1`` channels;
    2. 1×1 convolution to ``c2[0]`` channels, then 3×3 (padding 1) to ``c2[1]``;
    3. 1×1 convolution to ``c3[0]`` channels, then 5×5 (padding 2) to ``c3[1]``;
    4. 3×3 max pooling (stride 1, padding 1), then 1×1 convolution to ``c4``.

    Every convolution has a ReLU. The 1×1 convolutions before the 3×3 and 5×5 ones cut the
    channels (and so the cost) of the expensive paths.
    """

    def __init__(self, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int,
                 in_channels: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.out_channels = c1 + c2[1] + c3[1] + c4
        with self.name_scope():
            self.p1_1 = nn.Conv2D(c1, kernel_size=1, in_channels=in_channels, activation="relu")
            self.p2_1 = nn.Conv2D(c2[0], kernel_size=1, in_channels=in_channels,
                                  activation="relu")
            self.p2_2 = nn.Conv2D(c2[1], kernel_size=3, padding=1, in_channels=c2[0],
                                  activation="relu")
            self.p3_1 = nn.Conv2D(c3[0], kernel_size=1, in_channels=in_channels,
                                  activation="relu")
            self.p3_2 = nn.Conv2D(c3[1], kernel_size=5, padding=2, in_channels=c3[0],
                                  activation="relu")
            self.p4_1 = nn.MaxPool2D(pool_size=3, strides=1, padding=1)
            self.p4_2 = nn.Conv2D(c4, kernel_size=1, in_channels=in_channels, activation="relu")

    def hybrid_forward(self, F, x):
        p1 = self.p1_1(x)
        p2 = self.p2_2(self.p2_1(x))
        p3 = self.p3_2(self.p3_1(x))
        p4 = self.p4_2(self.p4_1(x))
        return F.np.concatenate((p1, p2, p3, p4), axis=1)


#: GoogLeNet's Inception stages 3, 4 and 5: (c1, c2, c3, c4) per block, as in the paper's Table 1
#: and d2l. Stages 3 and 4 end in 3×3 stride-2 max pooling, stage 5 in global average pooling.
googlenet_spec = {
    "b3": [(64, (96, 128), (16, 32), 32), (128, (128, 192), (32, 96), 64)],
    "b4": [(192, (96, 208), (16, 48), 64), (160, (112, 224), (24, 64), 64),
           (128, (128, 256), (24, 64), 64), (112, (144, 288), (32, 64), 64),
           (256, (160, 320), (32, 128), 128)],
    "b5": [(256, (160, 320), (32, 128), 128), (384, (192, 384), (48, 128), 128)],
}


class GoogLeNet(HybridBlock):
    r"""GoogLeNet from `"Going Deeper with Convolutions" <https://arxiv.org/abs/1409.4842>`_
    (Szegedy et al., 2015), in d2l's form (no auxiliary classifiers, no local response norm).

    Five stages: ``b1`` 7×7/2 convolution (64) and 3×3/2 max pooling; ``b2`` 1×1 (64) and 3×3
    (192) convolutions and max pooling; ``b3`` two Inception blocks (256 then 480 channels) and max
    pooling; ``b4`` five (512, 512, 512, 528, 832) and max pooling; ``b5`` two (832, 1024) and
    global average pooling; then the output layer. d2l trains it at 96×96 (3×3 maps before
    ``b5``'s pooling); ImageNet's 224×224 gives 7×7. Output (batch, num_classes).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            b1 = nn.HybridSequential(prefix="b1_")
            b1.add(nn.Conv2D(64, kernel_size=7, strides=2, padding=3, in_channels=in_channels,
                             activation="relu"),
                   nn.MaxPool2D(pool_size=3, strides=2, padding=1))
            b2 = nn.HybridSequential(prefix="b2_")
            b2.add(nn.Conv2D(64, kernel_size=1, in_channels=64, activation="relu"),
                   nn.Conv2D(192, kernel_size=3, padding=1, in_channels=64, activation="relu"),
                   nn.MaxPool2D(pool_size=3, strides=2, padding=1))
            self.features.add(b1, b2)
            channels = 192
            for stage in ("b3", "b4", "b5"):
                block = nn.HybridSequential(prefix=f"{stage}_")
                for c1, c2, c3, c4 in googlenet_spec[stage]:
                    inception = Inception(c1, c2, c3, c4, in_channels=channels)
                    block.add(inception)
                    channels = inception.out_channels
                block.add(nn.GlobalAvgPool2D() if stage == "b5"
                          else nn.MaxPool2D(pool_size=3, strides=2, padding=1))
                self.features.add(block)
            self.output = nn.Dense(num_classes, in_units=channels)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def googlenet(num_classes: int = 10, in_channels: int = 1, **kwargs) -> GoogLeNet:
    """GoogLeNet (d2l's version) for 96×96 inputs (any size that is a multiple of 32 works);
    see :class:`GoogLeNet`."""
    return GoogLeNet(num_classes=num_classes, in_channels=in_channels, **kwargs)


# ---------------------------------------------------------------------------------------------
# Batch normalization from scratch, and BN-LeNet
# ---------------------------------------------------------------------------------------------


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps: float = 1e-5,
               momentum: float = 0.9):
    """Batch normalization (批量规范化) of ``X`` as in d2l; returns ``(Y, moving_mean, moving_var)``.

    ``X``: (batch, features) after a dense layer, normalized per feature over the batch; or
    (batch, channels, H, W) after a convolution, normalized per channel over the batch and all
    positions. ``gamma``, ``beta``, ``moving_mean``, ``moving_var`` broadcast against ``X``
    ((1, features) or (1, channels, 1, 1)). In training mode (``autograd.is_training()``, i.e.
    inside ``autograd.record()``) the batch's mean and (biased) variance normalize ``X`` and the
    moving averages are updated, ``moving ← momentum · moving + (1 − momentum) · batch``; in
    prediction mode the moving averages normalize it and are returned unchanged.
    """
    if not autograd.is_training():
        X_hat = (X - moving_mean) / np.sqrt(moving_var + eps)
    else:
        if X.ndim not in (2, 4):
            raise ValueError(f"batch_norm expects (batch, features) or (batch, channels, H, W), "
                             f"got shape {X.shape}")
        axes = 0 if X.ndim == 2 else (0, 2, 3)
        mean = X.mean(axis=axes, keepdims=True)
        var = ((X - mean) ** 2).mean(axis=axes, keepdims=True)
        X_hat = (X - mean) / np.sqrt(var + eps)
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    return gamma * X_hat + beta, moving_mean, moving_var


class BatchNorm(HybridBlock):
    """Batch normalization from scratch, with the parameter layout of Gluon's ``nn.BatchNorm``.

    ``num_features``: features of a dense layer's output (``num_dims=2``) or channels of a
    convolution's (``num_dims=4``). Holds the scale ``gamma`` (starts at 1) and shift ``beta``
    (at 0), trained, and the moving averages ``moving_mean`` (at 0) and ``moving_var`` (at 1),
    stored with the model but not trained (``grad_req="null"``); all of shape (num_features,).
    :func:`batch_norm` does the computation. Same results as ``nn.BatchNorm(in_channels=
    num_features)`` (same ``eps`` and ``momentum``), except that the moving averages are updated
    in the forward pass rather than in the backward one.

    The layer runs imperatively only: it picks its mode with ``autograd.is_training()`` and writes
    its moving averages from Python, neither of which a compiled (hybridized) graph can do. A net
    holding it must be hybridized around it (see :class:`BNLeNet`); compiling the layer itself
    raises an error that says so.
    """

    def __init__(self, num_features: int, num_dims: int, eps: float = 1e-5,
                 momentum: float = 0.9, **kwargs) -> None:
        super().__init__(**kwargs)
        if num_dims not in (2, 4):
            raise ValueError(f"num_dims must be 2 (after a dense layer) or 4 (after a "
                             f"convolution), got {num_dims}")
        if num_features < 1:
            raise ValueError(f"num_features must be given (the features or channels of the "
                             f"input), got {num_features}")
        self.num_features, self.num_dims = num_features, num_dims
        self.eps, self.momentum = eps, momentum
        shape = (num_features,)
        with self.name_scope():
            self.gamma = self.params.get("gamma", shape=shape, init=init.One())
            self.beta = self.params.get("beta", shape=shape, init=init.Zero())
            self.moving_mean = self.params.get("moving_mean", shape=shape, init=init.Zero(),
                                               grad_req="null", differentiable=False)
            self.moving_var = self.params.get("moving_var", shape=shape, init=init.One(),
                                              grad_req="null", differentiable=False)

    def hybrid_forward(self, F, x, gamma, beta, moving_mean, moving_var):
        if F is not mx.ndarray:
            raise RuntimeError(
                "the from-scratch BatchNorm cannot be hybridized: it chooses training or "
                "prediction mode and updates its moving averages in Python. Hybridize only the "
                "layers around it (as BNLeNet.hybridize does), or use nn.BatchNorm.")
        if x.ndim != self.num_dims or x.shape[1] != self.num_features:
            expected = "(batch, %d)" if self.num_dims == 2 else "(batch, %d, H, W)"
            raise ValueError(f"BatchNorm({self.num_features}, num_dims={self.num_dims}) expects "
                             f"input of shape {expected % self.num_features}, got {x.shape}")
        shape = (1, -1) if self.num_dims == 2 else (1, -1, 1, 1)
        y, new_mean, new_var = batch_norm(
            x, gamma.reshape(shape), beta.reshape(shape), moving_mean.reshape(shape),
            moving_var.reshape(shape), self.eps, self.momentum)
        if autograd.is_training():
            with autograd.pause():  # the moving averages are state, not part of the graph
                self.moving_mean.set_data(new_mean.reshape(-1).detach())
                self.moving_var.set_data(new_var.reshape(-1).detach())
        return y

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_features}, num_dims={self.num_dims})"


def _hybridize_around(block: gluon.Block, skip: type, active: bool, **kwargs) -> None:
    """Hybridize every block below ``block`` that holds no ``skip`` layer, each on its own;
    containers of a ``skip`` layer stay imperative, and so do the ``skip`` layers."""
    holds_skip = any(isinstance(b, skip) for b in _descendants(block)) or isinstance(block, skip)
    if not holds_skip:
        block.hybridize(active, **kwargs)
        return
    if isinstance(block, HybridBlock):
        block._active = False
        block._clear_cached_op()
    for child in block._children.values():
        _hybridize_around(child, skip, active, **kwargs)


def _descendants(block: gluon.Block):
    for child in block._children.values():
        yield child
        yield from _descendants(child)


#: BN-LeNet's layers: ("conv", channels, kernel), ("pool",), ("dense", units); batch norm and the
#: activation follow every convolution and hidden dense layer.
bn_lenet_spec = [("conv", 6, 5), ("pool",), ("conv", 16, 5), ("pool",), ("dense", 120),
                 ("dense", 84)]


class BNLeNet(HybridBlock):
    r"""LeNet with batch normalization, after `"Batch Normalization: Accelerating Deep Network
    Training by Reducing Internal Covariate Shift" <https://arxiv.org/abs/1502.03167>`_ (Ioffe and
    Szegedy, 2015), as in d2l.

    d2l's layers: 5×5 convolutions with 6 and 16 channels (no padding, so 28 → 24 → 12 → 8 → 4),
    2×2 average pooling with stride 2, dense layers of 120 and 84; each convolution and hidden
    dense layer is followed by batch norm and then the sigmoid. ``builtin=False`` uses the
    from-scratch :class:`BatchNorm`, ``builtin=True`` Gluon's ``nn.BatchNorm``. Input
    (batch, in_channels, 28, 28); output (batch, num_classes).

    :meth:`hybridize` compiles the whole net with ``nn.BatchNorm``; with the from-scratch layer it
    compiles each other layer on its own and leaves the batch norms imperative.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, builtin: bool = False,
                 activation: str = "sigmoid", image_size: int = 28, **kwargs) -> None:
        super().__init__(**kwargs)
        self.builtin = builtin
        self.display_name = "BN-LeNet (nn.BatchNorm)" if builtin else "BN-LeNet (from scratch)"
        # The from-scratch layer needs its input's size; so do the dense layers, so that no
        # shape has to be inferred from a symbolic pass (which that layer cannot take part in).
        channels, side = in_channels, image_size
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            for kind, *args in bn_lenet_spec:
                if kind == "conv":
                    out, kernel = args
                    side -= kernel - 1
                    self.features.add(nn.Conv2D(out, kernel_size=kernel, in_channels=channels))
                    channels, dims = out, 4
                elif kind == "pool":
                    side //= 2
                    self.features.add(nn.AvgPool2D(pool_size=2, strides=2))
                    continue
                else:
                    (out,) = args
                    self.features.add(nn.Dense(out, in_units=channels * side * side))
                    channels, side, dims = out, 1, 2
                self.features.add(nn.BatchNorm(in_channels=channels) if builtin
                                  else BatchNorm(channels, num_dims=dims),
                                  nn.Activation(activation))
            self.output = nn.Dense(num_classes, in_units=channels)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))

    def hybridize(self, active: bool = True, **kwargs) -> None:
        if self.builtin:
            super().hybridize(active, **kwargs)
        else:
            _hybridize_around(self, BatchNorm, active, **kwargs)


def bn_lenet(num_classes: int = 10, in_channels: int = 1, builtin: bool = False,
             **kwargs) -> BNLeNet:
    """BN-LeNet for 28×28 inputs, with the from-scratch :class:`BatchNorm` (default) or, with
    ``builtin=True``, Gluon's ``nn.BatchNorm``; see :class:`BNLeNet`."""
    return BNLeNet(num_classes=num_classes, in_channels=in_channels, builtin=builtin, **kwargs)


# ---------------------------------------------------------------------------------------------
# ResNet
# ---------------------------------------------------------------------------------------------


class Residual(HybridBlock):
    """ResNet's residual block (残差块): two 3×3 convolutions with ``num_channels`` outputs, each
    followed by batch norm, ReLU after the first; the input is added to the result and a ReLU
    applied: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + x)``.

    With ``strides=2`` the first convolution halves height and width. When the shapes of input
    and output differ (other channels, or stride 2), ``use_1x1conv=True`` puts a 1×1 convolution
    with the same channels and stride (``conv3``) on the shortcut so that the sum is defined;
    otherwise ``conv3`` is None and the input is added as it is.
    """

    def __init__(self, num_channels: int, use_1x1conv: bool = False, strides: int = 1,
                 in_channels: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        with self.name_scope():
            self.conv1 = nn.Conv2D(num_channels, kernel_size=3, padding=1, strides=strides,
                                   in_channels=in_channels)
            self.conv2 = nn.Conv2D(num_channels, kernel_size=3, padding=1,
                                   in_channels=num_channels)
            self.conv3 = (nn.Conv2D(num_channels, kernel_size=1, strides=strides,
                                    in_channels=in_channels) if use_1x1conv else None)
            self.bn1 = nn.BatchNorm(in_channels=num_channels)
            self.bn2 = nn.BatchNorm(in_channels=num_channels)

    def hybrid_forward(self, F, x):
        y = F.npx.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.conv3 is not None:
            x = self.conv3(x)
        return F.npx.relu(y + x)


def resnet_block(num_channels: int, num_residuals: int, first_block: bool = False,
                 in_channels: int = 0) -> nn.HybridSequential:
    """A ResNet stage (模块) of ``num_residuals`` :class:`Residual` blocks with ``num_channels``
    channels. Unless it is the first stage (which follows a max pooling), its first block halves
    height and width and changes the channels, with a 1×1 convolution on the shortcut."""
    stage = nn.HybridSequential(prefix="")
    for i in range(num_residuals):
        if i == 0 and not first_block:
            stage.add(Residual(num_channels, use_1x1conv=True, strides=2,
                               in_channels=in_channels))
        else:
            stage.add(Residual(num_channels, in_channels=in_channels))
        in_channels = num_channels
    return stage


#: ResNet-18's stages: (channels, residual blocks) after the 7×7 stem.
resnet18_spec = [(64, 2), (128, 2), (256, 2), (512, 2)]


class ResNet(HybridBlock):
    r"""ResNet from `"Deep Residual Learning for Image Recognition"
    <https://arxiv.org/abs/1512.03385>`_ (He, Zhang, Ren and Sun, 2016), in d2l's form.

    Stem: 7×7 convolution with 64 channels and stride 2, batch norm, ReLU, 3×3 max pooling with
    stride 2 (a quarter of the input's side). Then one :func:`resnet_block` per (channels,
    blocks) of ``stages``, global average pooling and the output layer. With
    :data:`resnet18_spec`: 1 + 2·2·4 + 1 = 18 layers with weights. Output (batch, num_classes).
    """

    def __init__(self, stages=tuple(resnet18_spec), num_classes: int = 10, in_channels: int = 1,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            self.features.add(nn.Conv2D(64, kernel_size=7, strides=2, padding=3,
                                        in_channels=in_channels),
                              nn.BatchNorm(in_channels=64), nn.Activation("relu"),
                              nn.MaxPool2D(pool_size=3, strides=2, padding=1))
            channels = 64
            for i, (out, blocks) in enumerate(stages):
                self.features.add(resnet_block(out, blocks, first_block=i == 0,
                                               in_channels=channels))
                channels = out
            self.features.add(nn.GlobalAvgPool2D())
            self.output = nn.Dense(num_classes, in_units=channels)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def resnet18(num_classes: int = 10, in_channels: int = 1, **kwargs) -> ResNet:
    """ResNet-18 (d2l's version) for 96×96 inputs (224×224 works too); see :class:`ResNet`."""
    net = ResNet(resnet18_spec, num_classes=num_classes, in_channels=in_channels, **kwargs)
    net.display_name = "ResNet-18"
    return net


# ---------------------------------------------------------------------------------------------
# DenseNet
# ---------------------------------------------------------------------------------------------


def conv_block(num_channels: int, in_channels: int = 0) -> nn.HybridSequential:
    """DenseNet's convolution block, in ResNet's later "pre-activation" order: batch norm, ReLU,
    3×3 convolution (padding 1) with ``num_channels`` outputs."""
    block = nn.HybridSequential(prefix="")
    block.add(nn.BatchNorm(in_channels=in_channels), nn.Activation("relu"),
              nn.Conv2D(num_channels, kernel_size=3, padding=1, in_channels=in_channels))
    return block


class DenseBlock(HybridBlock):
    """DenseNet's dense block (稠密块): ``num_convs`` :func:`conv_block` s, each of which sees the
    *concatenation* of the block's input and every earlier block's output, along the channels.
    Each adds ``num_channels`` (the growth rate) channels: (batch, c, H, W) ->
    (batch, c + num_convs · num_channels, H, W)."""

    def __init__(self, num_convs: int, num_channels: int, in_channels: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.out_channels = in_channels + num_convs * num_channels if in_channels else 0
        with self.name_scope():
            self.net = nn.HybridSequential(prefix="")
            for i in range(num_convs):
                self.net.add(conv_block(num_channels,
                                        in_channels + i * num_channels if in_channels else 0))

    def hybrid_forward(self, F, x):
        for block in self.net:
            y = block(x)
            x = F.np.concatenate((x, y), axis=1)
        return x


def transition_block(num_channels: int, in_channels: int = 0) -> nn.HybridSequential:
    """DenseNet's transition layer (过渡层): batch norm, ReLU, a 1×1 convolution to
    ``num_channels`` channels (d2l halves them), 2×2 average pooling with stride 2 (halves height
    and width). Keeps the channels that dense blocks keep adding in check."""
    block = nn.HybridSequential(prefix="")
    block.add(nn.BatchNorm(in_channels=in_channels), nn.Activation("relu"),
              nn.Conv2D(num_channels, kernel_size=1, in_channels=in_channels),
              nn.AvgPool2D(pool_size=2, strides=2))
    return block


#: d2l's DenseNet: 64 stem channels, growth rate 32, four dense blocks of 4 convolutions.
densenet_spec = {"init_channels": 64, "growth_rate": 32, "num_convs": (4, 4, 4, 4)}


class DenseNet(HybridBlock):
    r"""DenseNet from `"Densely Connected Convolutional Networks"
    <https://arxiv.org/abs/1608.06993>`_ (Huang, Liu, van der Maaten and Weinberger, 2017), in
    d2l's small form.

    ResNet's stem (7×7/2 convolution with ``init_channels``, batch norm, ReLU, 3×3/2 max pooling);
    then :class:`DenseBlock` s of ``num_convs`` convolutions each adding ``growth_rate`` channels,
    with a :func:`transition_block` halving channels and side between them; then batch norm,
    ReLU, global average pooling and the output layer. With d2l's numbers the channels run
    64 → 192 → 96 → 224 → 112 → 240 → 120 → 248. Output (batch, num_classes).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, init_channels: int = 64,
                 growth_rate: int = 32, num_convs=(4, 4, 4, 4), **kwargs) -> None:
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            self.features.add(nn.Conv2D(init_channels, kernel_size=7, strides=2, padding=3,
                                        in_channels=in_channels),
                              nn.BatchNorm(in_channels=init_channels), nn.Activation("relu"),
                              nn.MaxPool2D(pool_size=3, strides=2, padding=1))
            channels = init_channels
            for i, convs in enumerate(num_convs):
                self.features.add(DenseBlock(convs, growth_rate, in_channels=channels))
                channels += convs * growth_rate
                if i != len(num_convs) - 1:
                    self.features.add(transition_block(channels // 2, in_channels=channels))
                    channels //= 2
            self.features.add(nn.BatchNorm(in_channels=channels), nn.Activation("relu"),
                              nn.GlobalAvgPool2D())
            self.output = nn.Dense(num_classes, in_units=channels)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def densenet(num_classes: int = 10, in_channels: int = 1, **kwargs) -> DenseNet:
    """d2l's DenseNet for 96×96 inputs; see :class:`DenseNet`."""
    return DenseNet(num_classes=num_classes, in_channels=in_channels, **kwargs)


# ---------------------------------------------------------------------------------------------
# The networks the chapters train, with the book's hyperparameters
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hyperparameters:
    """How the book trains a network on Fashion-MNIST: learning rate, epochs, batch size, and the
    side images are resized to (None: kept at 28)."""

    lr: float
    num_epochs: int
    batch_size: int
    resize: int | None = None


@dataclass(frozen=True)
class ModelEntry:
    """A network of the series: display title, chapter, constructor (defaults: 1 input channel,
    10 classes), input side it is trained at, and the book's hyperparameters."""

    key: str
    title: str
    chapter: str
    build: Callable[[], HybridBlock]
    hyperparameters: Hyperparameters

    @property
    def input_size(self) -> int:
        return self.hyperparameters.resize or 28

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """(1, 1, side, side): one Fashion-MNIST example at the training size."""
        return (1, 1, self.input_size, self.input_size)


def _bn_lenet_builtin() -> BNLeNet:
    return bn_lenet(builtin=True)


#: The networks the chapters train, by results key (``notebooks/results/<key>.json``), with the
#: hyperparameters of the book's MXNet notebooks (d2l-zh 2.0; see
#: ``shared/reference/d2l_published_results.md`` and :mod:`d2lcnn.published`): 10 epochs each.
MODELS: dict[str, ModelEntry] = {entry.key: entry for entry in [
    ModelEntry("lenet", "LeNet", "08", lenet, Hyperparameters(0.9, 10, 256)),
    ModelEntry("alexnet", "AlexNet", "09", alexnet, Hyperparameters(0.01, 10, 128, 224)),
    ModelEntry("vgg", "VGG-11, ratio 4", "10", vgg11_small, Hyperparameters(0.05, 10, 128, 224)),
    ModelEntry("nin", "NiN", "11", nin, Hyperparameters(0.1, 10, 128, 224)),
    ModelEntry("googlenet", "GoogLeNet", "12", googlenet, Hyperparameters(0.1, 10, 128, 96)),
    ModelEntry("bn_lenet", "BN-LeNet (from scratch)", "13", bn_lenet,
               Hyperparameters(1.0, 10, 256)),
    ModelEntry("bn_lenet_gluon", "BN-LeNet (nn.BatchNorm)", "13", _bn_lenet_builtin,
               Hyperparameters(1.0, 10, 256)),
    ModelEntry("resnet18", "ResNet-18", "14", resnet18, Hyperparameters(0.05, 10, 256, 96)),
    ModelEntry("densenet", "DenseNet", "15", densenet, Hyperparameters(0.1, 10, 256, 96)),
]}

#: The book's hyperparameters by results key (the same as ``MODELS[key].hyperparameters``).
HYPERPARAMETERS: dict[str, Hyperparameters] = {k: m.hyperparameters for k, m in MODELS.items()}
