"""The HTTP benchmark target against a real HTTP server: what it sends, what it returns, how it keeps connections."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.targets import VARIANT_HEADER, HttpStatusError, http_target
from ml.errors import MlopsError


class _Recorder(BaseHTTPRequestHandler):
    """Keep-alive server that records each request and answers with the status and behaviour the test set."""

    protocol_version = "HTTP/1.1"
    seen: list[dict]
    status = 200
    close_after_response = False  # drop the connection without saying so, as a keep-alive timeout does

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append(
            {"path": self.path, "body": json.loads(body), "headers": dict(self.headers), "port": self.client_address[1]}
        )
        payload = json.dumps({"predictions": [{"intent": "conversation"}]}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header(VARIANT_HEADER, "variant-b")
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = self.close_after_response

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[type[_Recorder], str]]:
    handler = type("Handler", (_Recorder,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}/invocations?probe=1"
    finally:
        server.shutdown()
        server.server_close()


def test_posts_the_text_as_json_and_returns_the_variant_that_answered(recorder: tuple[type[_Recorder], str]) -> None:
    handler, url = recorder
    target = http_target(url, headers={"X-Amzn-SageMaker-Target-Variant": "b"})
    assert target("book a table for two") == "variant-b"
    (request,) = handler.seen
    assert request["path"] == "/invocations?probe=1"
    assert request["body"] == {"inputs": "book a table for two"}
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Amzn-SageMaker-Target-Variant"] == "b"


def test_reuses_one_keep_alive_connection_for_sequential_requests(recorder: tuple[type[_Recorder], str]) -> None:
    handler, url = recorder
    target = http_target(url)
    for _ in range(5):
        target("x")
    assert len({request["port"] for request in handler.seen}) == 1


def test_a_non_2xx_answer_is_an_error_and_the_connection_stays_usable(recorder: tuple[type[_Recorder], str]) -> None:
    handler, url = recorder
    target = http_target(url)
    handler.status = 503
    with pytest.raises(HttpStatusError, match="503"):
        target("x")
    handler.status = 200
    assert target("x") == "variant-b"
    assert len({request["port"] for request in handler.seen}) == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_not_failed(
    recorder: tuple[type[_Recorder], str],
) -> None:
    handler, url = recorder
    target = http_target(url)
    handler.close_after_response = True
    target("first")
    time.sleep(0.2)  # the server's FIN reaches the idle pooled connection
    handler.close_after_response = False
    assert target("second") == "variant-b"  # a reused dead socket would raise RemoteDisconnected here
    assert [r["body"]["inputs"] for r in handler.seen] == ["first", "second"]
    assert len({request["port"] for request in handler.seen}) == 2


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/invocations",
        "127.0.0.1:8080/invocations",
        "http:///invocations",
        "http://127.0.0.1:notaport/invocations",
    ],
)
def test_a_url_that_is_not_http_is_a_clear_error(url: str) -> None:
    with pytest.raises(MlopsError, match=r"URL|port"):
        http_target(url)
