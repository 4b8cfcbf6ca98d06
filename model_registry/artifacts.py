"""Fetch a registered model version's files to a local directory (what `mlops serve models:/...` serves), or its
SageMaker package (what an endpoint deploys).

A package is used only when it is the one registration produced: its `package_uri` tag must name the package
logged under the version's own run, and its bytes must have the sha256 that run recorded (`package_sha256`), checked
after every download and before every reuse of a cached copy. Anything else is refused before a byte is copied
(a forged `package_uri=file:///etc/shadow` is never read), and a refused download leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.model import METADATA_FILE, PACKAGE_FILE, check_model_dir
from ml.parity import sha256_file
from ml.settings import REGISTERED_MODEL_NAME, state_dir
from model_registry.queries import get_version
from model_registry.tracking import RegistryError, client, configure, first_line

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
    """Download a registered version's model directory under dest; write metadata.json (name, version, source).

    The directory joins the run's `model/` artifacts (the PyTorch model) and the data of the version's MLflow Model
    (the ONNX graphs and export report); a version whose source is a plain directory is downloaded as it is.
    """
    model_name, ref = parse_model_ref(uri_or_ref, name)
    version = get_version(ref, model_name, tracking_uri)  # RegistryError for an unknown model, alias or version
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    uri = configure(tracking_uri)
    label = f"{model_name} v{version['version']}"
    if not version.get("model_id"):
        local = _download(version["source"], dest, uri, label)
    else:
        from model_registry.mlflow_model import DATA_DIR, MODEL_DATA_PATH

        local = _download(f"runs:/{version['run_id']}/{DATA_DIR}", dest, uri, label)
        location = client(tracking_uri).get_logged_model(version["model_id"]).artifact_location
        with tempfile.TemporaryDirectory(prefix="mlflow-model-data-") as scratch:
            served = _download(f"{location}/{MODEL_DATA_PATH}", Path(scratch), uri, label)
            for path in sorted(served.iterdir()):
                if not (local / path.name).exists():
                    shutil.move(str(path), str(local / path.name))
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
    log.info("downloaded %s to %s", label, local)
    return local


def _download(artifact_uri: str, dest: Path, tracking_uri: str, label: str) -> Path:
    import mlflow

    try:
        return Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=artifact_uri, dst_path=str(dest), tracking_uri=tracking_uri
            )
        )
    except Exception as exc:
        raise RegistryError(
            f"could not download {label} from {artifact_uri}: {type(exc).__name__}: {exc}",
            hint="check that the artifact store is reachable from here (MLFLOW_TRACKING_URI)",
        ) from exc


@dataclass(frozen=True)
class PackageSource:
    """Where a version's package is and the sha256 registration recorded for it."""

    uri: str
    sha256: str


