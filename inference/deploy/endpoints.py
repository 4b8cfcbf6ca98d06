"""Production variants on a SageMaker real-time endpoint, with boto3: deploy, shift, promote, roll back, status.

This talks to the SageMaker API through boto3 clients, so the same code drives AWS, a moto server (tests) and the
local A/B endpoint (`inference.local`), which implements the control-plane operations used here.

Bookkeeping lives in SageMaker tags, so any machine (a CI job, a laptop) sees the same history:

- every endpoint config this module creates carries `mlops:previous-config` (the config it replaced), and
  `mlops:promoted-version` when it was made by a promotion; rollback walks that chain;
- every SageMaker Model carries the registry name and version it was built from (`mlops:registered-model`,
  `mlops:model-version`), which `status` reports per variant;
- the endpoint itself carries its change history (`inference.deploy.history`): one record per deploy, config
  update, weight shift (each step of a stepwise shift, and its revert), promotion and rollback, with the state
  before it. `rollback` undoes the newest change not yet undone, whatever it was; an endpoint made before the
  history existed rolls back along `mlops:previous-config`.

A promotion serves the winner alone as the variant `champion` (PROMOTED_VARIANT), whatever it was called in the A/B
test, so that a variant's name says what it serves.

Endpoint updates (deploy over an existing endpoint, promote, rollback) lift the variants' autoscaling first and
register it again afterwards, as AWS requires for endpoints with autoscaling (`inference.deploy.scaling`).
Autoscaling is registered only once the endpoint is InService, so it needs a deployment that waits.

Guardrails (blue/green traffic shifting with auto-rollback alarms) apply to the one update they are given with.
Every other update is sent with `RetainDeploymentConfig` false (AWS's default, stated so the request says it): a
policy from an earlier command is never reused, because a canary or linear policy cannot carry an update that
changes the variant names (promote, the rollback of a promotion), its alarms name the variants of its own time, and
what each command does should be what its options say. A new endpoint has no old fleet to shift traffic from, so
guardrails given to a deployment that creates one are not sent (a warning says so); give them again with the
update they should guard.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from inference.deploy.history import (
    CONFIG_CHANGES,
    DEPLOY,
    PROMOTE,
    REVERT,
    ROLLBACK,
    SHIFT,
    UNDOING,
    Change,
    ChangeLog,
    change_key,
    undo_target,
)
from inference.deploy.plan import (
    Autoscaling,
    DataCapture,
    Guardrails,
    VariantDeployment,
    check_autoscaling_waits,
)
from inference.deploy.scaling import Scaling
from inference.variants import DeploymentError, check_name, check_unique, check_weights, traffic_shares
from ml.actor import resolve_actor
from ml.progress import Progress, ProgressCallback, report

log = logging.getLogger(__name__)

TAG_PREVIOUS_CONFIG = "mlops:previous-config"
TAG_PROMOTED_VERSION = "mlops:promoted-version"
TAG_PROMOTED_MODEL = "mlops:promoted-model"
TAG_REGISTERED_MODEL = "mlops:registered-model"
TAG_MODEL_VERSION = "mlops:model-version"
PROMOTED_VARIANT = "champion"
NAME_LIMIT = 63


def _tags(mapping: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": str(v)} for k, v in mapping.items() if v not in (None, "")]


def _error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def _not_found(exc: Exception) -> bool:
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
    return _error_code(exc) in ("ValidationException", "ResourceNotFound") and "ould not find" in message


def _weights_of(described: Mapping[str, Any]) -> dict[str, float]:
    return {v["VariantName"]: float(v.get("CurrentWeight", 0.0)) for v in described.get("ProductionVariants", [])}


def _same_weights(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    # History records keep 10 significant digits of each weight.
    return set(a) == set(b) and all(abs(a[n] - b[n]) <= 1e-6 * max(1.0, abs(b[n])) for n in a)


def _weights_text(weights: Mapping[str, float]) -> str:
    return ",".join(f"{n}={w:g}" for n, w in weights.items())


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
        actor: str | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.sm = sagemaker_client
        self.changes = ChangeLog(sagemaker_client)
        self.actor = actor
        self.scaling = Scaling(autoscaling_client, cloudwatch_client)
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.clock = clock
        self.on_progress = on_progress  # each poll of a wait for the endpoint reports its status here

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
        return {
            v["VariantName"]: float(v.get("CurrentWeight", 0.0)) for v in self.describe(endpoint)["ProductionVariants"]
        }

    def _config_tags(self, config: dict[str, Any]) -> dict[str, str]:
        return self._list_tags(config["EndpointConfigArn"])

    def _list_tags(self, arn: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.sm.list_tags(ResourceArn=arn).get("Tags", [])}

    def status(self, endpoint: str) -> dict[str, Any]:
        """Variants with weights, traffic shares, instance counts, SageMaker models and registry versions."""
        described = self.describe(endpoint)
        config = self.sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        by_name = {v["VariantName"]: v for v in config["ProductionVariants"]}
        weights = {
            v["VariantName"]: float(v.get("CurrentWeight", 0.0)) for v in described.get("ProductionVariants", [])
        }
        shares = traffic_shares(weights) if sum(weights.values()) > 0 else dict.fromkeys(weights, 0.0)
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
                    "autoscaling": self.scaling.of(endpoint, name),
                }
            )
        tags = self._config_tags(config)
        capture = config.get("DataCaptureConfig") or {}
        return {
            "endpoint": endpoint,
            "status": described["EndpointStatus"],
            "failure_reason": described.get("FailureReason"),
            "endpoint_config": described["EndpointConfigName"],
            "previous_config": tags.get(TAG_PREVIOUS_CONFIG),
            # SageMaker's EnableCapture defaults to true.
            "data_capture": bool(capture.get("EnableCapture", bool(capture))),
            "data_capture_destination": capture.get("DestinationS3Uri"),
            "data_capture_percent": capture.get("InitialSamplingPercentage"),
            "variants": variants,
        }

    # ---- history -------------------------------------------------------------------------------------------

    def history(self, endpoint: str) -> list[dict[str, Any]]:
        """The endpoint's recorded changes, newest first, each with the rollback or revert that undid it (if any)."""
        changes = self.changes.read(self.describe(endpoint)["EndpointArn"])
        undone_by = {seq: c.seq for c in changes if c.kind in UNDOING for seq in c.undoes}
        return [{**c.to_dict(), "undone_by": undone_by.get(c.seq)} for c in reversed(changes)]

    def history_mark(self, endpoint: str) -> int:
        """The number of the endpoint's newest change record (0: none); a stepwise shift reverts what follows it."""
        changes = self.changes.read(self.describe(endpoint)["EndpointArn"])
        return changes[-1].seq if changes else 0

    def _change(self, kind: str, described: Mapping[str, Any] | None, **fields: Any) -> Change:
        """The record of a change about to be made to the endpoint as `described` (None: it does not exist yet)."""
        return Change(
            kind=kind,
            at=int(self.clock()),
            by=resolve_actor(self.actor),
            config=described["EndpointConfigName"] if described else None,
            weights=_weights_of(described) if described else {},
            **fields,
        )

    def _record(self, arn: str, change: Change, value: str) -> None:
        """Append a change (encoded, and so checked, before it was made) to the endpoint's history."""
        try:
            seq = self.changes.append(arn, value)
        except Exception as exc:  # noqa: BLE001 - the change is made: a lost record must not report it as failed
            log.error(
                "%s of %s done, but not recorded in its history (%s: %s): `mlops endpoint rollback` will refuse "
                "to undo what the history does not match",
                change.kind,
                arn,
                type(exc).__name__,
                exc,
            )
            return
        log.info("recorded %s as change #%d of %s", change.kind, seq, arn)

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
        keep_capture: bool = True,
    ) -> dict[str, Any]:
        """Create the models and an endpoint config with these variants, then create or update the endpoint.

        Without `data_capture`, an update keeps the endpoint's data capture, unless `keep_capture` is False.
        """
        check_name("endpoint", endpoint)
        check_unique("variant", [v.name for v in variants])
        if not variants:
            raise DeploymentError(
                "no variants to deploy", hint="e.g. --variant champion=champion --variant challenger=challenger"
            )
        check_weights({v.name: v.weight for v in variants})
        check_autoscaling_waits(autoscaling, wait)
        existing = self.find(endpoint)
        if existing is not None and existing["EndpointStatus"] not in ("InService", "Failed"):
            raise DeploymentError(
                f"endpoint {endpoint!r} is {existing['EndpointStatus']}: it cannot be updated now",
                hint="wait until it is InService (`mlops endpoint status`)",
            )
        if guardrails is not None and existing is not None and existing["EndpointStatus"] == "InService":
            check_guardrail_variants(
                endpoint,
                existing,
                [v.name for v in variants],
                hint="deploy these variants without --guardrails, or keep the endpoint's variant names",
            )
        elif guardrails is not None:
            log.warning(
                "guardrails guard an update of a live endpoint; %s is created anew (nothing to shift traffic from), "
                "so they are not sent: give them again when you deploy over it",
                endpoint,
            )
            guardrails = None
        created: list[str] = []
        try:
            return self._deploy(
                endpoint,
                variants,
                existing,
                role_arn,
                created,
                data_capture,
                guardrails,
                autoscaling,
                wait,
                keep_capture,
            )
        except Exception:
            # Refused before the endpoint took the new config: the models made for it would only be litter.
            if not self._endpoint_uses_any(endpoint, created):
                for name in created:
                    self._delete_model_quietly(name)
            raise

    def _endpoint_uses_any(self, endpoint: str, models: list[str]) -> bool:
        try:
            config = self.sm.describe_endpoint_config(EndpointConfigName=self.describe(endpoint)["EndpointConfigName"])
        except Exception:  # noqa: BLE001 - any doubt means: keep the models
            return False
        return any(v["ModelName"] in models for v in config["ProductionVariants"])

    def _delete_model_quietly(self, name: str) -> None:
        try:
            self.sm.delete_model(ModelName=name)
            log.info("deleted model %s, created for a deployment that failed", name)
        except Exception as exc:  # noqa: BLE001 - best effort: the original error is the one to report
            log.warning("could not delete model %s: %s", name, exc)

    def _deploy(
        self,
        endpoint: str,
        variants: Sequence[VariantDeployment],
        existing: dict[str, Any] | None,
        role_arn: str,
        created: list[str],
        data_capture: DataCapture | None,
        guardrails: Guardrails | None,
        autoscaling: Autoscaling | None,
        wait: bool,
        keep_capture: bool = True,
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
        # A redeploy without a capture option keeps the endpoint's capture: turning it off is never a side effect.
        kept_capture = None
        if data_capture is None and previous is not None and keep_capture:
            kept_capture = self.sm.describe_endpoint_config(EndpointConfigName=previous).get("DataCaptureConfig")
        config_name = self._create_config(
            endpoint, production_variants, previous, data_capture=data_capture, data_capture_config=kept_capture
        )
        if existing is not None and existing["EndpointStatus"] == "Failed":
            # SageMaker cannot update a Failed endpoint: it serves nothing, so replace it.
            self._delete_and_wait(endpoint)
            existing = None
        weights = {v.name: float(v.weight) for v in variants}
        if existing is None:
            # The creation is the first record of the history, and the bottom of what a rollback can undo.
            record = self._change(DEPLOY, None, to_config=config_name, to_weights=weights).encode()
            self.sm.create_endpoint(
                EndpointName=endpoint,
                EndpointConfigName=config_name,
                Tags=[{"Key": change_key(1), "Value": record}],
            )
            log.info("creating endpoint %s with config %s", endpoint, config_name)
            if wait:
                self.wait(endpoint, config_name)
        else:
            change = self._change(DEPLOY, existing, to_config=config_name, to_weights=weights)
            value = change.encode()
            self._update(endpoint, config_name, guardrails, [v.name for v in variants], wait=wait)
            self._record(existing["EndpointArn"], change, value)
        if autoscaling is not None:
            for v in variants:
                self.scaling.configure(endpoint, v.name, autoscaling)
        return self.status(endpoint) if wait else {"endpoint": endpoint, "endpoint_config": config_name}

    def _delete_and_wait(self, endpoint: str) -> None:
        self.sm.delete_endpoint(EndpointName=endpoint)
        log.info("deleting failed endpoint %s", endpoint)
        deadline = self.clock() + self.timeout_s
        while self.exists(endpoint):
            report(self.on_progress, Progress(f"endpoint {endpoint}", "Deleting"))
            if self.clock() > deadline:
                raise DeploymentError(f"endpoint {endpoint!r} still exists {self.timeout_s:.0f} s after DeleteEndpoint")
            self.sleep(self.poll_s)
        report(self.on_progress, Progress(f"endpoint {endpoint}", "deleted", done=True))

    def ensure_model(self, endpoint: str, variant: VariantDeployment, role_arn: str) -> tuple[str, bool]:
        """The SageMaker Model for a variant (a shadow variant, say): its name, and whether it was created now."""
        created: list[str] = []
        return self._ensure_model(endpoint, variant, role_arn, created), bool(created)

    def delete_model_quietly(self, name: str) -> None:
        """Delete a model made for a change that failed (a failure to delete is logged, not raised)."""
        self._delete_model_quietly(name)

    def _ensure_model(self, endpoint: str, variant: VariantDeployment, role_arn: str, created: list[str]) -> str:
        """The SageMaker Model for a variant, created unless the same image+data+env already has one."""
        identity = "\n".join(
            [variant.image_uri, variant.model_data_url, *sorted(f"{k}={v}" for k, v in variant.environment.items())]
        )
        digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
        name = (
            f"{endpoint[: NAME_LIMIT - len(variant.name) - 12]}-{variant.name}"[: NAME_LIMIT - 11].rstrip("-")
            + f"-{digest}"
        )
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
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
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

    def _deployment_config(self, endpoint: str, variants: Sequence[str], guardrails: Guardrails) -> dict[str, Any]:
        """The DeploymentConfig of an update, with the guardrail alarms it asks for (created only now, once the
        update has passed every check, so that a refused update leaves no alarms behind)."""
        alarms = (
            self.scaling.create_alarms(endpoint, variants, guardrails.alarm_p95_ms)
            if guardrails.alarm_p95_ms is not None
            else []
        )
        return guardrails.deployment_config(alarms)

    def _update(
        self,
        endpoint: str,
        config_name: str,
        guardrails: Guardrails | None,
        variants: Sequence[str] = (),
        *,
        wait: bool,
        renames: Mapping[str, str] | None = None,
    ) -> None:
        """UpdateEndpoint (and wait), with autoscaling lifted around it: AWS refuses updates of scaled variants.

        Autoscaling is registered again, for the variants that remain (under their new names, `renames`), once the
        update has finished; so an endpoint with autoscaling is only updated when the caller waits.
        """
        saved = self.scaling.suspend(endpoint, self.current_weights(endpoint), refuse=not wait)
        if renames:
            saved = [(renames.get(variant, variant), policy) for variant, policy in saved]
        # Without guardrails, no earlier deployment config is reused (the module docstring says why).
        kwargs: dict[str, Any] = {"EndpointName": endpoint, "EndpointConfigName": config_name}
        try:
            if guardrails is not None:
                kwargs["DeploymentConfig"] = self._deployment_config(endpoint, variants, guardrails)
            else:
                kwargs["RetainDeploymentConfig"] = False
            self.sm.update_endpoint(**kwargs)
        except Exception:
            self.scaling.restore(endpoint, saved, keep=None)
            raise
        log.info("updating endpoint %s to config %s", endpoint, config_name)
        if not wait:
            return
        try:
            # A guarded update may run for its whole maximum execution time: wait that long for it.
            self.wait(endpoint, config_name, timeout_s=guardrails.execution_timeout_s if guardrails else None)
        finally:
            # Still updating (the wait timed out): AWS would refuse the registration; the update goes on.
            if saved and self.describe(endpoint)["EndpointStatus"] != "Updating":
                self.scaling.restore(endpoint, saved, keep=set(self.current_weights(endpoint)))

    def wait(self, endpoint: str, config_name: str | None = None, *, timeout_s: float | None = None) -> dict[str, Any]:
        """Poll until InService on config_name; DeploymentError if it fails, or if an update was rolled back.

        It waits `timeout_s`, or the manager's timeout if that is longer (or none is given).
        """
        timeout_s = max(self.timeout_s, timeout_s or 0.0)
        deadline = self.clock() + timeout_s
        first = True
        while True:
            described = self.describe(endpoint)
            status = described["EndpointStatus"]
            late = self.clock() > deadline
            self._report_wait(endpoint, described, first=first, gave_up=late)
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
                    hint="see the endpoint's CloudWatch logs (/aws/sagemaker/Endpoints/...) or the local endpoint's",
                )
            if late:
                raise DeploymentError(
                    f"endpoint {endpoint!r} still {status} after {timeout_s:.0f} s",
                    hint="check it with `mlops endpoint status`; the update goes on in the background",
                )
            first = False
            self.sleep(self.poll_s)

    def _report_wait(self, endpoint: str, described: Mapping[str, Any], *, first: bool, gave_up: bool) -> None:
        """Report a poll of `wait`; a wait that ends at its first look waited for nothing and reports nothing."""
        status = described["EndpointStatus"]
        done = status in ("InService", "Failed", "OutOfService") or gave_up
        if first and done:
            return
        figures = [f"config {described['EndpointConfigName']}"]
        if described.get("FailureReason"):
            figures.append(str(described["FailureReason"]))
        report(self.on_progress, Progress(f"endpoint {endpoint}", status, detail="; ".join(figures), done=done))

    # ---- traffic -------------------------------------------------------------------------------------------

    def shift(
        self, endpoint: str, weights: Mapping[str, float], *, wait: bool = True, reverts_since: int | None = None
    ) -> dict[str, float]:
        """Set variant weights in place (UpdateEndpointWeightsAndCapacities); return the weights now in effect.

        Recorded in the endpoint's history as a shift, or, with `reverts_since` (a `history_mark`), as the revert
        of every shift recorded after that mark (a stepwise shift putting its starting weights back).
        """
        described = self.describe(endpoint)
        known = [v["VariantName"] for v in described["ProductionVariants"]]
        weights = check_weights(weights, known)
        current = _weights_of(described)
        # The variants left out keep their weight; the total must still be positive.
        after = check_weights({**current, **weights})
        if reverts_since is None:
            change = self._change(SHIFT, described, to_weights=after)
        else:
            changes = self.changes.read(described["EndpointArn"])
            undone = {seq for c in changes if c.kind in UNDOING for seq in c.undoes}
            undoes = tuple(c.seq for c in changes if c.seq > reverts_since and c.kind == SHIFT and c.seq not in undone)
            config = described["EndpointConfigName"]
            change = self._change(REVERT, described, to_config=config, to_weights=after, undoes=undoes)
        value = change.encode()  # a record too long for a tag is refused before any weight changes
        self._set_weights(endpoint, weights)
        self._record(described["EndpointArn"], change, value)
        log.info("shifted %s to %s", endpoint, weights)
        if wait:
            self.wait(endpoint)
        return self.current_weights(endpoint)

    def _set_weights(self, endpoint: str, weights: Mapping[str, float]) -> None:
        self.sm.update_endpoint_weights_and_capacities(
            EndpointName=endpoint,
            DesiredWeightsAndCapacities=[{"VariantName": n, "DesiredWeight": float(w)} for n, w in weights.items()],
        )

    # ---- promotion and rollback ----------------------------------------------------------------------------

    def winner_model(self, endpoint: str, winner: str) -> dict[str, str]:
        """The registry name and version behind a variant (from its SageMaker Model's tags)."""
        for variant in self.status(endpoint)["variants"]:
            if variant["variant"] == winner:
                return {
                    "registered_model": variant["registered_model"] or "",
                    "model_version": variant["model_version"] or "",
                }
        raise DeploymentError(
            f"no variant named {winner!r} on endpoint {endpoint!r}",
            hint=f"its variants are: {', '.join(self.current_weights(endpoint))}",
        )

    def promote(
        self,
        endpoint: str,
        winner: str,
        *,
        guardrails: Guardrails | None = None,
        wait: bool = True,
        forced: bool = False,
    ) -> dict[str, Any]:
        """Serve only `winner` (all traffic, same model and instances) as the variant `champion`; the other variants
        leave the endpoint.

        Guardrails (blue/green) need the variant names kept, so they guard only the promotion of an endpoint that
        already serves `champion` alone; any other promotion is a plain update, refused with them.
        """
        described = self.describe(endpoint)
        if described["EndpointStatus"] != "InService":
            raise DeploymentError(f"endpoint {endpoint!r} is {described['EndpointStatus']}, not InService")
        model = self.winner_model(endpoint, winner)
        if guardrails is not None:
            several = len(described["ProductionVariants"]) > 1
            check_guardrail_variants(
                endpoint,
                described,
                [PROMOTED_VARIANT],
                hint=f"shift the traffic stepwise instead (`mlops endpoint shift {endpoint} --variant {winner} "
                "--schedule 10,25,50,100`, reverted when a guard is crossed), then promote without --guardrails"
                if several
                else f"promote without --guardrails: the plain update renames {winner} to {PROMOTED_VARIANT}",
            )
        config = self.sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        spec = next(v for v in config["ProductionVariants"] if v["VariantName"] == winner)
        live = next(v for v in described["ProductionVariants"] if v["VariantName"] == winner)
        variant = {
            "VariantName": PROMOTED_VARIANT,
            "ModelName": spec["ModelName"],
            "InitialInstanceCount": int(live.get("CurrentInstanceCount") or spec.get("InitialInstanceCount", 1)),
            "InstanceType": spec["InstanceType"],
            "InitialVariantWeight": 1.0,
        }
        removed = [v["VariantName"] for v in described["ProductionVariants"] if v["VariantName"] != winner]
        new_config = self._create_config(
            endpoint,
            [variant],
            described["EndpointConfigName"],
            data_capture_config=config.get("DataCaptureConfig"),
            extra_tags={TAG_PROMOTED_VERSION: model["model_version"], TAG_PROMOTED_MODEL: model["registered_model"]},
        )
        change = self._change(
            PROMOTE,
            described,
            to_config=new_config,
            to_weights={PROMOTED_VARIANT: 1.0},
            version=model["model_version"] or None,
            forced=forced,
        )
        value = change.encode()
        renames = {winner: PROMOTED_VARIANT}
        self._update(endpoint, new_config, guardrails, [PROMOTED_VARIANT], wait=wait, renames=renames)
        self._record(described["EndpointArn"], change, value)
        log.info(
            "promoted %s on %s as %s; removed %s", winner, endpoint, PROMOTED_VARIANT, ", ".join(removed) or "nothing"
        )
        return {
            "endpoint": endpoint,
            "winner": winner,
            "variant": PROMOTED_VARIANT,
            "removed": removed,
            **model,
            "previous_config": described["EndpointConfigName"],
            "endpoint_config": new_config,
        }

    def rollback_target(self, endpoint: str) -> dict[str, Any]:
        """What a rollback would undo and restore: the newest recorded change not yet undone (on an endpoint without
        history, the config the current one replaced), with the registry version a promotion promoted (if any).

        DeploymentError when there is nothing left to undo, or when the endpoint is not in the state that change
        left it in (changed outside this tool, or an update that did not take effect).
        """
        described = self.describe(endpoint)
        changes = self.changes.read(described["EndpointArn"])
        target = undo_target(changes)
        history_hint = f"`mlops endpoint history {endpoint}` lists its changes"
        if target is not None and target.creates:
            raise DeploymentError(
                f"nothing left to undo on endpoint {endpoint!r}: the last change not yet undone (#{target.seq}) "
                f"created it with config {target.to_config or described['EndpointConfigName']}",
                hint=f"{history_hint}; deploy the variants you want with `mlops endpoint deploy {endpoint}`",
            )
        current = self.sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        tags = self._config_tags(current)
        plan: dict[str, Any] = {
            "endpoint": endpoint,
            "from_config": described["EndpointConfigName"],
            "from_weights": _weights_of(described),
            "promoted_version": None,
            "promoted_model": None,
        }
        if target is None:
            return {**plan, **self._config_chain_target(endpoint, described, tags, bool(changes), history_hint)}
        self._check_in_effect(endpoint, described, target, history_hint)
        plan.update(
            undoes=target.seq,
            kind=target.kind,
            at=target.at,
            to_config=target.config,
            to_weights=target.weights or None,
        )
        if target.kind in CONFIG_CHANGES:
            self._check_config_exists(endpoint, str(target.config))
        if target.kind == PROMOTE:
            plan.update(promoted_version=tags.get(TAG_PROMOTED_VERSION), promoted_model=tags.get(TAG_PROMOTED_MODEL))
        return plan

    def _config_chain_target(
        self, endpoint: str, described: Mapping[str, Any], tags: Mapping[str, str], has_history: bool, hint: str
    ) -> dict[str, Any]:
        """Rollback along `mlops:previous-config`: for endpoints made before the history, or past its oldest record."""
        previous = tags.get(TAG_PREVIOUS_CONFIG)
        if not previous:
            why = (
                "every change in its history is undone"
                if has_history
                else f"it has no recorded change and its config {described['EndpointConfigName']} replaced none"
            )
            raise DeploymentError(
                f"nothing left to undo on endpoint {endpoint!r}: {why}",
                hint=f"{hint}; deploy the variants you want with `mlops endpoint deploy {endpoint}`",
            )
        self._check_config_exists(endpoint, previous)
        return {
            "undoes": None,
            "kind": "config",
            "at": None,
            "to_config": previous,
            "to_weights": None,
            "promoted_version": tags.get(TAG_PROMOTED_VERSION),
            "promoted_model": tags.get(TAG_PROMOTED_MODEL),
        }

    def _check_config_exists(self, endpoint: str, config: str) -> None:
        try:
            self.sm.describe_endpoint_config(EndpointConfigName=config)
        except Exception as exc:
            if _not_found(exc):
                raise DeploymentError(
                    f"the previous config {config} of {endpoint!r} was deleted: cannot roll back to it",
                    hint="deploy the variants you want with `mlops endpoint deploy`",
                ) from exc
            raise

    def _check_in_effect(self, endpoint: str, described: Mapping[str, Any], target: Change, hint: str) -> None:
        """Refuse to undo a change whose result is no longer what the endpoint serves: undoing it would undo more."""
        serving = described["EndpointConfigName"]
        expected = target.after_config
        what = f"change #{target.seq} ({target.kind}) of {endpoint!r}"
        if expected and serving != expected:
            why = (
                "the update did not take effect (it failed, or is still running)"
                if serving == target.config
                else "it was changed outside `mlops endpoint`"
            )
            raise DeploymentError(
                f"cannot undo {what}: it left the endpoint on config {expected}, which now serves {serving}: {why}",
                hint=f"{hint}; `mlops endpoint status {endpoint}` shows what it serves",
            )
        weights = _weights_of(described)
        if target.kind == SHIFT and target.to_weights is not None and not _same_weights(weights, target.to_weights):
            raise DeploymentError(
                f"cannot undo {what}: it set the weights {_weights_text(target.to_weights)}, which are now "
                f"{_weights_text(weights)}: they were changed outside `mlops endpoint`",
                hint=f"set the weights before it by hand: mlops endpoint shift {endpoint} --weights "
                f"{_weights_text(target.weights)}",
            )

    def rollback(self, endpoint: str, *, wait: bool = True) -> dict[str, Any]:
        """Undo the endpoint's last change not yet undone: a shift's weights, or a deploy's or promotion's config
        (and the weights it had) come back; recorded as a rollback, which the next rollback goes past."""
        plan = self.rollback_target(endpoint)
        described = self.describe(endpoint)
        weights = plan["to_weights"]
        change = self._change(
            ROLLBACK,
            described,
            to_config=plan["to_config"],
            to_weights=weights,
            undoes=(plan["undoes"],) if plan["undoes"] else (),
        )
        value = change.encode()
        if plan["kind"] == SHIFT:
            self._set_weights(endpoint, weights)
            self._record(described["EndpointArn"], change, value)
            if wait:
                self.wait(endpoint)
        else:
            self._update(endpoint, plan["to_config"], None, wait=wait)
            self._record(described["EndpointArn"], change, value)
            # The old config starts at its own initial weights; the change undone may have found others.
            now = self.current_weights(endpoint) if wait and weights else {}
            if weights and set(weights) == set(now) and not _same_weights(now, weights):
                self._set_weights(endpoint, weights)
                self.wait(endpoint)
        log.info(
            "rolled %s back (%s undone): config %s -> %s",
            endpoint,
            f"change #{plan['undoes']}, {plan['kind']}" if plan["undoes"] else "previous config",
            plan["from_config"],
            plan["to_config"],
        )
        return plan


