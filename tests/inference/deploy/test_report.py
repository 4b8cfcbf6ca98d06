"""The A/B report's evidence, statistics and verdicts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from inference.deploy.report import INCONCLUSIVE, PROMOTE, ROLLBACK, ReportPolicy, build_report, render_table
from inference.variants import DeploymentError, VariantStats

INTENTS = ["qa", "code", "chat", "math"]


def _latencies(n: int, mean: float = 20.0, seed: int = 0) -> list[float]:
    return np.random.default_rng(seed).normal(mean, 2.0, n).clip(1).tolist()


def _stats(name: str, latencies: Sequence[float], errors: int = 0) -> VariantStats:
    return VariantStats.from_samples(name, latencies, errors)


def _report(
    cand_n: int,
    *,
    cand_errors: int = 0,
    cand_mean_ms: float = 20.0,
    labelled: int,
    cand_wrong: int = 0,
    raw: bool = True,
) -> dict:
    """A candidate and a baseline with the given live traffic and a labelled sample both classify perfectly, except
    `cand_wrong` inputs the candidate gets wrong."""
    base_lat, cand_lat = _latencies(9 * cand_n + 1000, seed=1), _latencies(cand_n, cand_mean_ms, seed=2)
    traffic = {"champion": _stats("champion", base_lat), "challenger": _stats("challenger", cand_lat, cand_errors)}
    labels = [INTENTS[i % 4] for i in range(labelled)]
    cand = [("chat" if y != "chat" else "qa") if i < cand_wrong else y for i, y in enumerate(labels)]
    return build_report(
        "ep",
        traffic,
        candidate="challenger",
        baseline="champion",
        weights={"champion": 90, "challenger": 10},
        latencies={"champion": base_lat, "challenger": cand_lat} if raw else None,
        sample={"champion": labels, "challenger": cand} if labelled else None,
        labels=labels if labelled else None,
    )


def _said(report: dict, text: str) -> bool:
    return any(text in line for line in report["evidence"])


def test_a_small_sample_is_inconclusive_and_says_how_much_more_it_needs() -> None:
    report = _report(50, labelled=50)
    assert report["verdict"] == INCONCLUSIVE
    need_live = report["required"]["live_requests"] - 50
    need_labels = report["tests"]["accuracy"]["need"]
    assert _said(report, f"need {need_live} more live requests on challenger")
    assert _said(report, f"need {need_labels} more labelled inputs")
    table = render_table(report)
    # The sample sizes a decision needs come before the verdict.
    assert table.index("a decision needs") < table.index("verdict: INCONCLUSIVE")
    assert f"{report['required']['live_requests']} live requests on challenger (has 50)" in table


def test_the_same_evidence_in_the_sizes_it_asked_for_is_decisive() -> None:
    small = _report(50, labelled=50)
    big = _report(small["required"]["live_requests"], labelled=small["required"]["labelled_inputs"])
    assert big["verdict"] == PROMOTE, big["evidence"]
    assert {t["status"] for t in big["tests"].values()} == {"pass"}
    assert big["tests"]["accuracy"]["interval"][0] >= -ReportPolicy().accuracy_tolerance


@pytest.mark.parametrize(
    ("kwargs", "finding"),
    [
        ({"cand_n": 200, "cand_errors": 10}, "error rate is above the 1.00% guard"),
        ({"cand_n": 3000, "cand_errors": 8}, "errs significantly more than champion"),  # 0.27%: under the guard
        ({"cand_n": 400, "cand_mean_ms": 800.0}, "p95 is over the 500 ms guard"),
        ({"cand_n": 400, "cand_mean_ms": 800.0, "raw": False}, "is over 500 ms"),
        ({"cand_n": 400, "cand_wrong": 40}, "less accurate than champion by more than 2.00%"),
    ],
)
def test_harm_shown_by_an_interval_rolls_back_early(kwargs: dict, finding: str) -> None:
    report = _report(labelled=400, **kwargs)
    assert report["verdict"] == ROLLBACK
    assert _said(report, finding), report["evidence"]


def test_a_difference_near_the_tolerance_needs_more_inputs_not_a_rollback() -> None:
    # 1 wrong answer in 400 is clearly within a 2-point tolerance; 4 (1 point) cannot be told apart from 2 points yet.
    assert _report(2000, labelled=400, cand_wrong=1)["tests"]["accuracy"]["status"] == "pass"
    report = _report(2000, labelled=400, cand_wrong=4)
    accuracy = report["tests"]["accuracy"]
    assert accuracy["status"] == "undecided" and accuracy["interval"][0] < -0.02 < accuracy["interval"][1]
    assert report["verdict"] == INCONCLUSIVE
    assert _said(report, f"need {accuracy['need']} more labelled inputs to show challenger within 2.00%")
    settled = _report(2000, labelled=400 + accuracy["need"], cand_wrong=4 * (400 + accuracy["need"]) // 400)
    assert settled["tests"]["accuracy"]["status"] == "pass", settled["tests"]["accuracy"]


def test_cloudwatch_percentiles_have_no_interval_but_still_decide() -> None:
    report = _report(2000, labelled=2000, raw=False)
    assert report["tests"]["latency"]["interval_ms"] is None
    assert _said(report, "percentiles without samples have no interval")
    assert report["verdict"] == PROMOTE


def test_per_variant_intervals_and_agreement() -> None:
    report = _report(400, labelled=400, cand_wrong=40)
    challenger = report["variants"]["challenger"]
    assert challenger["sample_accuracy"] == 0.9
    low, high = challenger["sample_accuracy_ci"]
    assert low < 0.9 < high
    assert report["variants"]["champion"]["error_rate_ci"][0] == 0.0
    assert report["agreement"] == 0.9
    assert report["tests"]["accuracy"]["baseline_only_right"] == 40
    assert report["tests"]["accuracy"]["mcnemar_p"] < 1e-6


@pytest.mark.parametrize(
    ("field", "value"), [("confidence", 1.0), ("confidence", 0.0), ("confidence", -0.5), ("power", 1.5)]
)
def test_levels_outside_0_1_are_refused(field: str, value: float) -> None:
    with pytest.raises(DeploymentError, match=f"the {field} level must be strictly between 0 and 1"):
        ReportPolicy(**{field: value})
    with pytest.raises(DeploymentError, match="accuracy tolerance"):
        ReportPolicy(accuracy_tolerance=0)


def test_bad_roles() -> None:
    traffic = {"champion": VariantStats("champion", 10, 0), "challenger": VariantStats("challenger", 10, 0)}
    with pytest.raises(DeploymentError, match="candidate variant 'shadow'"):
        build_report("ep", traffic, candidate="shadow", baseline="champion")
    with pytest.raises(DeploymentError, match="the same variant"):
        build_report("ep", traffic, candidate="champion", baseline="champion")
