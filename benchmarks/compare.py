"""Side-by-side comparison: several targets measured in interleaved rounds of one run, reported with ratios.

Interleaving (A B C A B C ...) keeps the comparison fair on a machine whose speed drifts: every target sees the
same conditions, and ratios are taken between medians of the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from benchmarks.load import LoadConfig, LoadResult, Target, run_load
from ml.errors import MlopsError
from ml.progress import ProgressCallback


def compare(
    targets: Mapping[str, Target],
    payloads: Sequence[str],
    config: LoadConfig,
    *,
    rounds: int = 3,
    baseline: str | None = None,
    settle_s: float = 0.0,
    round_warmup: int = 0,
    cpu_probes: Mapping[str, Callable[[], float]] | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Run every target for `rounds` interleaved rounds of `config`; return per-target summaries and ratios.

    `settle_s` pauses before each target's round, so that threads the previous target left spinning (onnxruntime
    and OpenMP pools busy-wait after a call) are idle again; `round_warmup` unmeasured requests open every round
    after the first, which warms up with `config.warmup_requests`.

    `cpu_probes` maps a target to a counter of CPU seconds (a server's processes, say), read before and after each of
    its rounds: its summary then has `server_cpu_ms_per_request`, and `client_cpu_ms_per_request` (this process: the
    load generator), both over every request the rounds sent, warm-ups included.

    `on_progress` hears each round of each target (`run_load`'s reports).
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
    probes = dict(cpu_probes or {})
    if unknown := sorted(set(probes) - set(targets)):
        raise MlopsError(f"CPU probes for unknown targets: {', '.join(unknown)}")
    collected: dict[str, list[LoadResult]] = {name: [] for name in targets}
    # target -> [server CPU s, client CPU s, requests sent]
    cpu = {name: [0.0, 0.0, 0] for name in probes}
    for round_index in range(rounds):
        round_config = config if round_index == 0 else replace(config, warmup_requests=round_warmup)
        for name, target in targets.items():
            if settle_s:
                time.sleep(settle_s)
            probe = probes.get(name)
            before = (probe(), time.process_time()) if probe else (0.0, 0.0)
            status = f"round {round_index + 1}/{rounds}: {name}"
            result = run_load(target, payloads, round_config, on_progress=on_progress, task="compare", status=status)
            if probe:
                used = cpu[name]
                used[0] += probe() - before[0]
                used[1] += time.process_time() - before[1]
                used[2] += len(result.samples) + round_config.warmup_requests
            collected[name].append(result)
    summaries = {name: _merge(results) for name, results in collected.items()}
    for name, (server_s, client_s, sent) in cpu.items():
        summaries[name]["server_cpu_ms_per_request"] = round(1000 * server_s / sent, 3)
        summaries[name]["client_cpu_ms_per_request"] = round(1000 * client_s / sent, 3)
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
