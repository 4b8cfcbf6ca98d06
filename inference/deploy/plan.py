"""What a deployment asks for, validated once before anything changes: variants and their models, weights,
instances, data capture, guardrails and autoscaling (`DeploymentPlan`), with the SageMaker structures they become;
and what a traffic shift asks for (`ShiftPlan`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.variants import (
    DeploymentError,
    Guard,
    check_name,
    check_unique,
    check_weights,
    parse_schedule,
    parse_variant_spec,
    parse_weights,
)
from ml.aws import validate_role_arn
from ml.settings import MIN_STEP_INVOCATIONS, P95_BUDGET_MS

DEFAULT_VARIANTS = ("champion=champion", "challenger=challenger")
DEFAULT_WEIGHTS = "champion=90,challenger=10"
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
# `--data-capture off`: deploy without data capture (a redeploy otherwise keeps the endpoint's).
CAPTURE_OFF = "off"


@dataclass(frozen=True)
class VariantDeployment:
    """One production variant to deploy: a packaged model, its serving image, weight and instances."""

    name: str
    model_data_url: str
    image_uri: str
    weight: float = 1.0
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    registered_model: str = ""
    model_version: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_name("variant", self.name)
        if self.instance_count < 1:
            raise DeploymentError(
                f"variant {self.name!r}: instance count must be at least 1, got {self.instance_count}"
            )
        if not self.model_data_url:
            raise DeploymentError(f"variant {self.name!r} has no model data URL")


@dataclass(frozen=True)
class DataCapture:
    """Request/response capture (SageMaker DataCaptureConfig): to S3 on AWS; to a local directory on the local
    endpoint, which takes it as an absolute `file://` URI in the same member (`inference.local.capture`)."""

    destination_s3_uri: str
    sampling_percent: int = 100
    local: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.sampling_percent, bool) or not 0 <= self.sampling_percent <= 100:
            raise DeploymentError(
                f"data capture sampling must be 0-100 percent, got {self.sampling_percent}",
                hint="e.g. --capture-percent 10 captures about one request in ten",
            )
        is_s3 = self.destination_s3_uri.startswith("s3://")
        if self.local and is_s3:
            raise DeploymentError(
                f"the local endpoint writes captures to a local directory, not to {self.destination_s3_uri}",
                hint="--data-capture DIR (s3:// destinations are for SageMaker on AWS)",
            )
        if self.local:
            # The local endpoint runs elsewhere (another working directory): it gets an absolute file:// URI.
            uri = self.destination_s3_uri
            if not uri.startswith("file://"):
                uri = Path(uri).expanduser().resolve().as_uri()
            object.__setattr__(self, "destination_s3_uri", uri)
        elif not is_s3:
            raise DeploymentError(
                f"data capture destination must be an s3:// URI, got {self.destination_s3_uri!r}",
                hint="SageMaker writes captures to S3; a local directory is for the local endpoint (--local-endpoint)",
            )

    def config(self) -> dict[str, Any]:
        """The DataCaptureConfig structure."""
        return {
            "EnableCapture": True,
            "InitialSamplingPercentage": self.sampling_percent,
            "DestinationS3Uri": self.destination_s3_uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
        }


# AWS's limits on a blue/green DeploymentConfig, checked before any call so that a bad value fails with its reason.
# Ranges: botocore's SageMaker service model (shapes WaitIntervalInSeconds, TerminationWaitInSeconds and
# MaximumExecutionTimeoutInSeconds; tests/inference/deploy/test_plan.py compares them with it) and the API reference
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_BlueGreenUpdatePolicy.html). The capacity sizes are
# only in TrafficRoutingConfig's documentation (same model, and API_TrafficRoutingConfig.html): CanarySize "must be
# less than or equal to 50% of the variant's total instance count", LinearStepSize "must be 10-50%"; a CapacitySize
# value is at least 1.
CANARY_PERCENT = (1, 50)
LINEAR_PERCENT = (10, 50)
WAIT_INTERVAL_S = (0, 3600)
TERMINATION_WAIT_S = (0, 3600)
EXECUTION_TIMEOUT_S = (600, 28800)
# The time a blue/green update needs besides its waits: provisioning the new fleet. AWS documents no figure; its own
# floor for MaximumExecutionTimeoutInSeconds (600 s, what it grants an update with no waits at all) is used, which
# also keeps every derived or required timeout within AWS's range.
PROVISIONING_S = EXECUTION_TIMEOUT_S[0]
# The execution timeout when none is given: the value this deployer always sent before it derived one, or more when
# the steps and waits need more (a longer timeout costs nothing unless the update hangs).
DEFAULT_EXECUTION_TIMEOUT_S = 3600


def _check_range(value: float, limits: tuple[int, int], what: str, unit: str, field_name: str, fix: str) -> None:
    low, high = limits
    if not low <= value <= high:
        raise DeploymentError(
            f"{what} must be {low}-{high}{unit}, got {value:g}: AWS's limit for {field_name}", hint=fix
        )


@dataclass(frozen=True)
class Guardrails:
    """Blue/green endpoint updates with canary or linear traffic shifting and auto-rollback alarms.

    Every value is checked against AWS's limits here, before any call; `max_execution_s` (None: derived) must leave
    time for every baking period, the termination wait and the new fleet's provisioning.
    """

    mode: str = "canary"
    step_percent: int = 10
    wait_s: int = 300
    termination_wait_s: int = 300
    max_execution_s: int | None = None
    alarms: tuple[str, ...] = ()
    # When set, the deployer creates a 5XX and a p95 latency alarm per variant (this threshold) once the update
    # has been validated, and rolls back on either.
    alarm_p95_ms: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("canary", "linear", "all_at_once"):
            raise DeploymentError(f"guardrail mode must be canary, linear or all_at_once, got {self.mode!r}")
        if self.mode == "canary":
            _check_range(
                self.step_percent,
                CANARY_PERCENT,
                "the canary (the first traffic step)",
                " % of the fleet",
                "CanarySize",
                "give --guardrail-step 1-50",
            )
        elif self.mode == "linear":
            _check_range(
                self.step_percent,
                LINEAR_PERCENT,
                "each linear step",
                " % of the fleet",
                "LinearStepSize",
                "give --guardrail-step 10-50",
            )
        _check_range(
            self.wait_s,
            WAIT_INTERVAL_S,
            "the wait after each traffic step",
            " s",
            "WaitIntervalInSeconds",
            "give --guardrail-wait 0-3600",
        )
        _check_range(
            self.termination_wait_s,
            TERMINATION_WAIT_S,
            "the wait before the old fleet is terminated",
            " s",
            "TerminationWaitInSeconds",
            "give a termination wait of 0-3600 s",
        )
        needed = self.min_execution_s
        if needed > EXECUTION_TIMEOUT_S[1]:
            raise DeploymentError(
                f"{self._timeline()} need {needed} s, more than the longest update AWS allows "
                f"(MaximumExecutionTimeoutInSeconds {EXECUTION_TIMEOUT_S[1]} s)",
                hint="use larger steps (--guardrail-step) or shorter waits (--guardrail-wait)",
            )
        if self.max_execution_s is None:
            return
        _check_range(
            self.max_execution_s,
            EXECUTION_TIMEOUT_S,
            "the update's maximum execution time",
            " s",
            "MaximumExecutionTimeoutInSeconds",
            f"give --guardrail-timeout {needed}-{EXECUTION_TIMEOUT_S[1]}, or leave it out to have it derived",
        )
        if self.max_execution_s < needed:
            raise DeploymentError(
                f"a maximum execution time of {self.max_execution_s} s is too short: {self._timeline()} "
                f"need at least {needed} s, and AWS rolls back an update that runs out of time",
                hint=f"give --guardrail-timeout {needed} or more, or leave it out to have it derived",
            )

    @property
    def baking_periods(self) -> int:
        """How many times the update waits `wait_s`: after each traffic step, the last one being the final bake."""
        # Canary: the canary, then the rest; linear: ceil(100 / step) steps; all at once: one step. See
        # https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green.html (and its canary and
        # linear pages): every step is followed by a baking period.
        if self.mode == "canary":
            return 2
        if self.mode == "linear":
            return math.ceil(100 / self.step_percent)
        return 1

    @property
    def min_execution_s(self) -> int:
        """The shortest MaximumExecutionTimeoutInSeconds that lets the update finish: waits plus provisioning."""
        # AWS: "the timeout value should be larger than the total waiting time specified in TerminationWaitInSeconds
        # and WaitIntervalInSeconds" (BlueGreenUpdatePolicy in botocore's model and the API reference).
        return self.baking_periods * self.wait_s + self.termination_wait_s + PROVISIONING_S

    @property
    def execution_timeout_s(self) -> int:
        """MaximumExecutionTimeoutInSeconds as sent: the one given, else derived from the steps and waits."""
        if self.max_execution_s is not None:
            return self.max_execution_s
        return max(DEFAULT_EXECUTION_TIMEOUT_S, self.min_execution_s)

    def _timeline(self) -> str:
        steps = f"{self.mode} steps of {self.step_percent} %" if self.mode != "all_at_once" else "one step"
        return (
            f"{steps} ({self.baking_periods} baking period(s) of {self.wait_s} s), the {self.termination_wait_s} s "
            f"termination wait and {PROVISIONING_S} s to provision the new fleet"
        )

    def deployment_config(self, alarms: Sequence[str] = ()) -> dict[str, Any]:
        """The DeploymentConfig structure for UpdateEndpoint, rolled back by these and its own alarms."""
        routing: dict[str, Any] = {"Type": self.mode.upper(), "WaitIntervalInSeconds": self.wait_s}
        size = {"Type": "CAPACITY_PERCENT", "Value": self.step_percent}
        if self.mode == "canary":
            routing["CanarySize"] = size
        elif self.mode == "linear":
            routing["LinearStepSize"] = size
        config: dict[str, Any] = {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "TerminationWaitInSeconds": self.termination_wait_s,
                "MaximumExecutionTimeoutInSeconds": self.execution_timeout_s,
            }
        }
        names = [*self.alarms, *alarms]
        if names:
            config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in names]}
        return config


@dataclass(frozen=True)
class Autoscaling:
    """Target tracking on invocations per instance for each variant (Application Auto Scaling)."""

    min_instances: int = 1
    max_instances: int = 4
    target_invocations_per_instance: float = 70.0
    scale_in_cooldown_s: int = 300
    scale_out_cooldown_s: int = 60

    def __post_init__(self) -> None:
        if not 1 <= self.min_instances <= self.max_instances:
            raise DeploymentError(
                f"autoscaling needs 1 <= min <= max instances, got min {self.min_instances}, max {self.max_instances}"
            )
        if self.target_invocations_per_instance <= 0:
            raise DeploymentError("the autoscaling target (invocations per instance per minute) must be positive")


@dataclass(frozen=True)
class DeploymentPlan:
    """An endpoint's variants with their models (registry refs or paths), weights, instances and options."""

    endpoint: str
    models: tuple[tuple[str, str], ...]  # (variant, MODEL as given: alias, version, models:/ URI or path)
    weights: Mapping[str, float]
    instance_types: Mapping[str, str]
    instance_counts: Mapping[str, int]
    image_uri: str | None = None
    role_arn: str | None = None
    data_capture: DataCapture | None = None
    keep_capture: bool = True  # with no data_capture: keep the endpoint's capture (False: deploy without)
    guardrails: Guardrails | None = None
    autoscaling: Autoscaling | None = None
    wait: bool = True

    @classmethod
    def from_options(
        cls,
        endpoint: str,
        *,
        variant_specs: Sequence[str] = (),
        weights: str | None = None,
        instance_types: Sequence[str] = (),
        instance_counts: Sequence[str] = (),
        image_uri: str | None = None,
        role_arn: str | None = None,
        data_capture: str | None = None,
        capture_percent: int = 100,
        guardrails: str | None = None,
        guardrail_step: int = 10,
        guardrail_wait: int = 300,
        guardrail_timeout: int | None = None,
        guardrail_p95_ms: float = P95_BUDGET_MS,
        autoscale: str | None = None,
        wait: bool = True,
        local: bool = False,
    ) -> DeploymentPlan:
        """Check every option as the CLI gives them (NAME=MODEL, NAME=W,..., [NAME=]TYPE, MIN:MAX:TARGET) for AWS or
        for the local endpoint (`local`), before any model is downloaded or any API is called."""
        check_name("endpoint", endpoint)
        pairs = [parse_variant_spec(s) for s in (variant_specs or DEFAULT_VARIANTS)]
        names = check_unique("variant", [n for n, _ in pairs])
        default_weights = DEFAULT_WEIGHTS if not variant_specs else ",".join(f"{n}=1" for n in names)
        weight_map = check_weights(parse_weights(weights or default_weights), names)
        missing = [n for n in names if n not in weight_map]
        if missing:
            raise DeploymentError(
                f"no weight given for variant(s) {', '.join(missing)}", hint="give every variant a weight"
            )
        policy = parse_autoscaling(autoscale) if autoscale else None
        if local and (policy or guardrails):
            raise DeploymentError(
                "autoscaling and guardrails are SageMaker features: not on the local endpoint",
                hint="drop those options, or deploy to AWS",
            )
        check_autoscaling_waits(policy, wait)
        if not local:
            if not image_uri:
                raise DeploymentError(
                    "no serving image",
                    hint="pass --image-uri (or MLOPS_SERVING_IMAGE): the image built from the Dockerfile",
                )
            if not role_arn:
                raise DeploymentError("no SageMaker execution role", hint="pass --role (or MLOPS_SAGEMAKER_ROLE_ARN)")
            validate_role_arn(role_arn)
        return cls(
            endpoint=endpoint,
            models=tuple(pairs),
            weights=weight_map,
            instance_types=per_variant("--instance-type", instance_types, names, DEFAULT_INSTANCE_TYPE, str),
            instance_counts=per_variant("--instance-count", instance_counts, names, "1", int),
            image_uri=image_uri,
            role_arn=role_arn,
            data_capture=DataCapture(data_capture, capture_percent, local=local)
            if data_capture and data_capture != CAPTURE_OFF
            else None,
            keep_capture=data_capture != CAPTURE_OFF,
            guardrails=Guardrails(
                mode=guardrails,
                step_percent=guardrail_step,
                wait_s=guardrail_wait,
                max_execution_s=guardrail_timeout,
                alarm_p95_ms=guardrail_p95_ms,
            )
            if guardrails
            else None,
            autoscaling=policy,
            wait=wait,
        )


