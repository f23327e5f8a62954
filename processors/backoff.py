"""Jittered exponential backoff as a pure function of the attempt number and a random draw."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retry n: ``min(cap, initial * multiplier**(n-1))``, less up to ``jitter``.

    The jitter takes a random fraction (at most ``jitter``) off the delay, as conductor-py and
    stamina do, so that many lanes failing together do not retry in lockstep.
    """

    initial: float = 0.5
    multiplier: float = 2.0
    cap: float = 30.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if not (self.initial > 0 and self.multiplier >= 1 and self.cap >= self.initial):
            raise ValueError(f"backoff needs 0 < initial <= cap and multiplier >= 1: {self}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), not {self.jitter}")

    def delay(self, attempt: int, draw: float) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based); ``draw`` is in [0, 1)."""
        if attempt < 1:
            raise ValueError(f"attempt is 1-based, not {attempt}")
        # Clamp the exponent once the cap is reached, so huge attempts cannot overflow.
        steps_to_cap = 0
        if self.multiplier > 1:
            steps_to_cap = math.ceil(math.log(self.cap / self.initial, self.multiplier))
        exponent = min(attempt - 1, steps_to_cap)
        base = min(self.cap, self.initial * self.multiplier**exponent)
        return base * (1.0 - self.jitter * min(max(draw, 0.0), 1.0))
