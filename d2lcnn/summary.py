"""Per-layer tables of a network: output shape, parameters, multiply-adds, receptive field.

:func:`summary` runs one forward pass on an input of the given shape with hooks on every block,
so it follows the computation the network really does (branches and skip connections included),
not the order in which layers were declared.

Conventions: multiply-adds (MACs) are counted per example, for convolution and dense layers only
(a conv output value costs c_in/groups · k_h · k_w of them); parameters include non-trainable
ones such as batch norm's moving mean and variance (shown separately in the totals). The
receptive field is along the height axis, in input pixels; "all" means every input pixel (after a
dense layer or global pooling). Where branches meet (concatenation, addition) the widest field of
the joined tensors is taken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mxnet import gluon, np
from mxnet.gluon import nn

from .receptive_field import geometry_of

__all__ = ["LayerRow", "Summary", "summary"]


@dataclass
class LayerRow:
    """One row of a :class:`Summary`."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    receptive_field: int | None  # None: every input pixel

    @property
    def rf_text(self) -> str:
        return "all" if self.receptive_field is None else str(self.receptive_field)


@dataclass
class Summary:
    """A network's per-layer table with totals; ``print`` it to see it."""

    network: str
    input_shape: tuple[int, ...]
    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    output_shape: tuple[int, ...] = ()

    @property
    def total_macs(self) -> int:
        return sum(row.macs for row in self.rows)

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        header = ("layer", "type", "output shape", "params", "MACs", "RF")
        body = [(r.name, r.kind, "×".join(map(str, r.output_shape)), f"{r.params:,}",
                 f"{r.macs:,}", r.rf_text) for r in self.rows]
        widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h)
                  for i, h in enumerate(header)]
        align = ["<", "<", "<", ">", ">", ">"]

        def line(cells) -> str:
            return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, align, widths, strict=True))

        rule = "-" * len(line(header))
        lines = [f"{self.network}, input {'×'.join(map(str, self.input_shape))}", line(header),
                 rule, *map(line, body), rule]
        totals = f"total: {self.total_params:,} parameters"
        if self.non_trainable_params:
            totals += (f" ({self.trainable_params:,} trainable, {self.non_trainable_params:,} "
                       "moving statistics)")
        totals += f", {self.total_macs:,} multiply-adds per example"
        lines.append(totals)
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def _kind(block: gluon.Block) -> str:
    """A short description of a layer, e.g. ``Conv2D 5×5/1 p2, sigmoid``."""
    name = type(block).__name__
    geometry = geometry_of(block)
    if geometry is not None:
        k = block._kwargs["kernel"]
        text = f"{name} {'×'.join(map(str, k))}/{geometry.stride}"
        if geometry.padding:
            text += f" p{geometry.padding}"
        if geometry.dilation > 1:
            text += f" d{geometry.dilation}"
    elif isinstance(block, nn.conv_layers._Pooling):
        text = name  # global pooling
    elif isinstance(block, nn.Dropout):
        text = f"{name} {block._rate:g}"
    elif isinstance(block, nn.Activation):
        text = f"{name} {block._act_type}"
    else:
        text = name
    act = getattr(block, "act", None)
    if act is not None:
        text += f", {act._act_type}"
    return text


def _is_global_pooling(block: gluon.Block) -> bool:
    """Global pooling sees every input pixel whatever its input's field."""
    return isinstance(block, nn.conv_layers._Pooling) and bool(block._kwargs.get("global_pool"))


def _macs(block: gluon.Block, output) -> int:
    """Multiply-adds per example of a convolution or dense layer (0 for other layers)."""
    if isinstance(block, nn.conv_layers._Conv):
        weight = block.weight.shape  # (c_out, c_in / groups, k_h, k_w)
        return math.prod(output.shape[1:]) * math.prod(weight[1:])
    if isinstance(block, nn.Dense):
        return math.prod(block.weight.shape)
    return 0


def _num_params(block: gluon.Block) -> tuple[int, int]:
    """(all, trainable) parameter counts of a block and its children."""
    total = trainable = 0
    for param in block.collect_params().values():
        size = math.prod(param.shape)
        total += size
        if param.grad_req != "null":
            trainable += size
    return total, trainable


def _is_layer(block: gluon.Block) -> bool:
    """A layer is a block without children, or whose only child is its activation (Conv2D and
    Dense keep ``activation=...`` as a child block)."""
    return all(child is getattr(block, "act", None) for child in block._children.values())


