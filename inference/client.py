"""`IntentClient`: how other services call the classifier, with fallbacks.

Order of attempts for each request: the endpoint (unless its circuit is open), then a local ONNX model
(`OnnxPredictor`), then the keyword heuristic. Every prediction says which one answered in `source`
(`endpoint`, `local_onnx` or `heuristic`).

The endpoint transport is pluggable: `SageMakerTransport` calls a real SageMaker endpoint through boto3's
`sagemaker-runtime` `invoke_endpoint`; `HttpTransport` posts to a container-contract URL (`/invocations`),
e.g. the model server running locally. Both use connect and read timeouts and bounded retries: connection
failures and 502/503/504 (throttling) are retried, a read timeout is not, since the server may still be
working on the request and repeating it only adds load and latency.

An input the endpoint rejects (4xx from the model server) is the caller's error: it raises
`IntentRequestError` and does not count against the endpoint. Everything else (unreachable, timeout, 5xx,
malformed answer) counts as an endpoint failure and falls back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from inference import heuristic
from inference.circuit import CircuitBreaker

log = logging.getLogger(__name__)

ENDPOINT, LOCAL_ONNX, HEURISTIC = "endpoint", "local_onnx", "heuristic"
_REJECTED_STATUSES = frozenset({400, 413, 415, 422})


class IntentRequestError(ValueError):
    """The input is invalid (checked locally, or rejected by the endpoint with a 4xx)."""


class IntentUnavailableError(RuntimeError):
    """No path could classify: the endpoint failed, and no local model or heuristic was available."""


class EndpointError(Exception):
    """The endpoint could not answer (unreachable, timeout, 5xx, malformed response): fall back."""


class EndpointRejected(Exception):
    """The endpoint answered that the input is invalid."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Prediction:
    """One text's classification and which path produced it."""

    intent: str
    confidence: float
    probabilities: dict[str, float]
    source: str
    model_version: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


@dataclass(frozen=True)
class EndpointResponse:
    """What a transport returns: per-text results and the model version that produced them."""

    predictions: list[dict[str, Any]]
    model_version: str


class Transport(Protocol):
    """Sends texts to an endpoint and returns its predictions, raising EndpointError / EndpointRejected."""

    def invoke(self, texts: list[str]) -> EndpointResponse:
        """Classify texts remotely."""
        ...


def parse_response(body: bytes, expected: int) -> EndpointResponse:
    """Validate a `{"predictions": [...], "model_version": ...}` body; anything else is an EndpointError."""
    try:
        data = json.loads(body)
        predictions = data["predictions"]
        if not isinstance(predictions, list):
            raise ValueError(f"predictions is not a list: {predictions!r}")
        if len(predictions) != expected:
            raise ValueError(f"expected {expected} predictions, got {len(predictions)}")
        for p in predictions:
            if not (isinstance(p, dict) and isinstance(p.get("intent"), str) and isinstance(p.get("probabilities"), dict)):
                raise ValueError(f"malformed prediction {str(p)[:100]!r}")
            float(p["confidence"])
        return EndpointResponse(predictions, str(data.get("model_version", "")))
    except (ValueError, KeyError, TypeError) as exc:
        raise EndpointError(f"malformed endpoint response ({exc}): {body[:200]!r}") from exc


def _error_message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("error", ""))[:500] or body[:200].decode("utf-8", "replace")
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


def _request_body(texts: list[str]) -> bytes:
    return json.dumps({"inputs": texts}, ensure_ascii=False).encode("utf-8")


