"""The statistics behind A/B verdicts, against values worked by hand and against simulated truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inference.deploy import significance as sig


def test_wilson_interval_matches_published_values_and_survives_zero_errors() -> None:
    # 5 of 100 at 95%: 2.15%-11.18% (Newcombe 1998, Statistics in Medicine 17, table I).
    assert sig.wilson(5, 100, 0.95).to_list(4) == [0.0215, 0.1118]
    zero = sig.wilson(0, 300, 0.95)
    assert zero.low == 0.0 and 0.01 < zero.high < 0.013  # no errors in 300 still allows about 1.3%
    assert sig.wilson(0, 0, 0.95) == sig.Interval(0.0, 1.0)


def test_exact_tests_match_hand_computed_tails() -> None:
    # 2 of 4 errors vs 0 of 4: P(X >= 2) for a hypergeometric(8, 2, 4) = C(2,2) C(6,2) / C(8,4) = 15/70.
    assert sig.fisher_greater(2, 4, 0, 4) == pytest.approx(15 / 70)
    assert sig.fisher_greater(0, 200, 0, 1800) == 1.0
    assert sig.fisher_greater(5, 200, 1, 1800) < 1e-3
    # 5 discordant pairs all one way: 2 * (1/2)^5.
    assert sig.mcnemar_exact(0, 5) == pytest.approx(0.0625)
    assert sig.mcnemar_exact(0, 0) == 1.0


def test_paired_difference_is_signed_and_never_degenerate() -> None:
    same = sig.paired_difference(0, 0, 50, 0.95)
    assert same.low < -0.03 and same.high > 0.03  # 50 identical answers do not prove a 1-point margin
    worse = sig.paired_difference(2, 30, 450, 0.95)
    assert worse.high < 0  # the candidate was right alone on 2, the baseline on 30
    assert sig.paired_difference(30, 2, 450, 0.95).low > 0


@pytest.mark.parametrize("margin", [0.01, 0.02, 0.05])
def test_sample_size_and_detectable_margin_are_inverse(margin: float) -> None:
    share = 0.04
    n = sig.paired_sample_size(share, margin, 0.95, 0.8)
    assert sig.detectable_margin(share, n, 0.95, 0.8) <= margin < sig.detectable_margin(share, n - 1, 0.95, 0.8)
    assert sig.paired_sample_size(share, margin / 2, 0.95, 0.8) > 3 * n  # half the margin, about four times the inputs


def test_rate_sample_size() -> None:
    # Showing an error rate under 1% for a variant that makes none: about 381 requests at 95% / 80%.
    assert sig.rate_sample_size(0.01, 0.0, 0.95, 0.8) == 381
    assert sig.rate_sample_size(0.01, 0.005, 0.95, 0.8) > 381
    assert sig.rate_sample_size(0.01, 0.01, 0.95, 0.8) is None


def test_power_analysis_holds_in_simulation() -> None:
    """At the planned sample size, a variant with no true error rate problem passes about `power` of the time."""
    rng = np.random.default_rng(7)
    n = sig.rate_sample_size(0.01, 0.002, 0.95, 0.8)
    assert n is not None
    passes = sum(sig.wilson(int(rng.binomial(n, 0.002)), n, 0.95).high <= 0.01 for _ in range(400))
    assert passes / 400 >= 0.75


def test_quantile_interval_covers_the_true_p95() -> None:
    rng = np.random.default_rng(11)
    truth = -math.log(0.05) * 20.0  # the p95 of an exponential with mean 20
    covered = 0
    for _ in range(300):
        interval = sig.quantile_interval(rng.exponential(20.0, 400).tolist(), 0.95, 0.95)
        assert interval is not None
        covered += interval.low <= truth <= interval.high
    assert covered / 300 >= 0.92
    assert sig.quantile_interval([1.0] * 50, 0.95, 0.95) is None  # too few to bound a p95 from above
    assert sig.quantile_sample_size(0.95, 0.95) > 50
    assert sig.quantile_interval([1.0] * sig.quantile_sample_size(0.95, 0.95), 0.95, 0.95) is not None


def test_bootstrap_difference_finds_a_real_shift_and_is_repeatable() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(20, 3, 2000).tolist()
    slower = (rng.normal(20, 3, 400) + 15).tolist()
    interval = sig.bootstrap_quantile_difference(slower, base, 0.95, 0.95, resamples=500)
    assert interval is not None and 10 < interval.low < 15 < interval.high < 20
    assert sig.bootstrap_quantile_difference(slower, base, 0.95, 0.95, resamples=500) == interval
    same = sig.bootstrap_quantile_difference(base[:1000], base[1000:], 0.95, 0.95, resamples=500)
    assert same is not None and same.low < 0 < same.high
    assert sig.bootstrap_quantile_difference([], base, 0.95, 0.95) is None
