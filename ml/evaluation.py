"""Evaluate a saved model on labelled prompts through the `evaluate` package; write the SageMaker-shaped report."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ml.data import Example
from ml.errors import DataError

log = logging.getLogger(__name__)

REPORT_FILE = "evaluation.json"
HEADLINE_METRICS = ("accuracy", "macro_f1", "macro_precision", "macro_recall")
# What `write_scores` writes: the headline scores, flat, and one (actual, predicted) row per example, the shape of
# DVC's confusion-matrix plot.
SCORES_FILE = "scores.json"
CONFUSION_FILE = "confusion.csv"


def compute_metrics(predictions: Sequence[int], references: Sequence[int], labels: Sequence[str]) -> dict[str, Any]:
    """Run our `evaluate` metric module over label ids."""
    import evaluate

    from ml.metric_module import METRIC_PATH

    metric = evaluate.load(str(METRIC_PATH))
    metric.add_batch(predictions=list(predictions), references=list(references))
    return metric.compute(labels=list(labels))


def build_report(metrics: dict[str, Any], *, dataset: str, num_examples: int) -> dict[str, Any]:
    """Shape metrics as a SageMaker evaluation report: {"metrics": {"macro_f1": {"value": ...}, ...}, ...}."""
    return {
        "metrics": {name: {"value": metrics[name]} for name in HEADLINE_METRICS},
        "per_class": metrics["per_class"],
        "confusion_matrix": metrics["confusion_matrix"],
        "dataset": dataset,
        "num_examples": num_examples,
    }


def evaluate_model(model_dir: Path, examples: Sequence[Example], *, dataset: str = "test") -> dict[str, Any]:
    """Predict every example with the model in model_dir and return the evaluation report."""
    from ml.model import load_model
    from ml.predict import predict_logits

    if not examples:
        raise DataError(f"nothing to evaluate: the {dataset} set is empty")
    model, tokenizer, info = load_model(model_dir)
    unknown = sorted({e.intent for e in examples} - set(info.labels))
    if unknown:
        raise DataError(f"the {dataset} set has labels the model does not know: {', '.join(unknown)}")
    label_ids = {label: i for i, label in enumerate(info.labels)}
    logits = predict_logits(model, tokenizer, info, [e.text for e in examples])
    metrics = compute_metrics(logits.argmax(axis=1).tolist(), [label_ids[e.intent] for e in examples], info.labels)
    return build_report(metrics, dataset=dataset, num_examples=len(examples))


def write_report(report: dict[str, Any], out_dir: Path) -> Path:
    """Write evaluation.json (and evaluation.txt, the readable table) into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_FILE
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    (out_dir / "evaluation.txt").write_text(format_report(report) + "\n")
    return path


def write_scores(report: dict[str, Any], out_dir: Path) -> None:
    """Write the report's headline scores (and the gate's verdict, when judged) as flat JSON, and its confusion
    matrix as (actual, predicted) rows, into out_dir."""
    import csv

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores: dict[str, Any] = {name: m["value"] for name, m in report["metrics"].items()}
    if "gate" in report:
        scores["gate_passed"] = report["gate"]["passed"]
    (out_dir / SCORES_FILE).write_text(json.dumps(scores, indent=2, sort_keys=True) + "\n")
    labels = report["confusion_matrix"]["labels"]
    with (out_dir / CONFUSION_FILE).open("w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["actual", "predicted"])
        for actual, counts in zip(labels, report["confusion_matrix"]["matrix"], strict=True):
            for predicted, count in zip(labels, counts, strict=True):
                writer.writerows([(actual, predicted)] * count)


def format_report(report: dict[str, Any]) -> str:
    """Render the report as a readable table: headline metrics, per-intent scores, confusion matrix."""
    lines = [f"evaluation on {report['dataset']} ({report['num_examples']} examples)"]
    lines += [f"  {name:<16} {m['value']:.4f}" for name, m in report["metrics"].items()]
    if "gate" in report:
        lines.append(
            f"  quality gate     {'passed' if report['gate']['passed'] else 'FAILED'}: {report['gate']['detail']}"
        )
    lines.append("")
    lines.append(f"  {'intent':<20} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for label, row in report["per_class"].items():
        lines.append(
            f"  {label:<20} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>7.3f} {row['support']:>8d}"
        )
    labels = report["confusion_matrix"]["labels"]
    short = [label[:5] for label in labels]
    lines.append("")
    lines.append("  confusion matrix (rows: true, columns: predicted)")
    lines.append("  " + " " * 20 + " ".join(f"{s:>5}" for s in short))
    for label, counts in zip(labels, report["confusion_matrix"]["matrix"], strict=True):
        lines.append(f"  {label:<20}" + " ".join(f"{c:>5d}" for c in counts))
    return "\n".join(lines)
