"""What every network with two forms must satisfy (chapters 09-15), checked on each: its record
holds the book's settings and published run, both forms build, run forward and backward at their
real input sizes and take any channels and classes, the native form sees the whole 28×28 image for
far less arithmetic, and the device picks the form. Each chapter's own tests check its network's
particulars (block shapes, exact parameter counts)."""

from __future__ import annotations

import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, init, np, npx

from d2lcnn.lessons import (
    ALEXNET,
    ALEXNET_SPECS,
    DENSENET,
    DENSENET_SPECS,
    GOOGLENET,
    GOOGLENET_SPECS,
    LENET,
    NIN,
    NIN_SPECS,
    RESNET18,
    RESNET_SPECS,
    VGG,
    VGG11,
    VGG_SPECS,
    AlexNet,
    DenseNet,
    GoogLeNet,
    NiN,
    ResNet,
)
from d2lcnn.tools.blocks import first_conv
from d2lcnn.tools.networks import Network, choose_form
from d2lcnn.tools.summary import summary

npx.set_np()

#: network record, the book form's (input, batch, epochs, lr), the book's published run
#: (train loss, train acc, test acc, examples/s) and its notebook.
BOOK = {
    "alexnet": (ALEXNET, (224, 128, 10, 0.01), (0.333, 0.878, 0.891, 3_898), "alexnet"),
    "vgg": (VGG11, (224, 128, 10, 0.05), (0.176, 0.936, 0.923, 2_463), "vgg"),
    "nin": (NIN, (224, 128, 10, 0.1), (0.370, 0.866, 0.877, 2_898), "nin"),
    "googlenet": (GOOGLENET, (96, 128, 10, 0.1), (0.256, 0.903, 0.907, 2_344), "googlenet"),
    "resnet18": (RESNET18, (96, 256, 10, 0.05), (0.013, 0.996, 0.924, 4_565), "resnet"),
    "densenet": (DENSENET, (96, 256, 10, 0.1), (0.145, 0.946, 0.858, 5_373), "densenet"),
}
KEYS = list(BOOK)
#: each network's class and specs, as its chapter defines them
BUILDERS = {"alexnet": (AlexNet, ALEXNET_SPECS), "vgg": (VGG, VGG_SPECS), "nin": (NiN, NIN_SPECS),
            "googlenet": (GoogLeNet, GOOGLENET_SPECS), "resnet18": (ResNet, RESNET_SPECS),
            "densenet": (DenseNet, DENSENET_SPECS)}


@pytest.mark.parametrize("key", KEYS)
def test_record_holds_the_books_settings_and_run(key):
    network, settings, run, notebook = BOOK[key]
    assert network.key == key
    book = network.book
    assert (book.input_size, book.batch_size, book.num_epochs, book.lr) == settings
    result = network.book_result
    assert (result.train_loss, result.train_acc, result.test_acc,
            result.examples_per_sec) == run
    assert result.notebook == f"chapter_convolutional-modern/{notebook}.ipynb"
    native = network.native
    assert native.input_size == 28 and native.momentum == 0.9 and native.augment is not None
    assert callable(native.lr) and native.lr(native.num_epochs) == 0  # the schedule ends at 0


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("form_name", ["book", "native"])
def test_both_forms_run_forward_and_backward_at_their_input_size(key, form_name):
    form = BOOK[key][0].form(form_name)
    batch = 2 if form_name == "book" else 8
    net = form.build()
    net.initialize(init.Xavier())
    X = np.array(onp.random.RandomState(0).uniform(size=(batch, 1, form.input_size,
                                                          form.input_size)).astype("float32"))
    with autograd.record():
        y = net(X)
        loss = (y * y).sum()
    loss.backward()
    grad = first_conv(net).weight.grad().asnumpy()
    assert y.shape == (batch, 10)
    assert onp.isfinite(grad).all() and onp.abs(grad).sum() > 0


@pytest.mark.parametrize("key", KEYS)
def test_input_channels_and_classes_are_parameters(key):
    network_class, specs = BUILDERS[key]
    for form in BOOK[key][0].forms.values():
        assert type(form.build()) is network_class
        if form.name not in specs:  # the book-recipe form builds a native spec
            continue
        net = network_class(specs[form.name], num_classes=7, in_channels=3)
        table = summary(net, (1, 3, form.input_size, form.input_size))
        assert table.output_shape == (1, 7)


@pytest.mark.parametrize("key", KEYS)
def test_native_form_sees_the_whole_image_for_far_less_arithmetic(key):
    network = BOOK[key][0]
    native = summary(network.native.build(), network.native.input_shape)
    spatial = [r for r in native.rows if r.receptive_field is not None]
    assert spatial[-1].receptive_field >= 28
    book = summary(network.book.build(), network.book.input_shape)
    assert native.total_macs * 5 < book.total_macs


@pytest.mark.parametrize("key", KEYS)
def test_the_device_chooses_the_form_unless_told(key, monkeypatch):
    network = BOOK[key][0]
    monkeypatch.delenv("D2LCNN_FORM", raising=False)
    assert choose_form(network, device=mx.cpu()).name == "native"
    assert choose_form(network, device=mx.gpu(0)).name == "book"
    assert choose_form(network, form="book", device=mx.cpu()).name == "book"
    monkeypatch.setenv("D2LCNN_FORM", "book")
    assert choose_form(network, device=mx.cpu()).name == "book"


@pytest.mark.parametrize("key", KEYS)
def test_book_recipe_form_is_the_native_architecture_trained_like_the_book(key):
    """The like-for-like run (issue: what the design earns, what the recipe adds): the native
    input size and no more parameters than the native form (batch norm it only borrowed is
    dropped), with the book form's batch, epochs and learning rate, plain SGD, no augmentation."""
    network = BOOK[key][0]
    recipe, book, native = network.form("book-recipe"), network.book, network.native
    assert (recipe.batch_size, recipe.num_epochs, recipe.lr) == (book.batch_size,
                                                                  book.num_epochs, book.lr)
    assert (recipe.momentum, recipe.weight_decay, recipe.augment) == (0.0, 0.0, None)
    assert recipe.input_size == native.input_size == 28
    assert recipe.key == key and recipe.network == network.title
    params = summary(recipe.build(), recipe.input_shape).total_params
    assert params <= summary(native.build(), native.input_shape).total_params
    kinds = {r.kind.split()[0] for r in summary(recipe.build(), recipe.input_shape, depth=9).rows}
    assert ("BatchNorm" in kinds) == (key in ("resnet18", "densenet"))


def test_book_recipe_needs_a_native_form():
    with pytest.raises(ValueError, match="needs a native form"):
        Network(key="x", title="X", chapter="99", book=LENET.book, book_recipe=lambda: None)
