"""`mlops pipeline definition | upsert | start`: the SageMaker side of the pipeline.

AWS endpoints and credentials come from the usual boto3 environment (AWS_PROFILE, AWS_ENDPOINT_URL, ...);
nothing is hard-coded. The SageMaker SDK is imported inside the commands only, so `mlops --help` stays fast.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ml.aws import DEFAULT_S3_PREFIX
from mlops_cli.errors import user_errors
from mlops_cli.options import region_option
from mlops_cli.output import emit, json_option

log = logging.getLogger(__name__)


def _settings_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by `definition` and `upsert` that build SageMakerSettings (env vars give defaults)."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        region_option(),
        click.option(
            "--bucket",
            envvar="MLOPS_SAGEMAKER_BUCKET",
            default=None,
            help="S3 bucket for code and outputs (env MLOPS_SAGEMAKER_BUCKET; default sagemaker-<region>-<account>).",
        ),
        click.option(
            "--prefix",
            "s3_prefix",
            envvar="MLOPS_SAGEMAKER_PREFIX",
            default=None,
            help=f"S3 key prefix inside the bucket (env MLOPS_SAGEMAKER_PREFIX; default {DEFAULT_S3_PREFIX}).",
        ),
        click.option(
            "--pipeline-name",
            envvar="MLOPS_SAGEMAKER_PIPELINE",
            default=None,
            help="Pipeline name (env MLOPS_SAGEMAKER_PIPELINE; default from the spec).",
        ),
        click.option(
            "--image-policy",
            type=click.Choice(["project", "aws"]),
            envvar="MLOPS_SAGEMAKER_IMAGE_POLICY",
            default=None,
            help="Which images the jobs run in: project (Dockerfile.train's, pushed to your ECR; installs nothing at "
            "start-up) or aws (AWS's PyTorch image; installs the container requirements in every job) "
            "[env MLOPS_SAGEMAKER_IMAGE_POLICY; default project]. `mlops pipeline images` prints them.",
        ),
        click.option(
            "--processing-image",
            default=None,
            metavar="URI",
            help="Image of the processing steps (default: the image policy's CPU image).",
        ),
        click.option(
            "--training-image",
            default=None,
            metavar="URI",
            help="Default of the TrainingImage parameter (default: the image policy's CPU image; a GPU instance "
            "type gets the policy's GPU image at start).",
        ),
        click.option(
            "--input-data-uri",
            default=None,
            metavar="S3_URI",
            help="Default of the InputDataUri parameter (default s3://<bucket>/<prefix>/data/prompts.jsonl).",
        ),
        click.option("--cache/--no-cache", "enable_caching", default=True, show_default=True, help="Step caching."),
        click.option(
            "--cache-expire-after",
            default=None,
            metavar="DURATION",
            help="How long cached step results stay valid, ISO 8601 (default P30D).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(role: str | None, **values: Any) -> Any:
    from ml.aws import validate_role_arn
    from pipelines.sagemaker_pipeline import SageMakerSettings

    if role is not None:
        validate_role_arn(role)
    return SageMakerSettings.create(
        role_arn=role,
        region=values["region"],
        default_bucket=values["bucket"],
        s3_prefix=values["s3_prefix"],
        pipeline_name=values["pipeline_name"],
        image_policy=values["image_policy"],
        processing_image_uri=values["processing_image"],
        training_image_uri=values["training_image"],
        input_data_uri=values["input_data_uri"],
        enable_caching=values["enable_caching"],
        cache_expire_after=values["cache_expire_after"],
    )


def _quiet_sdk(func: Callable[..., Any]) -> Callable[..., Any]:
    """Keep the SDK's INFO chatter (config files, job-name popping) out of the output unless -vv."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
            for name in ("sagemaker", "sagemaker.config", "botocore.credentials"):
                logging.getLogger(name).setLevel(logging.ERROR)
        return func(*args, **kwargs)

    return wrapper


@click.command()
@_settings_options
@click.option(
    "--role",
    envvar="MLOPS_SAGEMAKER_ROLE_ARN",
    default=None,
    metavar="ARN",
    help="Execution role ARN of the jobs (env MLOPS_SAGEMAKER_ROLE_ARN; default: a placeholder).",
)
@click.option(
    "--offline/--online",
    default=True,
    show_default=True,
    help="Offline: build inside moto's in-process AWS mock (needs moto; nothing leaves this process). "
    "Online: build against the configured AWS endpoint, uploading the code bundle.",
)
@click.option(
    "--check/--no-check",
    default=True,
    show_default=True,
    help="Run the offline checks (official schema + botocore request shapes + step references).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the definition to this file instead of stdout.",
)
@user_errors
@_quiet_sdk
def definition(role: str | None, offline: bool, check: bool, out_file: Path | None, **values: Any) -> None:
    """Print the SageMaker Pipeline definition JSON built from the spec (deterministic)."""
    from pipelines.definition_check import assert_valid
    from pipelines.sagemaker_pipeline import definition_json

    settings = _settings(role, **values)
    if settings.is_placeholder_role:
        log.warning("no --role given: the definition uses the placeholder %s", settings.role_arn)
    text = definition_json(settings, offline=offline)
    if check:
        assert_valid(text)
    if out_file is not None:
        out_file.write_text(text)
        click.echo(f"wrote {out_file}" + (" (offline checks passed)" if check else ""), err=True)
    else:
        click.echo(text, nl=False)


