"""`mlops endpoint ...` end to end, as a user runs it: two registry versions (real packages) deployed as A/B
variants, on AWS (a moto server) and on the local A/B endpoint (a real server process loading the packages)."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from tests.conftest import run_cli
from tests.inference.conftest import ServerProcess, start_server

NAME = "intent-classifier"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/intent-serve:1.0"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
BENCH = {"bench.p50_ms": "5.0", "bench.p95_ms": "9.0", "bench.errors": "0", "bench.budget_ms": "500", "bench.passed": "true"}


@pytest.fixture(scope="module")
def registry(tiny_model: Path, small_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A SQLite registry with v1 (champion) and v2 (challenger), each with its exported model.tar.gz."""
    from ml.data import load_examples
    from ml.export import export_model
    from model_registry.promotion import promote
    from model_registry.registration import Lineage, register_model
    from model_registry.tracking import client

    root = tmp_path_factory.mktemp("ab-registry")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    examples = load_examples(small_dataset)[:40]
    versions = []
    for key in ("one", "two"):
        model_dir = root / key
        shutil.copytree(tiny_model, model_dir)
        info = json.loads((model_dir / "intent_model.json").read_text())
        info["source"] = f"tiny-{key}"  # a different digest, the same weights
        (model_dir / "intent_model.json").write_text(json.dumps(info))
        export_model(model_dir, examples, out_dir=root / f"{key}-onnx")
        lineage = Lineage(data_md5="0" * 32, git_commit="c" * 40, params={"model": "tiny"},
                          metrics={"accuracy": 0.9, "macro_f1": 0.9}, history=[])
        versions.append(register_model(model_dir, lineage, tracking_uri=uri, onnx_dir=root / f"{key}-onnx").version)
        for tag, value in BENCH.items():
            client(uri).set_model_version_tag(NAME, versions[-1], tag, value)
    assert promote(versions[0], tracking_uri=uri).ok
    yield {"MLFLOW_TRACKING_URI": uri}


def _cli(*args: str, env: dict[str, str]) -> Any:
    proc = run_cli("endpoint", *args, env=env)
    return proc


def _json(proc: Any) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _champion(env: dict[str, str]) -> str | None:
    from model_registry.promotion import champion_history

    return champion_history(NAME, tracking_uri=env["MLFLOW_TRACKING_URI"])["champion"]


# ---------------------------------------------------------------------------------------------- AWS (moto)


def test_aws_deploy_uploads_packages_and_creates_two_variants(registry: dict[str, str], moto_server: str) -> None:
    env = {**registry, "AWS_ENDPOINT_URL": moto_server}
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    s3.create_bucket(Bucket="intent-models")
    status = _json(_cli("deploy", "intent-ab", "--image-uri", IMAGE, "--role", ROLE, "--bucket", "intent-models",
                        "--autoscale", "1:4:70", "--data-capture", "s3://intent-models/capture", "--json", env=env))
    variants = {v["variant"]: v for v in status["variants"]}
    assert {n: (v["current_weight"], v["model_version"]) for n, v in variants.items()} == {
        "champion": (90.0, "1"), "challenger": (10.0, "2")}
    assert variants["challenger"]["autoscaling"]["max_instances"] == 4 and status["data_capture"]
    key = "intent-mlops/models/intent-classifier/v2/model.tar.gz"
    uploaded = s3.get_object(Bucket="intent-models", Key=key)["Body"].read()
    assert uploaded[:2] == b"\x1f\x8b"  # the registered gzip package, as SageMaker will download it

    shifted = _json(_cli("shift", "intent-ab", "--weights", "champion=50,challenger=50", "--json", env=env))
    assert shifted["weights"] == {"champion": 50.0, "challenger": 50.0}
    assert "champion" in _cli("status", "intent-ab", env=env).stdout

    # moto has no UpdateEndpoint: the promotion fails there, and must leave the registry and the endpoint as they were.
    failed = _cli("promote", "intent-ab", "--variant", "challenger", env=env)
    assert failed.returncode == 1 and "UpdateEndpoint" in failed.stderr
    assert _champion(registry) == "1"
    assert _json(_cli("status", "intent-ab", "--json", env=env))["endpoint_config"] == status["endpoint_config"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--variant", "champion=no-such-alias"], "has no version or alias 'no-such-alias'"),
        (["--variant", "champion_v1=champion"], "variant name 'champion_v1' would be rejected by SageMaker"),
        (["--variant", "a=champion", "--variant", "a=challenger"], "two variants are named 'a'"),
        (["--weights", "champion=0,challenger=0"], "do not sum to a positive number"),
        (["--weights", "champion=90,shadow=10"], "no variant named 'shadow'"),
        (["--variant", "champion"], "is not NAME=MODEL"),
    ],
)
def test_aws_deploy_bad_input_changes_nothing(registry: dict[str, str], moto_server: str, args: list[str], message: str) -> None:
    env = {**registry, "AWS_ENDPOINT_URL": moto_server}
    proc = _cli("deploy", "intent-bad", "--image-uri", IMAGE, "--role", ROLE, "--bucket", "intent-models", *args, env=env)
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr
    sm = boto3.client("sagemaker", endpoint_url=moto_server, region_name="us-east-1")
    assert "intent-bad" not in {e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]}


def test_aws_needs_image_role_and_an_existing_endpoint(registry: dict[str, str], moto_server: str) -> None:
    env = {**registry, "AWS_ENDPOINT_URL": moto_server}
    assert "no serving image" in _cli("deploy", "intent-x", "--role", ROLE, env=env).stderr
    assert "not an IAM role ARN" in _cli("deploy", "intent-x", "--image-uri", IMAGE, "--role", "admin", env=env).stderr
    for args in (["shift", "no-such-ep", "--weights", "a=1"], ["status", "no-such-ep"], ["rollback", "no-such-ep"],
                 ["promote", "no-such-ep", "--variant", "a"]):
        proc = _cli(*args, env=env)
        assert proc.returncode == 1 and "endpoint 'no-such-ep' does not exist" in proc.stderr, (args, proc.stderr)
    assert "give either --weights or --schedule" in _cli("shift", "x", env=env).stderr
    assert "increasing percentages" in _cli("shift", "x", "--variant", "a", "--schedule", "50,10", env=env).stderr
