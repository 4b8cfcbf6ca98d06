"""`mlops endpoint ...`: A/B production variants on a SageMaker endpoint, or on the local A/B endpoint.

Every command talks to SageMaker's API through boto3: on AWS by default (credentials, region and
AWS_ENDPOINT_URL from the usual boto3 environment), or to the local A/B endpoint started by
`mlops endpoint serve-local` when `--local-endpoint URL` (env MLOPS_LOCAL_ENDPOINT) is given.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from inference.deploy.report import DEFAULT_SAMPLE_SIZE, ReportPolicy
from inference.deploy.shadow import DEFAULT_SHADOW_VARIANT, ShadowPolicy
from inference.variants import Guard
from ml.aws import DEFAULT_S3_PREFIX
from ml.settings import MIN_STEP_INVOCATIONS, P95_BUDGET_MS, REGISTERED_MODEL_NAME
from mlops_cli.errors import aws_errors, sigterm_interrupts, user_errors
from mlops_cli.options import region_option
from mlops_cli.output import emit, json_option
from mlops_cli.progress import progress_display

if TYPE_CHECKING:
    from inference.deploy.target import DeployTarget


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--local-endpoint and --region; the command receives `target` instead, whose waits show their progress."""

    @click.option(
        "--local-endpoint",
        "local_url",
        envvar="MLOPS_LOCAL_ENDPOINT",
        default=None,
        metavar="URL",
        help="The local A/B endpoint (`mlops endpoint serve-local`), e.g. http://127.0.0.1:8080 "
        "[env MLOPS_LOCAL_ENDPOINT]; without it: SageMaker on AWS.",
    )
    @region_option()
    @functools.wraps(func)
    def wrapper(*args: Any, local_url: str | None, region: str, **kwargs: Any) -> Any:
        from inference.deploy.target import DeployTarget

        target = DeployTarget.create(local_url, region)
        with progress_display() as show:  # waits for the endpoint and bakes show their progress on stderr
            target.manager.on_progress = show
            return func(*args, target=target, **kwargs)

    return wrapper


def _endpoint_subcommand(group: click.Group, name: str) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand of `group` taking ENDPOINT, target options and --json, with clean errors."""

    def decorate(func: Callable[..., Any]) -> click.Command:
        func = user_errors(aws_errors(func))
        func = target_options(func)
        func = json_option(func)
        func = click.argument("endpoint_name", metavar="ENDPOINT")(func)
        return group.command(name)(func)

    return decorate


def endpoint_command(name: str) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand of `mlops endpoint` taking ENDPOINT, target options and --json, with clean errors."""
    return _endpoint_subcommand(endpoint, name)


@click.group()
def endpoint() -> None:
    """A/B production variants: deploy two registry models to one endpoint, shift traffic, promote, roll back, report.

    Targets SageMaker on AWS, or the local A/B endpoint with --local-endpoint URL (env MLOPS_LOCAL_ENDPOINT).
    """


