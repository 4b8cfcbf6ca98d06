"""Model packages of production variants: a model directory or a SageMaker model.tar.gz on disk, and its S3 copy."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError

from inference.variants import DeploymentError
from ml.aws import boto3_client
from ml.model import PACKAGE_FILE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedModel:
    """One variant's model: where its package (or directory) is on disk, and which registry version it is."""

    variant: str
    local_path: Path
    registered_model: str = ""
    model_version: str = ""


def check_package_path(variant: str, path: Path, *, local: bool) -> Path:
    """A path a variant can be deployed from: a model.tar.gz, or (local endpoint only) a model directory."""
    if path.is_dir():
        if not local:
            raise DeploymentError(
                f"variant {variant}: {path} is a model directory; SageMaker needs a {PACKAGE_FILE}",
                hint="deploy a registry version (the pipeline packages it) or the output of `mlops export --package`",
            )
        return path
    if not path.name.endswith(".tar.gz"):
        raise DeploymentError(f"variant {variant}: {path} is neither a model directory nor a {PACKAGE_FILE}")
    return path


def upload_packages(models: list[ResolvedModel], *, bucket: str | None, prefix: str, region: str) -> dict[str, str]:
    """Upload each package to S3 (keyed by registry version, else by content hash); return variant -> s3:// URL."""
    s3 = boto3_client("s3", region=region)
    if not bucket:
        account = boto3_client("sts", region=region).get_caller_identity()["Account"]
        bucket = f"sagemaker-{region}-{account}"
    check_bucket(s3, bucket)
    urls = {}
    for model in models:
        if model.model_version:
            key = f"{prefix}/models/{model.registered_model}/v{model.model_version}/{PACKAGE_FILE}"
        else:
            digest = hashlib.sha256(model.local_path.read_bytes()).hexdigest()[:16]
            key = f"{prefix}/models/files/{digest}/{PACKAGE_FILE}"
        try:
            s3.upload_file(str(model.local_path), bucket, key)
        except S3UploadFailedError as exc:
            raise DeploymentError(
                f"could not upload {model.local_path.name} of variant {model.variant} to s3://{bucket}/{key}: {exc}",
                hint="nothing was created on SageMaker; check the bucket and your s3:PutObject permission, then rerun",
            ) from exc
        urls[model.variant] = f"s3://{bucket}/{key}"
        log.info("uploaded %s to %s", model.local_path, urls[model.variant])
    return urls


def check_bucket(s3: Any, bucket: str) -> None:
    """DeploymentError, before anything is uploaded, when the packages' bucket is missing or not ours to use."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket"):
            raise DeploymentError(
                f"S3 bucket {bucket} does not exist: nothing was uploaded or created",
                hint=f"create it (`aws s3 mb s3://{bucket}`) or name another: --bucket / MLOPS_SAGEMAKER_BUCKET",
            ) from exc
        raise DeploymentError(
            f"S3 bucket {bucket} cannot be used ({code or 'error'}: {exc.response.get('Error', {}).get('Message')}): "
            "nothing was uploaded or created",
            hint="check that the bucket is yours and that the credentials allow s3:ListBucket and s3:PutObject",
        ) from exc
