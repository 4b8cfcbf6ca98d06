"""The SageMaker-contract model server: Starlette on uvicorn, onnxruntime behind it.

Routes: `GET /ping` (200, empty body, once the model is loaded and warmed up), `POST /invocations`
(`{"inputs": "text" | ["text", ...]}` → `{"predictions": [...], "model_version": ...}`), `GET /metrics`
(Prometheus text format). Inference runs on one executor thread per worker, never on the event loop, so
/ping answers while the model is busy; concurrency comes from worker processes and, when enabled, from
micro-batching concurrent requests into one model call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.config
import math
import os
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inference.batching import MicroBatcher
from inference.config import RESOLVED_CONFIG_ENV, ServerConfig
from inference.logs import ACCESS_LOGGER, logging_config
from inference.metrics import Metrics, prepare_multiprocess_dir, remove_multiprocess_dir
from inference.payload import BadRequest, Limits, check_content_length, check_content_type, parse_inputs, too_large
from inference.predictor import OnnxPredictor, Predictor, TorchPredictor, onnx_path

log = logging.getLogger(__name__)
access_log = logging.getLogger(ACCESS_LOGGER)

ROUTES = ("/ping", "/invocations", "/metrics")
# Per-request notes (input count, error reason) the handler leaves for the access log.
_NOTES_KEY = "intent.notes"


class Service:
    """One worker's model, executor, batcher and metrics."""

    def __init__(self, config: ServerConfig, predictor: Predictor | None = None) -> None:
        self.config = config
        self.limits = Limits(config.max_inputs, config.max_body_bytes, config.max_text_bytes)
        self.metrics = Metrics()
        self.predictor = predictor
        self.ready = False
        # One inference at a time per worker: onnxruntime already spreads a call over the intra-op threads,
        # and parallel calls would only fight over the same cores.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
        self.batcher: MicroBatcher | None = None

    def load(self) -> None:
        """Load (unless injected) and warm up the predictor."""
        if self.predictor is None and self.config.variant == "torch":
            c = self.config
            self.predictor = TorchPredictor(c.model_dir, intra_op_threads=c.intra_op_threads, max_length=c.max_length,
                                            max_batch=max(c.batch_max_size, c.max_inputs))
        elif self.predictor is None:
            c = self.config
            self.predictor = OnnxPredictor(
                c.model_dir,
                variant=c.variant,
                intra_op_threads=c.intra_op_threads,
                max_length=c.max_length,
                # Batches never need splitting again inside the predictor: the batch-size metric stays exact.
                max_batch=max(c.batch_max_size, c.max_inputs),
                # Spinning threads help a lone worker's latency but steal the cores other workers need.
                allow_spinning=c.allow_spinning,
            )
        self.predictor.warmup()

    @property
    def model_version(self) -> str:
        """The served model's version."""
        return self.predictor.model_version if self.predictor else ""

    def run_batch(self, texts: list[str]) -> list[dict[str, Any]]:
        """One model call (on the executor thread), recorded in the metrics."""
        assert self.predictor is not None
        start = time.perf_counter()
        results = self.predictor.predict(texts)
        self.metrics.inference.observe(time.perf_counter() - start)
        self.metrics.batch_size.observe(len(texts))
        self.metrics.texts.inc(len(texts))
        for result in results:
            self.metrics.predicted.labels(result["intent"]).inc()
        return results

    async def classify(self, texts: list[str]) -> list[dict[str, Any]]:
        """Classify off the event loop, through the batcher when batching is on."""
        if self.batcher is not None:
            return await self.batcher.submit(texts)
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.run_batch, texts)

    async def start(self) -> None:
        """Load the model without blocking the loop, start batching, mark ready."""
        await asyncio.to_thread(self.load)
        if self.config.batching:
            self.batcher = MicroBatcher(
                self.run_batch, self.executor, max_batch_size=self.config.batch_max_size, max_wait_ms=self.config.batch_wait_ms
            )
            self.batcher.start()
        self.metrics.worker_up.set(1)
        variant = getattr(self.predictor, "variant", "")
        self.metrics.model_info.labels(self.model_version, variant).set(1)
        self.ready = True
        log.info(
            "worker ready",
            extra={
                "model_dir": str(self.config.model_dir), "model_version": self.model_version, "variant": variant,
                "threads": getattr(self.predictor, "intra_op_threads", None),
                "batching": self.config.batching, "batch_max_size": self.config.batch_max_size,
                "batch_wait_ms": self.config.batch_wait_ms,
                "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
            },
        )

    async def stop(self) -> None:
        """Runs after uvicorn has let in-flight requests finish: drain the batcher, release the executor."""
        self.ready = False
        if self.batcher is not None:
            await self.batcher.stop()
        self.executor.shutdown(wait=True)
        self.metrics.worker_exit()
        log.info("worker stopped")


def _error(status: int, message: str, request: Request | None = None, reason: str = "") -> JSONResponse:
    if request is not None:
        request.scope.setdefault(_NOTES_KEY, {})["error"] = reason or str(status)
    return JSONResponse({"error": message}, status_code=status)


async def ping(request: Request) -> Response:
    """200 with an empty body when the model is loaded, else 503."""
    service: Service = request.app.state.service
    return Response(status_code=200 if service.ready else 503)


