"""Register a trained model in MLflow with its lineage: data md5, git commit, parameters, metrics, reports.

A version is created in one call carrying every lineage tag, then given the `challenger` alias. The model's
weights digest is the idempotency key: registering the same model again returns the existing version.
The promotion gates' evidence is logged with the run and its digest recorded (`model_registry.evidence`).
The PyTorch model directory goes to the run's `model/` artifacts; the version's source is the run's MLflow Model
(`model_registry.mlflow_model`: a pyfunc LoggedModel over the ONNX predictor, holding the graphs), to which the
final scores are linked along with the training dataset (`model_registry.dataset`).
With an accepted ONNX export, its parity figures become metrics too, and the SageMaker `model.tar.gz` (built from
the same files as the MLflow Model; it names the version, so it is built after the version exists) is logged as
`package/model.tar.gz`, linked from the version's `package_uri` tag, its sha256 logged as the run parameter and
version tag `package_sha256` (deployments verify it before using the package).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ml.errors import MlopsError
from ml.model import REQUIRED_FILES, ModelInfo, check_model_dir
from ml.settings import REGISTERED_MODEL_NAME
from model_registry import evidence as gate_evidence
from model_registry.evidence import DIGEST_TAG, EVIDENCE_DIGEST, PACKAGE_DIGEST
from model_registry.tracking import RegistryError, client, experiment_id, find_registered_model, first_line

log = logging.getLogger(__name__)

CHALLENGER = "challenger"
PACKAGE_TAG = "package_uri"
PACKAGE_ARTIFACT_DIR = "package"


@dataclass(frozen=True)
class Lineage:
    """Everything needed to trace a model to its data and code and reproduce it."""

    data_md5: str
    git_commit: str
    params: dict[str, Any]
    metrics: dict[str, float]
    history: list[dict[str, float]]
    data_path: str = "data/prompts.jsonl"
    # Where the DVC remote keeps those bytes (`ml.dvc_data.remote_url`); empty when no remote holds them.
    data_url: str = ""
    pipeline_run: str = ""
    # The benchmark step's summary and gate verdict (benchmark.json); the promotion gate reads the tags.
    benchmark: dict[str, Any] | None = None
    # What the model was trained on (ml.settings.environment): Python, library versions, the lock's digest.
    environment: dict[str, str] = field(default_factory=dict)
    # The hand-written held-out set's headline scores (docs/labeling.md) and the md5 of the file they were measured
    # on: logged as natural_<score> run metrics and the natural_md5 tag; no gate reads them yet.
    natural: dict[str, float] = field(default_factory=dict)
    natural_md5: str = ""
    # The data version's parent and the source of its added rows, when `mlops data add` made it
    # (data/versions.jsonl, ml.dvc_data.lineage): version tags data_parent_md5 and data_source; empty otherwise.
    data_parent_md5: str = ""
    data_source: str = ""


@dataclass(frozen=True)
class Registration:
    """The outcome of a registration."""

    name: str
    version: str
    run_id: str
    alias: str
    created: bool
    tracking_uri: str
    package_uri: str = ""  # the SageMaker model.tar.gz logged with the run; empty without an ONNX export

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)


def model_digest(model_dir: Path) -> str:
    """sha256 over the model's weights, config, tokenizer and label map: same bytes, same model."""
    digest = hashlib.sha256()
    for name in REQUIRED_FILES:
        digest.update(name.encode())
        digest.update((Path(model_dir) / name).read_bytes())
    return digest.hexdigest()


def _find_by_digest(mlflow_client: Any, name: str, digest: str) -> Any | None:
    versions = mlflow_client.search_model_versions(f"name = '{name}' and tag.{DIGEST_TAG} = '{digest}'")
    return versions[0] if versions else None


def _evidence(
    lineage: Lineage, digest: str, export_report: dict[str, Any] | None, labels: list[str]
) -> tuple[dict[str, Any], bytes]:
    """The gates' evidence of this registration and its canonical bytes; RegistryError for figures no gate trusts."""
    record = gate_evidence.build(
        model_digest=digest,
        labels=labels,
        scores=lineage.metrics,
        parity_passed=export_report is not None,  # read_export_report refuses a failed export
        benchmark=lineage.benchmark,
    )
    problems = gate_evidence.invalid_values(record)
    if problems:
        raise RegistryError(
            "refusing to register evidence no promotion gate could trust: " + "; ".join(problems),
            hint="check the evaluation and benchmark reports; nothing was registered",
        )
    return record, gate_evidence.encode(record)


