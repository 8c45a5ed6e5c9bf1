"""Self-checks of chapter 11 (Network in Network)."""

from . import Part, Question

NOTEBOOK = "11_nin"

_SIDES = {"native": 28, "book": 224}


def _nin(spec, one_1x1: bool = False, dense_head: bool = False):
    """NiN built from a NIN_SPECS spec as the chapter's NiN class builds it; one_1x1: every NiN
    block (the classifier's too) keeps only the first of its two 1×1 convolutions; dense_head:
    the classifier block and global average pooling replaced by Flatten and Dense(10)."""
    from mxnet.gluon import nn

    from d2lcnn.lessons import nin_block

    def block(channels, kernel, stride, padding, in_channels):
        full = nin_block(channels, kernel, stride, padding, in_channels, spec["batch_norm"])
        if not one_1x1:
            return full
        shorter = nn.HybridSequential()
        shorter.add(full[0], full[1])
        return shorter

    net = nn.HybridSequential()
    in_channels = 1
    for channels, kernel, stride, padding in spec["blocks"]:
        net.add(block(channels, kernel, stride, padding, in_channels), nn.MaxPool2D(*spec["pool"]))
        in_channels = channels
    net.add(nn.Dropout(spec["dropout"]))
    if dense_head:
        net.add(nn.Flatten(), nn.Dense(10))
    else:
        net.add(block(10, *spec["classifier"], in_channels), nn.GlobalAvgPool2D(), nn.Flatten())
    return net


def _summary(form: str, **variant):
    from d2lcnn.lessons import NIN_SPECS
    from d2lcnn.tools.summary import summary

    side = _SIDES[form]
    return summary(_nin(NIN_SPECS[form], **variant), (1, 1, side, side))


def _dense_head_params(form: str) -> int:
    return _summary(form, dense_head=True).total_params


def _dense_head_effect(form: str) -> str:
    return "add" if _dense_head_params(form) > _summary(form).total_params else "save"


def _saved_by_one_1x1(trainable: bool = False, classifier: bool = True) -> int:
    base, shorter = _summary("native"), _summary("native", one_1x1=True)
    if trainable:
        return base.trainable_params - shorter.trainable_params
    saved = base.total_params - shorter.total_params
    if not classifier:  # the classifier block's second 1×1 convolution (10 → 10) and its BN
        saved -= 10 * 10 + 4 * 10
    return saved


def _side_after(n: int, spec) -> list[int]:
    """The side of the maps after each NiN block and each pooling of a NiN spec (the chapter's
    side_after)."""
    sides = [n]
    window, pool_stride = spec["pool"]
    for _, kernel, stride, padding in spec["blocks"]:
        sides.append(n := (n + 2 * padding - kernel) // stride + 1)
        sides.append(n := (n - window) // pool_stride + 1)
    return sides


def _native_spec(first_block=None):
    from d2lcnn.lessons import NIN_SPECS

    spec = NIN_SPECS["native"]
    if first_block is None:
        return spec
    return {**spec, "blocks": [first_block, *spec["blocks"][1:]]}


def _class_map_side(side: int) -> int:
    return _side_after(side, _native_spec())[-1]


def _strided_sides() -> tuple[int, ...]:
    return tuple(_side_after(28, _native_spec((32, 3, 2, 1))))


def _every_pool_has_input() -> str:
    window, _ = _native_spec()["pool"]
    sides = _strided_sides()
    before_pooling = sides[1::2]  # the side each pooling receives
    return "yes" if all(s >= window for s in before_pooling) else "no"


QUESTIONS = (
    Question(1, parts=(
        Part("native", lambda: _dense_head_params("native"),
             "the native form's parameter count with Flatten and Dense(10) as its head "
             "(summary's total, moving statistics included)"),
        Part("native_effect", lambda: _dense_head_effect("native"),
             "what the change does to the native form's parameters", choices=("add", "save")),
        Part("book", lambda: _dense_head_params("book"),
             "the book form's parameter count with Flatten and Dense(10) as its head"),
        Part("book_effect", lambda: _dense_head_effect("book"),
             "what the change does to the book form's parameters", choices=("add", "save")),
    ), hint_text="The Dense(10) layer reads every value of the last hidden maps: channels × side "
                 "× side inputs per class, plus 10 biases. Those maps are 96×2×2 in the native "
                 "form and 384×5×5 in the book's; compare with the classifier block's three "
                 "convolutions (and, in the native form, its batch norms)."),
    Question(2, parts=(
        Part("saved", _saved_by_one_1x1,
             "the parameters saved in the native form by keeping one 1×1 convolution per NiN "
             "block, the classifier's included (summary's total, moving statistics included)",
             slips=((lambda: _saved_by_one_1x1(trainable=True),
                     "that counts the trained parameters only; summary's total also counts the "
                     "4 numbers per channel of each removed batch norm (γ, β, moving mean and "
                     "variance)"),
                    (lambda: _saved_by_one_1x1(classifier=False),
                     "the classifier block is a NiN block too: its second 1×1 convolution "
                     "(10 → 10) and batch norm go as well"))),
    ), hint_text="Each removed 1×1 convolution maps c channels to c without a bias (batch norm "
                 "follows it): c² weights, plus its batch norm's 4·c numbers. The blocks have "
                 "32, 64, 96 and 10 channels."),
    Question(3, parts=(
        Part("side", lambda: _class_map_side(36), "the side of the class maps for a 36×36 input"),
    ), hint_text="side_after(36, NIN_SPECS[\"native\"]): each 3×3 pooling with stride 2 maps n "
                 "to ⌊(n − 3)/2⌋ + 1, the blocks keep the side."),
    Question(4, parts=(
        Part("sides", _strided_sides,
             "the sides side_after gives for 28×28 with a first block of stride 2 (7 numbers)"),
        Part("every_pool", _every_pool_has_input,
             "whether every pooling still gets a map at least as large as its 3×3 window",
             choices=("yes", "no")),
    ), hint_text="The first convolution now gives ⌊(28 + 2 − 3)/2⌋ + 1; then apply "
                 "⌊(n − 3)/2⌋ + 1 for each pooling. A side of 0 means nothing is left to pool."),
)
