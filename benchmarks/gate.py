"""The latency gate: p95 within budget and no failed request."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ml.settings import P95_BUDGET_MS


@dataclass(frozen=True)
class GateVerdict:
    """Whether a benchmark passed the gate, and why not."""

    passed: bool
    p95_ms: float | None
    budget_ms: float
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)


def latency_gate(summary: dict[str, Any], budget_ms: float = P95_BUDGET_MS) -> GateVerdict:
    """Fail when p95 exceeds the budget, when any request failed, or when nothing was measured."""
    reasons = []
    p95 = summary.get("p95_ms")
    if summary.get("errors"):
        reasons.append(
            f"{summary['errors']} of {summary['requests']} requests failed: {summary.get('errors_by_type', {})}"
        )
    if p95 is None and summary.get("errors") and _all_unanswered(summary.get("errors_by_type") or {}):
        reasons.append(
            "no request got an answer: the target could not be reached (check that it is running, and the URL, "
            "port and network from the load generator)"
        )
    elif p95 is None:
        reasons.append("no successful request to measure")
    elif p95 > budget_ms:
        reasons.append(f"p95 latency {p95:.1f} ms exceeds the budget of {budget_ms:.1f} ms")
    return GateVerdict(not reasons, p95, budget_ms, reasons)


# Errors that mean no answer came back at all (names of the network exceptions the targets record).
_UNANSWERED = ("Connection", "Timeout", "timeout", "gaierror", "EndpointConnectionError", "RemoteDisconnected")


def _all_unanswered(errors_by_type: dict[str, int]) -> bool:
    return bool(errors_by_type) and all(any(mark in name for mark in _UNANSWERED) for name in errors_by_type)
