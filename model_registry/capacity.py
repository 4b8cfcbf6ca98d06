"""Capacity profiles on registry versions: the JSON (and plot) as artifacts of the version's run, a summary as a tag.

One tag per measured precision and layout, `capacity.<precision>.<workers>x<threads>`, holds a short JSON summary
(rate at the budget, the budget, the machine, when) and the artifact path of the full profile under the run's
`capacity/` folder. Measuring again with the same precision and layout replaces both.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from model_registry.artifacts import parse_model_ref
from model_registry.queries import get_version
from model_registry.store import guarded
from model_registry.tracking import RegistryError, client, configure

log = logging.getLogger(__name__)

TAG_PREFIX = "capacity."
ARTIFACT_DIR = "capacity"


def profile_key(profile: dict[str, Any]) -> str:
    """'int8.2x1' for a profile's precision and layout ('auto' for a layout figure left to the server)."""
    layout = profile.get("layout") or {}
    return f"{profile['precision']}.{layout.get('workers') or 'auto'}x{layout.get('threads') or 'auto'}"


def record_profile(
    model: str, profile: dict[str, Any], files: list[Path], *, tracking_uri: str | None = None
) -> dict[str, Any]:
    """Log `files` (the profile JSON first, then e.g. its plot) under the version's run and tag the version."""
    name, ref = parse_model_ref(model)
    uri = configure(tracking_uri)
    version = get_version(ref, name, tracking_uri)
    if not version.get("run_id"):
        raise RegistryError(
            f"{name} v{version['version']} has no run to hold the profile", hint="register it with mlops"
        )
    key = profile_key(profile)
    summary = {
        "rate_at_budget_rps": profile["rate_at_budget_rps"],
        "p95_budget_ms": profile["p95_budget_ms"],
        "cpus_used": profile["cpus_used"],
        "cpu_model": (profile.get("machine") or {}).get("cpu_model"),
        "measured_at": profile.get("measured_at"),
        "artifact": f"{ARTIFACT_DIR}/{files[0].name}",
    }
    mlflow_client = client(tracking_uri)
    with guarded("recording the capacity profile", uri):
        for path in files:
            mlflow_client.log_artifact(version["run_id"], str(path), ARTIFACT_DIR)
        mlflow_client.set_model_version_tag(name, str(version["version"]), TAG_PREFIX + key, json.dumps(summary))
    log.info("recorded capacity %s on %s v%s", key, name, version["version"])
    return {"model": name, "version": version["version"], "tag": TAG_PREFIX + key, **summary}


def recorded_profiles(model: str, *, tracking_uri: str | None = None) -> list[dict[str, Any]]:
    """Every capacity profile recorded on a version (read back from its run's artifacts)."""
    name, ref = parse_model_ref(model)
    configure(tracking_uri)
    version = get_version(ref, name, tracking_uri)
    tags = {k: v for k, v in (version.get("tags") or {}).items() if k.startswith(TAG_PREFIX)}
    if not tags:
        raise RegistryError(
            f"{name} v{version['version']} has no capacity profile",
            hint=f"measure one: mlops capacity measure --model models:/{name}/{version['version']}",
        )
    mlflow_client = client(tracking_uri)
    profiles = []
    with tempfile.TemporaryDirectory(prefix="capacity-") as scratch:
        for key, value in sorted(tags.items()):
            try:
                artifact = str(json.loads(value)["artifact"])
            except (ValueError, KeyError, TypeError) as exc:
                raise RegistryError(
                    f"tag {key} of {name} v{version['version']} is not a capacity summary ({type(exc).__name__})",
                    hint="measure again with `mlops capacity measure`, which rewrites it",
                ) from None
            local = mlflow_client.download_artifacts(version["run_id"], artifact, scratch)
            profiles.append(json.loads(Path(local).read_text()))
    return profiles
