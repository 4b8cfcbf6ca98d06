"""IntentClient against a real server process (HTTP transport) and a moto server (boto3 transport):
endpoint up, down, slow, recovering, and the fallbacks to the local ONNX model and the heuristic."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.client import IntentClient, IntentRequestError, IntentUnavailableError
from inference.client.circuit import CircuitBreaker, State
from inference.client.transports import HttpTransport
from tests.conftest import free_port
from tests.inference.conftest import ServerProcess, start_cli_server

TEXTS = ["Write a Python function that parses a CSV file", "Translate 'thank you' into Japanese"]


@pytest.fixture(scope="module")
def endpoint(onnx_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_cli_server(onnx_model, tmp_path_factory.mktemp("endpoint") / "server.log", "--threads", "1")
    yield server
    server.kill()


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused


class CountingTransport:
    """Wraps a transport and counts the calls that reach it."""

    def __init__(self, inner: HttpTransport) -> None:
        self.inner, self.calls = inner, 0

    def invoke(self, texts: list[str]):
        self.calls += 1
        return self.inner.invoke(texts)


def test_endpoint_up_answers_from_the_endpoint(endpoint: ServerProcess, onnx_model: Path) -> None:
    client = IntentClient.for_url(endpoint.url, local_model_dir=onnx_model)
    predictions = client.classify(TEXTS)
    assert [p.source for p in predictions] == ["endpoint", "endpoint"]
    assert predictions[0].model_version == onnx_model.name
    assert sum(predictions[0].probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    # The same model locally gives the same answers: the fallback is not a different classifier.
    local = client.local.predict(TEXTS)
    assert [p.intent for p in predictions] == [r["intent"] for r in local]
    assert client.breaker.state is State.CLOSED
    assert client.classify_one("hello there").source == "endpoint"


def test_long_lists_are_split_across_requests(endpoint: ServerProcess) -> None:
    client = IntentClient.for_url(endpoint.url, max_inputs_per_request=64)
    texts = [f"text number {i} about summarising a report" for i in range(150)]
    predictions = client.classify(texts)
    assert len(predictions) == 150 and {p.source for p in predictions} == {"endpoint"}


def test_endpoint_down_falls_back_to_local_onnx_and_opens_the_circuit(onnx_model: Path) -> None:
    transport = CountingTransport(HttpTransport(dead_url(), connect_timeout=0.5, retries=1))
    client = IntentClient(
        transport, local_model_dir=onnx_model, breaker=CircuitBreaker(failure_threshold=2, reset_timeout_s=60)
    )
    for _ in range(2):
        predictions = client.classify(TEXTS)
        assert [p.source for p in predictions] == ["local_onnx", "local_onnx"]
    assert client.breaker.state is State.OPEN and transport.calls == 2
    start = time.perf_counter()
    assert client.classify_one("hi").source == "local_onnx"
    assert transport.calls == 2, "an open circuit must not call the endpoint"
    assert time.perf_counter() - start < 0.5


def test_slow_endpoint_times_out_falls_back_then_recovers(endpoint: ServerProcess, onnx_model: Path) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout_s=1.0)
    client = IntentClient.for_url(
        endpoint.url, read_timeout=0.5, retries=1, local_model_dir=onnx_model, breaker=breaker
    )
    assert client.classify_one("warm the connection pool").source == "endpoint"
    # Stopped processes still accept connections (the kernel queues them) but never answer: a hung endpoint.
    os.killpg(endpoint.proc.pid, signal.SIGSTOP)  # the whole group: the supervisor and its workers
    try:
        for _ in range(2):
            start = time.perf_counter()
            assert client.classify_one("what is the boiling point of water?").source == "local_onnx"
            elapsed = time.perf_counter() - start
            assert 0.45 < elapsed < 3.0, elapsed  # waited for the read timeout, and not much longer
        assert breaker.state is State.OPEN
        start = time.perf_counter()
        assert client.classify_one("still down?").source == "local_onnx"
        assert time.perf_counter() - start < 0.3  # open circuit: no waiting on the endpoint
    finally:
        os.killpg(endpoint.proc.pid, signal.SIGCONT)
    time.sleep(1.1)  # the cooldown: the next call is the half-open probe
    assert breaker.state is State.HALF_OPEN
    assert client.classify_one("are you back?").source == "endpoint"
    assert breaker.state is State.CLOSED
    assert client.classify_one("and again").source == "endpoint"


def test_heuristic_is_the_last_resort(tmp_path: Path) -> None:
    client = IntentClient.for_url(dead_url(), local_model_dir=None)
    prediction = client.classify_one("Translate this paragraph into French please")
    assert prediction.source == "heuristic" and prediction.intent == "translation"
    assert prediction.model_version == "heuristic-v1"
    # A local model that cannot load does not break the client either.
    broken = tmp_path / "broken"
    broken.mkdir()
    assert IntentClient.for_url(dead_url(), local_model_dir=broken).classify_one("hi").source == "heuristic"
    with pytest.raises(IntentUnavailableError):
        IntentClient.for_url(dead_url(), use_heuristic=False).classify_one("hi")


def test_invalid_input_is_the_callers_error(endpoint: ServerProcess, onnx_model: Path) -> None:
    client = IntentClient.for_url(endpoint.url, local_model_dir=onnx_model, breaker=CircuitBreaker(failure_threshold=1))
    with pytest.raises(IntentRequestError, match="empty"):
        client.classify(["fine", "  "])
    with pytest.raises(IntentRequestError, match="must be a string"):
        client.classify([1])  # type: ignore[list-item]
    # Over the server's per-text limit: the endpoint says 413, the caller hears it, the endpoint is not blamed.
    with pytest.raises(IntentRequestError, match="limit"):
        client.classify_one("x" * 20_000)
    assert client.breaker.state is State.CLOSED


def test_client_is_thread_safe_while_falling_back(onnx_model: Path) -> None:
    client = IntentClient.for_url(dead_url(), local_model_dir=onnx_model, breaker=CircuitBreaker(failure_threshold=3))
    sources: list[str] = []

    def work() -> None:
        for _ in range(5):
            sources.extend(p.source for p in client.classify(TEXTS))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sources) == 80 and set(sources) == {"local_onnx"}
    assert client.breaker.state is State.OPEN
