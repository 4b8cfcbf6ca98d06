"""Property-based fuzzing of the model server's `/invocations`, on a real `mlops serve` process with the real
onnxruntime model: whatever a client sends, the answer is a right one or a clear 4xx, never a 5xx or a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given

from tests.fuzz.invocation_bodies import (
    ANY_BODIES,
    ANY_CONTENT_TYPES,
    JSON_CONTENT_TYPES,
    VALID_INPUTS,
    check_error,
    check_predictions,
    texts_of,
)
from tests.inference.conftest import ServerProcess, http, start_cli_server


@pytest.fixture(scope="module")
def server(onnx_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One worker with the default settings, shared by the module."""
    server = start_cli_server(onnx_model, tmp_path_factory.mktemp("fuzz") / "server.log", "--workers", "1")
    yield server
    server.kill()


def assert_no_traceback(server: ServerProcess) -> None:
    """The server is up and has logged no traceback: every failure so far was one it expected."""
    assert server.proc.poll() is None
    assert "Traceback" not in server.log_path.read_text(errors="replace")


@given(inputs=VALID_INPUTS, content_type=JSON_CONTENT_TYPES)
def test_every_valid_request_gets_a_right_answer(
    server: ServerProcess, inputs: str | list[str], content_type: str
) -> None:
    response = http(
        "POST", f"{server.url}/invocations", json.dumps({"inputs": inputs}).encode(), content_type=content_type
    )
    assert response.status == 200, response.body
    check_predictions(response.json(), [inputs] if isinstance(inputs, str) else inputs)


@given(body=ANY_BODIES, content_type=ANY_CONTENT_TYPES)
def test_any_request_gets_a_right_answer_or_a_clear_4xx(server: ServerProcess, body: bytes, content_type: str) -> None:
    response = http("POST", f"{server.url}/invocations", body, content_type=content_type or None)
    if response.status == 200:
        texts = texts_of(body)
        assert texts is not None, body
        check_predictions(response.json(), texts)
    else:
        check_error(response.status, response.body, "error")
    assert_no_traceback(server)
