"""Turn `NAME=MODEL` variant specs into model packages on disk (from the registry or paths) and, for AWS, in S3."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.variants import DeploymentError

log = logging.getLogger(__name__)

PACKAGE_DIR = "endpoint-packages"


@dataclass(frozen=True)
class ResolvedModel:
    """One variant's model: where its package (or directory) is, and which registry version it is."""

    variant: str
    local_path: Path
    registered_model: str = ""
    model_version: str = ""


def resolve_models(pairs: list[tuple[str, str]], *, model_name: str, local: bool) -> list[ResolvedModel]:
    """Each (variant, MODEL) as a package or directory on disk; registry refs are downloaded to the state directory.

    Every reference is checked before anything is downloaded to S3 or created on the endpoint.
    """
    from ml.settings import state_dir
    from model_registry.artifacts import download_package, parse_model_ref
    from model_registry.queries import get_version

    checked: dict[str, Path | tuple[str, dict[str, Any]]] = {}
    for variant, model in pairs:
        path = Path(model).expanduser()
        if path.exists():
            checked[variant] = _check_path(variant, path, local)
        else:
            name, ref = parse_model_ref(model, model_name)
            checked[variant] = (name, get_version(ref, name))  # an unknown alias fails here
    out = []
    for variant, item in checked.items():
        if isinstance(item, Path):
            out.append(ResolvedModel(variant, item))
            continue
        name, found = item
        version = str(found["version"])
        # Versions are immutable: a package downloaded once is reused by later deployments.
        dest = state_dir() / PACKAGE_DIR / name / f"v{version}"
        cached = next(dest.rglob("model.tar.gz"), None) if dest.is_dir() else None
        out.append(ResolvedModel(variant, cached or download_package(name, found, dest), name, version))
    return out


def _check_path(variant: str, path: Path, local: bool) -> Path:
    if path.is_dir():
        if not local:
            raise DeploymentError(
                f"variant {variant}: {path} is a model directory; SageMaker needs a model.tar.gz",
                hint="deploy a registry version (its package is built by the pipeline) or `mlops export` output",
            )
        return path
    if not path.name.endswith(".tar.gz"):
        raise DeploymentError(f"variant {variant}: {path} is neither a model directory nor a model.tar.gz")
    return path


def upload_packages(models: list[ResolvedModel], *, bucket: str | None, prefix: str, region: str) -> dict[str, str]:
    """Upload each package to S3 (keyed by registry version, else by content hash); return variant -> s3:// URL."""
    import boto3

    s3 = boto3.client("s3", region_name=region)
    if not bucket:
        account = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
        bucket = f"sagemaker-{region}-{account}"
    urls = {}
    for model in models:
        if model.model_version:
            key = f"{prefix}/models/{model.registered_model}/v{model.model_version}/model.tar.gz"
        else:
            digest = hashlib.sha256(model.local_path.read_bytes()).hexdigest()[:16]
            key = f"{prefix}/models/files/{digest}/model.tar.gz"
        s3.upload_file(str(model.local_path), bucket, key)
        urls[model.variant] = f"s3://{bucket}/{key}"
        log.info("uploaded %s to %s", model.local_path, urls[model.variant])
    return urls
