"""Capacity: measure one instance's profile for a model (and record it on its registry version), plan a fleet from
profiles. The measuring is benchmarks.capacity, the arithmetic inference.deploy.capacity, the registry writes
model_registry.capacity; this module puts them together for the CLI.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from inference.deploy.recommender import LoadTest


def default_model() -> str:
    """The model a capacity command measures by default: the registry's challenger, as the README tour leaves it."""
    return f"models:/{REGISTERED_MODEL_NAME}@challenger"


def default_out_dir() -> Path:
    """Where capacity profiles go by default: capacity/ in the state directory."""
    from ml.settings import state_dir

    return state_dir() / "capacity"


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


def recommend_capacity(
    test: LoadTest,
    *,
    region: str,
    out_dir: Path,
    upload_payloads: bool = False,
    payloads: Path | None = None,
    dry_run: bool = False,
    wait: bool = False,
    on_status: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Submit an Inference Recommender load test; with `wait`, write its results as profiles under out_dir.

    With `upload_payloads`, sample requests from `payloads` (default: the test split) are uploaded to the test's
    payload URL first. A dry run validates and returns the request, and sends nothing.
    """
    from inference.deploy import recommender
    from ml.aws import boto3_client

    request = recommender.build_request(test)
    result: dict[str, Any] = {"job": test.job_name, "request": request, "submitted": False}
    if dry_run:
        return result
    if upload_payloads:
        from benchmarks.payloads import load_payloads

        bucket, _, key = test.payload_url.removeprefix("s3://").partition("/")
        s3 = boto3_client("s3", region=region)
        result["payload_uploaded"] = recommender.upload_payloads(s3, load_payloads(payloads), bucket=bucket, key=key)
    sm = boto3_client("sagemaker", region=region)
    result["job_arn"] = recommender.submit(sm, request)
    result["submitted"] = True
    if wait:
        described = recommender.wait(sm, test.job_name, on_status=on_status)
        result.update(write_recommendations(described, region=region, out_dir=out_dir))
    return result


def recommendation_results(job: str, *, region: str, out_dir: Path) -> dict[str, Any]:
    """A finished load test's results, written as capacity profiles under out_dir."""
    from ml.aws import boto3_client

    described = boto3_client("sagemaker", region=region).describe_inference_recommendations_job(JobName=job)
    return write_recommendations(described, region=region, out_dir=out_dir)


def write_recommendations(described: dict[str, Any], *, region: str, out_dir: Path) -> dict[str, Any]:
    """One profile file per instance type of a finished load test (DescribeInferenceRecommendationsJob's answer)."""
    from inference.deploy.recommender import profiles_from_job

    profiles = profiles_from_job(described, region=region)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for profile in profiles:
        path = out_dir / f"capacity-{profile['job']}-{profile['instance_type']}.json"
        _write_atomic(path, json.dumps(profile, indent=2, sort_keys=True) + "\n")
        files.append(str(path))
    return {"job": described["JobName"], "status": described["Status"], "profiles": profiles, "files": files}
