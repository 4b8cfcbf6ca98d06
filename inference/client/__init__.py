"""How other services call the classifier: `IntentClient`, with a circuit breaker and fallbacks to a local ONNX
model and a keyword heuristic (`client`, `transports`, `circuit`, `heuristic`)."""

from inference.client.client import IntentClient, IntentRequestError, IntentUnavailableError, Prediction

__all__ = ["IntentClient", "IntentRequestError", "IntentUnavailableError", "Prediction"]
