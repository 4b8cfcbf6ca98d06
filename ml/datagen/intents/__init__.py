"""The intent tables, one module per intent; ``SPECS`` maps each intent name to its spec in taxonomy order."""

from __future__ import annotations

from ml.datagen.engine import IntentSpec
from ml.datagen.intents import (
    code_generation,
    conversation,
    creative_writing,
    data_analysis,
    problem_solving,
    question_answering,
    reasoning,
    summarization,
    task_planning,
    translation,
)

SPECS: dict[str, IntentSpec] = {
    "question_answering": question_answering.SPEC,
    "creative_writing": creative_writing.SPEC,
    "code_generation": code_generation.SPEC,
    "data_analysis": data_analysis.SPEC,
    "reasoning": reasoning.SPEC,
    "summarization": summarization.SPEC,
    "translation": translation.SPEC,
    "conversation": conversation.SPEC,
    "task_planning": task_planning.SPEC,
    "problem_solving": problem_solving.SPEC,
}
