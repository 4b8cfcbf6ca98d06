"""The evaluation report's flat files: headline scores and the confusion matrix as (actual, predicted) rows."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from ml.evaluation import CONFUSION_FILE, SCORES_FILE, build_report, format_report, write_scores
from pipelines.spec import MIN_MACRO_F1_GATE


def report() -> dict:
    """A report over two labels: 3 + 1 'a' prompts, 2 'b' prompts, one 'a' predicted as 'b'."""
    metrics = {
        "accuracy": 5 / 6,
        "macro_f1": 0.8,
        "macro_precision": 0.83,
        "macro_recall": 0.875,
        "per_class": {},
        "confusion_matrix": {"labels": ["a", "b"], "matrix": [[3, 1], [0, 2]]},
    }
    return build_report(metrics, dataset="test", num_examples=6)


def test_scores_and_confusion_rows(tmp_path: Path) -> None:
    write_scores(report(), tmp_path)
    scores = json.loads((tmp_path / SCORES_FILE).read_text())
    assert scores == {"accuracy": 5 / 6, "macro_f1": 0.8, "macro_precision": 0.83, "macro_recall": 0.875}
    with (tmp_path / CONFUSION_FILE).open() as file:
        rows = Counter((r["actual"], r["predicted"]) for r in csv.DictReader(file))
    assert rows == Counter({("a", "a"): 3, ("a", "b"): 1, ("b", "b"): 2})
    with_natural = {**report(), "natural": report()}  # the hand-written set's scores beside the split's
    write_scores(with_natural, tmp_path)
    assert json.loads((tmp_path / SCORES_FILE).read_text())["natural"] == scores


def test_the_gate_verdict_is_reported(tmp_path: Path) -> None:
    judged = report()
    passed, detail = MIN_MACRO_F1_GATE.judge(judged, 0.9)
    judged["gate"] = {"passed": passed, "detail": detail}
    assert not passed and detail == "metrics.macro_f1.value = 0.8000 < MinMacroF1 = 0.9000"
    write_scores(judged, tmp_path)
    assert json.loads((tmp_path / SCORES_FILE).read_text())["gate_passed"] is False
    assert "quality gate     FAILED: metrics.macro_f1.value = 0.8000 < MinMacroF1" in format_report(judged)
    assert MIN_MACRO_F1_GATE.judge(judged, 0.8)[0]  # the threshold itself passes
