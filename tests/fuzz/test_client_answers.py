"""IntentClient against an endpoint that answers 200 with garbage: a real HTTP stub server on loopback serves each
generated body, and the client must neither raise nor return an invalid answer as the endpoint's (it falls back)."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inference.client import IntentClient, Prediction
from ml.taxonomy import INTENTS

TEXT = "Translate this paragraph into Spanish"


class StubServer(ThreadingHTTPServer):
    """Answers every POST with `body` and `status`, whatever the request."""

    daemon_threads = True
    body: bytes = b""
    status: int = 200


class _Handler(BaseHTTPRequestHandler):
    server: StubServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def stub() -> Iterator[StubServer]:
    server = StubServer(("127.0.0.1", 0), _Handler)  # port 0: the OS picks a free one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _classify(stub: StubServer, body: bytes) -> Prediction:
    stub.body = body
    client = IntentClient.for_url(f"http://127.0.0.1:{stub.server_address[1]}", retries=0)  # a fresh circuit each time
    return client.classify_one(TEXT)


def _is_valid(prediction: Prediction) -> bool:
    """The oracle, written apart from the client's own checks."""

    def probability(value: object) -> bool:
        return type(value) is float and math.isfinite(value) and 0.0 <= value <= 1.0

    return (
        prediction.intent in INTENTS
        and probability(prediction.confidence)
        and set(prediction.probabilities) == set(INTENTS)
        and all(probability(p) for p in prediction.probabilities.values())
    )


def _valid_answer(intent: str = "translation") -> dict[str, Any]:
    probabilities = dict.fromkeys(INTENTS, 0.02)
    probabilities[intent] = 1.0 - 0.02 * (len(INTENTS) - 1)
    return {"intent": intent, "confidence": probabilities[intent], "probabilities": probabilities}


def _body(*answers: Any, model_version: Any = "7") -> bytes:
    return json.dumps({"predictions": list(answers), "model_version": model_version}).encode()


def _with(field: str, value: Any) -> dict[str, Any]:
    answer = _valid_answer()
    answer[field] = value
    return answer


def _with_probability(value: Any) -> dict[str, Any]:
    answer = _valid_answer()
    answer["probabilities"]["reasoning"] = value
    return answer


def test_a_valid_answer_is_the_endpoints(stub: StubServer) -> None:
    prediction = _classify(stub, _body(_valid_answer("summarization")))
    assert prediction.source == "endpoint" and prediction.intent == "summarization"
    assert prediction.model_version == "7" and _is_valid(prediction)


# The answers of issue #20: each raised, or came back as the endpoint's answer.
@pytest.mark.parametrize(
    "answer",
    [
        _with_probability("0.1"),
        _with_probability(None),
        _with_probability([0.1]),
        _with("probabilities", [0.1] * len(INTENTS)),
        _with("intent", "pwned"),
        _with("confidence", 7.5),
        _with("confidence", float("nan")),
        _with_probability(float("inf")),
        _with("confidence", True),
        _with("confidence", "0.9"),
    ],
    ids=[
        "prob-string",
        "prob-null",
        "prob-list",
        "probs-list",
        "intent-pwned",
        "conf-7.5",
        "conf-nan",
        "prob-inf",
        "conf-bool",
        "conf-string",
    ],
)
def test_an_invalid_answer_falls_back(stub: StubServer, answer: dict[str, Any]) -> None:
    prediction = _classify(stub, _body(answer))
    assert prediction.source == "heuristic" and _is_valid(prediction)


_GARBAGE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30).filter(lambda i: i not in (0, 1)),
    st.floats().filter(lambda f: not 0.0 <= f <= 1.0),
    st.text(max_size=20),
    st.lists(st.floats(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@st.composite
def _mutated_answer(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed answer with one part broken: a field replaced, removed, or a probability out of range."""
    answer = _valid_answer(draw(st.sampled_from(INTENTS)))
    how = draw(st.sampled_from(["field", "drop", "probability", "extra_label", "missing_label", "intent"]))
    if how == "field":
        answer[draw(st.sampled_from(["intent", "confidence", "probabilities"]))] = draw(_GARBAGE_VALUES)
    elif how == "drop":
        del answer[draw(st.sampled_from(["intent", "confidence", "probabilities"]))]
    elif how == "probability":
        answer["probabilities"][draw(st.sampled_from(INTENTS))] = draw(_GARBAGE_VALUES)
    elif how == "extra_label":
        answer["probabilities"][draw(st.text(max_size=12).filter(lambda t: t not in INTENTS))] = 0.0
    elif how == "missing_label":
        del answer["probabilities"][draw(st.sampled_from(INTENTS))]
    else:
        answer["intent"] = draw(st.text(max_size=20).filter(lambda t: t not in INTENTS))
    return answer


_GARBAGE_BODIES = st.one_of(
    st.binary(max_size=200),
    _JSON.map(lambda value: json.dumps(value).encode()),
    st.builds(lambda answer: _body(answer), _mutated_answer()),
    st.builds(lambda predictions: json.dumps({"predictions": predictions}).encode(), _JSON),
    st.builds(lambda n: _body(*[_valid_answer()] * n), st.sampled_from([0, 2, 3])),  # the wrong count
    st.builds(lambda version: _body(_valid_answer(), model_version=version), _JSON.filter(lambda v: v is not None)),
)


@given(body=_GARBAGE_BODIES)
def test_client_never_raises_nor_returns_an_invalid_answer(stub: StubServer, body: bytes) -> None:
    prediction = _classify(stub, body)
    assert _is_valid(prediction), prediction
    if prediction.source == "endpoint":
        # Only a valid answer comes back as the endpoint's, and then exactly as it was sent.
        sent = json.loads(body)["predictions"][0]
        assert prediction.intent == sent["intent"] and prediction.probabilities == sent["probabilities"]
