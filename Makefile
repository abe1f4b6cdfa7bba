# fsdl-stack: the two commands in README.md (`make demo`, `make test`) work on a machine that has only
# Python 3.11+, pip, git and make. Everything installs into .venv/ on first use; `make test` also installs the
# Debian packages of the programs its tests drive (a browser, SLURM, shellcheck), as root or through sudo.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# PyTorch goes in first, pinned: an unpinned torch pulled in by another package can be a multi-GB CUDA build.
# On a CPU-only machine, point TORCH_INDEX at a CPU wheel index to keep it small.
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?=
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-fast lint docs bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml Makefile
	@echo "==> creating $(VENV)/ and installing fsdl-check, the template tools and the training stack"
	@echo "    (about 1 GB on a first run: several minutes; later runs reuse it)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --progress-bar on "torch==$(TORCH_VERSION)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --progress-bar on -e . --group test --group stack
	touch $(STAMP)

setup: $(STAMP)  ## create .venv with fsdl-check, the template tools and the training stack

demo: setup  ## render examples/default.yml, train it on the CPU with MLflow, audit it
	$(BIN)/python examples/demo.py

test: setup  ## the whole test suite, end-to-end tests included (installs the system programs it drives first)
	bash tests/system-packages.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: setup  ## the test suite without the slow end-to-end tests
	bash tests/system-packages.sh
	$(BIN)/python -m pytest -m "not e2e" $(PYTEST_ARGS)

lint: setup  ## ruff, ruff format and mypy --strict on the checker and the tests
	$(BIN)/ruff check checker tests benchmarks examples hooks
	$(BIN)/ruff format --check checker tests benchmarks examples hooks
	$(BIN)/mypy

docs: setup  ## regenerate docs/rules.md, the rule reference, from the rules themselves
	$(BIN)/python -m fsdl_check.reports.reference docs/rules.md

bench: setup  ## benchmarks (figures, not pass/fail): checker speed, render time, training, parallel training, SLURM, sweeps
	bash tests/system-packages.sh
	$(BIN)/python benchmarks/checker.py
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/training.py
	$(BIN)/python benchmarks/parallel.py
	$(BIN)/python benchmarks/slurm.py
	$(BIN)/python benchmarks/sweeps.py

clean:  ## remove the virtual environment, caches and the demo output
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
