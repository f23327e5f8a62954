"""Errors qbd-sync raises on purpose, and what the caller should do about each.

    QbdSyncError                 base; ``exit_code`` is what the CLI exits with
    ├── ConfigError              a setting is missing or malformed (fix the named variable)
    ├── UsageError               the command line itself is wrong (exit 2)
    ├── DependencyUnavailable    broker, PostgreSQL or Conductor cannot be reached (retry later)
    ├── StackError               the embedded dev stack could not start (see the message)
    ├── PlanError                an event cannot become a QuickBooks write (processors.writes)
    └── LaneSignal               control flow inside a company's lane; never leaves the engine
        ├── Halted               our own Conductor key is refused: stop consuming, probe, resume
        └── Outcome              a Conductor call ended without the wanted answer: the policy's
                                 decision (park, fail, halt) and the normalized error; it
                                 lives beside the policy, in ``processors.outcome``

Library exceptions are wrapped at the edge with ``raise ... from exc`` so the CLI can print
one actionable line and keep the traceback for ``--debug``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DependencyUnavailable",
    "Halted",
    "LaneSignal",
    "PlanError",
    "QbdSyncError",
    "StackError",
    "UsageError",
]


class QbdSyncError(Exception):
    """Base class: the message is one line a user can act on."""

    exit_code: int = 1


class ConfigError(QbdSyncError):
    """A setting is missing or malformed; the message names the variable."""

    exit_code = 2


class UsageError(QbdSyncError):
    """The command line is wrong (bad argument, bad file)."""

    exit_code = 2


class DependencyUnavailable(QbdSyncError):
    """A dependency (broker, PostgreSQL, Conductor) does not answer."""


class StackError(QbdSyncError):
    """The embedded development stack could not start or stopped unexpectedly."""


class PlanError(QbdSyncError):
    """An event cannot be turned into a QuickBooks write; ``code`` names the rule."""

    code = "PLAN_ERROR"

    def __init__(self, message: str, *, user_facing_message: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.user_facing_message = user_facing_message or message


class LaneSignal(QbdSyncError):
    """Control flow inside a company's lane (caught by the pipeline or the engine)."""


class Halted(LaneSignal):
    """Consuming must stop: Conductor refuses our own API key. Nothing is lost or committed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