async def invocations(request: Request) -> Response:
    """Classify `inputs`; every bad input is a 4xx with a JSON message."""
    service: Service = request.app.state.service
    try:
        check_content_type(request.headers.get("content-type"))
        check_content_length(request.headers.get("content-length"), service.limits)
        body = await read_body(request, service.limits)
        texts = parse_inputs(body, service.limits)
    except BadRequest as exc:
        service.metrics.errors.labels(exc.reason).inc()
        return _error(exc.status, exc.message, request, exc.reason)
    except ClientDisconnect:
        service.metrics.errors.labels("client_disconnect").inc()
        return _error(400, "client disconnected before sending the whole body", request, "client_disconnect")
    request.scope.setdefault(_NOTES_KEY, {})["inputs"] = len(texts)
    if not service.ready:
        return _error(503, "the model is not loaded yet", request, "not_ready")
    try:
        predictions = await service.classify(texts)
    except Exception:
        log.exception("inference failed for %d texts", len(texts))
        service.metrics.errors.labels("internal").inc()
        return _error(500, "inference failed; see the server log", request, "internal")
    return JSONResponse({"predictions": predictions, "model_version": service.model_version})


async def metrics(request: Request) -> Response:
    """Prometheus exposition of all workers."""
    service: Service = request.app.state.service
    body, content_type = service.metrics.render()
    return Response(body, media_type=content_type)


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


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    elif exc.status_code == 404:
        message = f"no route {request.url.path}: use GET /ping, POST /invocations, GET /metrics"
    else:
        message = exc.detail
    return _error(exc.status_code, message, request, f"http_{exc.status_code}")


async def server_error(request: Request, exc: Exception) -> Response:
    """Any unhandled exception: logged with its traceback, answered as a JSON 500 that reveals nothing."""
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal server error"}, status_code=500)


class AccessLogMiddleware:
    """Pure ASGI middleware: request id, JSON access log line, request count and latency metrics."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap one HTTP request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        request_id = (headers.get(b"x-request-id") or headers.get(b"x-amzn-requestid") or b"").decode("latin-1")[:128]
        request_id = request_id or uuid.uuid4().hex
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            path = scope.get("path", "")
            route = path if path in ROUTES else "other"  # bounded label values, whatever clients send
            method = scope.get("method", "")
            metrics = self.service.metrics
            metrics.requests.labels(route, method, str(status)).inc()
            metrics.latency.labels(route).observe(elapsed)
            notes = scope.get(_NOTES_KEY, {})
            # SageMaker pings every few seconds: keep successful pings out of the INFO log.
            level = logging.DEBUG if route in ("/ping", "/metrics") and status < 400 else logging.INFO
            access_log.log(
                level,
                "%s %s %d",
                method,
                path,
                status,
                extra={
                    "request_id": request_id, "method": method, "path": path, "status": status,
                    "duration_ms": round(elapsed * 1000, 3), "client": _client(scope), **notes,
                },
            )


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else ""


def create_app(config: ServerConfig, predictor: Predictor | None = None) -> Starlette:
    """Build the ASGI app for one worker; the model loads during lifespan startup."""
    service = Service(config, predictor)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = Starlette(
        routes=[
            Route("/ping", ping, methods=["GET"]),
            Route("/invocations", invocations, methods=["POST"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(AccessLogMiddleware, service=service)
    return app


def app_from_env() -> Starlette:
    """uvicorn's app factory in each worker: the launcher's resolved config, else the environment."""
    resolved = os.environ.get(RESOLVED_CONFIG_ENV)
    config = ServerConfig.from_json(resolved) if resolved else ServerConfig.from_env()
    return create_app(config)


def ignore_reraised_signal(signum: int, frame: object) -> None:
    """After a graceful shutdown uvicorn re-raises the signal it caught; landing here makes that a clean exit 0."""


def serve(config: ServerConfig) -> None:
    """Run the server until SIGTERM/SIGINT: in-flight requests finish, then the process exits 0."""
    import uvicorn

    from inference.http_protocol import UVICORN_STACK

    if config.variant != "torch":
        onnx_path(config.model_dir, config.variant)  # a missing model is a clear error now, not a worker crash later
    logging.config.dictConfig(logging_config(config.log_level))
    metrics_dir, created = prepare_multiprocess_dir()
    os.environ[RESOLVED_CONFIG_ENV] = config.to_json()
    if threading.current_thread() is threading.main_thread():  # signal handlers can only be set there
        signal.signal(signal.SIGTERM, ignore_reraised_signal)
    log.info(
        "starting server",
        extra={"host": config.host, "port": config.port, "workers": config.workers, "threads": config.intra_op_threads,
               "variant": config.variant, "batching": config.batching, "metrics_dir": str(metrics_dir)},
    )
    try:
        uvicorn.run(
            "inference.server:app_from_env",
            factory=True,
            host=config.host,
            port=config.port,
            workers=config.workers,
            **UVICORN_STACK,  # pinned httptools + asyncio, whatever else is installed
            lifespan="on",
            log_config=logging_config(config.log_level),
            access_log=False,
            server_header=False,
            timeout_keep_alive=config.keep_alive_s,
            timeout_graceful_shutdown=math.ceil(config.graceful_timeout_s),
        )
    finally:
        if created:
            remove_multiprocess_dir(metrics_dir)
    log.info("server stopped")
