"""The SageMaker deployer against a real moto server: deploy, shift (at once and stepwise), promote, rollback,
autoscaling, guardrails and status, with botocore validating every call's parameters client-side.

moto has no UpdateEndpoint (it answers 500). Promotion, rollback and updates of an existing endpoint still call
the real UpdateEndpoint: a `before-call` hook receives the request after botocore has validated it, records it,
and replays its effect on moto as DeleteEndpoint + CreateEndpoint with the new config and the endpoint's tags.
So these tests check the request and everything around it (configs, tags, autoscaling, status); what they cannot
check is SageMaker's own in-place update (blue/green traffic shifting, its auto-rollback on alarms), which only AWS
runs.
moto's CloudWatch also computes no ExtendedStatistics (p95), so the stepwise shift's latency guard is tested on
the local endpoint (tests/test_endpoint_flow.py); its error-rate guard is tested here.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ParamValidationError

from inference.deploy.endpoints import TAG_PREVIOUS_CONFIG, EndpointManager
from inference.deploy.plan import Autoscaling, DataCapture, Guardrails, VariantDeployment
from inference.deploy.shifts import shift_schedule
from inference.deploy.traffic import CloudWatchTraffic
from inference.variants import DeploymentError, Guard
from ml.progress import PlainProgress

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/intent-serve:1.0"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
_names = itertools.count(1)


def _clients(url: str) -> dict[str, Any]:
    return {
        name: boto3.client(name, endpoint_url=url, region_name="us-east-1")
        for name in ("sagemaker", "application-autoscaling", "cloudwatch")
    }


class UpdateEndpointReplay:
    """Stands in for moto's missing UpdateEndpoint: records the validated request, replays it as delete + create."""

    def __init__(self, url: str) -> None:
        self.requests: list[dict[str, Any]] = []
        self.moto = boto3.client("sagemaker", endpoint_url=url, region_name="us-east-1")

    def __call__(self, params: dict[str, Any], model: Any, **kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        import json

        body = json.loads(params["body"])  # the serialised request: botocore validated it before this point
        self.requests.append(body)
        endpoint = body["EndpointName"]
        arn = self.moto.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
        tags = self.moto.list_tags(ResourceArn=arn, MaxResults=100)["Tags"]  # an update keeps the endpoint's tags
        self.moto.delete_endpoint(EndpointName=endpoint)
        self.moto.create_endpoint(EndpointName=endpoint, EndpointConfigName=body["EndpointConfigName"], Tags=tags)
        return AWSResponse(params["url"], 200, {}, None), {"EndpointArn": arn}


@pytest.fixture
def manager(moto_server: str) -> Iterator[tuple[EndpointManager, UpdateEndpointReplay, dict[str, Any]]]:
    """An EndpointManager on moto with UpdateEndpoint replayed; no waiting between polls."""
    clients = _clients(moto_server)
    replay = UpdateEndpointReplay(moto_server)
    clients["sagemaker"].meta.events.register("before-call.sagemaker.UpdateEndpoint", replay)
    return (
        EndpointManager(
            clients["sagemaker"],
            autoscaling_client=clients["application-autoscaling"],
            cloudwatch_client=clients["cloudwatch"],
            poll_s=0,
            sleep=lambda s: None,
        ),
        replay,
        clients,
    )


def _variants(**weights: float) -> list[VariantDeployment]:
    return [
        VariantDeployment(
            name,
            f"s3://models/intent-classifier/v{i}/model.tar.gz",
            IMAGE,
            weight,
            registered_model="intent-classifier",
            model_version=str(i),
        )
        for i, (name, weight) in enumerate(weights.items(), start=1)
    ]


def _endpoint() -> str:
    return f"intent-ab-{next(_names)}"


def test_deploy_two_variants_with_capture_and_autoscaling(manager: Any) -> None:
    mgr, _, clients = manager
    name = _endpoint()
    status = mgr.deploy(
        name,
        _variants(champion=90, challenger=10),
        role_arn=ROLE,
        data_capture=DataCapture("s3://capture/intent-ab", 20),
        autoscaling=Autoscaling(1, 4, 70.0),
    )
    assert status["status"] == "InService" and status["data_capture"] and status["previous_config"] is None
    variants = {v["variant"]: v for v in status["variants"]}
    assert {n: v["current_weight"] for n, v in variants.items()} == {"champion": 90.0, "challenger": 10.0}
    assert variants["champion"]["traffic_share"] == pytest.approx(0.9)
    assert (variants["champion"]["model_version"], variants["challenger"]["model_version"]) == ("1", "2")
    assert variants["challenger"]["instance_type"] == "ml.m5.large"
    assert variants["challenger"]["autoscaling"] == {
        "min_instances": 1,
        "max_instances": 4,
        "target_invocations_per_instance": 70.0,
    }
    policies = clients["application-autoscaling"].describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId=f"endpoint/{name}/variant/champion"
    )["ScalingPolicies"]
    spec = policies[0]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
    assert spec["PredefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"
    config = clients["sagemaker"].describe_endpoint_config(EndpointConfigName=status["endpoint_config"])
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 20
    # Deploying the same models again reuses their SageMaker Models instead of piling up new ones.
    models_before = len(clients["sagemaker"].list_models(MaxResults=100)["Models"])
    mgr.deploy(name, _variants(champion=50, challenger=50), role_arn=ROLE)
    assert len(clients["sagemaker"].list_models(MaxResults=100)["Models"]) == models_before


def test_s3_data_capture_round_trips_and_survives_a_redeploy_and_a_shift(manager: Any) -> None:
    """On AWS the endpoint writes its captures to S3: the config SageMaker stores is the one sent, and a redeploy
    without capture options (or a weight shift) keeps it."""
    mgr, replay, clients = manager
    sm = clients["sagemaker"]
    name = _endpoint()
    capture = DataCapture("s3://capture/intent-ab", 25)
    status = mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE, data_capture=capture)
    stored = sm.describe_endpoint_config(EndpointConfigName=status["endpoint_config"])["DataCaptureConfig"]
    assert (
        stored
        == capture.config()
        == {
            "EnableCapture": True,
            "InitialSamplingPercentage": 25,
            "DestinationS3Uri": "s3://capture/intent-ab",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
        }
    )
    assert (status["data_capture_destination"], status["data_capture_percent"]) == ("s3://capture/intent-ab", 25)
    redeployed = mgr.deploy(name, _variants(champion=50, challenger=50), role_arn=ROLE)
    assert redeployed["endpoint_config"] != status["endpoint_config"] and replay.requests
    kept = sm.describe_endpoint_config(EndpointConfigName=redeployed["endpoint_config"])["DataCaptureConfig"]
    assert kept == stored
    mgr.shift(name, {"champion": 20, "challenger": 80})
    shifted = mgr.status(name)
    assert shifted["data_capture"] and shifted["data_capture_destination"] == "s3://capture/intent-ab"


