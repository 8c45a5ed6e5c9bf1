"""Self-checks of chapter 10 (VGG)."""

from . import Part, Question

NOTEBOOK = "10_vgg"


def _sides(n: int, first_padding: int, num_blocks: int = 5) -> tuple[int, ...]:
    """The side after the first convolution and after each block's 2×2 pooling (as the
    chapter's vgg_sides): 3×3 convolutions keep the side except the first, which adds
    2·first_padding − 2."""
    sides = [n, n + 2 * first_padding - 2]
    for _ in range(num_blocks):
        sides.append((sides[-1] - 2) // 2 + 1)
    return tuple(sides)


def _smallest_even_padding(n: int = 28) -> int:
    """The smallest first padding for which every one of the five poolings halves an even
    side (down to 1)."""
    padding = 0
    while any(side % 2 for side in _sides(n, padding)[1:-1]) or _sides(n, padding)[-1] < 1:
        padding += 1
    return padding


def _summary(spec: dict):
    from d2lcnn.lessons import VGG
    from d2lcnn.tools.summary import summary

    return summary(VGG(spec), (1, 1, 28, 28))


def _native() -> dict:
    from d2lcnn.lessons import VGG_SPECS

    return VGG_SPECS["native"]


def _vgg16_eighth() -> dict:
    from d2lcnn.lessons import VGG_CONV_ARCHS

    return {**_native(), "blocks": tuple((n, c // 8) for n, c in VGG_CONV_ARCHS[16])}


def _compare(what: str) -> str:
    deeper, native = _summary(_vgg16_eighth()), _summary(_native())
    return "more" if getattr(deeper, what) > getattr(native, what) else "fewer"


def _removed_by_no_batch_norm() -> int:
    return (_summary(_native()).total_params
            - _summary({**_native(), "batch_norm": False}).total_params)


def _batch_norm_numbers() -> int:
    """The slip: 4 numbers per channel of every batch norm, forgetting the biases that come back."""
    return 4 * sum(channels * convs for convs, channels in _native()["blocks"])


QUESTIONS = (
    Question(1, parts=(
        Part("sides", lambda: _sides(28, 2),
             "vgg_sides(28, spec) when the first convolution pads by 2 (a list of 7 sides)"),
        Part("padding", _smallest_even_padding,
             "the smallest first padding that lets all five poolings halve an even side"),
    ), hint_text="The first convolution gives 28 + 2p − 2; each pooling then maps n to "
                 "⌊(n − 2)/2⌋ + 1. Five exact halvings need a side divisible by 2⁵ = 32."),
    Question(2, parts=(
        Part("params", lambda: _compare("total_params"),
             "whether this VGG-16 has more or fewer parameters than the native VGG-11",
             choices=("more", "fewer")),
        Part("macs", lambda: _compare("total_macs"),
             "whether it does more or fewer multiply-adds per example than the native VGG-11",
             choices=("more", "fewer")),
    ), hint_text="Dividing the channels by 8 instead of 4 divides each convolution's "
                 "parameters and multiply-adds by about 4 (channels in and out); VGG-16 has "
                 "13 convolutions instead of 8. Count both with summary."),
    Question(3, parts=(
        Part("removed", _removed_by_no_batch_norm,
             "the number of parameters that \"batch_norm\": False removes from the native form "
             "(its total with batch norm minus its total without)",
             slips=((_batch_norm_numbers, "without batch norm each convolution gets its bias "
                                          "back (conv_relu drops it only when batch norm "
                                          "follows): one per output channel"),)),
    ), hint_text="Each batch norm holds γ, β, a moving mean and a moving variance per channel; "
                 "look at conv_relu to see what the convolution itself loses or keeps."),
    Question(4, parts=(
        Part("params", lambda: _summary({**_native(), "dense": (4096, 4096)}).total_params,
             "the parameter count of the native form with two dense layers of 4096 units "
             "(moving statistics included, as summary's total)"),
    ), hint_text="Everything up to the dense layers stays as in the native table; the dense "
                 "layers become 128·4096 + 4096, 4096·4096 + 4096 and 4096·10 + 10."),
)
