"""The circuit breaker: closed, open after N failures, one probe when half-open."""

from __future__ import annotations

import threading

from inference.client.circuit import CircuitBreaker, State


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_n_failures_then_half_opens_then_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout_s=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is State.CLOSED
    breaker.record_success()  # success resets the count: failures must be consecutive
    for _ in range(3):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is State.OPEN and not breaker.allow()
    clock.now = 9.9
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.state is State.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one probe at a time
    breaker.record_failure()  # probe failed: open again for a full cooldown
    assert breaker.state is State.OPEN and not breaker.allow()
    clock.now = 20.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is State.CLOSED and breaker.allow() and breaker.allow()


def test_breaker_lets_exactly_one_probe_through_under_contention() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=1, clock=clock)
    breaker.record_failure()
    clock.now = 5.0
    allowed = []
    barrier = threading.Barrier(16)

    def contend() -> None:
        barrier.wait()
        allowed.append(breaker.allow())

    threads = [threading.Thread(target=contend) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 1