@dataclass(frozen=True)
class ShiftPlan:
    """A traffic shift of an endpoint: these weights now, or a schedule of percentages for one variant, each step
    baked and judged by a guard."""

    weights: Mapping[str, float] | None = None
    variant: str | None = None
    steps: tuple[float, ...] = ()
    bake_s: float = 300.0
    guard: Guard = field(default_factory=Guard)
    max_bake_s: float | None = None  # a step short of requests bakes on up to this (default: 3 bakes)

    @classmethod
    def from_options(
        cls,
        *,
        weights: str | None = None,
        variant: str | None = None,
        schedule: str | None = None,
        bake_s: float = 300.0,
        max_error_rate: float = 0.01,
        max_p95_ms: float = P95_BUDGET_MS,
        min_invocations: int = MIN_STEP_INVOCATIONS,
        max_bake_s: float | None = None,
    ) -> ShiftPlan:
        """Check the options as the CLI gives them (NAME=W,... or VARIANT with P1,P2,...) before any API is called."""
        if bool(weights) == bool(schedule):
            raise DeploymentError(
                "give either --weights or --schedule (with --variant)",
                hint="e.g. --weights champion=50,challenger=50, or --variant challenger --schedule 10,25,50,100",
            )
        if weights:
            if variant:
                raise DeploymentError("--variant goes with --schedule, not with --weights")
            return cls(weights=parse_weights(weights))
        if not variant:
            raise DeploymentError(
                "--schedule needs --variant: the variant whose share grows", hint="e.g. --variant challenger"
            )
        if not bake_s >= 0:
            raise DeploymentError(f"bake time must be >= 0 s, got {bake_s}", hint="e.g. --bake-seconds 300")
        if max_bake_s is not None and not max_bake_s >= bake_s:
            raise DeploymentError(
                f"--max-bake-seconds ({max_bake_s:g}) must be at least --bake-seconds ({bake_s:g})",
                hint=f"e.g. --max-bake-seconds {3 * bake_s:g}",
            )
        return cls(
            variant=check_name("variant", variant),
            steps=tuple(parse_schedule(schedule or "")),
            bake_s=bake_s,
            guard=Guard(max_error_rate, max_p95_ms, min_invocations),
            max_bake_s=max_bake_s,
        )


