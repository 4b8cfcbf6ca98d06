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
# The project's training image (Dockerfile.train): the CPU build of torch, and the CUDA build from PyPI.
TRAINING_LOCK := pipelines/training_image.lock
TRAINING_GPU_LOCK := pipelines/training_image.gpu.lock
# torch's CPU build: from this workplace's wheel directory where there is one, else from PyTorch's CPU index (PyPI's
# torch is the multi-GB CUDA build).
TORCH_SOURCE ?= $(if $(wildcard /opt/wheels/torch-*),--find-links /opt/wheels,--extra-index-url https://download.pytorch.org/whl/cpu)
PIP_TORCH_SOURCE := $(if $(wildcard /opt/wheels/torch-*),,--extra-index-url https://download.pytorch.org/whl/cpu)
COMPILE_ARGS := --python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes --no-header --quiet
LOCK_ARGS := $(COMPILE_ARGS) --index-strategy unsafe-best-match $(TORCH_SOURCE)
EXTRAS := --extra test --extra lint --extra offline
LOCKS := $(LOCK) $(SERVING_LOCK) $(TRAINING_LOCK) $(TRAINING_GPU_LOCK)
CHECK_DIR := $(VENV)/lock-check
UV_COMPILE = $(VENV)/bin/uv pip compile

# $(call compile_locks,DIR): every lock re-resolved from its ranges into DIR (the repository for `make lock`, a copy
# for `make lock-check`). uv keeps each locked version that still fits, so a lock moves only where its ranges did.
define compile_locks
	$(UV_COMPILE) pyproject.toml $(EXTRAS) $(LOCK_ARGS) $(UV_ARGS) -o $(1)/$(LOCK)
	$(UV_COMPILE) inference/serving/requirements.txt $(LOCK_ARGS) $(UV_ARGS) -o $(1)/$(SERVING_LOCK)
	$(UV_COMPILE) pipelines/training_image.txt $(LOCK_ARGS) $(UV_ARGS) -o $(1)/$(TRAINING_LOCK)
	$(UV_COMPILE) pipelines/training_image.txt $(COMPILE_ARGS) $(UV_ARGS) -o $(1)/$(TRAINING_GPU_LOCK)
endef

.PHONY: test-fuzz setup run test lint lock lock-check clean-state help

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

# One worker per core; a module's tests stay on one worker, so module fixtures (servers, trained models) start once.
test: setup  ## run the test suite (starts its own DVC, MLflow and moto services), a worker per core
	$(PY) -m pytest -n auto --dist loadfile

test-fuzz: setup  ## the fuzz and fault suite alone; HYPOTHESIS_PROFILE=long searches for minutes
	$(PY) -m pytest tests/fuzz

lint: setup lock-check  ## ruff (lint and format), mypy, import contracts, dependency check, lock freshness
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/deptry .

lock: setup  ## re-resolve the locks from their ranges (UV_ARGS=--upgrade, or --upgrade-package NAME, moves them)
	$(call compile_locks,.)

lock-check: setup  ## fail when a lock no longer matches the ranges it was made from
	@rm -rf $(CHECK_DIR) && for f in $(LOCKS); do mkdir -p $(CHECK_DIR)/$$(dirname $$f) && cp $$f $(CHECK_DIR)/$$f; done
	$(call compile_locks,$(CHECK_DIR))
	@stale=""; for f in $(LOCKS); do diff -u $$f $(CHECK_DIR)/$$f || stale="$$stale $$f"; done; rm -rf $(CHECK_DIR); \
	if [ -n "$$stale" ]; then echo "stale lock(s):$$stale: they no longer match their ranges; run make lock" >&2; exit 1; fi

clean-state:  ## delete local state (.mlops: MLflow store, runs, models, DVC local remote)
	rm -rf .mlops
