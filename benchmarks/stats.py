"""Exact latency statistics from raw samples (nearest-rank percentiles, no approximation)."""

from __future__ import annotations

from collections.abc import Sequence

from ml.stats import PERCENTILES, nearest_rank


def latency_summary(latencies_s: Sequence[float], *, wall_s: float, errors: int = 0) -> dict[str, float | int | None]:
    """p50/p95/p99/max/mean in ms (nearest-rank, so each is an observed latency), throughput and error count."""
    count = len(latencies_s)
    summary: dict[str, float | int | None] = {"requests": count + errors, "ok": count, "errors": errors}
    summary["throughput_rps"] = round(count / wall_s, 2) if wall_s > 0 else 0.0
    if count == 0:
        return {**summary, **{f"p{p}_ms": None for p in PERCENTILES}, "max_ms": None, "mean_ms": None}
    ms = [latency * 1000.0 for latency in latencies_s]
    for p, value in nearest_rank(ms).items():
        summary[f"p{p}_ms"] = round(value, 3)
    summary["max_ms"] = round(max(ms), 3)
    summary["mean_ms"] = round(sum(ms) / count, 3)
    return summary
