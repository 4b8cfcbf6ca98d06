"""`mlops aws check` against the moto server and a real HTTP server standing in for MLflow: each check passes, fails
or is skipped with its reason, --json carries the same, exit 1 on any failure, and bad input is one clear error.

moto does not implement DescribeMlflowTrackingServer or SimulatePrincipalPolicy: on moto the check says so
(skipped). A managed tracking server that is up or stopped is answered by a `before-call` hook on the default boto3
session, the way tests/inference/deploy/test_endpoints_moto.py stands in for moto's missing UpdateEndpoint.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner

from tests.conftest import ROOT, run_cli

ACCOUNT = "123456789012"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
_names = itertools.count(1)


class _MlflowStandIn(BaseHTTPRequestHandler):
    """Answers /health (and the experiments API) with the status the server was given."""

    def do_GET(self) -> None:
        status = self.server.answers.get(self.path.split("?")[0], 404)  # type: ignore[attr-defined]
        body = b"OK" if status == 200 else b"{}"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _serve(host: str, answers: dict[str, int]) -> Iterator[str]:
    server = ThreadingHTTPServer((host, 0), _MlflowStandIn)
    server.answers = answers  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _outward_address() -> str | None:
    """This machine's address on its network (not loopback), or None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, the kernel only picks a route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.fixture
