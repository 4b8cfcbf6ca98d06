"""The `evaluate` metric module against values computed by hand."""

from __future__ import annotations

import pytest

from ml.evaluation import build_report, compute_metrics, format_report
from ml.scores import classification_scores


def test_metric_module_matches_hand_computed_values() -> None:
    # refs:  a a a b b c ; preds: a a b b c c
    # a: tp2 fp0 fn1 -> p=1, r=2/3, f1=0.8 ; b: tp1 fp1 fn1 -> p=r=f1=0.5 ; c: tp1 fp1 fn0 -> p=.5 r=1 f1=2/3
    refs = [0, 0, 0, 1, 1, 2]
    preds = [0, 0, 1, 1, 2, 2]
    got = compute_metrics(preds, refs, ["a", "b", "c"])  # goes through evaluate.load(our module)
    assert got["accuracy"] == pytest.approx(4 / 6)
    assert got["macro_precision"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert got["macro_recall"] == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert got["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert got["per_class"]["a"] == {
        "precision": 1.0,
        "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(0.8),
        "support": 3,
    }
    assert got["confusion_matrix"]["matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_absent_class_scores_zero_not_nan() -> None:
    got = classification_scores([0, 0], [0, 0], ["a", "b"])
    assert got["per_class"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert got["macro_f1"] == pytest.approx(0.5)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        classification_scores([0, 1], [0], ["a", "b"])
    with pytest.raises(ValueError, match=r"label ids must be in \[0, 2\)"):
        classification_scores([5], [0], ["a", "b"])
    with pytest.raises(ValueError, match="zero examples"):
        classification_scores([], [], ["a"])


def test_report_has_sagemaker_shape_and_a_readable_table() -> None:
    report = build_report(compute_metrics([0, 1], [0, 1], ["x", "y"]), dataset="test", num_examples=2)
    assert report["metrics"]["macro_f1"] == {"value": 1.0}
    assert set(report["metrics"]) == {"accuracy", "macro_f1", "macro_precision", "macro_recall"}
    table = format_report(report)
    assert "macro_f1" in table and "confusion matrix" in table
