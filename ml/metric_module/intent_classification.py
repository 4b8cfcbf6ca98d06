"""Intent classification metric for `evaluate`: accuracy, macro-F1, per-class P/R/F1 and confusion matrix."""

# evaluate's dependency scanner misreads "import a, b": keep one import per line.
import datasets
import evaluate

from ml.scores import classification_scores
from ml.taxonomy import INTENTS

_DESCRIPTION = "Accuracy, macro precision/recall/F1, per-class precision/recall/F1 and the confusion matrix."
_KWARGS = """
Args:
    predictions: predicted label ids.
    references: true label ids.
    labels: label names in id order (default: the ten intents of the taxonomy).
Returns:
    accuracy, macro_precision, macro_recall, macro_f1, per_class, confusion_matrix.
"""


class IntentClassification(evaluate.Metric):
    """Exact multi-class metrics over integer label ids."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions: list[int], references: list[int], labels: list[str] | None = None) -> dict:
        return classification_scores(predictions, references, list(labels or INTENTS))
