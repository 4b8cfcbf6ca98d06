"""Capacity: measure one instance's profile for a model (and record it on its registry version), plan a fleet from
profiles. The measuring is benchmarks.capacity, the arithmetic inference.deploy.capacity, the registry writes
model_registry.capacity; this module puts them together for the CLI.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.capacity import RampConfig, measure, plot
from inference.deploy.capacity import (
    PriceTable,
    check_plan_request,
    check_profile,
    load_price_table,
    load_profile,
    plan,
)
from ml.model import METADATA_FILE
from ml.progress import ProgressCallback
from ml.settings import REGISTERED_MODEL_NAME


def default_model() -> str:
    """The model a capacity command measures by default: the registry's challenger, as the README tour leaves it."""
    return f"models:/{REGISTERED_MODEL_NAME}@challenger"


def profile_stem(model: str, precision: str, workers: int | None, threads: int | None) -> str:
    """'capacity-intent-classifier-3-int8-2x1': a file name for a profile of this model, precision and layout."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", model.removeprefix("models:/")).strip("-") or "model"
    return f"capacity-{slug}-{precision}-{workers or 'auto'}x{threads or 'auto'}"


def _write_atomic(path: Path, text: str) -> None:
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(text)
    os.replace(scratch, path)


def measure_capacity(
    model: str,
    *,
    out_dir: Path,
    precision: str = "int8",
    workers: int | None = None,
    threads: int | None = None,
    config: RampConfig,
    payloads: Path | None = None,
    record: bool = True,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Measure MODEL (a directory or a registry reference); write the profile JSON and plot under out_dir; record
    them on the registry version when MODEL is one (and `record`). Returns the profile with `files` and `recorded`."""
    from benchmarks.payloads import load_payloads
    from model_registry.artifacts import is_registry_ref, materialized

    texts = load_payloads(payloads)
    with materialized(model) as model_dir:
        label = model
        if is_registry_ref(model) and (model_dir / METADATA_FILE).is_file():
            label = json.loads((model_dir / METADATA_FILE).read_text()).get("registry_uri", model)
        profile = measure(
            model_dir,
            precision=precision,
            workers=workers,
            threads=threads,
            payloads=texts,
            config=config,
            model_label=label,
            on_progress=on_progress,
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = profile_stem(label, precision, workers, threads)
    json_path, png_path = out_dir / f"{stem}.json", out_dir / f"{stem}.png"
    # The plot first, the profile last: a profile on disk always has its whole measurement behind it.
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".plot-") as scratch:
        drawn = plot(profile, Path(scratch) / png_path.name)
        if drawn is not None:
            os.replace(drawn, png_path)
    _write_atomic(json_path, json.dumps(profile, indent=2, sort_keys=True) + "\n")
    files = [json_path] + ([png_path] if png_path.is_file() else [])
    recorded = None
    if record and is_registry_ref(model):
        from model_registry.capacity import record_profile

        recorded = record_profile(label, profile, files)
    return {**profile, "files": [str(f) for f in files], "recorded": recorded}


def plan_capacity(
    *,
    rps: float,
    budget_ms: float,
    profile_files: list[Path],
    models: list[str],
    headroom: float,
    region: str,
    instance_types: list[str],
    prices: Path | None = None,
) -> dict[str, Any]:
    """A fleet plan from profile files and the profiles recorded on registry versions (default: the challenger's)."""
    check_plan_request(rps, budget_ms, headroom)
    table: PriceTable = load_price_table(prices)
    profiles = [load_profile(path) for path in profile_files]
    if not profile_files and not models:
        models = [default_model()]
    for model in models:
        from model_registry.capacity import recorded_profiles

        profiles += [check_profile(p, f"a profile recorded on {model}") for p in recorded_profiles(model)]
    return plan(
        profiles,
        rps=rps,
        budget_ms=budget_ms,
        headroom=headroom,
        region=region,
        instance_types=instance_types or None,
        table=table,
    )
