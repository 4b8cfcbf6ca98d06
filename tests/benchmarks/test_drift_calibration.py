"""The drift report's calibration, bounded: a few dozen draws of undrifted traffic trip it no more often than its
alpha allows, and shifted traffic of modest size trips it (benchmarks/drift_calibration.py, the full measurement).

The bounds are binomial: with a true false-alarm rate of at most alpha, more alarms than Binomial(draws, alpha)
gives with probability 1e-6 cannot happen by chance; likewise for a detection rate of at least DETECTION."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scipy.stats import binom

from benchmarks.drift_calibration import Pools, build_pools, trip_rates, upper_bound

ALPHA = 0.05  # a larger alpha than the CLI's 0.01 makes the false-alarm bound bite at a few dozen draws
DETECTION = 0.5  # at least this rate for the shifts below; measured far higher (docs/benchmarks.md)
CHANCE = 1e-6


@pytest.fixture(scope="module")
def pools(onnx_model: Path, dataset_rows: list[dict], tmp_path_factory: pytest.TempPathFactory) -> Pools:
    data = tmp_path_factory.mktemp("calibration") / "prompts.jsonl"
    data.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in dataset_rows))
    return build_pools(onnx_model, data)


def test_undrifted_traffic_trips_the_report_at_most_at_alpha(pools: Pools) -> None:
    draws = 40
    row = trip_rates(pools, "undrifted", size=60, draws=draws, alpha=ALPHA, permutations=400)
    assert row["tripped"] <= binom.ppf(1 - CHANCE, draws, ALPHA), row


@pytest.mark.parametrize("scenario", ["truncated", "natural"])
def test_shifted_traffic_of_modest_size_trips_the_report(pools: Pools, scenario: str) -> None:
    draws = 12
    row = trip_rates(pools, scenario, size=60, draws=draws, alpha=0.01, permutations=400)
    assert row["tripped"] >= binom.ppf(CHANCE, draws, DETECTION), row


def test_the_upper_bound_is_clopper_pearson() -> None:
    assert upper_bound(0, 100) == pytest.approx(1 - 0.05 ** (1 / 100))
    assert upper_bound(5, 5) == 1.0