def check_guardrail_variants(endpoint: str, described: Mapping[str, Any], names: Sequence[str], *, hint: str) -> None:
    """Refuse guardrails for an update whose config would change the endpoint's variant names."""
    # "When doing a blue/green or rolling deployment, your new endpoint configuration must have the same variant
    # name as the old endpoint configuration": https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html
    live = sorted(v["VariantName"] for v in described["ProductionVariants"])
    if sorted(names) != live:
        raise DeploymentError(
            f"guardrails cannot guard this update of {endpoint!r}: blue/green traffic shifting needs the new endpoint "
            f"config to keep the endpoint's variant names ({', '.join(live)}), and it would have "
            f"{', '.join(sorted(names))}",
            hint=hint,
        )


def render_status(status: dict[str, Any]) -> str:
    """An endpoint's status (from `EndpointManager.status`, or a deployment still under way) as text."""
    lines = [
        f"endpoint {status['endpoint']}: {status.get('status', '?')}  config {status['endpoint_config']}"
        + (f"  (previous {status['previous_config']})" if status.get("previous_config") else "")
    ]
    if status.get("failure_reason"):
        lines.append(f"  last failure: {status['failure_reason']}")
    if status.get("data_capture"):
        lines.append(f"  data capture: {status['data_capture_percent']}% to {status['data_capture_destination']}")
    if "variants" in status:
        lines.append(
            f"  {'variant':<16} {'weight':>7} {'share':>7} {'instances':>9}  {'type':<14} {'model version':<24} model"
        )
        for v in status["variants"]:
            version = f"{v['registered_model']} v{v['model_version']}" if v.get("model_version") else "-"
            lines.append(
                f"  {v['variant']:<16} {v['current_weight']:>7g} {v['traffic_share']:>7.1%} "
                f"{v.get('current_instance_count') or '-':>9}  {v.get('instance_type') or '-':<14} {version:<24} "
                f"{v['model_name']}"
            )
            if v.get("autoscaling"):
                a = v["autoscaling"]
                lines.append(
                    f"    autoscaling {a['min_instances']}-{a['max_instances']} instances, "
                    f"target {a['target_invocations_per_instance']} invocations/instance/min"
                )
    return "\n".join(lines)
