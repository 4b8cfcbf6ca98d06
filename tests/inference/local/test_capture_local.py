"""Data capture on the local A/B endpoint: DataCaptureConfig through boto3, per-variant files in SageMaker's layout,
DescribeEndpoint, refusals as ValidationException, and `mlops endpoint deploy --data-capture DIR`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inference.serving.capture import capture_files
from tests.conftest import run_cli
from tests.inference.conftest import (
    ServerProcess,
    ab_models,
    control_call,
    http,
    sagemaker_clients,
    start_server,
)
from tests.inference.local.test_local_endpoint import client_error, wait_settled
from tests.inference.serving.test_capture import LAYOUT

BODY = b'{"inputs": "write a python function that reverses a string"}'


@pytest.fixture(scope="module")
def variant_models(onnx_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two copies of the tiny model answering with model versions A and B."""
    return ab_models(onnx_model, tmp_path_factory.mktemp("variants"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """An empty local endpoint (`mlops endpoint serve-local`), shared by the module."""
    proc = start_server(
        ["-m", "mlops_cli", "endpoint", "serve-local", "--threads", "1"],
        tmp_path_factory.mktemp("local-endpoint") / "server.log",
    )
    yield proc
    proc.kill()


@pytest.fixture(scope="module")
def clients(server: ServerProcess) -> tuple[Any, Any]:
    """boto3 (sagemaker-runtime, sagemaker) on the local endpoint."""
    return sagemaker_clients(server.url)


@pytest.fixture(scope="module")
def models(clients: tuple[Any, Any], variant_models: dict[str, Path]) -> dict[str, str]:
    """The two variant models, created once: {variant: model name}."""
    sagemaker = clients[1]
    for variant, path in variant_models.items():
        sagemaker.create_model(ModelName=f"cap-model-{variant}", PrimaryContainer={"ModelDataUrl": str(path)})
    return {variant: f"cap-model-{variant}" for variant in variant_models}


def capture_config(destination: str, percent: int = 100, **extra: Any) -> dict[str, Any]:
    """A DataCaptureConfig as a SageMaker user writes it."""
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": percent,
        "DestinationS3Uri": destination,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
        **extra,
    }


def variants(models: dict[str, str]) -> list[dict[str, Any]]:
    """Both variants at equal weights."""
    return [
        {"VariantName": v, "ModelName": m, "InitialVariantWeight": 1.0, "InitialInstanceCount": 1}
        for v, m in models.items()
    ]


def lines(root: Path, endpoint: str) -> list[tuple[str, dict[str, Any]]]:
    """(variant, parsed line) of every capture of an endpoint."""
    return [
        (path.relative_to(root).parts[1], json.loads(line))
        for path in capture_files(root, endpoint)
        for line in path.read_text().splitlines()
    ]


def test_each_variant_captures_into_its_own_directory_and_describe_shows_it(
    server: ServerProcess, clients: tuple[Any, Any], models: dict[str, str], tmp_path: Path
) -> None:
    runtime, sagemaker = clients
    root = tmp_path / "captures"
    config = capture_config(root.as_uri())
    sagemaker.create_endpoint_config(
        EndpointConfigName="cap-config", ProductionVariants=variants(models), DataCaptureConfig=config
    )
    sagemaker.create_endpoint(EndpointName="cap-ab", EndpointConfigName="cap-config")
    assert wait_settled(sagemaker, "cap-ab")["EndpointStatus"] == "InService"
    answers: dict[str, list[bytes]] = {"a": [], "b": []}
    for variant, times in (("a", 3), ("b", 2)):
        for _ in range(times):
            response = runtime.invoke_endpoint(
                EndpointName="cap-ab", Body=BODY, ContentType="application/json", TargetVariant=variant
            )
            answers[variant].append(response["Body"].read())
    description = sagemaker.describe_endpoint(EndpointName="cap-ab")
    assert description["DataCaptureConfig"] == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 100,
        "DestinationS3Uri": root.as_uri(),
    }
    assert sagemaker.describe_endpoint_config(EndpointConfigName="cap-config")["DataCaptureConfig"] == config
    metrics = http("GET", f"{server.url}/endpoints/cap-ab/metrics", content_type=None).json()
    assert metrics["capture"]["sampled_out"] == 0 and metrics["capture"]["dropped"] == 0
    sagemaker.delete_endpoint(EndpointName="cap-ab")  # closes its writer: every line is on disk now
    files = capture_files(root, "cap-ab")
    assert files and all(LAYOUT.match(p.relative_to(root).as_posix()) for p in files)
    found = lines(root, "cap-ab")
    assert sorted(v for v, _ in found) == ["a", "a", "a", "b", "b"]
    for variant, record in found:
        assert record["captureData"]["endpointInput"]["data"] == BODY.decode()
        assert record["captureData"]["endpointOutput"]["data"].encode() in answers[variant]
        version = json.loads(record["captureData"]["endpointOutput"]["data"])["model_version"]
        assert version == variant.upper()


