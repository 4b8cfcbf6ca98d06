"""SageMaker Inference Recommender load tests: the request, its sample payload, and its results as capacity profiles.

`mlops capacity measure` finds one server's knee on the machine it runs on and `capacity plan` scales it per vCPU,
an assumption. An Inference Recommender load test (`CreateInferenceRecommendationsJob`, JobType Advanced) measures
the real instance types instead: SageMaker deploys the model on each, drives the traffic pattern, and stops a
configuration once its P95 model latency passes the threshold. Its results (MaxInvocations per minute and
ModelLatency per instance type) become capacity profiles bound to their instance type, which `capacity plan` uses
as measured figures with no scaling.

Every request is checked against botocore's own shape of the operation before it is sent or printed, so a dry run
shows exactly what AWS would be asked. moto implements none of these operations (the tests pin that): they are
exercised with botocore's Stubber, which validates requests and responses against the same service model.
"""

from __future__ import annotations

import io
import json
import logging
import re
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inference.deploy.capacity import PROFILE_KIND, PROFILE_SCHEMA, CapacityError, load_price_table
from ml.aws import validate_role_arn
from ml.settings import P95_BUDGET_MS

log = logging.getLogger(__name__)

OPERATION = "CreateInferenceRecommendationsJob"
JOB_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}$")
MODEL_PACKAGE_RE = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:[0-9]{12}:model-package/\S{1,2048}$")
# AWS tests up to 10 endpoint configurations (instance types) per load test.
MAX_INSTANCE_TYPES = 10
# Statuses after which a job changes no more (botocore's RecommendationJobStatus).
FINAL_STATUSES = ("COMPLETED", "FAILED", "STOPPED", "DELETED")
CONTENT_TYPE = "application/json"
# The container's role for Inference Recommender's own bookkeeping: a text classifier.
DOMAIN, TASK = "NATURAL_LANGUAGE_PROCESSING", "TEXT_CLASSIFICATION"


@dataclass(frozen=True)
class LoadTest:
    """What an Inference Recommender load test asks: the model, the instance types, the traffic and the P95 bar."""

    job_name: str
    role_arn: str
    instance_types: tuple[str, ...]
    payload_url: str
    model_package_arn: str | None = None
    sagemaker_model: str | None = None
    p95_ms: float = P95_BUDGET_MS
    # Traffic: PHASES of simulated users, each phase adding users at spawn_rate per second.
    users: tuple[int, ...] = (1, 10, 50)
    spawn_rate: int = 1
    phase_seconds: int = 120
    max_invocations: int = 100_000
    job_duration_s: int = 7200
    max_parallel_tests: int = 2

    def __post_init__(self) -> None:
        if not JOB_NAME_RE.match(self.job_name):
            raise CapacityError(
                f"not a recommendation job name: {self.job_name!r}",
                hint="1-64 letters, digits and single hyphens, starting and ending with a letter or digit",
            )
        validate_role_arn(self.role_arn)
        if bool(self.model_package_arn) == bool(self.sagemaker_model):
            raise CapacityError(
                "name the model to load-test once: --model-package-arn ARN or --sagemaker-model NAME",
                hint="a SageMaker model is what `mlops endpoint deploy` created (see `mlops endpoint status`)",
            )
        if self.model_package_arn and not MODEL_PACKAGE_RE.match(self.model_package_arn):
            raise CapacityError(f"not a model package version ARN: {self.model_package_arn!r}")
        if not 1 <= len(self.instance_types) <= MAX_INSTANCE_TYPES:
            raise CapacityError(
                f"a load test takes 1 to {MAX_INSTANCE_TYPES} instance types, got {len(self.instance_types)}",
                hint="give --instance-type once per type to test",
            )
        if len(set(self.instance_types)) != len(self.instance_types):
            raise CapacityError(f"an instance type is named twice: {', '.join(self.instance_types)}")
        if not 1 <= self.p95_ms <= 60_000:
            raise CapacityError(f"the P95 threshold must be 1 to 60000 ms, got {self.p95_ms:g}")
        if not self.payload_url.startswith("s3://"):
            raise CapacityError(f"the sample payload must be an s3:// URL, got {self.payload_url!r}")
        numbers = {
            "users": min(self.users, default=0),
            "spawn rate": self.spawn_rate + 1,
            "phase seconds": self.phase_seconds,
            "max invocations": self.max_invocations,
            "job duration": self.job_duration_s,
            "max parallel tests": self.max_parallel_tests,
        }
        bad = [name for name, value in numbers.items() if value < 1]
        if bad:
            raise CapacityError(f"these load-test settings must be positive: {', '.join(bad)}")


