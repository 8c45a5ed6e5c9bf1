"""Finding one's way in a Gluon network: the tree of blocks, its layers, and what they compute.

One walker, :func:`walk`, visits the block tree; everything else here (and :mod:`summary`,
:mod:`figures`) uses it. Blocks are named by their *path* in the tree, the names
:func:`d2lcnn.tools.summary.summary` prints in its ``layer`` column: ``"features.0"`` is child ``0``
of the net's ``features`` child, ``"features.4.0.conv1"`` goes deeper.

- :func:`walk`, :func:`layer_paths`, :func:`get_layer`, :func:`is_layer` — the tree;
- :func:`geometry_of` — kernel, stride, padding and dilation of a convolution or pooling layer;
- :func:`feature_maps` (特征图), :func:`first_conv`, :func:`batch_norm_parameters` — what a
  trained network computes and learned.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as onp
from mxnet import gluon, np
from mxnet.gluon import nn

__all__ = [
    "BatchNormParams", "Geometry", "batch_norm_parameters", "feature_maps", "first_conv",
    "first_device",
    "geometry_of", "get_layer", "imperative", "is_layer", "layer_paths", "walk",
]


def is_layer(block: gluon.Block) -> bool:
    """A layer is a block without children, or whose only child is its activation (``Conv2D``
    and ``Dense`` keep ``activation=...`` as a child block)."""
    return all(child is getattr(block, "act", None) for child in block._children.values())


def walk(net: gluon.Block, into_layers: bool = False) -> Iterator[tuple[str, gluon.Block, int]]:
    """``(path, block, depth)`` for ``net`` (path "", depth 0) and every block below it, depth
    first in declaration order. Layers' own children (a ``Conv2D``'s activation) are skipped
    unless ``into_layers``."""
    stack = [("", net, 0)]
    while stack:
        path, block, depth = stack.pop()
        yield path, block, depth
        if is_layer(block) and not into_layers:
            continue
        for key, child in reversed(list(block._children.items())):
            stack.append((f"{path}.{key}" if path else key, child, depth + 1))


def layer_paths(net: gluon.Block) -> list[str]:
    """Paths of every block inside ``net`` (containers and layers), in declaration order."""
    return [path for path, _, depth in walk(net) if depth > 0]


def get_layer(net: gluon.Block, path: str) -> gluon.Block:
    """The block at ``path`` (e.g. ``"features.0"``) inside ``net``.

    Raises KeyError naming the missing part and listing the paths that exist.
    """
    block = net
    for i, key in enumerate(path.split(".")):
        if key not in block._children:
            so_far = ".".join(path.split(".")[:i]) or type(net).__name__
            choices = ", ".join(repr(p) for p in layer_paths(net)[:40])
            raise KeyError(f"{so_far} has no child {key!r} (path {path!r}); the paths inside "
                           f"{type(net).__name__} are: {choices}")
        block = block._children[key]
    return block


class Geometry(NamedTuple):
    """Kernel size, stride, padding (per side) and dilation of a layer along the height axis."""

    kernel: int
    stride: int
    padding: int
    dilation: int

    @property
    def effective_kernel(self) -> int:
        """Input pixels the (dilated) kernel spans: d · (k − 1) + 1."""
        return self.dilation * (self.kernel - 1) + 1


def _first(value) -> int:
    return int(value[0]) if isinstance(value, tuple | list) else int(value)


def geometry_of(block: gluon.Block) -> Geometry | None:
    """The :class:`Geometry` of a Gluon convolution or (non-global) pooling layer, else None."""
    if isinstance(block, nn.conv_layers._Conv):
        kw = block._kwargs
        return Geometry(_first(kw["kernel"]), _first(kw["stride"]), _first(kw["pad"]),
                        _first(kw["dilate"]))
    if isinstance(block, nn.conv_layers._Pooling) and not block._kwargs.get("global_pool"):
        kw = block._kwargs
        return Geometry(_first(kw["kernel"]), _first(kw["stride"]), _first(kw["pad"]), 1)
    return None


def first_device(net: gluon.Block):
    """The device of the network's first parameter (None for a network without parameters).

    A parameter whose shape is still unknown (deferred initialisation) already has its device.
    Raises ValueError, saying how to fix it, when no parameter has been initialised at all: the
    network cannot run anywhere yet.
    """
    params = list(net.collect_params().values())
    for param in params:
        try:
            return param.list_ctx()[0]
        except RuntimeError:  # this parameter was never initialised
            continue
    if params:
        raise ValueError(f"{type(net).__name__} {net.name!r} has not been initialised: call "
                         f"net.initialize() (e.g. net.initialize(init.Xavier(), ctx=device)) "
                         f"before evaluating or predicting with it")
    return None


@contextmanager
def imperative(net: gluon.Block):
    """Run ``net`` un-hybridized inside the ``with`` block (forward hooks do not see inside a
    compiled graph), then hybridize it again with the same flags."""
    was_hybridized = getattr(net, "_active", False)
    flags = dict(getattr(net, "_flags", []))
    if was_hybridized:
        net.hybridize(False)
    try:
        yield net
    finally:
        if was_hybridized:
            net.hybridize(True, **flags)


def feature_maps(net: gluon.Block, X, layer: str | gluon.Block):
    """The output of ``layer`` when ``net`` runs on ``X``.

    ``X``: a batch (batch, C, H, W), MXNet or NumPy, moved to the net's device. ``layer``: a path
    such as ``"features.0"`` (see :func:`layer_paths`) or the block itself. Returns the layer's
    output as an MXNet array, e.g. (batch, channels, H', W') for a convolution. Runs in predict
    mode (batch norm uses its moving statistics, dropout is off).
    """
    block = get_layer(net, layer) if isinstance(layer, str) else layer
    if not any(child is block for _, child, _ in walk(net, into_layers=True)):
        raise ValueError(f"{type(block).__name__} {block.name!r} is not a layer of this net")
    device = first_device(net)
    if not hasattr(X, "as_in_ctx"):
        X = np.array(onp.asarray(X, dtype="float32"))
    if device is not None:
        X = X.as_in_ctx(device)
    captured = []

    def hook(_block, _inputs, output) -> None:
        captured.append(output[0] if isinstance(output, tuple | list) else output)

    with imperative(net):
        handle = block.register_forward_hook(hook)
        try:
            net(X)
        finally:
            handle.detach()
    if not captured:
        raise RuntimeError(f"layer {block.name!r} was not called when the net ran on X")
    return captured[0]


def first_conv(net: gluon.Block) -> nn.Conv2D:
    """The first 2-D convolution declared in ``net`` (its weight: (c_out, c_in, k_h, k_w))."""
    for _, block, _ in walk(net):
        if isinstance(block, nn.Conv2D):
            return block
    raise ValueError(f"{type(net).__name__} has no Conv2D layer")


class BatchNormParams(NamedTuple):
    """Learned scale γ and shift β of one batch-norm layer, as NumPy vectors (one per channel or
    feature), and the layer's path."""

    path: str
    gamma: onp.ndarray
    beta: onp.ndarray


def batch_norm_parameters(net: gluon.Block) -> list[BatchNormParams]:
    """γ and β of every batch-norm layer in ``net``, in declaration order.

    A layer counts as batch norm when it holds parameters named ``gamma`` and ``beta`` as
    attributes: Gluon's ``nn.BatchNorm`` and the from-scratch one of chapter 13 alike.
    """
    found = []
    for path, block, _ in walk(net):
        gamma, beta = getattr(block, "gamma", None), getattr(block, "beta", None)
        if isinstance(gamma, gluon.Parameter) and isinstance(beta, gluon.Parameter):
            found.append(BatchNormParams(path, gamma.data().asnumpy().ravel(),
                                         beta.data().asnumpy().ravel()))
    return found