def test_shift_in_place_and_its_bad_inputs(manager: Any) -> None:
    mgr, _, _ = manager
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)
    assert mgr.shift(name, {"champion": 50, "challenger": 50}) == {"champion": 50.0, "challenger": 50.0}
    assert mgr.shift(name, {"challenger": 75}) == {"champion": 50.0, "challenger": 75.0}  # the other keeps its weight
    with pytest.raises(DeploymentError, match="no variant named 'shadow'"):
        mgr.shift(name, {"shadow": 10})
    with pytest.raises(DeploymentError, match="do not sum to a positive number"):
        mgr.shift(name, {"champion": 0, "challenger": 0})
    with pytest.raises(DeploymentError, match="must be a finite number >= 0"):
        mgr.shift(name, {"champion": -1})
    with pytest.raises(DeploymentError, match="endpoint 'no-such-endpoint' does not exist"):
        mgr.shift("no-such-endpoint", {"champion": 1})
    with pytest.raises(DeploymentError, match="would be rejected by SageMaker"):
        mgr.shift("bad_endpoint_name", {"champion": 1})
    assert mgr.current_weights(name) == {"champion": 50.0, "challenger": 75.0}  # nothing changed by the failures


def test_bad_deployments_fail_before_any_call(manager: Any) -> None:
    mgr, _, clients = manager
    before = len(clients["sagemaker"].list_models(MaxResults=100)["Models"])
    with pytest.raises(DeploymentError, match="two variants are named 'champion'"):
        mgr.deploy(_endpoint(), [*_variants(champion=1), *_variants(champion=1)], role_arn=ROLE)
    with pytest.raises(DeploymentError, match="variant name 'champion_v2' would be rejected"):
        mgr.deploy(_endpoint(), _variants(champion_v2=1), role_arn=ROLE)
    with pytest.raises(DeploymentError, match="do not sum to a positive number"):
        mgr.deploy(_endpoint(), _variants(champion=0, challenger=0), role_arn=ROLE)
    with pytest.raises(DeploymentError, match=r"endpoint name 'x+' would be rejected"):
        mgr.deploy("x" * 70, _variants(champion=1), role_arn=ROLE)
    assert len(clients["sagemaker"].list_models(MaxResults=100)["Models"]) == before


