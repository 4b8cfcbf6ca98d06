"""Prometheus metrics of the server, correct with several worker processes.

With `PROMETHEUS_MULTIPROC_DIR` set (the launcher always sets it, to a fresh directory per server run),
prometheus_client writes every worker's values to memory-mapped files there, and `/metrics`, whichever worker
answers it, aggregates all of them: counters and histograms are summed over workers, and `intent_worker_up`
has one series per live worker (its `pid` label). Without it (an app built in-process), the values live in
this process only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


def prepare_multiprocess_dir() -> tuple[Path, bool]:
    """Make `PROMETHEUS_MULTIPROC_DIR` usable before any worker starts; return (dir, whether we created it).

    Must run before prometheus_client is imported in this process: it picks its value store at import.
    """
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        # Files left by an earlier run would be aggregated into this one's numbers.
        for stale in path.glob("*.db"):
            stale.unlink()
        return path, False
    path = Path(tempfile.mkdtemp(prefix="intent-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    return path, True


def remove_multiprocess_dir(path: Path) -> None:
    """Delete a directory made by prepare_multiprocess_dir."""
    shutil.rmtree(path, ignore_errors=True)


class Metrics:
    """The server's metric families, in a private registry so that several apps can live in one process."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values

        self.registry = CollectorRegistry()
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        if self.multiprocess and values.ValueClass is values.MutexValue:
            # prometheus_client picks its value store when first imported; if something imported it before the
            # launcher set the directory, switch to the file-backed store now, before any metric exists.
            values.ValueClass = values.get_value_class()
        r = self.registry
        self.requests = Counter(
            "intent_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.errors = Counter("intent_request_errors", "Rejected or failed requests by reason.", ["reason"], registry=r)
        self.latency = Histogram(
            "intent_http_request_duration_seconds",
            "Request latency by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram("intent_batch_size", "Texts per model call.", buckets=BATCH_BUCKETS, registry=r)
        self.inference = Histogram(
            "intent_inference_duration_seconds",
            "Time of one model call (tokenise + forward).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.waiting = Gauge(
            "intent_requests_waiting",
            "Requests waiting for the model: queued, in a batch filling up, or running.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.texts = Counter("intent_texts", "Texts classified.", registry=r)
        self.predicted = Counter("intent_predictions", "Predicted intents.", ["intent"], registry=r)
        self.worker_up = Gauge(
            "intent_worker_up", "1 per live worker process.", registry=r, multiprocess_mode="liveall"
        )
        self.captures = Counter(
            "intent_capture_records",
            "Answered requests offered to data capture, by outcome: captured, sampled_out, dropped (queue full), "
            "failed (not written).",
            ["outcome"],
            registry=r,
        )
        self.model_info = Gauge(
            "intent_model_info",
            "The model being served.",
            ["model_version", "precision"],
            registry=r,
            multiprocess_mode="max",
        )

    def render(self) -> tuple[bytes, str]:
        """The exposition text of all workers (multiprocess mode) or of this process; and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def worker_exit(self) -> None:
        """Drop this worker's live gauges from the aggregate."""
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())
