"""Classification scores computed exactly from predictions: accuracy, macro-F1, per-class P/R/F1, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion_matrix(predictions: Sequence[int], references: Sequence[int], num_labels: int) -> np.ndarray:
    """Return the num_labels x num_labels matrix counting (reference row, predicted column) pairs."""
    preds = np.asarray(predictions, dtype=np.int64)
    refs = np.asarray(references, dtype=np.int64)
    if preds.shape != refs.shape:
        raise ValueError(f"{len(preds)} predictions but {len(refs)} references")
    out_of_range = (preds < 0) | (preds >= num_labels) | (refs < 0) | (refs >= num_labels)
    if out_of_range.any():
        raise ValueError(f"label ids must be in [0, {num_labels})")
    matrix = np.zeros((num_labels, num_labels), dtype=np.int64)
    np.add.at(matrix, (refs, preds), 1)
    return matrix


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # An empty class scores 0, as scikit-learn does with zero_division=0.
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


def classification_scores(predictions: Sequence[int], references: Sequence[int], labels: Sequence[str]) -> dict:
    """Compute accuracy, macro precision/recall/F1, per-class metrics and the confusion matrix."""
    if len(references) == 0:
        raise ValueError("cannot compute metrics on zero examples")
    matrix = confusion_matrix(predictions, references, len(labels))
    true_pos = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    support = matrix.sum(axis=1).astype(np.float64)
    precision = _safe_div(true_pos, predicted)
    recall = _safe_div(true_pos, support)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    return {
        "accuracy": float(true_pos.sum() / matrix.sum()),
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {"labels": list(labels), "matrix": matrix.tolist()},
    }
