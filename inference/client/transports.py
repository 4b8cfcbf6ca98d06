"""How `IntentClient` reaches an endpoint, and what counts as an answer.

`SageMakerTransport` calls a SageMaker endpoint through boto3's `sagemaker-runtime` `invoke_endpoint`;
`HttpTransport` posts to a container-contract URL (`/invocations`), e.g. the model server running locally. Both
use connect and read timeouts and bounded retries: connection failures and 502/503/504 (throttling) are retried, a
read timeout is not, since the server may still be working on the request and repeating it only adds load and
latency. A transport raises `EndpointRejected` when the endpoint refuses the input, `EndpointError` for anything
else that is not a valid answer.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Protocol

from ml.aws import boto3_client
from ml.taxonomy import INTENTS

_INTENTS = frozenset(INTENTS)
_REJECTED_STATUSES = frozenset({400, 413, 415, 422})


class EndpointError(Exception):
    """The endpoint could not answer (unreachable, timeout, 5xx, malformed response): fall back."""


class EndpointRejected(Exception):
    """The endpoint answered that the input is invalid."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


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
        if not isinstance(data, dict):
            raise ValueError(f"the body is not a JSON object: {type(data).__name__}")
        version = data.get("model_version", "")
        if not isinstance(version, str | int):
            raise ValueError(f"model_version is not a string: {version!r}")
        return EndpointResponse(check_predictions(data["predictions"], expected), str(version))
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise EndpointError(f"malformed endpoint response ({str(exc)[:200]}): {body[:200]!r}") from exc


def check_predictions(predictions: Any, expected: int) -> list[dict[str, Any]]:
    """The endpoint's per-text answers, checked against the taxonomy and the ranges; EndpointError if any is invalid.

    Each answer needs an intent of the taxonomy, a finite confidence in [0, 1] that is that intent's probability,
    and a probability in [0, 1] for every intent of the taxonomy and nothing else. Returned as plain floats.
    """
    try:
        if not isinstance(predictions, list):
            raise ValueError(f"predictions is not a list: {str(predictions)[:100]!r}")
        if len(predictions) != expected:
            raise ValueError(f"expected {expected} predictions, got {len(predictions)}")
        return [_checked(p) for p in predictions]
    except (ValueError, TypeError) as exc:
        raise EndpointError(f"invalid endpoint answer: {str(exc)[:300]}") from exc


# How far an answer's confidence may sit from its intent's probability, and its probabilities' sum from 1
# (float32 softmax, serialised as float64).
_TOLERANCE = 1e-3


def _checked(prediction: Any) -> dict[str, Any]:
    if not isinstance(prediction, dict):
        raise ValueError(f"a prediction is not an object: {str(prediction)[:100]!r}")
    intent, probabilities = prediction.get("intent"), prediction.get("probabilities")
    if not isinstance(intent, str) or intent not in _INTENTS:
        raise ValueError(f"intent {str(intent)[:100]!r} is not one of the taxonomy's intents")
    if not isinstance(probabilities, dict) or set(probabilities) != _INTENTS:
        raise ValueError(f"probabilities must give every intent of the taxonomy: {str(probabilities)[:100]!r}")
    values = {label: _probability(value, f"probabilities[{label!r}]") for label, value in probabilities.items()}
    confidence = _probability(prediction.get("confidence"), "confidence")
    if abs(confidence - values[intent]) > _TOLERANCE or abs(math.fsum(values.values()) - 1.0) > _TOLERANCE:
        raise ValueError("confidence is not the intent's probability, or the probabilities do not sum to 1")
    return {"intent": intent, "confidence": confidence, "probabilities": values}


def _probability(value: Any, name: str) -> float:
    # bool is an int to Python, and a string would pass float(): neither is a probability.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} is not a probability in [0, 1]: {str(value)[:50]!r}")
    return float(value)


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
            total=retries,
            connect=retries,
            read=0,
            other=0,
            status=retries,
            status_forcelist=(502, 503, 504),
            allowed_methods=frozenset({"POST"}),
            backoff_factor=backoff_s,
            raise_on_status=False,
            respect_retry_after_header=False,
        )
        self._pool = urllib3.PoolManager(
            maxsize=pool_size, timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout), retries=retry
        )

    def invoke(self, texts: list[str]) -> EndpointResponse:
        """Classify texts at the URL."""
        import urllib3

        try:
            response = self._pool.request(
                "POST",
                self.url,
                body=_request_body(texts),
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
            # "standard" retry mode retries throttling and connection errors up to max_attempts in total.
            client = boto3_client(
                "sagemaker-runtime",
                region=region_name,
                endpoint_url=endpoint_url,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": max_attempts, "mode": "standard"},
            )
        self._client = client

    def invoke(self, texts: list[str]) -> EndpointResponse:
        """Classify texts on the SageMaker endpoint."""
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {
            "EndpointName": self.endpoint_name,
            "ContentType": "application/json",
            "Accept": "application/json",
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
            raise EndpointError(
                f"{self.endpoint_name}: {error.get('Code', 'ClientError')}: {error.get('Message', exc)}"
            ) from exc
        except BotoCoreError as exc:
            raise EndpointError(f"{self.endpoint_name}: {type(exc).__name__}: {exc}") from exc
        return parse_response(body, len(texts))
