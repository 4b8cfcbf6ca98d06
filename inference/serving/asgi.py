"""The HTTP stack the model server and the local A/B endpoint share: uvicorn with a pinned protocol and loop, the
limits of a connection, the access log, body reading within limits, the JSON 500, and start-up with a graceful
SIGTERM.

uvicorn's httptools protocol and the asyncio loop are pinned rather than left to uvicorn's "auto", which picks
whichever of h11/httptools and asyncio/uvloop happen to be installed: the server's behaviour (body limits,
graceful close) and its measured speed would then depend on the machine (docs/benchmarks.md, "Serving").

asyncio sets TCP_NODELAY itself only on sockets whose protocol number is IPPROTO_TCP. With several workers,
uvicorn binds the listening socket with protocol 0, so accepted connections would keep Nagle's algorithm and the
response body, written after the headers, would wait for the client's delayed ACK (docs/benchmarks.md, "Serving").

httptools (llhttp) bounds neither the request head nor the time a client takes to send it, and uvicorn times out
only idle keep-alive connections; its one limit that applies, `limit_concurrency`, answers 503 in plain text only
once a request's headers are in, and counts background tasks too. So `GuardedHttpToolsProtocol` enforces
`ConnectionLimits` itself: a request head over `max_header_bytes` or with more than `max_headers` fields gets 431
(counted on the raw bytes before httptools buffers a field whole, so one huge header cannot grow the worker), a
request not received whole within `request_timeout_s` of its first byte (or of the connection opening) gets 408
and is closed, and a connection beyond `max_connections` of its worker gets 503 with Retry-After at once. Every
answer the stack gives itself is JSON with a message, like the apps' own errors.
"""

from __future__ import annotations

import asyncio
import functools
import http
import json
import logging
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from inference.serving.config import ConnectionLimits
from inference.serving.logs import ACCESS_LOGGER, logging_config
from inference.serving.payload import Limits, too_large

log = logging.getLogger(__name__)
access_log = logging.getLogger(ACCESS_LOGGER)

# Per-request notes (input count, endpoint, variant, error reason) that handlers leave for the access log.
NOTES_KEY = "intent.notes"
# Keys of the lifespan state (uvicorn hands it to every connection) through which an app hears from the stack:
# DRAIN_HOOK() once a graceful shutdown begins, REFUSED_HOOK(reason) for each request refused before the app saw it.
DRAIN_HOOK = "intent.drain"
REFUSED_HOOK = "intent.refused"
# How long a client refused for want of capacity is asked to wait before it tries again (Retry-After, seconds).
RETRY_AFTER_S = 1


def uvicorn_stack(limits: ConnectionLimits) -> dict[str, Any]:
    """The protocol and loop arguments of uvicorn.run that both servers use."""
    # ws="none": neither server speaks WebSocket. uvicorn's default ("auto") imports websockets or wsproto whenever
    # one is installed (locust brings wsproto), so the server would import a library its image does not install
    # (tests/inference/serving/test_container.py checks what it imports against its lock).
    return {"http": functools.partial(GuardedHttpToolsProtocol, limits=limits), "loop": "asyncio", "ws": "none"}