def test_botocore_validates_what_moto_would_accept(manager: Any) -> None:
    mgr, _, _ = manager
    with pytest.raises(ParamValidationError):  # botocore checks types and ranges before anything is sent
        mgr.sm.update_endpoint_weights_and_capacities(
            EndpointName="x", DesiredWeightsAndCapacities=[{"VariantName": "a", "DesiredWeight": -1.0}]
        )


def _put(cloudwatch: Any, endpoint: str, variant: str, at: float, invocations: float, errors: float) -> None:
    dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    stamp = datetime.fromtimestamp(at, UTC)
    cloudwatch.put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {"MetricName": metric, "Value": value, "Timestamp": stamp, "Dimensions": dimensions}
            for metric, value in (("Invocations", invocations), ("Invocation5XXErrors", errors))
        ],
    )


class BakingClock:
    """The deployer's clock, 30 s into a minute two hours ago, moving only while a step bakes; during each bake the
    challenger's traffic reaches CloudWatch: `errors` of 100 requests in the step's first whole minute, and 50 of
    100 in the minutes a step must not be judged on (the part-minute after the weights changed, the last minute,
    not yet published)."""

    def __init__(self, cloudwatch: Any, endpoint: str, errors: float) -> None:
        self.time = (math.floor(time.time() / 60) - 120) * 60 + 30.0
        self.cloudwatch, self.endpoint, self.errors = cloudwatch, endpoint, errors

    def now(self) -> float:
        return self.time

    def bake(self, seconds: float) -> None:
        start = self.time
        first_whole_minute = math.ceil(start / 60) * 60
        _put(self.cloudwatch, self.endpoint, "champion", first_whole_minute + 10, 100.0, 0.0)
        for at, errors in ((start + 5, 50.0), (first_whole_minute + 10, self.errors), (start + seconds - 30, 50.0)):
            _put(self.cloudwatch, self.endpoint, "challenger", at, 100.0, errors)
        self.time += seconds


def _shift_on_cloudwatch(mgr: EndpointManager, clients: dict[str, Any], errors: float, **options: Any) -> Any:
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)
    clock = BakingClock(clients["cloudwatch"], name, errors)
    mgr.clock, mgr.sleep = clock.now, clock.bake
    traffic = CloudWatchTraffic(clients["cloudwatch"], clock=clock.now)
    return shift_schedule(
        mgr, name, "challenger", [25, 50, 100], guard=Guard(max_error_rate=0.01), traffic=traffic, **options
    )


def test_stepwise_shift_reverts_on_error_rate_from_cloudwatch(manager: Any) -> None:
    mgr, _, clients = manager
    outcome = _shift_on_cloudwatch(mgr, clients, errors=5.0, bake_s=240)
    assert outcome.reverted and not outcome.completed and len(outcome.steps) == 1
    assert outcome.steps[0]["weights"] == {"champion": 75.0, "challenger": 25.0}
    assert "challenger: error rate 5.00% (5/100)" in outcome.reason  # the one whole published minute, nothing else
    assert mgr.current_weights(outcome.endpoint) == {"champion": 90.0, "challenger": 10.0}  # reverted
    # moto computes no p95 (ExtendedStatistics): the latency is unknown here, never invented.
    assert outcome.steps[0]["stats"]["challenger"]["p95_ms"] is None


def test_stepwise_shift_judges_only_whole_published_minutes_at_the_steps_weights(manager: Any) -> None:
    mgr, _, clients = manager
    taken: list[float] = []
    outcome = _shift_on_cloudwatch(mgr, clients, errors=0.0, bake_s=240, on_step=lambda s: taken.append(s["percent"]))
    # The failures in the part-minute after each weight change and in the unpublished last minute are not counted.
    assert outcome.completed and not outcome.reverted and taken == [25, 50, 100]
    assert [step["stats"]["challenger"]["invocations"] for step in outcome.steps] == [100, 100, 100]
    assert mgr.current_weights(outcome.endpoint) == {"champion": 0.0, "challenger": 100.0}