@click.command()
@_settings_options
@click.option(
    "--role",
    required=True,
    envvar="MLOPS_SAGEMAKER_ROLE_ARN",
    metavar="ARN",
    help="IAM role ARN the pipeline and its jobs run as: arn:aws:iam::<account>:role/<name>.",
)
@click.option("--description", default=None, help="Pipeline description.")
@click.option("--check/--no-check", default=True, show_default=True, help="Run the offline checks before sending.")
@json_option
@user_errors
@_quiet_sdk
def upsert(role: str, description: str | None, check: bool, as_json: bool, **values: Any) -> None:
    """Create or update the pipeline in SageMaker (uploads the code bundle to S3)."""
    from pipelines.sagemaker_pipeline import upsert_pipeline

    settings = _settings(role, **values)
    response = upsert_pipeline(settings, description=description, check=check)
    payload = {
        "pipeline_name": settings.pipeline_name,
        "pipeline_arn": response.get("PipelineArn"),
        "region": settings.region,
    }
    emit(payload, as_json=as_json, text=f"upserted {payload['pipeline_arn']}")


@click.command()
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a pipeline parameter (repeatable), e.g. -p Epochs=5 -p TrainingInstanceType=ml.g5.xlarge.",
)
@click.option(
    "--tracking-uri",
    envvar="MLFLOW_TRACKING_URI",
    default=None,
    metavar="URI",
    help="The MLflow registry the execution registers into: a server URL or a SageMaker managed MLflow ARN "
    "[env MLFLOW_TRACKING_URI; a local sqlite:/file: store is refused, the jobs could not reach it].",
)
@click.option(
    "--data-remote",
    default=None,
    metavar="NAME",
    help="DVC remote (on S3) whose copy of data/prompts.jsonl to train on (default: DVC's default remote). "
    "Sets InputDataUri and DataMd5 unless -p InputDataUri is given.",
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="DVC repository of the dataset (default: the project root).",
)
@region_option()
@click.option(
    "--pipeline-name",
    envvar="MLOPS_SAGEMAKER_PIPELINE",
    default=None,
    help="Pipeline name (env MLOPS_SAGEMAKER_PIPELINE; default from the spec).",
)
@click.option("--display-name", default=None, help="Display name of the execution.")
@json_option
@user_errors
@_quiet_sdk
def start(
    params: tuple[str, ...],
    tracking_uri: str | None,
    data_remote: str | None,
    repo: Path | None,
    region: str,
    pipeline_name: str | None,
    display_name: str | None,
    as_json: bool,
) -> None:
    """Start an execution of the upserted pipeline and print its ARN.

    A GPU training instance type (-p TrainingInstanceType=ml.g5.xlarge) gets the GPU image of the pipeline's image
    policy; a multi-GPU one trains with one process per GPU.
    """
    from ml.settings import project_root
    from pipelines.sagemaker_pipeline import SageMakerSettings, start_pipeline
    from pipelines.spec import parse_parameter_overrides

    settings = SageMakerSettings.create(region=region, pipeline_name=pipeline_name)
    arn, parameters = start_pipeline(
        settings,
        parse_parameter_overrides(params),
        tracking_uri=tracking_uri,
        repo=repo or project_root(),
        data_remote=data_remote,
        display_name=display_name,
    )
    payload = {"execution_arn": arn, "pipeline_name": settings.pipeline_name, "parameters": parameters}
    emit(payload, as_json=as_json, text=arn)


@click.command()
@_settings_options
@click.option(
    "--role",
    envvar="MLOPS_SAGEMAKER_ROLE_ARN",
    default=None,
    metavar="ARN",
    help="Execution role ARN: its account owns the project's ECR repository (env MLOPS_SAGEMAKER_ROLE_ARN).",
)
@click.option(
    "--tag",
    "tag_kind",
    type=click.Choice(["cpu", "gpu"]),
    default=None,
    help="Print only the project image's tag for this kind (for `docker build -t`).",
)
@json_option
@user_errors
def images(role: str | None, tag_kind: str | None, as_json: bool, **values: Any) -> None:
    """Print the CPU and GPU images the jobs run in under the image policy (build and push the project's)."""
    from pipelines.images import TRAINING_REPOSITORY, project_image_tag

    if tag_kind is not None:
        click.echo(project_image_tag(tag_kind))
        return
    settings = _settings(role, **values)
    chosen = settings.images()
    payload = {
        "policy": chosen.policy,
        "cpu": chosen.cpu,
        "gpu": chosen.gpu,
        "installs_requirements": chosen.installs_requirements,
        "repository": TRAINING_REPOSITORY if chosen.policy == "project" else None,
    }
    text = f"policy {chosen.policy}\ncpu  {chosen.cpu}\ngpu  {chosen.gpu}"
    if settings.is_placeholder_role:
        text += "\n(account from the placeholder role: pass --role for yours)"
    emit(payload, as_json=as_json, text=text)


COMMANDS: list[click.Command] = [definition, upsert, start, images]
