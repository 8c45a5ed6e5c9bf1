"""Lesson code of notebooks/05_receptive_field_and_parameters.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

import math
from typing import NamedTuple

from d2lcnn.tools.blocks import Geometry, geometry_of, walk


def as_geometry(layer):
    """A layer's Geometry from (kernel, stride[, padding[, dilation]]), a kernel size alone, or a
    Geometry. Missing values default to stride 1, padding 0, dilation 1."""
    if isinstance(layer, Geometry):
        return layer
    if isinstance(layer, int):
        layer = (layer,)
    if not isinstance(layer, tuple | list) or not 1 <= len(layer) <= 4:
        raise TypeError("a layer must be a Geometry or (kernel, stride[, padding[, dilation]]), "
                        f"got {layer!r}")
    defaults = (1, 0, 1)[len(layer) - 1:]  # stride, padding, dilation not given
    geometry = Geometry(*(int(v) for v in (*layer, *defaults)))
    for name, minimum in (("kernel", 1), ("stride", 1), ("padding", 0), ("dilation", 1)):
        if getattr(geometry, name) < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {getattr(geometry, name)} "
                             f"(layer {layer!r})")
    return geometry


def receptive_field(layers):
    """Receptive field, in input pixels along one side, of one output of the chain ``layers``
    (from input to output; each as accepted by ``as_geometry``). The backward recursion:
    RF = 1 after the last layer, then RF_i = (RF_{i+1} − 1) · s_i + k_i going back, where a
    dilated kernel counts with its span d·(k − 1) + 1."""
    rf = 1
    for layer in reversed([as_geometry(layer) for layer in layers]):
        rf = (rf - 1) * layer.stride + layer.effective_kernel
    return rf


class FieldStep(NamedTuple):
    """After one layer: its geometry, the jump (input pixels between neighbouring outputs), the
    receptive field, and the centre of the first output's field (input pixel i spans [i, i + 1))."""

    layer: Geometry
    jump: int
    receptive_field: int
    start: float


def receptive_field_steps(layers):
    """The forward form: a FieldStep after each layer of ``layers`` (as for receptive_field).
    r ← r + (k − 1)·j, start ← start + ((k − 1)/2 − p)·j, then j ← j·s."""
    jump, rf, start = 1, 1, 0.5  # the centre of input pixel 0 sits at 0.5
    steps = []
    for layer in map(as_geometry, layers):
        rf += (layer.effective_kernel - 1) * jump
        start += ((layer.effective_kernel - 1) / 2 - layer.padding) * jump
        jump *= layer.stride
        steps.append(FieldStep(layer, jump, rf, start))
    return steps


def layers_from_net(net):
    """The Geometry of each convolution and pooling layer of a *chain* network, in the order
    they are declared (the order of computation for sequential networks such as LeNet, AlexNet and
    VGG). Dense layers and global pooling have no geometry and are skipped."""
    return [geometry for _, block, _ in walk(net) if (geometry := geometry_of(block)) is not None]


def num_params(block):
    """Number of values in all parameters of a Gluon block (trainable or not). Shapes must be
    known: give ``in_channels``/``in_units`` or run the block once."""
    return sum(math.prod(p.shape) for p in block.collect_params().values())


# Which S2 maps (0–5) each C3 map (0–15) of LeNet-5 reads, the paper's Table I: six maps read 3
# neighbouring maps, six read 4 neighbouring ones, three read 4 non-neighbouring ones, one all six.
C3_CONNECTIONS = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class LeNet5Layer(NamedTuple):
    """One layer of LeNet-5: its output (``maps`` × ``side`` × ``side``, or ``maps`` units when
    ``side`` is 0), its trained parameters, its fixed (hand-chosen) weights, and its connections."""

    name: str
    kind: str
    maps: int
    side: int
    params: int
    connections: int
    fixed: int = 0

    @property
    def output(self):
        """Output shape: maps×side×side, or the number of units."""
        return f"{self.maps}×{self.side}×{self.side}" if self.side else str(self.maps)


def lenet5_convolution(name, inputs_per_map, kernel, in_side):
    """A convolution layer whose output map i reads ``inputs_per_map[i]`` input maps: one k×k
    kernel per input map read, and one bias, per output map; connections = parameters × positions."""
    side = in_side - kernel + 1
    params = sum(n * kernel * kernel + 1 for n in inputs_per_map)
    return LeNet5Layer(name, f"convolution {kernel}×{kernel}", len(inputs_per_map), side, params,
                       params * side * side)


def lenet5_subsampling(name, maps, in_side, window=2):
    """Trainable subsampling: (sum of a window) × coefficient + bias, 2 parameters per map;
    window² + 1 connections per output value."""
    side = in_side // window
    return LeNet5Layer(name, f"subsampling {window}×{window}", maps, side, 2 * maps,
                       maps * side * side * (window * window + 1))


def lenet5_full(name, units, inputs):
    """A fully connected layer: ``inputs`` weights and one bias per unit, each used once."""
    params = units * (inputs + 1)
    return LeNet5Layer(name, "full", units, 0, params, params)


def lenet5_rbf(name, units, inputs):
    """Euclidean RBF units with fixed centres: no parameters, ``units`` × ``inputs`` fixed
    weights, one connection each."""
    return LeNet5Layer(name, "Euclidean RBF", units, 0, 0, units * inputs, fixed=units * inputs)


def lenet5_layer_table(c3="partial"):
    """LeNet-5's layers, for a 32×32 input. ``c3``: "partial" for the paper's Table I between S2
    and C3 (1,516 parameters, 151,600 connections), "full" for every C3 map reading all six S2
    maps (2,416 parameters, 241,600 connections)."""
    if c3 == "partial":
        c3_inputs = [len(maps) for maps in C3_CONNECTIONS]
    elif c3 == "full":
        c3_inputs = [6] * 16
    else:
        raise ValueError(f"c3 must be 'partial' (the paper's Table I) or 'full', not {c3!r}")
    c1 = lenet5_convolution("C1", [1] * 6, 5, 32)
    s2 = lenet5_subsampling("S2", 6, c1.side)
    c3_layer = lenet5_convolution("C3", c3_inputs, 5, s2.side)
    s4 = lenet5_subsampling("S4", 16, c3_layer.side)
    c5 = lenet5_convolution("C5", [16] * 120, 5, s4.side)
    f6 = lenet5_full("F6", 84, c5.maps * c5.side * c5.side)
    output = lenet5_rbf("output", 10, f6.maps)
    return [c1, s2, c3_layer, s4, c5, f6, output]


def lenet5_totals(c3="partial"):
    """(trained parameters, connections) of the whole LeNet-5."""
    layers = lenet5_layer_table(c3)
    return sum(layer.params for layer in layers), sum(layer.connections for layer in layers)


__all__ = ['as_geometry', 'receptive_field', 'FieldStep', 'receptive_field_steps', 'layers_from_net', 'num_params', 'C3_CONNECTIONS', 'LeNet5Layer', 'lenet5_convolution', 'lenet5_subsampling', 'lenet5_full', 'lenet5_rbf', 'lenet5_layer_table', 'lenet5_totals']
