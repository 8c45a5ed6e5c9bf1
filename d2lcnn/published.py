"""The d2l book's published results for its CNN chapters, as data.

Fashion-MNIST, 10 epochs, minibatch SGD with the book's ``train_ch6``; train loss and accuracy are
running means over the last epoch, test accuracy is measured after it, examples/s counts training
steps only. Transcribed from the executed notebooks of the Chinese edition 2.0 (*Dive into Deep
Learning*, d2l-zh release branch, snapshot of 2023-08-18): MXNet from GitHub ``d2l-ai/d2l-zh-colab``
(``mxnet-cu101==1.7.0``), PyTorch from ``d2l-ai/d2l-zh-pytorch-colab``; files
``chapter_convolutional-neural-networks/lenet.ipynb`` and
``chapter_convolutional-modern/{alexnet,vgg,nin,googlenet,batch-norm,resnet,densenet}.ipynb``.
The notebooks print only ``gpu(0)``; the same build's ``use-gpu.ipynb`` shows Tesla V100-SXM2 16 GB
cards, hence "V100" (inferred). The project's copy of the table, with these notes, is
``shared/reference/d2l_published_results.md``.

Keys are the result names used by the notebooks (``notebooks/results/<key>.json``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SOURCE", "PublishedResult", "MXNET", "PYTORCH", "published"]

SOURCE = (
    "d2l-zh 2.0 executed notebooks (snapshot 2023-08-18): MXNet d2l-ai/d2l-zh-colab "
    "(mxnet-cu101 1.7.0), PyTorch d2l-ai/d2l-zh-pytorch-colab; GPU printed as gpu(0), "
    "a Tesla V100 (inferred from the same build's use-gpu.ipynb)"
)
DEVICE = "V100 (inferred)"


@dataclass(frozen=True)
class PublishedResult:
    """One network's row of the book's results (10 epochs on Fashion-MNIST)."""

    network: str
    framework: str
    train_loss: float
    train_acc: float
    test_acc: float
    examples_per_sec: float
    lr: float | None = None
    batch_size: int | None = None
    resize: int | None = None
    num_epochs: int = 10
    device: str = DEVICE


def _mx(network, lr, batch, resize, loss, train, test, speed) -> PublishedResult:
    return PublishedResult(network, "MXNet", loss, train, test, speed, lr, batch, resize)


MXNET: dict[str, PublishedResult] = {
    "lenet": _mx("LeNet", 0.9, 256, None, 0.473, 0.823, 0.827, 35726),
    "alexnet": _mx("AlexNet", 0.01, 128, 224, 0.333, 0.878, 0.891, 3898),
    "vgg": _mx("VGG-11, ratio 4", 0.05, 128, 224, 0.176, 0.936, 0.923, 2463),
    "nin": _mx("NiN", 0.1, 128, 224, 0.370, 0.866, 0.877, 2898),
    "googlenet": _mx("GoogLeNet", 0.1, 128, 96, 0.256, 0.903, 0.907, 2344),
    "bn_lenet": _mx("BN-LeNet (from scratch)", 1.0, 256, None, 0.265, 0.903, 0.873, 12428),
    "bn_lenet_gluon": _mx("BN-LeNet (nn.BatchNorm)", 1.0, 256, None, 0.277, 0.897, 0.849, 35940),
    "resnet18": _mx("ResNet-18", 0.05, 256, 96, 0.013, 0.996, 0.924, 4565),
    "densenet": _mx("DenseNet", 0.1, 256, 96, 0.145, 0.946, 0.858, 5373),
}


def _pt(network, loss, train, test, speed) -> PublishedResult:
    mx = MXNET[network]
    return PublishedResult(mx.network, "PyTorch", loss, train, test, speed, mx.lr, mx.batch_size,
                           mx.resize)


PYTORCH: dict[str, PublishedResult] = {
    "lenet": _pt("lenet", 0.469, 0.823, 0.779, 55297),
    "alexnet": _pt("alexnet", 0.331, 0.878, 0.883, 3942),
    "vgg": _pt("vgg", 0.178, 0.935, 0.920, 2464),
    "nin": _pt("nin", 0.563, 0.786, 0.790, 3088),
    "googlenet": _pt("googlenet", 0.262, 0.900, 0.886, 3266),
    "bn_lenet": _pt("bn_lenet", 0.273, 0.899, 0.807, 32294),
    "bn_lenet_gluon": _pt("bn_lenet_gluon", 0.267, 0.902, 0.708, 50597),
    "resnet18": _pt("resnet18", 0.012, 0.997, 0.893, 5033),
    "densenet": _pt("densenet", 0.140, 0.948, 0.885, 5626),
}


def published(name: str, framework: str = "MXNet") -> PublishedResult | None:
    """The book's result for network ``name`` (a results key such as ``"resnet18"``), or None."""
    table = {"mxnet": MXNET, "pytorch": PYTORCH}.get(framework.lower())
    if table is None:
        raise ValueError(f"framework must be 'MXNet' or 'PyTorch', not {framework!r}")
    return table.get(name)
