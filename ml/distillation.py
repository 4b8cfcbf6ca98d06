"""A linear teacher for the small model: TF-IDF over words and characters with logistic regression, cross-fitted.

A 2-layer DeBERTa trained from random weights on a few thousand prompts learns less from them than a linear model
over their words and character n-grams does (docs/benchmarks.md, "Distillation"). Training the student on the
teacher's probabilities beside the labels, for each augmented prompt it sees, passes on what the linear model reads.
The teacher is cross-fitted: each training prompt (and every noisy copy of it) is scored by a teacher fitted
without it, so its probabilities say how a prompt like it reads, not that it was memorised.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Folds of the cross-fitting: each teacher is fitted on 4/5 of the training prompts.
TEACHER_FOLDS = 5
# The inverse regularisation strength of the teacher's logistic regression. Its solver keeps sklearn's tolerance:
# a looser one fits faster and teaches worse (docs/benchmarks.md, "Distillation from a linear teacher").
TEACHER_C = 10.0


def make_teacher() -> Any:
    """An unfitted teacher: TF-IDF over word 1-2-grams and character 2-5-grams, then logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
    )
    return make_pipeline(features, LogisticRegression(C=TEACHER_C, max_iter=3000))


@dataclass
class Teacher:
    """Cross-fitted teachers and which one scores each training prompt."""

    models: list[Any]
    fold_of: dict[str, int]
    label_names: list[str]
    # Probabilities of the training prompts as they are: half of every batch reads them clean, every epoch.
    clean: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], label_names: Sequence[str], *, seed: int) -> Teacher:
        """Fit one teacher per fold, each on the training prompts outside its fold (`seed` deals the folds)."""
        rng = random.Random(seed)
        fold_of: dict[str, int] = {}
        for text in texts:
            fold_of.setdefault(text, rng.randrange(TEACHER_FOLDS))
        models = []
        for fold in range(TEACHER_FOLDS):
            rows = [i for i, text in enumerate(texts) if fold_of[text] != fold]
            if len({labels[i] for i in rows}) < 2:  # too few prompts to leave a fold out: fit on all of them
                rows = list(range(len(texts)))
            models.append(make_teacher().fit([texts[i] for i in rows], [labels[i] for i in rows]))
        log.info("teacher: %d cross-fitted TF-IDF + logistic regression models", len(models))
        return cls(models, fold_of, list(label_names))

    def probabilities(self, sources: Sequence[str], texts: Sequence[str]) -> Any:
        """The teacher's class probabilities (columns in `label_names`' order) for `texts`, each made from the
        training prompt at the same position in `sources`, by the teacher that never saw that prompt."""
        import numpy as np

        out = np.zeros((len(texts), len(self.label_names)), dtype=np.float32)
        by_fold: dict[int, list[int]] = {}
        fresh: list[int] = []
        for i, (source, text) in enumerate(zip(sources, texts, strict=True)):
            if text == source and source in self.clean:
                out[i] = self.clean[source]
                continue
            by_fold.setdefault(self.fold_of.get(source, 0), []).append(i)
            fresh.append(i)
        for fold, rows in by_fold.items():
            model = self.models[fold]
            probs = model.predict_proba([texts[i] for i in rows])
            column = {str(label): j for j, label in enumerate(model.classes_)}
            for k, label in enumerate(self.label_names):  # a label the fold never saw keeps probability 0
                if label in column:
                    out[rows, k] = probs[:, column[label]]
        for i in fresh:
            if texts[i] == sources[i]:
                self.clean[sources[i]] = out[i].copy()
        return out
