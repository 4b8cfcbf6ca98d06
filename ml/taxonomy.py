"""The label sets the classifier predicts: ten intents and three complexity levels."""

from __future__ import annotations

INTENTS: tuple[str, ...] = (
    "question_answering",
    "creative_writing",
    "code_generation",
    "data_analysis",
    "reasoning",
    "summarization",
    "translation",
    "conversation",
    "task_planning",
    "problem_solving",
)

COMPLEXITIES: tuple[str, ...] = ("simple", "moderate", "complex")


def label_maps() -> tuple[dict[str, int], dict[int, str]]:
    """Return (label2id, id2label) for the intents, in taxonomy order."""
    label2id = {name: i for i, name in enumerate(INTENTS)}
    return label2id, {i: name for name, i in label2id.items()}
