"""`mlops endpoint ...`: A/B production variants on a SageMaker endpoint, or on the local A/B endpoint.

Every command talks to SageMaker's API through boto3: on AWS by default (credentials, region and
AWS_ENDPOINT_URL from the usual boto3 environment), or to the local A/B endpoint started by
`mlops endpoint serve-local` when `--local-endpoint URL` (env MLOPS_LOCAL_ENDPOINT) is given. The local
endpoint implements the control-plane calls used here, so the same code path serves both.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from mlops_cli.endpoint_local import serve_local
from mlops_cli.errors import aws_errors, user_errors
from mlops_cli.output import emit, json_option

log = logging.getLogger(__name__)

DEFAULT_VARIANTS = ("champion=champion", "challenger=challenger")
DEFAULT_WEIGHTS = "champion=90,challenger=10"
LOCAL_IMAGE = "local/intent-serve:latest"
LOCAL_ROLE = "arn:aws:iam::000000000000:role/local-endpoint"


@dataclass
class Target:
    """The boto3 clients and metrics source for AWS or for the local endpoint."""

    local_url: str | None
    manager: Any
    runtime: Any
    metrics: Any
    region: str

    @property
    def is_local(self) -> bool:
        """Whether commands go to the local A/B endpoint."""
        return self.local_url is not None


def _target(local_url: str | None, region: str) -> Target:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    from inference.endpoints import EndpointManager
    from inference.variant_metrics import CloudWatchMetrics, LocalEndpointMetrics

    if local_url:
        # The local endpoint ignores signatures: no AWS credentials are needed to talk to it.
        config = Config(signature_version=UNSIGNED, retries={"max_attempts": 2, "mode": "standard"})
        sm = boto3.client("sagemaker", endpoint_url=local_url, region_name=region, config=config)
        runtime = boto3.client("sagemaker-runtime", endpoint_url=local_url, region_name=region, config=config)
        manager = EndpointManager(sm, poll_s=0.5, timeout_s=300)
        return Target(local_url, manager, runtime, LocalEndpointMetrics(local_url), region)
    sm = boto3.client("sagemaker", region_name=region)
    manager = EndpointManager(
        sm,
        autoscaling_client=boto3.client("application-autoscaling", region_name=region),
        cloudwatch_client=boto3.client("cloudwatch", region_name=region),
    )
    cloudwatch = manager.cloudwatch
    return Target(None, manager, boto3.client("sagemaker-runtime", region_name=region), CloudWatchMetrics(cloudwatch), region)


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--local-endpoint and --region; the command receives `target` instead (clients built lazily)."""

    @click.option("--local-endpoint", "local_url", envvar="MLOPS_LOCAL_ENDPOINT", default=None, metavar="URL",
                  help="The local A/B endpoint (`mlops endpoint serve-local`), e.g. http://127.0.0.1:8080 "
                       "[env MLOPS_LOCAL_ENDPOINT]; without it: SageMaker on AWS.")
    @click.option("--region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], default="us-east-1", show_default=True,
                  help="AWS region [env AWS_REGION / AWS_DEFAULT_REGION].")
    @functools.wraps(func)
    def wrapper(*args: Any, local_url: str | None, region: str, **kwargs: Any) -> Any:
        return func(*args, target=_target(local_url, region), **kwargs)

    return wrapper


