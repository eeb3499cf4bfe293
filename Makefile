# Two commands on a fresh machine: `make reproduce` and `make test` (see README).
SHELL  := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# A CPU build of torch lies on the project's machines; an unpinned torch pulls a multi-GB CUDA build.
# GPU users: install a CUDA build of torch into .venv first and run `make setup TORCH_SPEC=`.
TORCH_SPEC ?= torch==2.13.0
PROFILE ?= default
SHARED_LA := $(wildcard ../shared/data/LA)

.PHONY: setup test lint format reproduce lab bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(PY) -m pip install -q $(TORCH_SPEC) -e ".[notebooks,dev]" 2>&1 | grep -v "is ignored"; test $${PIPESTATUS[0]:-0} -eq 0
	$(PY) -m ipykernel install --user --name dtml --display-name "dtml (.venv)" >/dev/null
	touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Lint, unit tests, and every notebook executed by papermill with the CI parameters.
test: setup lint
	DTML_SHARED_LA="$(SHARED_LA)" $(PY) -m pytest -q

# Every notebook in order on the embedded phantom (or the real data when DTML_DATA is set).
reproduce: setup
	$(PY) -m dtml notebooks --profile $(PROFILE) --out notebooks/executed

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

bench: setup
	$(PY) -m dtml.bench train-step
	$(PY) -m dtml.bench inference
	$(PY) -m dtml.bench sdf

clean:
	rm -rf notebooks/executed .pytest_cache .ruff_cache
