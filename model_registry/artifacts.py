"""Fetch a registered model version's files to a local directory (what `mlops serve models:/...` serves), or its
SageMaker package (what an endpoint deploys)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ml.model import METADATA_FILE, PACKAGE_FILE, check_model_dir
from ml.settings import REGISTERED_MODEL_NAME, state_dir
from model_registry.queries import get_version
from model_registry.tracking import RegistryError, configure, first_line

log = logging.getLogger(__name__)

REGISTRY_PREFIX = "models:/"
# Versions are immutable: a package downloaded once is reused by later deployments.
PACKAGE_CACHE_DIR = "endpoint-packages"
_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))$")


def parse_model_ref(uri_or_ref: str, default_name: str = REGISTERED_MODEL_NAME) -> tuple[str, str]:
    """(name, ref) from `models:/name@alias`, `models:/name/3`, or a bare ref (`3`, `champion`, `@champion`)."""
    text = uri_or_ref.strip()
    if text.startswith("models:/"):
        match = _MODELS_URI.match(text)
        if not match:
            raise RegistryError(
                f"cannot parse model URI {uri_or_ref!r}",
                hint="use models:/NAME@ALIAS (e.g. models:/intent-classifier@champion) or models:/NAME/VERSION",
            )
        return match["name"], match["alias"] or match["version"]
    ref = text.removeprefix("@")
    if not ref or "/" in ref or ":" in ref:
        raise RegistryError(
            f"cannot parse model reference {uri_or_ref!r}", hint="use a version number, an alias, or a models:/ URI"
        )
    return default_name, ref


def download_model(
    uri_or_ref: str, dest: Path | str, *, name: str = REGISTERED_MODEL_NAME, tracking_uri: str | None = None
) -> Path:
    """Download a registered version's model directory under dest; write metadata.json (name, version, source)."""
    import mlflow

    model_name, ref = parse_model_ref(uri_or_ref, name)
    version = get_version(ref, model_name, tracking_uri)  # RegistryError for an unknown model, alias or version
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    uri = configure(tracking_uri)
    try:
        local = Path(
            mlflow.artifacts.download_artifacts(artifact_uri=version["source"], dst_path=str(dest), tracking_uri=uri)
        )
    except Exception as exc:
        raise RegistryError(
            f"could not download {model_name} v{version['version']} from {version['source']}: "
            f"{type(exc).__name__}: {exc}",
            hint="check that the artifact store is reachable from here (MLFLOW_TRACKING_URI)",
        ) from exc
    check_model_dir(local)
    metadata: dict[str, Any] = {}
    if (local / METADATA_FILE).is_file():
        metadata = json.loads((local / METADATA_FILE).read_text())
    metadata.update(
        {
            "model_name": model_name,
            "model_version": version["version"],
            "aliases": version["aliases"],
            "run_id": version["run_id"],
            "source": version["source"],
            "registry_uri": f"models:/{model_name}/{version['version']}",
        }
    )
    (local / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    log.info("downloaded %s v%s to %s", model_name, version["version"], local)
    return local


def download_package(
    model_name: str, version: dict[str, Any], dest: Path | str, *, tracking_uri: str | None = None
) -> Path:
    """Download the SageMaker model.tar.gz (its `package_uri` tag) of a version `get_version` returned, under dest."""
    import mlflow

    from model_registry.registration import PACKAGE_TAG

    package_uri = version["tags"].get(PACKAGE_TAG)
    if not package_uri:
        raise RegistryError(
            f"{model_name} v{version['version']} has no packaged model ({PACKAGE_TAG} tag)",
            hint="register it through the pipeline (its export step packages model.tar.gz), or deploy a model.tar.gz",
        )
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    uri = configure(tracking_uri)
    try:
        local = Path(
            mlflow.artifacts.download_artifacts(artifact_uri=package_uri, dst_path=str(dest), tracking_uri=uri)
        )
    except Exception as exc:
        raise RegistryError(
            f"could not download the package of {model_name} v{version['version']} from {package_uri}: "
            f"{first_line(exc)}",
            hint="check that the artifact store is reachable from here (MLFLOW_TRACKING_URI)",
        ) from exc
    log.info("downloaded the package of %s v%s to %s", model_name, version["version"], local)
    return local


def is_registry_ref(model: str) -> bool:
    """Whether a MODEL argument names a registry version (`models:/...`) rather than a path."""
    return model.startswith(REGISTRY_PREFIX)


@contextlib.contextmanager
def materialized(model: str | Path, dest: Path | None = None) -> Iterator[Path]:
    """A model directory for MODEL: the path itself, or a `models:/` reference downloaded under `dest` (default: a
    temporary directory, removed when the block ends)."""
    if not is_registry_ref(str(model)):
        yield Path(model)
        return
    temporary = None
    if dest is None:
        temporary = dest = Path(tempfile.mkdtemp(prefix="intent-model-"))
    try:
        yield download_model(str(model), dest)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def cached_package(model_name: str, version: dict[str, Any]) -> Path:
    """The version's model.tar.gz under the state directory, downloaded on first use."""
    dest = state_dir() / PACKAGE_CACHE_DIR / model_name / f"v{version['version']}"
    cached = next(dest.rglob(PACKAGE_FILE), None) if dest.is_dir() else None
    return cached or download_package(model_name, version, dest)
