"""A deployment plan is validated once, before anything is downloaded or any API is called."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.deploy import plan
from inference.deploy.plan import DeploymentPlan, Guardrails, parse_autoscaling, per_variant
from inference.variants import DeploymentError
from ml.errors import MlopsError
from ml.settings import P95_BUDGET_MS

AWS = {
    "image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/intent-serve:1",
    "role_arn": "arn:aws:iam::123456789012:role/sm",
}


def test_defaults_are_champion_and_challenger_at_90_10() -> None:
    plan = DeploymentPlan.from_options("intent-ab", local=True)
    assert plan.models == (("champion", "champion"), ("challenger", "challenger"))
    assert plan.weights == {"champion": 90.0, "challenger": 10.0}
    assert plan.instance_types == {"champion": "ml.m5.large", "challenger": "ml.m5.large"}
    assert plan.instance_counts == {"champion": 1, "challenger": 1} and plan.wait


def test_options_per_variant_and_for_all() -> None:
    plan = DeploymentPlan.from_options(
        "intent-ab",
        variant_specs=["a=3", "b=models:/intent-classifier@challenger"],
        weights="a=1,b=3",
        instance_types=["ml.c6i.large", "b=ml.c6i.xlarge"],
        instance_counts=["2"],
        autoscale="1:4:70",
        data_capture="s3://bucket/capture",
        capture_percent=20,
        guardrails="canary",
        **AWS,
    )
    assert plan.instance_types == {"a": "ml.c6i.large", "b": "ml.c6i.xlarge"} and plan.instance_counts == {
        "a": 2,
        "b": 2,
    }
    assert plan.weights == {"a": 1.0, "b": 3.0}
    assert plan.autoscaling is not None and plan.autoscaling.max_instances == 4
    assert plan.data_capture is not None and plan.data_capture.config()["InitialSamplingPercentage"] == 20
    assert plan.guardrails is not None and plan.guardrails.alarm_p95_ms == P95_BUDGET_MS


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"variant_specs": ["a=1", "a=2"]}, "two variants are named 'a'"),
        ({"variant_specs": ["a_1=1"]}, "would be rejected by SageMaker"),
        ({"variant_specs": ["a=1", "b=2"], "weights": "a=1"}, "no weight given for variant(s) b"),
        ({"weights": "champion=0,challenger=0"}, "do not sum to a positive number"),
        ({"autoscale": "1:4"}, "is not MIN:MAX:TARGET"),
        ({"autoscale": "1:4:70:9"}, "is not MIN:MAX:TARGET"),
        ({"autoscale": "3:2:70"}, "1 <= min <= max"),
        ({"instance_counts": ["x=2"]}, "no variant named 'x'"),
        ({"instance_counts": ["two"]}, "not valid values"),
        ({"instance_types": ["ml.a", "ml.b"]}, "given twice for every variant"),
    ],
)
def test_bad_options_are_refused_with_the_reason(options: dict, message: str) -> None:
    with pytest.raises(DeploymentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DeploymentPlan.from_options("intent-ab", local=False, **{**AWS, **options})


@pytest.mark.parametrize("feature", [{"autoscale": "1:2:70"}, {"guardrails": "canary"}])
def test_sagemaker_features_are_refused_on_the_local_endpoint(feature: dict) -> None:
    with pytest.raises(DeploymentError, match="not on the local endpoint"):
        DeploymentPlan.from_options("intent-ab", local=True, **feature)


def test_data_capture_goes_to_a_local_directory_on_the_local_endpoint(tmp_path: Path) -> None:
    plan = DeploymentPlan.from_options("intent-ab", local=True, data_capture=str(tmp_path / "cap"), capture_percent=5)
    assert plan.data_capture is not None
    config = plan.data_capture.config()
    assert config["DestinationS3Uri"] == (tmp_path / "cap").resolve().as_uri()
    assert config["InitialSamplingPercentage"] == 5
    with pytest.raises(DeploymentError, match="local directory, not to s3://b/c") as refused:
        DeploymentPlan.from_options("intent-ab", local=True, data_capture="s3://b/c")
    assert "--data-capture DIR" in str(refused.value)
    with pytest.raises(DeploymentError, match="must be an s3:// URI"):
        DeploymentPlan.from_options("intent-ab", **AWS, data_capture=str(tmp_path))
    with pytest.raises(DeploymentError, match="0-100 percent, got 101"):
        DeploymentPlan.from_options("intent-ab", **AWS, data_capture="s3://b/c", capture_percent=101)


def test_aws_needs_an_image_and_a_real_role() -> None:
    with pytest.raises(DeploymentError, match="no serving image"):
        DeploymentPlan.from_options("intent-ab", role_arn=AWS["role_arn"])
    with pytest.raises(DeploymentError, match="no SageMaker execution role"):
        DeploymentPlan.from_options("intent-ab", image_uri=AWS["image_uri"])
    with pytest.raises(MlopsError, match="not an IAM role ARN"):
        DeploymentPlan.from_options("intent-ab", image_uri=AWS["image_uri"], role_arn="arn:aws:iam::1:user/x")


def test_helpers() -> None:
    assert per_variant("--x", ["5", "b=7"], ["a", "b"], "1", int) == {"a": 5, "b": 7}
    assert parse_autoscaling("2:8:150").target_invocations_per_instance == 150.0


# ---- guardrails: AWS's limits, before any call ------------------------------------------------------------------


def test_guardrail_limits_are_the_ones_in_botocores_model() -> None:
    """The limits checked are AWS's own: botocore's SageMaker model (ranges) and its documentation (capacities)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    for shape, limits in (
        ("WaitIntervalInSeconds", plan.WAIT_INTERVAL_S),
        ("TerminationWaitInSeconds", plan.TERMINATION_WAIT_S),
        ("MaximumExecutionTimeoutInSeconds", plan.EXECUTION_TIMEOUT_S),
    ):
        metadata = model.shape_for(shape).metadata
        assert (metadata["min"], metadata["max"]) == limits, shape
    routing = model.shape_for("TrafficRoutingConfig").members
    assert "less than or equal to 50%" in routing["CanarySize"].documentation and plan.CANARY_PERCENT[1] == 50
    assert "10-50%" in routing["LinearStepSize"].documentation and plan.LINEAR_PERCENT == (10, 50)
    assert model.shape_for("CapacitySizeValue").metadata["min"] == plan.CANARY_PERCENT[0]


