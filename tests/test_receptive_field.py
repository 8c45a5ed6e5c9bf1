import pytest

from d2lcnn import models
from d2lcnn.receptive_field import (
    LayerGeometry,
    layers_from_net,
    receptive_field,
    receptive_field_steps,
)

NOTES_CHAIN = [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)]


@pytest.mark.parametrize("layers, expected", [
    ([(3, 1), (3, 1)], 5),
    ([(3, 1)] * 3, 7),
    ([(3, 2), (2, 1)], 5),
    (NOTES_CHAIN, 30),
    ([], 1),
])
def test_notes_examples(layers, expected):
    assert receptive_field(layers) == expected
    steps = receptive_field_steps(layers)
    assert (steps[-1].receptive_field if steps else 1) == expected


def test_forward_form_jump_and_start():
    steps = receptive_field_steps(NOTES_CHAIN)
    assert [s.jump for s in steps] == [1, 2, 2, 4, 4, 4, 8]
    assert [s.receptive_field for s in steps] == [3, 4, 8, 10, 18, 26, 30]
    # unpadded 3×3 conv: the first output is centred on input pixel 1 (centre 1.5)
    assert steps[0].start == 1.5


def test_dilation_widens_the_kernel():
    assert LayerGeometry(3, dilation=2).effective_kernel == 5
    assert receptive_field([(3, 1, 0, 2), (3, 1, 0, 4)]) == 1 + 4 + 8


def test_lenet_and_alexnet_from_gluon():
    assert [(g.kernel, g.stride) for g in layers_from_net(models.lenet())] == [(5, 1), (2, 2), (5, 1), (2, 2)]
    assert receptive_field(layers_from_net(models.lenet())) == 16
    assert receptive_field(layers_from_net(models.alexnet())) == 195


def test_bad_layers_are_explained():
    with pytest.raises(ValueError, match="stride must be at least 1"):
        receptive_field([(3, 0)])
    with pytest.raises(TypeError, match=r"\(kernel, stride\[, padding\[, dilation\]\]\)"):
        receptive_field([(3, 1, 0, 1, 9)])
