"""A receiver for MLflow 3's open-source webhooks that starts the loop's shadow stage when a challenger is registered.

MLflow signs each delivery as Standard Webhooks do (mlflow/webhooks/delivery.py, `_generate_hmac_signature`):
headers `X-MLflow-Delivery-Id`, `X-MLflow-Timestamp` (Unix seconds) and `X-MLflow-Signature` =
`v1,<base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>" keyed with the webhook's secret>`. A delivery is
accepted only with a valid signature and a timestamp within `tolerance_s` of now (stale or future-dated deliveries
are replays to refuse), and each delivery id is acted on once (MLflow retries a delivery that failed with the same
id). Anything else gets 401 and changes nothing.

On `model_version_alias.created` for the challenger alias of the loop's model, the receiver answers 202 at once
(MLflow waits at most MLFLOW_WEBHOOK_REQUEST_TIMEOUT, 30 s, and retries on 5xx) and runs the loop in a worker
thread, allowed to act on the `shadow` stage only: a challenger that is not the newest data's, or already shadowed,
is reported and left alone. Other events are acknowledged with 200 and ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ml.errors import MlopsError

log = logging.getLogger(__name__)

# MLflow's header names and signature version (mlflow/webhooks/constants.py).
SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
# How far a delivery's timestamp may be from now: Standard Webhooks' recommended tolerance (5 minutes).
DEFAULT_TOLERANCE_S = 300
MAX_BODY_BYTES = 1 << 20
SECRET_ENV = "MLOPS_WEBHOOK_SECRET"  # noqa: S105 - the name of the variable, not a secret
ALIAS_CREATED = ("model_version_alias", "created")
# Delivery ids remembered against replays: MLflow retries within minutes, so the newest few thousand suffice.
_SEEN_LIMIT = 4096


class WebhookRejected(MlopsError):
    """A delivery that is not MLflow's, or not now: a bad or missing signature, or a stale timestamp."""