def build_request(test: LoadTest) -> dict[str, Any]:
    """The CreateInferenceRecommendationsJob request of a load test, validated against botocore's shape."""
    model = (
        {"ModelPackageVersionArn": test.model_package_arn}
        if test.model_package_arn
        else {"ModelName": test.sagemaker_model}
    )
    request = {
        "JobName": test.job_name,
        "JobType": "Advanced",
        "RoleArn": test.role_arn,
        "JobDescription": f"intent classifier: highest rate per instance type within P95 {test.p95_ms:g} ms",
        "InputConfig": {
            **model,
            "JobDurationInSeconds": test.job_duration_s,
            "TrafficPattern": {
                "TrafficType": "PHASES",
                "Phases": [
                    {
                        "InitialNumberOfUsers": users,
                        "SpawnRate": test.spawn_rate,
                        "DurationInSeconds": test.phase_seconds,
                    }
                    for users in test.users
                ],
            },
            "ResourceLimit": {
                "MaxNumberOfTests": len(test.instance_types),
                "MaxParallelOfTests": min(test.max_parallel_tests, len(test.instance_types)),
            },
            "EndpointConfigurations": [{"InstanceType": t} for t in test.instance_types],
            "ContainerConfig": {
                "Domain": DOMAIN,
                "Task": TASK,
                "PayloadConfig": {"SamplePayloadUrl": test.payload_url, "SupportedContentTypes": [CONTENT_TYPE]},
                "SupportedEndpointType": "RealTime",
            },
        },
        "StoppingConditions": {
            "MaxInvocations": test.max_invocations,
            "ModelLatencyThresholds": [{"Percentile": "P95", "ValueInMilliseconds": round(test.p95_ms)}],
            "FlatInvocations": "Stop",
        },
    }
    check_request(request)
    return request


def check_request(request: dict[str, Any], operation: str = OPERATION) -> None:
    """CapacityError listing every way `request` breaks botocore's input shape of `operation` (enums included)."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("sagemaker").operation_model(operation)
    report = ParamValidator().validate(request, model.input_shape)
    problems = [report.generate_report()] if report.has_errors() else []
    problems += _enum_problems(request, model.input_shape, operation)
    if problems:
        raise CapacityError(
            f"the {operation} request is not valid for SageMaker:\n" + "\n".join(problems),
            hint="see `mlops capacity recommend --help` for the accepted values",
        )


def _enum_problems(value: Any, shape: Any, where: str) -> list[str]:
    """Values outside an enum (botocore's validator does not check enums; AWS rejects them)."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return [
            p
            for key, item in value.items()
            if key in shape.members
            for p in _enum_problems(item, shape.members[key], f"{where}.{key}")
        ]
    if shape.type_name == "list" and isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _enum_problems(item, shape.member, f"{where}[{i}]")]
    if getattr(shape, "enum", None) and value not in shape.enum:
        hint = ", ".join(v for v in shape.enum if v.startswith(str(value)[:5])) or ", ".join(shape.enum[:8])
        return [f"{where}: {value!r} is not one SageMaker accepts (e.g. {hint})"]
    return []


def payload_archive(texts: Sequence[str], *, limit: int = 50) -> bytes:
    """A tar.gz of sample requests in the serving contract (`{"inputs": text}`), one file per request."""
    chosen = [t for t in texts if t.strip()][:limit]
    if not chosen:
        raise CapacityError("no sample payloads: the prompts file has no text")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for i, text in enumerate(chosen):
            body = json.dumps({"inputs": text}).encode()
            info = tarfile.TarInfo(f"payload-{i:04d}.json")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def upload_payloads(s3: Any, texts: Sequence[str], *, bucket: str, key: str) -> str:
    """Upload the sample payload archive to s3://bucket/key (the bucket checked first); return its URL."""
    from inference.deploy.packages import check_bucket

    check_bucket(s3, bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=payload_archive(texts), ContentType="application/gzip")
    return f"s3://{bucket}/{key}"


