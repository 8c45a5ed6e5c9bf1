"""Lesson code of notebooks/13_batch_norm.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

from mxnet import autograd, init, np
from mxnet.gluon import nn

from d2lcnn.tools import blocks
from d2lcnn.tools.networks import BookResult, Form, Network


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps=1e-5, momentum=0.9):
    """Batch normalization (批量规范化) of X, as in d2l; returns (Y, moving_mean, moving_var).

    X: (batch, features) after a dense layer, normalized per feature over the batch; or
    (batch, channels, H, W) after a convolution, normalized per channel over the batch and all
    positions. gamma, beta, moving_mean, moving_var broadcast against X ((1, features) or
    (1, channels, 1, 1)). In training mode (autograd.is_training(), e.g. inside
    autograd.record()) the batch's mean and (biased) variance normalize X and the moving averages
    are updated, moving <- momentum * moving + (1 - momentum) * batch; in prediction mode the
    moving averages normalize it and are returned unchanged.
    """
    if not autograd.is_training():
        X_hat = (X - moving_mean) / np.sqrt(moving_var + eps)
    else:
        if X.ndim not in (2, 4):
            raise ValueError(f"batch_norm expects (batch, features) or (batch, channels, H, W), "
                             f"got shape {X.shape}")
        axes = 0 if X.ndim == 2 else (0, 2, 3)
        mean = X.mean(axis=axes, keepdims=True)
        var = ((X - mean) ** 2).mean(axis=axes, keepdims=True)
        X_hat = (X - mean) / np.sqrt(var + eps)
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    return gamma * X_hat + beta, moving_mean, moving_var


class BatchNorm(nn.HybridBlock):
    """Batch normalization from scratch, with the parameter layout of Gluon's nn.BatchNorm.

    num_features: features of a dense layer's output (num_dims=2) or channels of a
    convolution's (num_dims=4). Holds the scale gamma (starts at 1) and shift beta (at 0),
    trained, and the moving averages moving_mean (at 0) and moving_var (at 1), stored with the
    model but not trained (grad_req="null"); all of shape (num_features,). batch_norm does the
    computation. Same results as nn.BatchNorm(in_channels=num_features) with the same eps and
    momentum, except that the moving averages are updated in the forward pass rather than in the
    backward one. Runs imperatively only: a net holding it is hybridized around it (BNLeNet).
    """

    def __init__(self, num_features, num_dims, eps=1e-5, momentum=0.9, **kwargs):
        super().__init__(**kwargs)
        if num_dims not in (2, 4):
            raise ValueError(f"num_dims must be 2 (after a dense layer) or 4 (after a "
                             f"convolution), got {num_dims}")
        if num_features < 1:
            raise ValueError(f"num_features must be given (the features or channels of the "
                             f"input), got {num_features}")
        self.num_features, self.num_dims = num_features, num_dims
        self.eps, self.momentum = eps, momentum
        shape = (num_features,)
        self.gamma = self.params.get("gamma", shape=shape, init=init.One())
        self.beta = self.params.get("beta", shape=shape, init=init.Zero())
        self.moving_mean = self.params.get("moving_mean", shape=shape, init=init.Zero(),
                                           grad_req="null", differentiable=False)
        self.moving_var = self.params.get("moving_var", shape=shape, init=init.One(),
                                          grad_req="null", differentiable=False)

    def hybrid_forward(self, F, x, gamma, beta, moving_mean, moving_var):
        if not isinstance(x, np.ndarray):  # a symbol: someone is compiling the layer
            raise RuntimeError(
                "the from-scratch BatchNorm cannot be hybridized: it chooses training or "
                "prediction mode and updates its moving averages in Python. Hybridize only the "
                "layers around it (as BNLeNet.hybridize does), or use nn.BatchNorm.")
        if x.ndim != self.num_dims or x.shape[1] != self.num_features:
            expected = "(batch, %d)" if self.num_dims == 2 else "(batch, %d, H, W)"
            raise ValueError(f"BatchNorm({self.num_features}, num_dims={self.num_dims}) expects "
                             f"input of shape {expected % self.num_features}, got {x.shape}")
        shape = (1, -1) if self.num_dims == 2 else (1, -1, 1, 1)
        y, new_mean, new_var = batch_norm(
            x, gamma.reshape(shape), beta.reshape(shape), moving_mean.reshape(shape),
            moving_var.reshape(shape), self.eps, self.momentum)
        if autograd.is_training():
            with autograd.pause():  # the moving averages are state, not part of the graph
                self.moving_mean.set_data(new_mean.reshape(-1).detach())
                self.moving_var.set_data(new_var.reshape(-1).detach())
        return y

    def __repr__(self):
        return f"{type(self).__name__}({self.num_features}, num_dims={self.num_dims})"


BN_LENET_SPECS = {
    # convolutions: (channels, kernel), each followed by batch norm, the activation and average
    # pooling (window, stride); dense layers: units, each followed by batch norm and the activation
    "book": {"convs": [(6, 5), (16, 5)], "pool": (2, 2), "dense": [120, 84]},
}


def _hybridize_around(block, skip, active=True, **kwargs):
    """Hybridize every block below block that holds no layer of type skip, each on its own;
    the blocks that hold one stay imperative, and so do the skip layers themselves."""
    if not any(isinstance(b, skip) for _, b, _ in blocks.walk(block)):
        block.hybridize(active, **kwargs)
        return
    if isinstance(block, nn.HybridBlock):
        block._active = False
        block._clear_cached_op()
    for child in block._children.values():
        _hybridize_around(child, skip, active, **kwargs)


class BNLeNet(nn.HybridBlock):
    """LeNet with batch normalization (Ioffe and Szegedy, 2015, "Batch normalization:
    accelerating deep network training by reducing internal covariate shift"), as d2l teaches
    it, built from a spec of BN_LENET_SPECS: 5×5 convolutions without padding, each followed by
    batch norm, the activation and 2×2 average pooling; dense layers, each followed by batch norm
    and the activation; the output layer.

    builtin=False uses the from-scratch BatchNorm, builtin=True Gluon's nn.BatchNorm. Input
    (batch, in_channels, image_size, image_size); output (batch, num_classes). hybridize()
    compiles the whole net with nn.BatchNorm, and everything around the layers with the
    from-scratch one.
    """

    def __init__(self, spec, num_classes=10, in_channels=1, builtin=False, activation="sigmoid",
                 image_size=28, **kwargs):
        super().__init__(**kwargs)
        self.builtin = builtin
        # The from-scratch layer needs its input's size; the dense layers get theirs too, so that
        # no shape is left to a symbolic pass, which that layer cannot take part in.
        channels, side = in_channels, image_size
        window, stride = spec["pool"]
        self.features = nn.HybridSequential()
        for out, kernel in spec["convs"]:
            self.features.add(nn.Conv2D(out, kernel, in_channels=channels),
                              self._batch_norm(out, 4), nn.Activation(activation),
                              nn.AvgPool2D(window, stride))
            channels, side = out, (side - kernel + 1 - window) // stride + 1
        units_in = channels * side * side
        for units in spec["dense"]:
            self.features.add(nn.Dense(units, in_units=units_in), self._batch_norm(units, 2),
                              nn.Activation(activation))
            units_in = units
        self.output = nn.Dense(num_classes, in_units=units_in)

    def _batch_norm(self, num_features, num_dims):
        if self.builtin:
            return nn.BatchNorm(in_channels=num_features)
        return BatchNorm(num_features, num_dims)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))

    def hybridize(self, active=True, **kwargs):
        if self.builtin:
            super().hybridize(active, **kwargs)
        else:
            _hybridize_around(self, BatchNorm, active, **kwargs)


BN_LENET = Network(
    key="bn_lenet", title="BN-LeNet (from scratch)", chapter="13",
    book=Form("book", lambda: BNLeNet(BN_LENET_SPECS["book"]), input_size=28, batch_size=256,
              num_epochs=10, lr=1.0,
              about="d2l's BN-LeNet: the from-scratch batch norm before every sigmoid"),
    book_result=BookResult(train_loss=0.265, train_acc=0.903, test_acc=0.873,
                           examples_per_sec=12_428,
                           notebook="chapter_convolutional-modern/batch-norm.ipynb"))

BN_LENET_GLUON = Network(
    key="bn_lenet_gluon", title="BN-LeNet (nn.BatchNorm)", chapter="13",
    book=Form("book", lambda: BNLeNet(BN_LENET_SPECS["book"], builtin=True), input_size=28,
              batch_size=256, num_epochs=10, lr=1.0,
              about="d2l's BN-LeNet with Gluon's nn.BatchNorm before every sigmoid"),
    book_result=BookResult(train_loss=0.277, train_acc=0.897, test_acc=0.849,
                           examples_per_sec=35_940,
                           notebook="chapter_convolutional-modern/batch-norm.ipynb"))


__all__ = ['batch_norm', 'BatchNorm', 'BN_LENET_SPECS', 'BNLeNet', 'BN_LENET', 'BN_LENET_GLUON']
