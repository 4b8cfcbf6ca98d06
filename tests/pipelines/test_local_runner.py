"""The local runner: the whole pipeline end to end, the gate, resuming, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml.taxonomy import INTENTS
from pipelines.local_runner import latest_run
from tests.conftest import ROOT, added_rows, run_cli


@pytest.fixture(scope="module")
def completed_run(small_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One full local pipeline run on the small dataset, registered in a private SQLite store."""
    state = tmp_path_factory.mktemp("runstate")
    env = {"MLOPS_STATE_DIR": str(state)}
    proc = run_cli(
        "pipeline", "run", "--data", str(small_dataset), "-p", "Epochs=2", "-p", "MinMacroF1=0", "--json", env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"summary": json.loads(proc.stdout), "env": env, "state": state, "stderr": proc.stderr}


def test_run_executes_every_step_and_registers_a_challenger(completed_run: dict, small_dataset: Path) -> None:
    from ml.data import file_md5

    summary = completed_run["summary"]
    assert summary["status"] == "succeeded"
    assert set(summary["steps"]) == {"prepare", "train", "evaluate", "gate", "export", "benchmark", "register"}
    bench = summary["benchmark"]
    assert bench["gate"]["passed"] and bench["summary"]["errors"] == 0 and bench["summary"]["ok"] == 200
    assert all(s["status"] == "succeeded" and s["seconds"] is not None for s in summary["steps"].values())
    assert summary["registration"]["alias"] == "challenger"
    assert summary["data_md5"] == file_md5(small_dataset)
    for step in ("prepare", "train", "evaluate", "export", "register"):
        assert f"] {step}:" in completed_run["stderr"]  # progress names each step
    # Training's progress in its log is plain lines, not a bar's carriage-return frames.
    train_log = (Path(summary["run_dir"]) / "train" / "step.log").read_bytes()
    assert b"training: epoch 1/2" in train_log and b"training: best epoch" in train_log
    assert b"\r" not in train_log and b"\x1b" not in train_log


