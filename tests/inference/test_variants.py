"""Variant names, weights and schedules as SageMaker validates them; per-variant stats and guards."""

from __future__ import annotations

import pytest

from inference.variants import (
    DeploymentError,
    Guard,
    VariantStats,
    check_name,
    parse_schedule,
    parse_weights,
    traffic_shares,
    weights_for_share,
)


@pytest.mark.parametrize("name", ["a", "champion", "challenger-v2", "A1-b2", "x" * 63])
def test_names_sagemaker_accepts(name: str) -> None:
    assert check_name("variant", name) == name


@pytest.mark.parametrize("name", ["", "-a", "a-", "under_score", "dot.ted", "space d", "x" * 64, "é"])
def test_names_sagemaker_rejects(name: str) -> None:
    with pytest.raises(DeploymentError, match="would be rejected by SageMaker"):
        check_name("variant", name)


def test_weights_parse_and_validate() -> None:
    assert parse_weights("champion=90, challenger=10") == {"champion": 90.0, "challenger": 10.0}
    assert parse_weights(["a=1", "b=0"]) == {"a": 1.0, "b": 0.0}
    assert traffic_shares({"a": 3, "b": 1}) == {"a": 0.75, "b": 0.25}
    for text, message in [
        ("a=0,b=0", "do not sum to a positive number"),
        ("a=-1,b=5", "finite number >= 0"),
        ("a=nan", "finite number >= 0"),
        ("a=ten", "is not a number"),
        ("a", "is not NAME=WEIGHT"),
        ("a=1,a=2", "given two weights"),
        ("bad_name=1", "would be rejected"),
        ("", "no weights given"),
    ]:
        with pytest.raises(DeploymentError, match=message):
            parse_weights(text)


def test_schedules_and_the_weights_they_give() -> None:
    assert parse_schedule("10,25,50,100") == [10, 25, 50, 100]
    assert parse_schedule("5%, 100%") == [5, 100]
    for text in ("", "50,25", "0,10", "10,150", "10,x"):
        with pytest.raises(DeploymentError):
            parse_schedule(text)
    # The variant gets the share; the others keep their proportions among themselves.
    assert weights_for_share({"a": 90, "b": 10}, "b", 25) == {"a": 75.0, "b": 25.0}
    assert weights_for_share({"a": 60, "b": 20, "c": 20}, "c", 50) == {"a": 37.5, "b": 12.5, "c": 50.0}
    assert weights_for_share({"a": 0, "b": 0, "c": 1}, "c", 50) == {"a": 25.0, "b": 25.0, "c": 50.0}
    with pytest.raises(DeploymentError, match="no variant named 'z'"):
        weights_for_share({"a": 1}, "z", 10)


def test_variant_stats_and_guard() -> None:
    stats = VariantStats.from_samples("b", [float(i) for i in range(1, 101)], errors=2)
    assert (stats.invocations, stats.errors, stats.p50_ms, stats.p95_ms, stats.p99_ms) == (102, 2, 50.0, 95.0, 99.0)
    assert stats.violations(Guard(max_error_rate=0.05, max_p95_ms=500)) == []
    assert stats.violations(Guard(max_error_rate=0.01, max_p95_ms=90)) == [
        "b: error rate 1.96% (2/102) > 1.00%",
        "b: p95 latency 95.0 ms > 90.0 ms",
    ]
    assert stats.violations(Guard(max_error_rate=0.0, min_invocations=1000)) == []  # too few requests to judge
    assert VariantStats.from_samples("c", [], errors=0).p95_ms is None
    with pytest.raises(DeploymentError):
        Guard(max_error_rate=2)
