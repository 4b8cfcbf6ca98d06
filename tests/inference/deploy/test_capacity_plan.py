"""Fleet plans from hand-written capacity profiles: the count, the autoscaling target, the cost, and the labels that
say which figures are measured and which are scaled; the shipped price table; bad input via the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inference.deploy.capacity import (
    MAX_SCALE,
    MIN_INSTANCES,
    PROFILE_KIND,
    PROFILE_SCHEMA,
    SCALING_METRIC,
    CapacityError,
    PriceTable,
    deploy_command,
    load_price_table,
    plan,
    rate_at_budget,
)
from inference.deploy.plan import parse_autoscaling
from tests.conftest import run_cli


def step(rate: float, p95: float, errors: int = 0) -> dict[str, Any]:
    """A ramp step as a profile records it."""
    return {"phase": "ramp", "rate_rps": rate, "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95 * 1.2, "errors": errors}


def profile(knee: float = 100.0, cpus: int = 2, precision: str = "int8", **extra: Any) -> dict[str, Any]:
    """A profile as `mlops capacity measure` writes it: a knee of `knee` req/s on `cpus` CPUs at 500 ms."""
    return {
        "kind": PROFILE_KIND,
        "schema": PROFILE_SCHEMA,
        "model": "models:/intent-classifier/3",
        "precision": precision,
        "layout": {"workers": cpus, "threads": 1},
        "p95_budget_ms": 500.0,
        "rate_at_budget_rps": knee,
        "single_request": {"requests": 50, "p50_ms": 8.0, "p95_ms": 12.0, "p99_ms": 15.0},
        "ramp": [step(25, 20), step(50, 40), step(100, 300), step(200, 2000), step(141, 900)],
        "confirm": [{**step(knee, 320), "phase": "confirm", "held": True}],
        "cpus_used": cpus,
        "machine": {"cpu_model": "Test CPU", "usable_cpus": cpus},
        **extra,
    }


def table(**types: tuple[int, float, bool]) -> PriceTable:
    """A price table for us-east-1 with (vcpus, usd_per_hour, confirmed) per type."""
    from inference.deploy.capacity import Price

    prices = {name.replace("_", "."): Price(name.replace("_", "."), *spec) for name, spec in types.items()}
    return PriceTable("https://example.test/prices", "2026-12-02", 730.0, {"us-east-1": prices})


def test_count_target_and_cost_follow_from_the_scaled_knee() -> None:
    prices = table(ml_test_xlarge=(4, 1.0, True))
    result = plan([profile()], rps=1000, budget_ms=500, headroom=0.3, table=prices)
    (option,) = result["options"]
    # 100 req/s on 2 CPUs -> 200 on 4 vCPUs; 70 % of it, 140, is each instance's working rate.
    assert option["measured_rps_at_budget"] == 100.0
    assert option["instance_rps_at_budget"] == 200.0
    assert option["working_rps_per_instance"] == 140.0
    assert option["instances"] == 8  # ceil(1000 / 140)
    scaling = option["autoscaling"]
    assert scaling == {
        "metric": SCALING_METRIC,
        "target_invocations_per_instance_per_minute": 8400,  # 140 req/s * 60
        "min_instances": MIN_INSTANCES,
        "max_instances": 8,
    }
    assert option["monthly_usd"] == 8 * 1.0 * 730
    assert option["usd_per_million"] == pytest.approx(8 * 1.0 / (1000 * 3600) * 1e6, abs=1e-4)
    # The deploy command carries the same figures, in the form `mlops endpoint deploy --autoscale` parses.
    command = deploy_command(option, "intent-prod")
    assert "--instance-type ml.test.xlarge --instance-count 8 " in command
    policy = parse_autoscaling(command.rsplit(" ", 1)[1])
    assert (policy.min_instances, policy.max_instances, policy.target_invocations_per_instance) == (2, 8, 8400)


def test_each_figure_says_whether_it_is_measured_scaled_or_priced() -> None:
    result = plan([profile()], rps=1000, budget_ms=500, table=table(ml_a_large=(2, 0.5, False)))
    basis = result["options"][0]["basis"]
    assert basis["measured_rps_at_budget"].startswith("measured")
    assert basis["instance_rps_at_budget"].startswith("scaled")
    assert basis["instances"].startswith("derived") and basis["autoscaling"].startswith("derived")
    assert "UNCONFIRMED" in basis["monthly_usd"]
    assert any("per-vCPU" in a for a in result["assumptions"])
    assert result["prices"] == {
        "source": "https://example.test/prices",
        "retrieved": "2026-12-02",
        "hours_per_month": 730,
    }


def test_scaling_is_capped_and_at_least_two_instances_run() -> None:
    result = plan([profile()], rps=100, budget_ms=500, headroom=0.0, table=table(ml_huge=(64, 5.0, True)))
    option = result["options"][0]
    assert option["scale"] == MAX_SCALE and option["scale_capped"]  # 64 / 2 = 32x, counted as 8x
    assert option["instance_rps_at_budget"] == 800.0
    assert option["instances"] == MIN_INSTANCES  # one instance would do; availability wants two


def test_options_compare_profiles_cheapest_first() -> None:
    fp32, int8 = profile(knee=40.0, precision="fp32"), profile(knee=100.0)
    result = plan([fp32, int8], rps=1000, budget_ms=500, table=table(ml_c_xlarge=(4, 1.0, True)))
    assert [o["precision"] for o in result["options"]] == ["int8", "fp32"]
    assert result["options"][0]["profile"] == "intent-classifier/3 int8 2x1"
    assert result["cheapest"]["precision"] == "int8"
    assert result["options"][1]["instances"] > result["options"][0]["instances"]


def test_a_tighter_budget_uses_the_ramp_and_says_so() -> None:
    rate, note = rate_at_budget(profile(), 50.0)
    assert rate == 50.0 and "not confirmed" in note  # 25 and 50 held 50 ms, 100 did not
    rate, note = rate_at_budget(profile(), 800.0)
    assert rate == 100.0 and "conservative" in note


def test_a_budget_below_the_single_request_latency_has_no_plan() -> None:
    with pytest.raises(CapacityError, match=r"no plan can hold p95 <= 10 ms .* p95 12 ms"):
        plan([profile()], rps=1000, budget_ms=10, table=table(ml_c_xlarge=(4, 1.0, True)))


def test_the_shipped_price_table_is_dated_sourced_and_covers_the_candidate_families() -> None:
    shipped = load_price_table()
    assert shipped.source.startswith("https://aws.amazon.com/") and shipped.retrieved
    prices = shipped.prices("us-east-1")
    for family in ("c5", "c6i", "c7i", "m5", "m6i"):
        assert f"ml.{family}.xlarge" in prices
    assert prices["ml.m5.xlarge"].confirmed and prices["ml.m5.xlarge"].usd_per_hour > 0


# ------------------------------------------------------------------------------------------- the CLI


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    path = tmp_path / "capacity-test.json"
    path.write_text(json.dumps(profile()))
    return path


def test_cli_plan_prints_the_plan_with_its_deploy_command(profile_file: Path) -> None:
    proc = run_cli("capacity", "plan", "--rps", "10000", "--profile", str(profile_file), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    cheapest = result["cheapest"]
    assert cheapest["instances"] * cheapest["working_rps_per_instance"] >= 10000
    assert result["deploy_command"].startswith(
        f"mlops endpoint deploy ENDPOINT --instance-type {cheapest['instance_type']}"
    )
    text = run_cli(
        "capacity", "plan", "--rps", "10000", "--profile", str(profile_file), "--instance-type", "ml.c5.xlarge"
    )
    assert text.returncode == 0, text.stderr
    assert "ml.c5.xlarge" in text.stdout and "assumption: scaled: per-vCPU" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rps", "0"], "the target rate must be a positive number"),
        (["--rps", "-5"], "the target rate must be a positive number"),
        (["--rps", "10000", "--p95-ms", "5"], "no plan can hold p95 <= 5 ms"),
        (["--rps", "10000", "--instance-type", "ml.x9.huge"], "known types: ml.c5.2xlarge"),
        (["--rps", "10000", "--headroom", "1"], "headroom is a fraction"),
    ],
)
def test_cli_plan_refuses_bad_input_clearly(profile_file: Path, args: list[str], message: str) -> None:
    proc = run_cli("capacity", "plan", "--profile", str(profile_file), *args)
    assert proc.returncode == 1
    assert message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"inputs": ["not a profile"]}', "is not a capacity profile"),
        ("not json at all", "is not a capacity profile: not JSON"),
        (json.dumps({**profile(), "rate_at_budget_rps": -1}), "not positive numbers: rate_at_budget_rps=-1"),
    ],
)
def test_cli_plan_refuses_a_file_that_is_not_a_profile(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(content)
    proc = run_cli("capacity", "plan", "--rps", "10000", "--profile", str(path))
    assert proc.returncode == 1
    assert message in proc.stderr and "hint: write one with `mlops capacity measure" in proc.stderr