@pytest.mark.parametrize(
    ("options", "message", "hint"),
    [
        ({"step_percent": 51}, "canary (the first traffic step) must be 1-50 % of the fleet, got 51", "1-50"),
        ({"step_percent": 0}, "AWS's limit for CanarySize", "--guardrail-step 1-50"),
        ({"mode": "linear", "step_percent": 9}, "each linear step must be 10-50 % of the fleet, got 9", "10-50"),
        ({"mode": "linear", "step_percent": 51}, "AWS's limit for LinearStepSize", "--guardrail-step 10-50"),
        ({"wait_s": 3601}, "must be 0-3600 s, got 3601: AWS's limit for WaitIntervalInSeconds", "0-3600"),
        ({"wait_s": -1}, "AWS's limit for WaitIntervalInSeconds", "--guardrail-wait 0-3600"),
        ({"termination_wait_s": 3601}, "AWS's limit for TerminationWaitInSeconds", "0-3600 s"),
        ({"max_execution_s": 599}, "600-28800 s, got 599: AWS's limit for MaximumExecutionTimeoutInSeconds", "1500"),
        ({"max_execution_s": 28801}, "AWS's limit for MaximumExecutionTimeoutInSeconds", "--guardrail-timeout"),
        # Linear 10 % steps bake 10 times: 10 x 300 s, a 300 s termination wait and 600 s of provisioning.
        (
            {"mode": "linear", "step_percent": 10, "max_execution_s": 3600},
            "3600 s is too short: linear steps of 10 % (10 baking period(s) of 300 s)",
            "--guardrail-timeout 3900 or more",
        ),
        (
            {"mode": "linear", "step_percent": 10, "wait_s": 3600},
            "need 36900 s, more than the longest update AWS allows (MaximumExecutionTimeoutInSeconds 28800 s)",
            "larger steps",
        ),
        (
            {"mode": "linear", "step_percent": 10, "wait_s": 3600, "max_execution_s": 28800},
            "need 36900 s, more than the longest update AWS allows",
            "shorter waits",
        ),
    ],
)
def test_guardrails_outside_aws_limits_are_refused_with_the_fix(options: dict, message: str, hint: str) -> None:
    with pytest.raises(DeploymentError) as caught:
        Guardrails(**options)
    assert message in caught.value.message and hint in str(caught.value.hint)


def test_guardrails_at_aws_limits_are_accepted_and_botocore_agrees() -> None:
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    update = get_session().get_service_model("sagemaker").operation_model("UpdateEndpoint").input_shape
    for rails in (
        Guardrails("canary", 50, wait_s=3600, termination_wait_s=3600),
        Guardrails("canary", 1, wait_s=0, termination_wait_s=0, max_execution_s=600),
        Guardrails("linear", 10, wait_s=0),
        Guardrails("linear", 50, wait_s=3600, max_execution_s=28800),
    ):
        request = {"EndpointName": "ep", "EndpointConfigName": "c", "DeploymentConfig": rails.deployment_config()}
        assert not ParamValidator().validate(request, update).has_errors(), rails


