"""The chapter 01–04 pictures (d2lcnn.tools.explore): window logic, drawings, widgets and their still
pictures, headless. The lessons' from-scratch operations check the explorer's own NumPy arithmetic."""

from __future__ import annotations

import base64
import itertools
from pathlib import Path

import ipywidgets as widgets
import numpy as onp
import pytest
from matplotlib.figure import Figure
from mxnet import np, npx

from d2lcnn.lessons import conv_output_size, corr2d, pool2d
from d2lcnn.tools import explore

npx.set_np()


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


# --- window positions --------------------------------------------------------------------------

def test_window_positions_d2l_example():
    windows = explore.window_positions((3, 3), (2, 2))
    assert [(w.out_row, w.out_col) for w in windows] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert windows[3].rows == (1, 2) and windows[3].cols == (1, 2)
    assert [w.step for w in windows] == [0, 1, 2, 3]


def test_window_positions_with_padding_stride_dilation():
    windows = explore.window_positions((4, 4), 3, padding=1, stride=2, dilation=1)
    assert len(windows) == 4
    assert windows[-1].rows == (2, 3, 4)  # padded coordinates
    dilated = explore.window_positions(7, 3, dilation=2)
    assert len(dilated) == 9 and dilated[0].rows == (0, 2, 4)


@pytest.mark.parametrize("case", range(20))
def test_window_positions_cover_the_output(case):
    rng = onp.random.default_rng(case)
    n, k = (int(v) for v in rng.integers(2, 9, 2))
    p, s = int(rng.integers(0, 3)), int(rng.integers(1, 4))
    if k > n + 2 * p:
        k = n
    windows = explore.window_positions(n, k, p, s)
    o = conv_output_size(n, k, p, s)
    assert len(windows) == o * o
    assert max(w.rows[-1] for w in windows) < n + 2 * p


def test_window_positions_explain_a_kernel_too_large():
    with pytest.raises(ValueError, match="kernel spans 4 pixels but the padded input has only 3"):
        explore.window_positions(3, 4)


# --- sliding-window drawing --------------------------------------------------------------------

def test_sliding_window_shows_the_arithmetic():
    X, K = np.arange(9.0).reshape(3, 3), np.arange(4.0).reshape(2, 2)
    fig = explore.draw_sliding_window(X, K, steps=[0, 1, 2, 3], columns=2)
    assert isinstance(fig, Figure)
    texts = _texts(fig)
    assert "step 0: output[0, 0] = 0×0 + 1×1 + 3×2 + 4×3 = 19" in texts
    assert "step 3: output[1, 1] = 4×0 + 5×1 + 7×2 + 8×3 = 43" in texts
    assert len(fig.axes) == 12  # three panels per step


def test_sliding_window_fills_the_output_up_to_the_step():
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    fig = explore.draw_sliding_window(X, np.array([[1.0, -1.0]]), steps=5)
    output_axes = fig.axes[2]
    shown = [t.get_text() for t in output_axes.texts]
    assert shown == ["0", "1", "0", "0", "0", "−1"]  # outputs 0..5 of the first row


def test_sliding_window_pooling_with_padding_and_stride():
    X = np.arange(16.0).reshape(4, 4)
    fig = explore.draw_sliding_window(X, mode="max", pool_size=3, padding=1, stride=2, steps=[0, 3])
    texts = _texts(fig)
    assert "step 0: output[0, 0] = max(−∞, −∞, −∞, −∞, 0, 1, −∞, 4, 5) = 5" in texts
    assert "step 3: output[1, 1] = max(5, 6, 7, 9, 10, 11, 13, 14, 15) = 15" in texts
    fig = explore.draw_sliding_window(np.arange(9.0).reshape(3, 3), mode="avg", pool_size=2,
                                      stride=1, steps=0)
    assert "step 0: output[0, 0] = mean(0, 1, 3, 4) = 2" in _texts(fig)


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=4), r"step must be in 0..3 \(4 window positions\), got 4"),
    (dict(mode="sum"), "mode must be 'corr', 'max' or 'avg'"),
    (dict(mode="max"), "mode='max' needs a pool_size"),
])
def test_sliding_window_bad_arguments(kwargs, message):
    kernel = None if kwargs.get("mode") == "max" else np.ones((2, 2))
    with pytest.raises(ValueError, match=message):
        explore.draw_sliding_window(np.ones((3, 3)), kernel, **kwargs)