def _version_tags(lineage: Lineage, record: dict[str, Any], evidence_digest: str) -> dict[str, str]:
    tags = {
        "data_md5": lineage.data_md5,
        "data_path": lineage.data_path,
        "git_commit": lineage.git_commit,
        "pipeline_run": lineage.pipeline_run,
        **({"natural_md5": lineage.natural_md5} if lineage.natural_md5 else {}),
        **({"data_parent_md5": lineage.data_parent_md5} if lineage.data_parent_md5 else {}),
        **({"data_source": lineage.data_source} if lineage.data_source else {}),
        # Copies of the evidence (model_digest, labels in id order, metric.*, onnx_parity, bench.*) for people and
        # the MLflow UI; promotion reads the evidence itself and refuses a copy that differs.
        **gate_evidence.version_tags(record),
        EVIDENCE_DIGEST: evidence_digest,
    }
    tags.update({f"env.{k}": str(v) for k, v in sorted(lineage.environment.items())})
    return tags


def _onnx_metrics(export_report: dict[str, Any]) -> dict[str, float]:
    """The export report's measured figures as run metrics: onnx_fp32_max_abs_diff, onnx_int8_argmax_agreement, ..."""
    return {f"onnx_{k}": float(v) for k, v in sorted(export_report["measured"].items())}


def _log_run(
    mlflow_client: Any,
    model_dir: Path,
    lineage: Lineage,
    reports: dict[str, Path],
    record: dict[str, Any],
    evidence_bytes: bytes,
    onnx_dir: Path | None = None,
    export_report: dict[str, Any] | None = None,
    *,
    name: str = REGISTERED_MODEL_NAME,
) -> tuple[str, str]:
    """Log params, metrics per epoch, the dataset input, reports, the gates' evidence (artifact and digest
    parameter), the model files and the MLflow Model with the final metrics linked to it; return the run id and the
    MLflow Model's id."""
    import mlflow

    from model_registry.dataset import training_dataset
    from model_registry.mlflow_model import DATA_DIR, log_pyfunc

    mlflow.set_experiment(experiment_id=experiment_id(mlflow_client))
    with mlflow.start_run(run_name=lineage.pipeline_run or None) as run:
        mlflow.set_tags({"mlflow.source.git.commit": lineage.git_commit, "data_md5": lineage.data_md5})
        mlflow.log_params({k: v for k, v in lineage.params.items() if v is not None})
        # A logged parameter cannot be changed: the anchor that promotion checks the evidence artifact against.
        mlflow.log_param(EVIDENCE_DIGEST, gate_evidence.digest(evidence_bytes))
        mlflow.log_text(evidence_bytes.decode(), gate_evidence.EVIDENCE_ARTIFACT)
        for row in lineage.history:
            step = int(row["epoch"])
            mlflow.log_metrics({k: float(v) for k, v in row.items() if k != "epoch"}, step=step)
        dataset = training_dataset(
            url=lineage.data_url, path=lineage.data_path, rev=lineage.git_commit, md5=lineage.data_md5
        )
        mlflow.log_input(dataset, context="training")
        for path in reports.values():
            mlflow.log_artifact(str(path), artifact_path="reports")
        mlflow.log_artifacts(str(model_dir), artifact_path=DATA_DIR)
        model_id = log_pyfunc(
            model_dir, onnx_dir, list(record["labels"]), name=name, tags={DIGEST_TAG: record[DIGEST_TAG]}
        )
        # The scores measured on the dataset's test split (test_<score>, bench_<figure>, onnx_<figure>), as run
        # metrics linked to the MLflow Model and the dataset.
        final = gate_evidence.run_metrics(record)
        if export_report is not None:
            final.update(_onnx_metrics(export_report))
        mlflow.log_metrics(final, model_id=model_id, dataset=dataset)
        if lineage.natural:
            mlflow.log_metrics({f"natural_{k}": float(v) for k, v in lineage.natural.items()}, model_id=model_id)
        return run.info.run_id, model_id


def package_artifact_uri(run_artifact_uri: str) -> str:
    """Where registration logs a version's SageMaker package: under its run's artifacts."""
    from ml.model import PACKAGE_FILE

    return f"{run_artifact_uri}/{PACKAGE_ARTIFACT_DIR}/{PACKAGE_FILE}"


def _log_package(
    mlflow_client: Any, run_id: str, model_dir: Path, onnx_dir: Path, metadata: dict[str, Any]
) -> tuple[str, str]:
    """Build the SageMaker model.tar.gz, log it as package/model.tar.gz of the run with its sha256 as the run
    parameter package_sha256; return its artifact URI and sha256."""
    from ml.model import PACKAGE_FILE
    from ml.package import package_model
    from ml.parity import sha256_file

    with tempfile.TemporaryDirectory(prefix="package-") as scratch:
        path = package_model(model_dir, Path(scratch) / PACKAGE_FILE, metadata=metadata, onnx_dir=onnx_dir)
        digest = sha256_file(path)
        mlflow_client.log_artifact(run_id, str(path), artifact_path=PACKAGE_ARTIFACT_DIR)
    mlflow_client.log_param(run_id, PACKAGE_DIGEST, digest)
    return package_artifact_uri(mlflow_client.get_run(run_id).info.artifact_uri), digest