def test_a_bake_too_short_for_cloudwatch_is_refused_before_any_weight_changes(manager: Any) -> None:
    mgr, _, clients = manager
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)
    with pytest.raises(DeploymentError, match="a bake of 239 s may hold no whole minute of CloudWatch") as caught:
        shift_schedule(
            mgr,
            name,
            "challenger",
            [25, 100],
            bake_s=239,
            guard=Guard(),
            traffic=CloudWatchTraffic(clients["cloudwatch"]),
        )
    assert caught.value.hint == "give --bake-seconds 240 or more"
    assert mgr.current_weights(name) == {"champion": 90.0, "challenger": 10.0}


def test_promote_and_rollback_with_autoscaling(manager: Any) -> None:
    mgr, replay, clients = manager
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE, autoscaling=Autoscaling(1, 3, 50.0))
    first_config = mgr.status(name)["endpoint_config"]

    result = mgr.promote(name, "challenger")
    assert result["removed"] == ["champion"] and result["model_version"] == "2"
    request = replay.requests[-1]
    assert request["EndpointConfigName"] == result["endpoint_config"]
    # No guardrails given: all at once, and no deployment config of an earlier command is reused.
    assert request["RetainDeploymentConfig"] is False and "DeploymentConfig" not in request
    status = mgr.status(name)
    # The winner serves alone, named for what it now is: the champion (registry version 2, the old challenger).
    assert [(v["variant"], v["model_version"]) for v in status["variants"]] == [("champion", "2")]
    assert result["variant"] == "champion" and status["previous_config"] == first_config
    # Autoscaling was lifted for the update and put back on the winner, under its new name; the removed one has none.
    assert _resources(clients, name)["targets"] == {f"endpoint/{name}/variant/champion"}

    plan = mgr.rollback_target(name)
    assert plan["promoted_version"] == "2" and plan["to_config"] == first_config and plan["kind"] == "promote"
    mgr.rollback(name)
    assert replay.requests[-1]["RetainDeploymentConfig"] is False
    status = mgr.status(name)
    assert status["endpoint_config"] == first_config
    assert {v["variant"]: (v["current_weight"], v["model_version"]) for v in status["variants"]} == {
        "champion": (90.0, "1"),
        "challenger": (10.0, "2"),
    }
    with pytest.raises(DeploymentError, match=f"nothing left to undo on endpoint '{name}'") as caught:
        mgr.rollback(name)
    assert f"mlops endpoint history {name}" in str(caught.value.hint)


def test_deploying_over_an_existing_endpoint_updates_it(manager: Any) -> None:
    mgr, replay, clients = manager
    name = _endpoint()
    first = mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)["endpoint_config"]
    time.sleep(0.01)  # config names carry a timestamp
    second = mgr.deploy(name, _variants(champion=50, challenger=50), role_arn=ROLE)
    assert replay.requests[-1]["EndpointConfigName"] == second["endpoint_config"] != first
    tags = clients["sagemaker"].list_tags(
        ResourceArn=clients["sagemaker"].describe_endpoint_config(EndpointConfigName=second["endpoint_config"])[
            "EndpointConfigArn"
        ]
    )["Tags"]
    assert {"Key": TAG_PREVIOUS_CONFIG, "Value": first} in tags


def test_promoting_an_unknown_variant_or_endpoint_is_a_clear_error(manager: Any) -> None:
    mgr, replay, _ = manager
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)
    count = len(replay.requests)
    with pytest.raises(DeploymentError, match="no variant named 'shadow'"):
        mgr.promote(name, "shadow")
    with pytest.raises(DeploymentError, match="does not exist"):
        mgr.promote("no-such-endpoint", "challenger")
    assert len(replay.requests) == count


def _resources(clients: dict[str, Any], endpoint: str) -> dict[str, set[str]]:
    """The endpoint configs, models, alarms and scalable targets this deployer made for an endpoint."""
    sm, prefix = clients["sagemaker"], f"{endpoint}-"
    configs = sm.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]
    targets = clients["application-autoscaling"].describe_scalable_targets(ServiceNamespace="sagemaker")
    return {
        "configs": {c["EndpointConfigName"] for c in configs if c["EndpointConfigName"].startswith(prefix)},
        "models": {
            m["ModelName"] for m in sm.list_models(MaxResults=100)["Models"] if m["ModelName"].startswith(prefix)
        },
        "alarms": {
            a["AlarmName"] for a in clients["cloudwatch"].describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
        },
        "targets": {t["ResourceId"] for t in targets["ScalableTargets"] if f"/{endpoint}/" in t["ResourceId"]},
    }


