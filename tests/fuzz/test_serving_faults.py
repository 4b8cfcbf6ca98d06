"""Faults at the model server's front door, on real `mlops serve` processes: request heads too large or with too many
fields, clients that stall, more connections than a worker takes, and SIGTERM with a backlog (issue #20, items 4
and 8). The limits are set small through the server's own settings."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from http.client import HTTPException, HTTPResponse
from pathlib import Path

import pytest

from tests.inference.conftest import Response, ServerProcess, http, invoke, metric_samples, start_cli_server

MAX_HEADER_BYTES = 4096
MAX_HEADERS = 20
REQUEST_TIMEOUT_S = 0.5
MAX_CONNECTIONS = 8
# How long a test waits for the server to act before calling it stuck: far beyond every limit above.
PATIENCE_S = 30.0
PING = b"GET /ping HTTP/1.1\r\nHost: test\r\n\r\n"


@pytest.fixture(scope="module")
def server(onnx_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One worker with small connection limits, shared by the module."""
    log = tmp_path_factory.mktemp("faults") / "server.log"
    limits = ["--max-header-bytes", str(MAX_HEADER_BYTES), "--max-headers", str(MAX_HEADERS)]
    limits += ["--request-timeout", str(REQUEST_TIMEOUT_S), "--max-connections", str(MAX_CONNECTIONS)]
    server = start_cli_server(onnx_model, log, "--workers", "1", "--threads", "1", *limits)
    yield server
    server.kill()


def connect(server: ServerProcess) -> socket.socket:
    """A raw connection to the server, with PATIENCE_S on every read."""
    return socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE_S)


def read_response(sock: socket.socket) -> Response | None:
    """The next response on a connection, or None when the server closed it without one."""
    response = HTTPResponse(sock)
    try:
        response.begin()
    except TimeoutError:
        raise
    except (OSError, HTTPException):  # reset, or closed without an answer (RemoteDisconnected, BadStatusLine)
        return None
    return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed the connection (EOF or reset); a read times out after PATIENCE_S otherwise."""
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


def assert_healthy(server: ServerProcess) -> None:
    assert server.proc.poll() is None, server.log_path.read_text()[-3000:]
    assert invoke(server.url, {"inputs": "write a haiku about autumn"}).status == 200


def assert_json_error(response: Response | None, status: int, words: str) -> None:
    assert response is not None, "the server closed the connection without an answer"
    assert response.status == status, response.body
    assert response.headers["content-type"] == "application/json"
    assert words in json.loads(response.body)["error"]


# ------------------------------------------------------------------------------------------------ headers


def test_a_request_head_over_the_limit_is_431(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * (2 * MAX_HEADER_BYTES) + b"\r\n\r\n")
        assert_json_error(read_response(sock), 431, f"limit of {MAX_HEADER_BYTES} bytes")
        assert closed_by_server(sock)
    with connect(server) as sock:  # a long target counts as much as a long header
        sock.sendall(b"GET /ping?" + b"q" * (2 * MAX_HEADER_BYTES) + b" HTTP/1.1\r\nHost: test\r\n\r\n")
        assert_json_error(read_response(sock), 431, "request head")
    assert_healthy(server)


def test_a_header_that_never_ends_is_cut_off_before_it_is_buffered(server: ServerProcess) -> None:
    """Issue #20: one 200 MB header grew a worker from 128 to 499 MB; now the server stops reading at the limit."""
    sent, chunk = 0, b"a" * (1 << 20)
    with connect(server) as sock:
        sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: test\r\nX-Endless: ")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the server closed on us
            while sent < 64 * len(chunk):
                sock.sendall(chunk)
                sent += len(chunk)
    assert sent < 64 * len(chunk), "the server read 64 MB of one header"
    assert_healthy(server)


def test_too_many_header_fields_is_431(server: ServerProcess) -> None:
    fields = b"".join(b"X-Field-%d: %d\r\n" % (i, i) for i in range(MAX_HEADERS + 5))
    with connect(server) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: test\r\n" + fields + b"\r\n")
        assert_json_error(read_response(sock), 431, f"more than {MAX_HEADERS} header fields")
    assert_healthy(server)


