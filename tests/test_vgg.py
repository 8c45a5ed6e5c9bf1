"""Chapter 10: the VGG block, VGG-11 in its book and native forms, the paper's configurations,
and the record."""

from __future__ import annotations

import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, init, np, npx
from mxnet.gluon import nn

from d2lcnn.lessons import VGG, VGG11, VGG_CONV_ARCHS, VGG_SPECS, vgg_block
from d2lcnn.tools.networks import choose_form
from d2lcnn.tools.summary import summary

npx.set_np()


def _forward_and_backward(net, shape):
    """Scores of a random batch, and the gradient of the first convolution's weight, after
    Xavier's initialisation (as train uses)."""
    net.initialize(init.Xavier())
    X = np.array(onp.random.RandomState(0).uniform(size=shape).astype("float32"))
    with autograd.record():
        y = net(X)
        loss = (y * y).sum()
    loss.backward()
    return y, net.features[0][0].weight.grad().asnumpy()


@pytest.mark.parametrize("name, batch", [("book", 2), ("native", 8)])
def test_both_forms_run_forward_and_backward_at_their_input_size(name, batch):
    form = VGG11.form(name)
    y, grad = _forward_and_backward(form.build(), (batch, 1, form.input_size, form.input_size))
    assert y.shape == (batch, 10)
    assert onp.isfinite(grad).all() and onp.abs(grad).sum() > 0


def test_vgg_block_halves_the_side():
    block = vgg_block(2, 8, in_channels=3)
    block.initialize()
    assert block(np.zeros((2, 3, 16, 16))).shape == (2, 8, 8, 8)
    assert sum(isinstance(b, nn.Conv2D) for b in block) == 2
    padded = vgg_block(1, 8, in_channels=3, first_padding=3)
    padded.initialize()
    assert padded(np.zeros((2, 3, 28, 28))).shape == (2, 8, 16, 16)  # 28 → 32 → 16


def test_vgg_block_with_batch_norm():
    block = vgg_block(2, 8, in_channels=3, batch_norm=True)
    assert [type(b).__name__ for b in block] == [
        "Conv2D", "BatchNorm", "Activation", "Conv2D", "BatchNorm", "Activation", "MaxPool2D"]


def test_book_form_is_vgg11_with_a_quarter_of_the_channels():
    assert VGG_SPECS["book"]["blocks"] == tuple((n, c // 4) for n, c in VGG_CONV_ARCHS[11])
    table = summary(VGG(VGG_SPECS["book"]), (2, 1, 224, 224))
    assert table.output_shape == (2, 10)
    assert table.total_params == 43_093_322
    pools = [r.output_shape[-1] for r in table.rows if r.kind.startswith("MaxPool")]
    assert pools == [112, 56, 28, 14, 7]


def _expected_params(spec, num_classes=10, in_channels=1):
    """Parameters of a VGG spec counted from the spec alone: 3×3 convolutions, dense layers, and
    4 numbers per channel for each batch norm."""
    total, channels = 0, in_channels
    for num_convs, out in spec["blocks"]:
        for _ in range(num_convs):
            total += 9 * channels * out + out + (4 * out if spec["batch_norm"] else 0)
            channels = out
    units = channels  # five halvings of 32 (native) leave 1×1 maps
    for width in (*spec["dense"], num_classes):
        total += units * width + width
        units = width
    return total


@pytest.mark.parametrize("batch_norm", [False, True])
def test_native_form_parameters_follow_its_spec(batch_norm):
    spec = {**VGG_SPECS["native"], "batch_norm": batch_norm}
    table = summary(VGG(spec), (2, 1, 28, 28))
    assert table.output_shape == (2, 10)
    assert table.total_params == _expected_params(spec)


def test_native_form_pads_to_32_and_sees_the_whole_image():
    table = summary(VGG(VGG_SPECS["native"]), (1, 1, 28, 28))
    assert table.rows[0].output_shape[-1] == 32
    pools = [r.output_shape[-1] for r in table.rows if r.kind.startswith("MaxPool")]
    assert pools == [16, 8, 4, 2, 1]
    spatial = [r for r in table.rows if r.receptive_field is not None]
    assert spatial[-1].receptive_field >= 28
    book = summary(VGG(VGG_SPECS["book"]), (1, 1, 224, 224))
    assert table.total_macs * 10 < book.total_macs
    assert table.total_params * 10 < book.total_params


def test_imagenet_vgg_parameter_counts():
    # Simonyan and Zisserman's 133 M and 138 M: 224×224×3, 1000 classes, full width.
    counts = {}
    for depth in (11, 16):
        spec = {**VGG_SPECS["book"], "blocks": VGG_CONV_ARCHS[depth]}
        table = summary(VGG(spec, num_classes=1000, in_channels=3), (1, 3, 224, 224))
        assert table.output_shape == (1, 1000)
        conv = sum(r.params for r in table.rows if r.kind.startswith("Conv2D"))
        counts[depth] = (table.total_params, conv)
    assert counts[11] == (132_863_336, 9_220_480)
    assert counts[16] == (138_357_544, 14_714_688)


def test_input_channels_and_classes_are_parameters():
    for name, size in (("book", 224), ("native", 28)):
        table = summary(VGG(VGG_SPECS[name], num_classes=7, in_channels=3), (1, 3, size, size))
        assert table.output_shape == (1, 7)


def test_record_and_form_choice(monkeypatch):
    monkeypatch.delenv("D2LCNN_FORM", raising=False)
    assert (VGG11.key, VGG11.title, VGG11.chapter) == ("vgg", "VGG-11", "10")
    book = VGG11.book
    assert (book.input_size, book.batch_size, book.num_epochs, book.lr) == (224, 128, 10, 0.05)
    assert (book.momentum, book.weight_decay, book.augment) == (0.0, 0.0, None)
    native = VGG11.native
    assert native.input_size == 28 and native.momentum == 0.9 and native.augment is not None
    assert callable(native.lr)  # a schedule
    result = VGG11.book_result
    assert (result.train_loss, result.train_acc, result.test_acc, result.examples_per_sec) == (
        0.176, 0.936, 0.923, 2_463)
    assert result.notebook == "chapter_convolutional-modern/vgg.ipynb"
    assert choose_form(VGG11, device=mx.cpu()).name == "native"
    assert choose_form(VGG11, device=mx.gpu(0)).name == "book"
    assert choose_form(VGG11, form="book", device=mx.cpu()).name == "book"
    monkeypatch.setenv("D2LCNN_FORM", "book")
    assert choose_form(VGG11, device=mx.cpu()).name == "book"
