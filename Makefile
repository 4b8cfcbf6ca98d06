# The two front-door commands of the README: `make run` (set up + whole local pipeline) and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test lint clean-state help

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: $(STAMP)  ## create .venv and install the project with its test extras (offline-capable, idempotent)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: any other torch request pulls a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: setup  ## pull the DVC data and run the whole local pipeline (prepare, train, evaluate, gate, register)
	$(VENV)/bin/mlops pipeline run

test: setup  ## run the test suite (starts its own DVC, MLflow and moto services)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

clean-state:  ## delete local state (.mlops: MLflow store, runs, models, DVC local remote)
	rm -rf .mlops
