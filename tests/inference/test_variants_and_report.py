"""Variant names, weights and schedules as SageMaker validates them; the A/B report's evidence and verdicts."""

from __future__ import annotations

import pytest

from inference.ab_report import INCONCLUSIVE, PROMOTE, ROLLBACK, ReportPolicy, build_report, render_table
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
        "b: error rate 1.96% (2/102) > 1.00%", "b: p95 latency 95.0 ms > 90.0 ms"]
    assert stats.violations(Guard(max_error_rate=0.0, min_invocations=1000)) == []  # too few requests to judge
    assert VariantStats.from_samples("c", [], errors=0).p95_ms is None
    with pytest.raises(DeploymentError):
        Guard(max_error_rate=2)


def _traffic(cand_errors: int = 0, cand_p95: float = 20.0, cand_n: int = 200) -> dict[str, VariantStats]:
    return {"champion": VariantStats("champion", 1800, 0, 10.0, 20.0, 30.0),
            "challenger": VariantStats("challenger", cand_n, cand_errors, 10.0, cand_p95, 30.0)}


LABELS = ["qa", "code", "qa", "chat"]


@pytest.mark.parametrize(
    ("traffic", "sample", "verdict", "evidence"),
    [
        (_traffic(), {"champion": ["qa", "code", "qa", "qa"], "challenger": LABELS}, PROMOTE, "within the error-rate"),
        (_traffic(cand_errors=10), {"champion": LABELS, "challenger": LABELS}, ROLLBACK, "error rate 5.00%"),
        (_traffic(cand_p95=800), {"champion": LABELS, "challenger": LABELS}, ROLLBACK, "p95 latency 800.0 ms"),
        (_traffic(), {"champion": LABELS, "challenger": ["qa", "qa", "qa", "qa"]}, ROLLBACK, "less accurate"),
        (_traffic(cand_n=20), {"champion": LABELS, "challenger": LABELS}, INCONCLUSIVE, "fewer than the 100"),
        (_traffic(), None, INCONCLUSIVE, "no sample was compared"),
    ],
)
def test_report_verdicts(traffic: dict[str, VariantStats], sample: dict[str, list[str]] | None, verdict: str,
                         evidence: str) -> None:
    report = build_report("ep", traffic, candidate="challenger", baseline="champion", policy=ReportPolicy(),
                          weights={"champion": 90, "challenger": 10}, sample=sample, labels=LABELS if sample else None)
    assert report["verdict"] == verdict
    assert any(evidence in line for line in report["evidence"]), report["evidence"]
    assert report["variants"]["champion"]["observed_share"] == pytest.approx(1800 / (1800 + traffic["challenger"].invocations),
                                                                             abs=1e-4)
    table = render_table(report)
    assert f"verdict: {verdict.upper()}" in table and "challenger" in table


def test_report_agreement_distribution_and_bad_roles() -> None:
    report = build_report("ep", _traffic(), candidate="challenger", baseline="champion",
                          live_predictions={"champion": {"qa": 3, "code": 1}, "challenger": {"qa": 1, "code": 1}},
                          sample={"champion": ["qa", "code", "qa", "chat"], "challenger": ["qa", "code", "qa", "qa"]},
                          labels=LABELS)
    assert report["agreement"] == 0.75
    assert report["variants"]["champion"]["prediction_distribution"] == {"code": 0.25, "qa": 0.75}
    assert report["variants"]["challenger"]["sample_accuracy"] == 0.75
    with pytest.raises(DeploymentError, match="candidate variant 'shadow'"):
        build_report("ep", _traffic(), candidate="shadow", baseline="champion")
    with pytest.raises(DeploymentError, match="the same variant"):
        build_report("ep", _traffic(), candidate="champion", baseline="champion")