def test_registered_version_is_servable_onnx_with_a_sagemaker_package(completed_run: dict) -> None:
    import tarfile

    import mlflow
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{completed_run['state'] / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    registration = completed_run["summary"]["registration"]
    version = client.get_model_version(registration["name"], registration["version"])
    assert version.tags["onnx_parity"] == "passed"
    assert version.tags["package_uri"] == registration["package_uri"]
    assert registration["package_uri"].endswith("/package/model.tar.gz")

    # The PyTorch model under the run's model/; the graphs in the MLflow Model the version's source names, which
    # pyfunc loads and predicts with (int8, no torch).
    model_files = {a.path.rsplit("/", 1)[1] for a in client.list_artifacts(version.run_id, "model")}
    assert {"model.safetensors", "tokenizer.json"} <= model_files
    logged = client.get_logged_model(version.source.removeprefix("models:/"))
    served = mlflow.artifacts.download_artifacts(f"{logged.artifact_location}/data/model", tracking_uri=uri)
    assert {"model.onnx", "model.int8.onnx", "export_report.json"} <= {p.name for p in Path(served).iterdir()}
    # Loaded from its stored location: a `models:/` URI would resolve in whatever registry this worker process
    # was last pointed at (mlflow keeps a process-wide URI); tests/model_registry/test_mlflow_model.py loads aliases.
    [answer] = mlflow.pyfunc.load_model(logged.artifact_location).predict(["hola, que tal"])
    assert answer["intent"] in INTENTS and 0 < answer["confidence"] <= 1
    assert [a.path for a in client.list_artifacts(version.run_id, "package")] == ["package/model.tar.gz"]
    metrics = client.get_run(version.run_id).data.metrics
    assert metrics["onnx_fp32_max_abs_diff"] <= 1e-4 and 0 <= metrics["onnx_int8_argmax_agreement"] <= 1

    run_dir = Path(completed_run["summary"]["run_dir"])
    exported = json.loads((run_dir / "export" / "onnx" / "export_report.json").read_text())
    assert exported["passed"] and metrics["onnx_fp32_max_abs_diff"] == exported["measured"]["fp32_max_abs_diff"]
    package = mlflow.artifacts.download_artifacts(registration["package_uri"], tracking_uri=uri)
    with tarfile.open(package) as tar:
        assert {
            "model.onnx",
            "model.int8.onnx",
            "tokenizer.json",
            "intent_model.json",
            "config.json",
            "export_report.json",
            "metadata.json",
        } <= set(tar.getnames())
        metadata = json.loads(tar.extractfile("metadata.json").read())  # type: ignore[union-attr]
    assert metadata["model_version"] == registration["version"]
    assert metadata["data_md5"] == completed_run["summary"]["data_md5"]
    assert metadata["git_commit"] == completed_run["summary"]["git_commit"]


def test_registered_version_carries_lineage(completed_run: dict) -> None:
    proc = run_cli("registry", "show", "challenger", "--json", env=completed_run["env"])
    assert proc.returncode == 0, proc.stderr
    version = json.loads(proc.stdout)
    summary = completed_run["summary"]
    assert version["aliases"] == ["challenger"]
    assert version["data_md5"] == summary["data_md5"]
    assert version["git_commit"] == summary["git_commit"] and version["git_commit"] != "unknown"
    assert version["metrics"]["macro_f1"] == pytest.approx(summary["metrics"]["macro_f1"], abs=1e-6)
    assert version["params"]["epochs"] == "2"
    # The environment it was trained in: the project's lock (by digest) and the libraries that decide the weights.
    import hashlib

    lock = hashlib.sha256((ROOT / "requirements.lock").read_bytes()).hexdigest()
    assert version["environment"]["lock"] == "requirements.lock" and version["environment"]["lock_sha256"] == lock
    assert version["environment"]["torch"].startswith("2.13") and version["environment"]["python"].startswith("3.11")


def test_resume_from_register_is_idempotent(completed_run: dict) -> None:
    env = completed_run["env"]
    run_dir = completed_run["summary"]["run_dir"]
    model_before = (Path(run_dir) / "train" / "model" / "model.safetensors").stat().st_mtime_ns
    proc = run_cli("pipeline", "run", "--from", "register", "--run-dir", run_dir, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    again = json.loads(proc.stdout)
    assert again["registration"]["version"] == completed_run["summary"]["registration"]["version"]
    assert again["registration"]["created"] is False
    assert (Path(run_dir) / "train" / "model" / "model.safetensors").stat().st_mtime_ns == model_before
    listed = json.loads(run_cli("registry", "list", "--json", env=env).stdout)
    assert len(listed["versions"]) == 1


def test_gate_failure_stops_and_registers_nothing(small_dataset: Path, tmp_path: Path) -> None:
    env = {"MLOPS_STATE_DIR": str(tmp_path)}
    proc = run_cli("pipeline", "run", "--data", str(small_dataset), "-p", "Epochs=1", "-p", "MinMacroF1=1.0", env=env)
    assert proc.returncode == 1
    assert "gate 'gate' failed: metrics.macro_f1.value =" in proc.stderr and "< MinMacroF1 = 1.0000" in proc.stderr
    assert "not registered" in proc.stderr
    run_dir = latest_run(tmp_path)
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "failed" and state["steps"]["register"]["status"] == "skipped"
    listed = run_cli("registry", "list", env=env)
    assert listed.returncode == 1 and "no registered model" in listed.stderr


def test_resume_rejects_unknown_step_and_foreign_runs(completed_run: dict, tmp_path: Path) -> None:
    env = completed_run["env"]
    proc = run_cli("pipeline", "run", "--from", "deploy", env=env)
    assert proc.returncode == 1 and "unknown step 'deploy'" in proc.stderr and "prepare, train" in proc.stderr
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    run_json = json.loads((Path(completed_run["summary"]["run_dir"]) / "run.json").read_text())
    run_json["spec_fingerprint"] = "000000000000"
    run_json["spec_version"] = 0
    (foreign / "run.json").write_text(json.dumps(run_json))
    proc = run_cli("pipeline", "run", "--from", "train", "--run-dir", str(foreign), env=env)
    assert proc.returncode == 1 and "made by another pipeline version" in proc.stderr
    proc = run_cli("pipeline", "run", "--from", "train", "--run-dir", str(tmp_path), env=env)
    assert proc.returncode == 1 and "not a pipeline run directory" in proc.stderr


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("MinMacroF1=1.5", "MinMacroF1=1.5 is outside [0.0, 1.0]"),
        ("MinMacroF1=-0.1", "outside [0.0, 1.0]"),
        ("Epochs=many", "Epochs must be integer"),
        ("Colour=blue", "unknown pipeline parameter 'Colour'"),
        ("NaturalDataUri=no/such/set.jsonl", "hand-written held-out set not found"),
    ],
)
def test_bad_parameters(param: str, message: str, small_dataset: Path, tmp_path: Path) -> None:
    proc = run_cli("pipeline", "run", "--data", str(small_dataset), "-p", param, env={"MLOPS_STATE_DIR": str(tmp_path)})
    assert proc.returncode != 0 and message in proc.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").glob("run-*"))


