"""The HTTP stack both servers share."""

from __future__ import annotations

import asyncio
from typing import ClassVar


def test_connections_get_tcp_nodelay_even_on_sockets_bound_with_protocol_0() -> None:
    """uvicorn's multi-worker socket has protocol 0, so asyncio leaves Nagle on; the protocol turns it off."""
    import socket

    from uvicorn.config import Config

    from inference.serving.asgi import GuardedHttpToolsProtocol, uvicorn_stack
    from inference.serving.config import ConnectionLimits

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

        config = Config(app=lambda *a: None, **uvicorn_stack(ConnectionLimits()))  # what both servers run
        config.load()

        class State:
            connections: ClassVar[set] = set()
            tasks: ClassVar[set] = set()
            default_headers: ClassVar[list] = []
            total_requests = 0

        loop = asyncio.new_event_loop()
        protocol = config.http_protocol_class(config=config, server_state=State(), app_state={}, _loop=loop)
        assert isinstance(protocol, GuardedHttpToolsProtocol)
        protocol.connection_made(Transport())  # type: ignore[arg-type]
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        loop.close()
    finally:
        for s in (conn, client, listener):
            s.close()


def test_the_stack_speaks_no_websocket_so_imports_no_websocket_library() -> None:
    """uvicorn's default ws="auto" imports wsproto or websockets whenever one is installed (locust brings wsproto);
    the image does not install them, so the stack turns WebSocket off and imports neither."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import sys\n"
        "from uvicorn.config import Config\n"
        "from inference.serving.asgi import uvicorn_stack\n"
        "from inference.serving.config import ConnectionLimits\n"
        "config = Config(app=lambda *a: None, **uvicorn_stack(ConnectionLimits()))\n"
        "config.load()\n"
        "ws = sorted(m for m in sys.modules if m.split('.')[0] in ('wsproto', 'websockets'))\n"
        "print(config.ws_protocol_class, ws)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "[]"], out
