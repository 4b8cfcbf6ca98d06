"""Register step: log lineage, the accepted ONNX export and the SageMaker package to MLflow; alias it 'challenger'."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ml.data import read_manifest
from ml.dvc_data import remote_url, version_record
from ml.errors import MlopsError
from ml.evaluation import HEADLINE_METRICS, REPORT_FILE
from ml.settings import project_root
from model_registry.registration import Lineage, register_model
from model_registry.tracking import require_remote
from pipelines.spec import SPEC
from pipelines.steps.benchmark import REPORT_FILE as BENCHMARK_REPORT
from pipelines.steps.contract import (
    REMOTE_REGISTRY_ENV,
    argument_parser,
    artifact_path,
    setup_logging,
    unpacked_input,
)
from pipelines.steps.train import TRAINING_REPORT

log = logging.getLogger("pipelines.steps.register")
STEP = SPEC.step("register")
RUN_ENV = "MLOPS_PIPELINE_RUN"


def main(argv: list[str] | None = None) -> int:
    """Run the register step."""
    setup_logging()
    args = vars(argument_parser(STEP).parse_args(argv))
    evaluation_dir = artifact_path(STEP, "evaluation")
    tracking = args["MlflowTrackingUri"] or os.environ.get("MLFLOW_TRACKING_URI") or None
    scratch = Path(tempfile.mkdtemp(prefix="register-"))
    try:
        if os.environ.get(REMOTE_REGISTRY_ENV):
            tracking = require_remote(tracking, purpose="the register step of a SageMaker pipeline")
        metrics_dir = unpacked_input(artifact_path(STEP, "metrics"), scratch / "metrics")
        model_dir = unpacked_input(artifact_path(STEP, "model"), scratch / "model")
        onnx_dir = unpacked_input(artifact_path(STEP, "onnx"), scratch / "onnx")
        evaluation = json.loads((evaluation_dir / REPORT_FILE).read_text())
        training = json.loads((metrics_dir / TRAINING_REPORT).read_text())
        manifest = read_manifest(artifact_path(STEP, "splits"))
        # The data version's record when `mlops data add` made it (none in a SageMaker job: no repository there).
        data_record = version_record(project_root(), manifest["source_md5"])
        lineage = Lineage(
            data_md5=manifest["source_md5"],
            # Steps run in the repository locally (a DVC remote may hold the data); a SageMaker job has no repository.
            data_url=(manifest["source_md5"] and remote_url(project_root(), manifest["source_md5"])) or "",
            git_commit=args["GitCommit"] or "unknown",
            params=training["params"],
            metrics={name: evaluation["metrics"][name]["value"] for name in HEADLINE_METRICS},
            natural={name: evaluation["natural"]["metrics"][name]["value"] for name in HEADLINE_METRICS},
            natural_md5=evaluation["natural"]["md5"],
            history=training["history"],
            pipeline_run=os.environ.get(RUN_ENV, ""),
            benchmark=json.loads((artifact_path(STEP, "benchmark") / BENCHMARK_REPORT).read_text()),
            environment=training.get("environment", {}),
            data_parent_md5=data_record.get("parent_md5") or "",
            data_source=data_record.get("source") or "",
        )
        reports = {
            "evaluation": evaluation_dir / REPORT_FILE,
            "evaluation_table": evaluation_dir / "evaluation.txt",
            "training": metrics_dir / TRAINING_REPORT,
            "benchmark": artifact_path(STEP, "benchmark") / BENCHMARK_REPORT,
        }
        result = register_model(
            model_dir,
            lineage,
            reports={k: v for k, v in reports.items() if v.exists()},
            name=args["RegisteredModelName"],
            tracking_uri=tracking,
            onnx_dir=onnx_dir,
        )
    except (MlopsError, OSError, KeyError, json.JSONDecodeError) as exc:
        log.error("registration failed: %s", exc)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = artifact_path(STEP, "registration")
    out.mkdir(parents=True, exist_ok=True)
    (out / "registration.json").write_text(json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n")
    log.info(
        "%s version %s has alias %r; package %s", result.name, result.version, result.alias, result.package_uri or "-"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
