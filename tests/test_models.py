"""The model zoo: output shapes, exact parameter counts, the blocks' channel arithmetic, and the
from-scratch batch norm against Gluon's ``nn.BatchNorm``."""

from __future__ import annotations

import numpy as onp
import pytest
from mxnet import autograd, np, npx
from mxnet.gluon import nn

from d2lcnn import data, models, published
from d2lcnn.summary import summary

npx.set_np()

# (constructor, kwargs, input shape, parameters in all, of which moving statistics)
COUNTS = {
    "lenet": (models.lenet, {}, (2, 1, 28, 28), 61_706, 0),
    "alexnet": (models.alexnet, {}, (2, 1, 224, 224), 46_764_746, 0),
    # The course notes' AlexNet with batch norm: 227×227×3, 10 classes.
    "alexnet_bn": (models.alexnet_bn, {}, (2, 3, 227, 227), 58_327_818, 2_752),
    # VGG on ImageNet: 224×224×3, 1000 classes (Simonyan and Zisserman's 133 M and 138 M).
    "vgg11": (models.vgg11, dict(num_classes=1000, in_channels=3), (1, 3, 224, 224),
              132_863_336, 0),
    "vgg16": (models.vgg16, dict(num_classes=1000, in_channels=3), (1, 3, 224, 224),
              138_357_544, 0),
    "vgg11_small": (models.vgg11_small, {}, (2, 1, 224, 224), 43_093_322, 0),
    "nin": (models.nin, {}, (2, 1, 224, 224), 1_992_166, 0),
    "googlenet": (models.googlenet, {}, (2, 1, 96, 96), 5_977_530, 0),
    # d2l's BN-LeNet has no padding (28 → 24 → 12 → 8 → 4): 44,426 weights and biases, then
    # 2 × (6 + 16 + 120 + 84) = 452 γ and β and as many moving statistics.
    "bn_lenet": (models.bn_lenet, {}, (2, 1, 28, 28), 45_330, 452),
    "bn_lenet_builtin": (models.bn_lenet, dict(builtin=True), (2, 1, 28, 28), 45_330, 452),
    "resnet18": (models.resnet18, {}, (2, 1, 96, 96), 11_186_186, 7_808),
    "densenet": (models.densenet, {}, (2, 1, 96, 96), 764_834, 6_608),
}


@pytest.mark.parametrize("name", COUNTS)
def test_output_shape_and_parameter_count(name):
    build, kwargs, shape, total, moving = COUNTS[name]
    net = build(**kwargs)
    table = summary(net, shape)
    assert table.output_shape == (shape[0], kwargs.get("num_classes", 10))
    assert table.total_params == total
    assert table.non_trainable_params == moving


def test_vgg16_conv_layers_hold_a_tenth_of_its_parameters():
    # 14.7 M in the 13 convolutions, 123.6 M in the three dense layers.
    table = summary(models.vgg16(num_classes=1000, in_channels=3), (1, 3, 224, 224))
    conv = sum(r.params for r in table.rows if r.kind.startswith("Conv2D"))
    assert conv == 14_714_688
    assert table.total_params - conv == 123_642_856


def test_alexnet_bn_has_batch_norm_after_every_convolution():
    net = models.alexnet_bn()
    kinds = [type(b).__name__ for b in net.features]
    assert kinds.count("BatchNorm") == 5
    for i, kind in enumerate(kinds):
        if kind == "Conv2D":
            assert kinds[i + 1 : i + 3] == ["BatchNorm", "Activation"]


def test_alexnet_bn_feature_map_sizes_at_227():
    table = summary(models.alexnet_bn(), (1, 3, 227, 227))
    pools = [r.output_shape for r in table.rows if r.kind.startswith("MaxPool2D")]
    assert pools == [(1, 96, 27, 27), (1, 256, 13, 13), (1, 256, 6, 6)]


@pytest.mark.parametrize("name", ["alexnet", "nin", "googlenet", "resnet18", "densenet"])
def test_input_channels_and_classes_are_parameters(name):
    build = getattr(models, name)
    size = models.MODELS[name].input_size
    table = summary(build(num_classes=7, in_channels=3), (1, 3, size, size))
    assert table.output_shape == (1, 7)


