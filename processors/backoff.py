"""Jittered exponential backoff, and the one testing switch every wait in the stack honours.

``Backoff.delay`` is a pure function of the attempt number and a random draw. Every place
that waits before retrying sleeps through ``pause``, so ``set_testing(True)`` (called by
``processors.testing.set_testing``, in the spirit of ``stamina.set_testing``) shortens every
such wait at once without changing any decision or attempt count: tests never sleep
through a real backoff, and the numbers the policy computes stay what production computes.
(stamina itself is not used: its testing mode also caps the attempts, which would turn our
retry-until-it-works loops, such as the key probe while halted, into a spin or a give-up.)
"""

from __future__ import annotations

import asyncio
import math
import os
from dataclasses import dataclass
from typing import Final

__all__ = [
    "TESTING_ENV",
    "TESTING_PAUSE",
    "Backoff",
    "pause",
    "set_testing",
    "set_testing_from_env",
    "testing",
]

TESTING_PAUSE: Final = 0.01
"""The longest any backoff wait lasts while testing (seconds)."""
TESTING_ENV: Final = "QBD_SYNC_TESTING"
"""Set to ``1`` in a child process's environment to turn the switch on there (tests only)."""

_testing = False


def set_testing(on: bool) -> None:
    """Shorten every backoff wait to at most ``TESTING_PAUSE`` (or restore real waits)."""
    global _testing
    _testing = on


def set_testing_from_env() -> None:
    """Turn the switch on when ``QBD_SYNC_TESTING=1`` (a test started this process)."""
    if os.environ.get(TESTING_ENV) == "1":
        set_testing(True)


def testing() -> bool:
    """Whether the testing switch is on."""
    return _testing


async def pause(seconds: float) -> None:
    """Wait ``seconds`` before a retry (at most ``TESTING_PAUSE`` while testing)."""
    await asyncio.sleep(min(seconds, TESTING_PAUSE) if _testing else seconds)


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
