"""Seeded fault injection: latency, transient errors, rate limits, ambiguous writes, and
deterministic error envelopes (``inject``) for property tests."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

from qbdsim._errors import SimError, injected_error, invalid_request

__all__ = ["AMBIGUOUS_MODES", "FaultConfig", "FaultInjector", "Injection"]

AmbiguousMode = Literal["hang", "drop"]
AMBIGUOUS_MODES: Final = ("hang", "drop")


@dataclass(slots=True)
class FaultConfig:
    """The body of ``POST /_sim/faults``; every field is optional and defaults to no fault.

    ``ambiguous_mode`` decides how a committed write fails to answer: ``hang`` never answers
    (for ``ambiguous_hang_s``, past any sane client timeout), ``drop`` sends the status line
    and headers and then closes the connection before the body.
    """

    latency_ms: tuple[float, float] = (0.0, 0.0)
    company_latency_ms: dict[str, tuple[float, float]] = field(default_factory=dict)
    error_rate: float = 0.0
    status: int = 500
    rate_limit_rate: float = 0.0
    retry_after_s: float = 1.0
    ambiguous_rate: float = 0.0
    ambiguous_mode: AmbiguousMode = "hang"
    ambiguous_hang_s: float = 130.0
    # Deterministic counters: the next N company requests (or writes) fail, then it stops.
    fail_next: int = 0
    rate_limit_next: int = 0
    ambiguous_next: int = 0
    # Real Conductor's use of x-should-retry is unknown; None sends no header.
    should_retry: bool | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> FaultConfig:
        """Validate a control-API body; raise a 400 ``SimError`` on a bad field."""
        unknown = set(body) - set(cls.__dataclass_fields__)
        if unknown:
            raise invalid_request(f"Unknown fault fields: {sorted(unknown)}.")
        try:
            config = cls(**body)
            config.latency_ms = _range(config.latency_ms)
            config.company_latency_ms = {
                str(k): _range(v) for k, v in dict(config.company_latency_ms).items()
            }
            for rate in (config.error_rate, config.rate_limit_rate, config.ambiguous_rate):
                if not 0.0 <= float(rate) <= 1.0:
                    raise ValueError(f"rates must be within 0..1, got {rate}")
            if not 400 <= int(config.status) <= 599:
                raise ValueError(f"status must be a 4xx or 5xx, got {config.status}")
            if config.ambiguous_mode not in AMBIGUOUS_MODES:
                raise ValueError(f"ambiguous_mode must be one of {AMBIGUOUS_MODES}")
        except (TypeError, ValueError) as exc:
            raise invalid_request(f"Invalid faults: {exc}") from exc
        return config

    def to_json(self) -> dict[str, Any]:
        """Return the config as the control API shows it."""
        return asdict(self)


def _range(value: Any) -> tuple[float, float]:
    low, high = (float(v) for v in value)
    if low < 0 or high < low:
        raise ValueError(f"a latency range needs 0 <= min <= max, got {value!r}")
    return (low, high)


@dataclass(slots=True)
class Injection:
    """The next ``count`` QuickBooks requests (of ``end_user_id``, or of anyone when None;
    writes only when ``writes_only``) answer this error envelope instead of running."""

    status: int
    type: str
    code: str
    integration_code: str | None = None
    count: int = 1
    end_user_id: str | None = None
    writes_only: bool = False
    message: str | None = None
    user_facing_message: str | None = None
    retry_after_s: float | None = None
    """Sent as a ``Retry-After`` header (a 429's, say); None sends none."""

    @classmethod
    def from_json(cls, body: Any) -> Injection:
        """Validate the control API's ``inject`` object; raise a 400 ``SimError``."""
        if not isinstance(body, dict):
            raise invalid_request("`inject` must be an object.")
        unknown = set(body) - set(cls.__dataclass_fields__)
        if unknown:
            raise invalid_request(f"Unknown inject fields: {sorted(unknown)}.")
        try:
            injection = cls(**body)
            if not 400 <= int(injection.status) <= 599:
                raise ValueError(f"status must be a 4xx or 5xx, got {injection.status}")
            if int(injection.count) < 1:
                raise ValueError(f"count must be at least 1, got {injection.count}")
            if not (isinstance(injection.type, str) and isinstance(injection.code, str)):
                raise ValueError("type and code must be strings")
            if injection.retry_after_s is not None and float(injection.retry_after_s) < 0:
                raise ValueError(f"retry_after_s must be >= 0, got {injection.retry_after_s}")
        except (TypeError, ValueError) as exc:
            raise invalid_request(f"Invalid inject: {exc}") from exc
        return injection

    def matches(self, end_user_id: str, *, write: bool) -> bool:
        """Whether this injection applies to a request of ``end_user_id``."""
        wanted = self.end_user_id is None or self.end_user_id == end_user_id
        return wanted and (write or not self.writes_only)

    def error(self) -> SimError:
        """Return the envelope this injection answers with."""
        return injected_error(
            int(self.status),
            self.type,
            self.code,
            self.integration_code,
            self.message,
            self.user_facing_message,
            retry_after_s=self.retry_after_s,
        )


class FaultInjector:
    """Rolls the seeded dice for each request; one instance per simulator."""

    def __init__(self, seed: int | None) -> None:
        self.config = FaultConfig()
        self.injections: list[Injection] = []
        self._random = random.Random(seed)

    def injected(self, end_user_id: str, *, write: bool) -> SimError | None:
        """Return the error of the first injection matching this request (and use it up)."""
        for injection in self.injections:
            if injection.matches(end_user_id, write=write):
                injection.count -= 1
                if injection.count <= 0:
                    self.injections.remove(injection)
                return injection.error()
        return None

    def reseed(self, seed: int | None) -> None:
        """Restart the random sequence (``POST /_sim/reset`` does this)."""
        self._random = random.Random(seed)

    def latency_s(self, end_user_id: str) -> float:
        """Return how long QuickBooks takes for this request, in seconds."""
        low, high = self.config.company_latency_ms.get(end_user_id, self.config.latency_ms)
        if high <= 0:
            return 0.0
        return (low if low == high else self._random.uniform(low, high)) / 1000

    def rate_limited(self) -> bool:
        """Whether Conductor's rate limiter turns this request away."""
        if self.config.rate_limit_next > 0:
            self.config.rate_limit_next -= 1
            return True
        rate = self.config.rate_limit_rate
        return rate > 0 and self._random.random() < rate

    def failed(self) -> bool:
        """Whether this request fails with ``config.status`` before reaching QuickBooks."""
        if self.config.fail_next > 0:
            self.config.fail_next -= 1
            return True
        rate = self.config.error_rate
        return rate > 0 and self._random.random() < rate

    def ambiguous(self) -> bool:
        """Whether this committed write loses its answer."""
        if self.config.ambiguous_next > 0:
            self.config.ambiguous_next -= 1
            return True
        rate = self.config.ambiguous_rate
        return rate > 0 and self._random.random() < rate
