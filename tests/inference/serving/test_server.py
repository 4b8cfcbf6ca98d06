"""The SageMaker container contract, tested on a real server process started the way SageMaker starts it:
the `serve` container entry point, configured only through the environment (SAGEMAKER_BIND_TO_PORT, ...)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path

import pytest

from ml.taxonomy import INTENTS
from tests.conftest import free_port
from tests.inference.conftest import ServerProcess, http, invoke, metric_samples, sdk_v3_invoke, start_server

MAX_INPUTS = 64
MAX_TEXT_BYTES = 16384
MAX_BODY_BYTES = 1024 * 1024


@pytest.fixture(scope="module")
def server(onnx_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`python -m inference.serving.container` (what the `serve` command runs), configured by environment only."""
    port = free_port()
    env = {
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "INTENT_SERVE_MODEL_DIR": str(onnx_model),
        "INTENT_SERVE_HOST": "127.0.0.1",
        "INTENT_SERVE_THREADS": "1",
        "INTENT_SERVE_MAX_INPUTS": str(MAX_INPUTS),
        "INTENT_SERVE_MAX_TEXT_BYTES": str(MAX_TEXT_BYTES),
        "INTENT_SERVE_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
    }
    proc = start_server(
        ["-m", "inference.serving.container"],
        tmp_path_factory.mktemp("server") / "server.log",
        env=env,
        port=port,
        port_flag=False,
    )
    yield proc
    proc.kill()


def assert_healthy(server: ServerProcess) -> None:
    """The server still pings and classifies."""
    assert http("GET", f"{server.url}/ping", content_type=None).status == 200
    good = invoke(server.url, {"inputs": "write a python function that reverses a string"})
    assert good.status == 200, good.body
    assert len(good.json()["predictions"]) == 1


def test_ping_is_200_with_an_empty_body(server: ServerProcess) -> None:
    response = http("GET", f"{server.url}/ping", content_type=None)
    assert response.status == 200 and response.body == b""


def test_listens_on_sagemaker_bind_to_port(server: ServerProcess) -> None:
    started = [line for line in server.log_lines() if "Uvicorn running on" in line.get("message", "")]
    assert started and started[0]["message"].startswith(f"Uvicorn running on http://127.0.0.1:{server.port}")


def _check_prediction(prediction: dict) -> None:
    assert set(prediction) == {"intent", "confidence", "probabilities"}
    probabilities = prediction["probabilities"]
    assert list(probabilities) == list(INTENTS)
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert all(0.0 <= p <= 1.0 for p in probabilities.values())
    assert prediction["intent"] == max(probabilities, key=probabilities.get)
    assert prediction["confidence"] == pytest.approx(probabilities[prediction["intent"]])


def test_single_text(server: ServerProcess, onnx_model: Path) -> None:
    response = invoke(server.url, {"inputs": "Translate 'good morning' into Spanish"})
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"predictions", "model_version"}
    assert body["model_version"] == onnx_model.name  # no metadata.json: the directory name
    assert len(body["predictions"]) == 1
    _check_prediction(body["predictions"][0])


def test_list_of_texts_matches_the_in_process_predictor(server: ServerProcess, onnx_model: Path) -> None:
    from inference.predictor import OnnxPredictor

    texts = ["Write a haiku about autumn", "Summarise this report in three bullet points", "hey, how are you?"]
    response = invoke(server.url, {"inputs": texts})
    assert response.status == 200
    predictions = response.json()["predictions"]
    assert len(predictions) == 3
    for prediction in predictions:
        _check_prediction(prediction)
    expected = OnnxPredictor(onnx_model, intra_op_threads=1).predict(texts)
    assert [p["intent"] for p in predictions] == [e["intent"] for e in expected]
    for got, want in zip(predictions, expected, strict=True):
        assert got["probabilities"] == pytest.approx(want["probabilities"], abs=1e-5)


def test_request_id_is_echoed_and_access_log_is_json(server: ServerProcess) -> None:
    response = invoke(server.url, {"inputs": ["a", "b"]}, headers={"X-Request-Id": "req-test-123"})
    assert response.status == 200 and response.headers["x-request-id"] == "req-test-123"
    time.sleep(0.1)
    entries = [line for line in server.log_lines() if line.get("request_id") == "req-test-123"]
    assert entries, "no access log line for the request"
    entry = entries[-1]
    assert entry["logger"] == "inference.access" and entry["status"] == 200 and entry["inputs"] == 2
    assert entry["method"] == "POST" and entry["path"] == "/invocations" and entry["duration_ms"] > 0