def mlflow_server() -> Iterator[str]:
    """An MLflow stand-in reachable on the machine's network address: /health answers 200."""
    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    with _serve(address, {"/health": 200}) as url:
        yield url


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """boto3 pointed at moto, with a role that trusts SageMaker, a bucket and a pushed image, all fresh."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    for name in ("MLFLOW_TRACKING_URI", "MLOPS_SAGEMAKER_ROLE_ARN", "MLOPS_SAGEMAKER_BUCKET", "MLOPS_SERVING_IMAGE"):
        monkeypatch.delenv(name, raising=False)
    n = next(_names)
    role = f"check-role-{n}"
    boto3.client("iam").create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
    bucket = f"check-bucket-{n}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    repository = f"check-serve-{n}"
    ecr = boto3.client("ecr")
    ecr.create_repository(repositoryName=repository)
    ecr.put_image(
        repositoryName=repository,
        imageManifest=json.dumps({"schemaVersion": 2, "config": {"digest": "sha256:" + "b" * 64}, "layers": []}),
        imageManifestMediaType="application/vnd.docker.distribution.manifest.v2+json",
        imageTag="1.0",
    )
    return {
        "role": f"arn:aws:iam::{ACCOUNT}:role/{role}",
        "bucket": bucket,
        "image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{repository}:1.0",
    }


def _check(*args: str) -> tuple[int, dict[str, Any]]:
    """`mlops aws check ARGS --json` in this process: (exit code, the checks by name)."""
    from mlops_cli.main import cli

    result = CliRunner().invoke(cli, ["aws", "check", *args, "--json"])
    assert "Traceback" not in result.output, result.output
    document = json.loads(result.stdout)
    return result.exit_code, {c["name"]: c for c in document["checks"]} | {"_": document}


def _statuses(checks: dict[str, Any]) -> dict[str, str]:
    return {name: c["status"] for name, c in checks.items() if name != "_"}


def test_a_complete_setup_passes(aws: dict[str, str], mlflow_server: str) -> None:
    code, checks = _check(
        "--role", aws["role"], "--bucket", aws["bucket"], "--tracking-uri", mlflow_server, "--image", aws["image"]
    )
    assert code == 0, checks
    assert _statuses(checks) == {
        "caller": "pass",
        "role": "pass",
        "bucket": "pass",
        "mlflow": "pass",
        "image": "pass",
        "permissions": "skipped",
    }
    assert checks["role"]["detail"] == f"{aws['role']} exists and trusts sagemaker.amazonaws.com"
    assert f"s3://{aws['bucket']} exists in us-east-1" in checks["bucket"]["detail"]
    assert checks["mlflow"]["detail"] == f"{mlflow_server} answered /health"
    assert checks["image"]["detail"].startswith(f"{aws['image']} exists: sha256:")
    assert "--simulate" in checks["permissions"]["detail"]
    assert checks["_"]["ok"] and checks["_"]["counts"] == {"pass": 5, "fail": 0, "skipped": 1}


def test_defaults_come_from_the_environment_the_other_commands_use(
    aws: dict[str, str], mlflow_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_SAGEMAKER_ROLE_ARN", aws["role"])
    monkeypatch.setenv("MLOPS_SAGEMAKER_BUCKET", aws["bucket"])
    monkeypatch.setenv("MLOPS_SERVING_IMAGE", aws["image"])
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    code, checks = _check()
    assert code == 0 and _statuses(checks)["image"] == "pass", checks
    assert aws["role"] in checks["role"]["detail"] and aws["bucket"] in checks["bucket"]["detail"]


def test_what_is_missing_fails_with_how_to_fix_it(aws: dict[str, str]) -> None:
    missing_image = aws["image"].replace(":1.0", ":2.0")
    code, checks = _check(
        "--role", aws["role"].replace("check-role", "no-such-role"), "--bucket", "no-such-bucket-x1",
        "--image", missing_image,
    )  # fmt: skip
    assert code == 1
    assert _statuses(checks) == {
        "caller": "pass",
        "role": "fail",
        "bucket": "fail",
        "mlflow": "fail",
        "image": "fail",
        "permissions": "skipped",
    }
    assert "does not exist" in checks["role"]["detail"] and "execution-role-trust.json" in checks["role"]["hint"]
    assert checks["bucket"]["detail"] == "s3://no-such-bucket-x1 does not exist"
    assert "do not grant s3:CreateBucket" in checks["bucket"]["hint"]
    assert (
        "2.0" in checks["image"]["detail"]
        and checks["image"]["hint"] == f"build and push it: docker push {missing_image}"
    )


def test_no_role_and_the_default_bucket(aws: dict[str, str]) -> None:
    code, checks = _check()
    assert code == 1
    assert checks["role"]["status"] == "fail" and "MLOPS_SAGEMAKER_ROLE_ARN" in checks["role"]["hint"]
    assert checks["bucket"]["detail"] == (
        f"s3://sagemaker-us-east-1-{ACCOUNT} (the default: no --bucket given) does not exist"
    )


def test_a_role_sagemaker_cannot_assume_fails(aws: dict[str, str]) -> None:
    ec2_only = json.loads(json.dumps(TRUST).replace("sagemaker.amazonaws.com", "ec2.amazonaws.com"))
    boto3.client("iam").create_role(RoleName="check-ec2-only", AssumeRolePolicyDocument=json.dumps(ec2_only))
    _, checks = _check("--role", f"arn:aws:iam::{ACCOUNT}:role/check-ec2-only", "--bucket", aws["bucket"])
    assert checks["role"]["status"] == "fail"
    assert "does not trust sagemaker.amazonaws.com: SageMaker cannot assume it" in checks["role"]["detail"]
    _, checks = _check("--role", "arn:aws:iam::210987654321:role/elsewhere", "--bucket", aws["bucket"])
    assert checks["role"]["status"] == "skipped" and "account 210987654321" in checks["role"]["detail"]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"/health": 500}, "answered HTTP 500 to /health"),
        ({"/api/2.0/mlflow/experiments/search": 401}, "refused the request (HTTP 401)"),
        ({"/health": 404, "/api/2.0/mlflow/experiments/search": 200}, None),
    ],
)
def test_an_mlflow_server_must_answer(aws: dict[str, str], answers: dict[str, int], expected: str | None) -> None:
    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    with _serve(address, answers) as url:
        _, checks = _check("--tracking-uri", url)
        if expected is None:  # behind a proxy without /health: the tracking API answers
            assert checks["mlflow"] == {
                "name": "mlflow",
                "status": "pass",
                "detail": f"{url} answered the experiments API",
                "hint": "",
            }
        else:
            assert checks["mlflow"]["status"] == "fail" and expected in checks["mlflow"]["detail"]


def test_mlflow_where_sagemaker_jobs_cannot_reach_it_fails(aws: dict[str, str]) -> None:
    with _serve("127.0.0.1", {"/health": 200}) as url:
        _, checks = _check("--tracking-uri", url)
        assert checks["mlflow"]["status"] == "fail"
        assert (
            "answers here, but it is a loopback address: SageMaker jobs cannot reach it" in checks["mlflow"]["detail"]
        )
    _, checks = _check()  # nothing set: the local SQLite default
    assert checks["mlflow"]["status"] == "fail"
    assert "(the local default: MLFLOW_TRACKING_URI is not set) is a local store" in checks["mlflow"]["detail"]
    _, checks = _check("--tracking-uri", "file:///tmp/mlruns")
    assert checks["mlflow"]["status"] == "fail" and "SageMaker jobs cannot reach it" in checks["mlflow"]["detail"]
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    _, checks = _check("--tracking-uri", f"http://127.0.0.1:{port}")  # nothing listens
    assert checks["mlflow"]["status"] == "fail" and "did not answer within 5 s" in checks["mlflow"]["detail"]


def _tracking_server(status: str) -> Any:
    def answer(params: dict[str, Any], **kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        described = {"TrackingServerStatus": status, "IsActive": "Active", "TrackingServerUrl": "https://t.example"}
        return AWSResponse(params["url"], 200, {}, None), described

    return answer


def test_a_managed_tracking_server_must_be_up(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:mlflow-tracking-server/intent-mlflow"
    _, checks = _check("--tracking-uri", arn)  # moto has no MLflow tracking servers
    assert checks["mlflow"]["status"] == "skipped"
    assert "does not implement DescribeMlflowTrackingServer" in checks["mlflow"]["detail"]
    for status, outcome in (("Created", "pass"), ("Stopped", "fail")):
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.Session())
        boto3.DEFAULT_SESSION.events.register(
            "before-call.sagemaker.DescribeMlflowTrackingServer", _tracking_server(status)
        )
        _, checks = _check("--tracking-uri", arn)
        assert checks["mlflow"]["status"] == outcome, checks["mlflow"]
    assert "start-mlflow-tracking-server --tracking-server-name intent-mlflow" in checks["mlflow"]["hint"]
    _, checks = _check("--tracking-uri", f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:mlflow-app/app-1")
    assert checks["mlflow"]["status"] == "skipped"


def test_permissions_are_simulated_only_where_iam_can(aws: dict[str, str]) -> None:
    _, checks = _check(
        "--role", aws["role"], "--bucket", aws["bucket"], "--simulate", "pipeline", "--simulate", "endpoint",
        "--endpoint", "intent-ab",
    )  # fmt: skip
    for purpose in ("pipeline", "endpoint"):
        check = checks[f"permissions: {purpose}"]
        assert check["status"] == "skipped", check
        assert check["detail"] == "the IAM endpoint does not implement SimulatePrincipalPolicy"


def test_without_credentials_only_the_caller_fails(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3's default session caches the credentials it found
    code, checks = _check("--role", aws["role"], "--bucket", aws["bucket"], "--image", aws["image"])
    assert code == 1
    assert checks["caller"]["status"] == "fail" and "NoCredentialsError" in checks["caller"]["detail"]
    assert {checks[n]["status"] for n in ("role", "bucket", "image")} == {"skipped"}
    assert "aws sso login" in checks["caller"]["hint"]


def test_the_text_report_a_person_reads(aws: dict[str, str]) -> None:
    proc = run_cli("aws", "check", "--role", aws["role"], "--bucket", "no-such-bucket-x2")  # AWS_ENDPOINT_URL: moto
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("pass     caller ")
    bucket = next(i for i, line in enumerate(lines) if line.startswith("fail     bucket "))
    assert lines[bucket + 1].strip().startswith("fix: create it in us-east-1 first")
    assert lines[-1] == "2 passed, 2 failed, 2 skipped"
    assert proc.stderr.strip() == "error: 2 check(s) failed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "SageMakerRole"], "not an IAM role ARN: 'SageMakerRole'"),
        (["--bucket", "My_Bucket"], "not a valid S3 bucket name: 'My_Bucket'"),
        (["--region", "mars-1"], "not an AWS region: 'mars-1'"),
        (["--prefix", "a b"], "not a valid S3 key prefix: 'a b'"),
        (["--image", "docker.io/library/python:3.11"], "not an ECR image URI: 'docker.io/library/python:3.11'"),
        (["--simulate", "endpoint", "--role", f"arn:aws:iam::{ACCOUNT}:role/r"], "needs an endpoint name"),
        (["--simulate", "pipeline"], "simulating permissions needs the role"),
    ],
)
def test_bad_input_is_one_clear_error(args: list[str], message: str) -> None:
    from mlops_cli.main import cli

    result = CliRunner().invoke(cli, ["aws", "check", *args])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: ") and message in result.output, result.output


def test_help_and_the_simulation_choices() -> None:
    from mlops_cli.main import cli
    from pipelines.aws_check import SIMULATIONS

    result = CliRunner().invoke(cli, ["aws", "check", "--help"])
    assert result.exit_code == 0 and "pass, fail or skipped" in result.output
    option = next(p for p in cli.commands["aws"].commands["check"].params if p.name == "simulate")  # type: ignore[attr-defined]
    assert tuple(option.type.choices) == SIMULATIONS
    assert (ROOT / "docs" / "aws" / "iam" / "execution-role-trust.json").is_file()  # the file the hints name
