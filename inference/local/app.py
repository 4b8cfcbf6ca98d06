"""The local A/B endpoint: one process standing in for a SageMaker real-time endpoint with production variants.

It speaks two AWS protocols, so that boto3 clients created with `endpoint_url` work against it unchanged:

- `POST /` with `X-Amz-Target: SageMaker.<Operation>`: a subset of the SageMaker control plane in AWS JSON 1.1
  (models, endpoint configs, endpoints, weights, tags; see `inference.local.control_plane`);
- `POST /endpoints/{name}/invocations`: SageMaker Runtime's InvokeEndpoint (rest-json), the body and answer being
  the model server's (`inference.serving.payload`), routed to a variant by weight or by
  `X-Amzn-SageMaker-Target-Variant`.

Also `GET /endpoints/{name}/metrics[?since=EPOCH][&latencies=1]` (per-variant counts, errors, exact latency
percentiles, predicted intents, and optionally every answered request's latency; under `shadow`, each shadow test's
mirrored traffic: `inference.local.shadow`) and `GET /ping`. It runs as a
single uvicorn worker, because its state lives in memory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.config
import math
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from inference.local.api import ACCOUNT, REGION, ApiError
from inference.local.control_plane import LocalSageMaker
from inference.local.models import check_model_source
from inference.serving import asgi
from inference.serving.asgi import AccessLog, notes, read_body, server_error
from inference.serving.logs import logging_config
from inference.serving.payload import BadRequest, Limits, check_content_length, check_content_type, parse_inputs
from inference.variants import DeploymentError, check_name, check_unique, check_weights

log = logging.getLogger(__name__)

CONTROL_CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "SageMaker."
# Control-plane requests are a few hundred bytes; anything near this is not one.
CONTROL_LIMITS = Limits(max_body_bytes=1024 * 1024)
TARGET_VARIANT_HEADER = "x-amzn-sagemaker-target-variant"
INVOKED_VARIANT_HEADER = "x-Amzn-Invoked-Production-Variant"
GRACEFUL_TIMEOUT_S = 30


def startup_model_name(endpoint: str, variant: str) -> str:
    """The name of the model the startup deployment creates for one variant."""
    return f"{endpoint}-{variant}"


def startup_config_name(endpoint: str) -> str:
    """The name of the endpoint config the startup deployment creates."""
    return f"{endpoint}-config-1"


@dataclass(frozen=True)
class StartupEndpoint:
    """An endpoint to create when the server starts: its variants' models and their weights."""

    name: str
    variants: tuple[tuple[str, Path], ...]
    weights: Mapping[str, float]


def check_variants(
    endpoint: str | None, variant_names: Sequence[str], weights: Mapping[str, float] | None
) -> dict[str, float]:
    """Validate an endpoint's name, variant names and weights as SageMaker would; return the weights (default equal)."""
    if endpoint is None:
        if variant_names or weights:
            raise DeploymentError(
                "variants and weights need an endpoint name", hint="e.g. serve-local intents --variant a=DIR"
            )
        return {}
    check_name("endpoint", endpoint)
    if not variant_names:
        raise DeploymentError(f"endpoint {endpoint!r} has no variants", hint="add --variant NAME=MODEL (repeatable)")
    check_unique("variant", variant_names)
    # The names the startup deployment gives its models and config must be valid SageMaker names too.
    for variant in variant_names:
        check_name("model", startup_model_name(endpoint, variant))
    check_name("endpoint config", startup_config_name(endpoint))
    if weights is None:
        return dict.fromkeys(variant_names, 1.0)
    missing = [v for v in variant_names if v not in weights]
    if missing:
        raise DeploymentError(
            f"no weight given for variant {', '.join(map(repr, missing))}",
            hint="give every variant a weight, e.g. --weights champion=90,challenger=10",
        )
    return check_weights(weights, known=variant_names)


