"""Fast unit tests: configuration, request validation, micro-batching, circuit breaker, heuristic."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from inference import heuristic
from inference.batching import MicroBatcher
from inference.circuit import CircuitBreaker, State
from inference.config import ConfigError, ServerConfig
from inference.payload import BadRequest, Limits, check_content_length, check_content_type, parse_inputs
from ml.taxonomy import INTENTS
from tests.conftest import ROOT

# --- configuration ----------------------------------------------------------------------------------------


def test_config_defaults() -> None:
    config = ServerConfig.from_env({})
    from inference.predictor import available_cpus

    # One single-threaded worker per CPU; spinning only for a lone worker.
    assert config.model_dir == Path("/opt/ml/model") and config.port == 8080
    assert (config.workers, config.intra_op_threads) == (available_cpus(), 1)
    assert config.variant == "int8" and config.max_inputs == 64 and config.spin == "auto"
    assert config.allow_spinning == (available_cpus() == 1)
    # Micro-batching off unless asked for; when on, a lone request never waits for company.
    assert not config.batching and (config.batch_max_size, config.batch_wait_ms) == (1, 0.0)
    assert ServerConfig.from_env({"INTENT_SERVE_BATCH_MAX_SIZE": "8"}).batching
    assert not ServerConfig.from_env({"INTENT_SERVE_WORKERS": "2"}).allow_spinning
    assert ServerConfig.from_env({"INTENT_SERVE_WORKERS": "2", "INTENT_SERVE_SPIN": "ON"}).allow_spinning
    with pytest.raises(ConfigError, match="spin must be one of auto, on, off"):
        ServerConfig(spin="sometimes")


def test_config_precedence_flags_over_env_over_defaults() -> None:
    env = {"SAGEMAKER_BIND_TO_PORT": "9000", "INTENT_SERVE_WORKERS": "3", "INTENT_SERVE_BATCH_MAX_SIZE": "16",
           "INTENT_SERVE_BATCH_WAIT_MS": "2.5", "INTENT_SERVE_VARIANT": "FP32", "INTENT_SERVE_MODEL_DIR": "/models/a"}
    config = ServerConfig.from_env(env)
    assert (config.port, config.workers, config.batch_max_size, config.batch_wait_ms) == (9000, 3, 16, 2.5)
    assert config.variant == "fp32" and config.batching and config.model_dir == Path("/models/a")
    config = ServerConfig.from_env(env, port=9100, workers=None, model_dir=Path("/models/b"))
    assert config.port == 9100 and config.workers == 3 and config.model_dir == Path("/models/b")
    assert ServerConfig.from_env({"SAGEMAKER_MODEL_SERVER_WORKERS": "2"}).workers == 2
    assert ServerConfig.from_env({"SAGEMAKER_MODEL_SERVER_WORKERS": "2", "INTENT_SERVE_WORKERS": "4"}).workers == 4


def test_config_round_trips_for_workers() -> None:
    config = ServerConfig.from_env({}, port=1234, threads=2, batch_max_size=8, max_length=64)
    assert ServerConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SAGEMAKER_BIND_TO_PORT": "http"}, "SAGEMAKER_BIND_TO_PORT='http' is not an integer"),
        ({"INTENT_SERVE_WORKERS": "0"}, "workers must be at least 1"),
        ({"INTENT_SERVE_BATCH_WAIT_MS": "soon"}, "is not a number"),
        ({"INTENT_SERVE_VARIANT": "fp16"}, "variant must be one of"),
        ({"SAGEMAKER_BIND_TO_PORT": "70000"}, "at most 65535"),
    ],
)
def test_config_errors_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        ServerConfig.from_env(env)


# --- request validation (the server tests cover the same cases over HTTP) ------------------------------------


def test_parse_inputs_accepts_a_string_or_a_list() -> None:
    limits = Limits()
    assert parse_inputs(b'{"inputs": "hello"}', limits) == ["hello"]
    assert parse_inputs(json.dumps({"inputs": ["a", "b\u00e9"]}).encode(), limits) == ["a", "b\u00e9"]


@pytest.mark.parametrize(
    ("header", "ok"),
    [("application/json", True), ("Application/JSON; charset=UTF-8", True), ('application/json; charset="utf-8"', True),
     ("application/json; charset=iso-8859-1", False), ("text/json", False), ("", False), (None, False)],
)
def test_content_type(header: str | None, ok: bool) -> None:
    if ok:
        check_content_type(header)
    else:
        with pytest.raises(BadRequest) as excinfo:
            check_content_type(header)
        assert excinfo.value.status == 415


def test_limits_are_configurable() -> None:
    limits = Limits(max_inputs=2, max_body_bytes=100, max_text_bytes=5)
    assert parse_inputs(b'{"inputs": ["12345", "x"]}', limits) == ["12345", "x"]
    for body, reason in [(b'{"inputs": ["a", "b", "c"]}', "too_many_inputs"), (b'{"inputs": "123456"}', "text_too_large"),
                         (b'{"inputs": "\xc3\xa9\xc3\xa9\xc3\xa9"}', "text_too_large"),  # 3 characters, 6 UTF-8 bytes
                         (b'{"inputs": "' + b"a" * 100 + b'"}', "body_too_large")]:
        with pytest.raises(BadRequest) as excinfo:
            parse_inputs(body, limits)
        assert (excinfo.value.status, excinfo.value.reason) == (413, reason)


def test_declared_length_is_checked_before_reading() -> None:
    limits = Limits(max_body_bytes=1000)
    check_content_length(None, limits)
    check_content_length("5000", limits)  # over the limit but small: read and drop it, then 413 (no broken pipe)
    for header, status in [(str(limits.drain_bytes + 1), 413), ("12abc", 400)]:
        with pytest.raises(BadRequest) as excinfo:
            check_content_length(header, limits)
        assert excinfo.value.status == status


# --- micro-batching ---------------------------------------------------------------------------------------


def _batcher_run(requests: list[list[str]], *, max_batch_size: int, max_wait_ms: float, stagger_s: float = 0.0):
    calls: list[list[str]] = []

    def run_batch(texts: list[str]) -> list[str]:
        calls.append(list(texts))
        time.sleep(0.01)
        return [t.upper() for t in texts]

    async def main() -> list[list[str]]:
        with ThreadPoolExecutor(1) as executor:
            batcher = MicroBatcher(run_batch, executor, max_batch_size=max_batch_size, max_wait_ms=max_wait_ms)
            batcher.start()

            async def one(i: int, texts: list[str]) -> list[str]:
                await asyncio.sleep(i * stagger_s)
                return await batcher.submit(texts)

            results = await asyncio.gather(*(one(i, texts) for i, texts in enumerate(requests)))
            await batcher.stop()
            return results

    return asyncio.run(main()), calls


def test_concurrent_requests_share_batches_and_get_their_own_results() -> None:
    requests = [[f"r{i}-a", f"r{i}-b"] if i % 2 else [f"r{i}"] for i in range(12)]
    results, calls = _batcher_run(requests, max_batch_size=8, max_wait_ms=50)
    assert results == [[t.upper() for t in texts] for texts in requests]
    assert max(len(c) for c in calls) > 2, calls  # requests were merged
    assert all(len(c) <= 8 for c in calls), calls  # never over the bound
    assert sorted(t for c in calls for t in c) == sorted(t for r in requests for t in r)  # each text once


def test_an_oversized_request_runs_alone() -> None:
    results, calls = _batcher_run([["a"] * 20, ["b"]], max_batch_size=4, max_wait_ms=5)
    assert results == [["A"] * 20, ["B"]] and ["a"] * 20 in calls


def test_wait_is_bounded() -> None:
    start = time.monotonic()
    results, calls = _batcher_run([["only"]], max_batch_size=64, max_wait_ms=30)
    assert results == [["ONLY"]] and calls == [["only"]]
    assert time.monotonic() - start < 1.0


def test_a_failing_batch_fails_its_requests_only() -> None:
    def run_batch(texts: list[str]) -> list[str]:
        if "boom" in texts:
            raise RuntimeError("model exploded")
        return texts

    async def main() -> tuple[object, list[str]]:
        with ThreadPoolExecutor(1) as executor:
            batcher = MicroBatcher(run_batch, executor, max_batch_size=1, max_wait_ms=0)
            batcher.start()
            failed = await asyncio.gather(batcher.submit(["boom"]), return_exceptions=True)
            ok = await batcher.submit(["fine"])
            await batcher.stop()
            return failed[0], ok

    failed, ok = asyncio.run(main())
    assert isinstance(failed, RuntimeError) and ok == ["fine"]


# --- circuit breaker --------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_n_failures_then_half_opens_then_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout_s=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is State.CLOSED
    breaker.record_success()  # success resets the count: failures must be consecutive
    for _ in range(3):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is State.OPEN and not breaker.allow()
    clock.now = 9.9
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.state is State.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one probe at a time
    breaker.record_failure()  # probe failed: open again for a full cooldown
    assert breaker.state is State.OPEN and not breaker.allow()
    clock.now = 20.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is State.CLOSED and breaker.allow() and breaker.allow()


def test_breaker_lets_exactly_one_probe_through_under_contention() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=1, clock=clock)
    breaker.record_failure()
    clock.now = 5.0
    allowed = []
    barrier = threading.Barrier(16)

    def contend() -> None:
        barrier.wait()
        allowed.append(breaker.allow())

    threads = [threading.Thread(target=contend) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 1


# --- heuristic --------------------------------------------------------------------------------------------


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


def test_connections_get_tcp_nodelay_even_on_sockets_bound_with_protocol_0() -> None:
    """uvicorn's multi-worker socket has protocol 0, so asyncio leaves Nagle on; the protocol turns it off."""
    import socket

    from uvicorn.config import Config

    from inference.http_protocol import UVICORN_STACK, NoDelayHttpToolsProtocol

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)  # as uvicorn's bind_socket makes it
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = socket.create_connection(listener.getsockname())
    conn, _ = listener.accept()
    try:
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0

        class Transport:
            def get_extra_info(self, name: str, default: object = None) -> object:
                return {"socket": conn, "peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)

            def is_closing(self) -> bool:
                return False

        config = Config(app=lambda *a: None, **UVICORN_STACK)  # what both servers run
        config.load()
        assert config.http_protocol_class is NoDelayHttpToolsProtocol

        class State:
            connections: set = set()
            tasks: set = set()
            default_headers: list = []
            total_requests = 0

        protocol = NoDelayHttpToolsProtocol(config, State(), app_state={}, _loop=asyncio.new_event_loop())
        protocol.connection_made(Transport())  # type: ignore[arg-type]
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        for s in (conn, client, listener):
            s.close()