def test_vgg_block_halves_the_side():
    block = models.vgg_block(2, 8, in_channels=3)
    block.initialize()
    assert block(np.zeros((2, 3, 16, 16))).shape == (2, 8, 8, 8)
    assert sum(isinstance(b, nn.Conv2D) for b in block) == 2


def test_vgg_ratio_and_spec():
    assert summary(models.vgg(11, ratio=4), (1, 1, 224, 224)).total_params == 43_093_322
    net = models.vgg(models.vgg_spec[11], ratio=4)
    assert net.conv_arch == ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))
    assert net.display_name == "VGG-11, ratio 4"
    assert models.vgg16().display_name == "VGG-16"
    with pytest.raises(ValueError, match="vgg_spec"):
        models.vgg(12)
    with pytest.raises(ValueError, match="ratio"):
        models.vgg(11, ratio=0)
    with pytest.raises(ValueError, match="conv_arch"):
        models.VGG([(0, 64)])


def test_nin_block_and_no_dense_layer():
    block = models.nin_block(16, kernel_size=5, strides=1, padding=2, in_channels=3)
    block.initialize()
    assert block(np.zeros((2, 3, 12, 12))).shape == (2, 16, 12, 12)
    assert [b._kwargs["kernel"] for b in block] == [(5, 5), (1, 1), (1, 1)]
    table = summary(models.nin(), (1, 1, 224, 224))
    assert not any(r.kind.startswith("Dense") for r in table.rows)
    # An order of magnitude fewer parameters than AlexNet.
    assert table.total_params * 20 < summary(models.alexnet(), (1, 1, 224, 224)).total_params


def test_inception_concatenates_the_four_paths():
    block = models.Inception(64, (96, 128), (16, 32), 32, in_channels=192)
    block.initialize()
    assert block.out_channels == 64 + 128 + 32 + 32 == 256
    assert block(np.zeros((2, 192, 12, 12))).shape == (2, 256, 12, 12)


def test_googlenet_stage_channels_and_sides():
    # The channel arithmetic of the notes: the Inception blocks' outputs, stage by stage.
    outs = [[inc.out_channels for inc in models.GoogLeNet().features[i]._children.values()
             if isinstance(inc, models.Inception)] for i in (2, 3, 4)]
    assert outs == [[256, 480], [512, 512, 512, 528, 832], [832, 1024]]
    table = summary(models.googlenet(), (1, 1, 96, 96), depth=2)
    assert [r.output_shape for r in table.rows] == [
        (1, 64, 24, 24), (1, 192, 12, 12), (1, 480, 6, 6), (1, 832, 3, 3), (1, 1024, 1, 1),
        (1, 10)]


def test_residual_shapes_with_and_without_1x1_conv():
    X = np.zeros((4, 3, 6, 6))
    same = models.Residual(3)
    down = models.Residual(6, use_1x1conv=True, strides=2)
    for block in (same, down):
        block.initialize()
    assert same.conv3 is None and same(X).shape == (4, 3, 6, 6)
    assert down.conv3 is not None and down(X).shape == (4, 6, 3, 3)
    broken = models.Residual(6, strides=2)
    broken.initialize()
    with pytest.raises(Exception, match="broadcast"):
        broken(X).wait_to_read()


def test_residual_adds_the_input():
    # With the convolutions' weights at zero the block is relu(bn2(0 + bias) + x) = relu(x).
    block = models.Residual(3, in_channels=3)
    block.initialize()
    for conv in (block.conv1, block.conv2):
        conv.weight.set_data(np.zeros_like(conv.weight.data()))
    X = np.array(onp.random.RandomState(0).normal(size=(2, 3, 5, 5)).astype("float32"))
    onp.testing.assert_allclose(block(X).asnumpy(), onp.maximum(X.asnumpy(), 0), atol=1e-5)


def test_resnet18_stages():
    table = summary(models.resnet18(), (1, 1, 96, 96), depth=2)
    stages = [r.output_shape for r in table.rows if r.kind == "HybridSequential"]
    assert stages == [(1, 64, 24, 24), (1, 128, 12, 12), (1, 256, 6, 6), (1, 512, 3, 3)]
    layers_with_weights = [r for r in summary(models.resnet18(), (1, 1, 96, 96)).rows
                           if r.kind.split()[0] in ("Conv2D", "Dense")
                           and not r.kind.startswith("Conv2D 1×1")]
    assert len(layers_with_weights) == 18


