"""The original LeNet-5 (LeCun, Bottou, Bengio and Haffner, 1998) by the numbers: the parameters
and connections of each layer, computed from the architecture.

LeNet-5 takes a 32×32 image: C1 (6 maps, 5×5 convolution) → S2 (2×2 subsampling) → C3 (16 maps,
5×5) → S4 (2×2 subsampling) → C5 (120 maps, 5×5, which on a 5×5 input is a full connection) →
F6 (84 units) → output (10 Euclidean RBF units). Unlike d2l's LeNet:

- the subsampling layers are trainable: each map sums its 2×2 window, multiplies by one
  coefficient and adds one bias (2 parameters per map), before a sigmoid;
- C3 connects each of its maps to only some of S2's maps (the paper's Table I), to break symmetry
  and save parameters; ``c3="full"`` connects each to all six instead, as the study notes do;
- the output units compute squared distances to fixed 84-dimensional vectors (no bias).

A *connection* is one multiplication (or bias term) of the forward pass: a convolution's
connections are its parameters times the number of output positions that reuse them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LeNet5Layer", "C3_CONNECTIONS", "lenet5_layer_table", "lenet5_totals"]

#: Which S2 maps (0–5) each C3 map (0–15) reads, from Table I of the paper: six maps read 3
#: neighbouring maps, six read 4 neighbouring ones, three read 4 non-neighbouring ones, one all.
C3_CONNECTIONS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


@dataclass(frozen=True)
class LeNet5Layer:
    """One layer of LeNet-5: its output (maps × side × side, or units), parameters and
    connections."""

    name: str
    kind: str
    maps: int  # feature maps, or units of a vector layer
    side: int  # height = width of each output map; 0 for vector layers
    params: int
    connections: int

    @property
    def output(self) -> str:
        """Output shape: maps×side×side, or the number of units."""
        return f"{self.maps}×{self.side}×{self.side}" if self.side else str(self.maps)


def _convolution(name: str, inputs_per_map: list[int], kernel: int, in_side: int) -> LeNet5Layer:
    """Each output map has one k×k kernel per input map it reads, and one bias."""
    side = in_side - kernel + 1
    params = sum(n * kernel * kernel + 1 for n in inputs_per_map)
    return LeNet5Layer(name, f"convolution {kernel}×{kernel}", len(inputs_per_map), side, params,
                       params * side * side)


def _subsampling(name: str, maps: int, in_side: int, window: int = 2) -> LeNet5Layer:
    """Sum of a window × coefficient + bias: 2 parameters per map; window² + 1 connections per
    output value."""
    side = in_side // window
    return LeNet5Layer(name, f"subsampling {window}×{window}", maps, side, 2 * maps,
                       maps * side * side * (window * window + 1))


def _full(name: str, units: int, inputs: int, bias: bool = True, kind: str = "full") -> LeNet5Layer:
    params = units * (inputs + int(bias))
    return LeNet5Layer(name, kind, units, 0, params, params)


def lenet5_layer_table(c3: str = "partial") -> list[LeNet5Layer]:
    """LeNet-5's layers with their parameters and connections, for a 32×32 input.

    ``c3``: "partial" for the paper's connection table between S2 and C3 (1,516 parameters,
    151,600 connections: the paper's totals of 340,908 connections), "full" for every C3 map
    reading all six S2 maps (2,416 parameters, 241,600 connections).
    """
    if c3 == "partial":
        c3_inputs = [len(maps) for maps in C3_CONNECTIONS]
    elif c3 == "full":
        c3_inputs = [6] * 16
    else:
        raise ValueError(f"c3 must be 'partial' (the paper's Table I) or 'full', not {c3!r}")
    c1 = _convolution("C1", [1] * 6, 5, 32)
    s2 = _subsampling("S2", 6, c1.side)
    c3_layer = _convolution("C3", c3_inputs, 5, s2.side)
    s4 = _subsampling("S4", 16, c3_layer.side)
    c5 = _convolution("C5", [16] * 120, 5, s4.side)
    f6 = _full("F6", 84, c5.maps * c5.side * c5.side)
    output = _full("output", 10, f6.maps, bias=False, kind="Euclidean RBF")
    return [c1, s2, c3_layer, s4, c5, f6, output]


def lenet5_totals(c3: str = "partial") -> tuple[int, int]:
    """(parameters, connections) of the whole LeNet-5."""
    layers = lenet5_layer_table(c3)
    return sum(layer.params for layer in layers), sum(layer.connections for layer in layers)