def test_runs_on_the_pinned_asyncio_loop_whatever_is_installed(server: ServerProcess) -> None:
    # uvicorn's "auto" would pick uvloop wherever it is installed (it is in some dev environments, not in the image).
    ready = [line for line in server.log_lines() if line.get("message") == "worker ready"]
    assert ready and {line["event_loop"] for line in ready} == {"asyncio"}


BAD_INPUTS = [
    # id, body, content type, status, words the error must contain
    ("invalid-json", b'{"inputs": "hi"', "application/json", 400, "invalid JSON"),
    ("missing-inputs", b'{"text": "hi"}', "application/json", 400, 'missing field "inputs"'),
    ("empty-string", b'{"inputs": ""}', "application/json", 400, "empty"),
    ("blank-string", b'{"inputs": "   \\n "}', "application/json", 400, "empty"),
    ("empty-item", b'{"inputs": ["fine", ""]}', "application/json", 400, "inputs[1] is empty"),
    ("empty-list", b'{"inputs": []}', "application/json", 400, "empty list"),
    ("nul-only", b'{"inputs": "\\u0000\\u0000"}', "application/json", 400, "nothing visible"),
    ("zero-width-only", b'{"inputs": ["fine", "\\u200b\\u200d"]}', "application/json", 400, "inputs[1] has nothing"),
    ("too-many-inputs", json.dumps({"inputs": ["hi"] * 10_000}).encode(), "application/json", 413, "10000 texts"),
    (
        "1mb-text",
        json.dumps({"inputs": "a" * 1_000_000}).encode(),
        "application/json",
        413,
        f"limit is {MAX_TEXT_BYTES}",
    ),
    ("2mb-body", json.dumps({"inputs": ["b" * 1000] * 2000}).encode(), "application/json", 413, "body"),
    ("non-utf8", b'{"inputs": "caf\xe9 cr\xe8me"}', "application/json", 400, "UTF-8"),
    ("utf16-body", '{"inputs": "hi"}'.encode("utf-16"), "application/json", 400, "UTF-8"),
    ("text-plain", b'{"inputs": "hi"}', "text/plain", 415, "application/json"),
    ("form", b"inputs=hi", "application/x-www-form-urlencoded", 415, "application/json"),
    ("text-csv", b"write a haiku,chat", "text/csv", 415, "unsupported Content-Type 'text/csv': send application/json"),
    (
        "octet-stream-not-json",
        b"\x00\x01binary",
        "application/octet-stream",
        415,
        "send Content-Type: application/json",
    ),
    ("latin1-charset", b'{"inputs": "hi"}', "application/json; charset=latin-1", 415, "charset"),
    ("number", b'{"inputs": 42}', "application/json", 400, "not a number"),
    ("numbers", b'{"inputs": [1, 2, 3]}', "application/json", 400, "inputs[0] must be a string"),
    ("mixed", b'{"inputs": ["ok", 2.5]}', "application/json", 400, "inputs[1] must be a string"),
    ("null", b'{"inputs": null}', "application/json", 400, "not null"),
    ("nested-list", b'{"inputs": [["hi"]]}', "application/json", 400, "not a list"),
    ("object-input", b'{"inputs": {"text": "hi"}}', "application/json", 400, "not an object"),
    ("top-level-list", b'["hi"]', "application/json", 400, "JSON object"),
    ("unknown-field", b'{"inputs": "hi", "parameters": {}}', "application/json", 400, "parameters"),
    ("lone-surrogate", b'{"inputs": "\\ud800 hi"}', "application/json", 400, "surrogate"),
    ("deep-nesting", b"[" * 100_000, "application/json", 400, "invalid JSON"),
    ("huge-integer", b'{"inputs": ' + b"1" * 5000 + b"}", "application/json", 400, "invalid JSON"),
    ("empty-body", b"", "application/json", 400, "empty request body"),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_is_a_clear_4xx_and_the_server_stays_healthy(
    server: ServerProcess, body: bytes, content_type: str | None, status: int, words: str
) -> None:
    response = http("POST", f"{server.url}/invocations", body, content_type=content_type)
    assert response.status == status, response.body
    assert response.headers["content-type"] == "application/json"
    error = response.json()
    assert set(error) == {"error"} and words in error["error"], error
    assert_healthy(server)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"inputs": "write a haiku"}', 200, ""),
        (b"write a haiku,chat", 415, "no Content-Type (or application/octet-stream) and its body is not JSON"),
        (b'{"text": "hi"}', 400, 'missing field "inputs"'),
    ],
    ids=["json", "not-json", "json-off-contract"],
)
def test_without_a_content_type_the_body_must_be_json(
    server: ServerProcess, body: bytes, status: int, words: str
) -> None:
    # http.client sends no Content-Type unless told (urllib would add application/x-www-form-urlencoded).
    conn = HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", "/invocations", body=body)
        response = conn.getresponse()
        answer = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == status, answer
    assert words in answer.get("error", "") if status != 200 else len(answer["predictions"]) == 1