def submit(sm: Any, request: dict[str, Any]) -> str:
    """Start the job; its ARN. A name already taken is a clear error (AWS keeps job names unique per region)."""
    from botocore.exceptions import ClientError

    try:
        return str(sm.create_inference_recommendations_job(**request)["JobArn"])
    except ClientError as exc:
        error = exc.response.get("Error", {})
        taken = error.get("Code") == "ResourceInUse" or "in use" in str(error.get("Message", "")).lower()
        hint = (
            "job names are unique per account and region: pass another --job-name"
            if taken
            else ("check the role, the model and the payload URL")
        )
        raise CapacityError(
            f"SageMaker refused the load test: {error.get('Code')}: {error.get('Message')}", hint=hint
        ) from exc


def wait(
    sm: Any,
    job_name: str,
    *,
    poll_s: float = 60.0,
    timeout_s: float = 4 * 3600,
    on_status: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll DescribeInferenceRecommendationsJob until the job ends; its last description."""
    began = time.monotonic()
    while True:
        described: dict[str, Any] = sm.describe_inference_recommendations_job(JobName=job_name)
        status = described["Status"]
        if on_status:
            on_status(status)
        if status in FINAL_STATUSES:
            return described
        if time.monotonic() - began > timeout_s:
            raise CapacityError(
                f"load test {job_name} still {status} after {timeout_s:g} s",
                hint=f"read it later with `mlops capacity recommend --results {job_name}`",
            )
        sleep(poll_s)


def profiles_from_job(described: dict[str, Any], *, region: str) -> list[dict[str, Any]]:
    """One capacity profile per tested instance type, from a finished job's recommendations."""
    name, status = described["JobName"], described["Status"]
    if status != "COMPLETED":
        reason = described.get("FailureReason") or "no reason given"
        raise CapacityError(f"load test {name} is {status}, not COMPLETED: {reason}")
    thresholds = (described.get("StoppingConditions") or {}).get("ModelLatencyThresholds") or []
    budget = float(thresholds[0]["ValueInMilliseconds"]) if thresholds else P95_BUDGET_MS
    model = described["InputConfig"].get("ModelPackageVersionArn") or described["InputConfig"].get("ModelName")
    prices = load_price_table().regions.get(region, {})
    profiles = []
    for rec in described.get("InferenceRecommendations") or []:
        endpoint, metrics = rec["EndpointConfiguration"], rec.get("Metrics") or {}
        instance_type, per_minute = endpoint.get("InstanceType"), metrics.get("MaxInvocations")
        latency = metrics.get("ModelLatency")
        if not instance_type or not per_minute or not latency:
            log.warning("skipping recommendation %s: no instance type, MaxInvocations or ModelLatency", rec)
            continue
        count = int(endpoint.get("InitialInstanceCount") or 1)
        rate = per_minute / 60.0 / count
        vcpus = prices[instance_type].vcpus if instance_type in prices else None
        step = {
            "phase": "recommender",
            "rate_rps": round(rate, 3),
            "p95_ms": float(latency),
            "projected_p95_ms": float(latency),
            "held": float(latency) <= budget,
            "errors": 0,
        }
        profiles.append(
            {
                "kind": PROFILE_KIND,
                "schema": PROFILE_SCHEMA,
                "source": "sagemaker-inference-recommender",
                "job": name,
                "model": str(model),
                "precision": "as deployed",
                "instance_type": instance_type,
                "p95_budget_ms": budget,
                "rate_at_budget_rps": round(rate, 3),
                # ModelLatency at the highest rate: an upper bound of one request's latency, the only one reported.
                "single_request": {"p95_ms": float(latency), "p50_ms": None, "requests": None},
                "ramp": [step],
                "confirm": [],
                "cpus_used": vcpus or 1,
                "machine": {"cpu_model": f"SageMaker {instance_type}", "usable_cpus": vcpus},
                "layout": None,
                "measured_at": _time(rec.get("InvocationEndTime") or described.get("CompletionTime")),
                "recommender": {
                    "max_invocations_per_minute": per_minute,
                    "instances": count,
                    "model_latency_ms": latency,
                    "cost_per_hour": metrics.get("CostPerHour"),
                    "cost_per_inference": metrics.get("CostPerInference"),
                    "cpu_utilization": metrics.get("CpuUtilization"),
                    "memory_utilization": metrics.get("MemoryUtilization"),
                },
            }
        )
    if not profiles:
        raise CapacityError(f"load test {name} finished with no recommendation to plan from")
    return profiles


def _time(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return str(value) if value else None