def test_promote_with_guardrails_is_refused_before_anything_is_created(manager: Any) -> None:
    mgr, replay, clients = manager
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE, autoscaling=Autoscaling(1, 3, 50.0))
    before, sent = _resources(clients, name), len(replay.requests)
    with pytest.raises(DeploymentError) as caught:
        mgr.promote(name, "challenger", guardrails=Guardrails(alarm_p95_ms=400))
    assert (
        f"guardrails cannot guard this update of {name!r}: blue/green traffic shifting needs the new endpoint config "
        "to keep the endpoint's variant names (challenger, champion), and it would have champion"
    ) == caught.value.message
    assert f"`mlops endpoint shift {name} --variant challenger --schedule 10,25,50,100`" in str(caught.value.hint)
    assert "then promote without --guardrails" in str(caught.value.hint)
    # No config, alarm or UpdateEndpoint; autoscaling still registered on both variants.
    assert _resources(clients, name) == before and len(replay.requests) == sent
    assert len(before["targets"]) == 2


def test_a_single_variant_is_promoted_with_guardrails_only_when_it_is_already_the_champion(manager: Any) -> None:
    mgr, replay, _ = manager
    name = _endpoint()
    mgr.deploy(name, _variants(challenger=1), role_arn=ROLE)
    sent = len(replay.requests)
    # The promotion renames the variant `champion`: blue/green cannot change names, so a plain update must do it.
    with pytest.raises(DeploymentError, match=r"names \(challenger\), and it would have champion") as caught:
        mgr.promote(name, "challenger", guardrails=Guardrails(alarm_p95_ms=400))
    assert caught.value.hint == "promote without --guardrails: the plain update renames challenger to champion"
    assert len(replay.requests) == sent
    mgr.promote(name, "challenger")
    mgr.promote(name, "champion", guardrails=Guardrails(mode="canary", step_percent=25, wait_s=120))
    assert "BlueGreenUpdatePolicy" in replay.requests[-1]["DeploymentConfig"]
    assert [v["variant"] for v in mgr.status(name)["variants"]] == ["champion"]


def test_deploy_with_guardrails_over_other_variant_names_is_refused_before_anything_is_created(manager: Any) -> None:
    mgr, replay, clients = manager
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)
    before, sent = _resources(clients, name), len(replay.requests)
    with pytest.raises(
        DeploymentError, match=r"variant names \(challenger, champion\), and it would have champion, shadow"
    ):
        mgr.deploy(name, _variants(champion=90, shadow=10), role_arn=ROLE, guardrails=Guardrails(alarm_p95_ms=400))
    assert _resources(clients, name) == before and len(replay.requests) == sent  # no model, config or alarm


def test_guardrails_guard_updates_that_keep_the_variant_names(manager: Any) -> None:
    mgr, replay, clients = manager
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)
    mgr.deploy(
        name,
        _variants(champion=50, challenger=50),
        role_arn=ROLE,
        guardrails=Guardrails(mode="linear", step_percent=10, alarm_p95_ms=400),
    )
    config = replay.requests[-1]["DeploymentConfig"]
    assert config["BlueGreenUpdatePolicy"] == {
        "TrafficRoutingConfiguration": {
            "Type": "LINEAR",
            "WaitIntervalInSeconds": 300,
            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 10},
        },
        "TerminationWaitInSeconds": 300,
        "MaximumExecutionTimeoutInSeconds": 3900,  # 10 bakes of 300 s, 300 s termination wait, 600 s provisioning
    }
    # The 5XX and p95 alarms of both variants were created for it and roll it back.
    alarms = {a["AlarmName"] for a in config["AutoRollbackConfiguration"]["Alarms"]}
    assert alarms == _resources(clients, name)["alarms"] and len(alarms) == 4
    described = clients["cloudwatch"].describe_alarms(AlarmNames=[f"{name}-challenger-p95"])["MetricAlarms"]
    assert described[0]["ExtendedStatistic"] == "p95" and described[0]["Threshold"] == 400_000.0

    mgr.promote(name, "challenger")  # names change: no guardrails asked, none used
    assert "DeploymentConfig" not in replay.requests[-1]
    # A promotion of an endpoint that already serves only `champion` keeps the names: guardrails apply.
    mgr.promote(name, "champion", guardrails=Guardrails(mode="canary", step_percent=25, wait_s=120))
    routing = replay.requests[-1]["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {
        "Type": "CANARY",
        "WaitIntervalInSeconds": 120,
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
    }