def guardrail_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--guardrails, --guardrail-step, -wait, -timeout and -p95-ms for commands that update an endpoint.

    Their limits are AWS's, checked in one place (`inference.deploy.plan.Guardrails`) with a reason for each.
    """
    options = [
        click.option(
            "--guardrails",
            type=click.Choice(["canary", "linear"]),
            default=None,
            help="Blue/green update with canary or linear traffic shifting, rolled back automatically by "
            "CloudWatch alarms on each variant's 5XX errors and p95 latency (AWS). It needs the update to keep the "
            "endpoint's variant names; a new endpoint is created without it.",
        ),
        click.option(
            "--guardrail-step",
            type=int,
            default=10,
            show_default=True,
            help="Guardrails: percent of the fleet per step (canary 1-50, linear 10-50).",
        ),
        click.option(
            "--guardrail-wait",
            type=int,
            default=300,
            show_default=True,
            help="Guardrails: seconds of baking after each step (0-3600).",
        ),
        click.option(
            "--guardrail-timeout",
            type=int,
            default=None,
            help="Guardrails: the update's maximum execution time in seconds (600-28800, and enough for its "
            "steps and waits) [default: derived from them, at least 3600].",
        ),
        click.option(
            "--guardrail-p95-ms",
            type=float,
            default=P95_BUDGET_MS,
            show_default=True,
            help="Guardrails: the p95 model latency alarm threshold.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def registry_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--registry/--no-registry, --reason and --actor for commands that may move the champion alias."""
    options = [
        click.option(
            "--registry/--no-registry",
            default=True,
            show_default=True,
            help="Also move the registry's champion alias (gated like `mlops registry promote`).",
        ),
        click.option("--reason", default=None, help="Why (kept in the registry's audit record)."),
        click.option("--actor", default=None, help="Who (default: MLOPS_ACTOR, GITHUB_ACTOR in CI, else the OS user)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def report_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--candidate and --baseline, then the A/B report's window, sample and policy options (`verdict_options`)."""
    func = verdict_options(func)
    func = click.option(
        "--baseline", default=None, help="The variant it is compared with [default: the one with the largest weight]."
    )(func)
    return click.option(
        "--candidate", default=None, help="The variant under test [default: the one with the smallest weight]."
    )(func)


def verdict_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The A/B report's window, sample and policy options; the command receives `report_args` for
    `inference.deploy.report.endpoint_report` instead (with `candidate` and `baseline` when it takes them)."""
    options = [
        click.option(
            "--since-seconds",
            type=click.FloatRange(min=1),
            default=None,
            help="Only traffic of the last N seconds [default: since the endpoint's current config and weights].",
        ),
        click.option(
            "--inputs",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="Labelled JSONL (text, intent) sent to every variant to compare them [default: this project's "
            "data/natural_prompts.jsonl, then the held-out test split of data/prompts.jsonl].",
        ),
        click.option(
            "--sample-size",
            type=click.IntRange(min=1),
            default=DEFAULT_SAMPLE_SIZE,
            show_default=True,
            help="At most this many labelled inputs.",
        ),
        click.option(
            "--min-invocations",
            type=click.IntRange(min=0),
            default=ReportPolicy.min_invocations,
            show_default=True,
            help="At least this many live requests on the candidate, whatever the power analysis asks.",
        ),
        click.option(
            "--max-error-rate",
            type=click.FloatRange(0, 1),
            default=Guard.max_error_rate,
            show_default=True,
            help="Guard: error rate.",
        ),
        click.option("--max-p95-ms", type=float, default=P95_BUDGET_MS, show_default=True, help="Guard: p95 latency."),
        click.option(
            "--accuracy-tolerance",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=ReportPolicy.accuracy_tolerance,
            show_default=True,
            help="How far the candidate's accuracy on the labelled inputs may fall below the baseline's.",
        ),
        click.option(
            "--confidence",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=ReportPolicy.confidence,
            show_default=True,
            help="Confidence level of every interval and test.",
        ),
        click.option(
            "--power",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=ReportPolicy.power,
            show_default=True,
            help="Power the minimum sample sizes are planned for.",
        ),
    ]

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        since_seconds: float | None,
        inputs: Path | None,
        sample_size: int,
        min_invocations: int,
        max_error_rate: float,
        max_p95_ms: float,
        accuracy_tolerance: float,
        confidence: float,
        power: float,
        **kwargs: Any,
    ) -> Any:
        policy = ReportPolicy(Guard(max_error_rate, max_p95_ms), min_invocations, accuracy_tolerance, confidence, power)
        roles: dict[str, Any] = {role: kwargs.pop(role) for role in ("candidate", "baseline") if role in kwargs}
        report_args = {
            **roles,
            "since_seconds": since_seconds,
            "inputs": inputs,
            "sample_size": sample_size,
            "policy": policy,
        }
        return func(*args, report_args=report_args, **kwargs)

    decorated: Callable[..., Any] = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def _weights(weights: dict[str, float]) -> str:
    return ", ".join(f"{n}={w:g}" for n, w in weights.items())


# ---- deploy ----------------------------------------------------------------------------------------------------


@endpoint_command("deploy")
@click.option(
    "--variant",
    "variant_specs",
    multiple=True,
    metavar="NAME=MODEL",
    help="A production variant and its model: a registry alias or version (champion, 3, models:/NAME@ALIAS), "
    "a model.tar.gz, or (local endpoint only) a model directory. Repeatable. "
    "[default: champion=champion and challenger=challenger]",
)
@click.option(
    "--weights",
    default=None,
    metavar="NAME=W,...",
    help="Initial weights [default: champion=90,challenger=10 for the default variants, else equal].",
)
@click.option("--model-name", default=REGISTERED_MODEL_NAME, show_default=True, help="Registered model name.")
@click.option(
    "--image-uri",
    envvar="MLOPS_SERVING_IMAGE",
    default=None,
    help="Serving image (the Dockerfile's) [env MLOPS_SERVING_IMAGE; required on AWS].",
)
@click.option(
    "--role",
    envvar="MLOPS_SAGEMAKER_ROLE_ARN",
    default=None,
    help="SageMaker execution role ARN [env MLOPS_SAGEMAKER_ROLE_ARN; required on AWS].",
)
@click.option(
    "--bucket",
    envvar="MLOPS_SAGEMAKER_BUCKET",
    default=None,
    help="S3 bucket for model packages [env MLOPS_SAGEMAKER_BUCKET; default sagemaker-<region>-<account>].",
)
@click.option(
    "--prefix", envvar="MLOPS_SAGEMAKER_PREFIX", default=DEFAULT_S3_PREFIX, show_default=True, help="S3 key prefix."
)
@click.option(
    "--instance-type",
    "instance_types",
    multiple=True,
    metavar="[NAME=]TYPE",
    help="Instance type of every variant, or of one (NAME=TYPE); repeatable [default: ml.m5.large].",
)
@click.option(
    "--instance-count",
    "instance_counts",
    multiple=True,
    metavar="[NAME=]N",
    help="Instances of every variant, or of one (NAME=N); repeatable [default: 1].",
)
@click.option(
    "--data-capture",
    default=None,
    metavar="S3_URI|DIR|off",
    help="Capture requests and responses (SageMaker data capture) to this S3 URI, or on the local endpoint to this "
    "directory; `off` deploys without capture. A redeploy without it keeps the endpoint's capture.",
)
@click.option(
    "--capture-percent",
    type=click.IntRange(0, 100),
    default=100,
    show_default=True,
    help="Share of requests captured, 0-100 (with --data-capture).",
)
@guardrail_options
@click.option(
    "--autoscale",
    "autoscale",
    default=None,
    metavar="MIN:MAX:TARGET",
    help="Target tracking on invocations per instance per minute for each variant, e.g. 1:4:70 (AWS); registered "
    "once the endpoint is InService.",
)
@click.option("--no-wait", is_flag=True, help="Return once the update has started (not with --autoscale).")
def deploy(
    endpoint_name: str,
    target: DeployTarget,
    as_json: bool,
    model_name: str,
    role: str | None,
    bucket: str | None,
    prefix: str,
    no_wait: bool,
    **options: Any,
) -> None:
    """Deploy ENDPOINT with production variants built from registry versions (create, or update in place)."""
    from inference.deploy.endpoints import render_status
    from inference.deploy.plan import DeploymentPlan
    from pipelines import release

    plan = DeploymentPlan.from_options(endpoint_name, role_arn=role, wait=not no_wait, local=target.is_local, **options)
    target.bucket, target.prefix = bucket, prefix
    status = release.deploy(target, plan, model_name=model_name)
    emit(status, as_json=as_json, text=render_status(status))


# ---- status and shift ------------------------------------------------------------------------------------------


@endpoint_command("status")
def status(endpoint_name: str, target: DeployTarget, as_json: bool) -> None:
    """Show ENDPOINT's variants: weights, traffic shares, instances, models and their registry versions."""
    from inference.deploy.endpoints import render_status

    result = target.manager.status(endpoint_name)
    emit(result, as_json=as_json, text=render_status(result))


@endpoint_command("shift")
@click.option(
    "--weights", default=None, metavar="NAME=W,...", help="Set these weights now, e.g. champion=50,challenger=50."
)
@click.option("--variant", default=None, help="With --schedule: the variant whose traffic share grows.")
@click.option(
    "--schedule", default=None, metavar="P1,P2,...", help="Stepwise percentages for --variant, e.g. 10,25,50,100."
)
@click.option(
    "--bake-seconds",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    help="How long each step runs before its metrics are checked (on AWS at least 240 s: a step is judged on the "
    "whole CloudWatch minutes at its weights that are published, read 120 s after they close).",
)
@click.option(
    "--max-error-rate",
    type=click.FloatRange(0, 1),
    default=Guard.max_error_rate,
    show_default=True,
    help="Revert when any variant's error rate over a step exceeds this.",
)
@click.option(
    "--max-p95-ms",
    type=float,
    default=P95_BUDGET_MS,
    show_default=True,
    help="Revert when any variant's p95 exceeds this.",
)
@click.option(
    "--min-invocations",
    type=click.IntRange(min=0),
    default=MIN_STEP_INVOCATIONS,
    show_default=True,
    help="Requests each variant with traffic must serve before a step is judged; fewer extend the bake.",
)
@click.option(
    "--max-bake-seconds",
    type=click.FloatRange(min=0),
    default=None,
    help="A step still short of --min-invocations after this long reverts for insufficient evidence "
    "(default: 3 x --bake-seconds).",
)
def shift(
    endpoint_name: str,
    target: DeployTarget,
    as_json: bool,
    weights: str | None,
    variant: str | None,
    schedule: str | None,
    bake_seconds: float,
    max_error_rate: float,
    max_p95_ms: float,
    min_invocations: int,
    max_bake_seconds: float | None,
) -> None:
    """Change ENDPOINT's variant weights in place, at once (--weights) or stepwise with a revert guard (--schedule).

    A stepwise shift stopped part-way (Ctrl-C, SIGTERM, a failed call) puts the starting weights back and says so.
    """
    from inference.deploy.plan import ShiftPlan
    from inference.deploy.shifts import shift_schedule

    plan = ShiftPlan.from_options(
        weights=weights,
        variant=variant,
        schedule=schedule,
        bake_s=bake_seconds,
        max_error_rate=max_error_rate,
        max_p95_ms=max_p95_ms,
        min_invocations=min_invocations,
        max_bake_s=max_bake_seconds,
    )
    if plan.weights is not None:
        result = target.manager.shift(endpoint_name, plan.weights)
        emit(
            {"endpoint": endpoint_name, "weights": result}, as_json=as_json, text=f"{endpoint_name}: {_weights(result)}"
        )
        return
    variant, steps = plan.variant or "", plan.steps

    def report_step(step: dict[str, Any]) -> None:
        click.echo(f"  {variant} at {step['percent']:g}%: {'; '.join(step['violations']) or 'ok'}", err=True)

    click.echo(
        f"shifting {endpoint_name} to {variant}: {', '.join(f'{s:g}%' for s in steps)}, {bake_seconds:g} s per step",
        err=True,
    )
    with sigterm_interrupts():  # stopped part-way, the shift puts the starting weights back and says so
        outcome = shift_schedule(
            target.manager,
            endpoint_name,
            variant,
            steps,
            bake_s=plan.bake_s,
            max_bake_s=plan.max_bake_s,
            guard=plan.guard,
            traffic=target.traffic,
            on_step=report_step,
            on_progress=target.manager.on_progress,
        )
    emit(
        outcome.to_dict(),
        as_json=as_json,
        text=f"{endpoint_name}: {outcome.reason}; weights now {_weights(outcome.final_weights)}",
    )
    if outcome.reverted:
        click.echo(f"error: shift of {endpoint_name} reverted: {outcome.reason}", err=True)
        click.get_current_context().exit(1)


# ---- promote and rollback --------------------------------------------------------------------------------------


@endpoint_command("promote")
@click.option(
    "--variant",
    required=True,
    help="The winning variant: it takes all traffic as the variant `champion`, the others leave the endpoint.",
)
@click.option("--tolerance", type=float, default=0.01, show_default=True, help="Registry gate: metric tolerance.")
@click.option(
    "--p95-budget-ms", type=float, default=P95_BUDGET_MS, show_default=True, help="Registry gate: benchmark p95 budget."
)
@click.option(
    "--force",
    is_flag=True,
    help="Promote even when the A/B report's verdict on VARIANT is not promote; needs --reason, kept in the audit.",
)
@registry_options
@guardrail_options
@verdict_options
def promote(
    endpoint_name: str,
    target: DeployTarget,
    as_json: bool,
    variant: str,
    force: bool,
    report_args: dict[str, Any],
    registry: bool,
    tolerance: float,
    p95_budget_ms: float,
    reason: str | None,
    actor: str | None,
    guardrails: str | None,
    guardrail_step: int,
    guardrail_wait: int,
    guardrail_timeout: int | None,
    guardrail_p95_ms: float,
) -> None:
    """Promote VARIANT on ENDPOINT once the A/B report's verdict on it is promote (or --force --reason): all traffic
    to it (as variant `champion`), the others removed, the champion alias moved to its version (and challenger taken
    off it)."""
    from inference.deploy.plan import Guardrails
    from pipelines import release

    rails = (
        Guardrails(
            guardrails,
            guardrail_step,
            guardrail_wait,
            max_execution_s=guardrail_timeout,
            alarm_p95_ms=guardrail_p95_ms,
        )
        if guardrails
        else None
    )
    gate = release.RegistryGate(registry, tolerance, p95_budget_ms, actor, reason)
    verdict_gate = release.VerdictGate(report_args, force)
    result = release.promote(target, endpoint_name, variant, gate=gate, guardrails=rails, verdict_gate=verdict_gate)
    for warning in result["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    text = (
        f"{endpoint_name}: {variant} now takes all traffic as variant {result['variant']} "
        f"(removed: {', '.join(result['removed']) or 'none'}); "
        f"config {result['endpoint_config']} replaces {result['previous_config']}"
    )
    if result["registry"]:
        text += f"\n{result['registry']['message'].splitlines()[0]}"
    emit(result, as_json=as_json, text=text)


@endpoint_command("rollback")
@registry_options
def rollback(
    endpoint_name: str, target: DeployTarget, as_json: bool, registry: bool, reason: str | None, actor: str | None
) -> None:
    """Undo ENDPOINT's last change, whatever it was: a shift's weights, a deploy's or promotion's config (and, for a
    promotion, the champion alias). Repeat to walk back further (`mlops endpoint history` lists the changes)."""
    from inference.deploy.history import render_rollback
    from pipelines import release

    result = release.rollback(target, endpoint_name, gate=release.RegistryGate(registry, actor=actor, reason=reason))
    if result["warning"]:
        click.echo(f"warning: {result['warning']}", err=True)
    text = render_rollback(result)
    if result["registry"]:
        text += f"\n{result['registry']['message'].splitlines()[0]}"
    emit(result, as_json=as_json, text=text)


@endpoint_command("history")
def history(endpoint_name: str, target: DeployTarget, as_json: bool) -> None:
    """List ENDPOINT's changes, newest first: when, what (weights, config, promoted version), who, and what undid it."""
    from inference.deploy.history import render_history

    changes = target.manager.history(endpoint_name)
    emit({"endpoint": endpoint_name, "changes": changes}, as_json=as_json, text=render_history(endpoint_name, changes))


# ---- report ----------------------------------------------------------------------------------------------------


@endpoint_command("report")
@report_options
@click.option("--check", is_flag=True, help="Exit 1 unless the verdict is promote (for CI).")
def report(endpoint_name: str, target: DeployTarget, as_json: bool, report_args: dict[str, Any], check: bool) -> None:
    """A/B report on ENDPOINT: per-variant traffic, errors, latency and accuracy with confidence intervals, the
    sample sizes a decision needs, and a verdict (promote, rollback, or inconclusive until the evidence suffices)."""
    from inference.deploy.report import PROMOTE, endpoint_report, render_table

    result = endpoint_report(target, endpoint_name, **report_args)
    emit(result, as_json=as_json, text=render_table(result))
    if check and result["verdict"] != PROMOTE:
        click.echo(f"error: verdict is {result['verdict']}, not promote", err=True)
        click.get_current_context().exit(1)


# ---- shadow tests ----------------------------------------------------------------------------------------------


@endpoint.group()
def shadow() -> None:
    """Shadow tests: mirror a share of a production variant's live traffic to a candidate model that serves nobody.

    Callers get production's answers and never wait for the shadow; its agreement with production, latency and
    errors are recorded for `report`. On AWS this is an inference experiment (ShadowMode, one shadow variant).
    """


def shadow_command(name: str) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand of `mlops endpoint shadow` taking ENDPOINT, target options and --json, with clean errors."""
    return _endpoint_subcommand(shadow, name)


@shadow_command("start")
@click.option(
    "--model",
    required=True,
    metavar="REF",
    help="The candidate: models:/NAME@ALIAS, NAME/VERSION, a model.tar.gz, or (local endpoint) a model directory.",
)
@click.option("--variant", default=DEFAULT_SHADOW_VARIANT, show_default=True, help="The shadow variant's name.")
@click.option(
    "--percent",
    type=click.IntRange(1, 100),
    default=100,
    show_default=True,
    help="Percent of the source variant's requests mirrored to the shadow.",
)
@click.option(
    "--source-variant",
    default=None,
    help="The production variant whose traffic is mirrored [default: the endpoint's heaviest variant].",
)
def shadow_start(
    endpoint_name: str,
    target: DeployTarget,
    as_json: bool,
    model: str,
    variant: str,
    percent: int,
    source_variant: str | None,
) -> None:
    """Start a shadow test on ENDPOINT: --model runs as a shadow variant of a production variant."""
    from pipelines.shadow import start_shadow

    result = start_shadow(target, endpoint_name, model, variant=variant, percent=percent, source_variant=source_variant)
    config = result.get("ShadowModeConfig", {})
    shadows = ", ".join(
        f"{s['ShadowModelVariantName']} ({s['SamplingPercentage']}%)" for s in config.get("ShadowModelVariants", [])
    )
    text = (
        f"shadow test {result['Name']} {result.get('Status', '').lower()} on {endpoint_name}: "
        f"{config.get('SourceModelVariantName')} mirrored to {shadows}"
    )
    emit(result, as_json=as_json, text=text)


@shadow_command("report")
@click.option(
    "--min-requests",
    type=click.IntRange(min=1),
    default=ShadowPolicy.min_requests,
    show_default=True,
    help="Mirrored requests needed before a verdict.",
)
@click.option(
    "--min-agreement",
    type=click.FloatRange(0, 1),
    default=ShadowPolicy.min_agreement,
    show_default=True,
    help="Share of inputs whose top intent must match production's (the interval's lower bound).",
)
@click.option(
    "--max-p95-ms", type=float, default=ShadowPolicy.max_p95_ms, show_default=True, help="The shadow's p95 budget."
)
@click.option(
    "--max-p95-ratio",
    "max_latency_ratio",
    type=click.FloatRange(min=0, min_open=True),
    default=ShadowPolicy.max_latency_ratio,
    show_default=True,
    help="The shadow's p95 over production's on the same requests.",
)
@click.option(
    "--max-error-rate",
    type=click.FloatRange(0, 1),
    default=ShadowPolicy.max_error_rate,
    show_default=True,
    help="The shadow's error rate.",
)
@click.option("--check", is_flag=True, help="Exit 1 unless the verdict is ready (for CI).")
def shadow_report(
    endpoint_name: str,
    target: DeployTarget,
    as_json: bool,
    min_requests: int,
    min_agreement: float,
    max_p95_ms: float,
    max_latency_ratio: float,
    max_error_rate: float,
    check: bool,
) -> None:
    """Report on ENDPOINT's shadow test (the running one, else the latest): agreement with production, latency and
    errors, and a verdict (ready, not ready, or insufficient evidence)."""
    from inference.deploy.shadow import READY, render_report
    from pipelines.shadow import shadow_report as build

    policy = ShadowPolicy(
        min_requests=min_requests,
        min_agreement=min_agreement,
        max_p95_ms=max_p95_ms,
        max_latency_ratio=max_latency_ratio,
        max_error_rate=max_error_rate,
    )
    result = build(target, endpoint_name, policy=policy)
    emit(result.to_dict(), as_json=as_json, text=render_report(result))
    if check and result.verdict != READY:
        click.echo(f"error: verdict is {result.verdict}, not {READY}", err=True)
        click.get_current_context().exit(1)


@shadow_command("stop")
@click.option("--reason", default=None, help="Why (kept as the experiment's status reason).")
def shadow_stop(endpoint_name: str, target: DeployTarget, as_json: bool, reason: str | None) -> None:
    """Stop ENDPOINT's shadow test: production untouched, the shadow variant removed (its figures stay readable
    with `report`)."""
    from pipelines.shadow import stop_shadow

    result = stop_shadow(target, endpoint_name, reason=reason)
    emit(result, as_json=as_json, text=f"shadow test {result['Name']} on {endpoint_name}: {result['Status']}")


# ---- the local endpoint ----------------------------------------------------------------------------------------


@endpoint.command("serve-local")
@click.argument("endpoint_name", metavar="[ENDPOINT]", required=False)
@click.option(
    "--variant",
    "variant_specs",
    multiple=True,
    metavar="NAME=MODEL",
    help="A production variant of ENDPOINT (repeatable). MODEL: a model directory, a model.tar.gz, "
    "models:/NAME@ALIAS or models:/NAME/VERSION.",
)
@click.option(
    "--weights",
    metavar="NAME=W,...",
    default=None,
    help="Variant weights, e.g. champion=90,challenger=10 (default: equal).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind; it checks no signatures, so keep it on loopback.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8080,
    show_default=True,
    envvar="MLOPS_LOCAL_ENDPOINT_PORT",
    show_envvar=True,
    help="Port.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="onnxruntime intra-op threads per variant [default: CPUs / variants].",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where registry models are downloaded and archives extracted (default: a temporary directory "
    "removed on exit).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="Log level (JSON lines on stdout).",
)
@user_errors
def serve_local(
    endpoint_name: str | None,
    variant_specs: tuple[str, ...],
    weights: str | None,
    host: str,
    port: int,
    threads: int | None,
    work_dir: Path | None,
    log_level: str,
) -> None:
    """Serve a local A/B endpoint that boto3 talks to as if it were SageMaker.

    With ENDPOINT and --variant, that endpoint is created at startup (models ENDPOINT-NAME, config
    ENDPOINT-config-1) and is in service once the server listens; without, it starts empty and endpoints are
    created through the SageMaker API, e.g. by `mlops endpoint deploy --local-endpoint URL`.

    \b
    Routes:
      POST /                               SageMaker API (AWS JSON 1.1, X-Amz-Target: SageMaker.<Operation>):
                                           Create/Describe/Delete/List Model(s), EndpointConfig, Endpoint(s),
                                           UpdateEndpoint, UpdateEndpointWeightsAndCapacities,
                                           ListTags, AddTags, DeleteTags
      POST /endpoints/NAME/invocations     SageMaker Runtime InvokeEndpoint (TargetVariant pins a variant)
      GET  /endpoints/NAME/metrics?since=  per-variant invocations, errors, latency percentiles, intents
      GET  /ping                           200 while the process is up

    \b
    Example:
      mlops endpoint serve-local intents --variant champion=models:/intent-classifier@champion \\
          --variant challenger=models:/intent-classifier@challenger --weights champion=90,challenger=10
      # boto3.client("sagemaker-runtime", endpoint_url="http://127.0.0.1:8080").invoke_endpoint(
      #     EndpointName="intents", Body=b'{"inputs": "hello"}', ContentType="application/json")
    """
    from pipelines import release

    release.serve_local(
        endpoint_name,
        variant_specs,
        weights,
        host=host,
        port=port,
        threads=threads,
        work_dir=work_dir,
        log_level=log_level,
    )
