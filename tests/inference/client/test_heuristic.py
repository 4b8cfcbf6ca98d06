"""The keyword heuristic: answers like a model, better than chance."""

from __future__ import annotations

import json

import pytest

from inference.client import heuristic
from ml.taxonomy import INTENTS
from tests.conftest import ROOT


def test_heuristic_answers_like_a_model() -> None:
    result = heuristic.classify("Translate this paragraph into Spanish")
    assert result["intent"] == "translation"
    assert list(result["probabilities"]) == list(INTENTS)
    assert sum(result["probabilities"].values()) == pytest.approx(1.0)
    assert result["confidence"] == result["probabilities"]["translation"] < 0.95  # a guess, and says so
    assert heuristic.classify("qwxz")["intent"] == heuristic.FALLBACK_INTENT


def test_heuristic_beats_chance_on_natural_prompts() -> None:
    rows = [json.loads(line) for line in (ROOT / "data" / "natural_prompts.jsonl").read_text().splitlines()]
    accuracy = sum(heuristic.classify(r["text"])["intent"] == r["intent"] for r in rows) / len(rows)
    assert accuracy >= 0.7  # chance is 0.1
