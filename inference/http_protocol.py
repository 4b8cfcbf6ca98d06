"""The HTTP stack both servers run on: uvicorn's httptools protocol with TCP_NODELAY, on the standard asyncio loop.

Both are pinned rather than left to uvicorn's "auto", which picks whichever of h11/httptools and asyncio/uvloop
happen to be installed: the server's behaviour (body limits, graceful close) and its measured speed would then
depend on the machine. httptools (a C parser, a declared dependency) costs the event loop less per request than
h11's pure-Python one: the tiny model served 15-34 % more requests per core (docs/benchmarks.md).

asyncio sets TCP_NODELAY itself only on sockets whose protocol number is IPPROTO_TCP. With several workers,
uvicorn binds the listening socket with protocol 0, so accepted connections keep Nagle's algorithm: the response
body, written after the headers, then waits for the client's delayed ACK. That added about 40 ms to every request
with two workers (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# uvicorn.run(**UVICORN_STACK) in both servers.
UVICORN_STACK = {"http": "inference.http_protocol:NoDelayHttpToolsProtocol", "loop": "asyncio"}


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that turns Nagle's algorithm off before the first byte is exchanged."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Set TCP_NODELAY on TCP connections, then hand over to uvicorn."""
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
