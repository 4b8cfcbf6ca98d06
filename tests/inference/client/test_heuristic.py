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
    # Chance is 0.1; the rules were written against the first 50 of these prompts (0.96 there), and on all 452, most
    # written later in harder styles, they score 0.58 (2026-12-02): a last-resort fallback, not a classifier.
    assert accuracy >= 0.5


def test_a_long_text_is_read_from_its_start_only() -> None:
    # The work per text is bounded (its speed is measured in benchmarks/heuristic_cost.py, never here).
    filler = "lorem ipsum dolor " * 60_000  # ~1 MB
    assert heuristic.classify("Translate this into Spanish: " + filler)["intent"] == "translation"
    assert heuristic.classify(filler + "Translate this into Spanish")["intent"] == heuristic.FALLBACK_INTENT
    # Many a first half of an "A.*B" rule and never its second: the input that made the regex backtrack.
    assert heuristic.classify("if " * 350_000)["intent"] == heuristic.FALLBACK_INTENT
    assert heuristic.classify("if " * 100 + "then what")["intent"] == "reasoning"
    assert heuristic.classify("write " * 100 + "a python function")["intent"] == "code_generation"