def startup_endpoint(
    endpoint: str | None, variants: Sequence[tuple[str, Path | str]], weights: Mapping[str, float] | None
) -> StartupEndpoint | None:
    """The endpoint to create at startup (None for none), with every name, weight and model path checked."""
    resolved = check_variants(endpoint, [name for name, _ in variants], weights)
    if endpoint is None:
        return None
    paths = tuple((name, check_model_source(Path(path).resolve())) for name, path in variants)
    return StartupEndpoint(endpoint, paths, resolved)


async def _deploy_startup(sagemaker: LocalSageMaker, spec: StartupEndpoint) -> None:
    """Create the startup endpoint through the same operations a boto3 client would call, and wait until it serves."""
    config = startup_config_name(spec.name)
    try:
        for variant, path in spec.variants:
            sagemaker.call(
                "CreateModel",
                {"ModelName": startup_model_name(spec.name, variant), "PrimaryContainer": {"ModelDataUrl": str(path)}},
            )
        sagemaker.call(
            "CreateEndpointConfig",
            {
                "EndpointConfigName": config,
                "ProductionVariants": [
                    {
                        "VariantName": variant,
                        "ModelName": startup_model_name(spec.name, variant),
                        "InitialVariantWeight": spec.weights[variant],
                        "InitialInstanceCount": 1,
                    }
                    for variant, _ in spec.variants
                ],
            },
        )
        sagemaker.call("CreateEndpoint", {"EndpointName": spec.name, "EndpointConfigName": config})
    except ApiError as exc:
        raise DeploymentError(f"cannot create endpoint {spec.name!r}: {exc.message}") from None
    endpoint = await sagemaker.wait_deployed(spec.name)
    if endpoint.status != "InService":
        raise DeploymentError(f"endpoint {spec.name!r} failed to start: {endpoint.failure_reason}")


# ------------------------------------------------------------------------------------------ control plane


def _control_error(request: Request, code: str, message: str, status: int = 400) -> Response:
    notes(request.scope)["error"] = code
    return Response(
        json.dumps({"__type": code, "message": message}),
        status_code=status,
        media_type=CONTROL_CONTENT_TYPE,
        headers={"x-amzn-ErrorType": code},
    )


async def control(request: Request) -> Response:
    """One SageMaker control-plane call in AWS JSON 1.1 (the SigV4 signature is not checked)."""
    sagemaker: LocalSageMaker = request.app.state.sagemaker
    target = request.headers.get("x-amz-target", "")
    operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
    notes(request.scope)["operation"] = operation or target
    if not operation:
        return _control_error(
            request,
            "UnknownOperationException",
            f"unknown operation {target!r}: expected X-Amz-Target: SageMaker.<Operation>",
        )
    try:
        check_content_length(request.headers.get("content-length"), CONTROL_LIMITS)
        body = await read_body(request, CONTROL_LIMITS)
    except BadRequest as exc:
        return _control_error(request, "ValidationException", exc.message, 413 if exc.status == 413 else 400)
    except ClientDisconnect:
        return _control_error(
            request, "SerializationException", "the client disconnected before sending the whole body"
        )
    try:
        params = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _control_error(request, "SerializationException", "the request body is not valid JSON")
    if not isinstance(params, dict):
        return _control_error(request, "SerializationException", "the request body must be a JSON object")
    try:
        answer = sagemaker.call(operation, params)
    except ApiError as exc:
        return _control_error(request, exc.code, exc.message, exc.status)
    return Response(json.dumps(answer), media_type=CONTROL_CONTENT_TYPE)


# ------------------------------------------------------------------------------------------------ runtime


def _runtime_error(
    request: Request, code: str, message: str, status: int = 400, *, variant: str | None = None, **fields: Any
) -> Response:
    """An InvokeEndpoint error as SageMaker Runtime sends it: x-amzn-ErrorType header, JSON body with the message."""
    notes(request.scope)["error"] = code
    headers = {"x-amzn-ErrorType": code}
    if variant is not None:
        headers[INVOKED_VARIANT_HEADER] = variant
    return JSONResponse({"message": message, **fields}, status_code=status, headers=headers)


