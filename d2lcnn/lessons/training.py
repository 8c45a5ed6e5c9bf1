"""Lesson code of notebooks/08_lenet.ipynb, notebooks/09_alexnet.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

import math

import numpy as onp
from mxnet import autograd, gluon, init, np
from mxnet.gluon import nn

from d2lcnn.tools.blocks import first_device
from d2lcnn.tools.run import TrainingRun


def num_correct(y_hat, y):
    """How many rows of the scores y_hat (batch, classes) have their largest entry at the label
    y (batch,): a float32 scalar on y_hat's device. Works inside a hybridized block too."""
    return (y_hat.argmax(axis=1).astype("int32") == y.astype("int32")).astype("float32").sum()


class BatchMetrics(nn.HybridBlock):
    """(y_hat, y, loss) -> [sum of the losses, number correct] of one batch, as a (2,) array.
    Hybridized, it is one call per batch instead of eight small operators launched from Python."""

    def hybrid_forward(self, F, y_hat, y, loss):
        return F.np.stack([loss.sum(), num_correct(y_hat, y)])


def evaluate_accuracy(net, data_iter, device=None):
    """The fraction of the examples of data_iter that net classifies correctly, computed on
    device (default: where net's parameters are); the count stays there until the end."""
    device = device or first_device(net)
    correct, total = np.zeros((), ctx=device), 0
    for X, y in data_iter:
        correct = correct + num_correct(net(X.as_in_ctx(device)), y.as_in_ctx(device))
        total += y.shape[0]
    if total == 0:
        raise ValueError("the data iterator yielded no examples")
    return float(correct) / total


def train_batch(net, X, y, loss, trainer, device):
    """One step of minibatch SGD on the batch (X, y) on device: forward, loss, backward,
    update. Returns the scores y_hat (batch, classes), the labels y and the losses (batch,)."""
    X, y = X.as_in_ctx(device), y.as_in_ctx(device)
    with autograd.record():
        y_hat = net(X)
        ell = loss(y_hat, y)
    ell.backward()
    trainer.step(X.shape[0])
    return y_hat, y, ell


def train_epoch(net, train_iter, loss, trainer, device, lr, epoch, run):
    """One pass over train_iter; returns the mean loss and the accuracy on its batches.
    lr: a number, or a schedule, a function of the fractional epoch (chapter 09)."""
    batch_metrics = BatchMetrics()
    batch_metrics.hybridize()
    metrics = np.zeros(2, ctx=device)  # [sum of losses, number correct]
    for i, (X, y) in enumerate(train_iter):
        if callable(lr):
            trainer.set_learning_rate(lr(epoch + i / len(train_iter)))
        metrics = metrics + batch_metrics(*train_batch(net, X, y, loss, trainer, device))
        run.after_batch(y.shape[0], metrics)
    loss_sum, correct = run.totals(metrics)  # the one wait for the device in the epoch
    return loss_sum / run.examples_this_epoch, correct / run.examples_this_epoch


def train(net, train_iter, test_iter, num_epochs, lr, device=None, *, momentum=0.0,
          weight_decay=0.0, form=None, seed=None, checkpoint_dir=None, resume=False,
          verbose=True):
    """Train net with minibatch SGD on the softmax cross-entropy loss (d2l's train_ch6) on one
    device (default try_gpu()) and return the run's History. momentum, weight_decay: of SGD (0
    in the book). form: the network's Form being trained, named in the report. seed: seed the
    random generators first. checkpoint_dir, resume: save every epoch there; continue after
    its last complete epoch."""
    run = TrainingRun(net, train_iter, test_iter, num_epochs, lr, device=device,
                      momentum=momentum, weight_decay=weight_decay, form=form,
                      checkpoint_dir=checkpoint_dir, resume=resume, seed=seed, verbose=verbose)
    net.initialize(init.Xavier(), ctx=run.device, force_reinit=True)
    net.hybridize(static_alloc=True, static_shape=True)
    run.check_outputs(net)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": run.initial_lr,
                                                           "momentum": momentum,
                                                           "wd": weight_decay})
    run.resume(net, trainer)
    for epoch in run.epochs():
        train_loss, train_acc = train_epoch(net, run.train_iter, loss, trainer, run.device, lr,
                                            epoch, run)
        test_acc = evaluate_accuracy(net, test_iter, run.device)
        run.end_epoch(net, trainer, train_loss, train_acc, test_acc)
    return run.finish()


def predict(net, data_iter):
    """The labels and the predicted classes (arg-max of the scores) of every example of
    data_iter, as two NumPy arrays of int (num_examples,)."""
    labels, predictions = [], []
    device = first_device(net)
    for X, y in data_iter:
        predictions.append(net(X.as_in_ctx(device)).argmax(axis=1).asnumpy().astype(int))
        labels.append(y.asnumpy().astype(int))
    return onp.concatenate(labels), onp.concatenate(predictions)


class CosineSchedule:
    """A learning rate for every point t of training (t in epochs, fractional): a linear warm-up
    from 0 to peak over the first warmup epochs, then half a cosine from peak down to 0 at
    num_epochs."""

    def __init__(self, peak, num_epochs, warmup=1.0):
        self.peak, self.num_epochs, self.warmup = peak, num_epochs, warmup

    def __call__(self, t):
        if t < self.warmup:
            return self.peak * t / self.warmup
        done = min(1.0, (t - self.warmup) / max(self.num_epochs - self.warmup, 1e-9))
        return self.peak * 0.5 * (1 + math.cos(math.pi * done))

    def __str__(self):
        return f"{self.peak:g} with a {self.warmup:g}-epoch warm-up and a cosine decay"


def flip_and_crop(images, rng, padding=2):
    """Randomly varied copies of images (n, H, W), uint8: each is flipped left-right with
    probability 1/2 and shifted by up to padding pixels up or down and left or right (a random
    H × W crop of the image padded with zeros). rng: a NumPy random Generator."""
    n, height, width = images.shape
    padded = onp.pad(images, ((0, 0), (padding, padding), (padding, padding)))
    top = rng.integers(0, 2 * padding + 1, n)[:, None, None]
    left = rng.integers(0, 2 * padding + 1, n)[:, None, None]
    rows, cols = top + onp.arange(height)[:, None], left + onp.arange(width)
    varied = padded[onp.arange(n)[:, None, None], rows, cols]
    flip = rng.random(n) < 0.5
    varied[flip] = varied[flip, :, ::-1]
    return varied


def native_recipe(num_epochs, peak_lr):
    """The training recipe of the native forms, as keyword arguments of a Form: batches of
    256, SGD with momentum 0.9 and weight decay 5e-4, a learning rate warmed up to peak_lr in
    the first epoch and decayed to 0 along a cosine by num_epochs, flipped and shifted
    training images."""
    return dict(batch_size=256, num_epochs=num_epochs, lr=CosineSchedule(peak_lr, num_epochs),
                momentum=0.9, weight_decay=5e-4, augment=flip_and_crop)


__all__ = ['num_correct', 'BatchMetrics', 'evaluate_accuracy', 'train_batch', 'train_epoch', 'train', 'predict', 'CosineSchedule', 'flip_and_crop', 'native_recipe']