def sign(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    """The `X-MLflow-Signature` value MLflow sends for this delivery."""
    digest = hmac.new(secret.encode(), f"{delivery_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def verify(
    secret: str,
    headers: dict[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> dict[str, Any]:
    """The delivery's JSON payload, once its signature and timestamp check out; WebhookRejected otherwise."""
    lowered = {k.lower(): v for k, v in headers.items()}
    delivery_id = lowered.get(DELIVERY_ID_HEADER.lower(), "")
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    signatures = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not (delivery_id and timestamp and signatures):
        raise WebhookRejected(
            f"unsigned delivery: it needs {DELIVERY_ID_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}",
            hint="register the webhook with a secret (MlflowClient.create_webhook(..., secret=...))",
        )
    try:
        sent = int(timestamp)
    except ValueError:
        raise WebhookRejected(f"{TIMESTAMP_HEADER} {timestamp!r} is not Unix seconds") from None
    age = (time.time() if now is None else now) - sent
    if abs(age) > tolerance_s:
        raise WebhookRejected(
            f"stale delivery: signed {age:.0f} s from now, beyond the {tolerance_s:g} s tolerance",
            hint="a replay, or clocks apart: check both machines' time",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("the body is not UTF-8: MLflow sends JSON") from None
    expected = sign(secret, delivery_id, timestamp, text)
    # Standard Webhooks allow several space-separated signatures (a secret being rotated): any one may match.
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures.split()):
        raise WebhookRejected(
            "bad signature: the delivery was not signed with this receiver's secret",
            hint=f"give the receiver the webhook's secret ({SECRET_ENV})",
        )
    try:
        payload = json.loads(text)
    except ValueError:
        raise WebhookRejected("the signed body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookRejected("the signed body is not a JSON object")
    return payload


@dataclass(frozen=True)
class Delivery:
    """A verified delivery: its id and MLflow's payload (`entity`, `action`, `timestamp`, `data`)."""

    delivery_id: str
    payload: dict[str, Any]

    @property
    def event(self) -> tuple[str, str]:
        """(entity, action), e.g. ("model_version_alias", "created")."""
        return str(self.payload.get("entity", "")), str(self.payload.get("action", ""))

    @property
    def data(self) -> dict[str, Any]:
        """The event's data, e.g. {"name", "alias", "version"}."""
        data = self.payload.get("data")
        return data if isinstance(data, dict) else {}


class WebhookReceiver:
    """An HTTP server taking MLflow webhook deliveries; `on_challenger(delivery)` runs in a worker thread, one
    delivery at a time, for each challenger alias set on `model_name`."""

    def __init__(
        self,
        secret: str,
        on_challenger: Callable[[Delivery], Any],
        *,
        model_name: str,
        alias: str = "challenger",
        host: str = "127.0.0.1",
        port: int = 0,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
    ) -> None:
        if not secret:
            raise MlopsError(
                "the webhook receiver needs the webhook's secret: without it any caller could start the loop",
                hint=f"set {SECRET_ENV} to the secret the MLflow webhook was created with",
            )
        self.secret, self.on_challenger = secret, on_challenger
        self.model_name, self.alias, self.tolerance_s = model_name, alias, tolerance_s
        self.results: list[dict[str, Any]] = []  # what each handled delivery led to, in order
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="loop-webhook", daemon=True)
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        """Where MLflow should deliver."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def serve_forever(self) -> None:
        """Serve until `shutdown` (or Ctrl-C in the caller)."""
        self._worker.start()
        try:
            self.server.serve_forever()
        finally:
            self._queue.put(None)

    def start(self) -> WebhookReceiver:
        """Serve in a background thread (for tests and embedding)."""
        threading.Thread(target=self.serve_forever, name="loop-webhook-http", daemon=True).start()
        return self

    def shutdown(self) -> None:
        """Stop serving; the delivery being handled finishes."""
        self.server.shutdown()
        self.server.server_close()

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Block until every accepted delivery has been handled (tests)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)

    def _work(self) -> None:
        while True:
            delivery = self._queue.get()
            try:
                if delivery is None:
                    return
                try:
                    result = self.on_challenger(delivery)
                    outcome = {"delivery_id": delivery.delivery_id, "result": result}
                except Exception as exc:  # a failed run is logged and kept: the receiver serves on
                    log.exception("the loop run for delivery %s failed", delivery.delivery_id)
                    outcome = {"delivery_id": delivery.delivery_id, "error": str(exc)}
                self.results.append(outcome)
            finally:
                self._queue.task_done()

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) for one delivery."""
        try:
            payload = verify(self.secret, headers, body, tolerance_s=self.tolerance_s)
        except WebhookRejected as exc:
            log.warning("refused a webhook delivery: %s", exc.message)
            return 401, {"error": exc.message}
        delivery = Delivery(next(v for k, v in headers.items() if k.lower() == DELIVERY_ID_HEADER.lower()), payload)
        with self._lock:
            if delivery.delivery_id in self._seen:
                return 200, {"duplicate": delivery.delivery_id}
            self._seen[delivery.delivery_id] = None
            while len(self._seen) > _SEEN_LIMIT:
                self._seen.popitem(last=False)
        data = delivery.data
        if delivery.event != ALIAS_CREATED:
            return 200, {"ignored": f"event {'.'.join(delivery.event)}: the loop acts on model_version_alias.created"}
        if data.get("name") != self.model_name or data.get("alias") != self.alias:
            return 200, {
                "ignored": f"alias {data.get('alias')!r} of {data.get('name')!r}: not {self.alias} of {self.model_name}"
            }
        log.info(
            "challenger alias set on %s v%s: starting the loop's shadow stage", data.get("name"), data.get("version")
        )
        self._queue.put(delivery)
        return 202, {"accepted": delivery.delivery_id, "version": data.get("version")}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self._answer(413, {"error": f"body over {MAX_BODY_BYTES} bytes"})
                    return
                body = self.rfile.read(length)
                status, answer = receiver.handle(dict(self.headers.items()), body)
                self._answer(status, answer)

            def do_GET(self) -> None:
                self._answer(200 if self.path in ("/", "/ping") else 404, {"receiver": "mlops loop webhook"})

            def _answer(self, status: int, answer: dict[str, Any]) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                log.info("webhook %s", format % args)

        return Handler


def loop_receiver(settings: Any, secret: str, *, host: str = "127.0.0.1", port: int = 0) -> WebhookReceiver:
    """A receiver that runs `run_loop(settings)`, allowed to take the shadow stage only, for each challenger alias
    set on the settings' model; each run is recorded in the loop's audit like any other."""
    from pipelines.loop import SHADOW, run_loop

    def on_challenger(delivery: Delivery) -> dict[str, Any]:
        step = run_loop(settings, allow={SHADOW})
        log.info("delivery %s: loop stage %s (%s)", delivery.delivery_id, step.stage, step.outcome)
        return step.to_dict()

    return WebhookReceiver(secret, on_challenger, model_name=settings.model_name, host=host, port=port)
