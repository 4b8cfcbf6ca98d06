"""Stepwise traffic shifts: give a variant a growing share of an endpoint's traffic, judging each step on the
traffic it served and reverting every weight when a guard is crossed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from inference.deploy.traffic import TrafficSource
from inference.variants import DeploymentError, Guard, weights_for_share

if TYPE_CHECKING:
    from inference.deploy.endpoints import EndpointManager

log = logging.getLogger(__name__)


@dataclass
class ShiftOutcome:
    """What a stepwise shift did: the steps taken, the stats behind each decision, and whether it reverted."""

    endpoint: str
    variant: str
    steps: list[dict[str, Any]]
    completed: bool
    reverted: bool
    reason: str
    original_weights: dict[str, float]
    final_weights: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def shift_schedule(
    manager: EndpointManager,
    endpoint: str,
    variant: str,
    steps: Sequence[float],
    *,
    bake_s: float,
    guard: Guard,
    traffic: TrafficSource,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> ShiftOutcome:
    """Give `variant` each step's percentage in turn, baking between; revert all weights on a guard violation."""
    if bake_s < 0:
        raise DeploymentError(f"bake time must be >= 0 s, got {bake_s}")
    traffic.check_bake(bake_s)  # too short to judge a step on this source: refused before any weight changes
    original = manager.current_weights(endpoint)
    weights_for_share(original, variant, steps[0])  # unknown variant: fail before touching anything
    taken: list[dict[str, Any]] = []
    for percent in steps:
        target = weights_for_share(manager.current_weights(endpoint), variant, percent)
        manager.shift(endpoint, target)
        start = manager.clock()  # the step is judged on traffic served at its weights, after the update finished
        manager.sleep(bake_s)
        stats = traffic.variant_stats(endpoint, list(target), start, manager.clock())
        violations = [v for s in stats.values() for v in s.violations(guard)]
        record = {
            "percent": percent,
            "weights": target,
            "stats": {n: s.to_dict() for n, s in stats.items()},
            "violations": violations,
        }
        taken.append(record)
        if on_step is not None:
            on_step(record)
        if violations:
            manager.shift(endpoint, original)
            reason = f"reverted at {percent:g}%: " + "; ".join(violations)
            log.warning("%s: %s", endpoint, reason)
            return ShiftOutcome(
                endpoint, variant, taken, False, True, reason, original, manager.current_weights(endpoint)
            )
    final = manager.current_weights(endpoint)
    return ShiftOutcome(
        endpoint, variant, taken, True, False, f"{variant} at {steps[-1]:g}% with no guard violation", original, final
    )
