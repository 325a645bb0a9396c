# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""A circuit breaker: closed, open, half-open.

Closed: calls pass; `failure_threshold` consecutive failures open it. Open: calls fail at
once, without touching the network, for `open_seconds`. Half-open (then): one trial call
passes; its success closes the breaker, its failure opens it again. No timer runs: the state
is computed from the clock whenever it is asked for.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum


class BreakerState(IntEnum):
    """The values are those of the `outbound_circuit_breaker_state` metric."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass
class CircuitBreaker:
    failure_threshold: int
    open_seconds: float
    clock: Callable[[], float] = time.monotonic
    failures: int = field(default=0, init=False)
    _opened_at: float | None = field(default=None, init=False)
    _trial_running: bool = field(default=False, init=False)

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self.clock() - self._opened_at >= self.open_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def seconds_until_trial(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(self.open_seconds - (self.clock() - self._opened_at), 0.0)

    def allow(self) -> bool:
        """May a call go out now? In half-open, only one trial at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def record_success(self) -> None:
        self.failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self.failures += 1
        self._trial_running = False
        if self._opened_at is not None or self.failures >= self.failure_threshold:
            self._opened_at = self.clock()  # opens, or a failed trial opens it again

    def release(self) -> None:
        """A call ended without an outcome (cancelled): let the next trial go."""
        self._trial_running = False
