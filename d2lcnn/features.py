"""What a trained network computes: feature maps (特征图) of a chosen layer, first-layer filters,
batch-norm scales and shifts — as arrays, ready for :mod:`d2lcnn.plot`.

Layers are named by their *path* in the block tree, the same names :func:`d2lcnn.summary.summary`
prints in its ``layer`` column: ``"features.0"`` is child ``0`` of the net's ``features`` child,
``"features.4.0.conv1"`` goes deeper. :func:`layer_paths` lists them all.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as onp
from mxnet import gluon, np
from mxnet.gluon import nn

__all__ = [
    "BatchNormParams",
    "batch_norm_parameters",
    "example_image",
    "feature_maps",
    "first_conv",
    "get_layer",
    "layer_paths",
]


def _walk(net: gluon.Block, prefix: str = "") -> Iterator[tuple[str, gluon.Block]]:
    """(path, block) for every block below ``net`` in declaration order, depth first."""
    for key, child in net._children.items():
        path = f"{prefix}.{key}" if prefix else key
        yield path, child
        yield from _walk(child, path)


def layer_paths(net: gluon.Block) -> list[str]:
    """Paths of every block inside ``net`` (containers and layers), in declaration order."""
    return [path for path, _ in _walk(net)]


def get_layer(net: gluon.Block, path: str) -> gluon.Block:
    """The block at ``path`` (e.g. ``"features.0"``) inside ``net``.

    Raises KeyError naming the missing part and listing the paths that exist.
    """
    block = net
    for i, key in enumerate(path.split(".")):
        if key not in block._children:
            so_far = ".".join(path.split(".")[:i]) or type(net).__name__
            choices = ", ".join(repr(p) for p in layer_paths(net)[:40])
            raise KeyError(
                f"{so_far} has no child {key!r} (path {path!r}); the paths inside "
                f"{type(net).__name__} are: {choices}"
            )
        block = block._children[key]
    return block


def _param_device(net: gluon.Block):
    for param in net.collect_params().values():
        try:
            return param.list_ctx()[0]
        except RuntimeError:  # deferred initialisation: no device yet
            continue
    return None


def feature_maps(net: gluon.Block, X, layer: str | gluon.Block):
    """The output of ``layer`` when ``net`` runs on ``X``.

    ``X``: a batch (batch, C, H, W), MXNet or NumPy, moved to the net's device. ``layer``: a path
    such as ``"features.0"`` (see :func:`layer_paths`) or the block itself. Returns the layer's
    output as an MXNet array, e.g. (batch, channels, H', W') for a convolution. Runs in predict
    mode (batch norm uses its moving statistics, dropout is off). A hybridized net is run
    imperatively for this one pass (a compiled graph does not call its layers' hooks) and
    hybridized again afterwards, with the same flags.
    """
    block = get_layer(net, layer) if isinstance(layer, str) else layer
    if not any(child is block for _, child in _walk(net)):
        raise ValueError(f"{type(block).__name__} {block.name!r} is not a layer of this net")
    device = _param_device(net)
    if not hasattr(X, "as_in_ctx"):
        X = np.array(onp.asarray(X, dtype="float32"))
    if device is not None:
        X = X.as_in_ctx(device)
    captured = []

    def hook(_block, _inputs, output) -> None:
        captured.append(output[0] if isinstance(output, tuple | list) else output)

    was_hybridized = getattr(net, "_active", False)
    flags = dict(getattr(net, "_flags", []))
    if was_hybridized:
        net.hybridize(False)
    handle = block.register_forward_hook(hook)
    try:
        net(X)
    finally:
        handle.detach()
        if was_hybridized:
            net.hybridize(True, **flags)
    if not captured:
        raise RuntimeError(f"layer {block.name!r} was not called when the net ran on X")
    return captured[0]


def first_conv(net: gluon.Block) -> nn.Conv2D:
    """The first 2-D convolution declared in ``net`` (its weight: (c_out, c_in, k_h, k_w))."""
    for _, block in _walk(net):
        if isinstance(block, nn.Conv2D):
            return block
    raise ValueError(f"{type(net).__name__} has no Conv2D layer")


class BatchNormParams:
    """Learned scale γ and shift β of one batch-norm layer, as NumPy vectors (one per channel or
    feature)."""

    def __init__(self, path: str, gamma: onp.ndarray, beta: onp.ndarray) -> None:
        self.path = path
        self.gamma = gamma
        self.beta = beta

    def __repr__(self) -> str:
        return f"BatchNormParams({self.path!r}, {len(self.gamma)} features)"


def batch_norm_parameters(net: gluon.Block) -> list[BatchNormParams]:
    """γ and β of every batch-norm layer in ``net``, in declaration order.

    A layer counts as batch norm when it holds parameters named ``gamma`` and ``beta`` as
    attributes — Gluon's ``nn.BatchNorm`` and the from-scratch ``d2lcnn.models.BatchNorm`` alike.
    """
    found = []
    for path, block in _walk(net):
        gamma, beta = getattr(block, "gamma", None), getattr(block, "beta", None)
        if isinstance(gamma, gluon.Parameter) and isinstance(beta, gluon.Parameter):
            found.append(BatchNormParams(path, gamma.data().asnumpy().ravel(),
                                         beta.data().asnumpy().ravel()))
    return found


def example_image(
    index: int = 0,
    dataset: str = "fashion-mnist",
    resize: int | None = None,
    root=None,
):
    """Test image ``index`` of ``dataset`` as a batch of one, and its label as text.

    Returns ``(X, label)``: X float32 in [0, 1] of shape (1, 1, H, W) (28×28, or ``resize``×
    ``resize`` by bilinear interpolation as the training loaders do), on the CPU. The same image
    in quick and full mode, since it is taken from the whole test set.
    """
    from . import data

    images, labels = data.load_arrays(dataset, "test", root)
    if not 0 <= index < len(images):
        raise IndexError(f"index {index} is outside the {len(images):,} test images of {dataset}")
    X = np.array(images[index : index + 1, None], dtype="float32") / 255
    if resize is not None:
        X = data.resize_batch(X, (resize, resize) if isinstance(resize, int) else tuple(resize))
    return X, data.text_labels([int(labels[index])], dataset)[0]
