"""Every step of the SageMaker definition, run the way SageMaker runs it (tests/pipelines/sagemaker_emulator.py):
the code bundle and the driver scripts the definition uploads, SageMaker's directory layout and variables, the
training job's tarballs, an interpreter holding exactly what the project's training image holds (its lock), and a
real MLflow server for the register step. A package the jobs import and the image lacks fails a job here; so does a
registry the job could not reach.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.model_registry.conftest import MlflowServer, start_mlflow_server
from tests.pipelines.sagemaker_emulator import SageMakerEmulator, image_environment

DATA_URI = "s3://mlops-contract-tests/dvc/files/md5/contract-dataset"


@pytest.fixture(scope="session")
def image_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python holding exactly pipelines/training_image.lock: what Dockerfile.train installs, and nothing else."""
    venv = tmp_path_factory.mktemp("image") / "venv"
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    subprocess.run([uv, "venv", "--quiet", "--seed", "--python", sys.executable, str(venv)], check=True)
    torch_source = (
        ["--find-links", "/opt/wheels"]
        if any(Path("/opt/wheels").glob("torch-*"))
        else ["--extra-index-url", "https://download.pytorch.org/whl/cpu"]
    )
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "--require-hashes", "--no-deps",
         "--index-strategy", "unsafe-best-match", *torch_source, "-r", str(ROOT / "pipelines" / "training_image.lock")],
        check=True, timeout=1200,
    )  # fmt: skip
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """The registry that outlives the jobs."""
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def emulated(
    settings: Any, small_dataset: Path, image_python: Path, mlflow_server: MlflowServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> SageMakerEmulator:  # fmt: skip
    """The pipeline run end to end as SageMaker would run one execution of it."""
    import boto3
    import moto

    from pipelines.sagemaker_pipeline import definition_dict

    root = tmp_path_factory.mktemp("sagemaker")
    with moto.mock_aws():
        definition = definition_dict(settings)
        s3 = boto3.client("s3", region_name=settings.region)
        objects = [o["Key"] for o in s3.list_objects_v2(Bucket=settings.bucket)["Contents"]]
        uploaded = {key: s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read() for key in objects}
    emulator = SageMakerEmulator(
        definition,
        python=image_python,
        root=root,
        parameters={
            "InputDataUri": DATA_URI,
            "DataMd5": hashlib.md5(small_dataset.read_bytes()).hexdigest(),  # noqa: S324 - DVC's content hash
            "Epochs": 1,
            "MaxLength": 64,
            "MinMacroF1": 0.0,
            "MlflowTrackingUri": mlflow_server.url,
            "GitCommit": "c0ffee" * 6 + "c0ff",
        },
        image_env=image_environment(ROOT / "Dockerfile.train", root),
    )
    for key, body in uploaded.items():  # the code bundle and the SDK's drivers, as the definition build uploaded them
        emulator.put(f"s3://{settings.bucket}/{key}", body)
    emulator.put(DATA_URI, small_dataset.read_bytes())
    emulator.run()
    return emulator


def _log(emulator: SageMakerEmulator, name: str) -> str:
    return next((r.log for r in emulator.results if r.name == name), "(never ran)")


def test_every_step_runs_in_the_image_and_registers_into_the_server(emulated: SageMakerEmulator) -> None:
    ran = {r.name: r.returncode for r in emulated.results}
    for step in ("prepare", "train", "evaluate", "export", "benchmark", "register"):
        assert ran.get(step) == 0, f"{step} failed in a SageMaker-like job:\n{_log(emulated, step)[-6000:]}"
    # The jobs installed nothing at start-up: the image holds everything (no requirements.txt in the bundle).
    assert "Installing requirements" not in "".join(r.log for r in emulated.results)
    # The training job went through SageMaker's Torchrun launcher with the definition's hyperparameters.
    train = _log(emulated, "train")
    assert "Running Torchrun Driver" in train and "--nproc_per_node=1" in train and "--epochs 1" in train


def test_the_registered_version_carries_the_lineage_and_the_image(
    emulated: SageMakerEmulator, mlflow_server: MlflowServer, small_dataset: Path
) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    version = client.get_model_version_by_alias("intent-classifier", "challenger")
    tags = version.tags
    assert tags["data_md5"] == hashlib.md5(small_dataset.read_bytes()).hexdigest()  # noqa: S324
    assert tags["git_commit"] == emulated.parameters["GitCommit"]
    assert tags["onnx_parity"] == "passed" and tags["bench.passed"] == "true"
    # Which image and which versions trained it: the TrainingImage parameter, and the image's own lock.
    assert tags["env.image"] == emulated.parameters["TrainingImage"]
    lock = (ROOT / "pipelines" / "training_image.lock").read_bytes()
    assert tags["env.lock"] == "training_image.lock" and tags["env.lock_sha256"] == hashlib.sha256(lock).hexdigest()
    assert tags["env.torch"].startswith("2.13") and tags["env.processes"] == "1" and tags["env.device"] == "cpu"
    # The package the endpoint deploys was uploaded to the server's artifact store with the version.
    assert tags["package_uri"].startswith("mlflow-artifacts:/")


def test_the_register_job_refuses_a_store_that_dies_with_it(emulated: SageMakerEmulator) -> None:
    register = next(s for s in emulated.definition["Steps"][-1]["Arguments"]["IfSteps"] if s["Name"] == "register")
    local = dataclasses.replace(emulated, parameters={**emulated.parameters, "MlflowTrackingUri": ""}, results=[])
    assert local.processing_job(register) is False
    log = local.results[-1].log
    assert "needs an MLflow registry that outlives the SageMaker job" in log, log[-3000:]
