"""The loop's audit trail in a real MLflow store: each step one run of `intent-classifier-loop`, listed in order."""

from __future__ import annotations

import json
from pathlib import Path

from model_registry.loop_audit import LOOP_EXPERIMENT, list_steps, record_step
from tests.conftest import run_cli


def step(stage: str, endpoint: str = "intent-loop", **extra: object) -> dict:
    return {
        "stage": stage,
        "decision": f"because {stage}",
        "action": f"do {stage}",
        "outcome": "done",
        "endpoint": endpoint,
        "model_name": "intent-classifier",
        "inputs": {
            "pinned_md5": "b" * 32,
            "champion": {"version": "1"},
            "drift": {"verdict": "drift", "p_value": 1e-5},
        },
        **extra,
    }


def test_steps_are_runs_listed_oldest_first_with_their_evidence(private_state: Path) -> None:
    from mlflow import MlflowClient

    first = record_step(step("needs-labels"))
    record_step(step("idle", endpoint="other"))
    last = record_step(step("retrain", outcome="failed", result={"error": "gate failed"}))

    steps = list_steps(endpoint="intent-loop")
    assert [(s["stage"], s["audit_run_id"]) for s in steps] == [("needs-labels", first), ("retrain", last)]
    assert steps[1]["result"] == {"error": "gate failed"} and steps[1]["inputs"]["drift"]["p_value"] == 1e-5
    assert [s["stage"] for s in list_steps()] == ["needs-labels", "idle", "retrain"]

    uri = f"sqlite:///{private_state / 'mlflow.db'}"
    run = MlflowClient(uri).get_run(last)
    assert run.info.status == "FAILED"  # the failed step reads as a failed run in the MLflow UI
    assert run.data.tags["loop.stage"] == "retrain" and run.data.tags["loop.endpoint"] == "intent-loop"
    assert run.data.params["champion.version"] == "1" and run.data.params["drift.verdict"] == "drift"
    assert run.data.metrics["drift.p_value"] == 1e-5
    experiment = MlflowClient(uri).get_experiment(run.info.experiment_id)
    assert experiment.name == LOOP_EXPERIMENT


def test_the_audit_command_lists_the_steps(private_state: Path) -> None:
    assert run_cli("loop", "audit", "--json", check=True).stdout.count('"stage"') == 0
    record_step(step("needs-labels"))
    record_step(step("retrain"))
    listed = json.loads(run_cli("loop", "audit", "--endpoint", "intent-loop", "--json", check=True).stdout)
    assert listed["experiment"] == LOOP_EXPERIMENT and [s["stage"] for s in listed["steps"]] == [
        "needs-labels",
        "retrain",
    ]
    text = run_cli("loop", "audit", check=True).stdout
    assert "2 loop step(s)" in text and "because retrain" in text
