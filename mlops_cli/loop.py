"""`mlops loop run | audit | webhook`: the retraining loop (docs/loop.md), one stage per run, its audit trail, and
an MLflow webhook receiver that starts the shadow stage when a challenger is registered."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from inference.deploy.shadow import DEFAULT_SHADOW_VARIANT
from ml.settings import REGISTERED_MODEL_NAME
from mlops_cli.errors import aws_errors, user_errors
from mlops_cli.options import region_option
from mlops_cli.output import emit, json_option

if TYPE_CHECKING:
    from pipelines.loop import LoopSettings, LoopStep


@click.group()
def loop() -> None:
    """The retraining loop: drift and new data → retrain → challenger → shadow → A/B at a small weight → the gated
    promote (yours). Each `loop run` takes one stage and records it (`loop audit`)."""


def settings_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """ENDPOINT and the options of LoopSettings; the command receives `settings` instead."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.argument("endpoint", metavar="ENDPOINT"),
        click.option(
            "--local-endpoint",
            "local_url",
            envvar="MLOPS_LOCAL_ENDPOINT",
            default=None,
            metavar="URL",
            help="The local A/B endpoint (`mlops endpoint serve-local`) [env MLOPS_LOCAL_ENDPOINT]; without it: "
            "SageMaker on AWS.",
        ),
        region_option(),
        click.option(
            "--capture",
            envvar="MLOPS_LOOP_CAPTURE",
            default=None,
            metavar="PATH|S3_URI",
            help="The endpoint's data capture (a directory, file:// or s3://bucket/prefix) tested for drift "
            "[env MLOPS_LOOP_CAPTURE; without it, no drift test].",
        ),
        click.option("--capture-variant", default=None, help="Only this variant's captures [default: all]."),
        click.option(
            "--since",
            type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"]),
            default=None,
            help="Only captures from this UTC time on (ISO 8601).",
        ),
        click.option("--model-name", default=REGISTERED_MODEL_NAME, show_default=True, help="Registered model."),
        click.option(
            "--alpha",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=0.01,
            show_default=True,
            help="Drift test significance level.",
        ),
        click.option(
            "--min-samples",
            type=click.IntRange(min=1),
            default=50,
            show_default=True,
            help="Captured requests the drift test needs.",
        ),
        click.option(
            "--shadow-variant", default=DEFAULT_SHADOW_VARIANT, show_default=True, help="Name of the shadow variant."
        ),
        click.option(
            "--shadow-percent",
            type=click.FloatRange(0, 100, min_open=True),
            default=100.0,
            show_default=True,
            help="Share of production requests mirrored to the shadow.",
        ),
        click.option(
            "--shadow-min-requests",
            type=click.IntRange(min=1),
            default=None,
            help="Mirrored requests the shadow report needs before it judges [default: the shadow policy's].",
        ),
        click.option(
            "--shadow-min-agreement",
            type=click.FloatRange(0, 1),
            default=None,
            help="Share of mirrored requests on which the shadow must predict the production variant's intent "
            "[default: the shadow policy's]. A challenger retrained on drifted traffic is meant to disagree where the "
            "champion was wrong: lower it for such a challenger; the A/B report then judges accuracy.",
        ),
        click.option(
            "--ab-weight",
            type=click.FloatRange(0, 100, min_open=True, max_open=True),
            default=10.0,
            show_default=True,
            help="The challenger's percent of traffic in the A/B test.",
        ),
        click.option(
            "--ab-sample-size",
            type=click.IntRange(min=1),
            default=None,
            help="Labelled inputs the A/B report (read while the test runs) sends each variant [default: the "
            "report's].",
        ),
        click.option(
            "--retrain",
            type=click.Choice(["local", "sagemaker"]),
            default="local",
            show_default=True,
            help="Run the pipeline here (`mlops pipeline run`) or start it on SageMaker (`mlops pipeline start`).",
        ),
        click.option(
            "-p",
            "--param",
            "params",
            multiple=True,
            metavar="NAME=VALUE",
            help="A pipeline parameter for retraining (repeatable), e.g. -p Epochs=8.",
        ),
        click.option("--retry", is_flag=True, help="Retrain a data version whose last retraining failed."),
        click.option(
            "--image-uri", envvar="MLOPS_SERVING_IMAGE", default=None, help="AWS: serving image of the A/B variant."
        ),
        click.option(
            "--role", envvar="MLOPS_SAGEMAKER_ROLE_ARN", default=None, help="AWS: the endpoint's execution role ARN."
        ),
        click.option(
            "--bucket", envvar="MLOPS_SAGEMAKER_BUCKET", default=None, help="AWS: S3 bucket for model packages."
        ),
        click.option(
            "--tracking-uri",
            envvar="MLFLOW_TRACKING_URI",
            default=None,
            help="SageMaker retraining: the MLflow registry the execution registers into [env MLFLOW_TRACKING_URI].",
        ),
        click.option(
            "--pipeline-name", envvar="MLOPS_SAGEMAKER_PIPELINE", default=None, help="SageMaker: the pipeline name."
        ),
        click.option("--data-remote", default=None, help="SageMaker: the DVC remote on S3 holding the data."),
        click.option("--actor", default=None, help="Who runs the loop (default: MLOPS_ACTOR, GITHUB_ACTOR, the user)."),
    ]

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        endpoint: str,
        local_url: str | None,
        region: str,
        capture: str | None,
        capture_variant: str | None,
        since: datetime | None,
        model_name: str,
        alpha: float,
        min_samples: int,
        shadow_variant: str,
        shadow_percent: float,
        shadow_min_requests: int | None,
        shadow_min_agreement: float | None,
        ab_weight: float,
        ab_sample_size: int | None,
        retrain: str,
        params: tuple[str, ...],
        retry: bool,
        image_uri: str | None,
        role: str | None,
        bucket: str | None,
        tracking_uri: str | None,
        pipeline_name: str | None,
        data_remote: str | None,
        actor: str | None,
        **kwargs: Any,
    ) -> Any:
        from datetime import UTC

        from pipelines.loop import LoopSettings
        from pipelines.shadow import ShadowPolicy

        policy: dict[str, Any] = {"min_requests": shadow_min_requests, "min_agreement": shadow_min_agreement}
        settings = LoopSettings(
            endpoint=endpoint,
            local_url=local_url,
            region=region,
            capture=capture,
            capture_variant=capture_variant,
            since=since.replace(tzinfo=UTC) if since else None,
            model_name=model_name,
            alpha=alpha,
            min_samples=min_samples,
            shadow_variant=shadow_variant,
            shadow_percent=shadow_percent,
            shadow_policy=ShadowPolicy(**{k: v for k, v in policy.items() if v is not None}),
            ab_weight=ab_weight,
            ab_sample_size=ab_sample_size,
            retrain=retrain,
            pipeline_params=params,
            retry=retry,
            image_uri=image_uri,
            role_arn=role,
            bucket=bucket,
            tracking_uri=tracking_uri if retrain == "sagemaker" else None,
            pipeline_name=pipeline_name,
            data_remote=data_remote,
            actor=actor,
        )
        return func(*args, settings=settings, **kwargs)

    decorated: Callable[..., Any] = user_errors(wrapper)  # a bad setting is a clean error, like any other
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def render_step(step: LoopStep) -> str:
    """A loop step as `mlops loop run` prints it."""
    prefix = "would take" if step.dry_run else "took"
    lines = [
        f"loop {step.endpoint}: {prefix} stage {step.stage} ({step.outcome})",
        f"  why:    {step.decision}",
        f"  action: {step.action}",
    ]
    error = step.result.get("error")
    if error:
        lines.append(f"  error:  {error}")
    lines.append(f"  next:   {step.next}")
    if step.audit_run_id:
        lines.append(f"  audit:  MLflow run {step.audit_run_id} (mlops loop audit)")
    return "\n".join(lines)


