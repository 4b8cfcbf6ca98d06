"""A thread-safe circuit breaker: closed → open after N consecutive failures → half-open after a cooldown → closed.

While open, callers skip the protected call at once (no timeouts piling up on a dead endpoint). After the
cooldown one caller at a time is let through as a probe (half-open); its success closes the circuit, its
failure opens it for another cooldown.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class State(enum.StrEnum):
    """Circuit states."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Decides whether the protected call may be tried; callers report each outcome."""

    def __init__(
        self, failure_threshold: int = 3, reset_timeout_s: float = 10.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failure_threshold < 1 or reset_timeout_s < 0:
            raise ValueError("failure_threshold must be >= 1 and reset_timeout_s >= 0")
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = State.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> State:
        """The current state (an open circuit past its cooldown reads as half-open)."""
        with self._lock:
            if self._state is State.OPEN and self._clock() - self._opened_at >= self.reset_timeout_s:
                return State.HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """True if the caller may try the call now; in half-open only one probe is let through at a time."""
        with self._lock:
            if self._state is State.CLOSED:
                return True
            if self._state is State.OPEN:
                if self._clock() - self._opened_at < self.reset_timeout_s:
                    return False
                self._state = State.HALF_OPEN
                log.info("circuit half-open: probing the endpoint")
            if self._probe_in_flight:
                return False
            self._probe_in_flight = True
            return True

    def record_success(self) -> None:
        """The call worked: close the circuit."""
        with self._lock:
            if self._state is not State.CLOSED:
                log.info("circuit closed: the endpoint answered")
            self._state = State.CLOSED
            self._failures = 0
            self._probe_in_flight = False

    def record_failure(self) -> None:
        """The call failed: count it, and open the circuit at the threshold or when a probe fails."""
        with self._lock:
            self._failures += 1
            self._probe_in_flight = False
            if self._state is State.HALF_OPEN or self._failures >= self.failure_threshold:
                if self._state is not State.OPEN:
                    log.warning("circuit open after %d consecutive failure(s)", self._failures)
                self._state = State.OPEN
                self._opened_at = self._clock()