def package_source(model_name: str, version: dict[str, Any], *, tracking_uri: str | None = None) -> PackageSource:
    """The package registration logged for a version `get_version` returned; RegistryError for any other URI or a
    version without a recorded package digest. Reads tags and the run, never the package."""
    from mlflow.exceptions import MlflowException

    from model_registry.evidence import PACKAGE_DIGEST
    from model_registry.registration import PACKAGE_TAG, package_artifact_uri

    label = f"{model_name} v{version['version']}"
    tagged = version["tags"].get(PACKAGE_TAG)
    if not tagged:
        raise RegistryError(
            f"{label} has no packaged model ({PACKAGE_TAG} tag)",
            hint="register it through the pipeline (its export step packages model.tar.gz), or deploy a model.tar.gz",
        )
    try:
        run = client(tracking_uri).get_run(version["run_id"]) if version.get("run_id") else None
    except MlflowException as exc:
        if getattr(exc, "error_code", "") != "RESOURCE_DOES_NOT_EXIST":
            raise RegistryError(
                f"could not read the registering run of {label}: {first_line(exc)}",
                hint="check that the registry is reachable (MLFLOW_TRACKING_URI); nothing was downloaded",
            ) from exc
        run = None
    if run is None:
        raise RegistryError(
            f"{label} has no registering run, so its package cannot be verified",
            hint="deploy a version registered by `mlops pipeline run`, or a model.tar.gz you trust",
        )
    expected = package_artifact_uri(run.info.artifact_uri)
    if tagged != expected:
        raise RegistryError(
            f"{label}: tag {PACKAGE_TAG}={tagged!r} is not the package its registration logged ({expected}); "
            "refusing to read it",
            hint=f"only packages the registry produced are deployed: restore the tag to {expected}, or re-register",
        )
    recorded = run.data.params.get(PACKAGE_DIGEST)
    if not recorded:
        raise RegistryError(
            f"{label}'s run recorded no {PACKAGE_DIGEST} for its package, so it cannot be verified",
            hint="re-register the model with this version of mlops (`mlops pipeline run`)",
        )
    if version["tags"].get(PACKAGE_DIGEST) != recorded:
        raise RegistryError(
            f"{label}: tag {PACKAGE_DIGEST}={version['tags'].get(PACKAGE_DIGEST)!r} does not match the run's "
            f"{recorded!r} recorded at registration",
            hint=f"restore the tag to {recorded}; nothing was downloaded",
        )
    return PackageSource(expected, recorded)


def download_package(
    model_name: str, version: dict[str, Any], dest: Path | str, *, tracking_uri: str | None = None
) -> Path:
    """Download the SageMaker model.tar.gz of a version `get_version` returned to dest/model.tar.gz, verified against
    the digest recorded at registration; RegistryError (and nothing written to dest) for any other package."""
    import mlflow

    source = package_source(model_name, version, tracking_uri=tracking_uri)
    label = f"{model_name} v{version['version']}"
    uri = configure(tracking_uri)
    dest = Path(dest)
    scratch = Path(tempfile.mkdtemp(prefix="package-download-"))
    try:
        try:
            local = Path(
                mlflow.artifacts.download_artifacts(artifact_uri=source.uri, dst_path=str(scratch), tracking_uri=uri)
            )
        except Exception as exc:
            raise RegistryError(
                f"could not download the package of {label} from {source.uri}: {first_line(exc)}",
                hint="check that the artifact store is reachable from here (MLFLOW_TRACKING_URI)",
            ) from exc
        actual = sha256_file(local)
        if actual != source.sha256:
            raise RegistryError(
                f"the package of {label} at {source.uri} has sha256 {actual[:12]}..., not the "
                f"{source.sha256[:12]}... recorded at registration: it was changed since; refusing to use it",
                hint="re-register the model (`mlops pipeline run`); nothing was deployed",
            )
        dest.mkdir(parents=True, exist_ok=True)
        shutil.move(str(local), str(dest / PACKAGE_FILE))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("downloaded the package of %s v%s to %s (sha256 verified)", model_name, version["version"], dest)
    return dest / PACKAGE_FILE


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


def cached_package(model_name: str, version: dict[str, Any], *, tracking_uri: str | None = None) -> Path:
    """The version's verified model.tar.gz under the state directory: downloaded on first use, its sha256 checked
    against the registration's before every use."""
    source = package_source(model_name, version, tracking_uri=tracking_uri)
    dest = state_dir() / PACKAGE_CACHE_DIR / model_name / f"v{version['version']}"
    cached = dest / PACKAGE_FILE
    if cached.is_file():
        if sha256_file(cached) == source.sha256:
            return cached
        log.warning(
            "cached package %s differs from the one registered for v%s: downloading it again",
            cached,
            version["version"],
        )
        cached.unlink()
    staging = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        download_package(model_name, version, staging, tracking_uri=tracking_uri)
        dest.mkdir(parents=True, exist_ok=True)
        (staging / PACKAGE_FILE).replace(cached)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cached
