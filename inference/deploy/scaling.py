"""Autoscaling and guardrail alarms of an endpoint's variants: Application Auto Scaling and CloudWatch.

AWS refuses an endpoint update while a variant is registered as a scalable target, so an update lifts every
variant's autoscaling first (`suspend`) and registers it again, for the variants that remain, once the update has
finished (`restore`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from inference.deploy.plan import Autoscaling
from inference.variants import DeploymentError

log = logging.getLogger(__name__)

SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
INVOCATIONS_PER_INSTANCE = "SageMakerVariantInvocationsPerInstance"


def resource_id(endpoint: str, variant: str) -> str:
    """The Application Auto Scaling resource of a variant."""
    return f"endpoint/{endpoint}/variant/{variant}"


class Scaling:
    """A target's autoscaling and CloudWatch clients (None where the target lacks them, as the local endpoint does)."""

    def __init__(self, autoscaling_client: Any | None = None, cloudwatch_client: Any | None = None) -> None:
        self.autoscaling = autoscaling_client
        self.cloudwatch = cloudwatch_client

    def _require_autoscaling(self) -> Any:
        if self.autoscaling is None:
            raise DeploymentError(
                "autoscaling needs the Application Auto Scaling API, which this target lacks",
                hint="autoscaling applies to SageMaker endpoints on AWS, not to the local endpoint",
            )
        return self.autoscaling

    def configure(self, endpoint: str, variant: str, policy: Autoscaling) -> dict[str, Any]:
        """Register the variant as a scalable target with a target-tracking policy on invocations per instance."""
        client = self._require_autoscaling()
        resource = resource_id(endpoint, variant)
        client.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=resource,
            ScalableDimension=SCALABLE_DIMENSION,
            MinCapacity=policy.min_instances,
            MaxCapacity=policy.max_instances,
        )
        client.put_scaling_policy(
            PolicyName=f"{endpoint}-{variant}-invocations",
            ServiceNamespace="sagemaker",
            ResourceId=resource,
            ScalableDimension=SCALABLE_DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": float(policy.target_invocations_per_instance),
                "PredefinedMetricSpecification": {"PredefinedMetricType": INVOCATIONS_PER_INSTANCE},
                "ScaleInCooldown": policy.scale_in_cooldown_s,
                "ScaleOutCooldown": policy.scale_out_cooldown_s,
            },
        )
        log.info(
            "autoscaling %s: %d-%d instances, target %.0f invocations/instance",
            resource,
            policy.min_instances,
            policy.max_instances,
            policy.target_invocations_per_instance,
        )
        return {"resource_id": resource, **asdict(policy)}

    def of(self, endpoint: str, variant: str) -> dict[str, Any] | None:
        """The variant's autoscaling (min, max, target), or None when it has none or the target has no autoscaling."""
        if self.autoscaling is None:
            return None
        resource = resource_id(endpoint, variant)
        targets = self.autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])
        if not targets.get("ScalableTargets"):
            return None
        target = targets["ScalableTargets"][0]
        policies = self.autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)
        tracking = [
            p["TargetTrackingScalingPolicyConfiguration"]
            for p in policies.get("ScalingPolicies", [])
            if p.get("PolicyType") == "TargetTrackingScaling"
        ]
        return {
            "min_instances": target["MinCapacity"],
            "max_instances": target["MaxCapacity"],
            "target_invocations_per_instance": tracking[0]["TargetValue"] if tracking else None,
        }

    def suspend(self, endpoint: str, variants: Iterable[str], *, refuse: bool = False) -> list[tuple[str, Autoscaling]]:
        """Deregister every variant's scalable target; return what to register again after the update.

        With `refuse`, an autoscaled endpoint is an error instead (nothing would register it again).
        """
        if self.autoscaling is None:
            return []
        saved = []
        for variant in variants:
            current = self.of(endpoint, variant)
            if current is not None:
                saved.append(
                    (
                        variant,
                        Autoscaling(
                            int(current["min_instances"]),
                            int(current["max_instances"]),
                            float(
                                current["target_invocations_per_instance"]
                                or Autoscaling.target_invocations_per_instance
                            ),
                        ),
                    )
                )
        if saved and refuse:
            raise DeploymentError(
                f"endpoint {endpoint!r} has autoscaled variants ({', '.join(v for v, _ in saved)}): their autoscaling "
                "is lifted for the update and registered again when it has finished, so this update must wait",
                hint="drop --no-wait",
            )
        for variant, _ in saved:
            self.autoscaling.deregister_scalable_target(
                ServiceNamespace="sagemaker",
                ResourceId=resource_id(endpoint, variant),
                ScalableDimension=SCALABLE_DIMENSION,
            )
        return saved

    def restore(self, endpoint: str, saved: list[tuple[str, Autoscaling]], keep: set[str] | None) -> None:
        """Register again what `suspend` lifted, for the variants in `keep` (None: all of them)."""
        for variant, policy in saved:
            if keep is None or variant in keep:
                self.configure(endpoint, variant, policy)

    def create_alarms(self, endpoint: str, variants: Sequence[str], max_p95_ms: float) -> list[str]:
        """CloudWatch alarms per variant (5XX errors, p95 model latency over `max_p95_ms`) that roll blue/green back."""
        if self.cloudwatch is None:
            raise DeploymentError(
                "guardrail alarms need CloudWatch, which this target lacks",
                hint="guardrails apply to SageMaker endpoints on AWS",
            )
        names = []
        for variant in variants:
            dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
            common = {
                "Namespace": "AWS/SageMaker",
                "Dimensions": dimensions,
                "Period": 60,
                "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
            }
            errors = f"{endpoint}-{variant}-5xx"
            self.cloudwatch.put_metric_alarm(
                AlarmName=errors, MetricName="Invocation5XXErrors", Statistic="Sum", Threshold=0.0, **common
            )
            latency = f"{endpoint}-{variant}-p95"
            # ModelLatency is in microseconds.
            self.cloudwatch.put_metric_alarm(
                AlarmName=latency,
                MetricName="ModelLatency",
                ExtendedStatistic="p95",
                Threshold=max_p95_ms * 1000.0,
                **common,
            )
            names += [errors, latency]
        return names
