"""`mlops aws check`: verify an AWS setup with read-only calls before anything is paid for.

Credentials, region and endpoint come from the usual boto3 environment (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL, ...); the defaults of the options are the environment variables the other commands use.
"""

from __future__ import annotations

import click

from ml.aws import DEFAULT_S3_PREFIX
from mlops_cli.errors import user_errors
from mlops_cli.options import region_option
from mlops_cli.output import emit, json_option


@click.group()
def aws() -> None:
    """The AWS setup of the SageMaker path: check it before the first paid run (IAM policies: docs/aws/iam/)."""


@aws.command()
@click.option(
    "--role",
    envvar="MLOPS_SAGEMAKER_ROLE_ARN",
    default=None,
    metavar="ARN",
    help="The SageMaker execution role (or the endpoint's role) [env MLOPS_SAGEMAKER_ROLE_ARN].",
)
@click.option(
    "--bucket",
    envvar="MLOPS_SAGEMAKER_BUCKET",
    default=None,
    help="S3 bucket for code, outputs and model packages [env MLOPS_SAGEMAKER_BUCKET; "
    "default sagemaker-<region>-<account>].",
)
@click.option(
    "--prefix",
    envvar="MLOPS_SAGEMAKER_PREFIX",
    default=None,
    help=f"S3 key prefix inside the bucket [env MLOPS_SAGEMAKER_PREFIX; default {DEFAULT_S3_PREFIX}].",
)
@region_option("the jobs and endpoints run in")
@click.option(
    "--tracking-uri",
    envvar="MLFLOW_TRACKING_URI",
    default=None,
    metavar="URI",
    help="MLflow tracking URI the SageMaker jobs will use: http(s)://... or a SageMaker MLflow tracking server ARN "
    "[env MLFLOW_TRACKING_URI].",
)
@click.option(
    "--image",
    "images",
    multiple=True,
    envvar="MLOPS_SERVING_IMAGE",
    metavar="URI",
    help="An ECR image that must exist, e.g. the serving or training image; repeatable [env MLOPS_SERVING_IMAGE].",
)
@click.option(
    "--simulate",
    multiple=True,
    type=click.Choice(["pipeline", "endpoint", "execution-role"]),
    help="Ask IAM's policy simulator whether the key actions would be allowed: the caller's for the pipeline or "
    "for an endpoint, or the role's; repeatable (needs iam:SimulatePrincipalPolicy).",
)
@click.option("--endpoint", default=None, metavar="NAME", help="Endpoint name for --simulate endpoint.")
@click.option(
    "--pipeline-name",
    envvar="MLOPS_SAGEMAKER_PIPELINE",
    default=None,
    help="Pipeline name for --simulate pipeline [env MLOPS_SAGEMAKER_PIPELINE; default from the spec].",
)
@json_option
@user_errors
def check(
    role: str | None,
    bucket: str | None,
    prefix: str | None,
    region: str,
    tracking_uri: str | None,
    images: tuple[str, ...],
    simulate: tuple[str, ...],
    endpoint: str | None,
    pipeline_name: str | None,
    as_json: bool,
) -> None:
    """Check the AWS setup with read-only calls: identity, role, bucket, MLflow, images, permissions.

    Each check prints pass, fail or skipped with the reason; exits 1 when any check fails. Nothing is created or
    written.
    """
    from pipelines.aws_check import AwsSetup, render, run_checks, summary

    setup = AwsSetup.create(
        region=region,
        role_arn=role,
        bucket=bucket,
        prefix=prefix,
        pipeline_name=pipeline_name,
        tracking_uri=tracking_uri,
        images=images,
        simulate=simulate,
        endpoint=endpoint,
    )
    checks = run_checks(setup)
    result = {"region": setup.region, **summary(checks)}
    emit(result, as_json=as_json, text=render(checks))
    if not result["ok"]:
        click.echo(f"error: {result['counts']['fail']} check(s) failed", err=True)
        click.get_current_context().exit(1)
