"""d2lcnn.config: every environment variable is read there, and a value it cannot understand is an
error that names the variable and the values it takes (never a guess)."""

from pathlib import Path

import pytest

from d2lcnn import config


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("YES", True),
                                             ("0", False), ("", False), ("off", False)])
def test_quick_mode_values(monkeypatch, value, expected):
    monkeypatch.setenv(config.QUICK_ENV, value)
    assert config.quick_mode() is expected


def test_quick_mode_unset_is_full(monkeypatch):
    monkeypatch.delenv(config.QUICK_ENV, raising=False)
    assert not config.quick_mode()
    assert config.describe_quick_mode(False) == "full data"


def test_quick_mode_is_described_with_its_sizes():
    text = config.describe_quick_mode(True)
    assert "D2LCNN_QUICK=1" in text and f"{config.QUICK_EPOCHS} epoch" in text
    assert "1,000 training and 500 test examples" in text


def test_quick_mode_typo_is_an_error(monkeypatch):
    monkeypatch.setenv(config.QUICK_ENV, "quick")
    with pytest.raises(ValueError, match="D2LCNN_QUICK='quick' is not understood: set it to 1"):
        config.quick_mode()


def test_cuda_preload_flag(monkeypatch):
    monkeypatch.delenv(config.NO_CUDA_PRELOAD_ENV, raising=False)
    assert config.cuda_preload_enabled()
    monkeypatch.setenv(config.NO_CUDA_PRELOAD_ENV, "1")
    assert not config.cuda_preload_enabled()
    monkeypatch.setenv(config.NO_CUDA_PRELOAD_ENV, "maybe")
    with pytest.raises(ValueError, match="D2LCNN_NO_CUDA_PRELOAD='maybe' is not understood"):
        config.cuda_preload_enabled()


def test_results_dir_default_is_the_readers_own_folder(monkeypatch):
    monkeypatch.delenv(config.RESULTS_DIR_ENV, raising=False)
    assert config.results_dir() == Path("results") / "mine"
    assert config.reference_results_dir() == Path("results") / "reference"


def test_results_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(config.RESULTS_DIR_ENV, str(tmp_path / "quick"))
    assert config.RESULTS_DIR_ENV == "D2LCNN_RESULTS_DIR"
    assert config.results_dir() == tmp_path / "quick"


def test_results_dir_empty_variable_means_default(monkeypatch):
    monkeypatch.setenv(config.RESULTS_DIR_ENV, "  ")
    assert config.results_dir() == Path("results") / "mine"


def test_data_dir_and_mxnet_home(monkeypatch, tmp_path):
    monkeypatch.setenv(config.DATA_DIR_ENV, str(tmp_path))
    assert config.data_dir() == tmp_path
    monkeypatch.setenv(config.DATA_DIR_ENV, "")
    assert config.data_dir() is None
    monkeypatch.setenv(config.MXNET_HOME_ENV, str(tmp_path / "mx"))
    assert config.mxnet_home() == tmp_path / "mx"
    monkeypatch.delenv(config.MXNET_HOME_ENV)
    assert config.mxnet_home() == Path("~/.mxnet").expanduser()


@pytest.mark.parametrize("value, expected", [("book", "book"), ("NATIVE", "native"), ("", None)])
def test_form_override(monkeypatch, value, expected):
    monkeypatch.setenv(config.FORM_ENV, value)
    assert config.form_override() == expected


def test_unknown_form_is_an_error(monkeypatch):
    monkeypatch.setenv(config.FORM_ENV, "fast")
    with pytest.raises(ValueError, match="D2LCNN_FORM='fast' is not a form: set it to book or "
                                         "native, or leave it unset"):
        config.form_override()
