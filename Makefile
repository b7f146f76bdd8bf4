# Two commands do all the set-up on a fresh clone (see README):
#   make train   create .venv, install digitnet, fetch MNIST if needed, train the default network
#   make test    create .venv with the test tools, run the test suite
#   make bench   digitnet against PyTorch and scikit-learn (benchmarks/compare.py; ARGS=--quick)
#   make exercises   grade your answers to the exercises in exercises/ (see exercises/README.md)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# torch 2.13.0 is the CPU build (a few hundred MB); it is only a reference the tests compare against.
TEST_EXTRAS := '.[dev,image,plot,notebook,web,web-test,onnx,onnx-test]' torch==2.13.0

.PHONY: train test lint bench exercises setup setup-test setup-bench setup-notebook setup-exercises notebook figures screenshots pdf clean

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

# enough to open the notebooks in Jupyter or an editor: digitnet and a kernel, not the test tools
$(VENV)/.installed-notebook: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[notebook]'
	touch $@

$(VENV)/.installed-exercises: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[exercises]'
	touch $@

setup: $(VENV)/.installed-run
setup-test: $(VENV)/.installed-test
setup-bench: $(VENV)/.installed-bench
setup-notebook: $(VENV)/.installed-notebook
setup-exercises: $(VENV)/.installed-exercises

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

# grade the learner's answers in exercises/ (CI grades the solutions and the untouched stubs instead)
exercises: setup-exercises
	$(BIN)/python -m pytest exercises/ $(ARGS)

# re-run both notebooks and save their outputs in place (commit the result)
notebook: setup-notebook
	cd notebooks && ../$(BIN)/jupyter-execute --inplace --timeout=600 ann_no_packages.ipynb phenomena.ipynb

# the figures of the math notes (needs the MNIST files: $$DIGITNET_DATA or the user cache)
figures: setup-test
	$(BIN)/python docs/make_figures.py

# the README's screenshots of the page: the browser tests save them in test-artifacts/ (needs
# /usr/bin/chromium and MNIST), this copies them into docs/images/ (commit the result)
screenshots: setup-test
	$(BIN)/python -m pytest -q tests/test_web_browser.py tests/test_lab_browser.py
	mkdir -p docs/images
	cp test-artifacts/serve.png test-artifacts/lab-*.png docs/images/

# the PDF of the math notes, with the Markdown's SHA-256 in its metadata (tests/test_notes.py
# fails when the PDF is stale). Needs pandoc and pdfLaTeX, e.g. on Debian/Ubuntu:
#   apt-get install pandoc texlive-latex-recommended texlive-fonts-recommended lmodern
# GitHub-style heading ids, so the notes' links work in the PDF as on a code host; pdf-style.tex
# lets long code names break at underscores, pdf-tables.lua keeps each table on one page.
pdf:
	cd docs && pandoc my_note.md --from markdown+gfm_auto_identifiers --pdf-engine=pdflatex --resource-path=. \
	  -V papersize=a4 -V geometry:margin=2.2cm -V colorlinks=true --toc \
	  --include-in-header=pdf-style.tex --lua-filter=pdf-tables.lua \
	  --metadata subject="digitnet math notes, built from my_note.md sha256 $$(sha256sum my_note.md | cut -d' ' -f1)" \
	  -o my_note.pdf

clean:
	rm -rf $(VENV) .pytest_cache