def endpoint_command(name: str) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand of `mlops endpoint` taking ENDPOINT, target options and --json, with clean errors."""

    def decorate(func: Callable[..., Any]) -> click.Command:
        func = user_errors(aws_errors(func))
        func = target_options(func)
        func = json_option(func)
        func = click.argument("endpoint_name", metavar="ENDPOINT")(func)
        return endpoint.command(name)(func)

    return decorate


@click.group()
def endpoint() -> None:
    """A/B production variants: deploy two registry models to one endpoint, shift traffic, promote, roll back, report.

    Targets SageMaker on AWS, or the local A/B endpoint with --local-endpoint URL (env MLOPS_LOCAL_ENDPOINT).
    """


def guardrail_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--guardrails, --guardrail-step, --guardrail-wait, --guardrail-p95-ms for commands that update an endpoint."""
    options = [
        click.option("--guardrails", type=click.Choice(["canary", "linear"]), default=None,
                     help="Blue/green update with canary or linear traffic shifting, rolled back automatically by "
                          "CloudWatch alarms on each variant's 5XX errors and p95 latency (AWS)."),
        click.option("--guardrail-step", type=click.IntRange(1, 99), default=10, show_default=True,
                     help="Guardrails: percent of capacity per step."),
        click.option("--guardrail-wait", type=click.IntRange(min=0), default=300, show_default=True,
                     help="Guardrails: seconds between steps."),
        click.option("--guardrail-p95-ms", type=float, default=500.0, show_default=True,
                     help="Guardrails: the p95 model latency alarm threshold."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _guardrails(target: Target, endpoint_name: str, variants: list[str], mode: str | None, step: int, wait: int,
                p95_ms: float) -> Any:
    """Create the alarms and the Guardrails for an update, or None without --guardrails."""
    from inference.endpoints import Guardrails
    from inference.variants import DeploymentError, Guard

    if not mode:
        return None
    if target.is_local:
        raise DeploymentError("deployment guardrails are a SageMaker feature: not on the local endpoint",
                            hint="drop --guardrails, or use a stepwise `mlops endpoint shift --schedule` locally")
    alarms = target.manager.create_alarms(endpoint_name, variants, Guard(max_p95_ms=p95_ms))
    return Guardrails(mode=mode, step_percent=step, wait_s=wait, alarms=tuple(alarms))


# ---- deploy ----------------------------------------------------------------------------------------------------


@endpoint_command("deploy")
@click.option("--variant", "variant_specs", multiple=True, metavar="NAME=MODEL",
              help="A production variant and its model: a registry alias or version (champion, 3, models:/NAME@ALIAS), "
                   "a model.tar.gz, or (local endpoint only) a model directory. Repeatable. "
                   "[default: champion=champion and challenger=challenger]")
@click.option("--weights", default=None, metavar="NAME=W,...",
              help="Initial weights [default: champion=90,challenger=10 for the default variants, else equal].")
@click.option("--model-name", default="intent-classifier", show_default=True, help="Registered model name.")
@click.option("--image-uri", envvar="MLOPS_SERVING_IMAGE", default=None,
              help="Serving image (the Dockerfile's) [env MLOPS_SERVING_IMAGE; required on AWS].")
@click.option("--role", envvar="MLOPS_SAGEMAKER_ROLE_ARN", default=None,
              help="SageMaker execution role ARN [env MLOPS_SAGEMAKER_ROLE_ARN; required on AWS].")
@click.option("--bucket", envvar="MLOPS_SAGEMAKER_BUCKET", default=None,
              help="S3 bucket for model packages [env MLOPS_SAGEMAKER_BUCKET; default sagemaker-<region>-<account>].")
@click.option("--prefix", envvar="MLOPS_SAGEMAKER_PREFIX", default="intent-mlops", show_default=True, help="S3 key prefix.")
@click.option("--instance-type", "instance_types", multiple=True, metavar="[NAME=]TYPE",
              help="Instance type of every variant, or of one (NAME=TYPE); repeatable [default: ml.m5.large].")
@click.option("--instance-count", "instance_counts", multiple=True, metavar="[NAME=]N",
              help="Instances of every variant, or of one (NAME=N); repeatable [default: 1].")
@click.option("--data-capture", default=None, metavar="S3_URI", help="Capture requests and responses to this S3 URI.")
@click.option("--capture-percent", type=click.IntRange(0, 100), default=100, show_default=True, help="Data capture sampling.")
@guardrail_options
@click.option("--autoscale", "autoscale", default=None, metavar="MIN:MAX:TARGET",
              help="Target tracking on invocations per instance per minute for each variant, e.g. 1:4:70 (AWS).")
@click.option("--no-wait", is_flag=True, help="Return once the update has started.")
def deploy(endpoint_name: str, target: Target, as_json: bool, variant_specs: tuple[str, ...], weights: str | None,
           model_name: str, image_uri: str | None, role: str | None, bucket: str | None, prefix: str,
           instance_types: tuple[str, ...], instance_counts: tuple[str, ...], data_capture: str | None, capture_percent: int,
           guardrails: str | None, guardrail_step: int, guardrail_wait: int, guardrail_p95_ms: float,
           autoscale: str | None, no_wait: bool) -> None:
    """Deploy ENDPOINT with production variants built from registry versions (create, or update in place)."""
    from inference.endpoints import DataCapture, VariantDeployment
    from inference.variants import (
        DeploymentError,
        check_name,
        check_unique,
        check_weights,
        parse_variant_spec,
        parse_weights,
    )
    from mlops_cli.endpoint_models import resolve_models, upload_packages

    check_name("endpoint", endpoint_name)
    specs = list(variant_specs or DEFAULT_VARIANTS)
    pairs = [parse_variant_spec(s) for s in specs]
    names = check_unique("variant", [n for n, _ in pairs])
    default_weights = DEFAULT_WEIGHTS if not variant_specs else ",".join(f"{n}=1" for n in names)
    weight_map = check_weights(parse_weights(weights or default_weights), names)
    missing = [n for n in names if n not in weight_map]
    if missing:
        raise DeploymentError(f"no weight given for variant(s) {', '.join(missing)}", hint="give every variant a weight")
    types = _per_variant("--instance-type", instance_types, names, "ml.m5.large", str)
    counts = _per_variant("--instance-count", instance_counts, names, "1", int)
    policy = _autoscaling(autoscale) if autoscale else None
    if target.is_local and (policy or data_capture):
        raise DeploymentError("autoscaling and data capture are SageMaker features: not on the local endpoint",
                            hint="drop those options, or deploy to AWS")
    capture = DataCapture(data_capture, capture_percent) if data_capture else None
    if not target.is_local:
        if not image_uri:
            raise DeploymentError("no serving image", hint="pass --image-uri (or MLOPS_SERVING_IMAGE): the image built from the Dockerfile")
        if not role:
            raise DeploymentError("no SageMaker execution role", hint="pass --role (or MLOPS_SAGEMAKER_ROLE_ARN)")
        from pipelines.sagemaker_pipeline import validate_role_arn

        validate_role_arn(role)
    models = resolve_models(pairs, model_name=model_name, local=target.is_local)  # every ref checked before any change
    urls = {m.variant: m.local_path.resolve().as_uri() for m in models} if target.is_local else \
        upload_packages(models, bucket=bucket, prefix=prefix, region=target.region)
    variants = [
        VariantDeployment(
            name=m.variant, model_data_url=urls[m.variant], image_uri=image_uri or LOCAL_IMAGE, weight=weight_map[m.variant],
            instance_type=types[m.variant], instance_count=counts[m.variant], registered_model=m.registered_model,
            model_version=m.model_version,
        )
        for m in models
    ]
    rails = _guardrails(target, endpoint_name, names, guardrails, guardrail_step, guardrail_wait, guardrail_p95_ms)
    status = target.manager.deploy(
        endpoint_name, variants, role_arn=role or LOCAL_ROLE, data_capture=capture, guardrails=rails,
        autoscaling=policy, wait=not no_wait,
    )
    _emit_status(status, as_json)


def _per_variant(option: str, values: tuple[str, ...], names: list[str], default: str, convert: Callable[[str], Any]) -> dict[str, Any]:
    """`VALUE` for every variant and/or `NAME=VALUE` for one, as {variant: value}."""
    from inference.variants import DeploymentError

    common = [v for v in values if "=" not in v]
    if len(common) > 1:
        raise DeploymentError(f"{option} is given twice for every variant: {', '.join(common)}",
                            hint=f"give one {option} VALUE, then NAME=VALUE for the exceptions")
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
        raise DeploymentError(f"{option}: {values} are not valid values") from None


def _autoscaling(text: str) -> Any:
    from inference.endpoints import Autoscaling
    from inference.variants import DeploymentError

    parts = text.split(":")
    try:
        low, high, target = int(parts[0]), int(parts[1]), float(parts[2])
    except (ValueError, IndexError):
        raise DeploymentError(f"--autoscale {text!r} is not MIN:MAX:TARGET", hint="e.g. --autoscale 1:4:70") from None
    return Autoscaling(low, high, target)


# ---- status and shift ------------------------------------------------------------------------------------------


def _emit_status(status: dict[str, Any], as_json: bool) -> None:
    lines = [f"endpoint {status['endpoint']}: {status.get('status', '?')}  config {status['endpoint_config']}"
             + (f"  (previous {status['previous_config']})" if status.get("previous_config") else "")]
    if status.get("failure_reason"):
        lines.append(f"  last failure: {status['failure_reason']}")
    if "variants" in status:
        lines.append(f"  {'variant':<16} {'weight':>7} {'share':>7} {'instances':>9}  {'type':<14} {'model version':<24} model")
        for v in status["variants"]:
            version = f"{v['registered_model']} v{v['model_version']}" if v.get("model_version") else "-"
            lines.append(
                f"  {v['variant']:<16} {v['current_weight']:>7g} {v['traffic_share']:>7.1%} "
                f"{v.get('current_instance_count') or '-':>9}  {v.get('instance_type') or '-':<14} {version:<24} {v['model_name']}"
            )
            if v.get("autoscaling"):
                a = v["autoscaling"]
                lines.append(f"    autoscaling {a['min_instances']}-{a['max_instances']} instances, "
                             f"target {a['target_invocations_per_instance']} invocations/instance/min")
    emit(status, as_json=as_json, text="\n".join(lines))


@endpoint_command("status")
def status(endpoint_name: str, target: Target, as_json: bool) -> None:
    """Show ENDPOINT's variants: weights, traffic shares, instances, models and their registry versions."""
    _emit_status(target.manager.status(endpoint_name), as_json)


@endpoint_command("shift")
@click.option("--weights", default=None, metavar="NAME=W,...", help="Set these weights now, e.g. champion=50,challenger=50.")
@click.option("--variant", default=None, help="With --schedule: the variant whose traffic share grows.")
@click.option("--schedule", default=None, metavar="P1,P2,...", help="Stepwise percentages for --variant, e.g. 10,25,50,100.")
@click.option("--bake-seconds", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="How long each step runs before its metrics are checked.")
@click.option("--max-error-rate", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="Revert when any variant's error rate over a step exceeds this.")
@click.option("--max-p95-ms", type=float, default=500.0, show_default=True, help="Revert when any variant's p95 exceeds this.")
@click.option("--min-invocations", type=click.IntRange(min=0), default=1, show_default=True,
              help="A variant with fewer requests in a step is not judged.")
def shift(endpoint_name: str, target: Target, as_json: bool, weights: str | None, variant: str | None,
          schedule: str | None, bake_seconds: float, max_error_rate: float, max_p95_ms: float, min_invocations: int) -> None:
    """Change ENDPOINT's variant weights in place, at once (--weights) or stepwise with a revert guard (--schedule)."""
    from inference.variants import DeploymentError, Guard, parse_schedule, parse_weights

    if bool(weights) == bool(schedule):
        raise DeploymentError("give either --weights or --schedule (with --variant)",
                            hint="e.g. --weights champion=50,challenger=50, or --variant challenger --schedule 10,25,50,100")
    if weights:
        if variant:
            raise DeploymentError("--variant goes with --schedule, not with --weights")
        result = target.manager.shift(endpoint_name, parse_weights(weights))
        emit({"endpoint": endpoint_name, "weights": result}, as_json=as_json,
             text=f"{endpoint_name}: " + ", ".join(f"{n}={w:g}" for n, w in result.items()))
        return
    if not variant:
        raise DeploymentError("--schedule needs --variant: the variant whose share grows", hint="e.g. --variant challenger")
    steps = parse_schedule(schedule or "")
    guard = Guard(max_error_rate, max_p95_ms, min_invocations)

    def report_step(step: dict[str, Any]) -> None:
        verdict = "; ".join(step["violations"]) or "ok"
        click.echo(f"  {variant} at {step['percent']:g}%: {verdict}", err=True)

    click.echo(f"shifting {endpoint_name} to {variant}: {', '.join(f'{s:g}%' for s in steps)}, "
               f"{bake_seconds:g} s per step", err=True)
    outcome = target.manager.shift_schedule(endpoint_name, variant, steps, bake_s=bake_seconds, guard=guard,
                                            metrics=target.metrics, on_step=report_step)
    emit(outcome.to_dict(), as_json=as_json, text=f"{endpoint_name}: {outcome.reason}; weights now "
         + ", ".join(f"{n}={w:g}" for n, w in outcome.final_weights.items()))
    if outcome.reverted:
        click.echo(f"error: shift of {endpoint_name} reverted: {outcome.reason}", err=True)
        click.get_current_context().exit(1)


# ---- promote and rollback --------------------------------------------------------------------------------------


@endpoint_command("promote")
@click.option("--variant", required=True, help="The winning variant: it takes all traffic, the others leave the endpoint.")
@click.option("--registry/--no-registry", default=True, show_default=True,
              help="Also move the registry's champion alias to the winner's version (gated like `mlops registry promote`).")
@click.option("--tolerance", type=float, default=0.01, show_default=True, help="Registry gate: metric tolerance.")
@click.option("--p95-budget-ms", type=float, default=500.0, show_default=True, help="Registry gate: benchmark p95 budget.")
@click.option("--reason", default=None, help="Why (kept in the registry's audit record).")
@click.option("--actor", default=None, help="Who (default: MLOPS_ACTOR, GITHUB_ACTOR in CI, else the OS user).")
@guardrail_options
def promote(endpoint_name: str, target: Target, as_json: bool, variant: str, registry: bool, tolerance: float,
            p95_budget_ms: float, reason: str | None, actor: str | None, guardrails: str | None, guardrail_step: int,
            guardrail_wait: int, guardrail_p95_ms: float) -> None:
    """Promote VARIANT on ENDPOINT: all traffic to it, the loser removed, and the champion alias moved to its version."""
    from inference.variants import DeploymentError
    from model_registry.promotion import promote as registry_promote

    model = target.manager.winner_model(endpoint_name, variant)
    gate_args = {"name": model["registered_model"], "tolerance": tolerance, "p95_budget_ms": p95_budget_ms,
                 "actor": actor, "reason": reason or f"won the A/B test on endpoint {endpoint_name} as {variant}"}
    use_registry = registry and bool(model["model_version"])
    if registry and not use_registry:
        click.echo(f"warning: variant {variant} has no registry version tag; the champion alias is left alone", err=True)
    if use_registry:
        check = registry_promote(model["model_version"], dry_run=True, **gate_args)
        if not check.ok:
            raise DeploymentError(f"endpoint {endpoint_name} unchanged: {check.message}",
                                hint="see `mlops registry promote --dry-run`; or --no-registry to move traffic only")
    rails = _guardrails(target, endpoint_name, [variant], guardrails, guardrail_step, guardrail_wait, guardrail_p95_ms)
    result = target.manager.promote(endpoint_name, variant, guardrails=rails)
    registry_result = None
    if use_registry:
        try:
            registry_result = registry_promote(model["model_version"], **gate_args)
            if not registry_result.ok:
                raise DeploymentError(registry_result.message)
        except Exception:
            log.error("moving the champion alias failed; putting %s back on %s", endpoint_name, result["previous_config"])
            target.manager.rollback(endpoint_name)
            raise
    payload = {**result, "registry": registry_result.to_dict() if registry_result else None}
    text = (f"{endpoint_name}: {variant} now takes all traffic (removed: {', '.join(result['removed']) or 'none'}); "
            f"config {result['endpoint_config']} replaces {result['previous_config']}")
    if registry_result:
        text += f"\n{registry_result.message.splitlines()[0]}"
    emit(payload, as_json=as_json, text=text)


@endpoint_command("rollback")
@click.option("--registry/--no-registry", default=True, show_default=True,
              help="Also give the champion alias back when the config being undone came from a promotion.")
@click.option("--reason", default=None, help="Why (kept in the registry's audit record).")
@click.option("--actor", default=None, help="Who (default: MLOPS_ACTOR, GITHUB_ACTOR in CI, else the OS user).")
def rollback(endpoint_name: str, target: Target, as_json: bool, registry: bool, reason: str | None, actor: str | None) -> None:
    """Restore ENDPOINT's previous endpoint config and, if that undoes a promotion, the previous champion alias."""
    from model_registry.promotion import champion_history
    from model_registry.promotion import rollback as registry_rollback

    plan = target.manager.rollback_target(endpoint_name)
    promoted_model = plan.get("promoted_model")
    registry_result = None
    warning = None
    if registry and plan.get("promoted_version") and promoted_model:
        champion = champion_history(promoted_model)["champion"]
        if champion != plan["promoted_version"]:
            warning = (f"the champion of {promoted_model} is v{champion}, not v{plan['promoted_version']} which this "
                       "config promoted: the alias was moved since and is left alone")
    result = target.manager.rollback(endpoint_name)
    if registry and plan.get("promoted_version") and promoted_model and warning is None:
        registry_result = registry_rollback(name=promoted_model, actor=actor,
                                            reason=reason or f"rollback of endpoint {endpoint_name}")
    if warning:
        click.echo(f"warning: {warning}", err=True)
    text = f"{endpoint_name}: back on {result['to_config']} (was {result['from_config']})"
    if registry_result:
        text += f"\n{registry_result.message.splitlines()[0]}"
    emit({**result, "registry": registry_result.to_dict() if registry_result else None, "warning": warning},
         as_json=as_json, text=text)


# ---- report ----------------------------------------------------------------------------------------------------


@endpoint_command("report")
@click.option("--candidate", default=None, help="The variant under test [default: the one with the smallest weight].")
@click.option("--baseline", default=None, help="The variant it is compared with [default: the one with the largest weight].")
@click.option("--since-seconds", type=click.FloatRange(min=1), default=None,
              help="Only traffic of the last N seconds [default: all the local endpoint kept; last hour on AWS].")
@click.option("--inputs", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Labelled JSONL (text, intent) sent to every variant to compare them "
                   "[default: data/natural_prompts.jsonl of this project, if present].")
@click.option("--sample-size", type=click.IntRange(min=1), default=200, show_default=True, help="At most this many inputs.")
@click.option("--min-invocations", type=click.IntRange(min=0), default=100, show_default=True,
              help="Fewer live requests on the candidate make the verdict inconclusive.")
@click.option("--max-error-rate", type=click.FloatRange(0, 1), default=0.01, show_default=True, help="Guard: error rate.")
@click.option("--max-p95-ms", type=float, default=500.0, show_default=True, help="Guard: p95 latency.")
@click.option("--accuracy-tolerance", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="How far the candidate's sample accuracy may fall below the baseline's.")
@click.option("--check", is_flag=True, help="Exit 1 unless the verdict is promote (for CI).")
def report(endpoint_name: str, target: Target, as_json: bool, candidate: str | None, baseline: str | None,
           since_seconds: float | None, inputs: Path | None, sample_size: int, min_invocations: int,
           max_error_rate: float, max_p95_ms: float, accuracy_tolerance: float, check: bool) -> None:
    """A/B report on ENDPOINT: traffic share, errors, latency, predictions, agreement, and a verdict."""
    from inference.ab_report import PROMOTE, ReportPolicy, build_report, pinned_predictions, render_table
    from inference.variant_metrics import stats_from_document
    from inference.variants import Guard

    policy = ReportPolicy(Guard(max_error_rate, max_p95_ms), min_invocations, accuracy_tolerance)
    weights = target.manager.current_weights(endpoint_name)
    candidate = candidate or min(weights, key=lambda n: (weights[n], n != "challenger"))
    baseline = baseline or max((n for n in weights if n != candidate), key=lambda n: weights[n], default=candidate)
    now = time.time()
    live: dict[str, dict[str, int]] | None = None
    if target.is_local:  # read the live traffic before the sample below adds to it
        document = target.metrics.fetch(endpoint_name, now - since_seconds if since_seconds else None)
        traffic = stats_from_document(document, list(weights))
        live = {n: document.get("variants", {}).get(n, {}).get("predictions", {}) for n in weights}
    else:
        traffic = target.metrics.variant_stats(endpoint_name, list(weights), now - (since_seconds or 3600), now)
    texts, labels = _report_inputs(inputs, sample_size)
    sample = {n: pinned_predictions(target.runtime, endpoint_name, n, texts) for n in weights} if texts else None
    result = build_report(endpoint_name, traffic, candidate=candidate, baseline=baseline, policy=policy, weights=weights,
                          live_predictions=live, sample=sample, labels=labels if texts else None)
    emit(result, as_json=as_json, text=render_table(result))
    if check and result["verdict"] != PROMOTE:
        click.echo(f"error: verdict is {result['verdict']}, not promote", err=True)
        click.get_current_context().exit(1)


def _report_inputs(path: Path | None, limit: int) -> tuple[list[str], list[str]]:
    from ml.data import load_examples
    from ml.settings import project_root

    if path is None:
        try:
            path = project_root() / "data" / "natural_prompts.jsonl"
        except Exception:  # not inside the project: no default sample
            return [], []
        if not path.is_file():
            return [], []
    examples = load_examples(path, allow_duplicates=True)[:limit]
    return [e.text for e in examples], [e.intent for e in examples]


endpoint.add_command(serve_local)
