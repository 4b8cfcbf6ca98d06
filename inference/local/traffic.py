"""Per-variant traffic of the local endpoint: time-stamped latencies and intents, crashes, rejected inputs."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Sequence
from typing import Any

from inference.variants import VariantStats

# Latency samples (and error timestamps) kept per variant: enough for minutes of traffic at hundreds of req/s.
SAMPLE_CAPACITY = 200_000


class VariantTraffic:
    """One variant's traffic: time-stamped latency samples and intents (bounded), model crashes, rejected inputs."""

    def __init__(self, capacity: int = SAMPLE_CAPACITY) -> None:
        self.samples: deque[tuple[float, float, tuple[str, ...]]] = deque(maxlen=capacity)
        self.errors: deque[float] = deque(maxlen=capacity)
        self.client_errors: deque[float] = deque(maxlen=capacity)

    def record(self, latency_ms: float, intents: Sequence[str]) -> None:
        """An answered request."""
        self.samples.append((time.time(), latency_ms, tuple(intents)))

    def record_error(self) -> None:
        """The model crashed on a request (a 5XX from the model container)."""
        self.errors.append(time.time())

    def record_client_error(self) -> None:
        """The model rejected a request's input (a 4XX from the model container)."""
        self.client_errors.append(time.time())

    def summary(self, variant: str, since: float, *, with_latencies: bool = False) -> dict[str, Any]:
        """Stats of the requests since `since`: VariantStats fields plus rejected inputs and predicted intents (and
        the answered requests' latencies, in order, when asked)."""
        latencies: list[float] = []
        predictions: Counter[str] = Counter()
        for at, latency_ms, intents in self.samples:
            if at >= since:
                latencies.append(latency_ms)
                predictions.update(intents)
        errors = sum(1 for at in self.errors if at >= since)
        stats = VariantStats.from_samples(variant, latencies, errors)
        client_errors = sum(1 for at in self.client_errors if at >= since)
        summary = {**stats.to_dict(), "client_errors": client_errors, "predictions": dict(predictions.most_common())}
        if with_latencies:
            summary["latencies_ms"] = [round(value, 3) for value in latencies]
        return summary
