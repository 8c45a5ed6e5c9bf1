"""Receptive fields (感受野): how many input pixels one output value can see.

Two equivalent ways to compute it for a chain of convolution and pooling layers, each given by its
kernel size k, stride s (and optionally padding p and dilation d):

- backward, from the last layer to the input: RF = 1 at the output, then
  RF_i = (RF_{i+1} − 1) · s_i + k_i for each layer i going backwards;
- forward, from the input: the *jump* j (input pixels between neighbouring outputs) and the
  receptive field r start at j = r = 1 and grow as r ← r + (k − 1) · j, then j ← j · s. The
  centre of the first output's field (*start*) moves by ((k − 1)/2 − p) · j.

A dilated kernel acts like one of size d · (k − 1) + 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["LayerGeometry", "FieldStep", "receptive_field", "receptive_field_steps", "geometry_of",
           "layers_from_net"]


@dataclass(frozen=True)
class LayerGeometry:
    """Kernel size, stride, padding and dilation of one layer along one spatial axis."""

    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        for attr in ("kernel", "stride", "dilation"):
            if getattr(self, attr) < 1:
                raise ValueError(f"{attr} must be at least 1, got {getattr(self, attr)} ({self})")
        if self.padding < 0:
            raise ValueError(f"padding must be at least 0, got {self.padding} ({self})")

    @property
    def effective_kernel(self) -> int:
        """Span of the (dilated) kernel in input pixels: d · (k − 1) + 1."""
        return self.dilation * (self.kernel - 1) + 1


@dataclass(frozen=True)
class FieldStep:
    """After one layer: jump (input pixels between outputs), receptive field, centre of the first."""

    layer: LayerGeometry
    jump: int
    receptive_field: int
    start: float


def _as_geometry(layer) -> LayerGeometry:
    if isinstance(layer, LayerGeometry):
        return layer
    if isinstance(layer, int):
        return LayerGeometry(layer)
    if isinstance(layer, Sequence) and 1 <= len(layer) <= 4:
        return LayerGeometry(*(int(v) for v in layer))
    raise TypeError(
        f"a layer must be a LayerGeometry or (kernel, stride[, padding[, dilation]]), got {layer!r}"
    )


def receptive_field(layers: Iterable) -> int:
    """Receptive field, in input pixels along one axis, of one output of the chain ``layers``.

    ``layers``: (kernel, stride) pairs (or (kernel, stride, padding, dilation), or
    :class:`LayerGeometry`) from input to output. Uses the backward recursion
    RF_i = (RF_{i+1} − 1) · s_i + k_i, with RF = 1 after the last layer.

    >>> receptive_field([(3, 1), (3, 1)])
    5
    """
    rf = 1
    for layer in reversed([_as_geometry(layer) for layer in layers]):
        rf = (rf - 1) * layer.stride + layer.effective_kernel
    return rf


def receptive_field_steps(layers: Iterable) -> list[FieldStep]:
    """The forward form: jump, receptive field and start after each layer of ``layers``."""
    jump, rf, start = 1, 1, 0.5  # the centre of input pixel 0 sits at 0.5
    steps = []
    for layer in map(_as_geometry, layers):
        rf += (layer.effective_kernel - 1) * jump
        start += ((layer.effective_kernel - 1) / 2 - layer.padding) * jump
        jump *= layer.stride
        steps.append(FieldStep(layer, jump, rf, start))
    return steps


def _first(value) -> int:
    return int(value[0]) if isinstance(value, Sequence) else int(value)


def geometry_of(block) -> LayerGeometry | None:
    """Geometry (along the height axis) of a Gluon convolution or pooling layer, else None.

    Global pooling has no fixed kernel and returns None too; so do dense layers.
    """
    from mxnet.gluon import nn

    name = getattr(block, "name", "")
    if isinstance(block, nn.conv_layers._Conv):
        kw = block._kwargs
        return LayerGeometry(_first(kw["kernel"]), _first(kw["stride"]), _first(kw["pad"]),
                             _first(kw["dilate"]), name)
    if isinstance(block, nn.conv_layers._Pooling) and not block._kwargs.get("global_pool"):
        kw = block._kwargs
        return LayerGeometry(_first(kw["kernel"]), _first(kw["stride"]), _first(kw["pad"]), 1, name)
    return None


def layers_from_net(net) -> list[LayerGeometry]:
    """Convolution and pooling layers of a *chain* network, in order, as :class:`LayerGeometry`.

    Walks the block tree depth-first in registration order, which is the order of computation for
    sequential networks (LeNet, AlexNet, VGG, NiN). For networks with parallel branches use
    :func:`d2lcnn.summary.summary`, which follows the real computation.
    """
    found = []

    def visit(block) -> None:
        geometry = geometry_of(block)
        if geometry is not None:
            found.append(geometry)
        for child in block._children.values():
            visit(child)

    visit(net)
    return found
