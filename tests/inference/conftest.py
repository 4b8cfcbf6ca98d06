"""Fixtures for serving tests: a tiny model with its ONNX variants, and real server processes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, free_port


def model_copy(model_dir: Path, dest: Path) -> Path:
    """A writable copy of a model directory."""
    shutil.copytree(model_dir, dest)
    return dest


@dataclass
class Response:
    """Status, headers and body of an HTTP exchange."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    body: bytes | None = None,
    *,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Response:
    """One HTTP request with the standard library; 4xx/5xx are returned, not raised."""
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def invoke(base: str, payload: Any, **kwargs: Any) -> Response:
    """POST a JSON payload to /invocations."""
    return http("POST", f"{base}/invocations", json.dumps(payload).encode(), **kwargs)


@dataclass
class ServerProcess:
    """A model server started as its own process (session leader, so workers die with it)."""

    proc: subprocess.Popen
    port: int
    log_path: Path
    _log: Any = field(repr=False, default=None)

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far."""
        lines = []
        for line in self.log_path.read_text().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                lines.append({"raw": line})
        return lines

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        """Kill the whole process group (workers included) if anything is left."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()


def start_server(
    command: list[str],
    log_path: Path,
    *,
    env: dict[str, str] | None = None,
    port: int | None = None,
    port_flag: bool = True,
    timeout: float = 60.0,
) -> ServerProcess:
    """Start `python <command...>` (plus --host/--port) and wait until /ping answers 200."""
    port = port or free_port()
    args = [sys.executable, *command]
    if port_flag:
        args += ["--host", "127.0.0.1", "--port", str(port)]
    log = log_path.open("ab")
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, start_new_session=True
    )
    server = ServerProcess(proc, port, log_path, log)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if http("GET", f"{server.url}/ping", content_type=None, timeout=2).status == 200:
                    return server
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"server did not become ready:\n{log_path.read_text()[-3000:]}")
    except BaseException:
        server.kill()
        raise


def start_cli_server(model: Path | str, log_path: Path, *args: str, env: dict[str, str] | None = None) -> ServerProcess:
    """`python -m mlops_cli serve MODEL ...` on a free loopback port."""
    return start_server(["-m", "mlops_cli", "serve", str(model), *args], log_path, env=env)


AB_ENDPOINT = "ab"
AB_WEIGHTS = {"a": 90.0, "b": 10.0}


def ab_models(onnx_model: Path, root: Path) -> dict[str, Path]:
    """Two copies of the tiny model that answer with different model versions (metadata.json): a -> A, b -> B."""
    models = {}
    for variant in ("a", "b"):
        models[variant] = model_copy(onnx_model, root / variant)
        (models[variant] / "metadata.json").write_text(json.dumps({"model_version": variant.upper()}))
    return models


def start_ab_endpoint(models: dict[str, Path], log_path: Path) -> ServerProcess:
    """`mlops endpoint serve-local ab --variant a=... --variant b=... --weights a=90,b=10`."""
    variants = [arg for name, path in models.items() for arg in ("--variant", f"{name}={path}")]
    weights = ",".join(f"{name}={weight:g}" for name, weight in AB_WEIGHTS.items())
    command = ["-m", "mlops_cli", "endpoint", "serve-local", AB_ENDPOINT, *variants, "--weights", weights]
    return start_server([*command, "--threads", "1"], log_path)


def sagemaker_clients(url: str) -> tuple[Any, Any]:
    """boto3's sagemaker-runtime and sagemaker clients on a local endpoint, without retries."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1}, max_pool_connections=16)
    runtime = boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1", config=config)
    sagemaker = boto3.client("sagemaker", endpoint_url=url, region_name="us-east-1", config=config)
    return runtime, sagemaker


def control_call(url: str, operation: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """One raw call of a local endpoint's control plane (AWS JSON 1.1), for bodies boto3 would refuse to send:
    (status, parsed body)."""
    headers = {"X-Amz-Target": f"SageMaker.{operation}"}
    response = http("POST", url + "/", body, content_type="application/x-amz-json-1.1", headers=headers)
    return response.status, response.json()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    """Start CLI servers for one test; all are killed afterwards."""
    started: list[ServerProcess] = []

    def start(model: Path | str, *args: str, env: dict[str, str] | None = None) -> ServerProcess:
        server = start_cli_server(model, tmp_path / f"server{len(started)}.log", *args, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def metric_samples(text: str, name: str) -> dict[str, float]:
    """{label string: value} for every sample of a metric in Prometheus text format."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key[len(name) :]] = float(value)
    return out


def sdk_v3_invoke(
    url: str, payload: Any, *, endpoint: str = AB_ENDPOINT, container: bool = False, content_type: str | None = None
) -> Any:
    """Invoke as SageMaker SDK v3 does from a notebook: `sagemaker.core.resources.Endpoint.invoke` with its
    JSONSerializer and no content type, so no Content-Type header is sent. `url` is a SageMaker runtime (the local
    endpoint); with `container`, a model server, whose /invocations gets the request as the runtime forwards it (the
    same body and headers). `content_type` is passed on when given. Returns the SDK's InvokeEndpointOutput; a refusal
    raises botocore's ClientError."""
    import boto3
    from sagemaker.core.deserializers import JSONDeserializer
    from sagemaker.core.resources import Endpoint
    from sagemaker.core.serializers import JSONSerializer

    session = boto3.Session(region_name="us-east-1")  # credentials: the test environment's (tests/conftest.py)

    def redirect(request: Any, **_: Any) -> None:
        # The SDK builds its client itself (no endpoint_url to pass): send its request here instead of to AWS.
        path = "/invocations" if container else urllib.parse.urlsplit(request.url).path
        request.url = url + path

    session.events.register("before-send.sagemaker-runtime.InvokeEndpoint", redirect)
    ep = Endpoint(endpoint_name=endpoint, serializer=JSONSerializer(), deserializer=JSONDeserializer())
    extra = {"content_type": content_type} if content_type is not None else {}
    return ep.invoke(body=payload, session=session, region="us-east-1", **extra)
