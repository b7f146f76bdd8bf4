# Two commands do all the set-up on a fresh clone (see README):
#   make train   create .venv, install digitnet, fetch MNIST if needed, train the default network
#   make test    create .venv with the test tools, run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# torch 2.13.0 is the CPU build (a few hundred MB); it is only a reference the tests compare against.
TEST_EXTRAS := '.[dev,image,plot,web,web-test]' torch==2.13.0

.PHONY: train test setup setup-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[image,plot]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) -e $(TEST_EXTRAS)
	touch $@

setup: $(VENV)/.installed-run
setup-test: $(VENV)/.installed-test

train: setup
	$(BIN)/digitnet train $(ARGS)

test: setup-test
	$(BIN)/python -m pytest $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