def test_default_run_records_the_md5_that_dvc_pins(tmp_path: Path) -> None:
    """Without --data the run materialises the DVC-pinned dataset and the version records exactly that md5."""
    env = {"MLOPS_STATE_DIR": str(tmp_path)}
    proc = run_cli("pipeline", "run", "-p", "Epochs=1", "-p", "MinMacroF1=0", "--json", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    status = json.loads(run_cli("data", "status", "--json", env=env, check=True).stdout)
    assert status["in_sync"] and summary["data_md5"] == status["pinned_md5"]
    version = json.loads(run_cli("registry", "show", "challenger", "--json", env=env, check=True).stdout)
    assert version["data_md5"] == status["pinned_md5"]
    manifest = json.loads((Path(summary["run_dir"]) / "prepare" / "splits" / "manifest.json").read_text())
    assert manifest["source_md5"] == status["pinned_md5"]
    assert sum(s["rows"] for s in manifest["splits"].values()) == 4000 + added_rows()


def test_every_version_records_the_hand_written_set(completed_run: dict) -> None:
    """The evaluate step scores data/natural_prompts.jsonl beside the test split; the version records both."""
    from mlflow.tracking import MlflowClient

    from ml.data import file_md5

    run_dir = Path(completed_run["summary"]["run_dir"])
    evaluation = json.loads((run_dir / "evaluate" / "evaluation" / "evaluation.json").read_text())
    natural = evaluation["natural"]
    assert natural["num_examples"] == len((ROOT / "data" / "natural_prompts.jsonl").read_text().splitlines())
    uri = f"sqlite:///{completed_run['state'] / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    registration = completed_run["summary"]["registration"]
    version = client.get_model_version(registration["name"], registration["version"])
    assert version.tags["natural_md5"] == file_md5(ROOT / "data" / "natural_prompts.jsonl") == natural["md5"]
    metrics = client.get_run(version.run_id).data.metrics
    assert metrics["natural_macro_f1"] == pytest.approx(natural["metrics"]["macro_f1"]["value"])


def test_registered_version_carries_the_benchmark_evidence(completed_run: dict) -> None:
    version = json.loads(
        run_cli("registry", "show", "challenger", "--json", env=completed_run["env"], check=True).stdout
    )
    bench = completed_run["summary"]["benchmark"]["summary"]
    assert float(version["tags"]["bench.p95_ms"]) == pytest.approx(bench["p95_ms"])
    assert version["tags"]["bench.passed"] == "true" and version["tags"]["bench.budget_ms"] == "500.0"
    assert version["tags"]["bench.errors"] == "0"


def test_a_candidate_over_the_latency_budget_is_not_registered(small_dataset: Path, tmp_path: Path) -> None:
    env = {"MLOPS_STATE_DIR": str(tmp_path)}
    proc = run_cli(
        "pipeline",
        "run",
        "--data",
        str(small_dataset),
        "-p",
        "Epochs=1",
        "-p",
        "MinMacroF1=0",
        "-p",
        "P95BudgetMs=0.001",
        env=env,
    )
    assert proc.returncode == 1
    assert "latency gate failed: p95 latency" in proc.stderr and "exceeds the budget of 0.0 ms" in proc.stderr
    assert "step 'benchmark' failed" in proc.stderr
    run_dir = latest_run(tmp_path)
    state = json.loads((run_dir / "run.json").read_text())
    assert state["steps"]["benchmark"]["status"] == "failed" and state["steps"]["register"]["status"] == "skipped"
    assert json.loads((run_dir / "benchmark" / "benchmark" / "benchmark.json").read_text())["gate"]["passed"] is False
    listed = run_cli("registry", "list", env=env)
    assert listed.returncode == 1 and "no registered model" in listed.stderr
