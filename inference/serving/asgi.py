"""The HTTP stack the model server and the local A/B endpoint share: uvicorn with a pinned protocol and loop, the
access log, body reading within limits, the JSON 500, and start-up with a graceful SIGTERM.

uvicorn's httptools protocol and the asyncio loop are pinned rather than left to uvicorn's "auto", which picks
whichever of h11/httptools and asyncio/uvloop happen to be installed: the server's behaviour (body limits,
graceful close) and its measured speed would then depend on the machine (docs/benchmarks.md, "Serving").

asyncio sets TCP_NODELAY itself only on sockets whose protocol number is IPPROTO_TCP. With several workers,
uvicorn binds the listening socket with protocol 0, so accepted connections would keep Nagle's algorithm and the
response body, written after the headers, would wait for the client's delayed ACK (docs/benchmarks.md, "Serving").
"""

from __future__ import annotations

import asyncio
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

from inference.serving.logs import ACCESS_LOGGER, logging_config
from inference.serving.payload import Limits, too_large

log = logging.getLogger(__name__)
access_log = logging.getLogger(ACCESS_LOGGER)

# uvicorn.run(**UVICORN_STACK) in both servers.
UVICORN_STACK = {"http": "inference.serving.asgi:NoDelayHttpToolsProtocol", "loop": "asyncio"}
# Per-request notes (input count, endpoint, variant, error reason) that handlers leave for the access log.
NOTES_KEY = "intent.notes"


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that turns Nagle's algorithm off before the first byte is exchanged."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set TCP_NODELAY on TCP connections, then hand over to uvicorn."""
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


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
    factory: bool = False,
) -> None:
    """Serve `app` (an ASGI app, or an import string with `factory`) with uvicorn until SIGTERM/SIGINT.

    In-flight requests get `graceful_timeout_s` to finish; then the process returns normally.
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
        **UVICORN_STACK,  # type: ignore[arg-type]
        lifespan="on",
        log_config=logging_config(log_level),
        access_log=False,  # AccessLog writes ours, with latency and request ids
        server_header=False,
        timeout_keep_alive=keep_alive_s,
        timeout_graceful_shutdown=math.ceil(graceful_timeout_s),
    )
