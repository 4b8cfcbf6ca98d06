"""Side-by-side comparison: several targets measured in interleaved rounds of one run, reported with ratios.

Interleaving (A B C A B C ...) keeps the comparison fair on a machine whose speed drifts: every target sees the
same conditions, and ratios are taken between medians of the same run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from benchmarks.load import LoadConfig, LoadResult, Target, run_load
from ml.errors import MlopsError


def compare(
    targets: dict[str, Target],
    payloads: Sequence[str],
    config: LoadConfig,
    *,
    rounds: int = 3,
    baseline: str | None = None,
    settle_s: float = 0.0,
    round_warmup: int = 0,
) -> dict[str, Any]:
    """Run every target for `rounds` interleaved rounds of `config`; return per-target summaries and ratios.

    `settle_s` pauses before each target's round, so that threads the previous target left spinning (onnxruntime
    and OpenMP pools busy-wait after a call) are idle again; `round_warmup` unmeasured requests open every round
    after the first, which warms up with `config.warmup_requests`.
    """
    if not targets:
        raise MlopsError("nothing to compare: give at least one target")
    baseline = baseline or next(iter(targets))
    if baseline not in targets:
        raise MlopsError(f"baseline {baseline!r} is not one of the targets: {', '.join(targets)}")
    if rounds < 1:
        raise MlopsError("rounds must be >= 1")
    if settle_s < 0 or round_warmup < 0:
        raise MlopsError("settle time and per-round warm-up cannot be negative")
    collected: dict[str, list[LoadResult]] = {name: [] for name in targets}
    for round_index in range(rounds):
        round_config = config if round_index == 0 else replace(config, warmup_requests=round_warmup)
        for name, target in targets.items():
            if settle_s:
                time.sleep(settle_s)
            collected[name].append(run_load(target, payloads, round_config))
    summaries = {name: _merge(results) for name, results in collected.items()}
    base = summaries[baseline]
    for summary in summaries.values():
        summary["ratios_vs_baseline"] = {
            key: _ratio(summary.get(key), base.get(key)) for key in ("p50_ms", "p95_ms", "p99_ms", "throughput_rps")
        }
    return {"baseline": baseline, "rounds": rounds, "targets": summaries}


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return round(value / reference, 3)


def _merge(results: list[LoadResult]) -> dict[str, Any]:
    """Pool the samples of all rounds into one summary (throughput over the summed wall time)."""
    first = results[0]
    pooled = LoadResult(
        samples=[s for r in results for s in r.samples],
        wall_s=sum(r.wall_s for r in results),
        config=first.config,
        overhead_us=sum(r.overhead_us for r in results) / len(results),
    )
    return pooled.summary()