def test_guardrails_apply_to_the_update_they_come_with_only(manager: Any, caplog: pytest.LogCaptureFixture) -> None:
    mgr, replay, clients = manager
    name = _endpoint()
    created: list[dict[str, Any]] = []
    clients["sagemaker"].meta.events.register(
        "before-call.sagemaker.CreateEndpoint", lambda params, **kw: created.append(json.loads(params["body"]))
    )
    with caplog.at_level(logging.WARNING, logger="inference.deploy.endpoints"):
        mgr.deploy(
            name,
            _variants(champion=90, challenger=10),
            role_arn=ROLE,
            guardrails=Guardrails(mode="linear", step_percent=25, wait_s=60, alarm_p95_ms=400),
        )
    # A new endpoint has no old fleet to shift from: created without them, and the user is told.
    assert "DeploymentConfig" not in created[-1] and _resources(clients, name)["alarms"] == set()
    assert f"{name} is created anew (nothing to shift traffic from), so they are not sent" in caplog.text
    assert mgr.status(name)["status"] == "InService"
    # A later update without guardrails reuses no earlier deployment config (RetainDeploymentConfig false).
    mgr.deploy(name, _variants(champion=50, challenger=50), role_arn=ROLE)
    assert replay.requests[-1]["RetainDeploymentConfig"] is False and "DeploymentConfig" not in replay.requests[-1]


def test_a_guarded_update_is_waited_for_as_long_as_it_may_run(manager: Any) -> None:
    mgr, replay, clients = manager
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)
    now = [0.0]
    mgr.clock, mgr.poll_s = lambda: now[0], 60.0
    mgr.sleep = lambda seconds: now.__setitem__(0, now[0] + seconds)

    def updating_for_an_hour_and_more(parsed: dict[str, Any], **kwargs: Any) -> None:
        if replay.requests and now[0] < 3700:  # SageMaker runs the update's steps and waits: 1 h 1 min 40 s
            parsed["EndpointStatus"] = "Updating"

    clients["sagemaker"].meta.events.register("after-call.sagemaker.DescribeEndpoint", updating_for_an_hour_and_more)
    rails = Guardrails(mode="linear", step_percent=10)  # may run 3900 s, longer than the manager's 3600 s
    lines: list[str] = []
    mgr.on_progress = PlainProgress(lines.append, clock=lambda: now[0])
    status = mgr.deploy(name, _variants(champion=50, challenger=50), role_arn=ROLE, guardrails=rails)
    assert status["status"] == "InService" and now[0] >= 3700
    # The hour is followed on screen: its status and elapsed time, a line a minute, then how long it took.
    config = status["endpoint_config"]
    assert lines[0] == f"endpoint {name}: Updating (0s) - config {config}"
    assert lines[1] == f"endpoint {name}: Updating (1m 00s) - config {config}"
    assert lines[-1] == f"endpoint {name}: InService (done in 1h 02m) - config {config}"
    assert len(lines) == 3720 // 60 + 1


def test_autoscaling_without_waiting_is_refused_before_anything_is_created(manager: Any) -> None:
    mgr, _, clients = manager
    name = _endpoint()
    with pytest.raises(DeploymentError, match="autoscaling cannot go with --no-wait: AWS registers"):
        mgr.deploy(
            name, _variants(champion=90, challenger=10), role_arn=ROLE, autoscaling=Autoscaling(1, 3), wait=False
        )
    assert not mgr.exists(name)
    assert _resources(clients, name) == {"configs": set(), "models": set(), "alarms": set(), "targets": set()}


def test_an_autoscaled_endpoint_is_not_updated_without_waiting(manager: Any) -> None:
    mgr, replay, clients = manager
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE, autoscaling=Autoscaling(1, 3, 50.0))
    count = len(replay.requests)
    with pytest.raises(DeploymentError, match="this update must wait"):
        mgr.deploy(name, _variants(champion=50, challenger=50), role_arn=ROLE, wait=False)
    assert len(replay.requests) == count  # no UpdateEndpoint was sent
    targets = clients["application-autoscaling"].describe_scalable_targets(ServiceNamespace="sagemaker")[
        "ScalableTargets"
    ]
    assert {t["ResourceId"] for t in targets if name + "/" in t["ResourceId"]} == {
        f"endpoint/{name}/variant/champion",
        f"endpoint/{name}/variant/challenger",
    }


