"""Read the registry: versions with their aliases and lineage."""

from __future__ import annotations

from typing import Any

from ml.settings import REGISTERED_MODEL_NAME
from model_registry.tracking import RegistryError, client, require_registered_model


def _describe(version: Any, aliases: dict[str, list[str]]) -> dict[str, Any]:
    tags = dict(version.tags or {})
    return {
        "version": str(version.version),
        "aliases": sorted(aliases.get(str(version.version), [])),
        "run_id": version.run_id,
        "source": version.source,
        "model_id": _model_id(version),
        "created": version.creation_timestamp,
        "data_md5": tags.get("data_md5"),
        "git_commit": tags.get("git_commit"),
        "metrics": {k.removeprefix("metric."): _float(v) for k, v in sorted(tags.items()) if k.startswith("metric.")},
        "environment": {k.removeprefix("env."): v for k, v in sorted(tags.items()) if k.startswith("env.")},
        "tags": tags,
    }


def _model_id(version: Any) -> str | None:
    """The MLflow Model (LoggedModel) a version's source names (`models:/<model_id>`), or None."""
    if getattr(version, "model_id", None):
        return str(version.model_id)
    source = version.source or ""
    model_id = source.removeprefix("models:/")
    return model_id if model_id != source and model_id and not any(c in model_id for c in "/@") else None


def _float(value: str) -> float | None:
    # Tags are free text anyone with write access can edit: an unreadable one is shown as missing, not a crash.
    try:
        return float(value)
    except ValueError:
        return None


def _aliases_by_version(model: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for alias, version in (model.aliases or {}).items():
        out.setdefault(str(version), []).append(alias)
    return out


def list_versions(name: str = REGISTERED_MODEL_NAME, tracking_uri: str | None = None) -> list[dict[str, Any]]:
    """All versions of `name`, newest first, with aliases and lineage."""
    mlflow_client = client(tracking_uri)
    aliases = _aliases_by_version(require_registered_model(mlflow_client, name))
    versions = mlflow_client.search_model_versions(f"name = '{name}'")
    return [_describe(v, aliases) for v in sorted(versions, key=lambda v: int(v.version), reverse=True)]


def get_version(
    ref: str, name: str = REGISTERED_MODEL_NAME, tracking_uri: str | None = None, *, with_evidence: bool = False
) -> dict[str, Any]:
    """One version by number or alias (e.g. '3', 'champion', '@challenger'), with its run's params.

    with_evidence: also read and verify the evidence the promotion gates decide on (`model_registry.evidence`), as
    `evidence`: `verified` (the record matches its recorded `sha256` and every copy agrees), the `record` as
    registered (None when it cannot be read or does not match its digest) and every problem.
    """
    from mlflow.exceptions import MlflowException

    mlflow_client = client(tracking_uri)
    model = require_registered_model(mlflow_client, name)
    ref = ref.removeprefix("@")
    try:
        version = (
            mlflow_client.get_model_version(name, ref)
            if ref.isdigit()
            else mlflow_client.get_model_version_by_alias(name, ref)
        )
    except MlflowException as exc:
        raise RegistryError(
            f"{name} has no version or alias {ref!r}", hint="`mlops registry list` shows versions and aliases"
        ) from exc
    described = _describe(version, _aliases_by_version(model))
    if version.run_id:
        described["params"] = dict(mlflow_client.get_run(version.run_id).data.params)
    if with_evidence:
        from model_registry.evidence import verify

        verified = verify(mlflow_client, version)
        described["evidence"] = {
            "verified": verified.evidence is not None and not verified.problems,
            "sha256": verified.digest or None,
            "record": verified.evidence,
            "problems": verified.problems,
        }
    return described
