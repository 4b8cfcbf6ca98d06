# The two front-door commands of the README: `make run` (set up + whole local pipeline) and `make test`.
# The environment comes from requirements.lock (exact versions and hashes), refreshed from pyproject.toml's ranges by
# `make lock`; `make lint` also fails when the lock no longer satisfies pyproject.toml (docs/architecture.md,
# "The environment").
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCK := requirements.lock
SERVING_LOCK := inference/serving/requirements.lock
# torch's CPU build: from this workplace's wheel directory where there is one, else from PyTorch's CPU index (PyPI's
# torch is the multi-GB CUDA build).
TORCH_SOURCE ?= $(if $(wildcard /opt/wheels/torch-*),--find-links /opt/wheels,--extra-index-url https://download.pytorch.org/whl/cpu)
PIP_TORCH_SOURCE := $(if $(wildcard /opt/wheels/torch-*),,--extra-index-url https://download.pytorch.org/whl/cpu)
LOCK_ARGS := --python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes --no-header --quiet \
	--index-strategy unsafe-best-match $(TORCH_SOURCE)
EXTRAS := --extra test --extra lint --extra offline

.PHONY: setup run test lint lock lock-check clean-state help

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: $(STAMP)  ## create .venv from requirements.lock and install the project (offline-capable, idempotent)

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# Every package at its locked version, checked against its locked hashes; then the project itself, editable.
	$(PY) -m pip install --quiet --require-hashes --no-deps $(PIP_TORCH_SOURCE) -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: setup  ## pull the DVC data and run the whole local pipeline (prepare, train, evaluate, gate, export, benchmark, register)
	$(VENV)/bin/mlops pipeline run

test: setup  ## run the test suite (starts its own DVC, MLflow and moto services)
	$(PY) -m pytest

lint: setup lock-check  ## ruff (lint and format), mypy, import contracts, dependency check, lock freshness
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/deptry .

lock: setup  ## re-resolve the locks from pyproject.toml's ranges (keeping locked versions that still fit; add --upgrade to move)
	$(VENV)/bin/uv pip compile pyproject.toml $(EXTRAS) $(LOCK_ARGS) $(UV_ARGS) -o $(LOCK)
	$(VENV)/bin/uv pip compile inference/serving/requirements.txt $(LOCK_ARGS) $(UV_ARGS) -o $(SERVING_LOCK)

lock-check: setup  ## fail when a lock no longer satisfies the ranges it was made from
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; set -e; \
	cp $(LOCK) $$tmp/env.lock; cp $(SERVING_LOCK) $$tmp/serving.lock; \
	$(VENV)/bin/uv pip compile pyproject.toml $(EXTRAS) $(LOCK_ARGS) -o $$tmp/env.lock; \
	$(VENV)/bin/uv pip compile inference/serving/requirements.txt $(LOCK_ARGS) -o $$tmp/serving.lock; \
	if ! diff -u $(LOCK) $$tmp/env.lock || ! diff -u $(SERVING_LOCK) $$tmp/serving.lock; then \
		echo "a lock is stale: it no longer matches pyproject.toml or inference/serving/requirements.txt; run make lock" >&2; \
		exit 1; \
	fi

clean-state:  ## delete local state (.mlops: MLflow store, runs, models, DVC local remote)
	rm -rf .mlops