# ---- the change history and rollback of any change ------------------------------------------------------------


def _weights(mgr: EndpointManager, name: str) -> dict[str, float]:
    return mgr.current_weights(name)


def _endpoint_tags(clients: dict[str, Any], name: str) -> list[dict[str, str]]:
    sm = clients["sagemaker"]
    return sm.list_tags(ResourceArn=sm.describe_endpoint(EndpointName=name)["EndpointArn"], MaxResults=100)["Tags"]


def test_rollback_undoes_a_shift_then_walks_back_step_by_step(manager: Any) -> None:
    mgr, _, _ = manager
    mgr.actor = "alice"
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)
    mgr.shift(name, {"champion": 75, "challenger": 25})
    mgr.shift(name, {"champion": 50, "challenger": 50})

    undone = mgr.rollback(name)  # the last change was a weight shift: the weights before it come back
    assert undone["kind"] == "shift" and undone["undoes"] == 3
    assert _weights(mgr, name) == {"champion": 75.0, "challenger": 25.0}
    mgr.rollback(name)  # the rollback is not undone by the next one: it goes one step further back
    assert _weights(mgr, name) == {"champion": 90.0, "challenger": 10.0}
    with pytest.raises(DeploymentError, match=f"nothing left to undo on endpoint '{name}'.*#1.*created it"):
        mgr.rollback(name)
    assert _weights(mgr, name) == {"champion": 90.0, "challenger": 10.0}

    history = mgr.history(name)  # newest first, what each changed, who, and what undid it
    assert [(c["seq"], c["kind"], c["undoes"], c["undone_by"]) for c in history] == [
        (5, "rollback", [2], None),
        (4, "rollback", [3], None),
        (3, "shift", [], 4),
        (2, "shift", [], 5),
        (1, "deploy", [], None),
    ]
    assert history[2]["weights_before"] == {"champion": 75.0, "challenger": 25.0}
    assert history[2]["weights_after"] == {"champion": 50.0, "challenger": 50.0}
    assert history[4]["config_before"] is None and history[4]["config_after"] == mgr.status(name)["endpoint_config"]
    assert {c["by"] for c in history} == {"alice"}


def test_a_reverted_stepwise_shift_is_undone_as_a_whole_and_a_completed_one_step_by_step(manager: Any) -> None:
    mgr, _, clients = manager
    reverted = _shift_on_cloudwatch(mgr, clients, errors=5.0, bake_s=240)
    name = reverted.endpoint
    kinds = [(c["kind"], c["undoes"]) for c in mgr.history(name)]
    assert kinds == [("revert", [2]), ("shift", []), ("deploy", [])]  # the revert names the step it undid
    with pytest.raises(DeploymentError, match="nothing left to undo"):  # nothing to go back to before the schedule
        mgr.rollback(name)

    done = _shift_on_cloudwatch(mgr, clients, errors=0.0, bake_s=240)
    assert done.completed and _weights(mgr, done.endpoint) == {"champion": 0.0, "challenger": 100.0}
    steps_back = [{"champion": 50.0, "challenger": 50.0}, {"champion": 75.0, "challenger": 25.0}, done.original_weights]
    for expected in steps_back:
        mgr.rollback(done.endpoint)
        assert _weights(mgr, done.endpoint) == expected


def test_rollback_of_a_deploy_restores_the_config_and_the_weights_it_had(manager: Any) -> None:
    mgr, _, _ = manager
    name = _endpoint()
    first = mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)["endpoint_config"]
    mgr.shift(name, {"champion": 60, "challenger": 40})
    time.sleep(0.01)  # config names carry a timestamp
    mgr.deploy(name, _variants(champion=50, shadow=50), role_arn=ROLE)
    undone = mgr.rollback(name)
    assert undone["kind"] == "deploy" and undone["to_config"] == first
    status = mgr.status(name)
    assert status["endpoint_config"] == first
    assert {v["variant"]: v["current_weight"] for v in status["variants"]} == {"champion": 60.0, "challenger": 40.0}