def test_sagemaker_sdk_v3_invoke_without_a_content_type_is_served(server: ServerProcess) -> None:
    from botocore.exceptions import ClientError

    answer = sdk_v3_invoke(server.url, {"inputs": ["write a haiku", "hello"]}, container=True)
    assert [p["intent"] in INTENTS for p in answer.body["predictions"]] == [True, True]
    assert answer.content_type == "application/json"
    with pytest.raises(ClientError) as info:  # a type the caller names and we do not serve stays a 415
        sdk_v3_invoke(server.url, "write a haiku,chat", container=True, content_type="text/csv")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 415


def test_chunked_body_over_the_limit_is_413(server: ServerProcess) -> None:
    # No Content-Length: the limit is enforced while reading.
    chunk = b" " * 65536
    conn = HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(
            "POST",
            "/invocations",
            body=iter([b'{"inputs": "', *[chunk] * 32, b'"}']),
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        assert response.status == 413 and "limit" in json.loads(response.read())["error"]
    finally:
        conn.close()
    assert_healthy(server)


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/invocations", 405), ("POST", "/ping", 405), ("GET", "/nope", 404)]
)
def test_wrong_route_or_method_is_json(server: ServerProcess, method: str, path: str, status: int) -> None:
    response = http(method, f"{server.url}{path}", b"{}" if method == "POST" else None)
    assert response.status == status and "error" in response.json()


def test_metrics_in_prometheus_format(server: ServerProcess) -> None:
    invoke(server.url, {"inputs": ["one", "two", "three"]})
    http("POST", f"{server.url}/invocations", b"{not json", content_type="application/json")
    response = http("GET", f"{server.url}/metrics", content_type=None)
    assert response.status == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.body.decode()
    requests = metric_samples(text, "intent_http_requests_total")
    assert requests['{method="POST",route="/invocations",status="200"}'] >= 1
    assert requests['{method="POST",route="/invocations",status="400"}'] >= 1
    assert metric_samples(text, "intent_request_errors_total")['{reason="invalid_json"}'] >= 1
    assert metric_samples(text, "intent_http_request_duration_seconds_count")['{route="/invocations"}'] >= 2
    assert metric_samples(text, "intent_batch_size_bucket")['{le="4.0"}'] >= 1
    assert metric_samples(text, "intent_texts_total")[""] >= 3
    # Unknown paths share one label value: clients cannot blow up the series count.
    http("GET", f"{server.url}/random-{time.time()}", content_type=None)
    text = http("GET", f"{server.url}/metrics", content_type=None).body.decode()
    assert '{method="GET",route="other",status="404"}' in metric_samples(text, "intent_http_requests_total")


def test_ping_answers_within_two_seconds_while_the_model_is_busy(server: ServerProcess) -> None:
    texts = ["please analyse the quarterly revenue figures across every region and explain the trend " * 6] * MAX_INPUTS
    statuses: list[int] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            statuses.append(invoke(server.url, {"inputs": texts}, timeout=60).status)

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(0.5)  # let a backlog of inference build up
        ping_times = []
        for _ in range(8):
            start = time.perf_counter()
            assert http("GET", f"{server.url}/ping", content_type=None, timeout=2).status == 200
            ping_times.append(time.perf_counter() - start)
            time.sleep(0.2)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    assert max(ping_times) < 2.0, ping_times
    assert statuses and set(statuses) == {200}
