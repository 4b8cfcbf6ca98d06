"""From the registry to a shadow test: run a registry version (or a model package) as a shadow variant of an
endpoint's production variant, report on it, stop it.

The SageMaker side is `inference.deploy.shadow`; this module resolves registry references and makes the shadow's
SageMaker Model the way A/B variants are made (`pipelines.release.resolve_models`, `EndpointManager.ensure_model`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from inference.deploy import shadow as lib
from inference.deploy.plan import VariantDeployment
from inference.deploy.shadow import (
    DEFAULT_SHADOW_VARIANT,
    INSUFFICIENT,
    NOT_READY,
    READY,
    ShadowPolicy,
    ShadowReport,
)
from inference.deploy.target import DeployTarget
from inference.variants import DeploymentError, check_name
from ml.settings import REGISTERED_MODEL_NAME
from pipelines.release import resolve_models

__all__ = [
    "DEFAULT_SHADOW_VARIANT",
    "INSUFFICIENT",
    "NOT_READY",
    "READY",
    "ShadowPolicy",
    "ShadowReport",
    "find_experiment",
    "shadow_report",
    "start_shadow",
    "stop_shadow",
]

log = logging.getLogger(__name__)

# A registry version written NAME/VERSION, as the loop and the drift report name them.
_NAME_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[0-9]+")


def start_shadow(
    target: DeployTarget,
    endpoint: str,
    model: str,
    *,
    variant: str = DEFAULT_SHADOW_VARIANT,
    percent: float = 100.0,
    source_variant: str | None = None,
    model_name: str = REGISTERED_MODEL_NAME,
    role_arn: str | None = None,
    wait: bool = True,
) -> dict[str, Any]:
    """Mirror `percent` of `source_variant`'s requests (default: the endpoint's heaviest variant) to `model`
    (`models:/NAME@ALIAS`, `NAME/VERSION`, a package, or locally a model directory) as the shadow `variant`.

    Everything is checked before anything is created; if SageMaker refuses the experiment, the shadow's model made
    for it is deleted again. Returns the experiment as DescribeInferenceExperiment describes it (once running, with
    `wait`).
    """
    check_name("endpoint", endpoint)
    check_name("variant", variant)
    sampling = lib.check_percent(percent)
    sm = target.manager.sm
    running = lib.find_experiment(sm, endpoint)
    if running is not None:
        raise DeploymentError(
            f"endpoint {endpoint!r} already has shadow test {running['Name']} ({running['Status']})",
            hint=f"stop it first: `mlops endpoint shadow stop {endpoint}`",
        )
    source = lib.source_of(sm, endpoint, source_variant)
    if variant == source["VariantName"]:
        raise DeploymentError(
            f"the shadow variant cannot be named {variant!r} like the production variant it mirrors",
            hint="give it another name with --variant",
        )
    (resolved,) = resolve_models(((variant, registry_uri(model)),), model_name=model_name, local=target.is_local)
    url = target.model_data_urls([resolved])[variant]
    role = role_arn or _source_role(sm, source["ModelName"]) or target.role_arn
    deployment = VariantDeployment(
        name=variant,
        model_data_url=url,
        image_uri=target.image_uri if target.is_local else _source_image(sm, source["ModelName"]),
        registered_model=resolved.registered_model,
        model_version=resolved.model_version,
    )
    shadow_model, created = target.manager.ensure_model(endpoint, deployment, role)
    name = lib.experiment_name(endpoint)
    description = f"shadow of {source['VariantName']} on {endpoint}: {model}"
    try:
        lib.create_experiment(
            sm,
            name=name,
            endpoint=endpoint,
            source=source,
            shadow_variant=variant,
            shadow_model=shadow_model,
            percent=sampling,
            role_arn=role,
            description=description,
        )
    except Exception:
        if created:
            target.manager.delete_model_quietly(shadow_model)
        raise
    log.info("started shadow test %s: %s%% of %s on %s to %s", name, sampling, source["VariantName"], endpoint, model)
    if not wait:
        return lib.find_experiment(sm, endpoint) or {"Name": name}
    manager = target.manager
    described = lib.wait_experiment(
        sm,
        name,
        poll_s=manager.poll_s,
        timeout_s=manager.timeout_s,
        sleep=manager.sleep,
        clock=manager.clock,
        on_progress=manager.on_progress,
    )
    if described["Status"] == "Created":  # scheduled for later: start it now
        lib.start_experiment(sm, name)
        described = lib.wait_experiment(sm, name, poll_s=manager.poll_s, timeout_s=manager.timeout_s)
    return described


def registry_uri(model: str) -> str:
    """`NAME/VERSION` (e.g. `intent-classifier/3`) as `models:/NAME/VERSION`, unless it is a path on disk; any other
    reference as it is."""
    if _NAME_VERSION.fullmatch(model) and not Path(model).expanduser().exists():
        return f"models:/{model}"
    return model


def _source_role(sm: Any, model: str) -> str | None:
    """The execution role of the production variant's model: the shadow's model and experiment use the same."""
    try:
        return sm.describe_model(ModelName=model).get("ExecutionRoleArn")
    except Exception:  # noqa: BLE001 - without it, the target's default role is used
        return None


def _source_image(sm: Any, model: str) -> str:
    """The serving image of the production variant's model: the shadow runs in the same one."""
    return str(sm.describe_model(ModelName=model)["PrimaryContainer"]["Image"])


def find_experiment(target: DeployTarget, endpoint: str, *, active_only: bool = True) -> dict[str, Any] | None:
    """The endpoint's shadow test not yet ended (or its latest, with active_only false), as described; None if none."""
    return lib.find_experiment(target.manager.sm, endpoint, active_only=active_only)


def shadow_report(target: DeployTarget, endpoint: str, *, policy: ShadowPolicy | None = None) -> ShadowReport:
    """The verdict on the endpoint's shadow test (READY, NOT_READY or INSUFFICIENT) with the checks behind it."""
    return lib.shadow_report(target, endpoint, policy=policy)


def stop_shadow(target: DeployTarget, endpoint: str, *, reason: str | None = None) -> dict[str, Any]:
    """Stop the endpoint's shadow test: production untouched, the shadow variant removed. Returns the experiment as
    described after the stop."""
    sm = target.manager.sm
    experiment = lib.find_experiment(sm, endpoint)
    if experiment is None:
        raise DeploymentError(
            f"endpoint {endpoint!r} has no shadow test running",
            hint=f"see `mlops endpoint shadow report {endpoint}` for the last one",
        )
    lib.stop_experiment(sm, experiment, reason=reason)
    log.info("stopped shadow test %s on %s", experiment["Name"], endpoint)
    return lib.describe_experiment(sm, experiment["Name"])