def test_a_malformed_request_is_a_json_400(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: test\r\nBad Header: x\r\n\r\n")
        assert_json_error(read_response(sock), 400, "invalid HTTP request")
    assert_healthy(server)


# -------------------------------------------------------------------------------------------- stalled clients

STALLS = {
    "silent": b"",
    "half-a-head": b"POST /invocations HTTP/1.1\r\nHost: test\r\nContent-Ty",
    "half-a-body": b"POST /invocations HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    b'Content-Length: 100\r\n\r\n{"inputs": ',
}


@pytest.mark.parametrize("sent", STALLS.values(), ids=STALLS.keys())
def test_stalled_clients_get_408_and_are_closed_after_the_request_timeout(server: ServerProcess, sent: bytes) -> None:
    """Issue #20: 3,000 slow-loris connections were never closed. These are fewer than MAX_CONNECTIONS at a time."""
    socks = [connect(server) for _ in range(MAX_CONNECTIONS - 2)]
    try:
        for sock in socks:
            sock.sendall(sent)
        for sock in socks:
            assert_json_error(read_response(sock), 408, f"within {REQUEST_TIMEOUT_S:g} s")
            assert closed_by_server(sock)
    finally:
        for sock in socks:
            sock.close()
    assert_healthy(server)


def test_an_idle_keep_alive_connection_is_not_a_stalled_request(server: ServerProcess) -> None:
    """Between requests the keep-alive timeout applies, not the request timeout."""
    with connect(server) as sock:
        sock.sendall(PING)
        assert read_response(sock).status == 200  # type: ignore[union-attr]
        time.sleep(3 * REQUEST_TIMEOUT_S)
        sock.sendall(PING)
        assert read_response(sock).status == 200  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------------ connections


def test_a_connection_beyond_the_workers_cap_gets_503_with_retry_after(server: ServerProcess) -> None:
    """Connections that have answered a request stay open (keep-alive) and count against the cap."""
    held: list[socket.socket] = []
    refused: Response | None = None
    try:
        for _ in range(MAX_CONNECTIONS + 2):
            sock = connect(server)
            held.append(sock)
            sock.sendall(PING)
            response = read_response(sock)
            assert response is not None
            if response.status != 200:
                refused = response
                break
        assert len(held) <= MAX_CONNECTIONS + 1, "the cap was not enforced"
        assert_json_error(refused, 503, "connections open")
        assert refused is not None and refused.headers["retry-after"] == "1"
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + PATIENCE_S  # the server notices the closes asynchronously
    while http("GET", f"{server.url}/ping", content_type=None).status != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    metrics = http("GET", f"{server.url}/metrics", content_type=None).body.decode()
    assert metric_samples(metrics, "intent_request_errors_total")['{reason="too_many_connections"}'] >= 1


# ------------------------------------------------------------------------------------------------- shutdown


def test_sigterm_answers_503_to_every_request_not_started_and_exits_0(onnx_model: Path, tmp_path: Path) -> None:
    """Issue #20: with a backlog longer than the graceful timeout, SIGTERM turned the rest into 500s.

    The batch never fills and its wait never ends, so every request is still waiting for the model at SIGTERM.
    """
    server = start_cli_server(
        onnx_model,
        tmp_path / "server.log",
        *("--workers", "1", "--threads", "1", "--graceful-timeout", "1"),
        *("--batch-max-size", "1000", "--batch-wait-ms", "600000"),
    )
    answers: list[Response] = []
    try:
        threads = [
            threading.Thread(target=lambda: answers.append(invoke(server.url, {"inputs": "hi there"}, timeout=60)))
            for _ in range(30)
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + PATIENCE_S
        while True:
            metrics = http("GET", f"{server.url}/metrics", content_type=None).body.decode()
            if metric_samples(metrics, "intent_requests_waiting").get("", 0) == len(threads):
                break
            assert time.monotonic() < deadline, "the requests never arrived"
            time.sleep(0.1)
        server.proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(timeout=PATIENCE_S)
        assert server.proc.wait(timeout=PATIENCE_S) == 0, server.log_path.read_text()[-3000:]
    finally:
        server.kill()
    assert sorted(a.status for a in answers) == [503] * 30, [a.body for a in answers if a.status != 503]
    for answer in answers:
        assert answer.headers["retry-after"] == "1" and "shutting down" in answer.json()["error"]
