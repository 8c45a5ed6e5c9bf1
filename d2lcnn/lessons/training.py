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


def split_batch(X, y, devices):
    """The batch (X, y) cut along its first axis into one share per device, copied there. A
    batch smaller than the number of devices gives fewer shares than devices."""
    if len(devices) == 1:
        return [(X.as_in_ctx(devices[0]), y.as_in_ctx(devices[0]))]
    used = devices[: min(len(devices), y.shape[0])]
    return list(zip(gluon.utils.split_and_load(X, used, even_split=False),
                    gluon.utils.split_and_load(y, used, even_split=False)))


def evaluate_accuracy(net, data_iter, devices=None):
    """The fraction of the examples of data_iter that net classifies correctly, computed on
    devices (default: where net's parameters are); the counts stay there until the end."""
    devices = devices or [first_device(net)]
    correct, total = [np.zeros((), ctx=d) for d in devices], 0
    for X, y in data_iter:
        for k, (X_k, y_k) in enumerate(split_batch(X, y, devices)):
            correct[k] = correct[k] + num_correct(net(X_k), y_k)
        total += y.shape[0]
    if total == 0:
        raise ValueError("the data iterator yielded no examples")
    return sum(float(c) for c in correct) / total


def train_batch(net, X, y, loss, trainer, devices):
    """One step of minibatch SGD on (X, y), shared between devices: forward, loss, backward on
    each share, then one update with the gradients summed. Returns (y_hat, y, loss) per share."""
    shares = split_batch(X, y, devices)
    # A device left without a share still computes a gradient, of zero, so that every device
    # has a fresh one to add (sliced outside autograd.record(), which cannot record it).
    idle = [(X[:1].as_in_ctx(d), y[:1].as_in_ctx(d)) for d in devices[len(shares):]]
    with autograd.record():
        outputs = [(net(X_k), y_k) for X_k, y_k in shares]
        losses = [loss(y_hat, y_k) for y_hat, y_k in outputs]
        zeros = [loss(net(X_k), y_k) * 0 for X_k, y_k in idle]
    for ell in losses + zeros:
        ell.backward()
    trainer.step(y.shape[0])
    return [(y_hat, y_k, ell) for (y_hat, y_k), ell in zip(outputs, losses)]


def train_epoch(net, train_iter, loss, trainer, devices, lr, epoch, run):
    """One pass over train_iter; returns the mean loss and the accuracy on its batches.
    lr: a number, or a schedule, a function of the fractional epoch (chapter 09)."""
    batch_metrics = BatchMetrics()
    batch_metrics.hybridize()
    metrics = [np.zeros(2, ctx=d) for d in devices]  # per device: [sum of losses, number correct]
    for i, (X, y) in enumerate(train_iter):
        if callable(lr):
            trainer.set_learning_rate(lr(epoch + i / len(train_iter)))
        for k, (y_hat, y_k, ell) in enumerate(train_batch(net, X, y, loss, trainer, devices)):
            metrics[k] = metrics[k] + batch_metrics(y_hat, y_k, ell)
        run.after_batch(y.shape[0], metrics)
    loss_sum, correct = run.totals(metrics)  # the one wait for the device in the epoch
    return loss_sum / run.examples_this_epoch, correct / run.examples_this_epoch


def train(net, train_iter, test_iter, num_epochs, lr, device=None, *, momentum=0.0,
          weight_decay=0.0, form=None, seed=None, devices=None, kvstore=None,
          checkpoint_dir=None, resume=False, verbose=True):
    """Train net with minibatch SGD on the softmax cross-entropy loss (d2l's train_ch6) and
    return the run's History. device: where to train (default try_gpu()), or devices: several,
    each taking a share of every batch. momentum, weight_decay: of SGD (0 in the book). form: the
    network's Form being trained, named in the report. seed: seed the random generators first.
    checkpoint_dir, resume: save every epoch there; continue after its last complete epoch."""
    run = TrainingRun(net, train_iter, test_iter, num_epochs, lr, device=device, devices=devices,
                      kvstore=kvstore, momentum=momentum, weight_decay=weight_decay, form=form,
                      checkpoint_dir=checkpoint_dir, resume=resume, seed=seed, verbose=verbose)
    net.initialize(init.Xavier(), ctx=run.devices, force_reinit=True)
    net.hybridize(static_alloc=True, static_shape=True)
    run.check_outputs(net)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    # (rescale_grad: on several machines, each worker's step covers its share of the batch.)
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": run.initial_lr, "momentum": momentum,
                             "wd": weight_decay, "rescale_grad": 1 / run.num_workers},
                            kvstore=run.kvstore, update_on_kvstore=run.update_on_kvstore)
    run.resume(net, trainer)
    for epoch in run.epochs():
        train_loss, train_acc = train_epoch(net, run.train_iter, loss, trainer, run.devices, lr,
                                            epoch, run)
        test_acc = evaluate_accuracy(net, test_iter, run.devices)
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


__all__ = ['num_correct', 'BatchMetrics', 'split_batch', 'evaluate_accuracy', 'train_batch', 'train_epoch', 'train', 'predict', 'CosineSchedule', 'flip_and_crop', 'native_recipe']
