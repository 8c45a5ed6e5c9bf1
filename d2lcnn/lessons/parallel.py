"""Lesson code of notebooks/16_comparison.ipynb, generated from its ``#@save`` cells.

Do not edit: change the notebook, then run ``make lib`` (tests/test_lessons.py checks
that this file and the notebooks agree).
"""

from mxnet import autograd, gluon, init, np

from d2lcnn.tools.run import TrainingRun

from .training import BatchMetrics, num_correct


def split_batch(X, y, devices):
    """The batch (X, y) cut along its first axis into one share per device, copied there. A
    batch smaller than the number of devices gives fewer shares than devices."""
    used = devices[: min(len(devices), y.shape[0])]
    return list(zip(gluon.utils.split_and_load(X, used, even_split=False),
                    gluon.utils.split_and_load(y, used, even_split=False)))


def evaluate_accuracy_parallel(net, data_iter, devices):
    """Chapter 08's evaluate_accuracy with every batch split between devices; the counts stay
    on the devices until the end."""
    correct, total = [np.zeros((), ctx=d) for d in devices], 0
    for X, y in data_iter:
        for k, (X_k, y_k) in enumerate(split_batch(X, y, devices)):
            correct[k] = correct[k] + num_correct(net(X_k), y_k)
        total += y.shape[0]
    if total == 0:
        raise ValueError("the data iterator yielded no examples")
    return sum(float(c) for c in correct) / total


def train_batch_parallel(net, X, y, loss, trainer, devices):
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


def train_epoch_parallel(net, train_iter, loss, trainer, devices, lr, epoch, run):
    """Chapter 08's train_epoch with every batch split between devices; returns the mean loss
    and the accuracy on its batches."""
    batch_metrics = BatchMetrics()
    batch_metrics.hybridize()
    metrics = [np.zeros(2, ctx=d) for d in devices]  # per device: [sum of losses, number correct]
    for i, (X, y) in enumerate(train_iter):
        if callable(lr):
            trainer.set_learning_rate(lr(epoch + i / len(train_iter)))
        for k, share in enumerate(train_batch_parallel(net, X, y, loss, trainer, devices)):
            metrics[k] = metrics[k] + batch_metrics(*share)
        run.after_batch(y.shape[0], metrics)
    loss_sum, correct = run.totals(metrics)  # the one wait for the devices in the epoch
    return loss_sum / run.examples_this_epoch, correct / run.examples_this_epoch


def train_parallel(net, train_iter, test_iter, num_epochs, lr, devices, *,
                   kvstore=None, momentum=0.0, weight_decay=0.0, form=None, seed=None,
                   checkpoint_dir=None, resume=False, verbose=True):
    """Chapter 08's train with every batch split between devices (a list, e.g.
    try_all_gpus()); returns the run's History. kvstore: where the gradients are added up
    (default: "device" when every device is a GPU, "local" otherwise; "dist_sync" on several
    machines). The other arguments are train's."""
    run = TrainingRun(net, train_iter, test_iter, num_epochs, lr, devices=devices,
                      kvstore=kvstore, momentum=momentum, weight_decay=weight_decay, form=form,
                      checkpoint_dir=checkpoint_dir, resume=resume, seed=seed, verbose=verbose)
    net.initialize(init.Xavier(), ctx=run.devices, force_reinit=True)
    net.hybridize(static_alloc=True, static_shape=True)
    run.check_outputs(net)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    # rescale_grad: on several machines each worker's step covers its share of the batch.
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": run.initial_lr, "momentum": momentum,
                             "wd": weight_decay, "rescale_grad": 1 / run.num_workers},
                            kvstore=run.kvstore, update_on_kvstore=run.update_on_kvstore)
    run.resume(net, trainer)
    for epoch in run.epochs():
        train_loss, train_acc = train_epoch_parallel(net, run.train_iter, loss, trainer,
                                                     run.devices, lr, epoch, run)
        test_acc = evaluate_accuracy_parallel(net, test_iter, run.devices)
        run.end_epoch(net, trainer, train_loss, train_acc, test_acc)
    return run.finish()


__all__ = ['split_batch', 'evaluate_accuracy_parallel', 'train_batch_parallel', 'train_epoch_parallel', 'train_parallel']
