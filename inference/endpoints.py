"""Production variants on a SageMaker real-time endpoint, with boto3: deploy, shift, promote, roll back, status.

The SageMaker SDK has no A/B variant management, so this talks to the SageMaker API directly. The same code
drives AWS, a moto server (tests) and the local A/B endpoint (`inference.local_endpoint`), which implements the
control-plane operations used here.

Bookkeeping lives in SageMaker tags, so any machine (a CI job, a laptop) sees the same history:

- every endpoint config this module creates carries `mlops:previous-config` (the config it replaced), and
  `mlops:promoted-version` when it was made by a promotion; rollback walks that chain;
- every SageMaker Model carries the registry name and version it was built from (`mlops:registered-model`,
  `mlops:model-version`), which `status` reports per variant.

Endpoint updates (deploy over an existing endpoint, promote, rollback) deregister the variants' Application
Auto Scaling targets first and register them again afterwards, as AWS requires for endpoints with autoscaling.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from inference.variant_metrics import MetricsSource
from inference.variants import (
    DeploymentError,
    Guard,
    VariantStats,
    check_name,
    check_unique,
    check_weights,
    traffic_shares,
    weights_for_share,
)

log = logging.getLogger(__name__)

TAG_PREVIOUS_CONFIG = "mlops:previous-config"
TAG_PROMOTED_VERSION = "mlops:promoted-version"
TAG_PROMOTED_MODEL = "mlops:promoted-model"
TAG_REGISTERED_MODEL = "mlops:registered-model"
TAG_MODEL_VERSION = "mlops:model-version"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
INVOCATIONS_PER_INSTANCE = "SageMakerVariantInvocationsPerInstance"
NAME_LIMIT = 63


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
            raise DeploymentError(f"variant {self.name!r}: instance count must be at least 1, got {self.instance_count}")
        if not self.model_data_url:
            raise DeploymentError(f"variant {self.name!r} has no model data URL")


@dataclass(frozen=True)
class DataCapture:
    """Request/response capture to S3 (SageMaker DataCaptureConfig)."""

    destination_s3_uri: str
    sampling_percent: int = 100

    def __post_init__(self) -> None:
        if not self.destination_s3_uri.startswith("s3://"):
            raise DeploymentError(f"data capture destination must be an s3:// URI, got {self.destination_s3_uri!r}")
        if not 0 <= self.sampling_percent <= 100:
            raise DeploymentError(f"data capture sampling must be 0-100 percent, got {self.sampling_percent}")

    def config(self) -> dict[str, Any]:
        """The DataCaptureConfig structure."""
        return {
            "EnableCapture": True,
            "InitialSamplingPercentage": self.sampling_percent,
            "DestinationS3Uri": self.destination_s3_uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
        }


@dataclass(frozen=True)
class Guardrails:
    """Blue/green endpoint updates with canary or linear traffic shifting and auto-rollback alarms."""

    mode: str = "canary"
    step_percent: int = 10
    wait_s: int = 300
    termination_wait_s: int = 300
    max_execution_s: int = 3600
    alarms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in ("canary", "linear", "all_at_once"):
            raise DeploymentError(f"guardrail mode must be canary, linear or all_at_once, got {self.mode!r}")
        if not 1 <= self.step_percent <= 99:
            raise DeploymentError(f"guardrail step must be 1-99 percent of capacity, got {self.step_percent}")
        if self.wait_s < 0 or self.termination_wait_s < 0 or self.max_execution_s < 600:
            raise DeploymentError("guardrail waits must be >= 0 and the maximum execution time at least 600 s")

    def deployment_config(self) -> dict[str, Any]:
        """The DeploymentConfig structure for CreateEndpoint/UpdateEndpoint."""
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
                "MaximumExecutionTimeoutInSeconds": self.max_execution_s,
            }
        }
        if self.alarms:
            config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in self.alarms]}
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


@dataclass
class ShiftOutcome:
    """What a stepwise shift did: the steps taken, the stats behind each decision, and whether it reverted."""

    endpoint: str
    variant: str
    steps: list[dict[str, Any]]
    completed: bool
    reverted: bool
    reason: str
    original_weights: dict[str, float]
    final_weights: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _tags(mapping: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": str(v)} for k, v in mapping.items() if v not in (None, "")]


def _error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def _not_found(exc: Exception) -> bool:
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
    return _error_code(exc) in ("ValidationException", "ResourceNotFound") and "ould not find" in message


class EndpointManager:
    """A/B production variants of SageMaker endpoints through boto3 clients (AWS, moto, or the local endpoint)."""

    def __init__(
        self,
        sagemaker_client: Any,
        *,
        autoscaling_client: Any | None = None,
        cloudwatch_client: Any | None = None,
        poll_s: float = 15.0,
        timeout_s: float = 3600.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sm = sagemaker_client
        self.autoscaling = autoscaling_client
        self.cloudwatch = cloudwatch_client
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.clock = clock

    # ---- reading -------------------------------------------------------------------------------------------

    def describe(self, endpoint: str) -> dict[str, Any]:
        """DescribeEndpoint, with a clear error for an endpoint that does not exist."""
        check_name("endpoint", endpoint)
        try:
            return self.sm.describe_endpoint(EndpointName=endpoint)
        except Exception as exc:
            if _not_found(exc):
                raise DeploymentError(
                    f"endpoint {endpoint!r} does not exist", hint="deploy it first: `mlops endpoint deploy ENDPOINT`"
                ) from exc
            raise

    def find(self, endpoint: str) -> dict[str, Any] | None:
        """DescribeEndpoint, or None when the endpoint does not exist."""
        try:
            return self.describe(endpoint)
        except DeploymentError:
            return None

    def exists(self, endpoint: str) -> bool:
        """Whether the endpoint exists (in any status)."""
        return self.find(endpoint) is not None

    def current_weights(self, endpoint: str) -> dict[str, float]:
        """Each variant's current weight."""
        return {v["VariantName"]: float(v.get("CurrentWeight", 0.0)) for v in self.describe(endpoint)["ProductionVariants"]}

    def _config_tags(self, config: dict[str, Any]) -> dict[str, str]:
        return self._list_tags(config["EndpointConfigArn"])

    def _list_tags(self, arn: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.sm.list_tags(ResourceArn=arn).get("Tags", [])}

    def status(self, endpoint: str) -> dict[str, Any]:
        """Variants with weights, traffic shares, instance counts, SageMaker models and registry versions."""
        described = self.describe(endpoint)
        config = self.sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        by_name = {v["VariantName"]: v for v in config["ProductionVariants"]}
        weights = {v["VariantName"]: float(v.get("CurrentWeight", 0.0)) for v in described.get("ProductionVariants", [])}
        shares = traffic_shares(weights) if sum(weights.values()) > 0 else {n: 0.0 for n in weights}
        variants = []
        for live in described.get("ProductionVariants", []):
            name = live["VariantName"]
            spec = by_name.get(name, {})
            model_tags: dict[str, str] = {}
            if spec.get("ModelName"):
                model = self.sm.describe_model(ModelName=spec["ModelName"])
                model_tags = self._list_tags(model["ModelArn"])
            variants.append(
                {
                    "variant": name,
                    "current_weight": weights[name],
                    "desired_weight": float(live.get("DesiredWeight", weights[name])),
                    "traffic_share": round(shares.get(name, 0.0), 6),
                    "instance_type": spec.get("InstanceType"),
                    "current_instance_count": live.get("CurrentInstanceCount"),
                    "desired_instance_count": live.get("DesiredInstanceCount"),
                    "model_name": spec.get("ModelName"),
                    "registered_model": model_tags.get(TAG_REGISTERED_MODEL),
                    "model_version": model_tags.get(TAG_MODEL_VERSION),
                    "autoscaling": self._autoscaling_of(endpoint, name),
                }
            )
        tags = self._config_tags(config)
        return {
            "endpoint": endpoint,
            "status": described["EndpointStatus"],
            "failure_reason": described.get("FailureReason"),
            "endpoint_config": described["EndpointConfigName"],
            "previous_config": tags.get(TAG_PREVIOUS_CONFIG),
            "data_capture": bool(config.get("DataCaptureConfig", {}).get("EnableCapture")),
            "variants": variants,
        }

    # ---- deploying -----------------------------------------------------------------------------------------

    def deploy(
        self,
        endpoint: str,
        variants: Sequence[VariantDeployment],
        *,
        role_arn: str,
        data_capture: DataCapture | None = None,
        guardrails: Guardrails | None = None,
        autoscaling: Autoscaling | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Create the models and an endpoint config with these variants, then create or update the endpoint."""
        check_name("endpoint", endpoint)
        check_unique("variant", [v.name for v in variants])
        if not variants:
            raise DeploymentError("no variants to deploy", hint="e.g. --variant champion=champion --variant challenger=challenger")
        check_weights({v.name: v.weight for v in variants})
        existing = self.find(endpoint)
        if existing is not None and existing["EndpointStatus"] not in ("InService", "Failed"):
            raise DeploymentError(
                f"endpoint {endpoint!r} is {existing['EndpointStatus']}: it cannot be updated now",
                hint="wait until it is InService (`mlops endpoint status`)",
            )
        created: list[str] = []
        try:
            return self._deploy(endpoint, variants, existing, role_arn, created, data_capture, guardrails, autoscaling, wait)
        except Exception:
            # Refused before the endpoint took the new config: the models made for it would only be litter.
            if not self._endpoint_uses_any(endpoint, created):
                for name in created:
                    self._delete_model_quietly(name)
            raise

    def _endpoint_uses_any(self, endpoint: str, models: list[str]) -> bool:
        try:
            config = self.sm.describe_endpoint_config(EndpointConfigName=self.describe(endpoint)["EndpointConfigName"])
        except Exception:
            return False
        return any(v["ModelName"] in models for v in config["ProductionVariants"])

    def _delete_model_quietly(self, name: str) -> None:
        try:
            self.sm.delete_model(ModelName=name)
            log.info("deleted model %s, created for a deployment that failed", name)
        except Exception as exc:  # best effort: the original error is the one to report
            log.warning("could not delete model %s: %s", name, exc)

    def _deploy(
        self, endpoint: str, variants: Sequence[VariantDeployment], existing: dict[str, Any] | None, role_arn: str,
        created: list[str], data_capture: DataCapture | None, guardrails: Guardrails | None,
        autoscaling: Autoscaling | None, wait: bool,
    ) -> dict[str, Any]:
        models = {v.name: self._ensure_model(endpoint, v, role_arn, created) for v in variants}
        production_variants = [
            {
                "VariantName": v.name,
                "ModelName": models[v.name],
                "InitialInstanceCount": v.instance_count,
                "InstanceType": v.instance_type,
                "InitialVariantWeight": float(v.weight),
            }
            for v in variants
        ]
        previous = existing["EndpointConfigName"] if existing and existing["EndpointStatus"] == "InService" else None
        config_name = self._create_config(endpoint, production_variants, previous, data_capture=data_capture)
        if existing is not None and existing["EndpointStatus"] == "Failed":
            # SageMaker cannot update a Failed endpoint: it serves nothing, so replace it.
            self._delete_and_wait(endpoint)
            existing = None
        if existing is None:
            kwargs: dict[str, Any] = {"EndpointName": endpoint, "EndpointConfigName": config_name}
            if guardrails is not None:
                kwargs["DeploymentConfig"] = guardrails.deployment_config()  # applies to later updates
            self.sm.create_endpoint(**kwargs)
            log.info("creating endpoint %s with config %s", endpoint, config_name)
            if wait:
                self.wait(endpoint, config_name)
        else:
            self._update(endpoint, config_name, guardrails, wait=wait)
        if autoscaling is not None:
            for v in variants:
                self.configure_autoscaling(endpoint, v.name, autoscaling)
        return self.status(endpoint) if wait else {"endpoint": endpoint, "endpoint_config": config_name}

    def _delete_and_wait(self, endpoint: str) -> None:
        self.sm.delete_endpoint(EndpointName=endpoint)
        log.info("deleting failed endpoint %s", endpoint)
        deadline = self.clock() + self.timeout_s
        while self.exists(endpoint):
            if self.clock() > deadline:
                raise DeploymentError(f"endpoint {endpoint!r} still exists {self.timeout_s:.0f} s after DeleteEndpoint")
            self.sleep(self.poll_s)

    def _ensure_model(self, endpoint: str, variant: VariantDeployment, role_arn: str, created: list[str]) -> str:
        """The SageMaker Model for a variant, created unless the same image+data+env already has one."""
        identity = "\n".join([variant.image_uri, variant.model_data_url, *sorted(f"{k}={v}" for k, v in variant.environment.items())])
        digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
        name = f"{endpoint[: NAME_LIMIT - len(variant.name) - 12]}-{variant.name}"[: NAME_LIMIT - 11].rstrip("-") + f"-{digest}"
        try:
            self.sm.describe_model(ModelName=name)
            log.info("reusing model %s", name)
            return name
        except Exception as exc:
            if not _not_found(exc):
                raise
        container: dict[str, Any] = {"Image": variant.image_uri, "ModelDataUrl": variant.model_data_url}
        if variant.environment:
            container["Environment"] = dict(variant.environment)
        self.sm.create_model(
            ModelName=name,
            PrimaryContainer=container,
            ExecutionRoleArn=role_arn,
            Tags=_tags({TAG_REGISTERED_MODEL: variant.registered_model, TAG_MODEL_VERSION: variant.model_version}),
        )
        created.append(name)
        log.info("created model %s from %s", name, variant.model_data_url)
        return name

    def _create_config(
        self,
        endpoint: str,
        production_variants: list[dict[str, Any]],
        previous: str | None,
        *,
        data_capture: DataCapture | None = None,
        data_capture_config: dict[str, Any] | None = None,
        extra_tags: Mapping[str, str] | None = None,
    ) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")[:17]
        name = f"{endpoint[: NAME_LIMIT - len(stamp) - 1]}-{stamp}"
        kwargs: dict[str, Any] = {
            "EndpointConfigName": name,
            "ProductionVariants": production_variants,
            "Tags": _tags({TAG_PREVIOUS_CONFIG: previous or "", **(extra_tags or {})}),
        }
        if data_capture is not None:
            kwargs["DataCaptureConfig"] = data_capture.config()
        elif data_capture_config:
            kwargs["DataCaptureConfig"] = data_capture_config
        self.sm.create_endpoint_config(**kwargs)
        log.info("created endpoint config %s (%s)", name, ", ".join(v["VariantName"] for v in production_variants))
        return name

    def _update(self, endpoint: str, config_name: str, guardrails: Guardrails | None, *, wait: bool) -> None:
        """UpdateEndpoint (and wait), with autoscaling deregistered around it: AWS refuses updates of scaled variants.

        Autoscaling is registered again, for the variants that remain, once the update has finished; so an
        endpoint with autoscaling is only updated when the caller waits.
        """
        saved = self._suspend_autoscaling(endpoint, refuse=not wait)
        kwargs: dict[str, Any] = {"EndpointName": endpoint, "EndpointConfigName": config_name}
        if guardrails is not None:
            kwargs["DeploymentConfig"] = guardrails.deployment_config()
        try:
            self.sm.update_endpoint(**kwargs)
        except Exception:
            self._restore_autoscaling(endpoint, saved, keep=None)
            raise
        log.info("updating endpoint %s to config %s", endpoint, config_name)
        if not wait:
            return
        try:
            self.wait(endpoint, config_name)
        finally:
            # Still updating (the wait timed out): AWS would refuse the registration; the update goes on.
            if saved and self.describe(endpoint)["EndpointStatus"] != "Updating":
                self._restore_autoscaling(endpoint, saved, keep=set(self.current_weights(endpoint)))

    def wait(self, endpoint: str, config_name: str | None = None) -> dict[str, Any]:
        """Poll until InService on config_name; DeploymentError if it fails, or if an update was rolled back."""
        deadline = self.clock() + self.timeout_s
        while True:
            described = self.describe(endpoint)
            status = described["EndpointStatus"]
            if status == "InService":
                if config_name and described["EndpointConfigName"] != config_name:
                    raise DeploymentError(
                        f"the update of {endpoint!r} to {config_name} failed and was rolled back: "
                        f"{described.get('FailureReason') or 'no reason given'}; it still serves "
                        f"{described['EndpointConfigName']}",
                        hint="fix the cause (model package, image, instance quota) and deploy again",
                    )
                return described
            if status in ("Failed", "OutOfService"):
                raise DeploymentError(
                    f"endpoint {endpoint!r} is {status}: {described.get('FailureReason') or 'no reason given'}",
                    hint="see the endpoint's CloudWatch logs (/aws/sagemaker/Endpoints/...) or the local endpoint's log",
                )
            if self.clock() > deadline:
                raise DeploymentError(
                    f"endpoint {endpoint!r} still {status} after {self.timeout_s:.0f} s",
                    hint="check it with `mlops endpoint status`; the update goes on in the background",
                )
            self.sleep(self.poll_s)

    # ---- traffic -------------------------------------------------------------------------------------------

    def shift(self, endpoint: str, weights: Mapping[str, float], *, wait: bool = True) -> dict[str, float]:
        """Set variant weights in place (UpdateEndpointWeightsAndCapacities); return the weights now in effect."""
        described = self.describe(endpoint)
        known = [v["VariantName"] for v in described["ProductionVariants"]]
        weights = check_weights(weights, known)
        current = {v["VariantName"]: float(v.get("CurrentWeight", 0.0)) for v in described["ProductionVariants"]}
        check_weights({**current, **weights})  # the variants left out keep their weight; the total must still be positive
        self.sm.update_endpoint_weights_and_capacities(
            EndpointName=endpoint,
            DesiredWeightsAndCapacities=[{"VariantName": n, "DesiredWeight": float(w)} for n, w in weights.items()],
        )
        log.info("shifted %s to %s", endpoint, weights)
        if wait:
            self.wait(endpoint)
        return self.current_weights(endpoint)

    def shift_schedule(
        self,
        endpoint: str,
        variant: str,
        steps: Sequence[float],
        *,
        bake_s: float,
        guard: Guard,
        metrics: MetricsSource,
        on_step: Callable[[dict[str, Any]], None] | None = None,
    ) -> ShiftOutcome:
        """Give `variant` each step's percentage in turn, baking between; revert all weights on a guard violation."""
        if bake_s < 0:
            raise DeploymentError(f"bake time must be >= 0 s, got {bake_s}")
        original = self.current_weights(endpoint)
        weights_for_share(original, variant, steps[0])  # unknown variant: fail before touching anything
        taken: list[dict[str, Any]] = []
        for percent in steps:
            target = weights_for_share(self.current_weights(endpoint), variant, percent)
            self.shift(endpoint, target)
            start = self.clock()  # the step is judged on traffic served at its weights, after the update finished
            self.sleep(bake_s)
            stats = metrics.variant_stats(endpoint, list(target), start, self.clock())
            violations = [v for s in stats.values() for v in s.violations(guard)]
            record = {"percent": percent, "weights": target, "stats": {n: s.to_dict() for n, s in stats.items()},
                      "violations": violations}
            taken.append(record)
            if on_step is not None:
                on_step(record)
            if violations:
                self.shift(endpoint, original)
                reason = f"reverted at {percent:g}%: " + "; ".join(violations)
                log.warning("%s: %s", endpoint, reason)
                return ShiftOutcome(endpoint, variant, taken, False, True, reason, original, self.current_weights(endpoint))
        final = self.current_weights(endpoint)
        return ShiftOutcome(endpoint, variant, taken, True, False, f"{variant} at {steps[-1]:g}% with no guard violation",
                            original, final)

    def variant_stats(self, endpoint: str, metrics: MetricsSource, since: float) -> dict[str, VariantStats]:
        """Per-variant statistics since an epoch time."""
        return metrics.variant_stats(endpoint, list(self.current_weights(endpoint)), since, self.clock())

    # ---- promotion and rollback ----------------------------------------------------------------------------

    def winner_model(self, endpoint: str, winner: str) -> dict[str, str]:
        """The registry name and version behind a variant (from its SageMaker Model's tags)."""
        for variant in self.status(endpoint)["variants"]:
            if variant["variant"] == winner:
                return {"registered_model": variant["registered_model"] or "", "model_version": variant["model_version"] or ""}
        raise DeploymentError(
            f"no variant named {winner!r} on endpoint {endpoint!r}",
            hint=f"its variants are: {', '.join(self.current_weights(endpoint))}",
        )

    def promote(self, endpoint: str, winner: str, *, guardrails: Guardrails | None = None, wait: bool = True) -> dict[str, Any]:
        """Serve only `winner` (all traffic, same model and instances); the other variants leave the endpoint."""
        described = self.describe(endpoint)
        if described["EndpointStatus"] != "InService":
            raise DeploymentError(f"endpoint {endpoint!r} is {described['EndpointStatus']}, not InService")
        model = self.winner_model(endpoint, winner)
        config = self.sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        spec = next(v for v in config["ProductionVariants"] if v["VariantName"] == winner)
        live = next(v for v in described["ProductionVariants"] if v["VariantName"] == winner)
        variant = {
            "VariantName": winner,
            "ModelName": spec["ModelName"],
            "InitialInstanceCount": int(live.get("CurrentInstanceCount") or spec.get("InitialInstanceCount", 1)),
            "InstanceType": spec["InstanceType"],
            "InitialVariantWeight": 1.0,
        }
        removed = [v["VariantName"] for v in described["ProductionVariants"] if v["VariantName"] != winner]
        new_config = self._create_config(
            endpoint, [variant], described["EndpointConfigName"],
            data_capture_config=config.get("DataCaptureConfig"),
            extra_tags={TAG_PROMOTED_VERSION: model["model_version"], TAG_PROMOTED_MODEL: model["registered_model"]},
        )
        self._update(endpoint, new_config, guardrails, wait=wait)
        log.info("promoted %s on %s; removed %s", winner, endpoint, ", ".join(removed) or "nothing")
        return {"endpoint": endpoint, "winner": winner, "removed": removed, **model,
                "previous_config": described["EndpointConfigName"], "endpoint_config": new_config}

    def rollback_target(self, endpoint: str) -> dict[str, Any]:
        """The config a rollback would restore, and the registry version the current config promoted (if any)."""
        described = self.describe(endpoint)
        current = self.sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        tags = self._config_tags(current)
        previous = tags.get(TAG_PREVIOUS_CONFIG)
        if not previous:
            raise DeploymentError(
                f"endpoint {endpoint!r} has no previous config to roll back to ({described['EndpointConfigName']} is the first)",
                hint="deploy the variants you want with `mlops endpoint deploy`",
            )
        try:
            self.sm.describe_endpoint_config(EndpointConfigName=previous)
        except Exception as exc:
            if _not_found(exc):
                raise DeploymentError(f"the previous config {previous} of {endpoint!r} was deleted: cannot roll back") from exc
            raise
        return {"endpoint": endpoint, "from_config": described["EndpointConfigName"], "to_config": previous,
                "promoted_version": tags.get(TAG_PROMOTED_VERSION), "promoted_model": tags.get(TAG_PROMOTED_MODEL)}

    def rollback(self, endpoint: str, *, wait: bool = True) -> dict[str, Any]:
        """Put the endpoint back on the config the current one replaced."""
        target = self.rollback_target(endpoint)
        self._update(endpoint, target["to_config"], None, wait=wait)
        log.info("rolled %s back from %s to %s", endpoint, target["from_config"], target["to_config"])
        return target

    # ---- autoscaling ---------------------------------------------------------------------------------------

    def _require_autoscaling(self) -> Any:
        if self.autoscaling is None:
            raise DeploymentError("autoscaling needs the Application Auto Scaling API, which this target lacks",
                                hint="autoscaling applies to SageMaker endpoints on AWS, not to the local endpoint")
        return self.autoscaling

    def configure_autoscaling(self, endpoint: str, variant: str, policy: Autoscaling) -> dict[str, Any]:
        """Register the variant as a scalable target with a target-tracking policy on invocations per instance."""
        client = self._require_autoscaling()
        resource = f"endpoint/{endpoint}/variant/{variant}"
        client.register_scalable_target(
            ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=SCALABLE_DIMENSION,
            MinCapacity=policy.min_instances, MaxCapacity=policy.max_instances,
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
        log.info("autoscaling %s: %d-%d instances, target %.0f invocations/instance", resource,
                 policy.min_instances, policy.max_instances, policy.target_invocations_per_instance)
        return {"resource_id": resource, **asdict(policy)}

    def _autoscaling_of(self, endpoint: str, variant: str) -> dict[str, Any] | None:
        if self.autoscaling is None:
            return None
        resource = f"endpoint/{endpoint}/variant/{variant}"
        targets = self.autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])
        if not targets.get("ScalableTargets"):
            return None
        target = targets["ScalableTargets"][0]
        policies = self.autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)
        tracking = [p["TargetTrackingScalingPolicyConfiguration"] for p in policies.get("ScalingPolicies", [])
                    if p.get("PolicyType") == "TargetTrackingScaling"]
        return {"min_instances": target["MinCapacity"], "max_instances": target["MaxCapacity"],
                "target_invocations_per_instance": tracking[0]["TargetValue"] if tracking else None}

    def _suspend_autoscaling(self, endpoint: str, *, refuse: bool = False) -> list[tuple[str, Autoscaling]]:
        """Deregister every variant's scalable target; return what to register again after the update.

        With `refuse`, an autoscaled endpoint is an error instead (nothing would register it again).
        """
        if self.autoscaling is None:
            return []
        saved = []
        for variant in self.current_weights(endpoint):
            current = self._autoscaling_of(endpoint, variant)
            if current is not None:
                saved.append((variant, Autoscaling(
                    int(current["min_instances"]), int(current["max_instances"]),
                    float(current["target_invocations_per_instance"] or Autoscaling.target_invocations_per_instance),
                )))
        if saved and refuse:
            raise DeploymentError(
                f"endpoint {endpoint!r} has autoscaled variants ({', '.join(v for v, _ in saved)}): their autoscaling "
                "is lifted for the update and registered again when it has finished, so this update must wait",
                hint="drop --no-wait",
            )
        for variant, _ in saved:
            self.autoscaling.deregister_scalable_target(
                ServiceNamespace="sagemaker", ResourceId=f"endpoint/{endpoint}/variant/{variant}",
                ScalableDimension=SCALABLE_DIMENSION,
            )
        return saved

    def _restore_autoscaling(self, endpoint: str, saved: list[tuple[str, Autoscaling]], keep: set[str] | None) -> None:
        for variant, policy in saved:
            if keep is None or variant in keep:
                self.configure_autoscaling(endpoint, variant, policy)

    # ---- guardrail alarms ----------------------------------------------------------------------------------

    def create_alarms(self, endpoint: str, variants: Sequence[str], guard: Guard) -> list[str]:
        """CloudWatch alarms per variant (5XX errors, p95 model latency) for blue/green auto-rollback."""
        if self.cloudwatch is None:
            raise DeploymentError("guardrail alarms need CloudWatch, which this target lacks",
                                hint="guardrails apply to SageMaker endpoints on AWS")
        names = []
        for variant in variants:
            dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
            common = {"Namespace": "AWS/SageMaker", "Dimensions": dimensions, "Period": 60, "EvaluationPeriods": 1,
                      "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching"}
            errors = f"{endpoint}-{variant}-5xx"
            self.cloudwatch.put_metric_alarm(AlarmName=errors, MetricName="Invocation5XXErrors", Statistic="Sum",
                                             Threshold=0.0, **common)
            latency = f"{endpoint}-{variant}-p95"
            self.cloudwatch.put_metric_alarm(AlarmName=latency, MetricName="ModelLatency", ExtendedStatistic="p95",
                                             Threshold=guard.max_p95_ms * 1000.0, **common)
            names += [errors, latency]
        return names
