"""The shadow report's verdicts from figures, the AWS requests checked against botocore's shapes, CloudWatch figures,
and what moto does with inference experiments (nothing: pinned here, so the day it learns them shows)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from inference.deploy import shadow
from inference.deploy.shadow import INSUFFICIENT, NOT_READY, READY, ShadowPolicy, judge
from inference.deploy.traffic import CloudWatchTraffic
from inference.variants import DeploymentError

ROLE = "arn:aws:iam::123456789012:role/intent-endpoint"


def figures(
    requests: int = 400,
    *,
    errors: int = 0,
    agreed: int | None = None,
    compared: int | None = None,
    shadow_p95: float = 40.0,
    production_p95: float = 38.0,
    dropped: int | None = 0,
) -> dict[str, Any]:
    """One shadow variant's figures as the local endpoint gives them (every input compared, all agreeing)."""
    compared = requests if compared is None else compared
    return {
        "requests": requests,
        "errors": errors,
        "dropped": dropped,
        "inputs_compared": compared,
        "inputs_agreed": compared if agreed is None else agreed,
        "shadow": {"p50_ms": shadow_p95 / 2, "p95_ms": shadow_p95, "p99_ms": shadow_p95 * 1.2},
        "production": {"p50_ms": production_p95 / 2, "p95_ms": production_p95, "p99_ms": production_p95 * 1.2},
    }


def test_a_shadow_that_agrees_is_fast_and_does_not_fail_is_ready() -> None:
    judged = judge(figures(), ShadowPolicy())
    assert judged["verdict"] == READY
    assert {c: v["result"] for c, v in judged["checks"].items()} == {
        "requests": "pass",
        "agreement": "pass",
        "latency": "pass",
        "errors": "pass",
        "keeps_up": "pass",
    }
    assert judged["checks"]["agreement"]["interval"][1] == 1.0


@pytest.mark.parametrize(
    ("case", "verdict", "check"),
    [
        # 80% agreement on 400 inputs: the interval's upper bound is well below 90%.
        (figures(agreed=320), NOT_READY, "agreement"),
        # 89% on 400: the interval straddles 90%, undecided until more inputs come.
        (figures(agreed=356), INSUFFICIENT, "agreement"),
        # The p95 budget (500 ms) is breached.
        (figures(shadow_p95=650.0, production_p95=600.0), NOT_READY, "latency"),
        # Twice production's p95 and 60 ms slower: beyond x1.5 and beyond the 20 ms slack.
        (figures(shadow_p95=120.0, production_p95=60.0), NOT_READY, "latency"),
        # Twice production's p95 at a few milliseconds: within the slack, so not held against it.
        (figures(shadow_p95=8.0, production_p95=4.0), READY, "latency"),
        # 20 errors in 400: the interval's lower bound is above 1%.
        (figures(errors=20), NOT_READY, "errors"),
        # 1 error in 400 (0.25%): within the limit.
        (figures(errors=1), READY, "errors"),
        # The shadow could not keep up: 60 of 460 sampled requests dropped.
        (figures(dropped=60), NOT_READY, "keeps_up"),
        # Too few requests: no verdict, whatever they show.
        (figures(requests=50), INSUFFICIENT, "requests"),
    ],
)
def test_each_check_decides_as_its_rule_says(case: dict[str, Any], verdict: str, check: str) -> None:
    judged = judge(case, ShadowPolicy())
    assert judged["verdict"] == verdict, judged["checks"][check]["detail"]
    if verdict != READY:
        assert judged["checks"][check]["result"] != "pass"


def test_without_agreement_figures_aws_can_say_not_ready_but_never_ready() -> None:
    aws = {**figures(), "inputs_compared": None, "inputs_agreed": None, "dropped": None}
    judged = judge(aws, ShadowPolicy())
    assert judged["verdict"] == INSUFFICIENT and "AWS publishes no agreement" in judged["checks"]["agreement"]["detail"]
    assert "keeps_up" not in judged["checks"]
    assert judge({**aws, "errors": 40}, ShadowPolicy())["verdict"] == NOT_READY


def test_several_shadows_are_ready_only_when_each_is() -> None:
    assert shadow.combine([READY, READY]) == READY
    assert shadow.combine([READY, INSUFFICIENT]) == INSUFFICIENT
    assert shadow.combine([INSUFFICIENT, NOT_READY]) == NOT_READY
    assert shadow.combine([]) == INSUFFICIENT


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"min_requests": 0}, "min_requests must be at least 1"),
        ({"min_agreement": 1.5}, "min_agreement must be a share"),
        ({"confidence": 1.0}, "confidence must be in"),
        ({"max_latency_ratio": 0}, "must be positive"),
    ],
)
def test_a_bad_policy_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(DeploymentError, match=message):
        ShadowPolicy(**change)


@pytest.mark.parametrize("percent", [0, -5, 101, 12.5, float("nan"), True, "50"])
def test_sampling_must_be_a_whole_percent_from_1_to_100(percent: Any) -> None:
    with pytest.raises(DeploymentError):
        shadow.check_percent(percent)