@pytest.mark.parametrize(
    ("options", "timeout"),
    [
        ({}, 3600),  # canary: 2 x 300 s + 300 s + 600 s = 1500 s fits in the 3600 s kept as the least derived value
        ({"mode": "linear", "step_percent": 10}, 3900),  # the brief's case: 10 x 300 s alone is 3000 s
        ({"mode": "linear", "step_percent": 30, "wait_s": 1200}, 4 * 1200 + 300 + 600),  # ceil(100 / 30) = 4 steps
        ({"mode": "linear", "step_percent": 10, "max_execution_s": 5000}, 5000),  # given and long enough: as given
    ],
)
def test_the_execution_timeout_sent_covers_the_steps_and_waits(options: dict, timeout: int) -> None:
    policy = Guardrails(**options).deployment_config()["BlueGreenUpdatePolicy"]
    assert policy["MaximumExecutionTimeoutInSeconds"] == timeout


def test_guardrail_options_reach_the_plan() -> None:
    plan_ = DeploymentPlan.from_options(
        "intent-ab", guardrails="linear", guardrail_step=20, guardrail_wait=60, guardrail_timeout=1200, **AWS
    )
    assert plan_.guardrails is not None
    assert plan_.guardrails.deployment_config()["BlueGreenUpdatePolicy"]["MaximumExecutionTimeoutInSeconds"] == 1200
    with pytest.raises(DeploymentError, match="LinearStepSize"):
        DeploymentPlan.from_options("intent-ab", guardrails="linear", guardrail_step=5, **AWS)


def test_autoscaling_needs_a_deployment_that_waits() -> None:
    with pytest.raises(DeploymentError, match="autoscaling cannot go with --no-wait") as caught:
        DeploymentPlan.from_options("intent-ab", autoscale="1:4:70", wait=False, **AWS)
    assert "drop --no-wait" in str(caught.value.hint)
    assert DeploymentPlan.from_options("intent-ab", autoscale="1:4:70", **AWS).autoscaling is not None
    assert not DeploymentPlan.from_options("intent-ab", wait=False, **AWS).wait


WEIGHTS_OVER_LIMITS = [
    ("a=1e308,b=1e308", "at most 3.40282e+38"),  # each finite, the sum is not
    ("a=3e38,b=3e38", "sum to at most 3.40282e+38"),  # each a 32-bit float, the sum is not
    ("a=inf,b=1", "finite number"),
    ("a=nan,b=1", "finite number"),
    ("a=-1,b=2", ">= 0"),
    ("a=0,b=0", "do not sum to a positive number"),
]


@pytest.mark.parametrize(("weights", "message"), WEIGHTS_OVER_LIMITS, ids=[w for w, _ in WEIGHTS_OVER_LIMITS])
def test_weights_beyond_sagemakers_variant_weight_are_refused_by_every_plan(weights: str, message: str) -> None:
    """Weights whose total overflows would let the endpoint take them and then fail every unpinned request."""
    with pytest.raises(DeploymentError, match=message.replace("+", r"\+")):
        DeploymentPlan.from_options("ab", variant_specs=["a=1", "b=2"], weights=weights, local=True)
    with pytest.raises(DeploymentError, match=message.replace("+", r"\+")):
        plan.ShiftPlan.from_options(weights=weights)


def test_the_weight_limit_is_sagemakers_variant_weight() -> None:
    """VariantWeight is a `float` shape (32 bits, in botocore's model as in Smithy) with a minimum of 0."""
    import struct

    import botocore.session

    from inference.variants import MAX_VARIANT_WEIGHT

    model = botocore.session.get_session().get_service_model("sagemaker")
    for structure, member in (
        ("ProductionVariant", "InitialVariantWeight"),
        ("DesiredWeightAndCapacity", "DesiredWeight"),
    ):
        shape = model.shape_for(structure).members[member]
        assert (shape.name, shape.type_name, shape.metadata) == ("VariantWeight", "float", {"min": 0})
    assert struct.unpack("<f", b"\xff\xff\x7f\x7f")[0] == MAX_VARIANT_WEIGHT  # the largest 32-bit float


def test_a_shift_plan_is_weights_now_or_a_schedule_for_one_variant() -> None:
    assert plan.ShiftPlan.from_options(weights="a=90,b=10").weights == {"a": 90.0, "b": 10.0}
    scheduled = plan.ShiftPlan.from_options(variant="b", schedule="25,50,100", bake_s=1, max_error_rate=0.5)
    assert (scheduled.weights, scheduled.variant, scheduled.steps, scheduled.bake_s) == (None, "b", (25, 50, 100), 1)
    assert scheduled.guard.max_error_rate == 0.5
    for options, message in [
        ({}, "give either --weights or --schedule"),
        ({"weights": "a=1", "schedule": "50"}, "give either --weights or --schedule"),
        ({"weights": "a=1", "variant": "a"}, "--variant goes with --schedule"),
        ({"schedule": "50"}, "--schedule needs --variant"),
        ({"schedule": "50,25", "variant": "a"}, "increasing percentages"),
        ({"schedule": "50", "variant": "a", "bake_s": -1}, "bake time must be >= 0"),
    ]:
        with pytest.raises(DeploymentError, match=message):
            plan.ShiftPlan.from_options(**options)
