"""The drift statistics on samples whose truth is known: each check trips on its own kind of shift and not on
undrifted samples; the MMD shortcut equals the textbook formula; the verdict honours min_samples; the plot is drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binom

from inference.monitoring.drift import (
    CHECKS,
    DRIFT,
    INSUFFICIENT,
    NO_DRIFT,
    Sample,
    compare,
    mmd_permutation_test,
    plot,
)

LABELS = [f"intent_{i}" for i in range(10)]


def _sample(
    rng: np.random.Generator,
    n: int,
    *,
    intent_weights: np.ndarray | None = None,
    confidence_shift: float = 0.0,
    length_scale: float = 1.0,
    unknown_rate: float = 0.02,
    embedding_shift: float = 0.0,
) -> Sample:
    intents = rng.choice(LABELS, size=n, p=intent_weights)
    return Sample(
        intents=list(intents),
        confidences=np.clip(rng.beta(8, 2, size=n) - confidence_shift, 0.0, 1.0),
        lengths=np.maximum(1, rng.poisson(12 * length_scale, size=n)),
        unknown=rng.random(n) < unknown_rate,
        embeddings=rng.normal(size=(n, 8)) + embedding_shift,
    )


def _tripped(report: object) -> set[str]:
    return {c.name for c in report.checks if c.drifted}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("shift", "check"),
    [
        ({"intent_weights": np.array([0.35, 0.35] + [0.0375] * 8)}, "intents"),
        ({"confidence_shift": 0.15}, "confidence"),
        ({"length_scale": 1.6}, "length"),
        ({"unknown_rate": 0.3}, "unknown_tokens"),
        ({"embedding_shift": 0.6}, "embedding"),
    ],
)
def test_each_check_trips_on_its_own_shift_and_only_that_one(shift: dict, check: str) -> None:
    rng = np.random.default_rng(1)
    reference = _sample(rng, 400)
    report = compare(reference, _sample(rng, 150, **shift), labels=LABELS, permutations=500)
    assert report.verdict == DRIFT and report.drifted
    assert _tripped(report) == {check}
    tripped = next(c for c in report.checks if c.name == check)
    assert tripped.p_value < tripped.threshold == pytest.approx(0.01 / len(CHECKS))


def test_undrifted_samples_trip_the_report_at_most_at_alpha() -> None:
    """40 independent draws of reference and traffic from one distribution; Bonferroni keeps the report's
    false-alarm rate at most alpha = 0.05, so more alarms than a Binomial(40, 0.05) gives with probability
    1e-6 would mean the correction (or a test) is wrong."""
    rng = np.random.default_rng(7)
    draws, alpha = 40, 0.05
    alarms = sum(
        compare(_sample(rng, 200), _sample(rng, 80), labels=LABELS, alpha=alpha, permutations=400, seed=i).drifted
        for i in range(draws)
    )
    assert alarms <= binom.ppf(1 - 1e-6, draws, alpha)


def test_the_batched_mmd_equals_the_direct_formula_and_its_p_value_is_a_permutation_p_value() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(20, 4)) + 0.2
    statistic, p_value, bandwidth = mmd_permutation_test(x, y, permutations=199, rng=rng)

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.exp(-((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) / bandwidth**2)

    direct = kernel(x, x).mean() + kernel(y, y).mean() - 2 * kernel(x, y).mean()
    assert statistic == pytest.approx(direct, rel=1e-9)
    assert 1 / 200 <= p_value <= 1.0
    assert (p_value * 200) == pytest.approx(round(p_value * 200))
    far_statistic, far_p, _ = mmd_permutation_test(x, y + 3.0, permutations=199, rng=rng)
    assert far_statistic > statistic and far_p == pytest.approx(1 / 200)


def test_too_few_texts_is_insufficient_data_whatever_the_checks_say() -> None:
    rng = np.random.default_rng(5)
    reference = _sample(rng, 300)
    report = compare(reference, _sample(rng, 40, embedding_shift=3.0), labels=LABELS, min_samples=50)
    assert report.verdict == INSUFFICIENT and not report.drifted
    assert "embedding" in _tripped(report)  # shown, but no verdict on 40 texts
    assert compare(reference, _sample(rng, 60), labels=LABELS, min_samples=50, seed=1).verdict == NO_DRIFT


def test_the_report_serialises_and_rejects_a_bad_alpha() -> None:
    rng = np.random.default_rng(9)
    report = compare(_sample(rng, 100), _sample(rng, 60), labels=LABELS, permutations=100)
    data = report.to_dict()
    assert set(data["checks"]) == set(CHECKS)
    assert data["per_check_threshold"] == pytest.approx(0.002)
    assert data["verdict"] in {DRIFT, NO_DRIFT}
    with pytest.raises(ValueError, match="alpha"):
        compare(_sample(rng, 10), _sample(rng, 10), labels=LABELS, alpha=1.5)


def test_traffic_with_an_intent_the_model_does_not_know_is_still_tested() -> None:
    rng = np.random.default_rng(11)
    reference = _sample(rng, 300)
    current = _sample(rng, 100)
    current = Sample(
        ["new_intent"] * 50 + list(current.intents[50:]),
        current.confidences,
        current.lengths,
        current.unknown,
        current.embeddings,
    )
    report = compare(reference, current, labels=LABELS, permutations=100)
    assert "intents" in _tripped(report)
    assert "new_intent" in next(c for c in report.checks if c.name == "intents").summary


def test_the_plot_is_a_png_with_a_panel_per_check(tmp_path: Path) -> None:
    rng = np.random.default_rng(13)
    report = compare(
        _sample(rng, 200),
        _sample(rng, 80, length_scale=2.0),
        labels=LABELS,
        permutations=100,
        training_labels=LABELS * 20,
    )
    path = plot(report, tmp_path / "plots" / "drift.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(path.parent.glob(".*partial*"))
    import matplotlib.image

    height, width = matplotlib.image.imread(path).shape[:2]
    assert (width, height) == (1600, 900)