class RecordingSageMaker:
    """Records the requests the library sends (what AWS would get) and answers as SageMaker would."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def create_inference_experiment(self, **request: Any) -> dict[str, Any]:
        self.requests.append(("CreateInferenceExperiment", request))
        return {
            "InferenceExperimentArn": f"arn:aws:sagemaker:us-east-1:123456789012:inference-experiment/{request['Name']}"
        }

    def stop_inference_experiment(self, **request: Any) -> dict[str, Any]:
        self.requests.append(("StopInferenceExperiment", request))
        return {"InferenceExperimentArn": "arn"}


def _create(sm: Any, **changes: Any) -> dict[str, Any]:
    """CreateInferenceExperiment of a 25 % shadow of intent-ab's champion, as the library sends it."""
    request: dict[str, Any] = {
        "name": "intent-ab-shadow-20261203063000-000",
        "endpoint": "intent-ab",
        "source": {
            "VariantName": "champion",
            "ModelName": "intent-ab-champion-0123456789",
            "InstanceType": "ml.c6i.large",
        },
        "shadow_variant": "Shadow",
        "shadow_model": "intent-ab-Shadow-abcdef0123",
        "percent": 25,
        "role_arn": ROLE,
    }
    return shadow.create_experiment(sm, **{**request, **changes})


def test_the_requests_sent_to_aws_satisfy_botocores_shapes() -> None:
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("sagemaker")
    sm = RecordingSageMaker()
    name = shadow.experiment_name("intent-ab", datetime(2026, 12, 3, 6, 30, tzinfo=UTC).timestamp())
    assert name == "intent-ab-shadow-20261203063000-000"
    # Stopped and started again within a second, the next experiment still gets a name of its own.
    later = shadow.experiment_name("intent-ab", datetime(2026, 12, 3, 6, 30, 0, 250_000, tzinfo=UTC).timestamp())
    assert later == "intent-ab-shadow-20261203063000-250"
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}", shadow.experiment_name("e" * 200))  # AWS's pattern
    _create(sm, name=name, description="shadow of champion")
    described = {
        "Name": name,
        "ShadowModeConfig": {
            "SourceModelVariantName": "champion",
            "ShadowModelVariants": [{"ShadowModelVariantName": "Shadow", "SamplingPercentage": 25}],
        },
    }
    shadow.stop_experiment(sm, described, reason="screened")
    for operation, request in sm.requests:
        report = ParamValidator().validate(request, model.operation_model(operation).input_shape)
        assert not report.has_errors(), report.generate_report()
    create, stop = (request for _, request in sm.requests)
    assert [v["VariantName"] for v in create["ModelVariants"]] == ["champion", "Shadow"]
    assert (
        create["ModelVariants"][1]["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceType"] == "ml.c6i.large"
    )
    # AWS takes exactly one shadow variant.
    assert len(create["ShadowModeConfig"]["ShadowModelVariants"]) == 1
    assert stop["ModelVariantActions"] == {"champion": "Retain", "Shadow": "Remove"}
    assert stop["DesiredState"] == "Completed"


