"""Self-checks of chapter 04 (pooling)."""

from . import Part, Question

NOTEBOOK = "04_pooling"

_SIDE = 28  # the feature map of exercise 2
_ONE_AT = (10, 13)  # where its single 1 sits, away from the border


def _pooled_grid(mode: str):
    """Exercise 1: 2×2 pooling with stride 2 of arange(16) as a 4×4 map."""
    from mxnet import np

    from d2lcnn.lessons import pool2d

    return pool2d(np.arange(16.0).reshape(4, 4), 2, mode)


def _single_one():
    from mxnet import np

    x = np.zeros((_SIDE, _SIDE))
    x[_ONE_AT] = 1.0
    return x


def _pooled_single_one(mode: str):
    """3×3 pooling, stride 1, padding 1, of the map with a single 1."""
    from d2lcnn.lessons import pool2d

    return pool2d(_single_one(), 3, mode, padding=1, stride=1)


def _avg_value() -> float:
    return float(_pooled_single_one("avg").max())


def _nonzero() -> int:
    counts = {int((_pooled_single_one(mode) != 0).sum()) for mode in ("max", "avg")}
    assert len(counts) == 1, "max and average pooling spread the 1 over the same positions"
    return counts.pop()


def _global(mode: str) -> float:
    from d2lcnn.lessons import pool2d

    return float(pool2d(_single_one(), _SIDE, mode)[0, 0])


# Exercise 4: a 2×2 max pool (stride 2) and a 3×3 convolution (padding 1) on c × h × w.
_C, _H, _W = 256, 56, 56


def _comparisons() -> int:
    from d2lcnn.lessons import conv_output_shape

    out_h, out_w = conv_output_shape((_H, _W), (2, 2), (0, 0), 2)
    return _C * out_h * out_w * (2 * 2 - 1)  # the maximum of 4 values takes 3 comparisons


def _conv_macs() -> int:
    from d2lcnn.lessons import conv_output_shape

    out_h, out_w = conv_output_shape((_H, _W), (3, 3), (1, 1), 1)
    return _C * _C * 3 * 3 * out_h * out_w


QUESTIONS = (
    Question(1, parts=(
        Part("max", lambda: _pooled_grid("max"), "the 2×2 max pooling (stride 2), a 2×2 array"),
        Part("avg", lambda: _pooled_grid("avg"), "the 2×2 average pooling (stride 2), a 2×2 array",
             slips=((lambda: _pooled_grid("max"), "that is the max pooling: average the four "
                                                  "values of each window"),)),
    ), hint_text="Stride 2 cuts the 4×4 map into four 2×2 blocks that do not overlap; each block "
                 "gives one value. The top-left block is [[0, 1], [4, 5]]."),
    Question(2, parts=(
        Part("avg_value", _avg_value,
             "the value of each nonzero output of the 3×3 average pooling (stride 1, padding 1)",
             slips=((lambda: 1.0, "that is max pooling; the mean of a 3×3 window holding one 1 "
                                  "and eight 0s is smaller"),)),
        Part("nonzero", _nonzero, "the number of nonzero outputs (the same for max and average "
                                  "pooling)"),
        Part("global_avg", lambda: _global("avg"), "the global average of the 28×28 map",
             slips=((lambda: 1 / _SIDE, "the window holds 28 · 28 values, not 28"),)),
        Part("global_max", lambda: _global("max"), "the global maximum of the 28×28 map"),
    ), hint_text="Every 3×3 window that contains the 1 gives a nonzero output: the windows "
                 "centred on the 1 and on its 8 neighbours. The average divides by the whole "
                 "window; a global pool has one window, the whole map."),
    Question(4, parts=(
        Part("comparisons", _comparisons,
             "the number of comparisons of the 2×2 max pool on the 256 × 56 × 56 map",
             slips=((lambda: _C * 28 * 28 * 4, "the maximum of 4 values needs 3 comparisons, "
                                               "not 4"),
                    (lambda: _C * _H * _W * 3, "with stride 2 there are 28 × 28 windows per "
                                               "channel, not 56 × 56"))),
        Part("macs", _conv_macs, "the multiply-adds of the 3×3 convolution 256 → 256 on 56 × 56",
             slips=((lambda: _C * 3 * 3 * _H * _W, "every output channel reads all 256 input "
                                                   "channels: multiply by c too"),)),
        Part("ratio", lambda: _conv_macs() / _comparisons(),
             "the multiply-adds divided by the comparisons"),
    ), hint_text="The pool has c·(h/2)·(w/2) windows of 4 values, and the maximum of 4 values "
                 "takes 3 comparisons; the convolution does c · c · 9 multiply-adds at each of "
                 "the h·w positions. The ratio does not depend on h and w."),
)