def check_autoscaling_waits(autoscaling: Autoscaling | None, wait: bool) -> None:
    """Refuse autoscaling without waiting: it can only be registered once the endpoint is InService."""
    # Application Auto Scaling is blocked while an endpoint is being created or updated: AWS's procedure waits for
    # EndpointStatus InService before it registers a variant as a scalable target
    # (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html). Registering it after a --no-wait
    # return would need someone to come back for it, so the two are refused together.
    if autoscaling is not None and not wait:
        raise DeploymentError(
            "autoscaling cannot go with --no-wait: AWS registers a variant's autoscaling only once the endpoint is "
            "InService, and --no-wait returns while it is still being created or updated",
            hint="drop --no-wait (the deployment waits for InService, then registers autoscaling), or drop --autoscale",
        )


def per_variant(
    option: str, values: Sequence[str], names: Sequence[str], default: str, convert: Callable[[str], Any]
) -> dict[str, Any]:
    """`VALUE` for every variant and/or `NAME=VALUE` for one, as {variant: value}."""
    common = [v for v in values if "=" not in v]
    if len(common) > 1:
        raise DeploymentError(
            f"{option} is given twice for every variant: {', '.join(common)}",
            hint=f"give one {option} VALUE, then NAME=VALUE for the exceptions",
        )
    chosen = dict.fromkeys(names, common[0] if common else default)
    for value in values:
        name, sep, item = value.partition("=")
        if not sep:
            continue
        if name not in chosen:
            raise DeploymentError(f"{option} {value}: no variant named {name!r}", hint=f"variants: {', '.join(names)}")
        chosen[name] = item
    try:
        return {name: convert(item) for name, item in chosen.items()}
    except ValueError:
        raise DeploymentError(f"{option}: {tuple(values)} are not valid values") from None


def parse_autoscaling(text: str) -> Autoscaling:
    """`MIN:MAX:TARGET` (instances, and invocations per instance per minute) as an Autoscaling policy."""
    parts = text.split(":")
    try:
        low, high, target = int(parts[0]), int(parts[1]), float(parts[2])
    except (ValueError, IndexError):
        raise DeploymentError(f"--autoscale {text!r} is not MIN:MAX:TARGET", hint="e.g. --autoscale 1:4:70") from None
    if len(parts) != 3:
        raise DeploymentError(f"--autoscale {text!r} is not MIN:MAX:TARGET", hint="e.g. --autoscale 1:4:70")
    return Autoscaling(low, high, target)
