"""Self-checks of chapter 06 (activation functions, losses and input preprocessing)."""

from . import Part, Question

NOTEBOOK = "06_activations_and_losses"


def _rrelu_test_mode(lower: float = 0.1, upper: float = 0.3):
    from mxnet import np

    from d2lcnn.lessons import rrelu

    return rrelu(np.array([-2.0, 3.0]), lower=lower, upper=upper, training=False)


def _rrelu_expected_mean(lower: float = 0.1, upper: float = 0.3) -> float:
    """The mean of rrelu(−1) in training: −E[a], a ~ U[lower, upper], i.e. test mode on −1."""
    from mxnet import np

    from d2lcnn.lessons import rrelu

    return float(rrelu(-np.ones(1), lower=lower, upper=upper, training=False)[0])


def _maxout_params(units: int = 128, pieces: int = 3, in_units: int = 784) -> int:
    from d2lcnn.lessons import Maxout

    layer = Maxout(units, pieces=pieces, in_units=in_units)
    layer.initialize()
    return sum(p.data().size for p in layer.collect_params().values())


QUESTIONS = (
    Question(3, parts=(
        Part("test_output", _rrelu_test_mode,
             "rrelu([−2, 3], lower=0.1, upper=0.3) outside autograd.record()",
             slips=((lambda: _rrelu_test_mode(1 / 8, 1 / 3), "that uses the default bounds; "
                                                             "here lower=0.1, upper=0.3"),)),
        Part("mean", _rrelu_expected_mean,
             "the mean of rrelu(−np.ones(10000), 0.1, 0.3, training=True), to two digits",
             slips=((lambda: -_rrelu_expected_mean(), "the inputs are −1: the outputs are "
                                                      "negative"),
                    (lambda: _rrelu_expected_mean(1 / 8, 1 / 3),
                     "that uses the default bounds; here lower=0.1, upper=0.3"))),
    ), hint_text="Outside autograd.record() RReLU uses the mean slope (lower + upper)/2 for every "
                 "negative value. In training each value gets its own slope, uniform in "
                 "[lower, upper]: 10,000 of them average close to the mean slope."),
    Question(4, parts=(
        Part("params", _maxout_params,
             "the number of parameters of Maxout(128, pieces=3, in_units=784)",
             slips=((lambda: 128 * 3 * 784, "the 128 · 3 biases, one per piece, are missing"),)),
    ), hint_text="The layer is one dense layer with units · pieces outputs, each with 784 weights "
                 "and a bias."),
)
