"""Architecture figures drawn from a network's own definition: change the network, and its
picture changes with it.

:func:`graph_of` traces a block and returns its dataflow as a :class:`Graph` (boxes and arrows,
no drawing); :func:`draw` lays that graph out and draws it with matplotlib. The graph comes from
what the block *computes*, not from the order in which its layers were declared, so the
concatenations and additions written in a ``hybrid_forward``/``forward`` (Inception's four paths,
ResNet's skip connection, DenseNet's growing concatenation) are boxes of their own.

How the dataflow is found:

- a ``HybridBlock`` (or a ``Sequential`` of them) is called on a symbol, ``mx.sym.var("data")``,
  and the resulting symbol graph is read (``tojson``); no parameters need to exist yet;
- any other block (d2l's ``nn.Block`` classes whose ``forward`` calls ``np``/``npx`` functions,
  the from-scratch batch norm of chapter 13) is run once on zeros of ``input_shape`` under
  ``autograd.record`` and the recorded graph is read (``autograd.get_symbol``); this needs
  ``input_shape`` and initialised parameters.

Parameters (weights, biases, batch norm's γ, β and moving statistics) are not boxes, and neither
is anything computed from parameters alone: only what depends on the input is drawn.

Whole networks, condensed: ``collapse`` names block classes (``collapse=Inception``,
``collapse=(Residual, "DenseBlock")``: classes or class names) whose every instance becomes *one*
box, labelled with the class name, the output channels of its convolutions (units of its dense
layers), one group per chain of layers between forks and joins, and its output shape:
``Inception`` / ``64, (96, 128), (16, 32), 32`` / ``256×12×12`` (its four paths, as its
constructor takes them), ``Residual`` / ``(128, 128), 128`` (two 3×3 convolutions and the 1×1
one of the shortcut), ``DenseBlock`` / ``32, 32, 32, 32``. Draw one block by itself for the
detail. Which operators belong to which block is read from their names: a Gluon block names the
operators it computes after its ``prefix`` (``conv3_fwd``, ``inception0_concatenate0``), so
collapsing needs a graph traced symbolically (hybrid blocks); a block inside a collapsed one is
part of its box.

Operators with their own labels (MXNet 1.9.1 names; NumPy-interface and legacy ones):

========================  ====================================================================
``Convolution``           ``Conv 3×3 /2, 64 ch, pad 1`` (``/2``: stride 2; ``Deconvolution``:
                          ``ConvT``)
``FullyConnected``        ``Dense 120``
``Pooling``               ``MaxPool 3×3 /2, pad 1``, ``AvgPool 2×2 /2``, ``GlobalAvgPool``
``BatchNorm`` …           ``BatchNorm`` (also ``LayerNorm``, ``InstanceNorm``, ``GroupNorm``,
                          ``LRN``)
``Activation`` …          ``ReLU``, ``Sigmoid``, ``Tanh`` …: ``Activation``, ``_npx_activation``,
                          ``_npx_relu``, ``_npx_sigmoid``, ``relu``, ``sigmoid``, ``tanh``,
                          ``_npi_tanh``, ``LeakyReLU`` (leaky, PReLU, ELU, SELU, GELU),
                          ``softmax``/``_npx_softmax``, ``log_softmax``/``_npx_log_softmax``
``Dropout``               ``Dropout 0.5`` (also ``_npx_dropout``)
``Flatten`` …             ``Flatten``; ``Reshape``, ``_npx_reshape``, ``_np_reshape``:
                          ``Reshape``
``_npi_concatenate``      ``Concat`` (also ``Concat``, ``concat``, ``_npi_stack``/``stack``)
``_npi_add`` …            ``+`` in a circle (also ``elemwise_add``, ``broadcast_add``,
                          ``broadcast_plus``, ``_plus``, ``_Plus``, ``add_n``,
                          ``ElementWiseSum``)
``_npi_multiply`` …       ``×`` in a circle (also ``elemwise_mul``, ``broadcast_mul``, ``_mul``)
a collapsed block         ``Inception`` over ``64, (96, 128), (16, 32), 32`` (see above)
========================  ====================================================================

Any other operator is drawn as a plain box named after it (``subtract``, ``multiply_scalar 2``).

Layout: the input on top (or on the left, ``direction="LR"``); each box one *rank* below the
longest path that reaches it; parallel branches side by side in *lanes*, in the order in which
the join that closes them takes them (Inception's four paths left to right); a connection that
jumps over boxes of its own lane (a skip connection) runs around them on the side. Sizes are in
inches at a 9-point font, so a figure is as large as its labels need.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache

import matplotlib.pyplot as plt
import mxnet as mx
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path
from matplotlib.textpath import text_to_path
from mxnet import autograd, gluon, npx

from .blocks import walk

__all__ = ["KINDS", "Collapse", "Graph", "Node", "draw", "graph_of"]

# --- what the operators are ---------------------------------------------------------------------

#: The kinds of box; folded boxes take the kind of their convolution or dense layer, collapsed
#: blocks (see :func:`graph_of`'s ``collapse``) are ``"block"``.
KINDS = ("input", "conv", "dense", "pool", "norm", "act", "dropout", "flatten", "concat", "add",
         "mul", "op", "block")

#: What ``collapse`` takes: a block class or a class name, or several of them.
Collapse = type | str | Iterable[type | str]

_CONV = {"Convolution", "Deconvolution"}
_DENSE = {"FullyConnected"}
_POOL = {"Pooling"}
_NORM = {"BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm", "LRN", "_npx_batch_norm",
         "_npx_layer_norm"}
_ACT = {"Activation", "_npx_activation", "_npx_relu", "_npx_sigmoid", "relu", "sigmoid", "tanh",
        "_npi_tanh", "softsign", "LeakyReLU", "_npx_leaky_relu", "softmax", "_npx_softmax",
        "log_softmax", "_npx_log_softmax", "SoftmaxActivation"}
_DROPOUT = {"Dropout", "_npx_dropout"}
_FLATTEN = {"Flatten", "flatten", "_npx_batch_flatten", "Reshape", "reshape", "_npx_reshape",
            "_np_reshape"}
_CONCAT = {"_npi_concatenate", "Concat", "concat", "_npi_stack", "stack"}
_ADD = {"_npi_add", "elemwise_add", "broadcast_add", "broadcast_plus", "_plus", "_Plus", "add_n",
        "ElementWiseSum", "_grad_add"}
_MUL = {"_npi_multiply", "elemwise_mul", "broadcast_mul", "_mul", "_Mul"}

#: Operators whose inputs after the first are parameters (weights, biases, γ, β, statistics).
_PARAMETRIC = _CONV | _DENSE | _NORM | {"LeakyReLU", "Embedding"}

_ACT_NAMES = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "softrelu": "SoftReLU",
              "softsign": "Softsign", "leaky": "LeakyReLU", "prelu": "PReLU", "rrelu": "RReLU",
              "elu": "ELU", "selu": "SELU", "gelu": "GELU", "log_sigmoid": "LogSigmoid",
              "mish": "Mish"}

_COLOURS = {"input": "#eeeeee", "conv": "#cfe2f3", "dense": "#d9d2e9", "pool": "#fce5cd",
            "norm": "#d9ead3", "act": "#fff2cc", "dropout": "#f4cccc", "flatten": "#eeeeee",
            "concat": "#ead1dc", "add": "#ffffff", "mul": "#ffffff", "op": "#ffffff",
            "block": "#d0e0e3"}


def _ints(text: str | None) -> tuple[int, ...]:
    """``"(3, 3)"`` -> ``(3, 3)``; ``"2"`` -> ``(2,)``; ``None``/``"None"``/``"()"`` -> ``()``."""
    if not text or text == "None":
        return ()
    return tuple(int(v) for v in text.strip("()[] ").split(",") if v.strip())


def _size(values: Sequence[int]) -> str:
    """``(3, 3)`` -> ``"3×3"``; ``(1, 7)`` -> ``"1×7"``."""
    return "×".join(str(v) for v in values)


def _stride(values: Sequence[int]) -> str:
    """`` /2`` for stride 2 (``/(2×1)`` when it differs between axes), ``""`` for stride 1."""
    if not values or all(v == 1 for v in values):
        return ""
    return f" /{values[0]}" if len(set(values)) == 1 else f" /({_size(values)})"


def _pad(values: Sequence[int]) -> list[str]:
    if not values or all(v == 0 for v in values):
        return []
    return [f"pad {values[0]}" if len(set(values)) == 1 else f"pad {_size(values)}"]


def _number(text: str) -> str:
    value = float(text)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _describe(op: str, attrs: dict[str, str]) -> tuple[str, str, str]:
    """``(kind, head, detail)`` of one operator: its kind (one of :data:`KINDS`), the first part
    of its label (``"Conv 3×3 /2"``) and the rest (``"64 ch, pad 1"``, may be empty)."""
    if op in _CONV:
        kernel, stride = _ints(attrs.get("kernel")), _ints(attrs.get("stride"))
        head = ("ConvT " if op == "Deconvolution" else "Conv ") + _size(kernel) + _stride(stride)
        detail = [f"{attrs.get('num_filter', '?')} ch", *_pad(_ints(attrs.get("pad")))]
        dilate = _ints(attrs.get("dilate"))
        if dilate and any(d > 1 for d in dilate):
            detail.append(f"dil {dilate[0]}" if len(set(dilate)) == 1 else f"dil {_size(dilate)}")
        if int(attrs.get("num_group", "1")) > 1:
            detail.append(f"groups {attrs['num_group']}")
        return "conv", head, ", ".join(detail)
    if op in _DENSE:
        return "dense", f"Dense {attrs.get('num_hidden', '?')}", ""
    if op in _POOL:
        kind = {"max": "Max", "avg": "Avg", "sum": "Sum", "lp": "Lp"}.get(
            attrs.get("pool_type", "max"), attrs.get("pool_type", "").title())
        if attrs.get("global_pool") == "True":
            return "pool", f"Global{kind}Pool", ""
        head = f"{kind}Pool {_size(_ints(attrs.get('kernel')))}{_stride(_ints(attrs.get('stride')))}"
        return "pool", head, ", ".join(_pad(_ints(attrs.get("pad"))))
    if op in _NORM:
        names = {"_npx_batch_norm": "BatchNorm", "_npx_layer_norm": "LayerNorm"}
        return "norm", names.get(op, op), ""
    if op in _ACT:
        return "act", _activation_name(op, attrs), ""
    if op in _DROPOUT:
        return "dropout", f"Dropout {_number(attrs.get('p', '0.5'))}", ""
    if op in _FLATTEN:
        return "flatten", ("Flatten" if "latten" in op else "Reshape"), ""
    if op in _CONCAT:
        return "concat", ("Stack" if "stack" in op else "Concat"), ""
    if op in _ADD:
        return "add", "+", ""
    if op in _MUL:
        return "mul", "×", ""
    name = op.removeprefix("_npi_").removeprefix("_npx_").removeprefix("_np_").strip("_")
    scalar = f" {_number(attrs['scalar'])}" if "scalar" in attrs else ""
    return "op", name + scalar, ""


def _activation_name(op: str, attrs: dict[str, str]) -> str:
    if op in ("softmax", "_npx_softmax", "SoftmaxActivation"):
        return "Softmax"
    if op in ("log_softmax", "_npx_log_softmax"):
        return "LogSoftmax"
    act = attrs.get("act_type") or op.removeprefix("_npx_").removeprefix("_npi_")
    name = _ACT_NAMES.get(act, act)
    if act == "leaky" and "slope" in attrs:
        name += f" {_number(attrs['slope'])}"
    return name


# --- the graph -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One box of an architecture figure.

    ``id``: its index in :attr:`Graph.nodes` (nodes are in an order in which every node comes
    after its inputs; the input is node 0). ``kind``: one of :data:`KINDS`. ``ops``: the MXNet
    operators it stands for, in the order they run (several when folded, e.g.
    ``("Convolution", "BatchNorm", "Activation")``). ``parts``: one ``(head, detail)`` label pair
    per operator, e.g. ``("Conv 3×3 /2", "64 ch, pad 1")``. ``shape``: the output shape without
    the batch axis, e.g. ``(64, 48, 48)``, when the graph was made with an input shape.
    ``name``: MXNet's name of the (first) operator (``"residual0_conv0_fwd"``; ``"node_3"`` for
    recorded graphs). A collapsed block (kind ``"block"``) has every operator of the block in
    ``ops``, one part (class name, key numbers), e.g. ``("Inception", "64, (96, 128), (16, 32),
    32")``, and the block's name (``"inception0"``).
    """

    id: int
    kind: str
    ops: tuple[str, ...]
    parts: tuple[tuple[str, str], ...]
    shape: tuple[int, ...] | None = None
    name: str = ""

    @property
    def lines(self) -> list[str]:
        """The label, one line per operator: ``["Conv 3×3, 64 ch, pad 1", "BatchNorm"]``
        (a collapsed block: ``["Inception 64, (96, 128), (16, 32), 32"]``)."""
        comma = " " if self.kind == "block" else ", "
        return [f"{head}{comma}{detail}" if detail else head for head, detail in self.parts]

    @property
    def label(self) -> str:
        """The label as one string, operators separated by `` → ``."""
        return " → ".join(self.lines)

    @property
    def shape_text(self) -> str:
        """The output shape as ``"64×48×48"``; ``""`` when unknown."""
        return _size(self.shape) if self.shape else ""