def test_input_only_at_zero_percent_and_a_plain_directory_path(
    clients: tuple[Any, Any], models: dict[str, str], tmp_path: Path
) -> None:
    runtime, sagemaker = clients
    root = tmp_path / "zero"
    sagemaker.create_endpoint_config(
        EndpointConfigName="cap-zero-config",
        ProductionVariants=variants(models),
        DataCaptureConfig=capture_config(str(root), 0, CaptureOptions=[{"CaptureMode": "Input"}]),
    )
    sagemaker.create_endpoint(EndpointName="cap-zero", EndpointConfigName="cap-zero-config")
    wait_settled(sagemaker, "cap-zero")
    for _ in range(10):
        runtime.invoke_endpoint(EndpointName="cap-zero", Body=BODY, ContentType="application/json")
    assert sagemaker.describe_endpoint(EndpointName="cap-zero")["DataCaptureConfig"]["CurrentSamplingPercentage"] == 0
    sagemaker.delete_endpoint(EndpointName="cap-zero")
    assert capture_files(root) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DestinationS3Uri": "s3://bucket/capture"}, "writes captures to a local directory, not to S3"),
        ({"DestinationS3Uri": "relative/dir"}, "is relative"),
        ({"InitialSamplingPercentage": 150}, "less than or equal to 100"),
        ({"InitialSamplingPercentage": -1}, "greater than or equal to 0"),
        ({"CaptureOptions": [{"CaptureMode": "Everything"}]}, "satisfy enum value set"),
        ({"CaptureOptions": []}, "have length greater than or equal to 1"),
    ],
)
def test_a_bad_data_capture_config_is_a_validation_exception(
    server: ServerProcess, models: dict[str, str], tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    body = {
        "EndpointConfigName": "cap-bad",
        "ProductionVariants": variants(models),
        "DataCaptureConfig": {**capture_config(str(tmp_path)), **change},
    }
    status, answer = control_call(server.url, "CreateEndpointConfig", json.dumps(body).encode())
    assert status == 400 and answer["__type"] == "ValidationException" and message in answer["message"], answer
    status, _ = control_call(server.url, "DescribeEndpointConfig", b'{"EndpointConfigName": "cap-bad"}')
    assert status == 400  # nothing was created


def test_boto3_sees_the_s3_refusal_with_its_reason(clients: tuple[Any, Any], models: dict[str, str]) -> None:
    sagemaker = clients[1]
    error = client_error(
        lambda: sagemaker.create_endpoint_config(
            EndpointConfigName="cap-s3",
            ProductionVariants=variants(models),
            DataCaptureConfig=capture_config("s3://bucket/capture"),
        )
    )
    assert error["Error"]["Code"] == "ValidationException"
    assert "s3:// is for SageMaker on AWS" in error["Error"]["Message"]


def test_endpoint_deploy_data_capture_dir_captures_and_a_redeploy_keeps_it(
    server: ServerProcess, variant_models: dict[str, Path], tmp_path: Path
) -> None:
    env = {"MLOPS_LOCAL_ENDPOINT": server.url}
    root = tmp_path / "deployed"
    deploy = ["endpoint", "deploy", "cap-cli", "--variant", f"a={variant_models['a']}", "--json"]
    result = run_cli(*deploy, "--data-capture", str(root), "--capture-percent", "100", env=env)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["data_capture"] and status["data_capture_destination"] == root.resolve().as_uri()
    assert status["data_capture_percent"] == 100
    runtime, sagemaker = sagemaker_clients(server.url)
    runtime.invoke_endpoint(EndpointName="cap-cli", Body=BODY, ContentType="application/json")
    # A redeploy (another model, no capture option) keeps the endpoint's capture; the text status says where.
    again = run_cli("endpoint", "deploy", "cap-cli", "--variant", f"a={variant_models['b']}", env=env)
    assert again.returncode == 0, again.stderr
    assert f"data capture: 100% to {root.resolve().as_uri()}" in again.stdout
    for _ in range(2):
        runtime.invoke_endpoint(EndpointName="cap-cli", Body=BODY, ContentType="application/json")
    # `--data-capture off` turns it off: the writer closes (its lines are on disk), nothing more is captured.
    off = run_cli("endpoint", "deploy", "cap-cli", "--variant", f"a={variant_models['a']}", "--data-capture", "off",
                  "--json", env=env)  # fmt: skip
    assert off.returncode == 0, off.stderr
    assert not json.loads(off.stdout)["data_capture"]
    assert "DataCaptureConfig" not in sagemaker.describe_endpoint(EndpointName="cap-cli")
    runtime.invoke_endpoint(EndpointName="cap-cli", Body=BODY, ContentType="application/json")
    found = lines(root, "cap-cli")
    assert [v for v, _ in found] == ["a"] * 3
    versions = sorted(json.loads(r["captureData"]["endpointOutput"]["data"])["model_version"] for _, r in found)
    assert versions == ["A", "B", "B"]
    sagemaker.delete_endpoint(EndpointName="cap-cli")
    # Purging asks first (and, with no one to answer, deletes nothing); --yes deletes.
    purge = ["state", "purge-capture", "--dir", str(root), "--endpoint", "cap-cli"]
    assert run_cli(*purge).returncode != 0 and len(lines(root, "cap-cli")) == 3
    files = capture_files(root, "cap-cli")
    purged = run_cli(*purge, "--yes", "--json")
    assert purged.returncode == 0, purged.stderr
    assert json.loads(purged.stdout)["files"] == len(files) and json.loads(purged.stdout)["bytes"] > 0
    assert capture_files(root, "cap-cli") == [] and not (root / "cap-cli").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-capture", "s3://bucket/capture"], "writes captures to a local directory, not to s3://"),
        (["--data-capture", "DIR", "--capture-percent", "101"], "101 is not in the range 0<=x<=100"),
    ],
)
def test_endpoint_deploy_refuses_a_bad_capture_before_changing_anything(
    server: ServerProcess, variant_models: dict[str, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    args = [str(tmp_path) if a == "DIR" else a for a in args]
    result = run_cli(
        "endpoint", "deploy", "cap-refused", "--variant", f"a={variant_models['a']}", *args,
        env={"MLOPS_LOCAL_ENDPOINT": server.url},
    )  # fmt: skip
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    sagemaker = sagemaker_clients(server.url)[1]
    assert all(e["EndpointName"] != "cap-refused" for e in sagemaker.list_endpoints()["Endpoints"])
