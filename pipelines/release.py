"""From the registry to an endpoint: deploy registry versions as production variants, promote the winner together
with the champion alias, and roll both back.

The deployer (`inference.deploy`) knows endpoints, the registry (`model_registry`) knows versions and their gates;
this module is where the two meet, so that neither imports the other.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.deploy.packages import ResolvedModel, check_package_path
from inference.deploy.plan import DeploymentPlan, Guardrails, VariantDeployment
from inference.deploy.target import DeployTarget
from inference.variants import DeploymentError
from ml.settings import P95_BUDGET_MS, REGISTERED_MODEL_NAME

log = logging.getLogger(__name__)


def resolve_models(pairs: tuple[tuple[str, str], ...], *, model_name: str, local: bool) -> list[ResolvedModel]:
    """Each (variant, MODEL) as a package or directory on disk: paths as they are, registry refs downloaded and
    verified against the package digest recorded at registration.

    Every reference is checked before anything is downloaded, uploaded or created.
    """
    from model_registry.artifacts import cached_package, package_source, parse_model_ref
    from model_registry.queries import get_version

    checked: dict[str, Path | tuple[str, dict[str, Any]]] = {}
    for variant, model in pairs:
        path = Path(model).expanduser()
        if path.exists():
            checked[variant] = check_package_path(variant, path, local=local)
        else:
            name, ref = parse_model_ref(model, model_name)
            found = get_version(ref, name)  # an unknown alias fails here
            package_source(name, found)  # and a package the registry did not produce, or without its digest
            checked[variant] = (name, found)
    out = []
    for variant, item in checked.items():
        if isinstance(item, Path):
            out.append(ResolvedModel(variant, item))
        else:
            name, found = item
            out.append(ResolvedModel(variant, cached_package(name, found), name, str(found["version"])))
    return out


def deploy(target: DeployTarget, plan: DeploymentPlan, *, model_name: str = REGISTERED_MODEL_NAME) -> dict[str, Any]:
    """Deploy the plan's variants (registry versions or packages) to its endpoint: create it, or update it in place."""
    models = resolve_models(plan.models, model_name=model_name, local=target.is_local)
    urls = target.model_data_urls(models)
    variants = [
        VariantDeployment(
            name=m.variant,
            model_data_url=urls[m.variant],
            image_uri=plan.image_uri or target.image_uri,
            weight=plan.weights[m.variant],
            instance_type=plan.instance_types[m.variant],
            instance_count=plan.instance_counts[m.variant],
            registered_model=m.registered_model,
            model_version=m.model_version,
        )
        for m in models
    ]
    return target.manager.deploy(
        plan.endpoint,
        variants,
        role_arn=plan.role_arn or target.role_arn,
        data_capture=plan.data_capture,
        keep_capture=plan.keep_capture,
        guardrails=plan.guardrails,
        autoscaling=plan.autoscaling,
        wait=plan.wait,
    )


@dataclass(frozen=True)
class RegistryGate:
    """How the champion alias follows an endpoint promotion: whether it does, and the gates it must pass."""

    enabled: bool = True
    tolerance: float = 0.01
    p95_budget_ms: float = P95_BUDGET_MS
    actor: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class VerdictGate:
    """What an endpoint promotion needs from the A/B report (`mlops endpoint report`): its `promote` verdict on the
    variant, unless forced with a reason, which the registry's audit record keeps."""

    report_args: Mapping[str, Any] = field(default_factory=dict)
    force: bool = False


def ab_verdict(
    target: DeployTarget, endpoint: str, variant: str, verdict_gate: VerdictGate, reason: str | None
) -> dict[str, Any]:
    """The A/B report's verdict on `variant`; DeploymentError unless it is `promote` or the promotion is forced."""
    from inference.deploy.report import PROMOTE, endpoint_report

    if verdict_gate.force and not (reason or "").strip():
        raise DeploymentError(
            "--force needs --reason: a promotion past the A/B verdict is recorded in the audit with why",
            hint='e.g. --force --reason "hotfix: v3 fixes the translation outage"',
        )
    try:
        report = endpoint_report(target, endpoint, **{**verdict_gate.report_args, "candidate": variant})
    except DeploymentError as exc:
        if not verdict_gate.force:
            force = f"--force --reason WHY to promote {variant} without one (audited)"
            raise DeploymentError(
                f"endpoint {endpoint} unchanged: no A/B verdict on {variant}: {exc.message}",
                hint=f"{exc.hint}; or {force}" if exc.hint else force,
            ) from exc
        return {"verdict": None, "forced": True, "evidence": [exc.message]}
    verdict = {"verdict": report["verdict"], "forced": False, "evidence": report["evidence"]}
    if report["verdict"] == PROMOTE:
        return verdict
    if verdict_gate.force:
        log.warning("promoting %s on %s past the A/B verdict %s: %s", variant, endpoint, report["verdict"], reason)
        return {**verdict, "forced": True}
    findings = "; ".join(report["evidence"][:2])
    raise DeploymentError(
        f"endpoint {endpoint} unchanged: the A/B report's verdict on {variant} is {report['verdict']}, not promote "
        f"({findings})",
        hint=f"see `mlops endpoint report {endpoint} --candidate {variant}`; or --force --reason WHY (audited)",
    )