class HttpTransport:
    """POST to a SageMaker-contract container (`{url}/invocations`) with urllib3."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 1.0,
        read_timeout: float = 5.0,
        retries: int = 1,
        backoff_s: float = 0.05,
        pool_size: int = 8,
    ) -> None:
        import urllib3

        base = url.rstrip("/")
        self.url = base if base.endswith("/invocations") else f"{base}/invocations"
        retry = urllib3.Retry(
            total=retries, connect=retries, read=0, other=0, status=retries,
            status_forcelist=(502, 503, 504), allowed_methods=frozenset({"POST"}),
            backoff_factor=backoff_s, raise_on_status=False, respect_retry_after_header=False,
        )
        self._pool = urllib3.PoolManager(
            maxsize=pool_size, timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout), retries=retry
        )

    def invoke(self, texts: list[str]) -> EndpointResponse:
        """Classify texts at the URL."""
        import urllib3

        try:
            response = self._pool.request(
                "POST", self.url, body=_request_body(texts),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
        except urllib3.exceptions.HTTPError as exc:
            raise EndpointError(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        if response.status == 200:
            return parse_response(response.data, len(texts))
        message = _error_message(response.data)
        if response.status in _REJECTED_STATUSES:
            raise EndpointRejected(response.status, message)
        raise EndpointError(f"{self.url}: HTTP {response.status}: {message}")


class SageMakerTransport:
    """boto3 `sagemaker-runtime` `invoke_endpoint` on a named endpoint (optionally at `endpoint_url`)."""

    def __init__(
        self,
        endpoint_name: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        connect_timeout: float = 1.0,
        read_timeout: float = 5.0,
        max_attempts: int = 2,
        target_variant: str | None = None,
        client: Any = None,
    ) -> None:
        self.endpoint_name = endpoint_name
        self.target_variant = target_variant
        if client is None:
            import boto3
            from botocore.config import Config

            # "standard" retry mode retries throttling and connection errors up to max_attempts in total.
            config = Config(
                connect_timeout=connect_timeout, read_timeout=read_timeout,
                retries={"max_attempts": max_attempts, "mode": "standard"},
            )
            if endpoint_url and boto3.Session().get_credentials() is None:
                from botocore import UNSIGNED

                # The local A/B endpoint needs no signature; without credentials boto3 could not sign at all.
                config = config.merge(Config(signature_version=UNSIGNED))
            client = boto3.client("sagemaker-runtime", endpoint_url=endpoint_url, region_name=region_name, config=config)
        self._client = client

    def invoke(self, texts: list[str]) -> EndpointResponse:
        """Classify texts on the SageMaker endpoint."""
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {
            "EndpointName": self.endpoint_name, "ContentType": "application/json", "Accept": "application/json",
            "Body": _request_body(texts),
        }
        if self.target_variant:
            kwargs["TargetVariant"] = self.target_variant
        try:
            response = self._client.invoke_endpoint(**kwargs)
            body = response["Body"].read()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            original = exc.response.get("OriginalStatusCode")
            # ModelError carries the container's own status: a 4xx there means our input was refused. Other
            # codes (ValidationError for an unknown endpoint, throttling, 5xx) are the endpoint's failure.
            if error.get("Code") == "ModelError" and original in _REJECTED_STATUSES:
                message = _error_message(str(exc.response.get("OriginalMessage", "")).encode())
                raise EndpointRejected(int(original), message) from exc
            raise EndpointError(f"{self.endpoint_name}: {error.get('Code', 'ClientError')}: {error.get('Message', exc)}") from exc
        except BotoCoreError as exc:
            raise EndpointError(f"{self.endpoint_name}: {type(exc).__name__}: {exc}") from exc
        return parse_response(body, len(texts))


class IntentClient:
    """Classify texts through the endpoint, falling back to a local ONNX model, then to the heuristic."""

    def __init__(
        self,
        transport: Transport | None = None,
        *,
        local_model_dir: Path | str | None = None,
        local_variant: str = "int8",
        local_threads: int = 1,
        breaker: CircuitBreaker | None = None,
        use_heuristic: bool = True,
        max_inputs_per_request: int = 64,
    ) -> None:
        self.transport = transport
        self.breaker = breaker or CircuitBreaker()
        self.use_heuristic = use_heuristic
        self.max_inputs_per_request = max_inputs_per_request
        self.local: Any = None
        if local_model_dir is not None:
            # Loaded up front: the first fallback happens when things are already going wrong, the worst time to
            # pay for loading. One thread by default, since the client lives inside someone else's service.
            try:
                from inference.predictor import OnnxPredictor

                self.local = OnnxPredictor(local_model_dir, variant=local_variant, intra_op_threads=local_threads)
            except Exception:  # noqa: BLE001 - a broken fallback must not break the client
                log.exception("local fallback model %s could not be loaded; falling back to the heuristic only", local_model_dir)

    @classmethod
    def for_sagemaker(cls, endpoint_name: str, *, endpoint_url: str | None = None, region_name: str | None = None,
                      connect_timeout: float = 1.0, read_timeout: float = 5.0, max_attempts: int = 2,
                      target_variant: str | None = None, **kwargs: Any) -> IntentClient:
        """A client for a SageMaker endpoint (boto3 sagemaker-runtime)."""
        transport = SageMakerTransport(
            endpoint_name, endpoint_url=endpoint_url, region_name=region_name, connect_timeout=connect_timeout,
            read_timeout=read_timeout, max_attempts=max_attempts, target_variant=target_variant,
        )
        return cls(transport, **kwargs)

    @classmethod
    def for_url(cls, url: str, *, connect_timeout: float = 1.0, read_timeout: float = 5.0, retries: int = 1,
                **kwargs: Any) -> IntentClient:
        """A client for a container-contract URL (the model server)."""
        return cls(HttpTransport(url, connect_timeout=connect_timeout, read_timeout=read_timeout, retries=retries), **kwargs)

    def classify_one(self, text: str) -> Prediction:
        """Classify one text."""
        return self.classify([text])[0]

    def classify(self, texts: str | Sequence[str]) -> list[Prediction]:
        """Classify texts (a string counts as one); requests are split at max_inputs_per_request."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise IntentRequestError(f"texts[{i}] must be a string, not {type(text).__name__}")
            if not text.strip():
                raise IntentRequestError(f"texts[{i}] is empty")
        out: list[Prediction] = []
        for start in range(0, len(texts), self.max_inputs_per_request):
            out.extend(self._classify_chunk(texts[start : start + self.max_inputs_per_request]))
        return out

    def _classify_chunk(self, texts: list[str]) -> list[Prediction]:
        if self.transport is not None:
            if self.breaker.allow():
                try:
                    response = self.transport.invoke(texts)
                except EndpointRejected as exc:
                    self.breaker.record_success()  # the endpoint is alive; the input is the problem
                    raise IntentRequestError(f"the endpoint rejected the input: {exc.message}") from exc
                except Exception as exc:  # noqa: BLE001 - any transport failure means: fall back
                    self.breaker.record_failure()
                    log.warning("endpoint failed, falling back: %s", exc)
                else:
                    self.breaker.record_success()
                    return _predictions(response.predictions, ENDPOINT, response.model_version)
            else:
                log.debug("circuit open: skipping the endpoint")
        if self.local is not None:
            try:
                return _predictions(self.local.predict(texts), LOCAL_ONNX, self.local.model_version)
            except Exception:  # noqa: BLE001 - fall through to the heuristic
                log.exception("local ONNX fallback failed")
        if self.use_heuristic:
            return _predictions(heuristic.classify_many(texts), HEURISTIC, heuristic.VERSION)
        raise IntentUnavailableError("the endpoint failed and no local model or heuristic is available")


def _predictions(results: list[dict[str, Any]], source: str, model_version: str) -> list[Prediction]:
    return [
        Prediction(
            intent=r["intent"], confidence=float(r["confidence"]),
            probabilities={k: float(v) for k, v in r["probabilities"].items()}, source=source, model_version=model_version,
        )
        for r in results
    ]
