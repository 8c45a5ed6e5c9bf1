"""Per-layer tables of a network: output shape, parameters, multiply-adds, receptive field, memory.

:func:`summary` runs one forward pass on an input of the given shape with hooks on every block,
so it follows the computation the network really does (branches and skip connections included),
not the order in which layers were declared.

Conventions: multiply-adds (MACs) are counted per example, for convolution and dense layers only
(a conv output value costs c_in/groups · k_h · k_w of them); parameters include non-trainable
ones such as batch norm's moving mean and variance (shown separately in the totals). The
receptive field is along the height axis, in input pixels; "all" means every input pixel (after a
dense layer or global pooling). Where branches meet (concatenation, addition) the widest field of
the joined tensors is taken. Memory (``memory=True``) counts float32 values: a layer's output per
example (kept for the backward pass while training) against its parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mxnet import gluon, np
from mxnet.gluon import nn

from .blocks import geometry_of, imperative, is_layer, walk
from .tables import format_table

__all__ = ["LayerRow", "Summary", "side_by_side", "summary"]

BYTES_PER_VALUE = 4  # float32


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

    @property
    def activations(self) -> int:
        """Output values per example."""
        return math.prod(self.output_shape[1:])


@dataclass
class Summary:
    """A network's per-layer table with totals; ``print`` it to see it."""

    network: str
    input_shape: tuple[int, ...]
    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    output_shape: tuple[int, ...] = ()
    memory: bool = False

    @property
    def total_macs(self) -> int:
        return sum(row.macs for row in self.rows)

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def total_activations(self) -> int:
        """Output values of all listed layers, per example."""
        return sum(row.activations for row in self.rows)

    @property
    def receptive_field(self) -> int | None:
        """The widest receptive field of a spatial layer's output (the last before "all")."""
        fields = [r.receptive_field for r in self.rows if r.receptive_field is not None]
        return max(fields) if fields else None

    def __str__(self) -> str:
        header = ["layer", "type", "output shape", "params", "MACs", "RF"]
        rows = [[r.name, r.kind, "×".join(map(str, r.output_shape)), f"{r.params:,}",
                 f"{r.macs:,}", r.rf_text] for r in self.rows]
        align = "lllrrr"
        if self.memory:
            header += ["act. KiB", "param. KiB"]
            align += "rr"
            for cells, r in zip(rows, self.rows, strict=True):
                cells += [_kib(r.activations), _kib(r.params)]
        totals = f"total: {self.total_params:,} parameters"
        if self.non_trainable_params:
            totals += (f" ({self.trainable_params:,} trainable, {self.non_trainable_params:,} "
                       "moving statistics)")
        totals += f", {self.total_macs:,} multiply-adds per example"
        footer = [totals]
        if self.memory:
            footer.append(f"memory: {_mib(self.total_activations)} MiB of outputs per example "
                          f"(kept for the backward pass), {_mib(self.total_params)} MiB of "
                          "parameters (float32)")
        title = f"{self.network}, input {'×'.join(map(str, self.input_shape))}"
        return format_table(header, rows, align, title=title, footer=footer)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def _kib(values: int) -> str:
    return f"{values * BYTES_PER_VALUE / 1024:,.1f}"


def _mib(values: int) -> str:
    return f"{values * BYTES_PER_VALUE / 2**20:,.2f}"


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


class _FieldTracker:
    """Receptive field and jump of every tensor a forward pass produces, by identity.

    Tensors made between layers (concatenation, addition, reshaping) are not seen by hooks; they
    fall back to the widest field among seen tensors of the same height and width.
    """

    def __init__(self) -> None:
        self.fields: dict[int, tuple[int | None, int, tuple | None]] = {}
        self.keep_alive: list = []  # ids stay unique while the arrays live

    def field_of(self, x) -> tuple[int | None, int]:
        if id(x) in self.fields:
            rf, jump, _ = self.fields[id(x)]
            return rf, jump
        spatial = tuple(x.shape[2:]) if x.ndim == 4 else None
        same = [(rf, jump) for rf, jump, s in self.fields.values() if s == spatial and spatial]
        if not same:
            return (1, 1) if not self.fields else (None, 1)
        if any(rf is None for rf, _ in same):
            return None, 1
        return max(same)

    def remember(self, x, rf, jump) -> None:
        self.keep_alive.append(x)
        self.fields[id(x)] = (rf, jump, tuple(x.shape[2:]) if x.ndim == 4 else None)


def _initialized(net: gluon.Block):
    """Initialise what is not yet (default initializer, CPU); return the device of the parameters."""
    params = net.collect_params()
    if any(p._data is None and p._deferred_init == () for p in params.values()):
        net.initialize()
    return next((p.list_ctx()[0] for p in params.values() if p._deferred_init == ()), None)


