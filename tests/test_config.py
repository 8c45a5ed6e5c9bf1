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
    assert config.epochs(10) == 10
    assert "full mode" in config.describe()


def test_quick_mode_caps_epochs(monkeypatch):
    monkeypatch.setenv(config.QUICK_ENV, "1")
    assert config.epochs(10) == config.QUICK_EPOCHS == 1
    assert "quick mode" in config.describe()


def test_quick_mode_typo_is_an_error(monkeypatch):
    monkeypatch.setenv(config.QUICK_ENV, "quick")
    with pytest.raises(ValueError, match="D2LCNN_QUICK='quick' is not understood"):
        config.quick_mode()


def test_results_dir_default_is_results_beside_the_notebooks(monkeypatch):
    monkeypatch.delenv(config.RESULTS_ENV, raising=False)
    assert config.results_dir() == Path("results")


def test_results_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path / "quick"))
    assert config.RESULTS_ENV == "D2LCNN_RESULTS_DIR"
    assert config.results_dir() == tmp_path / "quick"


def test_results_dir_empty_variable_means_default(monkeypatch):
    monkeypatch.setenv(config.RESULTS_ENV, "  ")
    assert config.results_dir() == Path("results")