def _model_error(request: Request, endpoint: str, variant: str, status: int, message: str) -> Response:
    """424 ModelError: what SageMaker answers when the model container returned an error, carrying that error."""
    original = json.dumps({"error": message})  # the model server's own error body
    kind = "client" if status < 500 else "server"
    return _runtime_error(
        request,
        "ModelError",
        f'Received {kind} error ({status}) from primary with message "{original}". '
        f"See the local endpoint's log for endpoint {endpoint} in account {ACCOUNT} for more information.",
        424,
        variant=variant,
        OriginalStatusCode=status,
        OriginalMessage=original,
        LogStreamArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{endpoint}",
    )


async def invocations(request: Request) -> Response:
    """InvokeEndpoint: route to a variant, then answer exactly as the model server would (its errors as ModelError)."""
    sagemaker: LocalSageMaker = request.app.state.sagemaker
    name = request.path_params["name"]
    request_notes = notes(request.scope)
    request_notes["endpoint"] = name
    try:
        endpoint, variant = sagemaker.route(name, request.headers.get(TARGET_VARIANT_HEADER))
    except ApiError as exc:
        return _runtime_error(request, exc.code, exc.message, exc.status)
    request_notes["variant"] = variant.name
    model = variant.model
    traffic = endpoint.traffic_of(variant.name)
    # Between routing and here there is no await: an update cannot retire the model before it is held.
    model.acquire()
    start = time.perf_counter()
    try:
        limits = model.record.limits
        try:
            declared = check_content_type(request.headers.get("content-type"))
            check_content_length(request.headers.get("content-length"), limits)
            body = await read_body(request, limits)
            texts = parse_inputs(body, limits, declared=declared)
        except BadRequest as exc:
            traffic.record_client_error()
            request_notes["reason"] = exc.reason
            return _model_error(request, name, variant.name, exc.status, exc.message)
        except ClientDisconnect:
            traffic.record_client_error()
            return _model_error(request, name, variant.name, 400, "client disconnected before sending the whole body")
        request_notes["inputs"] = len(texts)
        try:
            predictions = await model.classify(texts)
            # Rendered here: an answer that cannot be sent (a NaN probability) is the variant's failure too, so
            # that every failed request shows in its error count.
            answer = JSONResponse(
                {"predictions": predictions, "model_version": model.model_version},
                headers={INVOKED_VARIANT_HEADER: variant.name},
            )
        except Exception:
            log.exception("inference failed", extra={"endpoint": name, "variant": variant.name, "inputs": len(texts)})
            traffic.record_error()
            return _model_error(request, name, variant.name, 500, "inference failed; see the server log")
    finally:
        model.release()
    latency_ms = (time.perf_counter() - start) * 1000.0
    traffic.record(latency_ms, [p["intent"] for p in predictions])
    endpoint.capture(variant.name, body, bytes(answer.body), request.headers)
    # Shadow test: a sample goes to the shadow variants in the background; this answer does not wait for them.
    sagemaker.mirror(name, variant.name, texts, predictions, latency_ms)
    return answer


async def endpoint_metrics(request: Request) -> Response:
    """Per-variant traffic of an endpoint, optionally only since an epoch time (`?since=`), with the raw latencies
    (`&latencies=1`)."""
    sagemaker: LocalSageMaker = request.app.state.sagemaker
    raw = request.query_params.get("since")
    since: float | None = None
    if raw is not None:
        try:
            since = float(raw)
        except ValueError:
            since = math.nan
        if not math.isfinite(since):
            return JSONResponse({"error": f"since must be a time in epoch seconds, got {raw[:40]!r}"}, status_code=400)
    raw_latencies = request.query_params.get("latencies", "0")
    if raw_latencies not in ("0", "1"):
        return JSONResponse({"error": f"latencies must be 0 or 1, got {raw_latencies[:40]!r}"}, status_code=400)
    try:
        return JSONResponse(
            sagemaker.endpoint_traffic(request.path_params["name"], since, with_latencies=raw_latencies == "1")
        )
    except ApiError as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status)