def _trace(net: gluon.Block, x, blocks: list, leaves: set[int]):
    """Run ``net`` on ``x`` with a hook on every block of ``blocks``; return what each block
    produced, {id(block): (multiply-adds, receptive field or None, output shape)}, the blocks'
    ids in the order they finished, and the net's output. A block that is not a layer sums the
    multiply-adds of the layers inside it."""
    tracker = _FieldTracker()
    records: dict[int, tuple[int, int | None, tuple]] = {}
    order: list[int] = []
    inside = {id(block): [b for _, b, _ in walk(block) if id(b) in leaves] for _, block, _ in blocks}

    def hook(block, inputs, output) -> None:
        out = output[0] if isinstance(output, tuple | list) else output
        if id(block) in leaves:
            rf, jump = tracker.field_of(inputs[0])
            geometry = geometry_of(block)
            if out.ndim != 4 or _is_global_pooling(block):
                rf = None
            elif geometry is not None and rf is not None:
                rf += (geometry.effective_kernel - 1) * jump
                jump *= geometry.stride
            records[id(block)] = (_macs(block, out), rf, tuple(out.shape))
        else:
            rf, jump = tracker.field_of(out)
            macs = sum(records[id(b)][0] for b in inside[id(block)] if id(b) in records)
            records[id(block)] = (macs, rf, tuple(out.shape))
        tracker.remember(out, rf, jump)
        order.append(id(block))

    with imperative(net):
        net(x)  # completes deferred initialisation, which traces the net symbolically
        handles = [block.register_forward_hook(hook) for _, block, _ in blocks]
        try:
            tracker.remember(x, 1, 1)
            out = net(x)
        finally:
            for handle in handles:
                handle.detach()
    return records, order, out


def summary(net: gluon.Block, input_shape: tuple[int, ...], depth: int | None = None,
            title: str | None = None, memory: bool = False) -> Summary:
    """Run ``net`` once on zeros of ``input_shape`` (batch, C, H, W) and tabulate every layer.

    ``depth``: None lists the leaf layers; an integer lists the blocks at that depth of the block
    tree (1 = the net's direct children), each aggregating the layers inside it. ``title``: the
    name in the table's first line (default: the class name). ``memory``: add each layer's output
    and parameter memory. Parameters that are not initialised yet are initialised (default
    initializer, CPU) so the pass can run; a hybridized net is run imperatively and restored.
    """
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (batch, channels, height, width), got {input_shape}")
    device = _initialized(net)
    blocks = list(walk(net))
    leaves = {id(block) for _, block, _ in blocks if is_layer(block)}
    x = np.zeros(input_shape, ctx=device) if device is not None else np.zeros(input_shape)
    records, order, out = _trace(net, x, blocks, leaves)

    total, trainable = _num_params(net)
    result = Summary(network=title or type(net).__name__, input_shape=tuple(input_shape),
                     total_params=total, trainable_params=trainable,
                     output_shape=tuple(out.shape), memory=memory)
    position = {block_id: i for i, block_id in enumerate(order)}

    def listed(block, d: int) -> bool:
        if d == 0 or id(block) not in records:
            return False
        if depth is None:
            return id(block) in leaves
        return d == depth or (d < depth and id(block) in leaves)

    chosen = sorted((position[id(block)], path, block) for path, block, d in blocks
                    if listed(block, d))
    for _, path, block in chosen:
        macs, rf, shape = records[id(block)]
        result.rows.append(LayerRow(path, _kind(block), shape, _num_params(block)[0], macs, rf))
    return result


def side_by_side(summaries: dict[str, Summary]) -> str:
    """Totals of several summaries in one table, one column each: input, output of the last
    spatial layer, parameters, multiply-adds per example, widest receptive field, and output
    memory per example. For comparing two forms of one network, or several networks."""
    def last_spatial(s: Summary) -> str:
        # the last feature maps a layer computes with a window, before any global pooling
        shapes = [r.output_shape for r in s.rows if len(r.output_shape) == 4
                  and not r.kind.startswith(("GlobalAvgPool", "GlobalMaxPool"))]
        return "×".join(map(str, shapes[-1][1:])) if shapes else "–"

    names = list(summaries)
    rows = [
        ["input", *("×".join(map(str, s.input_shape[1:])) for s in summaries.values())],
        ["last feature maps", *(last_spatial(s) for s in summaries.values())],
        ["parameters", *(f"{s.total_params:,}" for s in summaries.values())],
        ["multiply-adds / example", *(f"{s.total_macs:,}" for s in summaries.values())],
        ["widest receptive field", *(str(s.receptive_field or "–") for s in summaries.values())],
        ["outputs / example (MiB)", *(_mib(s.total_activations) for s in summaries.values())],
    ]
    return format_table(["", *names], rows)
