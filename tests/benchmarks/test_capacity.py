"""`mlops capacity measure` against a real server: a short ramp finds a knee, a steady run confirms it, and the
profile (JSON and plot) is what `plan` reads; recorded on a registry version, `plan --model` finds it there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.capacity import RampConfig, find_knee, step_record
from benchmarks.load import LoadConfig, LoadResult, Sample
from inference.deploy.capacity import load_profile
from tests.conftest import ROOT, run_cli
from tests.model_registry.conftest import onnx_export  # noqa: F401 - a fixture, registered here by import

NATURAL = ROOT / "data" / "natural_prompts.jsonl"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/intent-serve:1.0"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"


def test_the_knee_search_ramps_up_then_bisects_below_the_first_failure() -> None:
    """The search on a target that holds up to 100 req/s: geometric up, bisection near the knee."""
    config = RampConfig(factor=2.0, tolerance=0.05)

    def run(rate: float, seconds: float, phase: str) -> dict[str, Any]:
        return {"rate_rps": rate, "phase": phase, "held": rate <= 100}

    knee, steps = find_knee(run, 10.0, config)
    ramp = [s["rate_rps"] for s in steps if s["phase"] == "ramp"]
    assert ramp == [10.0, 20.0, 40.0, 80.0, 160.0]
    failed = [s["rate_rps"] for s in steps if not s["held"]]
    assert knee is not None and 100 / 1.05 <= knee <= 100 and knee < min(failed)
    # A first rate that already fails steps down until one holds.
    knee, steps = find_knee(run, 1000.0, config)
    assert [s["rate_rps"] for s in steps[:3]] == [1000.0, 500.0, 250.0]
    assert knee is not None and knee <= 100


def test_a_step_whose_queue_grows_fails_even_within_the_budget() -> None:
    """At 100 req/s for 3 s, latency growing by 100 ms each second: p95 under 500 ms now, far over it in 30 s."""
    rate, config = 100.0, LoadConfig(mode="open", rate_rps=100.0, requests=300, concurrency=64)

    def run(latency_ms: Any) -> LoadResult:
        samples = [Sample(latency_ms(i / rate) / 1000, None) for i in range(300)]
        return LoadResult(samples, wall_s=3.0, config=config, overhead_us=0.0)

    growing = step_record(run(lambda t: 10 + 100 * t), rate, "ramp", 500.0, horizon_s=30.0)
    assert growing["p95_ms"] < 500 and not growing["held"]
    assert growing["latency_growth_ms_per_s"] == pytest.approx(100.0, rel=0.01)
    assert growing["projected_p95_ms"] > 3000
    steady = step_record(run(lambda t: 10 + 5 * ((t * 7) % 1)), rate, "ramp", 500.0, horizon_s=30.0)
    assert steady["held"] and steady["projected_p95_ms"] < 500


@pytest.mark.slow
def test_measure_writes_a_confirmed_profile_that_plan_reads_and_applies(
    tiny_model: Path,
    onnx_export: Path,  # noqa: F811 - the fixture imported above
    moto_server: str,
    tmp_path: Path,
) -> None:
    from model_registry.registration import Lineage, register_model

    lineage = Lineage(data_md5="0" * 32, git_commit="c" * 40, params={}, metrics={"macro_f1": 0.9}, history=[])
    version = register_model(tiny_model, lineage, onnx_dir=onnx_export).version
    out = tmp_path / "capacity"
    proc = run_cli(
        "capacity", "measure", "--model", f"models:/intent-classifier/{version}", "--workers", "1", "--threads", "1",
        "--p95-ms", "200", "--start-rps", "20", "--factor", "3", "--step-seconds", "1", "--confirm-seconds", "2",
        "--tolerance", "0.3", "--payloads", str(NATURAL), "--out", str(out), "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    json_file, png_file = (Path(f) for f in result["files"])
    profile = load_profile(json_file)  # the file on disk is a profile `plan` accepts
    assert png_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert profile["precision"] == "int8" and profile["layout"] == {"workers": 1, "threads": 1}
    assert profile["cpus_used"] == 1 and profile["machine"]["cpu_model"]
    ramp = [s for s in profile["ramp"] if s["phase"] == "ramp"]
    rates = [s["rate_rps"] for s in ramp]
    assert rates == sorted(rates) and rates[0] == 20  # the geometric phase only goes up (or only down)
    for s in profile["ramp"] + profile["confirm"]:
        assert s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"]
        assert s["projected_p95_ms"] >= s["p95_ms"]  # a queue never shrinks the projection
        assert s["held"] == (s["errors"] == 0 and s["projected_p95_ms"] <= 200)
    # The knee is a rate that held, below every rate that did not; the steady run at it held the budget.
    held = {s["rate_rps"] for s in profile["ramp"] if s["held"]}
    failed = [s["rate_rps"] for s in profile["ramp"] if not s["held"]]
    confirm = profile["confirm"][-1]
    assert confirm["held"] and confirm["p95_ms"] <= 200 and confirm["errors"] == 0
    assert profile["rate_at_budget_rps"] == confirm["rate_rps"]
    assert profile["rate_at_budget_rps"] <= max(held) < min(failed, default=float("inf"))
    assert profile["saturated"] == bool(failed)
    assert profile["single_request"]["p95_ms"] <= 200
    assert profile["model"] == f"models:/intent-classifier/{version}"
    assert result["recorded"]["tag"] == "capacity.int8.1x1" and result["recorded"]["version"] == version
    # `plan` reads the profile from the file, or from the registry version it was recorded on: the same figures.
    for source in (["--profile", str(json_file)], ["--model", version]):
        plan = run_cli("capacity", "plan", "--rps", "10000", "--p95-ms", "200", *source, "--json")
        assert plan.returncode == 0, plan.stderr
        assert json.loads(plan.stdout)["cheapest"]["measured_rps_at_budget"] == round(profile["rate_at_budget_rps"], 2)
    cheapest = json.loads(plan.stdout)["cheapest"]

    # --apply: the same plan deployed (on moto), its instance count and autoscaling those the plan chose.
    import boto3

    env = {"AWS_ENDPOINT_URL": moto_server}
    boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1").create_bucket(Bucket="capacity-models")
    applied = run_cli(
        "capacity", "plan", "--rps", "10000", "--p95-ms", "200", "--model", version,
        "--instance-type", cheapest["instance_type"], "--apply", "intent-capacity", "--json",
        "--", "--variant", f"main={version}", "--image-uri", IMAGE, "--role", ROLE, "--bucket", "capacity-models",
        env=env,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    assert "apply the cheapest: mlops endpoint deploy intent-capacity" in applied.stderr
    (variant,) = json.loads(applied.stdout)["variants"]
    scaling = cheapest["autoscaling"]
    assert (variant["instance_type"], variant["current_instance_count"]) == (
        cheapest["instance_type"],
        cheapest["instances"],
    )
    assert variant["autoscaling"] == {
        "min_instances": scaling["min_instances"],
        "max_instances": scaling["max_instances"],
        "target_invocations_per_instance": scaling["target_invocations_per_instance_per_minute"],
    }


def test_measure_refuses_a_budget_below_the_single_request_latency(onnx_model: Path, tmp_path: Path) -> None:
    proc = run_cli(
        "capacity", "measure", "--model", str(onnx_model), "--workers", "1", "--threads", "1",
        "--p95-ms", "0.001", "--payloads", str(NATURAL), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert proc.returncode == 1
    assert "no rate can hold p95 <= 0.001 ms: one request at a time already takes p95" in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_plan_refuses_deploy_options_without_apply_or_that_the_plan_sets(tmp_path: Path) -> None:
    from tests.inference.deploy.test_capacity_plan import profile

    path = tmp_path / "capacity.json"
    path.write_text(json.dumps(profile()))
    stray = run_cli("capacity", "plan", "--rps", "100", "--profile", str(path), "--", "--role", ROLE)
    assert stray.returncode == 2 and "are for --apply ENDPOINT" in stray.stderr
    clash = run_cli(
        "capacity", "plan", "--rps", "100", "--profile", str(path), "--apply", "e", "--", "--instance-count", "3"
    )
    assert clash.returncode == 2 and "the plan sets --instance-count" in clash.stderr


def test_measure_refuses_a_budget_that_is_not_positive(tmp_path: Path) -> None:
    proc = run_cli("capacity", "measure", "--model", str(tmp_path), "--p95-ms", "0")
    assert proc.returncode == 1 and "the p95 budget must be positive" in proc.stderr


def test_measure_refuses_a_model_it_cannot_serve_before_starting_a_server(tiny_model: Path, tmp_path: Path) -> None:
    proc = run_cli("capacity", "measure", "--model", str(tmp_path), "--payloads", str(NATURAL))
    assert proc.returncode == 1 and f"{tmp_path} is not an intent model directory" in proc.stderr
    proc = run_cli("capacity", "measure", "--model", str(tiny_model), "--precision", "fp32", "--payloads", str(NATURAL))
    assert proc.returncode == 1 and "has no fp32 ONNX graph (model.onnx)" in proc.stderr
    assert "mlops export" in proc.stderr


def test_a_profile_recorded_on_a_version_reads_back_and_an_unmeasured_one_says_how(tmp_path: Path) -> None:
    from model_registry.capacity import record_profile, recorded_profiles
    from model_registry.queries import get_version
    from tests.inference.deploy.test_capacity_plan import profile
    from tests.model_registry.standins import register_standin

    version = register_standin(tmp_path, "capacity")
    measured = profile(knee=120.0)
    path = tmp_path / "capacity-v1-int8-2x1.json"
    path.write_text(json.dumps(measured))
    recorded = record_profile(f"models:/intent-classifier/{version}", measured, [path])
    assert recorded["tag"] == "capacity.int8.2x1"
    summary = json.loads(get_version(version)["tags"]["capacity.int8.2x1"])
    assert summary["rate_at_budget_rps"] == 120.0 and summary["artifact"] == "capacity/capacity-v1-int8-2x1.json"
    assert recorded_profiles(f"models:/intent-classifier/{version}") == [measured]
    # A version without a profile says how to measure one.
    other = register_standin(tmp_path, "unmeasured")
    proc = run_cli("capacity", "plan", "--rps", "10000", "--model", other)
    assert proc.returncode == 1 and "has no capacity profile" in proc.stderr and "mlops capacity measure" in proc.stderr
