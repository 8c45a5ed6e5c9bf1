"""Architecture figures (d2lcnn.tools.figures): the traced graph of each kind of block the
chapters draw, the labels, and a layout in which no arrow runs through a box.

The blocks are built here with mxnet.gluon.nn, in the two styles the chapters may use: Gluon
HybridBlocks (traced symbolically) and d2l's imperative nn.Blocks (recorded once on zeros).
"""

from __future__ import annotations

import ast
from itertools import pairwise
from pathlib import Path

import matplotlib.pyplot as plt
import mxnet as mx
import pytest
from mxnet import np, npx
from mxnet.gluon import nn

from d2lcnn.tools import figures

npx.set_np()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- the blocks of the chapters, small ----------------------------------------------------------


def lenet() -> nn.HybridSequential:
    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, kernel_size=5, padding=2, activation="sigmoid"),
            nn.AvgPool2D(pool_size=2, strides=2),
            nn.Conv2D(16, kernel_size=5, activation="sigmoid"),
            nn.AvgPool2D(pool_size=2, strides=2),
            nn.Dense(120, activation="sigmoid"), nn.Dense(84, activation="sigmoid"), nn.Dense(10))
    return net


def alexnet_head() -> nn.HybridSequential:
    net = nn.HybridSequential()
    net.add(nn.Conv2D(96, kernel_size=11, strides=4, activation="relu"),
            nn.MaxPool2D(pool_size=3, strides=2), nn.Flatten(),
            nn.Dense(4096, activation="relu"), nn.Dropout(0.5), nn.Dense(10))
    return net


def vgg_block(num_convs: int, channels: int) -> nn.HybridSequential:
    block = nn.HybridSequential()
    for _ in range(num_convs):
        block.add(nn.Conv2D(channels, kernel_size=3, padding=1, activation="relu"))
    block.add(nn.MaxPool2D(pool_size=2, strides=2))
    return block


def nin_block(channels: int, kernel: int, stride: int, padding: int) -> nn.HybridSequential:
    block = nn.HybridSequential()
    block.add(nn.Conv2D(channels, kernel, stride, padding, activation="relu"),
              nn.Conv2D(channels, kernel_size=1, activation="relu"),
              nn.Conv2D(channels, kernel_size=1, activation="relu"))
    return block