@loop.command("run")
@settings_options
@click.option(
    "--dry-run", is_flag=True, help="Say which stage the loop is at and exactly what it would do; change nothing."
)
@json_option
@user_errors
@aws_errors
def run(settings: LoopSettings, dry_run: bool, as_json: bool) -> None:
    """Find where the loop stands for ENDPOINT and take one stage: idle, needs-labels (exit 1), retrain, shadow,
    evaluate the shadow (then A/B at a small weight), or point at the A/B report and the gated promote.

    Run it on a schedule (docs/examples/loop-schedule.github-actions.yml): each run takes the next stage.
    """
    from pipelines.loop import run_loop

    step = run_loop(settings, dry_run=dry_run)
    emit(step.to_dict(), as_json=as_json, text=render_step(step))
    if step.exit_code:
        click.get_current_context().exit(step.exit_code)


@loop.command("audit")
@click.option("--endpoint", default=None, help="Only this endpoint's steps.")
@json_option
@user_errors
def audit(endpoint: str | None, as_json: bool) -> None:
    """Every step the loop took, oldest first: when, which stage, why, what it did (MLflow experiment
    intent-classifier-loop)."""
    from model_registry.loop_audit import LOOP_EXPERIMENT, list_steps

    steps = list_steps(endpoint=endpoint)
    lines = [f"{len(steps)} loop step(s) in MLflow experiment {LOOP_EXPERIMENT}"]
    for step in steps:
        lines.append(
            f"{step.get('at', '?')}  {step.get('endpoint', '?')}  {step.get('stage', '?'):<14} "
            f"{step.get('outcome', '?'):<8} {step.get('decision', '')}"
        )
    emit({"experiment": LOOP_EXPERIMENT, "steps": steps}, as_json=as_json, text="\n".join(lines))


@loop.command("webhook")
@settings_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=8090, show_default=True, help="Port.")
@user_errors
def webhook(settings: LoopSettings, host: str, port: int) -> None:
    """Receive MLflow webhooks (model_version_alias.created) for ENDPOINT's model: when the challenger alias is set,
    run the loop's shadow stage. Deliveries must carry MLflow's HMAC signature made with the secret in
    MLOPS_WEBHOOK_SECRET, and be fresh (5 minutes); others get 401.

    \b
    Register it with MLflow (server with a SQL store):
      MlflowClient().create_webhook(name="intent-loop", url="https://HOST:PORT/",
          events=["model_version_alias.created"], secret=SECRET)
    """
    import os

    from pipelines.loop_webhook import SECRET_ENV, loop_receiver

    receiver = loop_receiver(settings, os.environ.get(SECRET_ENV, ""), host=host, port=port)
    click.echo(f"receiving MLflow webhooks on {receiver.url} for {settings.model_name}@challenger", err=True)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        receiver.shutdown()
