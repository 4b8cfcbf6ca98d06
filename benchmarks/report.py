"""Human-readable benchmark tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COLUMNS = ("requests", "errors", "throughput_rps", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def format_table(rows: dict[str, dict[str, Any]]) -> str:
    """A fixed-width table: one row per named summary (a target, or a variant)."""
    width = max([len("target"), *map(len, rows)])
    lines = [f"{'target':<{width}}  " + "  ".join(f"{c:>14}" for c in COLUMNS)]
    for name, summary in rows.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{_fmt(summary.get(c)):>14}" for c in COLUMNS))
    return "\n".join(lines)


def format_summary(summary: dict[str, Any], *, name: str = "target") -> str:
    """The overall row plus one row per variant, and the generator's own overhead."""
    rows = {name: summary, **{f"  variant {v}": s for v, s in summary.get("variants", {}).items()}}
    extra = f"generator overhead {summary['generator_overhead_us']:.1f} us/request"
    if summary.get("schedule_lag_p99_ms") is not None:
        extra += f", schedule lag p99 {summary['schedule_lag_p99_ms']:.2f} ms"
    return format_table(rows) + "\n" + extra


def format_comparison(result: dict[str, Any]) -> str:
    """A comparison's table and each target's ratios to the baseline."""
    rows = result["targets"]
    lines = [format_table(rows), "", f"ratios vs {result['baseline']} (p50, p95, throughput):"]
    for name, summary in rows.items():
        r = summary["ratios_vs_baseline"]
        lines.append(f"  {name:<20} {r['p50_ms']}x  {r['p95_ms']}x  {r['throughput_rps']}x")
    return "\n".join(lines)


def emit_json(document: dict[str, Any], out: Path | None = None) -> None:
    """Print a benchmark's result as JSON and, given a path, write the same text there."""
    text = json.dumps(document, indent=2, sort_keys=True)
    if out is not None:
        out.write_text(text + "\n")
    print(text)
