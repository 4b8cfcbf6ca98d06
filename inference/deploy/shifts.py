"""Stepwise traffic shifts: give a variant a growing share of an endpoint's traffic, judging each step on the
traffic it served and reverting every weight when a guard is crossed.

A step is judged only on evidence: each variant with traffic must have served the guard's `min_invocations`
requests. Fewer extend the bake, a bake at a time, up to `max_bake_s`; a step still short of them then reverts every
weight ("insufficient evidence"), as a crossed guard does. No traffic is never a pass.

A shift stopped part-way (Ctrl-C, a SIGTERM its caller raises as KeyboardInterrupt, a failed call) puts the starting
weights back before it gives up (`ShiftInterrupted`), so that no endpoint is left at an intermediate step that no
record names.

Each step is a weight shift in the endpoint's change history, and a revert is one record that undoes them all: a
rollback after a reverted shift goes back past the whole schedule, and after a completed one, a step at a time.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from inference.deploy.traffic import TrafficSource
from inference.variants import DeploymentError, Guard, weights_for_share
from ml.errors import first_line
from ml.progress import Progress, ProgressCallback, report

if TYPE_CHECKING:
    from inference.deploy.endpoints import EndpointManager

log = logging.getLogger(__name__)


class ShiftInterrupted(DeploymentError):
    """A stepwise shift stopped part-way; its message says whether the starting weights are back."""


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
    max_bake_s: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> ShiftOutcome:
    """Give `variant` each step's percentage in turn, baking between; revert all weights on a guard violation or
    when a step's longest bake (`max_bake_s`, default 3 bakes) brings too few requests to judge it.

    With `on_progress`, a bake reports the traffic each variant has served so far every `traffic.refresh_s`, with
    the guard it will be judged by; the step is judged, as without it, on the traffic read once the bake is over.
    """
    if bake_s < 0:
        raise DeploymentError(f"bake time must be >= 0 s, got {bake_s}")
    longest = 3 * bake_s if max_bake_s is None else max_bake_s
    if longest < bake_s:
        raise DeploymentError(
            f"the longest bake ({longest:g} s) is shorter than a bake ({bake_s:g} s)",
            hint=f"give --max-bake-seconds {bake_s:g} or more",
        )
    traffic.check_bake(bake_s)  # too short to judge a step on this source: refused before any weight changes
    original = manager.current_weights(endpoint)
    weights_for_share(original, variant, steps[0])  # unknown variant: fail before touching anything
    mark = manager.history_mark(endpoint)  # a revert undoes the steps recorded after it, in one history record
    taken: list[dict[str, Any]] = []
    percent = steps[0]
    task = f"shift {endpoint}"
    try:
        for number, percent in enumerate(steps, 1):
            target = weights_for_share(manager.current_weights(endpoint), variant, percent)
            manager.shift(endpoint, target)
            start = manager.clock()  # the step is judged on traffic served at its weights, after the update finished
            baked, pause = 0.0, bake_s
            bake = _Bake(manager, traffic, endpoint, target, start, guard, on_progress)
            status = f"{variant} at {percent:g}% (step {number}/{len(steps)}): baking"
            while True:  # a bake, then more while too few requests came and the longest bake allows
                bake.sleep(task, status, baked, pause, bake_s if baked == 0 else longest)
                baked += pause
                stats = traffic.variant_stats(endpoint, list(target), start, manager.clock())
                short = guard.missing_evidence(target, stats)
                if not short or baked >= longest:
                    break
                pause = min(max(bake_s, 1.0), longest - baked)
                status = f"{variant} at {percent:g}% (step {number}/{len(steps)}): baking on, too few requests"
                log.info("%s at %g%%: %s; baking on (%g of %g s)", variant, percent, "; ".join(short), baked, longest)
            violations = [v for s in stats.values() for v in s.violations(guard)]
            if short:
                violations.append(f"insufficient evidence after {baked:g} s: " + "; ".join(short))
            record = {
                "percent": percent,
                "weights": target,
                "baked_s": baked,
                "stats": {n: s.to_dict() for n, s in stats.items()},
                "violations": violations,
            }
            taken.append(record)
            if on_step is not None:
                on_step(record)
            if violations:
                manager.shift(endpoint, original, reverts_since=mark)
                reason = f"reverted at {percent:g}%: " + "; ".join(violations)
                log.warning("%s: %s", endpoint, reason)
                report(on_progress, Progress(task, f"reverted at {percent:g}%", done=True))
                return ShiftOutcome(
                    endpoint, variant, taken, False, True, reason, original, manager.current_weights(endpoint)
                )
    except BaseException as exc:  # Ctrl-C and SIGTERM too: whatever stops the shift, the weights go back first
        raise _revert_interrupted(manager, endpoint, original, f"at {percent:g}%", exc, mark) from exc
    final = manager.current_weights(endpoint)
    report(on_progress, Progress(task, f"{variant} at {steps[-1]:g}%", done=True))
    return ShiftOutcome(
        endpoint,
        variant,
        taken,
        True,
        False,
        f"{variant} at {steps[-1]:g}%: every step judged on enough requests, no guard violated",
        original,
        final,
    )


@dataclass
class _Bake:
    """A step's bake: a sleep that, given a progress callback, reports the traffic served so far as it goes."""

    manager: EndpointManager
    traffic: TrafficSource
    endpoint: str
    weights: dict[str, float]
    start: float
    guard: Guard
    on_progress: ProgressCallback | None

    def sleep(self, task: str, status: str, baked: float, pause: float, total: float) -> None:
        """Sleep `pause` seconds of the bake (`baked` seconds done, `total` planned), reporting as it goes."""
        if self.on_progress is None:
            self.manager.sleep(pause)
            return
        ticks = max(1, math.ceil(pause / self.traffic.refresh_s))
        for tick in range(ticks):
            report(self.on_progress, Progress(task, status, baked + tick * pause / ticks, total, self.figures()))
            self.manager.sleep(pause / ticks)

    def figures(self) -> str:
        """Each variant's requests, errors and p95 so far, and the guard a step is judged by."""
        try:
            stats = self.traffic.variant_stats(self.endpoint, list(self.weights), self.start, self.manager.clock())
        except DeploymentError as exc:  # e.g. no CloudWatch minute published yet
            served = first_line(exc)
        else:
            served = ", ".join(
                f"{name} {s.invocations} req {s.errors} err p95 "
                + (f"{s.p95_ms:g} ms" if s.p95_ms is not None else "-")
                for name, s in stats.items()
                if self.weights.get(name, 0) > 0 or s.invocations
            )
        g = self.guard
        return (
            f"{served}; judged on >= {g.min_invocations} req each, errors <= {g.max_error_rate:.1%}, "
            f"p95 <= {g.max_p95_ms:g} ms"
        )


