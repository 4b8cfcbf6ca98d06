"""The A/B report's evidence and verdicts."""

from __future__ import annotations

import pytest

from inference.deploy.report import INCONCLUSIVE, PROMOTE, ROLLBACK, ReportPolicy, build_report, render_table
from inference.variants import DeploymentError, VariantStats


def _traffic(cand_errors: int = 0, cand_p95: float = 20.0, cand_n: int = 200) -> dict[str, VariantStats]:
    return {
        "champion": VariantStats("champion", 1800, 0, 10.0, 20.0, 30.0),
        "challenger": VariantStats("challenger", cand_n, cand_errors, 10.0, cand_p95, 30.0),
    }


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
def test_report_verdicts(
    traffic: dict[str, VariantStats], sample: dict[str, list[str]] | None, verdict: str, evidence: str
) -> None:
    report = build_report(
        "ep",
        traffic,
        candidate="challenger",
        baseline="champion",
        policy=ReportPolicy(),
        weights={"champion": 90, "challenger": 10},
        sample=sample,
        labels=LABELS if sample else None,
    )
    assert report["verdict"] == verdict
    assert any(evidence in line for line in report["evidence"]), report["evidence"]
    assert report["variants"]["champion"]["observed_share"] == pytest.approx(
        1800 / (1800 + traffic["challenger"].invocations), abs=1e-4
    )
    table = render_table(report)
    assert f"verdict: {verdict.upper()}" in table and "challenger" in table


def test_report_agreement_distribution_and_bad_roles() -> None:
    report = build_report(
        "ep",
        _traffic(),
        candidate="challenger",
        baseline="champion",
        live_predictions={"champion": {"qa": 3, "code": 1}, "challenger": {"qa": 1, "code": 1}},
        sample={"champion": ["qa", "code", "qa", "chat"], "challenger": ["qa", "code", "qa", "qa"]},
        labels=LABELS,
    )
    assert report["agreement"] == 0.75
    assert report["variants"]["champion"]["prediction_distribution"] == {"code": 0.25, "qa": 0.75}
    assert report["variants"]["challenger"]["sample_accuracy"] == 0.75
    with pytest.raises(DeploymentError, match="candidate variant 'shadow'"):
        build_report("ep", _traffic(), candidate="shadow", baseline="champion")
    with pytest.raises(DeploymentError, match="the same variant"):
        build_report("ep", _traffic(), candidate="champion", baseline="champion")