class _LimitExceeded(Exception):
    """Raised in a parser callback to stop parsing a request that broke a limit; the refusal is already chosen."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with Nagle's algorithm off and `ConnectionLimits` enforced (see the module)."""

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ConnectionLimits | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits or ConnectionLimits()
        self._in_head = True  # the bytes arriving belong to a request head
        self._head_bytes = 0  # raw bytes of the current head received so far
        self._fields = 0  # header fields of the current head, and their bytes with the target's
        self._field_bytes = 0
        self._request_timer: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str, str] | None = None  # status, message, reason
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set TCP_NODELAY, hand over to uvicorn, then refuse the connection if the worker has its fill."""
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            message = f"this worker has {self.limits.max_connections} connections open: retry shortly"
            self._refuse(503, message, "too_many_connections")
            return
        self._start_request_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the request timer, then let uvicorn clean up."""
        self._stop_request_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse, counting a request head's raw bytes: httptools buffers a field until it ends, however long."""
        if self._refused:
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.limits.max_header_bytes and not self._refused:
            self._refuse(431, self._head_too_large(), "header_too_large")

    def on_message_begin(self) -> None:
        """A request's first byte: its time to arrive whole starts (unless the connection's first is running)."""
        super().on_message_begin()
        self._fields = self._field_bytes = 0
        self._start_request_timer()

    def on_url(self, url: bytes) -> None:
        """Count the request target into the head."""
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count one header field (name, value, ': ' and CRLF) into the head."""
        self._fields += 1
        if self._fields > self.limits.max_headers:
            self._refusal = (431, f"more than {self.limits.max_headers} header fields", "too_many_headers")
            raise _LimitExceeded
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head is in; the body, if any, follows."""
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The request arrived whole: stop its timer; what comes next is the next request's head."""
        self._stop_request_timer()
        self._in_head, self._head_bytes = True, 0
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request httptools cannot parse: the limit that stopped it, or a JSON 400."""
        status, message, reason = self._refusal or (400, "invalid HTTP request (request line or headers)", "bad_http")
        self._refuse(status, message, reason)

    def shutdown(self) -> None:
        """A graceful shutdown begins: tell the app (it may hear it once per connection), then let uvicorn go on."""
        drain = self.app_state.get(DRAIN_HOOK)
        if drain is not None:
            drain()
        super().shutdown()

    def _head_too_large(self) -> str:
        return f"the request head is larger than the limit of {self.limits.max_header_bytes} bytes"

    def _count_head(self, size: int) -> None:
        self._field_bytes += size
        if self._field_bytes > self.limits.max_header_bytes:
            self._refusal = (431, self._head_too_large(), "header_too_large")
            raise _LimitExceeded

    def _start_request_timer(self) -> None:
        if self._request_timer is None and not self._refused:
            self._request_timer = self.loop.call_later(self.limits.request_timeout_s, self._request_timed_out)

    def _stop_request_timer(self) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None

    def _request_timed_out(self) -> None:
        """The client did not send a whole request in time: 408 and close, so a stalled client holds nothing."""
        self._request_timer = None
        if self.transport.is_closing():
            return
        cycle = None if self._in_head else self.cycle
        if cycle is not None:
            # The app is reading the body: it sees a disconnect, and nothing more it sends goes out.
            cycle.disconnected = True
            if cycle.response_started:  # it has answered already (a 413, say): just end the connection
                self._refused = True
                self._note_refused("request_timeout")
                self.transport.close()
                return
        self._refuse(
            408, f"the request did not arrive whole within {self.limits.request_timeout_s:g} s", "request_timeout"
        )

    def _refuse(self, status: int, message: str, reason: str) -> None:
        """Answer with a JSON error and close the connection, without the app."""
        self._refused = True
        self._stop_request_timer()
        self._note_refused(reason)
        client = f"{self.client[0]}:{self.client[1]}" if self.client else ""
        log.warning(
            "refused a request: %d %s", status, message, extra={"status": status, "error": reason, "client": client}
        )
        if self.transport.is_closing():
            return
        body = json.dumps({"error": message}).encode()
        head = [
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}",
            "content-type: application/json",
            f"content-length: {len(body)}",
            "connection: close",
        ]
        if status == 503:
            head.append(f"retry-after: {RETRY_AFTER_S}")
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        self.transport.close()

    def _note_refused(self, reason: str) -> None:
        hook = self.app_state.get(REFUSED_HOOK)
        if hook is not None:
            hook(reason)


def notes(scope: Scope) -> dict[str, Any]:
    """The notes of one request, which its access log line carries."""
    return scope.setdefault(NOTES_KEY, {})


async def read_body(request: Request, limits: Limits) -> bytes:
    """The body, counted while reading (Content-Length may be absent or lie); 413 past the limit."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limits.max_body_bytes:
            chunks.append(chunk)
        elif size > limits.drain_bytes:
            break  # uvicorn discards the rest; the client may see the connection close
    if size > limits.max_body_bytes:
        raise too_large(limits)
    return b"".join(chunks)


async def server_error(request: Request, exc: Exception) -> Response:
    """Any unhandled exception: logged with its traceback, answered as a JSON 500 that reveals nothing."""
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal server error"}, status_code=500)


class AccessLog:
    """Pure ASGI middleware: a request id on every answer, then one structured log line (and `on_response`)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        id_header: str = "x-request-id",
        quiet: Callable[[str], bool] = lambda path: False,
        on_response: Callable[[Scope, int, float], None] | None = None,
    ) -> None:
        self.app = app
        self.id_header = id_header.encode("latin-1")
        self.quiet = quiet
        self.on_response = on_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap one HTTP request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        # A caller's own id (a load balancer's, or SageMaker's front end's) ties our log line to theirs.
        request_id = (headers.get(b"x-request-id") or headers.get(b"x-amzn-requestid") or b"").decode("latin-1")[:128]
        request_id = request_id or uuid.uuid4().hex
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (self.id_header, request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            path, method = scope.get("path", ""), scope.get("method", "")
            if self.on_response is not None:
                self.on_response(scope, status, elapsed)
            client = scope.get("client")
            # Health checks and scrapes arrive every few seconds: keep the successful ones out of the INFO log.
            access_log.log(
                logging.DEBUG if self.quiet(path) and status < 400 else logging.INFO,
                "%s %s %d",
                method,
                path,
                status,
                extra={
                    "request_id": request_id,
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                    "client": f"{client[0]}:{client[1]}" if client else "",
                    **scope.get(NOTES_KEY, {}),
                },
            )


def _ignore_reraised_signal(signum: int, frame: object) -> None:
    """After a graceful shutdown uvicorn re-raises the signal it caught; landing here makes that a clean exit 0."""


def run(
    app: Any,
    *,
    host: str,
    port: int,
    log_level: str,
    graceful_timeout_s: float,
    workers: int = 1,
    keep_alive_s: int = 5,
    limits: ConnectionLimits | None = None,
    factory: bool = False,
) -> None:
    """Serve `app` (an ASGI app, or an import string with `factory`) with uvicorn until SIGTERM/SIGINT.

    In-flight requests get `graceful_timeout_s` to finish; then the process returns normally. `limits` bound each
    connection (default: `ConnectionLimits()`).
    """
    import math

    import uvicorn

    if threading.current_thread() is threading.main_thread():  # signal handlers can only be set there
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _ignore_reraised_signal)
    uvicorn.run(
        app,
        factory=factory,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_stack(limits or ConnectionLimits()),
        lifespan="on",
        log_config=logging_config(log_level),
        access_log=False,  # AccessLog writes ours, with latency and request ids
        server_header=False,
        timeout_keep_alive=keep_alive_s,
        timeout_graceful_shutdown=math.ceil(graceful_timeout_s),
    )
