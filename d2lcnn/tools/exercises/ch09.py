"""Self-checks of chapter 09 (AlexNet)."""

from itertools import pairwise

from . import Part, Question

NOTEBOOK = "09_alexnet"


def _sides(n: int, spec: dict) -> tuple[int, ...]:
    """The side after each convolution and pooling of an AlexNet spec (as the chapter's
    side_after): ⌊(n + 2p − k)/s⌋ + 1 per layer, negative once nothing is left."""
    sides = [n]
    for _, kernel, stride, padding, pool in spec["convs"]:
        n = (n + 2 * padding - kernel) // stride + 1
        sides.append(n)
        if pool:
            window, pool_stride = spec["pool"]
            n = (n - window) // pool_stride + 1
            sides.append(n)
    return tuple(sides)


def _book_spec() -> dict:
    from d2lcnn.lessons import ALEXNET_SPECS

    return ALEXNET_SPECS["book"]


def _book_macs(side: int) -> int:
    from d2lcnn.lessons import AlexNet
    from d2lcnn.tools.summary import summary

    return summary(AlexNet(_book_spec()), (1, 1, side, side)).total_macs


def _native_with_big_first_layer() -> dict:
    from d2lcnn.lessons import ALEXNET_SPECS

    native = ALEXNET_SPECS["native"]
    channels, _, _, padding, pool = native["convs"][0]
    return {**native, "convs": [(channels, 11, 4, padding, pool), *native["convs"][1:]]}


def _native_params(dense: list[int], last_maps: int | None = None) -> int:
    """Parameters of the native form with dense layers of ``dense`` units; ``last_maps``: the
    first dense layer's inputs (default: what the native form's last pooling gives)."""
    from mxnet.gluon import nn

    from d2lcnn.lessons import ALEXNET_SPECS, AlexNet, num_params
    from d2lcnn.tools.summary import summary

    spec = {**ALEXNET_SPECS["native"], "dense": dense}
    table = summary(AlexNet(spec), (1, 1, 28, 28))
    if last_maps is None:
        return table.total_params
    conv_params = sum(r.params for r in table.rows if r.kind.startswith("Conv2D"))
    widths = [last_maps, *dense, 10]
    return conv_params + sum(num_params(nn.Dense(o, in_units=i)) for i, o in pairwise(widths))


QUESTIONS = (
    Question(1, parts=(
        Part("side", lambda: _sides(112, _book_spec())[-1],
             "the side of the book form's last feature maps for a 112×112 input"),
        Part("macs", lambda: _book_macs(112),
             "the book form's multiply-adds per example at 112×112",
             slips=((lambda: _book_macs(224) // 4, "a quarter of the 224×224 count is not "
                                                  "exact: every layer rounds its side down, and "
                                                  "the first dense layer now reads 256 × 2 × 2 "
                                                  "numbers instead of 256 × 5 × 5"),)),
    ), hint_text="Follow the side with ⌊(n + 2p − k)/s⌋ + 1 through every convolution and "
                 "pooling (side_after does it), then let summary count the multiply-adds."),
    Question(4, parts=(
        Part("sides", lambda: _sides(28, _native_with_big_first_layer()),
             "side_after(28, spec) for the native form with an 11×11, stride-4 first layer "
             "(a list of 9 sides)"),
    ), hint_text="(28 + 2·1 − 11)//4 + 1 = 5 after the first layer; then apply the 3×3, "
                 "stride-2 poolings and the padded convolutions as before: a side below 3 "
                 "cannot be pooled."),
    Question(5, parts=(
        Part("params", lambda: _native_params([4096, 4096]),
             "the parameter count of the native form with two dense layers of 4096 units",
             slips=((lambda: _native_params([4096, 4096], last_maps=256 * 5 * 5),
                     "the native form's last maps are 64 × 2 × 2 = 256 numbers, not the "
                     "book's 256 × 5 × 5 = 6400"),)),
    ), hint_text="The convolutions keep their 245,376 parameters; the dense layers become "
                 "256·4096 + 4096, 4096·4096 + 4096 and 4096·10 + 10."),
)
