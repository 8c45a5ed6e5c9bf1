# One entry point for learners, teachers and CI. Everything runs in a local virtual environment
# (.venv) made with Python 3.11 or 3.12, found by itself; `make setup` is implied by every other
# target.
#
# PYTHON=/path/to/python picks the interpreter; otherwise the first of PYTHON_CANDIDATES that runs
# and is a supported version (3.11, 3.12: d2lcnn/machine/compat.py, SUPPORTED_PYTHONS). Each is
# tried by running it, not by its presence: a pyenv shim exists for versions it cannot start.
PYTHON_CANDIDATES ?= python3.11 python3.12 python3 python
SUPPORTED := import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in $(PYTHON_CANDIDATES); do command -v $$p >/dev/null 2>&1 && $$p -c '$(SUPPORTED)' >/dev/null 2>&1 && { command -v $$p; break; }; done)
endif
VENV ?= .venv
BIN := $(VENV)/bin
# EXTRAS=dev,gpu installs the GPU build of MXNet (see README, section GPU).
EXTRAS ?= dev
# Which Python made the environment: its version and installation (a venv's python reports the
# same as the interpreter it was made from).
IDENTITY := import sys; print(sys.version.split()[0], sys.base_prefix)
PYTHON_IDENTITY := $(if $(PYTHON),$(shell $(PYTHON) -c '$(IDENTITY)' 2>/dev/null))
# The environment is reinstalled whenever the dependency list, the extras or the Python change.
STAMP := $(VENV)/.installed-$(shell (cat pyproject.toml; echo '$(EXTRAS) $(PYTHON_IDENTITY)') | cksum | cut -d' ' -f1)
NOTEBOOKS ?= notebooks/*.ipynb
# Test runs of the notebooks save their training histories in a temporary folder
# (D2LCNN_RESULTS_DIR, see d2lcnn/config.py), not in notebooks/results with the committed ones.
TEMP_RESULTS := results=$$(mktemp -d) && trap 'rm -rf "$$results"' EXIT && D2LCNN_RESULTS_DIR=$$results

define GET_PYTHON
MXNet 1.9.1 needs Python 3.11 or 3.12 (none of the NumPy versions it works with installs on 3.13).
Install one, then run make again (or name it: make lab PYTHON=/path/to/python3.12):
  Debian 12:     sudo apt install python3.11-venv
  Ubuntu 24.04:  sudo apt install python3.12-venv
  older Ubuntu:  sudo add-apt-repository ppa:deadsnakes/ppa && sudo apt install python3.12-venv
  macOS:         brew install python@3.12
  anywhere:      pyenv install 3.12,  or  uv python install 3.12  and  PYTHON=$$(uv python find 3.12)
endef
export GET_PYTHON

.PHONY: setup lab lib notebooks committed-notebooks test lint unit nbval benchmark \
	benchmark-native doctor student-copies \
	distributed-demo book book-test clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
		echo "No Python 3.11 or 3.12 found (tried: $(PYTHON_CANDIDATES))." >&2; \
		echo "$$GET_PYTHON" >&2; exit 1; fi
	@$(PYTHON) -c '$(SUPPORTED)' 2>/dev/null || { \
		version=$$($(PYTHON) -c 'import sys; print(sys.version.split()[0])' 2>/dev/null) \
			&& echo "PYTHON=$(PYTHON) is Python $$version." >&2 || echo "PYTHON=$(PYTHON) does not run." >&2; \
		echo "$$GET_PYTHON" >&2; exit 1; }
	@# A venv made by another Python is made afresh (a venv cannot change its interpreter).
	@if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c '$(IDENTITY)' 2>/dev/null)" != "$(PYTHON_IDENTITY)" ]; then \
		echo "$(VENV) was made with another Python: making it afresh with $(PYTHON) ($(PYTHON_IDENTITY))"; \
		rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# (setuptools' note on editable installs, "Editable installation … be careful with folders …",
	@# is information for package authors, not for learners.)
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
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

## The committed outputs, in one command: every chapter executed in full (all of Fashion-MNIST,
## the native forms on a CPU, the book's on a GPU), its runs saved as the reference results
## (notebooks/results/reference), chapter 16 after them since it reads them, then the worked
## solutions (notebooks/solutions). On a CPU, oneDNN is held to COMMITTED_ISA (default AVX2, what
## most laptops have; COMMITTED_ISA=ALL for the CPU's best), so the committed times are a
## laptop's. Times: README, section Two commands.
COMMITTED_ISA ?= AVX2
COMMITTED_ENV = env -u D2LCNN_QUICK D2LCNN_RESULTS_DIR=results/reference DNNL_MAX_CPU_ISA=$(COMMITTED_ISA)
committed-notebooks: setup
	$(COMMITTED_ENV) $(MAKE) notebooks NOTEBOOKS="$(filter-out notebooks/16_%,$(wildcard notebooks/*.ipynb))"
	$(COMMITTED_ENV) $(MAKE) notebooks NOTEBOOKS=notebooks/16_comparison.ipynb
	$(COMMITTED_ENV) $(MAKE) notebooks NOTEBOOKS="$(wildcard notebooks/solutions/*.ipynb)"

## A teacher's copy for students: the series without the worked solutions, with an answer sheet
## per chapter (notebooks/exercises, nbgrader's conventions). DEST must be absent or empty.
DEST ?= build/student
student-copies: setup
	$(BIN)/python scripts/student_copies.py $(DEST)

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

## Every network's native form trained on all of Fashion-MNIST, against the targets (about an
## hour on a 2-core CPU; benchmarks/results.md, section Native forms).
benchmark-native: setup
	$(BIN)/python -m benchmarks.native

## What this machine can use: CPU, GPUs, CUDA libraries.
doctor: setup
	$(BIN)/python -m d2lcnn.machine.doctor

## The lesson modules (d2lcnn/lessons) from the notebooks' #@save cells.
lib: setup
	$(BIN)/python scripts/build_lessons.py

## MXNet's parameter server on this machine: a scheduler, a server and two workers, each worker
## pushing a number and pulling the sum (README, section Several machines).
distributed-demo: setup
	$(BIN)/python -m d2lcnn.machine.distributed --workers 2 --servers 1 --timeout 120 --demo

## The series as a static web site in book/_build/html (book/build_book.py): a page per chapter and
## per worked solution with its committed outputs (nothing is executed), math, figures, links and
## search, readable offline. Installs the book extra into the environment first (once).
## BOOK_ARGS=--serve then serves it at http://127.0.0.1:8000.
BOOK_STAMP := $(VENV)/.book-installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
book: $(BOOK_STAMP)
	$(BIN)/python book/build_book.py $(BOOK_ARGS)

$(BOOK_STAMP): $(STAMP)
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e '.[book]'
	rm -f $(VENV)/.book-installed-*
	touch $@

## Every page of the built site in headless Chromium (book/check_book.py): console errors, missing
## images, untypeset math, broken links, titles, fonts, requests leaving this machine. Needs a
## Chromium: Debian/Ubuntu `apt-get install chromium fonts-noto-cjk`.
book-test: $(BOOK_STAMP)
	$(BIN)/python book/check_book.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache book/_build
