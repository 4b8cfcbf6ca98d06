"""Inference Recommender load tests: the request against botocore's shape, the sample payload in the serving contract
(uploaded to a moto S3), a job's results as capacity profiles a plan uses unscaled, and clear errors.

moto implements no Inference Recommender operation (pinned below); the job's calls run on a real boto3 client with
botocore's Stubber, which validates each request and each canned response against SageMaker's service model.
"""

from __future__ import annotations

import io
import json
import math
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inference.deploy import recommender
from inference.deploy.capacity import CapacityError, load_price_table, plan
from inference.deploy.recommender import LoadTest
from inference.serving.payload import Limits, parse_inputs
from inference.variants import DeploymentError
from tests.conftest import run_cli

ROLE = "arn:aws:iam::123456789012:role/intent-recommender"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/intent-classifier/3"


def load_test(**changes: Any) -> LoadTest:
    settings: dict[str, Any] = {
        "job_name": "intent-load-test-1",
        "role_arn": ROLE,
        "instance_types": ("ml.c5.xlarge", "ml.c6i.xlarge"),
        "payload_url": "s3://intent-bucket/recommender/payloads.tar.gz",
        "model_package_arn": PACKAGE,
    }
    settings.update(changes)
    return LoadTest(**settings)


def test_the_request_is_an_advanced_load_test_with_the_p95_threshold_and_satisfies_botocore() -> None:
    request = recommender.build_request(load_test(p95_ms=450))
    recommender.check_request(request)  # botocore's ParamValidator, and the enums it leaves to AWS
    assert request["JobType"] == "Advanced"
    assert request["StoppingConditions"]["ModelLatencyThresholds"] == [
        {"Percentile": "P95", "ValueInMilliseconds": 450}
    ]
    assert [c["InstanceType"] for c in request["InputConfig"]["EndpointConfigurations"]] == [
        "ml.c5.xlarge",
        "ml.c6i.xlarge",
    ]
    assert request["InputConfig"]["ModelPackageVersionArn"] == PACKAGE
    by_name = recommender.build_request(load_test(model_package_arn=None, sagemaker_model="intent-ab-challenger-1"))
    assert by_name["InputConfig"]["ModelName"] == "intent-ab-challenger-1"
    assert "ModelPackageVersionArn" not in by_name["InputConfig"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"instance_types": ("ml.c5.xlarj",)}, "'ml.c5.xlarj' is not one SageMaker accepts"),
        ({"instance_types": ()}, "1 to 10 instance types, got 0"),
        ({"instance_types": tuple(f"ml.c5.{s}" for s in ["large"] * 11)}, "1 to 10 instance types, got 11"),
        ({"instance_types": ("ml.c5.large", "ml.c5.large")}, "named twice"),
        ({"sagemaker_model": "also-this"}, "name the model to load-test once"),
        ({"model_package_arn": None}, "name the model to load-test once"),
        ({"model_package_arn": "intent-classifier/3"}, "not a model package version ARN"),
        ({"job_name": "no_underscores"}, "not a recommendation job name"),
        ({"p95_ms": 0}, "P95 threshold must be 1 to 60000 ms"),
        ({"payload_url": "/tmp/payloads.tar.gz"}, "must be an s3:// URL"),
        ({"users": (0, 10)}, "must be positive: users"),
    ],
)
def test_a_bad_load_test_is_refused_with_what_to_change(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(CapacityError, match=message):
        recommender.build_request(load_test(**changes))


def test_the_sample_payloads_are_requests_the_server_accepts() -> None:
    texts = ["summarise this report", "  ", "écris un poème sur la mer", "what is 2+2"]
    with tarfile.open(fileobj=io.BytesIO(recommender.payload_archive(texts)), mode="r:gz") as archive:
        bodies = [archive.extractfile(member).read() for member in archive.getmembers()]  # type: ignore[union-attr]
    # The serving contract's own parser: what a real endpoint would do with each sample.
    assert [parse_inputs(body, Limits()) for body in bodies] == [[t] for t in texts if t.strip()]
    with pytest.raises(CapacityError, match="no sample payloads"):
        recommender.payload_archive(["", " "])


def test_the_payload_archive_is_uploaded_to_s3_and_a_missing_bucket_uploads_nothing(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml.aws import boto3_client

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3 = boto3_client("s3", endpoint_url=moto_server, region="us-east-1")
    s3.create_bucket(Bucket="recommender-payloads")
    url = recommender.upload_payloads(
        s3, ["hello there", "plan my week"], bucket="recommender-payloads", key="r/p.tar.gz"
    )
    assert url == "s3://recommender-payloads/r/p.tar.gz"
    body = s3.get_object(Bucket="recommender-payloads", Key="r/p.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        assert len(archive.getmembers()) == 2
    with pytest.raises(DeploymentError, match="does not exist"):
        recommender.upload_payloads(s3, ["hello"], bucket="no-such-bucket", key="r/p.tar.gz")


def test_moto_implements_no_inference_recommender(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The day moto learns these operations, this fails and the Stubber tests below can move to the moto server."""
    from botocore.exceptions import ClientError

    from ml.aws import boto3_client

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sm = boto3_client("sagemaker", endpoint_url=moto_server, region="us-east-1", retries={"max_attempts": 1})
    with pytest.raises(ClientError):
        sm.describe_inference_recommendations_job(JobName="intent-load-test-1")
    with pytest.raises(CapacityError, match="SageMaker refused the load test"):
        recommender.submit(sm, recommender.build_request(load_test()))


def finished_job(status: str = "COMPLETED") -> dict[str, Any]:
    """DescribeInferenceRecommendationsJob's answer for a finished two-type load test (botocore checks its shape)."""
    when = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    request = recommender.build_request(load_test())

    def recommendation(instance_type: str, per_minute: int, latency_ms: int, per_hour: float) -> dict[str, Any]:
        return {
            "RecommendationId": f"rec-{instance_type}",
            "Metrics": {
                "CostPerHour": per_hour,
                "CostPerInference": per_hour / (per_minute * 60),
                "MaxInvocations": per_minute,
                "ModelLatency": latency_ms,
                "CpuUtilization": 81.0,
                "MemoryUtilization": 12.0,
            },
            "EndpointConfiguration": {
                "EndpointName": f"intent-load-test-1-{instance_type.replace('.', '-')}",
                "VariantName": "AllTraffic",
                "InstanceType": instance_type,
                "InitialInstanceCount": 1,
            },
            "ModelConfiguration": {},
            "InvocationEndTime": when,
        }

    described: dict[str, Any] = {
        "JobName": "intent-load-test-1",
        "JobType": "Advanced",
        "JobArn": "arn:aws:sagemaker:us-east-1:123456789012:inference-recommendations-job/intent-load-test-1",
        "RoleArn": ROLE,
        "Status": status,
        "CreationTime": when,
        "LastModifiedTime": when,
        "CompletionTime": when,
        "InputConfig": request["InputConfig"],
        "StoppingConditions": request["StoppingConditions"],
    }
    if status == "COMPLETED":
        described["InferenceRecommendations"] = [
            recommendation("ml.c5.xlarge", 90_000, 180, 0.238),
            recommendation("ml.c6i.xlarge", 108_000, 150, 0.238),
        ]
    if status == "FAILED":
        described["FailureReason"] = "the model container exited"
    return described


def stubbed_sagemaker(*answers: tuple[str, dict[str, Any], dict[str, Any]]) -> Any:
    """A real boto3 SageMaker client whose calls botocore's Stubber answers (requests and answers shape-checked)."""
    import boto3
    from botocore.stub import Stubber

    sm = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")  # noqa: S106
    stubber = Stubber(sm)
    for operation, response, expected in answers:
        stubber.add_response(operation, response, expected)
    stubber.activate()
    return sm


def test_a_finished_job_becomes_profiles_that_plan_without_scaling() -> None:
    request = recommender.build_request(load_test())
    running = {k: v for k, v in finished_job("IN_PROGRESS").items() if k != "CompletionTime"}
    sm = stubbed_sagemaker(
        ("create_inference_recommendations_job", {"JobArn": finished_job()["JobArn"]}, request),
        ("describe_inference_recommendations_job", running, {"JobName": "intent-load-test-1"}),
        ("describe_inference_recommendations_job", finished_job(), {"JobName": "intent-load-test-1"}),
    )
    assert recommender.submit(sm, request).endswith("/intent-load-test-1")
    seen: list[str] = []
    described = recommender.wait(sm, "intent-load-test-1", poll_s=0, on_status=seen.append, sleep=lambda _: None)
    assert seen == ["IN_PROGRESS", "COMPLETED"]
    profiles = recommender.profiles_from_job(described, region="us-east-1")
    c5 = next(p for p in profiles if p["instance_type"] == "ml.c5.xlarge")
    assert c5["rate_at_budget_rps"] == 1500.0  # 90,000 invocations a minute
    assert c5["p95_budget_ms"] == 500.0 and c5["ramp"][0]["held"]

    planned = plan(profiles, rps=10_000, budget_ms=500, headroom=0.3)
    assert {o["instance_type"] for o in planned["options"]} == {"ml.c5.xlarge", "ml.c6i.xlarge"}  # no other type
    option = next(o for o in planned["options"] if o["instance_type"] == "ml.c5.xlarge")
    assert option["scale"] == 1.0 and not option["scale_capped"]
    assert option["instances"] == math.ceil(10_000 / (1500 * 0.7))
    assert option["basis"]["instance_rps_at_budget"].startswith("measured: on this instance type itself")
    assert option["profile"] == "intent-classifier/3 as deployed on ml.c5.xlarge"
    assert planned["cheapest"]["instance_type"] == "ml.c6i.xlarge"  # 1,800 req/s for the same price
    with pytest.raises(CapacityError, match="outside --instance-type"):
        plan(profiles, rps=10_000, budget_ms=500, instance_types=["ml.m5.large"])


def test_a_failed_job_or_a_type_the_price_table_lacks_is_a_clear_error() -> None:
    with pytest.raises(CapacityError, match="is FAILED, not COMPLETED: the model container exited"):
        recommender.profiles_from_job(finished_job("FAILED"), region="us-east-1")
    profiles = recommender.profiles_from_job(finished_job(), region="us-east-1")
    unpriced = [{**profiles[0], "instance_type": "ml.inf2.xlarge"}]
    assert "ml.inf2.xlarge" not in load_price_table().prices("us-east-1")
    with pytest.raises(CapacityError, match=r"'ml\.inf2\.xlarge' is not in the price table"):
        plan(unpriced, rps=10_000, budget_ms=500)


def test_results_are_written_as_profile_files_plan_reads(tmp_path: Path) -> None:
    from pipelines.capacity import plan_capacity, write_recommendations

    written = write_recommendations(finished_job(), region="us-east-1", out_dir=tmp_path)
    assert sorted(p.split("/")[-1] for p in written["files"]) == [
        "capacity-intent-load-test-1-ml.c5.xlarge.json",
        "capacity-intent-load-test-1-ml.c6i.xlarge.json",
    ]
    result = run_cli(
        "capacity", "plan", "--rps", "10000", *[a for f in written["files"] for a in ("--profile", f)], "--json"
    )
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout)["options"]
    assert len(options) == 2 and all(o["scale"] == 1.0 for o in options)
    one = plan_capacity(
        rps=10_000,
        budget_ms=500,
        profile_files=[Path(written["files"][0])],
        models=[],
        headroom=0.3,
        region="us-east-1",
        instance_types=[],
    )
    assert one["cheapest"]["instance_type"] == "ml.c5.xlarge" and one["cheapest"]["instances"] == 10


def test_the_cli_dry_run_prints_a_valid_request_and_bad_options_are_named() -> None:
    base = ["capacity", "recommend", "--dry-run", "--role", ROLE, "--bucket", "b", "--sagemaker-model", "m"]
    result = run_cli(*base, "--job-name", "intent-lt", "--p95-ms", "300", "--json")
    assert result.returncode == 0, result.stderr
    request = json.loads(result.stdout)["request"]
    recommender.check_request(request)
    assert request["StoppingConditions"]["ModelLatencyThresholds"][0]["ValueInMilliseconds"] == 300
    assert request["InputConfig"]["ContainerConfig"]["PayloadConfig"]["SamplePayloadUrl"] == (
        "s3://b/intent-mlops/recommender/intent-lt/payloads.tar.gz"
    )
    typo = run_cli(*base, "--instance-type", "ml.c5.xlarj")
    assert typo.returncode != 0 and "'ml.c5.xlarj' is not one SageMaker accepts" in typo.stderr
    no_role = run_cli("capacity", "recommend", "--dry-run", "--bucket", "b", "--sagemaker-model", "m")
    assert no_role.returncode == 2 and "--role" in no_role.stderr
    users = run_cli(*base, "--users", "1,ten")
    assert users.returncode == 2 and "comma-separated whole numbers" in users.stderr
