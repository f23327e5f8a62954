"""Health: is the processor alive, and is it ready (broker, PostgreSQL, Conductor key good)?

Pure state, no I/O; the engine reports into it and ``GET /healthz`` / ``GET /readyz`` read it.

- **alive** means the engine's consume loop is still turning: the engine calls ``beat()`` on
  every iteration (at least every ``liveness_timeout_s / 3`` seconds, also while halted or
  paused), and the process counts as alive while the last beat is younger than
  ``liveness_timeout_s``. A loop stuck on a deadlock or a blocking call stops beating, the
  liveness probe fails and the orchestrator restarts the pod; nothing is lost because offsets
  were not committed past unfinished work.
- **ready** means every component is ok, no work is waiting out an outage, and the processor
  is not halted. Components start "not checked yet" (not ready) until first reported; the
  readiness probes (``processors.readiness``) report the broker and PostgreSQL every few
  seconds, and the engine reports work that waits out a dependency (a deadlock, too many
  connections, the broker away) for as long as it waits.
- **halted** means the processor stopped consuming because Conductor rejected our own key
  (DESIGN.md section 5, `configuration`): not ready, with that reason, until ``resume()``.

Details are one line, at most 200 characters, with Conductor keys and URL passwords masked,
because ``/readyz`` is unauthenticated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from processors.logs import redact

__all__ = ["COMPONENTS", "Component", "ComponentState", "Health"]

Component = Literal["broker", "database", "conductor"]
COMPONENTS: Final[tuple[Component, ...]] = get_args(Component)
_MAX_DETAIL: Final = 200


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _one_line(detail: str) -> str:
    text = " ".join(redact(detail).split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


@dataclass(frozen=True, slots=True)
class ComponentState:
    """One dependency's state: ok or not, why, and since when that has held."""

    ok: bool
    detail: str
    since: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"ok": self.ok, "detail": self.detail, "since": self.since.isoformat()}


@dataclass(frozen=True, slots=True)
class _Halt:
    reason: str
    since: datetime


class Health:
    """Liveness heartbeat, per-component readiness and the halt switch of one processor."""

    def __init__(
        self,
        *,
        liveness_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        if liveness_timeout_s <= 0:
            raise ValueError("liveness_timeout_s must be positive")
        self.liveness_timeout_s = liveness_timeout_s
        self._clock = clock
        self._now = now
        self._last_beat = clock()
        started = now()
        self._components = {
            name: ComponentState(False, "not checked yet", started) for name in COMPONENTS
        }
        self._halt: _Halt | None = None
        self._waits: dict[Component, tuple[int, str]] = {}

    # Liveness

    def beat(self) -> None:
        """Record that the consume loop turned just now."""
        self._last_beat = self._clock()

    @property
    def heartbeat_age_s(self) -> float:
        """Seconds since the last ``beat()``."""
        return max(0.0, self._clock() - self._last_beat)

    @property
    def alive(self) -> bool:
        """Whether the consume loop beat within ``liveness_timeout_s``."""
        return self.heartbeat_age_s <= self.liveness_timeout_s

    # Readiness

    def set_ok(self, component: Component, detail: str = "ok") -> None:
        """Mark ``component`` healthy."""
        self._set(component, ok=True, detail=detail)

    def set_failed(self, component: Component, detail: str) -> None:
        """Mark ``component`` unhealthy with a one-line reason."""
        self._set(component, ok=False, detail=detail)

    def component(self, component: Component) -> ComponentState:
        """The current state of ``component``."""
        return self._components[component]

    def waiting(self, component: Component, detail: str) -> None:
        """One piece of work started waiting out an outage of ``component`` (not ready)."""
        count, _ = self._waits.get(component, (0, ""))
        self._waits[component] = (count + 1, _one_line(detail))

    def waited(self, component: Component) -> None:
        """One wait on ``component`` is over (the work went through, or ended)."""
        count, detail = self._waits.get(component, (0, ""))
        if count <= 1:
            self._waits.pop(component, None)
        else:
            self._waits[component] = (count - 1, detail)

    def halted(self, reason: str) -> None:
        """Record that consuming stopped because our Conductor key was rejected."""
        if self._halt is None:
            self._halt = _Halt(_one_line(reason), self._now())
        else:
            self._halt = _Halt(_one_line(reason), self._halt.since)

    def resume(self) -> None:
        """Record that consuming resumed after a halt."""
        self._halt = None

    @property
    def halt_reason(self) -> str | None:
        """Why the processor is halted, or None when it is not."""
        return None if self._halt is None else self._halt.reason

    @property
    def ready(self) -> bool:
        """Whether every component is ok, nothing waits out an outage and nothing is halted."""
        return (
            self._halt is None
            and not self._waits
            and all(state.ok for state in self._components.values())
        )

    def problems(self) -> list[str]:
        """One line per reason the processor is not ready (empty when ready)."""
        found = [] if self._halt is None else [f"halted: {self._halt.reason}"]
        found += [
            f"{name}: {state.detail}" for name, state in self._components.items() if not state.ok
        ]
        found += [
            f"{name}: {count} waiting out an outage: {detail}"
            for name, (count, detail) in self._waits.items()
        ]
        return found

    def snapshot(self) -> dict[str, Any]:
        """Everything above as a JSON-ready dict (the ``/readyz`` body)."""
        ready = self.ready
        return {
            "status": "ready" if ready else "not_ready",
            "ready": ready,
            "alive": self.alive,
            "heartbeat_age_s": round(self.heartbeat_age_s, 3),
            "halted": None
            if self._halt is None
            else {"reason": self._halt.reason, "since": self._halt.since.isoformat()},
            "components": {name: state.as_dict() for name, state in self._components.items()},
            "waiting": {
                name: {"count": count, "detail": detail}
                for name, (count, detail) in self._waits.items()
            },
            "problems": self.problems(),
        }

    def _set(self, component: Component, *, ok: bool, detail: str) -> None:
        if component not in self._components:
            raise ValueError(f"unknown component {component!r}; expected one of {COMPONENTS}")
        previous = self._components[component]
        # "since" is when the ok/not-ok state began; a new detail alone does not reset it.
        since = previous.since if previous.ok == ok else self._now()
        self._components[component] = ComponentState(ok, _one_line(detail), since)