def test_rollback_refuses_to_undo_what_was_changed_behind_the_history(manager: Any) -> None:
    mgr, _, clients = manager
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)
    mgr.shift(name, {"champion": 50, "challenger": 50})
    clients["sagemaker"].update_endpoint_weights_and_capacities(  # e.g. in the console
        EndpointName=name, DesiredWeightsAndCapacities=[{"VariantName": "challenger", "DesiredWeight": 80.0}]
    )
    with pytest.raises(DeploymentError, match="changed outside `mlops endpoint`") as caught:
        mgr.rollback(name)
    assert (
        caught.value.hint
        == f"set the weights before it by hand: mlops endpoint shift {name} --weights champion=90,challenger=10"
    )
    assert _weights(mgr, name) == {"champion": 50.0, "challenger": 80.0}


def test_an_endpoint_without_history_rolls_back_along_its_previous_configs(manager: Any) -> None:
    mgr, _, clients = manager
    name = _endpoint()
    first = mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)["endpoint_config"]
    time.sleep(0.01)
    mgr.deploy(name, _variants(champion=50, challenger=50), role_arn=ROLE)
    # As an older version of this tool left it: configs tagged mlops:previous-config, no history on the endpoint.
    sm = clients["sagemaker"]
    arn = sm.describe_endpoint(EndpointName=name)["EndpointArn"]
    sm.delete_tags(ResourceArn=arn, TagKeys=[t["Key"] for t in _endpoint_tags(clients, name)])
    assert mgr.history(name) == []
    undone = mgr.rollback(name)
    assert undone["kind"] == "config" and mgr.status(name)["endpoint_config"] == first
    assert [c["kind"] for c in mgr.history(name)] == ["rollback"]
    with pytest.raises(DeploymentError, match=r"nothing left to undo.*every change in its history is undone"):
        mgr.rollback(name)


def test_the_history_never_breaks_aws_tag_limits(manager: Any) -> None:
    from inference.deploy.history import HISTORY_LIMIT, check_tag

    mgr, _, clients = manager
    name, long = _endpoint(), "v" * 60
    mgr.deploy(name, _variants(**{f"{long}-0": 50.0, f"{long}-1": 50.0}), role_arn=ROLE)
    sm = clients["sagemaker"]
    arn = sm.describe_endpoint(EndpointName=name)["EndpointArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": f"team-{i}", "Value": "ml"} for i in range(35)])
    for i in range(HISTORY_LIMIT + 5):
        mgr.shift(name, {f"{long}-0": float(i + 1)})
    tags = _endpoint_tags(clients, name)
    for tag in tags:
        check_tag(tag["Key"], tag["Value"])  # length and characters, as SageMaker checks them
    history = [t for t in tags if t["Key"].startswith("mlops:change:")]
    # 35 tags of others leave room for 15 records (50 per resource); the oldest went first.
    assert len(tags) == 50 and len(history) == 15
    assert max(int(t["Key"].rsplit(":", 1)[1]) for t in history) == HISTORY_LIMIT + 6
    assert mgr.history(name)[0]["weights_before"] == {f"{long}-0": HISTORY_LIMIT + 4, f"{long}-1": 50.0}

    # Three such variants: a deploy sheds the weights from its record and goes ahead; a shift, whose record must
    # hold the weights to go back to, is refused before any weight changes.
    other = _endpoint()
    mgr.deploy(other, _variants(**{f"{long}-{i}": 25.0 for i in range(3)}), role_arn=ROLE)
    with pytest.raises(DeploymentError, match="over SageMaker's 256-character tag value limit"):
        mgr.shift(other, {f"{long}-0": 50.0})
    assert set(_weights(mgr, other).values()) == {25.0}
    for tag in _endpoint_tags(clients, other):
        check_tag(tag["Key"], tag["Value"])


def test_after_a_promotion_the_champion_variant_shifts_and_each_change_rolls_back_in_turn(manager: Any) -> None:
    mgr, _, _ = manager
    name = _endpoint()
    mgr.deploy(name, _variants(champion=90, challenger=10), role_arn=ROLE)
    mgr.shift(name, {"champion": 20, "challenger": 80})
    mgr.promote(name, "challenger")
    assert mgr.shift(name, {"champion": 3}) == {"champion": 3.0}  # the promoted variant answers to its new name
    assert [c["kind"] for c in mgr.history(name)][:2] == ["shift", "promote"]
    mgr.rollback(name)
    assert _weights(mgr, name) == {"champion": 1.0}
    mgr.rollback(name)  # the promotion: both variants, at the weights they had just before it
    assert _weights(mgr, name) == {"champion": 20.0, "challenger": 80.0}
    assert {v["variant"]: v["model_version"] for v in mgr.status(name)["variants"]} == {
        "champion": "1",
        "challenger": "2",
    }