def _named_blocks(net: gluon.Block):
    """(path, block, depth) for every block below ``net`` down to layers, paths like
    ``features.0``."""
    stack = [("", net, 0)]
    while stack:
        path, block, depth = stack.pop()
        yield path, block, depth
        if _is_layer(block):
            continue
        children = list(block._children.items())
        for key, child in reversed(children):
            stack.append((f"{path}.{key}" if path else key, child, depth + 1))


def summary(net: gluon.Block, input_shape: tuple[int, ...], depth: int | None = None) -> Summary:
    """Run ``net`` once on zeros of ``input_shape`` (batch, C, H, W) and tabulate every layer.

    ``depth``: None lists the leaf layers; an integer lists the blocks at that depth of the block
    tree (1 = the net's direct children), each aggregating the layers inside it. Parameters that
    are not initialised yet are initialised (default initializer, CPU) so the pass can run; the
    net is run un-hybridized (hooks do not see inside a hybridized graph) and restored afterwards.
    """
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (batch, channels, height, width), got {input_shape}")
    params = net.collect_params()
    if any(p._data is None and p._deferred_init == () for p in params.values()):
        net.initialize()
    ctx = next((p.list_ctx()[0] for p in params.values() if p._deferred_init == ()), None)
    was_hybridized = getattr(net, "_active", False)
    flags = dict(getattr(net, "_flags", []))
    if was_hybridized:
        net.hybridize(False)

    # Receptive field and jump of each tensor seen, by identity; tensors made between layers
    # (concatenation, addition, reshaping) are not seen, so they fall back to the widest field
    # among seen tensors of the same height and width.
    fields: dict[int, tuple[int | None, int, tuple]] = {}
    keep_alive: list = []
    records: dict[int, tuple[int, int | None, tuple]] = {}  # id(block) -> (macs, rf, shape)
    order: list[int] = []

    def field_of(x) -> tuple[int | None, int]:
        if id(x) in fields:
            rf, jump, _ = fields[id(x)]
            return rf, jump
        spatial = tuple(x.shape[2:]) if x.ndim == 4 else None
        same = [(rf, jump) for rf, jump, s in fields.values() if s == spatial and spatial]
        if not same:
            return (1, 1) if not fields else (None, 1)
        if any(rf is None for rf, _ in same):
            return None, 1
        return max(same)

    def remember(x, rf, jump) -> None:
        keep_alive.append(x)
        fields[id(x)] = (rf, jump, tuple(x.shape[2:]) if x.ndim == 4 else None)

    leaves = {id(block) for _, block, _ in _named_blocks(net) if _is_layer(block)}

    def hook(block, inputs, output) -> None:
        out = output[0] if isinstance(output, tuple | list) else output
        if id(block) in leaves:
            rf, jump = field_of(inputs[0])
            geometry = geometry_of(block)
            if out.ndim != 4 or _is_global_pooling(block):
                rf = None
            elif geometry is not None and rf is not None:
                rf += (geometry.effective_kernel - 1) * jump
                jump *= geometry.stride
            remember(out, rf, jump)
            records[id(block)] = (_macs(block, out), rf, tuple(out.shape))
        else:
            rf, jump = field_of(out)
            remember(out, rf, jump)
            macs = sum(records[id(b)][0] for _, b, _ in _named_blocks(block) if id(b) in leaves
                       and id(b) in records)
            records[id(block)] = (macs, rf, tuple(out.shape))
        order.append(id(block))

    x = np.zeros(input_shape, ctx=ctx) if ctx is not None else np.zeros(input_shape)
    net(x)  # completes deferred initialisation, which traces the net symbolically
    handles = [block.register_forward_hook(hook) for _, block, _ in _named_blocks(net)]
    try:
        remember(x, 1, 1)
        out = net(x)
    finally:
        for handle in handles:
            handle.detach()
        if was_hybridized:
            net.hybridize(True, **flags)

    total, trainable = _num_params(net)
    result = Summary(network=type(net).__name__, input_shape=tuple(input_shape),
                     total_params=total, trainable_params=trainable, output_shape=tuple(out.shape))
    position = {block_id: i for i, block_id in enumerate(order)}
    chosen = []
    for path, block, d in _named_blocks(net):
        if d == 0 or id(block) not in records:
            continue
        if (depth is None and id(block) in leaves) or (depth is not None and (
                d == depth or (d < depth and id(block) in leaves))):
            chosen.append((position[id(block)], path, block))
    for _, path, block in sorted(chosen, key=lambda item: item[0]):
        macs, rf, shape = records[id(block)]
        result.rows.append(LayerRow(path, _kind(block), shape, _num_params(block)[0], macs, rf))
    return result
