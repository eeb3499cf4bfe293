# Two commands on a fresh machine: `make reproduce` and `make test` (see README).
SHELL  := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# torch is installed first, on its own: TORCH_SPEC from TORCH_INDEX (default: the public index,
# whose Linux torch==2.13.0 wheel is the CUDA build, several GB). CPU only (a few hundred MB):
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu
# A CUDA build already in .venv: `make setup TORCH_SPEC=` keeps it.
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?=
# The Jupyter kernel lives inside .venv (--sys-prefix): no user-wide kernel spec is written, so
# two checkouts never overwrite each other's; JupyterLab from .venv (`make lab`) lists it.
KERNEL_NAME ?= dtml
PROFILE ?= default
SHARED_LA := $(wildcard ../shared/data/LA)

.PHONY: setup test lint format reproduce figures lab bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(if $(TORCH_SPEC),$(PY) -m pip install -q $(TORCH_SPEC) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) 2>&1 | grep -v "is ignored"; test $${PIPESTATUS[0]:-0} -eq 0)
	$(PY) -m pip install -q -e ".[notebooks,dev]" 2>&1 | grep -v "is ignored"; test $${PIPESTATUS[0]:-0} -eq 0
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL_NAME) --display-name "dtml ($(CURDIR)/$(VENV))" >/dev/null
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
# Executed copies and figures go to notebooks/executed/ (git-ignored): no tracked file changes.
# Runs are cached in runs/; the tests train into a temporary folder, so none of theirs is reused.
reproduce: setup
	$(PY) -m dtml notebooks --profile $(PROFILE) --out notebooks/executed

# Rewrite the committed figures, each notebook once: figures/ (notebooks 00-03) and
# figures/committed/ (04-06: tables 1-3 of the committed real-data results, which the default
# profile shows too). 07 draws nothing by default: its real-data Figs. 2-3 in figures/real/ come
# from `python scripts/paper_figures.py` (see figures/real/README.md).
figures: setup
	$(PY) -m dtml notebooks --profile $(PROFILE) --only 00,01,02,03 --out notebooks/executed --refresh-figures
	$(PY) -m dtml notebooks --profile committed --only 04,05,06 --out notebooks/executed/committed --refresh-figures

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

bench: setup
	$(PY) -m dtml.bench train-step
	$(PY) -m dtml.bench inference
	$(PY) -m dtml.bench sdf

clean:
	rm -rf notebooks/executed .pytest_cache .ruff_cache