class RetriedSageMaker:
    """A create whose first attempt made the experiment but whose answer was lost: botocore's retry is refused as
    ResourceInUse. `existing` is what DescribeInferenceExperiment finds under that name."""

    def __init__(self, existing: dict[str, Any]) -> None:
        self.existing = existing

    def create_inference_experiment(self, **request: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        error = {
            "Code": "ResourceInUse",
            "Message": f"Cannot create already existing inference experiment {request['Name']}",
        }
        raise ClientError({"Error": error}, "CreateInferenceExperiment")

    def describe_inference_experiment(self, **request: Any) -> dict[str, Any]:
        return {**self.existing, "Name": request["Name"]}


def _existing(endpoint: str = "intent-ab", variant: str = "Shadow") -> dict[str, Any]:
    return {
        "Arn": "arn:aws:sagemaker:us-east-1:123456789012:inference-experiment/intent-ab-shadow-20261203063000-000",
        "EndpointMetadata": {"EndpointName": endpoint},
        "ShadowModeConfig": {"ShadowModelVariants": [{"ShadowModelVariantName": variant, "SamplingPercentage": 25}]},
    }


def test_a_create_retried_after_its_first_attempt_made_the_experiment_takes_that_experiment() -> None:
    # botocore retries a create whose answer timed out; the retry finds what the first attempt made.
    made = _create(RetriedSageMaker(_existing()))
    assert made["InferenceExperimentArn"].endswith("intent-ab-shadow-20261203063000-000")


@pytest.mark.parametrize("existing", [_existing(endpoint="other-endpoint"), _existing(variant="Other")])
def test_an_existing_experiment_of_another_request_is_still_refused(existing: dict[str, Any]) -> None:
    with pytest.raises(DeploymentError, match="create_inference_experiment refused: ResourceInUse"):
        _create(RetriedSageMaker(existing))


class MinuteCloudWatch:
    """Each whole minute asked for: the shadow had 100 invocations and 1 error, production 400 and none; ModelLatency
    p95 30 ms for the shadow, 20 ms for production (CloudWatch reports microseconds)."""

    def get_metric_statistics(self, **request: Any) -> dict[str, Any]:
        minutes = int((request["EndTime"] - request["StartTime"]).total_seconds() // 60)
        variant = request["Dimensions"][1]["Value"]
        if request["MetricName"] == "ModelLatency":
            p95 = 30_000.0 if variant == "Shadow" else 20_000.0
            stats = {"p50": p95 / 2, "p95": p95, "p99": p95 * 1.5}
            return {"Datapoints": [{"ExtendedStatistics": stats} for _ in range(minutes)]}
        value = {("Shadow", "Invocations"): 100.0, ("Shadow", "Invocation5XXErrors"): 1.0}.get(
            (variant, request["MetricName"]), 400.0 if request["MetricName"] == "Invocations" else 0.0
        )
        return {"Datapoints": [{"Sum": value} for _ in range(minutes)]}


def test_on_aws_the_figures_come_from_the_shadow_variants_cloudwatch_metrics() -> None:
    noon = datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp()
    traffic = CloudWatchTraffic(MinuteCloudWatch(), clock=lambda: noon + 3600)
    found = shadow.cloudwatch_figures(traffic, "intent-ab", "champion", ["Shadow"], noon, noon + 600)
    assert found["Shadow"]["requests"] == 1000 and found["Shadow"]["errors"] == 10
    assert found["Shadow"]["shadow"]["p95_ms"] == 30.0 and found["Shadow"]["production"]["p95_ms"] == 20.0
    assert found["Shadow"]["inputs_compared"] is None  # AWS has no agreement to give
    assert judge(found["Shadow"], ShadowPolicy())["verdict"] == INSUFFICIENT


def test_moto_implements_no_inference_experiments(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto answers every inference-experiment operation with a bare 500: the library says so instead of a trace."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    sm = boto3.client(
        "sagemaker", endpoint_url=moto_server, region_name="us-east-1", config=Config(retries={"max_attempts": 1})
    )
    with pytest.raises(ClientError) as raw:
        sm.list_inference_experiments()
    assert raw.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    with pytest.raises(DeploymentError, match="does not implement inference experiments") as caught:
        shadow.find_experiment(sm, "intent-ab")
    assert "local endpoint" in (caught.value.hint or "")


class DescribingSageMaker:
    """SageMaker as the report reads it on AWS: one running experiment on intent-ab (boto3 gives datetimes)."""

    def __init__(self, start: datetime) -> None:
        self.experiment = {
            "Name": "intent-ab-shadow-20261203120000-000",
            "Status": "Running",
            "Schedule": {"StartTime": start},
            "CreationTime": start,
            "EndpointMetadata": {"EndpointName": "intent-ab"},
            "ShadowModeConfig": {
                "SourceModelVariantName": "champion",
                "ShadowModelVariants": [{"ShadowModelVariantName": "Shadow", "SamplingPercentage": 100}],
            },
        }

    def list_inference_experiments(self, **request: Any) -> dict[str, Any]:
        item = {k: self.experiment[k] for k in ("Name", "Status", "CreationTime")}
        return {"InferenceExperiments": [{**item, "Type": "ShadowMode", "LastModifiedTime": item["CreationTime"]}]}

    def describe_inference_experiment(self, Name: str) -> dict[str, Any]:
        assert Name == self.experiment["Name"]
        return self.experiment


def test_the_aws_report_reads_the_experiments_window_from_cloudwatch() -> None:
    from inference.deploy.endpoints import EndpointManager
    from inference.deploy.target import DeployTarget

    noon = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    traffic = CloudWatchTraffic(MinuteCloudWatch(), clock=lambda: noon.timestamp() + 600)
    target = DeployTarget(EndpointManager(DescribingSageMaker(noon)), None, traffic, "us-east-1")
    report = shadow.shadow_report(target, "intent-ab")
    assert report.experiment == "intent-ab-shadow-20261203120000-000" and report.source_variant == "champion"
    figures = report.variants["Shadow"]["figures"]
    assert figures["requests"] == 800  # the minutes 12:00-12:08, published 2 minutes after they closed
    assert report.verdict == INSUFFICIENT and report.figures_from.startswith("CloudWatch")
    assert any("AWS publishes no agreement" in line for line in report.evidence)
    assert report.to_dict()["policy"]["min_agreement"] == ShadowPolicy().min_agreement
    # Too early for a whole published minute: insufficient, and the report says why.
    early = CloudWatchTraffic(MinuteCloudWatch(), clock=lambda: noon.timestamp() + 90)
    target = DeployTarget(EndpointManager(DescribingSageMaker(noon)), None, early, "us-east-1")
    report = shadow.shadow_report(target, "intent-ab")
    assert report.verdict == INSUFFICIENT and "no whole minute of CloudWatch metrics" in report.evidence[0]
    assert shadow.shadow_report(target, "intent-ab").variants["Shadow"]["figures"]["requests"] == 0
    with pytest.raises(DeploymentError, match="has no shadow test"):
        shadow.shadow_report(target, "other-endpoint")