def promote(
    target: DeployTarget,
    endpoint: str,
    variant: str,
    *,
    gate: RegistryGate = RegistryGate(),
    guardrails: Guardrails | None = None,
    verdict_gate: VerdictGate = VerdictGate(),
) -> dict[str, Any]:
    """All traffic to `variant`, the other variants removed, and the champion alias moved to its registry version.

    The A/B verdict and the registry's gates are checked before the endpoint changes; if the alias cannot move
    afterwards, the endpoint is put back on its previous config.
    """
    from model_registry import promotion

    if guardrails is not None and target.is_local:
        raise DeploymentError(
            "deployment guardrails are a SageMaker feature: not on the local endpoint",
            hint="drop --guardrails, or use a stepwise `mlops endpoint shift --schedule` locally",
        )
    target.manager.actor = gate.actor or target.manager.actor  # the endpoint's history names who promoted
    model = target.manager.winner_model(endpoint, variant)
    verdict = ab_verdict(target, endpoint, variant, verdict_gate, gate.reason)
    if verdict["forced"]:
        reason = f"forced past the A/B verdict ({verdict['verdict'] or 'none'}) on endpoint {endpoint}: {gate.reason}"
    else:
        reason = gate.reason or f"won the A/B test on endpoint {endpoint} as {variant} (verdict promote)"
    gate_args: dict[str, Any] = {
        "name": model["registered_model"],
        "tolerance": gate.tolerance,
        "p95_budget_ms": gate.p95_budget_ms,
        "actor": gate.actor,
        "reason": reason,
    }
    use_registry = gate.enabled and bool(model["model_version"])
    warnings = []
    if gate.enabled and not use_registry:
        warnings.append(f"variant {variant} has no registry version tag; the champion alias is left alone")
    if use_registry:
        check = promotion.promote(model["model_version"], dry_run=True, **gate_args)
        if not check.ok:
            raise DeploymentError(
                f"endpoint {endpoint} unchanged: {check.message}",
                hint="see `mlops registry promote --dry-run`; or --no-registry to move traffic only",
            )
    result = target.manager.promote(endpoint, variant, guardrails=guardrails, forced=verdict["forced"])
    registry_result = None
    if use_registry:
        try:
            registry_result = promotion.promote(model["model_version"], **gate_args)
            if not registry_result.ok:
                raise DeploymentError(registry_result.message)
        except Exception:
            log.error("moving the champion alias failed; putting %s back on %s", endpoint, result["previous_config"])
            target.manager.rollback(endpoint)
            raise
    return {
        **result,
        "ab_verdict": verdict,
        "registry": registry_result.to_dict() if registry_result else None,
        "warnings": warnings,
    }


def rollback(target: DeployTarget, endpoint: str, *, gate: RegistryGate = RegistryGate()) -> dict[str, Any]:
    """Undo the endpoint's last change (`EndpointManager.rollback`) and, if that undoes a promotion, the champion
    alias back too, unless it was moved since (left alone, with a warning)."""
    from model_registry import promotion

    target.manager.actor = gate.actor or target.manager.actor
    plan = target.manager.rollback_target(endpoint)
    promoted_model, promoted_version = plan.get("promoted_model") or "", plan.get("promoted_version") or ""
    follows = gate.enabled and bool(promoted_version and promoted_model)
    warning = None
    if follows:
        champion = promotion.champion_history(promoted_model)["champion"]
        if champion != promoted_version:
            warning = (
                f"the champion of {promoted_model} is v{champion}, not v{promoted_version} which this config "
                "promoted: the alias was moved since and is left alone"
            )
    result = target.manager.rollback(endpoint)
    registry_result = None
    if follows and warning is None:
        registry_result = promotion.rollback(
            name=promoted_model, actor=gate.actor, reason=gate.reason or f"rollback of endpoint {endpoint}"
        )
    return {**result, "registry": registry_result.to_dict() if registry_result else None, "warning": warning}


def serve_local(
    endpoint: str | None,
    variant_specs: tuple[str, ...],
    weights: str | None,
    *,
    host: str,
    port: int,
    threads: int | None,
    work_dir: Path | None,
    log_level: str,
) -> None:
    """Run the local A/B endpoint, creating `endpoint` from NAME=MODEL specs (paths or registry refs) at startup."""
    from inference.local import app
    from inference.local.models import check_model_source
    from inference.variants import parse_variant_spec, parse_weights
    from model_registry.artifacts import download_model, is_registry_ref

    variants = [parse_variant_spec(spec) for spec in variant_specs]
    # Every name, weight and path is checked before anything is downloaded or loaded.
    parsed_weights = parse_weights(weights) if weights is not None else None
    app.check_variants(endpoint, [name for name, _ in variants], parsed_weights)
    for _, model in variants:
        if not is_registry_ref(model):
            check_model_source(Path(model).resolve())
    temporary = None
    if work_dir is None:
        temporary = work_dir = Path(tempfile.mkdtemp(prefix="intent-local-endpoint-"))
    try:
        resolved = [
            (
                name,
                download_model(model, work_dir / "registry" / name)
                if is_registry_ref(model)
                else Path(model).resolve(),
            )
            for name, model in variants
        ]
        app.serve_local(
            host,
            port,
            endpoint=endpoint,
            variants=resolved,
            weights=parsed_weights,
            threads=threads,
            work_dir=work_dir,
            log_level=log_level,
        )
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
