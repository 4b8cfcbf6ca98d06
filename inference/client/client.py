"""`IntentClient`: how other services call the classifier, with fallbacks.

Order of attempts for each request: the endpoint (unless its circuit is open), then a local ONNX model
(`OnnxPredictor`), then the keyword heuristic. Every prediction says which one answered in `source`
(`endpoint`, `local_onnx` or `heuristic`).

An input the endpoint rejects (4xx from the model server) is the caller's error: it raises
`IntentRequestError` and does not count against the endpoint. Everything else (unreachable, timeout, 5xx,
malformed answer, an answer outside the taxonomy or the probability ranges) counts as an endpoint failure and
falls back. How requests reach the endpoint, and what counts as an answer: `inference.client.transports`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from inference.client import heuristic
from inference.client.circuit import CircuitBreaker
from inference.client.transports import (
    EndpointRejected,
    HttpTransport,
    SageMakerTransport,
    Transport,
    check_predictions,
)

log = logging.getLogger(__name__)

ENDPOINT, LOCAL_ONNX, HEURISTIC = "endpoint", "local_onnx", "heuristic"


class IntentRequestError(ValueError):
    """The input is invalid (checked locally, or rejected by the endpoint with a 4xx)."""


class IntentUnavailableError(RuntimeError):
    """No path could classify: the endpoint failed, and no local model or heuristic was available."""


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


class IntentClient:
    """Classify texts through the endpoint, falling back to a local ONNX model, then to the heuristic."""

    def __init__(
        self,
        transport: Transport | None = None,
        *,
        local_model_dir: Path | str | None = None,
        local_precision: str = "int8",
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

                self.local = OnnxPredictor(local_model_dir, precision=local_precision, intra_op_threads=local_threads)
            except Exception:
                log.exception(
                    "local fallback model %s could not be loaded; falling back to the heuristic only", local_model_dir
                )

    @classmethod
    def for_sagemaker(
        cls,
        endpoint_name: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        connect_timeout: float = 1.0,
        read_timeout: float = 5.0,
        max_attempts: int = 2,
        target_variant: str | None = None,
        **kwargs: Any,
    ) -> IntentClient:
        """A client for a SageMaker endpoint (boto3 sagemaker-runtime)."""
        transport = SageMakerTransport(
            endpoint_name,
            endpoint_url=endpoint_url,
            region_name=region_name,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_attempts=max_attempts,
            target_variant=target_variant,
        )
        return cls(transport, **kwargs)

    @classmethod
    def for_url(
        cls, url: str, *, connect_timeout: float = 1.0, read_timeout: float = 5.0, retries: int = 1, **kwargs: Any
    ) -> IntentClient:
        """A client for a container-contract URL (the model server)."""
        return cls(
            HttpTransport(url, connect_timeout=connect_timeout, read_timeout=read_timeout, retries=retries), **kwargs
        )

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
                    # Checked here too, whatever the transport: an invalid answer is never returned as the endpoint's.
                    answers = check_predictions(response.predictions, len(texts))
                except EndpointRejected as exc:
                    self.breaker.record_success()  # the endpoint is alive; the input is the problem
                    raise IntentRequestError(f"the endpoint rejected the input: {exc.message}") from exc
                except Exception as exc:  # noqa: BLE001 - any transport failure or invalid answer means: fall back
                    self.breaker.record_failure()
                    log.warning("endpoint failed, falling back: %s", exc)
                else:
                    self.breaker.record_success()
                    return _predictions(answers, ENDPOINT, str(response.model_version))
            else:
                log.debug("circuit open: skipping the endpoint")
        if self.local is not None:
            try:
                return _predictions(self.local.predict(texts), LOCAL_ONNX, self.local.model_version)
            except Exception:
                log.exception("local ONNX fallback failed")
        if self.use_heuristic:
            return _predictions(heuristic.classify_many(texts), HEURISTIC, heuristic.VERSION)
        raise IntentUnavailableError("the endpoint failed and no local model or heuristic is available")


def _predictions(results: list[dict[str, Any]], source: str, model_version: str) -> list[Prediction]:
    return [
        Prediction(
            intent=r["intent"],
            confidence=float(r["confidence"]),
            probabilities={k: float(v) for k, v in r["probabilities"].items()},
            source=source,
            model_version=model_version,
        )
        for r in results
    ]
