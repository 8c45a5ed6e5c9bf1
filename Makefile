# One entry point for learners, teachers and CI. Everything runs in a local virtual environment
# (.venv) made with Python 3.11; `make setup` is implied by every other target.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# EXTRAS=dev,gpu installs the GPU build of MXNet (see README, section GPU).
EXTRAS ?= dev
# The environment is reinstalled whenever the dependency list or the extras change.
STAMP := $(VENV)/.installed-$(shell (cat pyproject.toml; echo '$(EXTRAS)') | cksum | cut -d' ' -f1)
NOTEBOOKS ?= notebooks/*.ipynb
# Test runs of the notebooks save their training histories in a temporary folder
# (D2LCNN_RESULTS_DIR, see d2lcnn/config.py), not in notebooks/results with the committed ones.
TEMP_RESULTS := results=$$(mktemp -d) && trap 'rm -rf "$$results"' EXIT && D2LCNN_RESULTS_DIR=$$results

.PHONY: setup lab notebooks committed-notebooks test lint unit nbval benchmark doctor clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 is needed (MXNet 1.9.1), found {sys.version.split()[0]}: set PYTHON=/path/to/python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	@# mxnet and mxnet-cu117 both write the `mxnet` package: put the GPU build's files back on top.
	$(if $(findstring gpu,$(EXTRAS)),$(BIN)/python -m pip install --quiet --force-reinstall --no-deps mxnet-cu117==1.9.1)
	rm -f $(VENV)/.installed-*
	touch $@

## Open the series in JupyterLab.
lab: setup
	$(BIN)/jupyter lab notebooks/00_getting_started.ipynb

## Execute every notebook headless, in place (the committed outputs come from this).
notebooks: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=-1 \
		$(NOTEBOOKS)

## The committed outputs, in one command: chapters 09-12, 14, 15 in quick mode (the book's
## settings take hours each on a CPU), every other chapter with the book's settings, 16 last
## (it reads the others' results and benchmarks/results.json).
QUICK_CHAPTERS := 09 10 11 12 14 15
committed-notebooks: setup
	D2LCNN_QUICK=1 $(MAKE) notebooks NOTEBOOKS="$(foreach n,$(QUICK_CHAPTERS),notebooks/$(n)_*.ipynb)"
	env -u D2LCNN_QUICK $(MAKE) notebooks NOTEBOOKS="$(filter-out $(foreach n,$(QUICK_CHAPTERS) 16,notebooks/$(n)_%),$(wildcard notebooks/*.ipynb))"
	env -u D2LCNN_QUICK $(MAKE) notebooks NOTEBOOKS=notebooks/16_comparison.ipynb

## Lint, unit tests and every notebook under nbval, in quick mode (what CI runs).
test: setup
	$(BIN)/ruff check .
	@# Two runs: the unit tests choose their own mode (module-scoped fixtures would otherwise
	@# see D2LCNN_QUICK), the notebooks run in quick mode.
	env -u D2LCNN_QUICK MPLBACKEND=Agg $(BIN)/python -m pytest tests -p no:cacheprovider
	$(TEMP_RESULTS) D2LCNN_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest notebooks \
		--nbval-lax --nbval-current-env -p no:cacheprovider

lint: setup
	$(BIN)/ruff check .

unit: setup
	$(BIN)/python -m pytest tests

nbval: setup
	$(TEMP_RESULTS) D2LCNN_QUICK=1 $(BIN)/python -m pytest --nbval-lax --nbval-current-env $(NOTEBOOKS)

## Speed of the data pipeline and training loop against d2l's (see benchmarks/README.md).
benchmark: setup
	$(BIN)/python -m benchmarks.run

## What this machine can use: CPU, GPUs, CUDA libraries.
doctor: setup
	$(BIN)/python -m d2lcnn.doctor

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
