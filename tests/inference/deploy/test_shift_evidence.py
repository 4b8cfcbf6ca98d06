"""A stepwise shift judges a step only on enough requests: too few extend the bake, then revert every weight.

The endpoint here is a stand-in with a clock that moves only while a step bakes, so the rule is checked to the
request; tests/test_endpoint_flow.py runs it on the real local endpoint.
"""

from __future__ import annotations

from typing import Any

import pytest

from inference.deploy.shifts import shift_schedule
from inference.variants import DeploymentError, Guard, VariantStats
from ml.progress import Progress


class Endpoint:
    """Weights, a clock that moves only in sleep(), and requests arriving at `rate` per second per variant with
    traffic, starting `quiet_s` seconds after each weight change."""

    refresh_s = 5.0  # a bake reports the traffic so far every 5 s (with on_progress)

    def __init__(self, rate: float, quiet_s: float = 0.0) -> None:
        self.weights = {"champion": 90.0, "challenger": 10.0}
        self.now, self.rate, self.quiet_s, self.changed = 0.0, rate, quiet_s, 0.0
        self.slept: list[float] = []
        self.reverts: list[int | None] = []  # per shift, the history mark it reverts to (None: a step)

    def current_weights(self, endpoint: str) -> dict[str, float]:
        return dict(self.weights)

    def shift(self, endpoint: str, weights: dict[str, float], reverts_since: int | None = None) -> dict[str, float]:
        self.weights, self.changed = dict(weights), self.now
        self.reverts.append(reverts_since)
        return dict(weights)

    def history_mark(self, endpoint: str) -> int:
        return 7

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def wait(self, endpoint: str) -> None:
        pass

    def check_bake(self, bake_s: float) -> None:
        pass

    def variant_stats(self, endpoint: str, variants: list[str], since: float, until: float) -> dict[str, VariantStats]:
        served = max(0.0, until - max(since, self.changed + self.quiet_s))
        return {
            name: VariantStats(name, int(served * self.rate) if self.weights[name] > 0 else 0, 0, 1.0, 2.0, 3.0)
            for name in variants
        }


def _shift(endpoint: Endpoint, **options: Any) -> Any:
    guard = Guard(max_error_rate=0.01, min_invocations=30)
    return shift_schedule(endpoint, "ab", "challenger", [50, 100], traffic=endpoint, guard=guard, **options)


def test_no_traffic_is_never_a_pass_the_step_bakes_on_then_reverts() -> None:
    endpoint = Endpoint(rate=0.0)
    outcome = _shift(endpoint, bake_s=10)
    assert outcome.reverted and not outcome.completed and len(outcome.steps) == 1
    assert endpoint.slept == [10, 10, 10]  # the bake, then two more up to the default longest bake (3 bakes)
    assert "insufficient evidence after 30 s" in outcome.reason
    assert "challenger served 0 of the 30 requests a step needs" in outcome.reason
    assert endpoint.weights == {"champion": 90.0, "challenger": 10.0}
    assert endpoint.reverts == [None, 7]  # one step, then the revert of what followed the history mark


def test_a_step_short_of_requests_bakes_until_it_has_them() -> None:
    endpoint = Endpoint(rate=2.0, quiet_s=10)  # 30 requests need 15 s of traffic: 25 s after each change
    outcome = _shift(endpoint, bake_s=10, max_bake_s=40)
    assert outcome.completed and not outcome.reverted
    assert [step["baked_s"] for step in outcome.steps] == [30, 30]
    # At 100 % the champion has no traffic: only the variants that can be sent requests must have served them.
    assert outcome.steps[1]["stats"]["challenger"]["invocations"] == 40
    assert endpoint.weights == {"champion": 0.0, "challenger": 100.0}


def test_the_longest_bake_is_a_limit_and_must_hold_a_bake() -> None:
    endpoint = Endpoint(rate=1.0)  # 30 requests take 30 s: a longest bake of 25 s is too short
    outcome = _shift(endpoint, bake_s=10, max_bake_s=25)
    assert outcome.reverted and endpoint.slept == [10, 10, 5]
    assert "challenger served 25 of the 30" in outcome.reason
    with pytest.raises(DeploymentError, match="shorter than a bake"):
        _shift(Endpoint(rate=1.0), bake_s=10, max_bake_s=5)


def test_enough_requests_at_the_first_bake_take_no_longer() -> None:
    endpoint = Endpoint(rate=100.0)
    outcome = _shift(endpoint, bake_s=1)
    assert outcome.completed and endpoint.slept == [1, 1]
    assert "every step judged on enough requests" in outcome.reason


def test_a_bake_reports_the_traffic_so_far_and_the_guard_it_is_judged_by() -> None:
    endpoint = Endpoint(rate=2.0, quiet_s=10)
    reports: list[Progress] = []
    outcome = _shift(endpoint, bake_s=10, max_bake_s=40, on_progress=reports.append)
    assert outcome.completed and [step["baked_s"] for step in outcome.steps] == [30, 30]  # judged as without it
    assert endpoint.slept == [5.0] * 12  # each bake in ticks of the source's refresh_s
    first = [r for r in reports if "step 1/2" in r.status]
    assert [(r.completed, r.total) for r in first] == [(0, 10), (5, 10), (10, 40), (15, 40), (20, 40), (25, 40)]
    assert first[0].status == "challenger at 50% (step 1/2): baking"
    assert first[2].status == "challenger at 50% (step 1/2): baking on, too few requests"
    guard = "judged on >= 30 req each, errors <= 1.0%, p95 <= 500 ms"
    assert first[-1].detail == f"champion 30 req 0 err p95 2 ms, challenger 30 req 0 err p95 2 ms; {guard}"
    assert reports[-1] == Progress("shift ab", "challenger at 100%", done=True)
