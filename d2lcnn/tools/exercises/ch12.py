"""Self-checks of chapter 12 (GoogLeNet)."""

from . import Part, Question

NOTEBOOK = "12_googlenet"

_FIRST_BLOCK = (64, (96, 128), (16, 32), 32)  # stage 3's first Inception block
_EQUAL_SHARES = (64, (96, 64), (16, 64), 64)
_INPUT = (1, 192, 12, 12)  # what the book's stem gives that block


def _summary(net, shape):
    from d2lcnn.tools.summary import summary

    return summary(net, shape)


def _block(channels):
    from d2lcnn.lessons import Inception

    c1, c2, c3, c4 = channels
    return _summary(Inception(c1, c2, c3, c4, in_channels=192), _INPUT)


def _direction(new: int, old: int) -> str:
    return "up" if new > old else "down"


def _without_reductions():
    """The first block with its 3×3 and 5×5 convolutions reading the 192 input channels directly."""
    from mxnet.gluon import nn

    class Block(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            self.p1 = nn.Conv2D(64, 1, in_channels=192, activation="relu")
            self.p2 = nn.Conv2D(128, 3, padding=1, in_channels=192, activation="relu")
            self.p3 = nn.Conv2D(32, 5, padding=2, in_channels=192, activation="relu")
            self.p4_pool = nn.MaxPool2D(pool_size=3, strides=1, padding=1)
            self.p4 = nn.Conv2D(32, 1, in_channels=192, activation="relu")

        def hybrid_forward(self, F, x):
            return F.np.concatenate((self.p1(x), self.p2(x), self.p3(x),
                                     self.p4(self.p4_pool(x))), axis=1)

    return _summary(Block(), _INPUT)


def _reduction_factor() -> float:
    return _without_reductions().total_macs / _block(_FIRST_BLOCK).total_macs


def _path3_factor() -> float:
    positions = 12 * 12
    return positions * 32 * 192 * 25 / (positions * (16 * 192 + 32 * 16 * 25))


def _close_to_path3() -> str:
    return "yes" if abs(_reduction_factor() / _path3_factor() - 1) < 0.2 else "no"


def _two_3x3(middle: int = 32):
    from mxnet.gluon import nn

    path = nn.HybridSequential()
    path.add(nn.Conv2D(middle, 3, padding=1, in_channels=16, activation="relu"),
             nn.Conv2D(32, 3, padding=1, in_channels=middle, activation="relu"))
    return _summary(path, (1, 16, 12, 12))


def _weights(table) -> int:
    """Weights only: every parameter of the table's convolutions except their biases."""
    return sum(row.params - row.output_shape[1] for row in table.rows)


def _5x5_weights() -> int:
    from mxnet.gluon import nn

    path = nn.HybridSequential()
    path.add(nn.Conv2D(32, 5, padding=2, in_channels=16, activation="relu"))
    return _weights(_summary(path, (1, 16, 12, 12)))


def _two_3x3_rf() -> int:
    return _two_3x3().rows[-1].receptive_field


def _more_or_fewer() -> str:
    return "more" if _weights(_two_3x3()) > _5x5_weights() else "fewer"


def _native_params(width_ratio: int, predicted: bool = False) -> int:
    from d2lcnn.lessons import GOOGLENET_SPECS, GoogLeNet

    if predicted:  # the r² rule applied to the whole network
        base = _summary(GoogLeNet(GOOGLENET_SPECS["native"]), (1, 1, 28, 28)).total_params
        return round(base * (GOOGLENET_SPECS["native"]["width_ratio"] / width_ratio) ** 2)
    spec = {**GOOGLENET_SPECS["native"], "width_ratio": width_ratio}
    return _summary(GoogLeNet(spec), (1, 1, 28, 28)).total_params


QUESTIONS = (
    Question(1, parts=(
        Part("params", lambda: _block(_EQUAL_SHARES).total_params,
             "the parameters of Inception(64, (96, 64), (16, 64), 64) on 192 channels"),
        Part("macs", lambda: _block(_EQUAL_SHARES).total_macs,
             "its multiply-adds on a 192×12×12 input"),
        Part("direction", lambda: _direction(_block(_EQUAL_SHARES).total_macs,
                                             _block(_FIRST_BLOCK).total_macs),
             "whether parameters and multiply-adds go up or down against the original block",
             choices=("up", "down")),
    ), hint_text="Per output position a k×k convolution costs c_in · c_out · k² multiply-adds. "
                 "Equal shares move 64 channels from the cheap-input 3×3 path (96 → 128) to "
                 "the 5×5 path (16 → 64) and the 1×1 path after the pooling (192 → 64)."),
    Question(2, parts=(
        Part("macs", lambda: _without_reductions().total_macs,
             "the multiply-adds of the block without 1×1 reductions, on 192×12×12"),
        Part("factor", _reduction_factor,
             "how many times the block's multiply-adds grow without the reductions"),
        Part("close", _close_to_path3,
             "whether that factor is close to path 3's 9.7", choices=("yes", "no")),
    ), hint_text="Only paths 2 and 3 change: 3×3 from 192 to 128 channels and 5×5 from 192 to "
                 "32, at 144 positions. Paths 1 and 4 cost the same as before, and path 2's "
                 "reduction (192 → 96) saved much less than path 3's (192 → 16)."),
    Question(3, parts=(
        Part("rf", _two_3x3_rf, "the receptive field of two stacked 3×3 convolutions"),
        Part("weights", lambda: _weights(_two_3x3()),
             "the weights (no biases) of the two 3×3 convolutions, 16 → 32 → 32",
             slips=((lambda: _weights(_two_3x3(middle=16)),
                     "that is with 16 channels between the two; here the first 3×3 "
                     "convolution already has the path's 32 outputs"),
                    (lambda: _weights(_two_3x3()) + 64,
                     "count the weights only, without the 32 + 32 biases"),
                    (_5x5_weights, "that is the 5×5 convolution's count"))),
        Part("compared", _more_or_fewer,
             "whether the two 3×3 convolutions have more or fewer weights than the 5×5 one",
             choices=("more", "fewer")),
    ), hint_text="Each 3×3 convolution widens the field by 2. The 5×5 has 16 · 32 · 25 weights; "
                 "the pair has 16 · 32 · 9 + 32 · 32 · 9. The saving of 9 + 9 = 18 against 25 "
                 "holds only when the two have as many inputs as outputs."),
    Question(4, parts=(
        Part("params", lambda: _native_params(8),
             "summary's total for the native form with width_ratio 8",
             slips=((lambda: _native_params(8, predicted=True),
                     "that is the r² rule applied to the whole network; but width_ratio "
                     "divides only the Inception blocks, not the stem or the dense layer"),)),
    ), hint_text="Going from width_ratio 4 to 8 halves every Inception width, so the Inception "
                 "blocks' parameters fall by about 4; the stem (b1, b2) does not change at all, "
                 "and the dense layer only halves. Read the totals off summary."),
)
