"""Benchmark targets: an HTTP endpoint speaking the container contract, or a SageMaker endpoint via boto3.

An in-process predictor needs no adapter: any callable `text -> variant | None` is a target.
"""

from __future__ import annotations

import json
from typing import Any

from benchmarks.load import Target

VARIANT_HEADER = "x-Amzn-Invoked-Production-Variant"


class HttpStatusError(RuntimeError):
    """The target answered with a non-2xx status."""


def http_target(url: str, *, timeout_s: float = 30.0, headers: dict[str, str] | None = None) -> Target:
    """POST {"inputs": text} to url (e.g. http://host:8080/invocations) over a pool of keep-alive clients.

    A caller takes a free client from the pool and gives it back after the request, so clients and their
    connections outlive the load generator's threads (new ones every round). A client per thread would be
    rebuilt at the first request of every round: httpx.Client() costs about 20 ms (it loads a TLS context),
    and that cost, measured as latency, was 1 sample in 20 of a single-client round: the p95.
    """
    import queue
    import socket

    import httpx

    idle: queue.SimpleQueue[httpx.Client] = queue.SimpleQueue()
    # httpx writes request headers and body in separate sends without TCP_NODELAY: Nagle holds the body back
    # until the server's delayed ACK (tens of ms), a client-side stall that would be measured as server latency.
    # Production clients (urllib3/boto3, SageMaker's front end) set TCP_NODELAY; so does this one.
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]

    def call(text: str) -> str | None:
        try:
            client = idle.get_nowait()
        except queue.Empty:
            client = httpx.Client(timeout=timeout_s, headers=headers, transport=httpx.HTTPTransport(socket_options=nodelay))
        try:
            response = client.post(url, json={"inputs": text})
        finally:
            idle.put(client)
        if response.status_code >= 300:
            raise HttpStatusError(f"HTTP {response.status_code}")
        return response.headers.get(VARIANT_HEADER)

    return call


def sagemaker_target(endpoint_name: str, *, endpoint_url: str | None = None, region: str | None = None,
                     target_variant: str | None = None, timeout_s: float = 30.0) -> Target:
    """Invoke a SageMaker endpoint (or anything speaking InvokeEndpoint) through boto3's sagemaker-runtime."""
    import boto3
    from botocore.config import Config

    config = Config(read_timeout=timeout_s, connect_timeout=5, retries={"max_attempts": 1}, max_pool_connections=64)
    if endpoint_url and boto3.Session().get_credentials() is None:
        from botocore import UNSIGNED

        # The local A/B endpoint needs no signature; without credentials boto3 could not sign at all.
        config = config.merge(Config(signature_version=UNSIGNED))
    client: Any = boto3.client("sagemaker-runtime", endpoint_url=endpoint_url, region_name=region, config=config)
    extra = {"TargetVariant": target_variant} if target_variant else {}

    def call(text: str) -> str | None:
        response = client.invoke_endpoint(
            EndpointName=endpoint_name, ContentType="application/json", Accept="application/json",
            Body=json.dumps({"inputs": text}).encode(), **extra,
        )
        response["Body"].read()
        return response.get("InvokedProductionVariant")

    return call