def test_dense_block_and_transition_channels():
    block = models.DenseBlock(2, 10, in_channels=3)
    block.initialize()
    assert block.out_channels == 23
    Y = block(np.zeros((4, 3, 8, 8)))
    assert Y.shape == (4, 23, 8, 8)
    transition = models.transition_block(10, in_channels=23)
    transition.initialize()
    assert transition(Y).shape == (4, 10, 4, 4)


def test_dense_block_keeps_its_input():
    block = models.DenseBlock(2, 4, in_channels=3)
    block.initialize()
    X = np.array(onp.random.RandomState(0).uniform(size=(2, 3, 5, 5)).astype("float32"))
    onp.testing.assert_array_equal(block(X)[:, :3].asnumpy(), X.asnumpy())


def test_densenet_channel_arithmetic():
    # 64 → +4·32 = 192 → /2 = 96 → 224 → 112 → 240 → 120 → 248.
    table = summary(models.densenet(), (1, 1, 96, 96), depth=2)
    channels = [r.output_shape[1] for r in table.rows
                if r.kind in ("DenseBlock", "HybridSequential")]
    assert channels == [192, 96, 224, 112, 240, 120, 248]


# --- batch normalization from scratch ---------------------------------------------------------


@pytest.fixture(scope="module")
def images(data_dir):
    imgs, _ = data.load_arrays("fashion-mnist", "test", data_dir)
    return imgs[:256].astype("float32") / 255


