# Two commands do all the set-up on a fresh clone (see README):
#   make train   create .venv, install digitnet, fetch MNIST if needed, train the default network
#   make test    create .venv with the test tools, run the test suite
#   make bench   digitnet against PyTorch and scikit-learn (benchmarks/compare.py; ARGS=--quick)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# torch 2.13.0 is the CPU build (a few hundred MB); it is only a reference the tests compare against.
TEST_EXTRAS := '.[dev,image,plot,notebook,web,web-test,onnx,onnx-test]' torch==2.13.0

.PHONY: train test lint bench setup setup-test setup-bench notebook figures pdf clean

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

# style first (seconds), then the suite
test: lint
	$(BIN)/python -m pytest $(ARGS)

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup-bench
	$(BIN)/python benchmarks/compare.py $(ARGS)

# re-run the tutorial notebook and save its outputs in place (commit the result)
notebook: setup-test
	cd notebooks && ../$(BIN)/jupyter-execute --inplace --timeout=600 ann_no_packages.ipynb

# the figures of the math notes (needs the MNIST files: $$DIGITNET_DATA or the user cache)
figures: setup-test
	$(BIN)/python docs/make_figures.py

# the PDF of the math notes, with the Markdown's SHA-256 in its metadata (tests/test_notes.py
# fails when the PDF is stale). Needs pandoc and pdfLaTeX, e.g. on Debian/Ubuntu:
#   apt-get install pandoc texlive-latex-recommended texlive-fonts-recommended lmodern
pdf:
	cd docs && pandoc my_note.md --from markdown --pdf-engine=pdflatex --resource-path=. \
	  -V papersize=a4 -V geometry:margin=2.2cm -V colorlinks=true --toc \
	  --metadata subject="digitnet math notes, built from my_note.md sha256 $$(sha256sum my_note.md | cut -d' ' -f1)" \
	  -o my_note.pdf

clean:
	rm -rf $(VENV) .pytest_cache
