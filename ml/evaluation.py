"""Evaluate a saved model on labelled prompts through the `evaluate` package; write the SageMaker-shaped report."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ml.data import Example, load_examples, load_held_out, select_split
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


def confused_pairs(
    examples: Sequence[Example], predicted: Sequence[str], *, top: int = 5, per_pair: int = 3
) -> list[dict[str, Any]]:
    """The `top` most frequent (true, predicted) mistakes, most frequent first, each with up to `per_pair` prompts."""
    pairs: dict[tuple[str, str], list[str]] = {}
    for example, guess in zip(examples, predicted, strict=True):
        if guess != example.intent:
            pairs.setdefault((example.intent, guess), []).append(example.text)
    ranked = sorted(pairs.items(), key=lambda item: (-len(item[1]), item[0]))[:top]
    return [
        {"true": true, "predicted": guess, "count": len(texts), "examples": texts[:per_pair]}
        for (true, guess), texts in ranked
    ]


def evaluate_model(
    model_dir: Path, examples: Sequence[Example], *, dataset: str = "test", confusions: int = 0
) -> dict[str, Any]:
    """Predict every example with the model in model_dir and return the evaluation report (with the `confusions`
    most confused pairs and example prompts, when asked)."""
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
    predicted = logits.argmax(axis=1).tolist()
    metrics = compute_metrics(predicted, [label_ids[e.intent] for e in examples], info.labels)
    report = build_report(metrics, dataset=dataset, num_examples=len(examples))
    if confusions:
        report["confusions"] = confused_pairs(examples, [info.labels[i] for i in predicted], top=confusions)
    return report


def evaluate_data(
    model_dir: Path, data: Path, *, split: str, split_seed: int, held_out: Path | None = None, confusions: int = 0
) -> dict[str, Any]:
    """Evaluate on a split of `data` ('all': every row) and, beside it, on the `held_out` set (report["natural"]),
    which must share no prompt with `data`."""
    examples = load_examples(data)
    if held_out is not None and held_out.resolve() == Path(data).resolve():
        held_out = None  # the held-out set is the data under evaluation
    natural = load_held_out(held_out, examples) if held_out is not None else None  # bad input fails before any work
    selected = select_split(examples, split, split_seed)
    report = evaluate_model(model_dir, selected, dataset=f"{data.name}:{split}", confusions=confusions)
    if held_out is not None and natural is not None:
        report["natural"] = evaluate_model(model_dir, natural, dataset=f"{held_out.name}:all", confusions=confusions)
    return report


def write_report(report: dict[str, Any], out_dir: Path) -> Path:
    """Write evaluation.json (and evaluation.txt, the readable table) into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_FILE
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    (out_dir / "evaluation.txt").write_text(format_report(report) + "\n")
    return path


def write_scores(report: dict[str, Any], out_dir: Path) -> None:
    """Write the report's headline scores (those of the held-out set under "natural", and the gate's verdict, when
    there) as JSON, and its confusion matrix as (actual, predicted) rows, into out_dir."""
    import csv

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores: dict[str, Any] = {name: m["value"] for name, m in report["metrics"].items()}
    if "natural" in report:
        scores["natural"] = {name: m["value"] for name, m in report["natural"]["metrics"].items()}
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
    if "confusions" in report:
        lines += ["", "  most confused pairs (true -> predicted)"]
        if not report["confusions"]:
            lines.append("    none: every prompt was predicted right")
        for pair in report["confusions"]:
            lines.append(f"    {pair['true']} -> {pair['predicted']}: {pair['count']}")
            lines += [f"      - {_one_line(text)}" for text in pair["examples"]]
    if "natural" in report:
        lines += ["", format_report(report["natural"])]
    return "\n".join(lines)


def _one_line(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