def _conv_batches(images, channels=4, batch=8):
    """Real images grouped ``channels`` at a time into (batch, channels, 28, 28) inputs."""
    per = channels * batch
    return [np.array(images[i * per : (i + 1) * per].reshape(batch, channels, 28, 28))
            for i in range(len(images) // per)]


def _dense_batches(images, features=25, batch=16):
    """5×5 centre patches of real images as (batch, 25) inputs."""
    patches = images[:, 12:17, 12:17].reshape(len(images), features)
    return [np.array(patches[i * batch : (i + 1) * batch]) for i in range(len(images) // batch)]


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_batch_norm_matches_gluon_in_both_modes(images, kind):
    batches = _dense_batches(images) if kind == "dense" else _conv_batches(images)
    num_features = batches[0].shape[1]
    ours = models.BatchNorm(num_features, num_dims=batches[0].ndim)
    gluons = nn.BatchNorm(in_channels=num_features)
    ours.initialize()
    gluons.initialize()
    rng = onp.random.RandomState(0)
    gamma = np.array(rng.uniform(0.5, 2, num_features).astype("float32"))
    beta = np.array(rng.normal(size=num_features).astype("float32"))
    for layer in (ours, gluons):
        layer.gamma.set_data(gamma)
        layer.beta.set_data(beta)
    for X in batches[:3]:  # training mode: batch statistics, moving averages updated
        with autograd.record():
            Y_ours, Y_gluon = ours(X), gluons(X)
            loss = (Y_ours * Y_ours).sum() + (Y_gluon * Y_gluon).sum()
        loss.backward()  # nn.BatchNorm updates its moving averages in the backward pass
        onp.testing.assert_allclose(Y_ours.asnumpy(), Y_gluon.asnumpy(), atol=1e-4)
        onp.testing.assert_allclose(ours.gamma.grad().asnumpy(), gluons.gamma.grad().asnumpy(),
                                    rtol=1e-3, atol=1e-3)
        onp.testing.assert_allclose(ours.beta.grad().asnumpy(), gluons.beta.grad().asnumpy(),
                                    rtol=1e-3, atol=1e-3)
    onp.testing.assert_allclose(ours.moving_mean.data().asnumpy(),
                                gluons.running_mean.data().asnumpy(), atol=1e-6)
    onp.testing.assert_allclose(ours.moving_var.data().asnumpy(),
                                gluons.running_var.data().asnumpy(), atol=1e-6)
    assert not onp.allclose(ours.moving_var.data().asnumpy(), 1)  # they did move
    X = batches[3]  # prediction mode: the moving averages, unchanged by the pass
    before = ours.moving_mean.data().asnumpy()
    onp.testing.assert_allclose(ours(X).asnumpy(), gluons(X).asnumpy(), atol=1e-4)
    onp.testing.assert_array_equal(ours.moving_mean.data().asnumpy(), before)


def test_batch_norm_function_normalizes_per_channel(images):
    X = _conv_batches(images)[0]
    ones, zeros = np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1))
    with autograd.train_mode():
        Y, mean, var = models.batch_norm(X, ones, zeros, zeros, ones, momentum=0.9)
    Y = Y.asnumpy()
    onp.testing.assert_allclose(Y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    onp.testing.assert_allclose(Y.var(axis=(0, 2, 3)), 1, atol=1e-3)
    onp.testing.assert_allclose(mean.asnumpy().ravel(), 0.1 * X.asnumpy().mean(axis=(0, 2, 3)),
                                rtol=1e-5)
    with autograd.predict_mode():
        Y, mean2, _ = models.batch_norm(X, ones, zeros, mean, var)
    assert mean2 is mean
    onp.testing.assert_allclose(Y.asnumpy(), (X - mean).asnumpy() / onp.sqrt(var.asnumpy() + 1e-5),
                                rtol=1e-5)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="num_dims"):
        models.BatchNorm(3, num_dims=3)
    layer = models.BatchNorm(3, num_dims=4)
    layer.initialize()
    with pytest.raises(ValueError, match=r"\(batch, 3, H, W\)"):
        layer(np.zeros((2, 3)))
    layer.hybridize()
    with pytest.raises(RuntimeError, match="cannot be hybridized"):
        layer(np.zeros((2, 3, 4, 4)))


def test_bn_lenet_hybridizes_around_the_scratch_batch_norm(images):
    net = models.bn_lenet()
    net.initialize()
    X = np.array(images[:8, None])
    expected = net(X).asnumpy()
    net.hybridize(static_alloc=True, static_shape=True)
    for block in net.features:
        assert block._active == (not isinstance(block, models.BatchNorm))
    assert not net._active and not net.features._active
    onp.testing.assert_allclose(net(X).asnumpy(), expected, atol=1e-5)
    with autograd.record():
        loss = net(X).sum()
    loss.backward()
    assert not onp.allclose(net.features[1].moving_mean.data().asnumpy(), 0)
    builtin = models.bn_lenet(builtin=True)
    builtin.initialize()
    builtin.hybridize()
    assert builtin._active


def test_bn_lenet_scratch_and_builtin_compute_the_same_function(images):
    scratch, builtin = models.bn_lenet(), models.bn_lenet(builtin=True)
    scratch.initialize()
    builtin.initialize()
    src = list(scratch.collect_params().values())
    dst = list(builtin.collect_params().values())
    assert [p.shape for p in src] == [p.shape for p in dst]
    for a, b in zip(src, dst, strict=True):
        b.set_data(a.data())
    X = np.array(images[:16, None])
    # Predict mode first: a training-mode pass moves the scratch layers' moving averages (in the
    # forward pass), not Gluon's (in the backward pass).
    for mode in (autograd.predict_mode, autograd.train_mode):
        with mode():
            onp.testing.assert_allclose(scratch(X).asnumpy(), builtin(X).asnumpy(), atol=1e-4)


# --- the registry -------------------------------------------------------------------------------


def test_registry_builds_every_network_at_its_training_size():
    for key, entry in models.MODELS.items():
        table = summary(entry.build(), entry.input_shape)
        assert table.output_shape == (1, 10), key


def test_registry_hyperparameters_are_the_books():
    assert set(models.MODELS) == set(published.MXNET)
    for key, hp in models.HYPERPARAMETERS.items():
        book = published.published(key)
        assert (hp.lr, hp.batch_size, hp.resize, hp.num_epochs) == (
            book.lr, book.batch_size, book.resize, book.num_epochs), key
    assert models.MODELS["bn_lenet_gluon"].build().builtin
    assert not models.MODELS["bn_lenet"].build().builtin