@dataclass
class Graph:
    """A network's dataflow: :class:`Node` s and the arrows between them.

    ``edges``: ``(source, target)`` node ids, grouped by target, in the order in which the target
    takes its inputs (a ``Concat``'s first input first). ``outputs``: ids of the nodes whose
    results the block returns. Node 0 is the input.
    """

    nodes: list[Node]
    edges: list[tuple[int, int]]
    outputs: list[int] = field(default_factory=list)

    def predecessors(self, node: int) -> list[int]:
        """Ids of the nodes whose outputs ``node`` takes, in the order it takes them."""
        return [s for s, t in self.edges if t == node]

    def successors(self, node: int) -> list[int]:
        """Ids of the nodes that take the output of ``node``, in node order."""
        return sorted({t for s, t in self.edges if s == node})

    def ancestors(self, node: int) -> set[int]:
        """Ids of every node ``node`` depends on (not itself)."""
        found, stack = set(), list(self.predecessors(node))
        while stack:
            n = stack.pop()
            if n not in found:
                found.add(n)
                stack.extend(self.predecessors(n))
        return found

    def find(self, kind: str) -> list[Node]:
        """The nodes of one kind (see :data:`KINDS`), in node order."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; the kinds are {', '.join(KINDS)}")
        return [n for n in self.nodes if n.kind == kind]

    def count(self, kind: str) -> int:
        """How many nodes are of ``kind``."""
        return len(self.find(kind))

    def __str__(self) -> str:
        rows = []
        for node in self.nodes:
            inputs = ", ".join(map(str, self.predecessors(node.id)))
            rows.append(f"{node.id:>3}  {node.label:<44}  {node.shape_text:>14}"
                        + (f"  <- {inputs}" if inputs else ""))
        return "\n".join(rows)


def graph_of(block: gluon.Block, input_shape: Sequence[int] | None = None, *,
             fold: bool = False, collapse: Collapse = ()) -> Graph:
    """The dataflow graph of ``block``, ready for :func:`draw` and easy to check in tests.

    ``input_shape``: the shape of one input batch, batch axis first, e.g. ``(1, 1, 28, 28)``;
    with it every node carries its output shape (batch axis dropped). A ``HybridBlock`` needs
    no shape and no initialised parameters; any other block needs both (it is run once on zeros,
    in prediction mode, without touching its parameters). ``fold=True`` merges each convolution
    or dense layer with the batch norm and activation right after it (and a batch norm + ReLU
    right before a convolution, DenseNet's order) into one node; a batch norm and activation
    left alone become one node too. ``collapse``: block classes (or class names) whose every
    instance becomes one node of kind ``"block"`` (see the module's docstring), before folding;
    it raises ValueError when ``block`` holds no block of a named class, or when a block's
    operators cannot be found (a graph recorded from a non-hybrid block).
    """
    shape = tuple(int(v) for v in input_shape) if input_shape is not None else None
    nodes, heads, data, shapes = _trace(block, shape)
    graph = _build(nodes, heads, data, shapes, shape)
    if collapse:
        graph = _collapse(graph, block, collapse)
    return _fold(graph) if fold else graph


def _trace(block: gluon.Block, shape: tuple[int, ...] | None):
    """``(json nodes, output entries, id of the input node, {output name: shape})``."""
    try:
        symbol, data_name = _trace_symbolically(block), "data"
    except Exception as symbolic_error:  # a forward written with np/npx functions, not F
        if shape is None:
            raise ValueError(
                f"{type(block).__name__} cannot be traced symbolically ({symbolic_error}); "
                "give input_shape so that it can be run once and its computation recorded"
            ) from symbolic_error
        symbol, data_name = _trace_by_recording(block, shape)
    graph = json.loads(symbol.tojson())
    nodes = graph["nodes"]
    data = [i for i, n in enumerate(nodes) if n["op"] == "null" and n["name"] == data_name]
    if not data:
        raise ValueError(f"the output of {type(block).__name__} does not depend on its input")
    shapes = {}
    if shape is not None:
        internals = symbol.get_internals()
        _, out_shapes, _ = internals.infer_shape_partial(**{data_name: shape})
        inputs = set(symbol.list_inputs())  # the input and the parameters
        for name, out_shape in zip(internals.list_outputs(), out_shapes or [], strict=False):
            # An operator's output is named after it: "conv0_fwd_output", "concatenate0_out" ...
            if name not in inputs and out_shape and 0 not in out_shape:
                shapes.setdefault(name.rsplit("_", 1)[0], tuple(out_shape))
    return nodes, graph["heads"], data[0], shapes


def _trace_symbolically(block: gluon.Block):
    data = mx.sym.var("data")
    out = block(data.as_np_ndarray() if npx.is_np_array() else data)
    if isinstance(out, list | tuple):
        out = mx.sym.Group([o.as_nd_ndarray() if hasattr(o, "as_nd_ndarray") else o for o in out])
    if not isinstance(out, mx.sym.Symbol):
        raise TypeError(f"calling the block on a symbol returned {type(out).__name__}")
    return out


@contextmanager
def _unhybridized(block: gluon.Block) -> Iterator[None]:
    """Every ``HybridBlock`` inside ``block`` runs imperatively (a compiled block would be
    recorded as one opaque operator); their hybridize flags come back afterwards."""
    was_active = [(b, b._active) for _, b, _ in walk(block, into_layers=True)
                  if isinstance(b, gluon.HybridBlock)]
    for b, active in was_active:
        if active:
            b._active = False
            b._clear_cached_op()
    try:
        yield
    finally:
        for b, active in was_active:
            b._active = active


def _trace_by_recording(block: gluon.Block, shape: tuple[int, ...]):
    """Run ``block`` once on zeros of ``shape`` under ``autograd.record`` and return the recorded
    graph with the input renamed ``"input_data"``."""
    zeros = mx.np.zeros if npx.is_np_array() else mx.nd.zeros
    with _unhybridized(block):
        with autograd.pause():
            block(zeros(shape))  # deferred parameter shapes are settled before the marked input
        x = zeros(shape)
        x.attach_grad()
        with autograd.record(train_mode=False):
            y = block(x)
    if isinstance(y, list | tuple):
        y = y[0]
    symbol = autograd.get_symbol(y)
    # MXNet names marked arrays var0, var1, ... in the order they were marked: the input, marked
    # last, has the highest number (parameters were marked when they were initialised).
    marked = [a for a in symbol.list_arguments() if a.startswith("var") and a[3:].isdigit()]
    if not marked:
        raise ValueError(f"the output of {type(block).__name__} does not depend on its input")
    input_name = max(marked, key=lambda a: int(a[3:]))
    graph = json.loads(symbol.tojson())
    for node in graph["nodes"]:
        if node["op"] == "null" and node["name"] == input_name:
            node["name"] = "input_data"
    return mx.sym.load_json(json.dumps(graph)), "input_data"


def _build(nodes: list[dict], heads: list, data: int, shapes: dict[str, tuple[int, ...]],
           input_shape: tuple[int, ...] | None) -> Graph:
    """Keep the operators that depend on the input; renumber them from 1 (the input is 0)."""
    depends = {data}
    for i, node in enumerate(nodes):
        if node["op"] != "null" and any(src in depends for src, *_ in _data_inputs(node)):
            depends.add(i)
    new_id = {data: 0}
    out_nodes = [Node(0, "input", (), (("Input", ""),),
                      input_shape[1:] if input_shape else None, "data")]
    edges: list[tuple[int, int]] = []
    for i, node in enumerate(nodes):
        if i == data or i not in depends:
            continue
        new_id[i] = len(out_nodes)
        kind, head, detail = _describe(node["op"], node.get("attrs", {}))
        shape = shapes.get(node["name"])
        out_nodes.append(Node(new_id[i], kind, (node["op"],), ((head, detail),),
                              shape[1:] if shape else None, node["name"]))
        for src, *_ in _data_inputs(node):
            if src in depends:
                edges.append((new_id[src], new_id[i]))
    outputs = [new_id[h[0]] for h in heads if h[0] in new_id]
    return Graph(out_nodes, edges, outputs)


def _data_inputs(node: dict) -> list:
    inputs = node.get("inputs", [])
    return inputs[:1] if node["op"] in _PARAMETRIC else inputs


# --- folding ---------------------------------------------------------------------------------


def _fold(graph: Graph) -> Graph:
    """Merge conv/dense + batch norm + activation chains (see :func:`graph_of`)."""
    groups: list[list[int]] = [[n.id] for n in graph.nodes]
    group_of = {n.id: i for i, n in enumerate(graph.nodes)}

    def single_next(n: int) -> int | None:
        """The only successor of ``n`` when ``n`` is also its only predecessor."""
        succ = graph.successors(n)
        if len(succ) == 1 and n not in graph.outputs and graph.predecessors(succ[0]) == [n]:
            return succ[0]
        return None

    def merge(first: int, second: int) -> None:
        a, b = group_of[first], group_of[second]
        groups[a].extend(groups[b])
        for n in groups[b]:
            group_of[n] = a
        groups[b] = []

    kind = {n.id: n.kind for n in graph.nodes}
    for n in graph.nodes:  # core layer + the batch norm and activation after it
        if n.kind not in ("conv", "dense"):
            continue
        seen, nxt = set(), single_next(n.id)
        while nxt is not None and kind[nxt] in ("norm", "act") and kind[nxt] not in seen:
            seen.add(kind[nxt])
            merge(n.id, nxt)
            nxt = single_next(nxt)
    for n in graph.nodes:  # batch norm + activation: before a lone convolution, or by themselves
        act = single_next(n.id) if n.kind == "norm" and len(groups[group_of[n.id]]) == 1 else None
        if act is None or kind[act] != "act" or len(groups[group_of[act]]) != 1:
            continue
        merge(n.id, act)
        core = single_next(act)
        if core is not None and kind[core] == "conv" and len(groups[group_of[core]]) == 1:
            merge(n.id, core)

    return _merge(graph, [g for g in groups if g], _folded)


def _folded(members: list[Node]) -> Node:
    """One node for a folded chain: the kind and name of its convolution or dense layer."""
    core = next((m for m in members if m.kind in ("conv", "dense")), members[0])
    return replace(core, ops=tuple(op for m in members for op in m.ops),
                   parts=tuple(p for m in members for p in m.parts), shape=members[-1].shape,
                   name=members[0].name)


def _merge(graph: Graph, groups: list[list[int]], combine: Callable[[list[Node]], Node]) -> Graph:
    """``graph`` with each group of node ids (the groups cover every node once) made one node by
    ``combine`` (given the members in node order); arrows inside a group dropped, arrows between
    two groups kept once. The new nodes come in dependency order, earliest first member first."""
    group_of = {n: g for g, members in enumerate(groups) for n in members}
    needs = [{group_of[s] for n in members for s in graph.predecessors(n)} - {g}
             for g, members in enumerate(groups)]
    order, done = [], set()
    while len(order) < len(groups):  # groups whose inputs are all placed, earliest first
        g = min((g for g in range(len(groups)) if g not in done and needs[g] <= done),
                key=lambda g: min(groups[g]))
        order.append(g)
        done.add(g)
    new_id = {g: i for i, g in enumerate(order)}
    nodes = [replace(combine([graph.nodes[n] for n in sorted(groups[g])]), id=new_id[g])
             for g in order]
    edges = []
    for s, t in graph.edges:
        edge = (new_id[group_of[s]], new_id[group_of[t]])
        if edge[0] != edge[1] and edge not in edges:
            edges.append(edge)
    edges.sort(key=lambda e: e[1])  # grouped by target, each target's inputs in its order
    outputs = list(dict.fromkeys(new_id[group_of[o]] for o in graph.outputs))
    return Graph(nodes, edges, outputs)


# --- collapsing blocks ---------------------------------------------------------------------


def _collapse(graph: Graph, net: gluon.Block, collapse: Collapse) -> Graph:
    """``graph`` (of ``net``) with every operator of each outermost block of a class named in
    ``collapse`` merged into one node of kind ``"block"``."""
    chosen = _blocks_to_collapse(net, collapse)
    owner = _owners(net, [n.name for n in graph.nodes])
    members: list[list[int]] = [[] for _ in chosen]
    groups: list[list[int]] = []
    for node in graph.nodes:
        path = owner[node.id] if node.id != 0 else None
        inside = next((i for i, (p, _) in enumerate(chosen) if _within(path, p)), None)
        if inside is None:
            groups.append([node.id])
        else:
            members[inside].append(node.id)
    for (path, block), ids in zip(chosen, members, strict=True):
        if not ids:
            raise ValueError(
                f"collapse: the operators of {type(block).__name__} {block.name!r} (at "
                f"{path or 'the top'!r}) are not found in the traced graph: only hybrid blocks, "
                "traced symbolically, name their operators; collapse blocks of a network of "
                "HybridBlocks, or draw this one without collapse")
    boxes = {ids[0]: _block_node(graph, ids, block)
             for (_, block), ids in zip(chosen, members, strict=True)}
    return _merge(graph, groups + members, lambda nodes: boxes.get(nodes[0].id, nodes[0]))


def _blocks_to_collapse(net: gluon.Block, collapse: Collapse) -> list[tuple[str, gluon.Block]]:
    """``(path, block)`` of every block of ``net`` whose class ``collapse`` names and that is not
    inside another such block, in declaration order."""
    wanted = (collapse,) if isinstance(collapse, type | str) else tuple(collapse)
    for w in wanted:
        if not isinstance(w, type | str):
            raise TypeError(f"collapse takes block classes or class names, got {w!r}")
    tree = [(path, block) for path, block, _ in walk(net, into_layers=True)]
    missing = [w for w in wanted if not any(_is_a(b, w) for _, b in tree)]
    if missing:
        classes = sorted({type(b).__name__ for _, b in tree})
        raise ValueError(f"collapse: {type(net).__name__} has no block of class "
                         f"{', '.join(getattr(w, '__name__', str(w)) for w in missing)}; the "
                         f"classes of its blocks are {', '.join(classes)}")
    found: list[tuple[str, gluon.Block]] = []
    for path, block in tree:
        if (any(_is_a(block, w) for w in wanted)
                and not any(_within(path, outer) for outer, _ in found)):
            found.append((path, block))
    return found


def _is_a(block: gluon.Block, wanted: type | str) -> bool:
    """An instance of the class ``wanted``, or of a class named ``wanted``."""
    return type(block).__name__ == wanted if isinstance(wanted, str) else isinstance(block, wanted)


def _within(path: str | None, outer: str) -> bool:
    """Whether the block at ``path`` is the block at ``outer`` or inside it (paths as in
    :func:`~d2lcnn.tools.blocks.walk`; None: no block)."""
    return path is not None and (outer == "" or path == outer or path.startswith(outer + "."))


def _owners(net: gluon.Block, names: list[str]) -> list[str | None]:
    """For each operator name, the path of the block that computed it: the block with the
    longest ``prefix`` that begins the name (``"conv3_fwd"``: the block prefixed ``"conv3_"``);
    None when no prefix fits."""
    prefixes = sorted(((b.prefix, path) for path, b, _ in walk(net, into_layers=True)
                       if b.prefix), key=lambda item: -len(item[0]))
    return [next((path for prefix, path in prefixes if name.startswith(prefix)), None)
            for name in names]


def _block_node(graph: Graph, ids: list[int], block: gluon.Block) -> Node:
    """The node of one collapsed block: its operators, its class name and key numbers, the shape
    of its (last) output."""
    inside = set(ids)
    leaving = [n for n in ids if n in graph.outputs
               or any(t not in inside for t in graph.successors(n))]
    last = graph.nodes[leaving[-1] if leaving else ids[-1]]
    return Node(ids[0], "block", tuple(op for n in ids for op in graph.nodes[n].ops),
                ((type(block).__name__, _key_numbers(graph, ids)),), last.shape, block.name)


def _key_numbers(graph: Graph, ids: list[int]) -> str:
    """The output channels of the convolutions (units of the dense layers) among ``ids``, one
    group per chain of them without forks or joins, chains in the order they start (those
    starting together in the order their join takes them): ``"64, (96, 128), (16, 32), 32"``."""
    rank = _ranks(graph)
    groups = []
    for chain in sorted(_chains(graph, ids), key=lambda c: (rank[c[0]], _join_slot(graph, c[-1]))):
        widths = [w for n in chain if (w := _width(graph.nodes[n]))]
        if widths:
            groups.append(widths[0] if len(widths) == 1 else f"({', '.join(widths)})")
    return ", ".join(groups)


def _chains(graph: Graph, ids: list[int]) -> list[list[int]]:
    """``ids`` (in node order) cut into chains: a node continues the chain of its only input
    when that input is one of ``ids`` and feeds nothing else."""
    chains: list[list[int]] = []
    chain_of: dict[int, list[int]] = {}
    inside = set(ids)
    for n in ids:
        preds = graph.predecessors(n)
        if len(preds) == 1 and preds[0] in inside and len(graph.successors(preds[0])) == 1:
            chain = chain_of[preds[0]]
        else:
            chain = []
            chains.append(chain)
        chain.append(n)
        chain_of[n] = chain
    return chains


def _join_slot(graph: Graph, node: int) -> int:
    """Which input of the node it feeds ``node`` is (0 when it feeds several)."""
    after = graph.successors(node)
    return graph.predecessors(after[0]).index(node) if len(after) == 1 else 0


def _width(node: Node) -> str | None:
    """A convolution's output channels (``"64"``), a dense layer's units; None for others."""
    head, detail = node.parts[0]
    if node.kind == "conv":
        return detail.split(" ch")[0]
    if node.kind == "dense":
        return head.rsplit(" ", 1)[-1]
    return None


# --- layout ----------------------------------------------------------------------------------

FONT_SIZE = 9.0  # points; every length below is in inches at this size
_PAD_ALONG, _PAD_ACROSS = 0.06, 0.1  # inside a box: above/below the text, left/right of it
_LINE = 1.3 * FONT_SIZE / 72  # height of one text line
_CIRCLE = 0.28  # diameter of a "+" or "×" node
_GAP_RANKS = 0.42  # between the boxes of consecutive ranks (room for arrows)
_GAP_LANES = 0.3  # between the boxes of neighbouring lanes
_SKIP_MARGIN, _SKIP_STEP = 0.18, 0.14  # a skip connection's distance from the boxes it avoids
_BAR_OVERHANG = 0.35  # how far a concatenation bar reaches past the lanes it joins
_GAP_ROWS = 0.45  # between the rows of a wrapped chain
MAX_ROW = 12.0  # inches: a longer left-to-right chain wraps into rows (see draw's ``wrap``)


@dataclass
class _Box:
    """A node placed: centre (u along the flow, v across it) and extents, in inches."""

    u: float
    v: float
    along: float
    across: float
    lines: list[tuple[str, float, str]]  # (text, font scale, colour)
    round: bool = False


@lru_cache(maxsize=4096)
def _text_width(text: str, size: float) -> float:
    """Width of ``text`` in inches at ``size`` points, in matplotlib's default font."""
    if not text:
        return 0.0
    width, _, _ = text_to_path.get_text_width_height_descent(text, FontProperties(size=size),
                                                             ismath=False)
    return width / 72


def _text_lines(node: Node, direction: str) -> list[tuple[str, float, str]]:
    """The lines written in ``node``'s box: (text, font scale, colour)."""
    if node.kind in ("add", "mul"):
        return [(node.parts[0][0], 1.4, "black")]
    if direction == "LR" or node.kind == "block":  # head and detail on separate lines
        lines = [(t, 1.0, "black") for head, detail in node.parts for t in (head, detail) if t]
    else:
        lines = [(t, 1.0, "black") for t in node.lines]
    if node.shape:
        lines.append((node.shape_text, 0.9, "#555555"))  # 8.1 pt
    return lines


def _ranks(graph: Graph) -> list[int]:
    """Longest path from the input to each node (nodes come in dependency order)."""
    rank = [0] * len(graph.nodes)
    for s, t in sorted(graph.edges, key=lambda e: e[1]):
        rank[t] = max(rank[t], rank[s] + 1)
    return rank


def _lanes(graph: Graph, rank: list[int]) -> list[float]:
    """Lane of each node: a chain stays in its lane; the branches of a fork spread out in the
    order in which their join takes them; a join returns to the lane of the fork."""
    ancestors = [graph.ancestors(n.id) for n in graph.nodes]

    def is_skip(s: int, t: int) -> bool:  # s also reaches t through another input of t
        return any(s in ancestors[p] for p in graph.predecessors(t) if p != s)

    lane = [0.0] * len(graph.nodes)
    offset: dict[int, float] = {}  # branch start -> its lane relative to the fork
    for node in graph.nodes:
        n = node.id
        preds = [p for p in dict.fromkeys(graph.predecessors(n)) if not is_skip(p, n)]
        if len(preds) == 1:
            lane[n] = lane[preds[0]] + offset.get(n, 0.0)
        elif len(preds) > 1:  # a join: back to the lane of the deepest common ancestor
            common = set.intersection(*(ancestors[p] | {p} for p in preds))
            lane[n] = lane[max(common, key=lambda a: (rank[a], a))] if common else 0.0
        branches = [t for t in graph.successors(n) if not is_skip(n, t)
                    and len(set(graph.predecessors(t))) == 1]
        if len(branches) > 1:
            offset.update(_branch_offsets(graph, branches, ancestors))
    return lane


def _branch_offsets(graph: Graph, branches: list[int],
                    ancestors: list[set[int]]) -> dict[int, float]:
    """Lanes of the branches leaving one node, relative to its lane: two branches of different length
    keep the longer in the fork's lane and put the other beside it (a shortcut); otherwise they
    spread evenly around it, in the order their first common join takes them."""
    joins = [n.id for n in graph.nodes
             if all(b in ancestors[n.id] for b in branches)]
    order = list(branches)
    length = {b: 0 for b in branches}
    if joins:
        join = joins[0]
        preds = graph.predecessors(join)

        def position(b: int) -> int:
            return next((i for i, p in enumerate(preds) if p == b or b in ancestors[p]),
                        len(preds))
        order.sort(key=position)
        for b in branches:  # longest path from b to the join, counted in nodes
            inside = [n for n in ancestors[join] if n == b or b in ancestors[n]]
            depth = {b: 1}
            for n in sorted(inside):
                for p in graph.predecessors(n):
                    if p in depth:
                        depth[n] = max(depth.get(n, 0), depth[p] + 1)
            length[b] = max(depth.values())
    if len(order) == 2 and length[order[0]] != length[order[1]]:
        main, side = sorted(order, key=lambda b: -length[b])
        return {main: 0.0, side: 1.0}
    return {b: i - (len(order) - 1) / 2 for i, b in enumerate(order)}


@dataclass
class _Layout:
    boxes: list[_Box]
    edges: list[list[tuple[float, float]]]  # each a polyline in (u, v), arrow at the end
    extent_u: tuple[float, float]
    extent_v: tuple[float, float]


def _is_chain(graph: Graph) -> bool:
    """No node takes or gives more than one input: no branches, no skip connections."""
    return all(len(graph.predecessors(n.id)) <= 1 and len(graph.successors(n.id)) <= 1
               for n in graph.nodes)


def _rows(graph: Graph, band: list[float], direction: str, wrap: int | None) -> list[int]:
    """Row of each rank: a left-to-right chain longer than :data:`MAX_ROW` inches goes on in new
    rows below, like text, in as few rows as fit and of lengths as even as can be (or a new row
    after every ``wrap`` ranks)."""
    if wrap is not None:
        if wrap < 1 or direction != "LR" or not _is_chain(graph):
            raise ValueError(f"wrap={wrap!r}: only a chain (no branches) drawn left to right "
                             "(direction='LR') wraps, after a positive number of boxes")
        return [k // wrap for k in range(len(band))]
    if direction != "LR" or not _is_chain(graph):
        return [0] * len(band)
    spans = sorted({sum(band[i:j]) + _GAP_RANKS * (j - i - 1)
                    for i in range(len(band)) for j in range(i + 1, len(band) + 1)})
    fewest = math.ceil(spans[-1] / MAX_ROW)
    while True:  # the shortest longest row with `fewest` rows; one row more if it is too long
        low, high = 0, len(spans) - 1  # the longer the rows may be, the fewer they are
        while low < high:
            middle = (low + high) // 2
            if _fill_rows(band, spans[middle])[-1] < fewest:
                high = middle
            else:
                low = middle + 1
        if spans[low] <= MAX_ROW or fewest >= len(band):
            return _fill_rows(band, spans[low])
        fewest += 1


def _fill_rows(band: list[float], limit: float) -> list[int]:
    """Row of each rank when each row takes as many ranks as fit in ``limit`` inches."""
    rows, used = [], -_GAP_RANKS
    for length in band:
        used += _GAP_RANKS + length
        if used > limit + 1e-9 and rows:
            used = length
            rows.append(rows[-1] + 1)
        else:
            rows.append(rows[-1] if rows else 0)
    return rows


def _layout(graph: Graph, direction: str, wrap: int | None = None) -> _Layout:
    rank = _ranks(graph)
    lane = _lanes(graph, rank)
    boxes = []
    for node in graph.nodes:
        lines = _text_lines(node, direction)
        if node.kind in ("add", "mul"):
            along = across = _CIRCLE
        else:
            width = max(_text_width(t, FONT_SIZE * s) for t, s, _ in lines) + 2 * _PAD_ACROSS
            height = sum(_LINE * s for _, s, _ in lines) + 2 * _PAD_ALONG
            along, across = (height, width) if direction == "TB" else (width, height)
        boxes.append(_Box(0.0, 0.0, along, across, lines, node.kind in ("add", "mul")))
    # Ranks get the room their largest box needs; lanes are as wide as the widest box.
    num_ranks = max(rank) + 1
    band = [max(b.along for b, r in zip(boxes, rank, strict=True) if r == k)
            for k in range(num_ranks)]
    row = _rows(graph, band, direction, wrap)
    start = [sum(band[j] + _GAP_RANKS for j in range(k) if row[j] == row[k])
             for k in range(num_ranks)]
    pitch = max(b.across for b in boxes) + _GAP_LANES
    row_pitch = (max(lane) - min(lane)) * pitch + max(b.across for b in boxes) + _GAP_ROWS
    for box, r, ln in zip(boxes, rank, lane, strict=True):
        box.u, box.v = start[r] + band[r] / 2, ln * pitch + row[r] * row_pitch
    _widen_joins(graph, boxes)
    edges = _route(graph, boxes, rank, row, start, band)
    us = [b.u - b.along / 2 for b in boxes] + [b.u + b.along / 2 for b in boxes]
    vs = ([b.v - b.across / 2 for b in boxes] + [b.v + b.across / 2 for b in boxes]
          + [v for path in edges for _, v in path])
    us += [u for path in edges for u, _ in path]
    return _Layout(boxes, edges, (min(us), max(us)), (min(vs), max(vs)))


def _widen_joins(graph: Graph, boxes: list[_Box]) -> None:
    """A concatenation of branches in different lanes becomes a bar under all of them, so that
    each branch runs straight into it (as in the Inception figures of the literature)."""
    for node in graph.find("concat"):
        lanes = {boxes[p].v for p in graph.predecessors(node.id)}
        if len(lanes) > 1:
            box = boxes[node.id]
            low, high = min(lanes), max(lanes)
            box.across = max(box.across, high - low + 2 * _BAR_OVERHANG)
            box.v = (low + high) / 2


def _route(graph: Graph, boxes: list[_Box], rank: list[int], row: list[int],
           start: list[float], band: list[float]) -> list[list[tuple[float, float]]]:
    """A polyline (u, v) for every edge: straight along the flow where the two boxes face each
    other; along the lane of one end and across in the gap next to the other when they do not
    (into the side of a "+"); around the boxes in between, on the side, when the edge skips
    over boxes of its own lane; back to the start of the next row when a chain wraps."""

    def blocked(v: float, r_from: int, r_to: int) -> bool:
        return any(r_from < rank[i] < r_to and row[rank[i]] == row[r_from] and
                   abs(b.v - v) < b.across / 2 + 0.05 for i, b in enumerate(boxes))

    def gap_after(r: int) -> float:  # middle of the gap between rank r and rank r + 1
        return start[r] + band[r] + _GAP_RANKS / 2

    def facing(a: _Box, b: _Box) -> float | None:  # a line across the flow hitting both boxes
        for v in (a.v, b.v):
            if abs(v - a.v) <= a.across / 2 - 0.04 and abs(v - b.v) <= b.across / 2 - 0.04:
                return v
        return None

    skips: list[tuple[int, int, int, int]] = []  # (side, level, first rank, last rank)
    paths = []
    for s, t in graph.edges:
        a, b, rs, rt = boxes[s], boxes[t], rank[s], rank[t]
        out_of_a, into_b = a.u + a.along / 2, b.u - b.along / 2
        v = facing(a, b)
        if row[rs] != row[rt]:  # a wrapped chain: down, back, into the next row's first box
            back, middle = into_b - _GAP_RANKS / 2, (a.v + b.v) / 2
            paths.append([(a.u, a.v + a.across / 2), (a.u, middle), (back, middle),
                          (back, b.v), (into_b, b.v)])
        elif v is not None and not blocked(v, rs, rt):
            paths.append([(out_of_a, v), (into_b, v)])
        elif v is None and len(graph.successors(s)) > 1 and not blocked(b.v, rs, rt):
            paths.append([(out_of_a, a.v), (gap_after(rs), a.v), (gap_after(rs), b.v),
                          (into_b, b.v)])  # fan out: across right after the source
        elif v is None and b.round and not blocked(a.v, rs, rt):
            side = 1 if a.v > b.v else -1  # into the side of the "+"
            paths.append([(out_of_a, a.v), (b.u, a.v), (b.u, b.v + side * b.across / 2)])
        elif v is None and not blocked(a.v, rs, rt):  # fan in: across right before the target
            paths.append([(out_of_a, a.v), (gap_after(rt - 1), a.v), (gap_after(rt - 1), b.v),
                          (into_b, b.v)])
        else:
            paths.append(_around(s, t, boxes, rank, skips))
    return paths


def _around(s: int, t: int, boxes: list[_Box], rank: list[int],
            skips: list[tuple[int, int, int, int]]) -> list[tuple[float, float]]:
    """A skip connection: out of the side of ``s``, along the outside of the boxes it jumps
    over, into the side of ``t``. One that would overlap another takes the other side, then
    goes further out."""
    a, b, rs, rt = boxes[s], boxes[t], rank[s], rank[t]
    inside = [x for i, x in enumerate(boxes) if rs <= rank[i] <= rt]

    def outer_edge(side: int) -> float:  # the farthest box edge on that side of the lane
        near = [x for x in inside if side * (x.v - a.v) >= -1e-6 or abs(x.v - a.v) < x.across / 2]
        return side * max(side * (x.v + side * x.across / 2) for x in near)

    sides = sorted((1, -1), key=lambda side: (abs(outer_edge(side) - a.v), -side))
    level, side = 0, sides[0]
    while True:
        free = [sd for sd in sides if not any(o == sd and lv == level and r0 <= rt and rs <= r1
                                              for o, lv, r0, r1 in skips)]
        if free:
            side = free[0]
            break
        level += 1
    skips.append((side, level, rs, rt))
    v = outer_edge(side) + side * (_SKIP_MARGIN + level * _SKIP_STEP)
    return [(a.u, a.v + side * a.across / 2), (a.u, v), (b.u, v), (b.u, b.v + side * b.across / 2)]


# --- drawing ---------------------------------------------------------------------------------


def draw(block: gluon.Block | Graph, input_shape: Sequence[int] | None = None, *,
         title: str = "", fold: bool = False, collapse: Collapse = (), direction: str = "TB",
         wrap: int | None = None, ax: Axes | None = None) -> Axes:
    """Draw the architecture of ``block`` (a Gluon block, or a :class:`Graph` from
    :func:`graph_of`) and return the matplotlib ``Axes``.

    ``input_shape``: one input batch's shape, batch axis first (e.g. ``(1, 1, 28, 28)``); each
    box then shows its output shape (channels×height×width), and non-hybrid blocks can be traced.
    ``fold``: one box per convolution or dense layer with its batch norm and activation (see
    :func:`graph_of`), for whole networks. ``collapse``: block classes (or their names) drawn as
    one box per instance, e.g. ``collapse=Inception`` (see :func:`graph_of`), for whole networks
    built from repeated blocks. ``direction``: ``"TB"`` top to bottom (blocks),
    ``"LR"`` left to right (long chains such as LeNet). ``wrap``: with ``"LR"``, a chain goes on
    in a new row after this many boxes; by default rows of at most :data:`MAX_ROW` inches
    (a network with branches never wraps). ``ax``: draw into these axes (the
    drawing is scaled to fit); by default a new figure sized to the drawing (in inches) is made.
    """
    if direction not in ("TB", "LR"):
        raise ValueError(f"direction must be 'TB' (top to bottom) or 'LR' (left to right), "
                         f"got {direction!r}")
    if isinstance(block, Graph) and collapse:
        raise ValueError("collapse needs the network itself, not a Graph: pass the block, or "
                         "make the graph with graph_of(block, ..., collapse=...)")
    graph = (block if isinstance(block, Graph)
             else graph_of(block, input_shape, fold=fold, collapse=collapse))
    layout = _layout(graph, direction, wrap)
    margin = 0.12
    (u0, u1), (v0, v1) = layout.extent_u, layout.extent_v
    size_u, size_v = u1 - u0 + 2 * margin, v1 - v0 + 2 * margin
    width, height = (size_v, size_u) if direction == "TB" else (size_u, size_v)

    def xy(u: float, v: float) -> tuple[float, float]:
        return (v, -u) if direction == "TB" else (u, -v)

    if ax is None:
        title_room = 0.35 if title else 0.0
        fig = plt.figure(figsize=(max(width, _text_width(title, FONT_SIZE * 1.2) + 0.2),
                                  height + title_room))
        ax = fig.add_axes((0, 0, 1, height / (height + title_room)))
        scale = 1.0
    else:
        bbox = ax.get_window_extent().transformed(ax.figure.dpi_scale_trans.inverted())
        scale = min(bbox.width / width, bbox.height / height, 1.25)
    for node, box in zip(graph.nodes, layout.boxes, strict=True):
        _draw_box(ax, box, node.kind, xy, scale, direction)
    for path in layout.edges:
        _draw_arrow(ax, [xy(u, v) for u, v in path], scale)
    corners = [xy(u0 - margin, v0 - margin), xy(u1 + margin, v1 + margin)]
    ax.set_xlim(min(c[0] for c in corners), max(c[0] for c in corners))
    ax.set_ylim(min(c[1] for c in corners), max(c[1] for c in corners))
    ax.set_aspect("equal", adjustable="datalim" if scale != 1.0 else "box")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=FONT_SIZE * 1.2 * scale)
    return ax


def _draw_box(ax: Axes, box: _Box, kind: str, xy, scale: float, direction: str) -> None:
    x, y = xy(box.u, box.v)
    w, h = (box.across, box.along) if direction == "TB" else (box.along, box.across)
    colour = _COLOURS.get(kind, "#ffffff")
    if box.round:
        ax.add_patch(Circle((x, y), _CIRCLE / 2, facecolor=colour, edgecolor="#333333",
                            linewidth=0.9 * scale, zorder=2))
    else:
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                    boxstyle="round,pad=0,rounding_size=0.05",
                                    facecolor=colour, edgecolor="#333333",
                                    linewidth=0.9 * scale, zorder=2))
    total = sum(_LINE * s for _, s, _ in box.lines)
    top = y + total / 2
    for text, size, colour in box.lines:
        top -= _LINE * size / 2
        ax.text(x, top - (0.012 if box.round else 0.0), text, ha="center", va="center",
                fontsize=FONT_SIZE * size * scale, color=colour, zorder=3)
        top -= _LINE * size / 2


def _draw_arrow(ax: Axes, points: list[tuple[float, float]], scale: float) -> None:
    points = [p for i, p in enumerate(points) if i == 0 or _far(p, points[i - 1])]
    path = Path(points, [Path.MOVETO] + [Path.LINETO] * (len(points) - 1))
    ax.add_patch(FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=9 * scale,
                                 linewidth=0.9 * scale, color="#333333", shrinkA=0, shrinkB=0,
                                 joinstyle="miter", zorder=1))


def _far(p: tuple[float, float], q: tuple[float, float]) -> bool:
    return math.hypot(p[0] - q[0], p[1] - q[1]) > 1e-6
