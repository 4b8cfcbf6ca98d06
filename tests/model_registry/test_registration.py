"""Registration with lineage: local SQLite store, a real tracking server, idempotency, and a server dying midway."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_registry.queries import get_version, list_versions
from model_registry.registration import Lineage, model_digest, register_model
from model_registry.tracking import RegistryError
from tests.model_registry.conftest import MlflowServer, start_mlflow_server

LINEAGE = Lineage(
    data_md5="0123456789abcdef0123456789abcdef",
    git_commit="deadbeef" * 5,
    params={"model": "tiny", "epochs": 3, "learning_rate": 0.001},
    metrics={"accuracy": 0.95, "macro_f1": 0.94, "macro_precision": 0.95, "macro_recall": 0.94},
    history=[
        {"epoch": 1, "train_loss": 1.2, "val_macro_f1": 0.7},
        {"epoch": 2, "train_loss": 0.4, "val_macro_f1": 0.9},
    ],
)


def _report(tmp_path: Path) -> dict[str, Path]:
    path = tmp_path / "evaluation.json"
    path.write_text(json.dumps({"metrics": {"macro_f1": {"value": 0.94}}}))
    return {"evaluation": path}


def test_local_store_registration_records_lineage(tiny_model: Path, tmp_path: Path, private_state: Path) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient

    result = register_model(tiny_model, LINEAGE, reports=_report(tmp_path))
    assert result.created and result.alias == "challenger"
    assert result.tracking_uri == f"sqlite:///{private_state / 'mlflow.db'}"
    version = get_version("challenger")
    assert version["data_md5"] == LINEAGE.data_md5 and version["git_commit"] == LINEAGE.git_commit
    assert version["metrics"]["macro_f1"] == pytest.approx(0.94)
    # The gates' evidence digest is logged with the training parameters (a parameter cannot be changed later).
    assert version["params"].pop("evidence_sha256") == version["tags"]["evidence_sha256"]
    # ... and the MLflow Model's config, which MLflow records with the run: the precision it serves by default.
    assert version["params"] == {"model": "tiny", "epochs": "3", "learning_rate": "0.001", "precision": "int8"}
    assert version["tags"]["model_digest"] == model_digest(tiny_model)

    client = MlflowClient()
    run = client.get_run(result.run_id)
    assert run.data.tags["mlflow.source.git.commit"] == LINEAGE.git_commit
    assert [m.value for m in client.get_metric_history(result.run_id, "val_macro_f1")] == [0.7, 0.9]
    dataset = run.inputs.dataset_inputs[0].dataset
    assert dataset.digest == LINEAGE.data_md5 and dataset.source_type == "dvc"
    assert json.loads(dataset.source) == {"url": "", "path": LINEAGE.data_path, "rev": LINEAGE.git_commit}
    artifacts = {a.path for a in client.list_artifacts(result.run_id, "model")}
    assert "model/model.safetensors" in artifacts and "model/tokenizer.json" in artifacts
    # The version's source is the run's MLflow Model, which holds what serving reads.
    assert version["source"] == f"models:/{version['model_id']}"
    assert [o.model_id for o in run.outputs.model_outputs] == [version["model_id"]]
    location = client.get_logged_model(version["model_id"]).artifact_location
    assert mlflow.artifacts.download_artifacts(f"{location}/data/model/intent_model.json")


def test_registration_is_idempotent_per_model(tiny_model: Path, tmp_path: Path) -> None:
    first = register_model(tiny_model, LINEAGE, reports=_report(tmp_path))
    second = register_model(tiny_model, LINEAGE, reports=_report(tmp_path))
    assert second.version == first.version and not second.created
    assert len(list_versions()) == 1


def test_registration_on_a_real_tracking_server(mlflow_server: MlflowServer, tiny_model: Path, tmp_path: Path) -> None:
    result = register_model(tiny_model, LINEAGE, reports=_report(tmp_path), tracking_uri=mlflow_server.url)
    assert result.tracking_uri == mlflow_server.url
    version = get_version("challenger", tracking_uri=mlflow_server.url)
    assert version["version"] == result.version and version["data_md5"] == LINEAGE.data_md5
    assert (mlflow_server.store / "artifacts").is_dir()  # artifacts went through the server


def test_tracking_uri_from_environment(mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    assert list_versions()[0]["aliases"] == ["challenger"]


def test_server_killed_mid_registration_leaves_nothing_half_registered(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    server = start_mlflow_server(tmp_path / "srv")
    port = int(server.url.rsplit(":", 1)[1])
    original = mlflow.log_artifacts

    def die_then_upload(*args, **kwargs):  # noqa: ANN002, ANN003
        server.stop()  # the tracking server dies while the model is being uploaded
        return original(*args, **kwargs)

    monkeypatch.setattr(mlflow, "log_artifacts", die_then_upload)
    try:
        with pytest.raises(RegistryError, match=r"registration in MLflow at http://127\.0\.0\.1:\d+ failed") as info:
            register_model(tiny_model, LINEAGE, reports=_report(tmp_path), tracking_uri=server.url)
        assert "nothing half-registered" in str(info.value)
    finally:
        monkeypatch.setattr(mlflow, "log_artifacts", original)
    restarted = start_mlflow_server(tmp_path / "srv", port=port)
    try:
        with pytest.raises(RegistryError, match="no registered model"):
            list_versions(tracking_uri=restarted.url)
        # Rerunning after the outage completes the registration.
        assert register_model(tiny_model, LINEAGE, tracking_uri=restarted.url).created
    finally:
        restarted.stop()


def test_registration_with_onnx_logs_graphs_parity_and_package(
    tiny_model: Path, onnx_export: Path, tmp_path: Path
) -> None:
    import tarfile

    import mlflow
    from mlflow.tracking import MlflowClient

    result = register_model(tiny_model, LINEAGE, reports=_report(tmp_path), onnx_dir=onnx_export)
    client = MlflowClient()
    version = client.get_model_version("intent-classifier", result.version)
    assert version.tags["onnx_parity"] == "passed" and version.tags["package_uri"] == result.package_uri
    # The PyTorch model under the run's model/, the graphs once, in the MLflow Model the version's source names.
    assert "model/model.safetensors" in {a.path for a in client.list_artifacts(result.run_id, "model")}
    model_id = version.source.removeprefix("models:/")
    location = client.get_logged_model(model_id).artifact_location
    served = mlflow.artifacts.download_artifacts(f"{location}/data/model", dst_path=str(tmp_path / "served"))
    assert {"model.onnx", "model.int8.onnx", "export_report.json"} <= {p.name for p in Path(served).iterdir()}
    report = json.loads((onnx_export / "export_report.json").read_text())
    metrics = client.get_run(result.run_id).data.metrics
    assert metrics["onnx_fp32_max_abs_diff"] == report["measured"]["fp32_max_abs_diff"]
    assert metrics["onnx_int8_argmax_agreement"] == report["measured"]["int8_argmax_agreement"]
    linked = {m.key: m for m in client.get_logged_model(model_id).metrics}
    assert linked["onnx_fp32_max_abs_diff"].value == report["measured"]["fp32_max_abs_diff"]
    assert linked["test_macro_f1"].dataset_digest == LINEAGE.data_md5
    with tarfile.open(mlflow.artifacts.download_artifacts(result.package_uri, dst_path=str(tmp_path / "dl"))) as tar:
        metadata = json.loads(tar.extractfile("metadata.json").read())  # type: ignore[union-attr]
    assert metadata["model_version"] == str(result.version) and metadata["data_md5"] == LINEAGE.data_md5
    assert metadata["git_commit"] == LINEAGE.git_commit and metadata["model_digest"] == model_digest(tiny_model)
    assert metadata["mlflow_model_id"] == model_id
    # Idempotent: the same model again returns the version and its package.
    again = register_model(tiny_model, LINEAGE, onnx_dir=onnx_export)
    assert (again.version, again.created, again.package_uri) == (result.version, False, result.package_uri)


def test_packaging_failure_leaves_no_version(
    tiny_model: Path, onnx_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ml.package

    def broken_package(*args: object, **kwargs: object) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(ml.package, "package_model", broken_package)
    with pytest.raises(RegistryError, match="OSError: disk full") as info:
        register_model(tiny_model, LINEAGE, onnx_dir=onnx_export)
    assert "nothing half-registered" in str(info.value)
    assert list_versions() == []
    monkeypatch.undo()
    assert register_model(tiny_model, LINEAGE, onnx_dir=onnx_export).package_uri  # a rerun completes it


def test_a_failed_or_missing_export_registers_nothing(tiny_model: Path, onnx_export: Path, tmp_path: Path) -> None:
    from ml.errors import ModelError

    with pytest.raises(ModelError, match="no accepted ONNX export"):
        register_model(tiny_model, LINEAGE, onnx_dir=tmp_path)
    failed = tmp_path / "failed"
    failed.mkdir()
    report = json.loads((onnx_export / "export_report.json").read_text())
    (failed / "export_report.json").write_text(json.dumps({**report, "passed": False}))
    with pytest.raises(ModelError, match="did not pass its parity check"):
        register_model(tiny_model, LINEAGE, onnx_dir=failed)
    with pytest.raises(RegistryError, match="no registered model"):
        list_versions()