def _revert_interrupted(
    manager: EndpointManager, endpoint: str, original: dict[str, float], where: str, cause: BaseException, mark: int
) -> ShiftInterrupted:
    """Put `original` back on `endpoint` after a shift stopped `where`; the error that says what happened."""
    interrupted = isinstance(cause, KeyboardInterrupt)  # Ctrl-C, or SIGTERM raised as one ("SIGTERM")
    why = (str(cause) or "Ctrl-C") if interrupted else f"{type(cause).__name__}: {cause}"
    weights = ",".join(f"{name}={weight:g}" for name, weight in original.items())
    stopped = f"shift of {endpoint} stopped {where} by {why}"
    try:
        manager.wait(endpoint)  # an update in progress must end before another starts
        manager.shift(endpoint, original, reverts_since=mark)
    except BaseException as failure:  # noqa: BLE001 - a second Ctrl-C too: say which weights to restore
        log.error("%s; could not restore the starting weights %s: %s", stopped, weights, failure)
        return ShiftInterrupted(
            f"{stopped}; the starting weights {weights} could not be restored ({type(failure).__name__}: {failure})",
            hint=f"restore them with: mlops endpoint shift {endpoint} --weights {weights}",
        )
    log.warning("%s; starting weights %s restored", stopped, weights)
    return ShiftInterrupted(f"{stopped}; reverted to the starting weights {weights}")