def register_model(
    model_dir: Path,
    lineage: Lineage,
    *,
    reports: dict[str, Path] | None = None,
    name: str = REGISTERED_MODEL_NAME,
    alias: str = CHALLENGER,
    tracking_uri: str | None = None,
    onnx_dir: Path | None = None,
) -> Registration:
    """Log the run and register a model version with lineage tags and `alias`; idempotent per model digest.

    With `onnx_dir` (an accepted export: model.onnx, model.int8.onnx, export_report.json) the graphs, parity
    metrics and the SageMaker package are logged too, and the version is tagged onnx_parity and package_uri.
    """
    import mlflow

    from ml.export import read_export_report

    model_dir = check_model_dir(model_dir)
    digest = model_digest(model_dir)
    # Checked before anything is logged: a missing or failed export must not produce a run or a version.
    export_report = read_export_report(onnx_dir) if onnx_dir is not None else None
    record, evidence_bytes = _evidence(lineage, digest, export_report, ModelInfo.load(model_dir).labels)
    try:
        mlflow_client = client(tracking_uri)
        uri = mlflow.get_tracking_uri()
        existing = (
            _find_by_digest(mlflow_client, name, digest)
            if find_registered_model(mlflow_client, name) is not None
            else None
        )
        if existing is not None:
            log.info("model %s already registered as %s v%s", digest[:12], name, existing.version)
            mlflow_client.set_registered_model_alias(name, alias, existing.version)
            package_uri = (existing.tags or {}).get(PACKAGE_TAG, "")
            return Registration(name, str(existing.version), existing.run_id or "", alias, False, uri, package_uri)
        run_id, model_id = _log_run(
            mlflow_client, model_dir, lineage, reports or {}, record, evidence_bytes, onnx_dir, export_report, name=name
        )
        if not find_registered_model(mlflow_client, name) is not None:
            mlflow_client.create_registered_model(name, description="DeBERTa-v3 intent classifier (ten intents)")
        tags = _version_tags(lineage, record, gate_evidence.digest(evidence_bytes))
        # The source is the MLflow Model, so `models:/NAME@ALIAS` loads with mlflow.pyfunc and `mlflow models`.
        version = mlflow_client.create_model_version(
            name, f"models:/{model_id}", run_id=run_id, tags=tags, model_id=model_id
        )
        package_uri = ""
        try:
            if onnx_dir is not None:
                metadata = {
                    "model_name": name,
                    "model_version": str(version.version),
                    "model_digest": digest,
                    "run_id": run_id,
                    "mlflow_model_id": model_id,
                    "data_md5": lineage.data_md5,
                    "git_commit": lineage.git_commit,
                    "pipeline_run": lineage.pipeline_run,
                    **({"natural_md5": lineage.natural_md5} if lineage.natural_md5 else {}),
                }
                package, package_digest = _log_package(mlflow_client, run_id, model_dir, Path(onnx_dir), metadata)
                mlflow_client.set_model_version_tag(name, version.version, PACKAGE_DIGEST, package_digest)
                mlflow_client.set_model_version_tag(name, version.version, PACKAGE_TAG, package)
                package_uri = package
            mlflow_client.set_registered_model_alias(name, alias, version.version)
        except Exception:
            # Without its package or alias the version would be half-registered: take it back, then report.
            _delete_quietly(mlflow_client, name, version.version)
            raise
    except MlopsError:
        raise  # already says what is wrong (a bad export, an unreachable registry); nothing half-registered is kept
    except Exception as exc:
        raise RegistryError(
            f"registration in MLflow at {_safe_uri()} failed: {type(exc).__name__}: {first_line(exc)}",
            hint="check that the tracking server is up (MLFLOW_TRACKING_URI); rerunning is safe, nothing "
            "half-registered is kept",
        ) from exc
    log.info(
        "registered %s v%s (alias %s)%s",
        name,
        version.version,
        alias,
        f", package {package_uri}" if package_uri else "",
    )
    return Registration(name, str(version.version), run_id, alias, True, uri, package_uri)


def _delete_quietly(mlflow_client: Any, name: str, version: str) -> None:
    try:
        mlflow_client.delete_model_version(name, version)
    except Exception:  # noqa: BLE001 - the original error is the one to report
        log.warning("could not remove incomplete version %s v%s", name, version)


def _safe_uri() -> str:
    import mlflow

    return mlflow.get_tracking_uri()
