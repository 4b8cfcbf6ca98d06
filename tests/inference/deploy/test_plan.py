"""A deployment plan is validated once, before anything is downloaded or any API is called."""

from __future__ import annotations

import pytest

from inference.deploy.plan import DeploymentPlan, parse_autoscaling, per_variant
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
        ({"instance_counts": ["x=2"]}, "no variant named 'x'"),
        ({"instance_counts": ["two"]}, "not valid values"),
        ({"instance_types": ["ml.a", "ml.b"]}, "given twice for every variant"),
    ],
)
def test_bad_options_are_refused_with_the_reason(options: dict, message: str) -> None:
    with pytest.raises(DeploymentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DeploymentPlan.from_options("intent-ab", local=False, **{**AWS, **options})


@pytest.mark.parametrize("feature", [{"autoscale": "1:2:70"}, {"data_capture": "s3://b/c"}, {"guardrails": "canary"}])
def test_sagemaker_features_are_refused_on_the_local_endpoint(feature: dict) -> None:
    with pytest.raises(DeploymentError, match="not on the local endpoint"):
        DeploymentPlan.from_options("intent-ab", local=True, **feature)


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
