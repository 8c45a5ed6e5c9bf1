"""Self-checks of chapter 16 (the networks compared; training on several machines)."""

from . import Part, Question

NOTEBOOK = "16_comparison"

#: Exercise 5's job: four workers and one server.
NUM_WORKERS = 4
#: Exercise 4's batch, and the two workers it is split over.
ODD_BATCH, TWO_WORKERS = 255, 2


def _shard_outcome() -> str:
    """What ``ArrayLoader.shard`` does with a batch that two workers cannot split evenly: try it
    on real test images."""
    from d2lcnn.tools.data import ArrayLoader, load_arrays

    images, labels = load_arrays("fashion-mnist", "test")
    loader = ArrayLoader(images[:2 * ODD_BATCH], labels[:2 * ODD_BATCH], ODD_BATCH, device="cpu")
    try:
        shares = [loader.shard(rank, TWO_WORKERS) for rank in range(TWO_WORKERS)]
    except ValueError:
        return "refuses"
    sizes = {share.batch_size for share in shares}
    return "uneven" if len(sizes) > 1 else "drops"


def _lenet_summary():
    from mxnet.util import np_array, np_shape

    from d2lcnn.lessons import LeNet
    from d2lcnn.tools.summary import summary

    with np_shape(True), np_array(True):
        return summary(LeNet(), (1, 1, 28, 28))


def _lenet_gradient_values() -> int:
    """The numbers one worker pushes per step: a gradient for every trainable parameter."""
    return _lenet_summary().trainable_params


def _lenet_weights_only() -> int:
    """The same without the biases (a slip)."""
    from mxnet import np
    from mxnet.util import np_array, np_shape

    from d2lcnn.lessons import LeNet

    with np_shape(True), np_array(True):
        net = LeNet()
        net.initialize()
        net(np.zeros((1, 1, 28, 28)))
        return sum(p.data().size for name, p in net.collect_params().items()
                   if name.endswith("weight"))


QUESTIONS = (
    Question(4, parts=(
        Part("shard", _shard_outcome,
             "what shard does when a batch of 255 does not split evenly over 2 workers",
             choices=("refuses", "drops", "uneven")),
    ), hint_text="Every worker must add up gradients of the same number of examples for the "
                 "step to equal one process's step on the whole batch; read "
                 "ArrayLoader.shard's docstring, or call it: "
                 "data.ArrayLoader(images, labels, 255).shard(0, 2)."),
    Question(5, parts=(
        Part("gradients", lambda: NUM_WORKERS,
             "the number of gradients the server adds up for each parameter array at every step"),
        Part("numbers", _lenet_gradient_values,
             "the number of values each worker sends per step for LeNet",
             slips=((_lenet_weights_only, "the biases have gradients too"),)),
    ), hint_text="Each worker pushes one gradient of every parameter array and the server adds "
                 "up one per worker; a gradient has as many values as its parameter (summary's "
                 "parameter count, all of them trainable in LeNet)."),
)
