"""Benchmark targets: an in-process predictor, an HTTP endpoint speaking the container contract, or a SageMaker
endpoint via boto3. A target is any callable `text -> variant | None`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml.aws import boto3_client
from ml.errors import MlopsError
from ml.model import PRECISIONS

if TYPE_CHECKING:
    from benchmarks.load import Target

# In-process backends: the ONNX graphs the server runs, and PyTorch eager, the baseline they are measured against.
BACKENDS = (*(f"onnx-{p}" for p in PRECISIONS), "torch")

VARIANT_HEADER = "x-Amzn-Invoked-Production-Variant"


class HttpStatusError(RuntimeError):
    """The target answered with a non-2xx status."""


def http_target(url: str, *, timeout_s: float = 30.0, headers: dict[str, str] | None = None) -> Target:
    """POST {"inputs": text} to url (e.g. http://host:8080/invocations) over a pool of keep-alive connections.

    The client is the standard library's http.client: on this 2-core machine the load generator shares the
    cores with the server it measures, and http.client costs about a third of httpx's CPU per request
    (benchmarks/http_client_cost.py). It sends headers and body in one write with TCP_NODELAY set, as
    urllib3/boto3 and SageMaker's front end do, so Nagle never holds a body back for a delayed ACK.

    A caller takes an idle connection from the pool and gives it back after the request, so connections outlive
    the load generator's threads (new ones every round). One the server has closed while idle (keep-alive
    timeout) is dropped before reuse rather than failing a request.
    """
    import http.client
    import queue
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise MlopsError(f"not an http(s) URL: {url!r}", hint="give e.g. http://127.0.0.1:8080/invocations")
    try:
        port = parts.port
    except ValueError as exc:
        raise MlopsError(f"bad port in {url!r}: {exc}") from None
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
    idle: queue.SimpleQueue[http.client.HTTPConnection] = queue.SimpleQueue()

    def connection() -> http.client.HTTPConnection:
        while True:
            try:
                conn = idle.get_nowait()
            except queue.Empty:
                return connection_class(host, port, timeout=timeout_s)
            if not _closed_by_peer(conn):
                return conn
            conn.close()

    def call(text: str) -> str | None:
        conn = connection()
        try:
            conn.request("POST", path, json.dumps({"inputs": text}).encode(), request_headers)
            response = conn.getresponse()
            response.read()
        except BaseException:
            conn.close()  # a half-read response would corrupt the next request on this connection
            raise
        # After a "Connection: close" answer http.client has closed the socket itself and reopens it on next use.
        idle.put(conn)
        if response.status >= 300:
            raise HttpStatusError(f"HTTP {response.status}")
        return response.getheader(VARIANT_HEADER)

    return call


def _closed_by_peer(conn: Any) -> bool:
    """Whether an idle keep-alive connection is readable, which for an idle one means the server closed it."""
    import select

    if conn.sock is None:
        return False  # never opened, or closed by http.client itself: it reconnects on the next request
    if not hasattr(select, "poll"):  # Windows; select() is limited to low descriptor numbers, poll() is not
        return bool(select.select([conn.sock], [], [], 0)[0])
    poller = select.poll()
    poller.register(conn.sock, select.POLLIN)
    return bool(poller.poll(0))


def sagemaker_target(
    endpoint_name: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    target_variant: str | None = None,
    timeout_s: float = 30.0,
) -> Target:
    """Invoke a SageMaker endpoint (or anything speaking InvokeEndpoint) through boto3's sagemaker-runtime."""
    client: Any = boto3_client(
        "sagemaker-runtime",
        region=region,
        endpoint_url=endpoint_url,
        read_timeout=timeout_s,
        connect_timeout=5,
        retries={"max_attempts": 1},
        max_pool_connections=64,
    )
    extra = {"TargetVariant": target_variant} if target_variant else {}

    def call(text: str) -> str | None:
        response = client.invoke_endpoint(
            EndpointName=endpoint_name,
            ContentType="application/json",
            Accept="application/json",
            Body=json.dumps({"inputs": text}).encode(),
            **extra,
        )
        response["Body"].read()
        return response.get("InvokedProductionVariant")

    return call


def predictor_target(model_dir: Path, backend: str, threads: int | None = None) -> Target:
    """The serving predictor of a model directory, in this process (`backend` one of BACKENDS)."""
    from inference.predictor import OnnxPredictor, TorchPredictor

    if backend not in BACKENDS:
        raise MlopsError(f"unknown backend {backend!r}", hint=f"use one of {', '.join(BACKENDS)}")
    predictor = (
        TorchPredictor(model_dir, intra_op_threads=threads)
        if backend == "torch"
        else OnnxPredictor(model_dir, precision=backend.removeprefix("onnx-"), intra_op_threads=threads)
    )

    def call(text: str) -> None:
        predictor.predict([text])

    return call


def choose_target(
    url: str | None,
    model_dir: Path | None,
    endpoint: str | None,
    *,
    backend: str = BACKENDS[0],
    endpoint_url: str | None = None,
    target_variant: str | None = None,
    threads: int | None = None,
    region: str | None = None,
) -> tuple[Target, str]:
    """The target and a display name, from exactly one of a URL, a model directory or an endpoint name."""
    chosen = [name for name, value in (("--url", url), ("--model-dir", model_dir), ("--endpoint", endpoint)) if value]
    if len(chosen) != 1:
        raise MlopsError("give exactly one target: --url, --model-dir or --endpoint", hint=f"got {chosen or 'none'}")
    if url:
        return http_target(url), url
    if endpoint:
        return sagemaker_target(
            endpoint, endpoint_url=endpoint_url, target_variant=target_variant, region=region
        ), endpoint
    if model_dir is None:  # unreachable: exactly one target was given
        raise MlopsError("no target")
    return predictor_target(model_dir, backend, threads), f"{model_dir} ({backend})"


def comparison_targets(
    model_dir: Path | None, backends: Sequence[str], urls: Sequence[str], *, threads: int | None = None
) -> dict[str, Target]:
    """Named targets: each backend of a model directory, then each NAME=URL."""
    targets: dict[str, Target] = {}
    if model_dir:
        for backend in backends:
            targets[backend] = predictor_target(model_dir, backend, threads)
    for item in urls:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise MlopsError(f"expected NAME=URL, got {item!r}")
        targets[name] = http_target(url)
    return targets
