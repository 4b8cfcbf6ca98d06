"""The retraining loop's audit trail: every step `mlops loop run` takes is one MLflow run in the experiment
`intent-classifier-loop`, so the loop's history sits in the same registry as the versions it trains and moves.

A run holds what a person scanning the MLflow UI needs as tags (`loop.stage`, `loop.decision`, `loop.action`,
`loop.endpoint`, `loop.outcome`, ...), the step's scalar inputs as params (data md5s, model versions, drift
verdict) and its numeric evidence as metrics (drift statistics, shadow figures), and the whole step as the JSON
artifact `loop_step.json`: the record `list_steps` returns. Runs are ordered by their start time; a step is never
rewritten, so the trail only grows.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from model_registry.store import guarded
from model_registry.tracking import EXPERIMENT_NAME, RegistryError, client, experiment_id, first_line
from model_registry.tracking import tracking_uri as resolved_uri

log = logging.getLogger(__name__)

LOOP_EXPERIMENT = f"{EXPERIMENT_NAME}-loop"
STEP_ARTIFACT = "loop_step.json"
TAG_PREFIX = "loop."
# The step fields copied into tags for the MLflow UI and for filtering (`loop.endpoint`).
TAGGED_FIELDS = ("stage", "decision", "action", "outcome", "endpoint", "model_name", "actor")
# MLflow's limits: older servers refuse tag values over 5000 characters, params over 6000; batches hold at most
# 100 params and 1000 metrics.
_TAG_LIMIT = 4000
_PARAM_LIMIT = 500
_MAX_PARAMS = 100
_MAX_METRICS = 200


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted.key, leaf) for every leaf of nested dicts; lists are leaves."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _metric_key(key: str) -> str:
    # MLflow keys allow alphanumerics, underscores, dashes, periods, spaces and slashes.
    return "".join(c if c.isalnum() or c in "_-. /" else "_" for c in key)[:250]


def record_step(step: Mapping[str, Any], *, tracking_uri: str | None = None) -> str:
    """Record one loop step (a `LoopStep.to_dict()`) as a finished run of the loop experiment; return its run id."""
    uri = resolved_uri(tracking_uri)
    mlflow_client = client(tracking_uri)
    tags = {f"{TAG_PREFIX}{name}": str(step.get(name) or "")[:_TAG_LIMIT] for name in TAGGED_FIELDS}
    tags["mlflow.runName"] = f"loop-{step.get('stage', 'step')}"
    leaves = list(_flatten(step.get("inputs") or {}))
    params = {
        _metric_key(k): str(v)
        for k, v in leaves
        if isinstance(v, str | int | bool) and not isinstance(v, float) and v != "" and len(str(v)) <= _PARAM_LIMIT
    }
    metrics = {
        _metric_key(k): float(v)
        for k, v in leaves
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))
    }
    with guarded("recording a loop step", uri):
        experiment = experiment_id(mlflow_client, LOOP_EXPERIMENT)
        run = mlflow_client.create_run(experiment, tags=tags)
        run_id = run.info.run_id
        try:
            for key, value in list(params.items())[:_MAX_PARAMS]:
                mlflow_client.log_param(run_id, key, value)
            for key, number in list(metrics.items())[:_MAX_METRICS]:
                mlflow_client.log_metric(run_id, key, number)
            mlflow_client.log_dict(run_id, {**step, "audit_run_id": run_id}, STEP_ARTIFACT)
        except Exception:
            mlflow_client.set_terminated(run_id, "FAILED")
            raise
        mlflow_client.set_terminated(run_id, "FAILED" if step.get("outcome") == "failed" else "FINISHED")
    log.info("recorded loop step %s (%s) as run %s", step.get("stage"), step.get("outcome"), run_id)
    return str(run_id)


def list_steps(
    *, endpoint: str | None = None, tracking_uri: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """The recorded loop steps, oldest first (of `endpoint` only, when given), each the step as recorded plus its
    `audit_run_id` and `recorded_at` (ms since the epoch)."""
    from mlflow.exceptions import MlflowException

    mlflow_client = client(tracking_uri)
    experiment = mlflow_client.get_experiment_by_name(LOOP_EXPERIMENT)
    if experiment is None:
        return []
    query = f"tags.`{TAG_PREFIX}endpoint` = '{endpoint}'" if endpoint else ""
    if endpoint and "'" in endpoint:
        raise RegistryError(f"endpoint name {endpoint!r} cannot contain a quote")
    runs = mlflow_client.search_runs(
        [experiment.experiment_id], filter_string=query, max_results=limit, order_by=["attributes.start_time ASC"]
    )
    steps = []
    for run in runs:
        try:
            record = _load_step(mlflow_client, run.info.run_id)
        except (MlflowException, OSError, ValueError) as exc:
            # A run whose artifact is gone still says from its tags what the loop did.
            log.warning("loop step %s: its %s is unreadable (%s)", run.info.run_id, STEP_ARTIFACT, first_line(exc))
            record = {name: run.data.tags.get(f"{TAG_PREFIX}{name}") for name in TAGGED_FIELDS}
        steps.append({**record, "audit_run_id": run.info.run_id, "recorded_at": run.info.start_time})
    return steps


def last_step(*, endpoint: str, stage: str, tracking_uri: str | None = None) -> dict[str, Any] | None:
    """The newest recorded step of `endpoint` at `stage`, or None."""
    matching = [s for s in list_steps(endpoint=endpoint, tracking_uri=tracking_uri) if s.get("stage") == stage]
    return matching[-1] if matching else None


def _load_step(mlflow_client: Any, run_id: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow_client.download_artifacts(run_id, STEP_ARTIFACT, tmp)
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(record, dict):
        raise ValueError(f"{STEP_ARTIFACT} holds {type(record).__name__}, not an object")
    return record
