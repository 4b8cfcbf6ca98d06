"""The SageMaker-contract model server: Starlette on uvicorn, onnxruntime behind it.

Routes: `GET /ping` (200, empty body, once the model is loaded and warmed up), `POST /invocations`
(`{"inputs": "text" | ["text", ...]}` → `{"predictions": [...], "model_version": ...}`), `GET /metrics`
(Prometheus text format). Inference runs on one executor thread per worker, never on the event loop, so
/ping answers while the model is busy; concurrency comes from worker processes and, when enabled, from
micro-batching concurrent requests into one model call.

On SIGTERM the requests already running on the model finish (within the graceful timeout); those still waiting
for it, and any that arrive, get 503 with Retry-After at once, so that a load balancer retries them on another
instance instead of their timing out here.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import logging.config
import os
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from inference.predictor import OnnxPredictor, Predictor, TorchPredictor, onnx_path
from inference.serving import asgi
from inference.serving.asgi import DRAIN_HOOK, REFUSED_HOOK, RETRY_AFTER_S, AccessLog, notes, read_body, server_error
from inference.serving.batching import MicroBatcher, ShuttingDown
from inference.serving.capture import INFERENCE_ID_HEADER, SERVE_VARIANT, CaptureWriter
from inference.serving.config import RESOLVED_CONFIG_ENV, ConfigError, ServerConfig
from inference.serving.logs import logging_config
from inference.serving.metrics import Metrics, prepare_multiprocess_dir, remove_multiprocess_dir
from inference.serving.payload import BadRequest, check_content_length, check_content_type, parse_inputs

log = logging.getLogger(__name__)

ROUTES = ("/ping", "/invocations", "/metrics")


class Service:
    """One worker's model, executor, batcher and metrics."""

    def __init__(self, config: ServerConfig, predictor: Predictor | None = None) -> None:
        self.config = config
        self.limits = config.limits
        self.metrics = Metrics()
        self.predictor = predictor
        self.ready = False
        self.draining = False
        self._queued: set[Future[list[dict[str, Any]]]] = set()  # submitted to the executor, maybe not started
        # One inference at a time per worker: onnxruntime already spreads a call over the intra-op threads,
        # and parallel calls would only fight over the same cores.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
        self.batcher: MicroBatcher | None = None
        self.capture: CaptureWriter | None = None

    def load(self) -> None:
        """Load (unless injected) and warm up the predictor."""
        if self.predictor is None and self.config.precision == "torch":
            c = self.config
            self.predictor = TorchPredictor(
                c.model_dir,
                intra_op_threads=c.intra_op_threads,
                max_length=c.max_length,
                max_batch=max(c.batch_max_size, c.max_inputs),
            )
        elif self.predictor is None:
            c = self.config
            self.predictor = OnnxPredictor(
                c.model_dir,
                precision=c.precision,
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
        if self.predictor is None:
            raise RuntimeError("the model is not loaded")
        start = time.perf_counter()
        results = self.predictor.predict(texts)
        self.metrics.inference.observe(time.perf_counter() - start)
        self.metrics.batch_size.observe(len(texts))
        self.metrics.texts.inc(len(texts))
        for result in results:
            self.metrics.predicted.labels(result["intent"]).inc()
        return results

    async def classify(self, texts: list[str]) -> list[dict[str, Any]]:
        """Classify off the event loop, through the batcher when batching is on; ShuttingDown once draining."""
        if self.draining:
            raise ShuttingDown
        self.metrics.waiting.inc()
        try:
            if self.batcher is not None:
                return await self.batcher.submit(texts)
            future = self.executor.submit(self.run_batch, texts)
            self._queued.add(future)
            try:
                return await asyncio.wrap_future(future)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if future.cancelled() and self.draining and not (task and task.cancelling()):
                    raise ShuttingDown from None  # drain() took it off the queue: it never started
                raise
            finally:
                self._queued.discard(future)
        finally:
            self.metrics.waiting.dec()

    def start_capture(self) -> None:
        """Start data capture when the settings turn it on (inference.serving.capture)."""
        c = self.config
        if not c.capture:
            return
        if c.capture_dir is None:
            raise ConfigError("data capture needs a directory", hint="set --capture-dir (env INTENT_SERVE_CAPTURE_DIR)")
        self.capture = CaptureWriter(
            c.capture_dir,
            endpoint=c.capture_endpoint,
            percent=c.capture_share,
            rotate_bytes=c.capture_rotate_bytes,
            on_count=lambda outcome, n: self.metrics.captures.labels(outcome).inc(n),
        )

    def record_capture(self, request: Request, body: bytes, answer: Response) -> None:
        """Offer an answered request to data capture (the writer samples and queues; it never waits)."""
        if self.capture is not None:
            self.capture.capture(
                SERVE_VARIANT,
                body,
                bytes(answer.body),
                request_type=request.headers.get("content-type"),
                response_type=answer.media_type,
                inference_id=request.headers.get(INFERENCE_ID_HEADER),
            )

    def drain(self) -> None:
        """A graceful shutdown began: whatever has not reached the model gets ShuttingDown (503); what runs finishes."""
        if self.draining:
            return
        self.draining = True
        self.ready = False  # /ping answers 503 from now on
        not_started = sum(1 for future in list(self._queued) if future.cancel())
        if self.batcher is not None:
            self.batcher.reject_waiting()
        log.info("shutting down: requests not started get 503", extra={"not_started": not_started})

    def refused(self, reason: str) -> None:
        """A request the HTTP stack refused before it reached the app (header limits, timeouts, connections)."""
        self.metrics.errors.labels(reason).inc()

    async def start(self) -> None:
        """Load the model without blocking the loop, start batching, mark ready."""
        await asyncio.to_thread(self.load)
        if self.config.batching:
            self.batcher = MicroBatcher(
                self.run_batch,
                self.executor,
                max_batch_size=self.config.batch_max_size,
                max_wait_ms=self.config.batch_wait_ms,
            )
            self.batcher.start()
        self.start_capture()
        self.metrics.worker_up.set(1)
        precision = getattr(self.predictor, "precision", "")
        self.metrics.model_info.labels(self.model_version, precision).set(1)
        self.ready = True
        log.info(
            "worker ready",
            extra={
                "model_dir": str(self.config.model_dir),
                "model_version": self.model_version,
                "precision": precision,
                "threads": getattr(self.predictor, "intra_op_threads", None),
                "batching": self.config.batching,
                "batch_max_size": self.config.batch_max_size,
                "batch_wait_ms": self.config.batch_wait_ms,
                "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
                "capture_dir": str(self.config.capture_dir) if self.capture else None,
                "capture_percent": self.config.capture_share if self.capture else None,
            },
        )

    async def stop(self) -> None:
        """Runs after uvicorn has let in-flight requests finish: drain the batcher, release the executor."""
        self.ready = False
        if self.batcher is not None:
            await self.batcher.stop()
        self.executor.shutdown(wait=True)
        if self.capture is not None:  # every answered request is in the queue by now: write it all out
            await asyncio.to_thread(self.capture.close)
        self.metrics.worker_exit()
        log.info("worker stopped")


def _error(status: int, message: str, request: Request | None = None, reason: str = "") -> JSONResponse:
    if request is not None:
        notes(request.scope)["error"] = reason or str(status)
    return JSONResponse({"error": message}, status_code=status)


async def ping(request: Request) -> Response:
    """200 with an empty body when the model is loaded, else 503."""
    service: Service = request.app.state.service
    return Response(status_code=200 if service.ready else 503)


async def invocations(request: Request) -> Response:
    """Classify `inputs`; every bad input is a 4xx with a JSON message."""
    service: Service = request.app.state.service
    try:
        declared = check_content_type(request.headers.get("content-type"))
        check_content_length(request.headers.get("content-length"), service.limits)
        body = await read_body(request, service.limits)
        texts = parse_inputs(body, service.limits, declared=declared)
    except BadRequest as exc:
        service.metrics.errors.labels(exc.reason).inc()
        return _error(exc.status, exc.message, request, exc.reason)
    except ClientDisconnect:
        service.metrics.errors.labels("client_disconnect").inc()
        return _error(400, "client disconnected before sending the whole body", request, "client_disconnect")
    notes(request.scope)["inputs"] = len(texts)
    if service.draining:
        return _shutting_down(service, request)
    if not service.ready:
        return _error(503, "the model is not loaded yet", request, "not_ready")
    try:
        predictions = await service.classify(texts)
        # Rendered inside: an answer that cannot be sent as JSON (a NaN probability) is an inference failure.
        answer = JSONResponse({"predictions": predictions, "model_version": service.model_version})
    except ShuttingDown:
        return _shutting_down(service, request)
    except Exception:
        log.exception("inference failed for %d texts", len(texts))
        service.metrics.errors.labels("internal").inc()
        return _error(500, "inference failed; see the server log", request, "internal")
    service.record_capture(request, body, answer)
    return answer


def _shutting_down(service: Service, request: Request) -> Response:
    """503 with Retry-After for a request that will not run here: a load balancer sends it to another instance."""
    service.metrics.errors.labels("shutting_down").inc()
    response = _error(503, "the server is shutting down: send the request again", request, "shutting_down")
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    response.headers["Connection"] = "close"
    return response


async def metrics(request: Request) -> Response:
    """Prometheus exposition of all workers."""
    service: Service = request.app.state.service
    body, content_type = service.metrics.render()
    return Response(body, media_type=content_type)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # starlette routes only HTTPExceptions here
        raise exc
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    elif exc.status_code == 404:
        message = f"no route {request.url.path}: use GET /ping, POST /invocations, GET /metrics"
    else:
        message = exc.detail
    return _error(exc.status_code, message, request, f"http_{exc.status_code}")


def _record(service: Service) -> Callable[[Scope, int, float], None]:
    """The access log's hook: request count and latency by route (bounded label values, whatever clients send)."""

    def record(scope: Scope, status: int, elapsed: float) -> None:
        path = scope.get("path", "")
        route = path if path in ROUTES else "other"
        service.metrics.requests.labels(route, scope.get("method", ""), str(status)).inc()
        service.metrics.latency.labels(route).observe(elapsed)

    return record


def create_app(config: ServerConfig, predictor: Predictor | None = None) -> Starlette:
    """Build the ASGI app for one worker; the model loads during lifespan startup."""
    service = Service(config, predictor)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await service.start()
        try:
            # The lifespan state reaches every connection: the HTTP stack tells the service about shutdown and refusals.
            yield {DRAIN_HOOK: service.drain, REFUSED_HOOK: service.refused}
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
    app.add_middleware(AccessLog, quiet=lambda path: path in ("/ping", "/metrics"), on_response=_record(service))
    return app


def app_from_env() -> Starlette:
    """uvicorn's app factory in each worker: the launcher's resolved config, else the environment."""
    resolved = os.environ.get(RESOLVED_CONFIG_ENV)
    config = ServerConfig.from_json(resolved) if resolved else ServerConfig.from_env()
    return create_app(config)


def serve(config: ServerConfig) -> None:
    """Run the server until SIGTERM/SIGINT: in-flight requests finish, then the process exits 0."""
    # A missing model or library is a clear error now, not a worker crash later.
    if config.precision == "torch" and importlib.util.find_spec("torch") is None:
        raise ConfigError(
            "precision torch (the PyTorch baseline) needs torch, which is not installed here",
            hint="serve --precision int8 or fp32: the serving image holds onnxruntime only",
        )
    if config.precision != "torch":
        onnx_path(config.model_dir, config.precision)
    if config.capture and config.capture_dir is None:
        raise ConfigError("data capture needs a directory", hint="set --capture-dir (env INTENT_SERVE_CAPTURE_DIR)")
    logging.config.dictConfig(logging_config(config.log_level))
    metrics_dir, created = prepare_multiprocess_dir()
    os.environ[RESOLVED_CONFIG_ENV] = config.to_json()
    log.info(
        "starting server",
        extra={
            "host": config.host,
            "port": config.port,
            "workers": config.workers,
            "threads": config.intra_op_threads,
            "precision": config.precision,
            "batching": config.batching,
            "metrics_dir": str(metrics_dir),
            "capture_dir": str(config.capture_dir) if config.capture else None,
        },
    )
    try:
        asgi.run(
            "inference.serving.server:app_from_env",
            factory=True,
            host=config.host,
            port=config.port,
            workers=config.workers or 1,
            log_level=config.log_level,
            keep_alive_s=config.keep_alive_s,
            graceful_timeout_s=config.graceful_timeout_s,
            limits=config.connection_limits,
        )
    finally:
        if created:
            remove_multiprocess_dir(metrics_dir)
    log.info("server stopped")
