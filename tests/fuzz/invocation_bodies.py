"""Hypothesis strategies for what a client sends to /invocations, and the checks every answer must pass; shared by
the fuzzing of the model server (test_serving_*) and of the local endpoint's InvokeEndpoint (test_endpoint_*)."""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any

from hypothesis import strategies as st

from inference.serving.payload import Limits
from ml.taxonomy import INTENTS

# Texts that hold at least one character that renders (a letter, digit, punctuation or symbol other than the Hangul
# fillers, letters that render as nothing), wrapped in anything.
VISIBLE_TEXTS = st.builds(
    lambda before, visible, after: before + visible + after,
    st.text(max_size=30),
    st.characters(categories=("L", "N", "P", "S"), exclude_characters="\u115f\u1160\u3164\uffa0"),
    st.text(max_size=30),
)
JSON_CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "Application/JSON", 'application/json;charset="UTF8"']
)
# Inputs the contract accepts: one text, or a list within the limit of texts.
VALID_INPUTS = st.one_of(VISIBLE_TEXTS, st.lists(VISIBLE_TEXTS, min_size=1, max_size=8))

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
# Bodies near the contract and far from it: wrong shapes and types, invisible or empty texts, too many texts, spelled
# lone surrogates, bytes that are not UTF-8 or not JSON.
ANY_BODIES = st.one_of(
    st.builds(lambda inputs: json.dumps({"inputs": inputs}).encode(), VALID_INPUTS),
    st.builds(lambda inputs: json.dumps({"inputs": inputs}).encode(), JSON_VALUES),
    st.builds(lambda value: json.dumps(value).encode(), JSON_VALUES),
    st.builds(
        lambda text: json.dumps({"inputs": text}).encode(),
        st.text(st.characters(categories=("Zs", "Cc", "Cf")), max_size=8),
    ),
    st.builds(
        lambda n: json.dumps({"inputs": ["hi"] * n}).encode(), st.integers(Limits.max_inputs, 3 * Limits.max_inputs)
    ),
    st.sampled_from([b'{"inputs": "\\ud800"}', b'{"inputs": ["ok", "\\udfff x"]}', b'{"inputs": 1e999}']),
    st.builds(lambda value: json.dumps(value).encode("utf-16"), JSON_VALUES),
    st.binary(max_size=200),
)
ANY_CONTENT_TYPES = st.one_of(
    JSON_CONTENT_TYPES,
    st.sampled_from(["text/plain", "application/json; charset=latin-1", "application/x-www-form-urlencoded", ""]),
    st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=40),
)


def texts_of(body: bytes) -> list[str] | None:
    """The texts a body holds when it is valid JSON of the contract's shape (unchecked for visibility), else None."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or set(data) != {"inputs"}:
        return None
    inputs = data["inputs"]
    texts = [inputs] if isinstance(inputs, str) else inputs
    return texts if isinstance(texts, list) and all(isinstance(t, str) for t in texts) else None


def renders_something(text: str) -> bool:
    """Whether a text holds a character that is neither whitespace nor a control, format, private-use, surrogate or
    unassigned code point: a text without one is nothing to classify (issue #20, item 12)."""
    return any(not c.isspace() and unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text)


def check_predictions(answer: Any, texts: list[str]) -> None:
    """A right answer: texts that render something, one prediction per text, each an intent of the taxonomy with
    probabilities that sum to 1."""
    assert all(renders_something(text) for text in texts), texts
    predictions = answer["predictions"]
    assert len(predictions) == len(texts), answer
    for prediction in predictions:
        probabilities = prediction["probabilities"]
        assert set(probabilities) == set(INTENTS) and prediction["intent"] in INTENTS, prediction
        assert math.isclose(sum(probabilities.values()), 1.0, abs_tol=1e-3), prediction
        assert prediction["confidence"] == max(probabilities.values()) == probabilities[prediction["intent"]]
    assert isinstance(answer["model_version"], str)


def check_error(status: int, body: bytes, *message_keys: str) -> str:
    """A clear client error: a 4xx, a JSON object whose first of `message_keys` present explains it, no traceback.
    Returns the message."""
    assert 400 <= status < 500, (status, body[:500])
    answer = json.loads(body)
    message = next(answer[key] for key in message_keys if key in answer)
    assert isinstance(message, str) and message, body[:500]
    assert "Traceback" not in message, message
    return message