def test_sliding_window_needs_a_kernel_and_2d_input():
    with pytest.raises(ValueError, match="needs a kernel"):
        explore.draw_sliding_window(np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"2-D \(H, W\)"):
        explore.draw_sliding_window(np.ones((1, 3, 3)), np.ones((2, 2)))


def test_sliding_window_explorer_widget():
    X, K = np.arange(9.0).reshape(3, 3), np.arange(4.0).reshape(2, 2)
    box = explore.sliding_window_explorer(X, K)
    assert isinstance(box, widgets.VBox)
    play, slider = box.children[0].children
    assert (slider.min, slider.max, slider.value) == (0, 3, 0)
    assert play.max == 3
    slider.value = 3  # redraws without error
    pool_box = explore.sliding_window_explorer(np.arange(16.0).reshape(4, 4), mode="max",
                                               pool_size=2, step=1)
    assert pool_box.children[0].children[1].max == 3
    with pytest.raises(ValueError, match="step must be in 0..3"):
        explore.sliding_window_explorer(X, K, step=9)


# --- padding / stride / dilation explorer ------------------------------------------------------

@pytest.mark.parametrize("n, k, p, s, d", [
    (8, 3, 1, 1, 1), (8, 3, 1, 2, 1), (7, 3, 0, 1, 2), (9, 4, 2, 3, 1), (5, 5, 0, 1, 1), (16, 7, 4, 4, 3),
])
def test_geometry_agrees_with_gluon(n, k, p, s, d):
    geo = explore.conv_geometry(n, k, p, s, d)
    assert geo.output_size == conv_output_size(n, k, p, s, d)
    assert explore.gluon_output_shape(n, k, p, s, d) == (1, 1, geo.output_size, geo.output_size)


def test_geometry_agrees_with_gluon_on_a_grid():
    for n, k, p, s, d in itertools.product((1, 4, 7), (1, 2, 3), (0, 1, 2), (1, 2, 3), (1, 2)):
        geo = explore.conv_geometry(n, k, p, s, d)
        gluon = explore.gluon_output_shape(n, k, p, s, d)
        if geo.output_size is None:
            assert isinstance(gluon, str) and gluon.startswith("Gluon refuses"), (n, k, p, s, d)
        else:
            assert gluon == (1, 1, geo.output_size, geo.output_size), (n, k, p, s, d)


def test_geometry_windows_and_unread_pixels():
    geo = explore.conv_geometry(8, 2, 0, 3)  # windows at 0, 3, 6: pixels 2 and 5 are skipped
    assert geo.window_starts == [0, 3, 6]
    assert geo.never_read == [2, 5]
    assert geo.formula() == "⌊(8 + 2·0 − 2) / 3⌋ + 1 = 3"
    dilated = explore.conv_geometry(7, 3, 0, 1, 2)
    assert dilated.effective_kernel == 5 and dilated.taps(0) == [0, 2, 4]
    assert dilated.formula() == "⌊(7 + 2·0 − 2·(3 − 1) − 1) / 1⌋ + 1 = 3"
    assert dilated.never_read == []


def test_geometry_of_a_kernel_too_large():
    geo = explore.conv_geometry(3, 5)
    assert geo.output_size is None and "pad by at least 1 per side" in geo.error
    assert geo.formula().endswith("kernel (5) > padded input (3)")
    assert geo.window_starts == [] and geo.never_read == [0, 1, 2]


def test_draw_geometry_titles_formula_and_gluon():
    fig = explore.draw_conv_geometry(8, 3, 1, 2)
    title = fig._suptitle.get_text()
    assert "⌊(8 + 2·1 − 3) / 2⌋ + 1 = 4" in title
    assert "Gluon nn.Conv2D output: (1, 1, 4, 4)  ✓ same" in title
    bad = explore.draw_conv_geometry(3, 5)  # drawn, not raised
    assert "Gluon refuses" in bad._suptitle.get_text()


def test_conv_geometry_explorer_widget():
    box = explore.conv_geometry_explorer()
    sliders = box.children[0].children[0].children + box.children[0].children[1].children
    assert [s.value for s in sliders] == [8, 3, 1, 1, 1]
    sliders[0].value = 3
    sliders[1].value = 7  # too large: the picture says so instead of raising


