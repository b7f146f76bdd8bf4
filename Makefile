# Two commands do all the set-up on a fresh clone (see README):
#   make train   create .venv, install digitnet, fetch MNIST if needed, train the default network
#   make test    create .venv with the test tools, run the test suite
#   make bench   digitnet against PyTorch and scikit-learn (benchmarks/compare.py; ARGS=--quick)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# torch 2.13.0 is the CPU build (a few hundred MB); it is only a reference the tests compare against.
TEST_EXTRAS := '.[dev,image,plot]' torch==2.13.0

.PHONY: train test bench setup setup-test setup-bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[image,plot]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) -e $(TEST_EXTRAS)
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[bench]'
	touch $@

setup: $(VENV)/.installed-run
setup-test: $(VENV)/.installed-test
setup-bench: $(VENV)/.installed-bench

train: setup
	$(BIN)/digitnet train $(ARGS)

test: setup-test
	$(BIN)/python -m pytest $(ARGS)

bench: setup-bench
	$(BIN)/python benchmarks/compare.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
