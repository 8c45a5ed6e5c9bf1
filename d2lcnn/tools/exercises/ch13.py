"""Self-checks of chapter 13 (batch normalization)."""

from . import Part, Question

NOTEBOOK = "13_batch_norm"


def _alexnet(batch_norm: bool):

    from d2lcnn.lessons import ALEXNET_SPECS, AlexNet
    from d2lcnn.tools.summary import summary

    return summary(AlexNet(ALEXNET_SPECS["native"], batch_norm=batch_norm), (1, 1, 28, 28))


def _added(kind: str) -> int:
    """The trained parameters ("trainable") or moving statistics ("moving") that batch norm adds."""
    with_bn, without = _alexnet(True), _alexnet(False)
    if kind == "trainable":
        return with_bn.trainable_params - without.trainable_params
    return with_bn.non_trainable_params - without.non_trainable_params


def _conv_channels() -> int:
    from d2lcnn.lessons import ALEXNET_SPECS

    return sum(conv[0] for conv in ALEXNET_SPECS["native"]["convs"])


def _same_scores(training: bool) -> str:
    """Whether test image 0 gets the same scores alone as first of a batch of 256, in BN-LeNet
    with nn.BatchNorm (fixed random weights), in training or prediction mode."""
    import numpy as onp
    from mxnet import autograd, init, np

    from d2lcnn import config
    from d2lcnn.lessons import BN_LENET_SPECS, BNLeNet
    from d2lcnn.tools import data

    config.set_seed(0)
    net = BNLeNet(BN_LENET_SPECS["book"], builtin=True)
    net.initialize(init.Xavier())
    images, _ = data.load_arrays("fashion-mnist", "test")
    X = np.array(images[:256, None], dtype="float32") / 255
    mode = autograd.train_mode if training else autograd.predict_mode
    with mode():
        alone, in_batch = net(X[:1]).asnumpy(), net(X)[:1].asnumpy()
    return "yes" if onp.allclose(alone, in_batch, rtol=1e-4, atol=1e-5) else "no"


QUESTIONS = (
    Question(1, parts=(
        Part("trainable", lambda: _added("trainable"),
             "the trained parameters (γ and β) that batch norm adds to the native AlexNet",
             slips=((_conv_channels, "that is one number per channel; each batch norm has "
                                     "a γ and a β per channel"),
                    (lambda: 4 * _conv_channels(), "γ and β are trained; the moving mean "
                                                  "and variance are counted apart"))),
        Part("moving", lambda: _added("moving"),
             "the moving statistics (mean and variance) it adds"),
    ), hint_text="AlexNet(..., batch_norm=True) puts one nn.BatchNorm after each convolution "
                 "(not after the dense layers): per channel a γ and a β, trained, and a moving "
                 "mean and variance, not trained. Add up the convolutions' output channels in "
                 "ALEXNET_SPECS[\"native\"]."),
    Question(4, parts=(
        Part("predict", lambda: _same_scores(training=False),
             "whether, in prediction mode, the image's scores are the same alone and in the batch",
             choices=("yes", "no")),
        Part("train", lambda: _same_scores(training=True),
             "whether, in training mode, they are the same", choices=("yes", "no")),
    ), hint_text="In prediction mode every batch norm uses its moving averages, fixed numbers. "
                 "In training mode it uses the statistics of the batch it is given: what else "
                 "is in the batch changes them (and after a dense layer, a batch of one has "
                 "nothing to normalize against)."),
)