# --- the explorer's arithmetic agrees with the lessons ----------------------------------------

@pytest.mark.parametrize("case", range(15))
def test_window_outputs_match_corr2d_and_pool2d(case):
    rng = onp.random.default_rng([7, case])
    h, w = (int(v) for v in rng.integers(3, 8, 2))
    k = tuple(int(v) for v in rng.integers(1, 4, 2))
    p = tuple(int(rng.integers(0, ki)) for ki in k)  # smaller than the window, as pooling needs
    s = tuple(int(v) for v in rng.integers(1, 3, 2))
    x, kernel = rng.standard_normal((h, w)), rng.standard_normal(k)
    windows = explore.window_positions((h, w), k, p, s)
    padded = onp.pad(x, ((p[0], p[0]), (p[1], p[1])))
    got = explore.window_outputs(padded, windows, "corr", kernel)
    assert onp.allclose(got, corr2d(np.array(x), np.array(kernel), p, s).asnumpy(), atol=1e-5)
    for mode, fill in [("max", -onp.inf), ("avg", 0.0)]:
        padded = onp.pad(x, ((p[0], p[0]), (p[1], p[1])), constant_values=fill)
        got = explore.window_outputs(padded, windows, mode)
        assert onp.allclose(got, pool2d(np.array(x), k, mode, p, s).asnumpy(), atol=1e-5)


def test_explore_does_not_import_lesson_code():
    source = Path(explore.__file__).read_text(encoding="utf-8")
    assert "lessons" not in "".join(line for line in source.splitlines() if "import" in line)


# --- impossible settings explain themselves ---------------------------------------------------

@pytest.mark.parametrize("n, k, p, d, words", [
    (1, 7, 0, 1, "no output: the kernel spans 7 pixels but the padded input has only 1 (1 + 2·0)"),
    (3, 5, 0, 1, "no output: the kernel spans 5 pixels but the padded input has only 3"),
    (4, 3, 1, 3, "kernel spans 7 pixels (kernel 3 with dilation 3) but the padded input has only 6"),
])
def test_impossible_geometry_is_explained_in_the_courses_words(n, k, p, d, words):
    title = explore.draw_conv_geometry(n, k, p, 1, d)._suptitle.get_text()
    assert words in title
    assert "Use a smaller kernel or dilation, or pad by at least" in title
    assert explore.GLUON_REFUSES in title
    for raw in ("dilated_ksize", "AddPad", "Check failed", "MXNetError", "dshape", "param_"):
        assert raw not in title


def test_gluon_refusal_hides_mxnets_message():
    assert explore.gluon_output_shape(1, 7) == explore.GLUON_REFUSES


# --- explorers show a still picture where the widget cannot run ------------------------------

def _mimebundle(explorer) -> dict:
    bundle = explorer._repr_mimebundle_()
    return bundle[0] if isinstance(bundle, tuple) else bundle


@pytest.mark.parametrize("make", [
    lambda: explore.sliding_window_explorer(np.arange(9.0).reshape(3, 3), np.ones((2, 2))),
    lambda: explore.sliding_window_explorer(np.arange(16.0).reshape(4, 4), mode="avg",
                                            pool_size=3, padding=1, stride=2),
    lambda: explore.conv_geometry_explorer(),
    lambda: explore.conv_geometry_explorer(n=3, k=5, p=0),  # starts at an impossible setting
])
def test_explorer_output_has_a_still_picture_and_a_short_text(make, capsys):
    explorer = make()
    bundle = _mimebundle(explorer)
    assert bundle["image/png"] == explorer.picture_png
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    text = bundle["text/plain"]
    assert "run this cell" in text and "\n" not in text and len(text) < 100
    assert "VBox" not in text
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget, when running
    out, err = capsys.readouterr()
    # outside a kernel the Output widget does not capture the first drawing: it prints its repr
    hints = [line for line in out.splitlines() if "run this cell if you only see a picture" in line]
    assert len(hints) == 1 and hints[0].startswith("Drag the slider")
    assert err == ""


def test_still_picture_is_the_starting_picture():
    explorer = explore.conv_geometry_explorer(n=8, k=3, p=1, s=2)
    fig = explore.draw_conv_geometry(8, 3, 1, 2)
    assert explorer.picture_png == explore._png(fig)