async def ping(request: Request) -> Response:
    """200 while the process is up (endpoints have their own status)."""
    return Response(status_code=200)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # starlette routes only HTTPExceptions here
        raise exc
    if exc.status_code == 404:
        message = (
            f"no route {request.url.path}: use POST / (SageMaker API), POST /endpoints/NAME/invocations, "
            "GET /endpoints/NAME/metrics, GET /ping"
        )
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return JSONResponse({"error": message}, status_code=exc.status_code)


def create_app(*, work_dir: Path, threads: int | None = None, startup: StartupEndpoint | None = None) -> Starlette:
    """The ASGI app; `startup`'s endpoint is created (and in service) before the server accepts requests."""
    sagemaker = LocalSageMaker(work_dir, threads=threads)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if startup is not None:
            try:
                await _deploy_startup(sagemaker, startup)
            except DeploymentError as exc:
                log.error("startup endpoint failed: %s", exc)
                app.state.startup_error = exc  # serve_local re-raises it once uvicorn has given up
                raise
        log.info("local endpoint ready", extra={"work_dir": str(work_dir), "endpoints": list(sagemaker.endpoints)})
        try:
            yield
        finally:
            await sagemaker.close()

    app = Starlette(
        routes=[
            Route("/", control, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
            Route("/endpoints/{name}/invocations", invocations, methods=["POST"]),
            Route("/endpoints/{name}/metrics", endpoint_metrics, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.sagemaker = sagemaker
    app.add_middleware(
        AccessLog, id_header="x-amzn-requestid", quiet=lambda path: path == "/ping" or path.endswith("/metrics")
    )
    return app


def serve_local(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    endpoint: str | None = None,
    variants: Sequence[tuple[str, Path | str]] = (),
    weights: Mapping[str, float] | None = None,
    threads: int | None = None,
    work_dir: Path | None = None,
    log_level: str = "info",
) -> None:
    """Run the local A/B endpoint until SIGTERM/SIGINT, first creating `endpoint` with `variants` if given.

    Args:
        host: interface to bind (loopback by default: it is a development tool and checks no signatures).
        port: port to listen on.
        endpoint: name of an endpoint to create at startup; its models are `<endpoint>-<variant>`, its config
            `<endpoint>-config-1`.
        variants: (variant name, model directory or model.tar.gz) pairs for `endpoint`.
        weights: variant weights (default: equal).
        threads: onnxruntime intra-op threads per variant (default: the CPUs shared among an endpoint's variants).
        work_dir: where model archives are extracted (default: a temporary directory removed on exit).
        log_level: debug, info, warning or error.

    Raises:
        DeploymentError, ModelError: a bad name, weight or model path (before anything starts), or a startup endpoint
            whose models fail to load.
    """
    spec = startup_endpoint(endpoint, variants, weights)  # every mistake is reported before anything loads
    logging.config.dictConfig(logging_config(log_level))
    temporary = None
    if work_dir is None:
        temporary = work_dir = Path(tempfile.mkdtemp(prefix="intent-local-endpoint-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    log.info(
        "starting local endpoint",
        extra={
            "host": host,
            "port": port,
            "endpoint": endpoint,
            "threads": threads,
            "variants": {n: str(p) for n, p in spec.variants} if spec else {},
        },
    )
    app = create_app(work_dir=work_dir, threads=threads, startup=spec)
    try:
        asgi.run(app, host=host, port=port, log_level=log_level, graceful_timeout_s=GRACEFUL_TIMEOUT_S)
    except SystemExit:
        # uvicorn exits 3 when the lifespan fails; the reason is more use to the caller than the exit code.
        failure = getattr(app.state, "startup_error", None)
        if failure is not None:
            raise failure from None
        raise
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    log.info("local endpoint stopped")