class Inception(nn.HybridBlock):
    def __init__(self, c1, c2, c3, c4, pool_first: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.pool_first = pool_first
        self.p1_1 = nn.Conv2D(c1, kernel_size=1, activation="relu")
        self.p2_1 = nn.Conv2D(c2[0], kernel_size=1, activation="relu")
        self.p2_2 = nn.Conv2D(c2[1], kernel_size=3, padding=1, activation="relu")
        self.p3_1 = nn.Conv2D(c3[0], kernel_size=1, activation="relu")
        self.p3_2 = nn.Conv2D(c3[1], kernel_size=5, padding=2, activation="relu")
        self.p4_1 = nn.MaxPool2D(pool_size=3, strides=1, padding=1)
        self.p4_2 = nn.Conv2D(c4, kernel_size=1, activation="relu")

    def hybrid_forward(self, F, x):
        if self.pool_first:  # computed in another order, concatenated in the usual one
            p4 = self.p4_2(self.p4_1(x))
        p1 = self.p1_1(x)
        p2 = self.p2_2(self.p2_1(x))
        p3 = self.p3_2(self.p3_1(x))
        if not self.pool_first:
            p4 = self.p4_2(self.p4_1(x))
        return F.np.concatenate((p1, p2, p3, p4), axis=1)


class Residual(nn.HybridBlock):
    def __init__(self, channels, use_1x1conv=False, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = nn.Conv2D(channels, kernel_size=3, padding=1, strides=strides)
        self.conv2 = nn.Conv2D(channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2D(channels, kernel_size=1, strides=strides) if use_1x1conv else None
        self.bn1, self.bn2 = nn.BatchNorm(), nn.BatchNorm()

    def hybrid_forward(self, F, x):
        y = F.npx.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.conv3 is not None:
            x = self.conv3(x)
        return F.npx.relu(y + x)


class ImperativeResidual(nn.Block):
    """d2l's form: an nn.Block whose forward calls npx functions (cannot take a symbol)."""

    def __init__(self, channels, use_1x1conv=False, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = nn.Conv2D(channels, kernel_size=3, padding=1, strides=strides)
        self.conv2 = nn.Conv2D(channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2D(channels, kernel_size=1, strides=strides) if use_1x1conv else None
        self.bn1, self.bn2 = nn.BatchNorm(), nn.BatchNorm()

    def forward(self, X):
        Y = npx.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        return npx.relu(Y + X)


def conv_block(channels: int) -> nn.HybridSequential:
    block = nn.HybridSequential()
    block.add(nn.BatchNorm(), nn.Activation("relu"), nn.Conv2D(channels, 3, padding=1))
    return block


class DenseBlock(nn.HybridBlock):
    def __init__(self, num_convs, channels, **kwargs):
        super().__init__(**kwargs)
        self.net = nn.HybridSequential()
        for _ in range(num_convs):
            self.net.add(conv_block(channels))

    def hybrid_forward(self, F, x):
        for block in self.net:
            x = F.np.concatenate((x, block(x)), axis=1)
        return x


class ImperativeDenseBlock(nn.Block):
    def __init__(self, num_convs, channels, **kwargs):
        super().__init__(**kwargs)
        self.net = nn.Sequential()
        for _ in range(num_convs):
            self.net.add(conv_block(channels))

    def forward(self, X):
        for blk in self.net:
            X = np.concatenate((X, blk(X)), axis=1)
        return X


def transition_block(channels: int) -> nn.HybridSequential:
    block = nn.HybridSequential()
    block.add(nn.BatchNorm(), nn.Activation("relu"), nn.Conv2D(channels, kernel_size=1),
              nn.AvgPool2D(pool_size=2, strides=2))
    return block


def kinds(graph: figures.Graph) -> list[str]:
    return [n.kind for n in graph.nodes]


def branch_of(graph: figures.Graph, node: int) -> set[int]:
    """The nodes of the branch that ends in ``node``: it and its ancestors, input excluded."""
    return (graph.ancestors(node) | {node}) - {0}


# --- the graphs -------------------------------------------------------------------------------


def test_lenet_is_a_chain_with_labels_and_shapes():
    graph = figures.graph_of(lenet(), (1, 1, 28, 28))
    assert kinds(graph) == ["input", "conv", "act", "pool", "conv", "act", "pool",
                            "dense", "act", "dense", "act", "dense"]
    assert graph.edges == [(i, i + 1) for i in range(len(graph.nodes) - 1)]
    assert graph.outputs == [len(graph.nodes) - 1]
    labels = [n.label for n in graph.nodes]
    assert labels[:5] == ["Input", "Conv 5×5, 6 ch, pad 2", "Sigmoid", "AvgPool 2×2 /2",
                          "Conv 5×5, 16 ch"]
    assert labels[7] == "Dense 120"
    shapes = [n.shape for n in graph.nodes]
    assert shapes[:5] == [(1, 28, 28), (6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10)]
    assert shapes[-1] == (10,)
    assert "Conv 5×5, 6 ch, pad 2" in str(graph)


def test_no_input_shape_no_shapes_and_no_initialisation_needed():
    graph = figures.graph_of(lenet())
    assert all(n.shape is None for n in graph.nodes)
    assert len(graph.nodes) == 12


def test_fold_merges_layer_with_its_activation():
    graph = figures.graph_of(lenet(), (1, 1, 28, 28), fold=True)
    assert kinds(graph) == ["input", "conv", "pool", "conv", "pool", "dense", "dense", "dense"]
    conv = graph.nodes[1]
    assert conv.ops == ("Convolution", "Activation")
    assert conv.lines == ["Conv 5×5, 6 ch, pad 2", "Sigmoid"]
    assert conv.shape == (6, 28, 28)
    assert graph.nodes[-1].ops == ("FullyConnected",)


def test_labels_of_strides_pooling_flatten_dropout():
    graph = figures.graph_of(alexnet_head(), (1, 1, 224, 224))
    labels = [n.label for n in graph.nodes]
    assert labels == ["Input", "Conv 11×11 /4, 96 ch", "ReLU", "MaxPool 3×3 /2", "Flatten",
                      "Dense 4096", "ReLU", "Dropout 0.5", "Dense 10"]
    assert graph.nodes[3].shape == (96, 26, 26)
    assert graph.nodes[4].shape == (96 * 26 * 26,)
    net = nn.HybridSequential()
    net.add(nn.MaxPool2D(3, 2, padding=1), nn.GlobalAvgPool2D(), nn.LeakyReLU(0.1),
            nn.Activation("tanh"))
    assert [n.label for n in figures.graph_of(net).nodes[1:]] == [
        "MaxPool 3×3 /2, pad 1", "GlobalAvgPool", "LeakyReLU 0.1", "Tanh"]


def test_vgg_and_nin_blocks():
    graph = figures.graph_of(vgg_block(2, 8), (1, 3, 16, 16), fold=True)
    assert [n.label for n in graph.nodes] == ["Input", "Conv 3×3, 8 ch, pad 1 → ReLU",
                                              "Conv 3×3, 8 ch, pad 1 → ReLU", "MaxPool 2×2 /2"]
    assert graph.nodes[-1].shape == (8, 8, 8)
    graph = figures.graph_of(nin_block(6, 11, 4, 0), (1, 1, 64, 64))
    assert kinds(graph) == ["input"] + ["conv", "act"] * 3
    assert [n.lines[0] for n in graph.find("conv")] == ["Conv 11×11 /4, 6 ch", "Conv 1×1, 6 ch",
                                                       "Conv 1×1, 6 ch"]


@pytest.mark.parametrize("pool_first", [False, True])
def test_inception_has_four_branches_joined_by_one_concat(pool_first):
    block = Inception(4, (3, 5), (2, 6), 7, pool_first=pool_first)
    graph = figures.graph_of(block, (1, 8, 12, 12), fold=True)
    (concat,) = graph.find("concat")
    branches = graph.predecessors(concat.id)
    assert len(branches) == 4
    assert len(graph.successors(0)) == 4
    members = [branch_of(graph, b) for b in branches]
    assert sum(len(m) for m in members) == len(set().union(*members))  # disjoint
    assert sum(len(m) for m in members) + 2 == len(graph.nodes)  # plus input and concat
    first_lines = [[graph.nodes[n].lines[0] for n in sorted(m)] for m in members]
    assert first_lines == [["Conv 1×1, 4 ch"], ["Conv 1×1, 3 ch", "Conv 3×3, 5 ch, pad 1"],
                           ["Conv 1×1, 2 ch", "Conv 5×5, 6 ch, pad 2"],
                           ["MaxPool 3×3, pad 1", "Conv 1×1, 7 ch"]]
    assert concat.shape == (4 + 5 + 6 + 7, 12, 12)
    assert graph.outputs == [concat.id]


def test_inception_branches_are_laid_out_left_to_right_in_concat_order():
    graph = figures.graph_of(Inception(4, (3, 5), (2, 6), 7, pool_first=True), fold=True)
    layout = figures._layout(graph, "TB")
    (concat,) = graph.find("concat")
    xs = [layout.boxes[p].v for p in graph.predecessors(concat.id)]
    assert xs == sorted(xs) and len(set(xs)) == 4


@pytest.mark.parametrize("block_type", [Residual, ImperativeResidual])
def test_residual_with_1x1_conv_adds_batch_norm_and_shortcut(block_type):
    block = block_type(6, use_1x1conv=True, strides=2)
    block.initialize()
    graph = figures.graph_of(block, (1, 3, 8, 8))
    (add,) = graph.find("add")
    main, shortcut = graph.predecessors(add.id)
    assert graph.nodes[main].kind == "norm"
    assert graph.nodes[shortcut].lines == ["Conv 1×1 /2, 6 ch"]
    assert graph.predecessors(shortcut) == [0]
    assert graph.nodes[graph.successors(add.id)[0]].label == "ReLU"
    assert add.shape == (6, 4, 4)
    assert graph.count("conv") == 3 and graph.count("norm") == 2


@pytest.mark.parametrize("block_type", [Residual, ImperativeResidual])
def test_residual_without_1x1_conv_adds_the_input_itself(block_type):
    block = block_type(3)
    block.initialize()
    graph = figures.graph_of(block, (1, 3, 8, 8))
    (add,) = graph.find("add")
    assert [graph.nodes[p].kind for p in graph.predecessors(add.id)] == ["norm", "input"]
    folded = figures.graph_of(block, (1, 3, 8, 8), fold=True)
    assert [n.ops for n in folded.find("conv")] == [("Convolution", "BatchNorm", "_npx_relu"),
                                                    ("Convolution", "BatchNorm")]


def test_recording_needs_an_input_shape_and_leaves_the_block_as_it_was():
    block = ImperativeResidual(3)
    with pytest.raises(ValueError, match="input_shape"):
        figures.graph_of(block)
    block.initialize()
    block.conv1.hybridize()
    block(np.ones((1, 3, 8, 8)))
    weight = block.conv1.weight.data().copy()
    mean = block.bn1.running_mean.data().copy()
    figures.graph_of(block, (2, 3, 8, 8))
    assert (block.conv1.weight.data() == weight).all()
    assert (block.bn1.running_mean.data() == mean).all()
    assert block.conv1._active


@pytest.mark.parametrize("block_type", [DenseBlock, ImperativeDenseBlock])
def test_dense_block_concatenates_every_earlier_output(block_type):
    block = block_type(3, 10)
    block.initialize()
    graph = figures.graph_of(block, (2, 4, 8, 8), fold=True)
    concats = graph.find("concat")
    assert len(concats) == 3
    previous = 0
    for k, concat in enumerate(concats):
        first, conv = graph.predecessors(concat.id)
        assert first == previous
        assert graph.nodes[conv].ops == ("BatchNorm", "Activation", "Convolution")
        assert graph.predecessors(conv) == [previous]
        assert concat.shape == (4 + 10 * (k + 1), 8, 8)
        previous = concat.id
    assert graph.outputs == [previous]


def test_transition_layer():
    graph = figures.graph_of(transition_block(5), (1, 10, 8, 8))
    assert kinds(graph) == ["input", "norm", "act", "conv", "pool"]
    assert graph.nodes[-1].shape == (5, 4, 4)
    folded = figures.graph_of(transition_block(5), (1, 10, 8, 8), fold=True)
    assert [n.label for n in folded.nodes] == ["Input", "BatchNorm → ReLU → Conv 1×1, 5 ch",
                                               "AvgPool 2×2 /2"]


def test_legacy_ndarray_operators():
    class Legacy(nn.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.conv = nn.Conv2D(4, 3, padding=1)

        def hybrid_forward(self, F, x):
            y = F.relu(self.conv(x))
            return F.concat(F.elemwise_add(y, y), x, dim=1)

    with mx.util.np_array(False), mx.util.np_shape(False):
        graph = figures.graph_of(Legacy(), (1, 3, 5, 5))
    assert kinds(graph) == ["input", "conv", "act", "add", "concat"]
    assert graph.nodes[-1].shape == (7, 5, 5)


def test_find_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="kinds"):
        figures.graph_of(vgg_block(1, 4)).find("convolution")


# --- whole networks, condensed ---------------------------------------------------------------


def test_condensed_googlenet_has_one_box_per_inception_block():
    from d2lcnn.lessons.googlenet import GOOGLENET_INCEPTIONS, GOOGLENET_SPECS, GoogLeNet
    from d2lcnn.lessons.googlenet import Inception as LessonInception

    graph = figures.graph_of(GoogLeNet(GOOGLENET_SPECS["book"]), (1, 1, 96, 96), fold=True,
                             collapse=LessonInception)
    boxes = graph.find("block")
    assert len(boxes) == 9
    specs = [c for stage in ("b3", "b4", "b5") for c in GOOGLENET_INCEPTIONS[stage]]
    for box, (c1, c2, c3, c4) in zip(boxes, specs, strict=True):
        assert box.parts == (("Inception", f"{c1}, {c2}, {c3}, {c4}"),)  # as constructed
        assert box.shape[0] == c1 + c2[1] + c3[1] + c4
    assert boxes[0].lines == ["Inception 64, (96, 128), (16, 32), 32"]
    assert [b.shape for b in boxes] == [(256, 12, 12), (480, 12, 12), (512, 6, 6), (512, 6, 6),
                                        (512, 6, 6), (528, 6, 6), (832, 6, 6), (832, 3, 3),
                                        (1024, 3, 3)]
    assert all(b.name.startswith("inception") for b in boxes)  # the blocks' names
    assert graph.count("concat") == 0 and figures._is_chain(graph)
    assert boxes[0].ops.count("Concat") == 1
    assert len(graph.nodes) == 19  # input, stem (3 convolutions, 2 poolings), 9 blocks, 2
    # poolings between the stages, global pooling, dense layer
    by_name = figures.graph_of(GoogLeNet(GOOGLENET_SPECS["native"]), (1, 1, 28, 28),
                               fold=True, collapse="Inception")
    assert by_name.count("block") == 9 and by_name.find("block")[-1].shape == (256, 2, 2)


def test_condensed_resnet18_has_one_box_per_residual_block():
    from d2lcnn.lessons.resnet import RESNET_SPECS, ResNet
    from d2lcnn.lessons.resnet import Residual as LessonResidual

    graph = figures.graph_of(ResNet(RESNET_SPECS["book"]), (1, 1, 96, 96), fold=True,
                             collapse=LessonResidual)
    boxes = graph.find("block")
    assert len(boxes) == 8
    assert [b.parts[0][1] for b in boxes] == [
        "(64, 64)", "(64, 64)", "(128, 128), 128", "(128, 128)", "(256, 256), 256",
        "(256, 256)", "(512, 512), 512", "(512, 512)"]
    assert [b.shape for b in boxes[1::2]] == [(64, 24, 24), (128, 12, 12), (256, 6, 6),
                                              (512, 3, 3)]
    assert graph.count("add") == 0 and figures._is_chain(graph)
    assert [n.kind for n in graph.nodes] == ["input", "conv", "pool"] + ["block"] * 8 + [
        "pool", "dense"]


def test_condensed_densenet_keeps_the_transition_layers():
    from d2lcnn.lessons.densenet import DENSENET_SPECS, DenseNet

    graph = figures.graph_of(DenseNet(DENSENET_SPECS["book"]), (1, 1, 96, 96), fold=True,
                             collapse="DenseBlock")
    boxes = graph.find("block")
    assert [b.label for b in boxes] == ["DenseBlock 32, 32, 32, 32"] * 4
    assert [b.shape[0] for b in boxes] == [192, 224, 240, 248]
    transitions = [n for n in graph.find("conv") if n.ops[0] == "BatchNorm"]
    assert [n.label for n in transitions] == [f"BatchNorm → ReLU → Conv 1×1, {c} ch"
                                              for c in (96, 112, 120)]
    assert [n.label for n in graph.find("pool")].count("AvgPool 2×2 /2") == 3
    assert graph.count("concat") == 0


def test_collapsed_inception_lists_its_paths_in_concatenation_order():
    net = nn.HybridSequential()
    net.add(nn.Conv2D(8, 3, padding=1), Inception(4, (3, 5), (2, 6), 7, pool_first=True),
            Inception(1, (2, 3), (4, 5), 6))
    graph = figures.graph_of(net, (1, 1, 12, 12), collapse=Inception)
    assert [n.kind for n in graph.nodes] == ["input", "conv", "block", "block"]
    assert [n.parts[0][1] for n in graph.find("block")] == ["4, (3, 5), (2, 6), 7",
                                                           "1, (2, 3), (4, 5), 6"]
    assert graph.edges == [(0, 1), (1, 2), (2, 3)] and graph.outputs == [3]
    assert graph.nodes[2].shape == (22, 12, 12) and graph.nodes[3].shape == (15, 12, 12)
    unfolded_ops = len(figures.graph_of(Inception(4, (3, 5), (2, 6), 7), (1, 8, 12, 12)).nodes)
    assert len(graph.nodes[2].ops) == unfolded_ops - 1  # every operator but the input


def test_collapse_takes_the_outermost_block_and_a_residual_block_its_shortcut():
    class Pair(nn.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.first, self.second = Residual(6, True, 2), Residual(6)

        def hybrid_forward(self, F, x):
            return self.second(self.first(x))

    net = nn.HybridSequential()
    net.add(Pair(), Residual(6))
    graph = figures.graph_of(net, (1, 3, 8, 8), collapse=(Pair, "Residual"))
    assert [n.label for n in graph.find("block")] == ["Pair (6, 6), 6, (6, 6)",
                                                      "Residual (6, 6)"]
    assert graph.find("block")[0].shape == (6, 4, 4)


def test_collapse_errors_name_the_problem():
    with pytest.raises(ValueError, match="no block of class DenseBlock.*Conv2D"):
        figures.graph_of(lenet(), collapse=DenseBlock)
    with pytest.raises(TypeError, match="classes or class names"):
        figures.graph_of(lenet(), collapse=[3])
    net = nn.Sequential()
    net.add(ImperativeResidual(3))
    net.initialize()
    with pytest.raises(ValueError, match="hybrid"):
        figures.graph_of(net, (1, 3, 8, 8), collapse=ImperativeResidual)
    with pytest.raises(ValueError, match="not a Graph"):
        figures.draw(figures.graph_of(lenet()), collapse=Residual)


def test_draw_condensed_network_wraps_within_a_row():
    net = nn.HybridSequential()
    for _ in range(10):
        net.add(Inception(4, (3, 5), (2, 6), 7))
    ax = figures.draw(net, (1, 3, 8, 8), collapse=Inception, direction="LR")
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("Inception") == 10 and "4, (3, 5), (2, 6), 7" in texts
    width, height = ax.figure.get_size_inches()
    assert width <= figures.MAX_ROW + 1 and height > 1.5  # several rows


# --- the drawings -----------------------------------------------------------------------------


def _crosses(path, box, margin=0.02) -> bool:
    """Whether the polyline runs through the inside of the box (both in (u, v) inches)."""
    u0, u1 = box.u - box.along / 2 + margin, box.u + box.along / 2 - margin
    v0, v1 = box.v - box.across / 2 + margin, box.v + box.across / 2 - margin
    for (ua, va), (ub, vb) in pairwise(path):  # every segment runs along one axis
        if min(ua, ub) < u1 and max(ua, ub) > u0 and min(va, vb) < v1 and max(va, vb) > v0:
            return True
    return False


def _overlap(a, b) -> bool:
    return (abs(a.u - b.u) < (a.along + b.along) / 2 and abs(a.v - b.v) < (a.across + b.across) / 2)


CASES = {
    "lenet": (lenet, (1, 1, 28, 28), True, "LR"),
    "vgg": (lambda: vgg_block(2, 8), (1, 3, 16, 16), False, "TB"),
    "inception": (lambda: Inception(4, (3, 5), (2, 6), 7), (1, 8, 12, 12), False, "TB"),
    "inception-lr": (lambda: Inception(4, (3, 5), (2, 6), 7), None, True, "LR"),
    "residual": (lambda: Residual(3), (1, 3, 8, 8), False, "TB"),
    "residual-1x1": (lambda: Residual(6, True, 2), (1, 3, 8, 8), True, "TB"),
    "dense": (lambda: DenseBlock(4, 10), (1, 3, 8, 8), True, "TB"),
    "dense-lr": (lambda: DenseBlock(2, 10), None, False, "LR"),
}


@pytest.mark.parametrize("name", CASES)
def test_layout_keeps_boxes_apart_and_arrows_out_of_boxes(name):
    make, shape, fold, direction = CASES[name]
    graph = figures.graph_of(make(), shape, fold=fold)
    layout = figures._layout(graph, direction)
    boxes = layout.boxes
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not _overlap(a, b)
    for (s, t), path in zip(graph.edges, layout.edges, strict=True):
        for i, box in enumerate(boxes):
            if i not in (s, t):
                assert not _crosses(path, box), (name, s, t, i)


def test_skip_connections_of_a_dense_block_alternate_sides():
    graph = figures.graph_of(DenseBlock(3, 4), fold=True)
    layout = figures._layout(graph, "TB")
    skips = [path for (s, t), path in zip(graph.edges, layout.edges, strict=True)
             if graph.nodes[t].kind == "concat" and graph.nodes[s].kind != "conv"]
    sides = [path[1][1] > layout.boxes[0].v for path in skips]  # right of the main lane?
    assert sides == [True, False, True]


def test_draw_returns_axes_with_one_patch_per_box_and_arrow():
    graph = figures.graph_of(Residual(6, True, 2), (1, 3, 8, 8))
    ax = figures.draw(graph, title="Residual block")
    assert ax.get_title() == "Residual block"
    assert len(ax.patches) == len(graph.nodes) + len(graph.edges)
    texts = [t.get_text() for t in ax.texts]
    assert "Conv 1×1 /2, 6 ch" in texts and "+" in texts and "6×4×4" in texts
    width, height = ax.figure.get_size_inches()
    assert height > width  # top to bottom


def test_draw_left_to_right_wraps_long_chains():
    net = nn.HybridSequential()
    for _ in range(12):
        net.add(nn.Conv2D(64, kernel_size=3, padding=1, activation="relu"))
    ax = figures.draw(net, (1, 3, 32, 32), fold=True, direction="LR")
    width, height = ax.figure.get_size_inches()
    assert width <= figures.MAX_ROW + 1 and width > height
    one_row = figures.draw(net, fold=True, direction="LR", wrap=13)
    assert one_row.figure.get_size_inches()[0] > figures.MAX_ROW
    with pytest.raises(ValueError, match="wrap"):
        figures.draw(Residual(3), direction="LR", wrap=2)


def test_draw_into_given_axes_and_bad_direction():
    fig, axes = plt.subplots(1, 2, figsize=(6, 4))
    assert figures.draw(Inception(4, (3, 5), (2, 6), 7), ax=axes[0], fold=True) is axes[0]
    assert figures.draw(transition_block(4), ax=axes[1]) is axes[1]
    with pytest.raises(ValueError, match="direction"):
        figures.draw(transition_block(4), direction="BT")


def test_figures_does_not_import_lessons():
    source = Path(figures.__file__).read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            assert "lessons" not in (node.module or "")
