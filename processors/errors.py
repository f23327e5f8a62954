"""Errors qbd-sync raises on purpose, and what the caller should do about each.

    QbdSyncError                 base; ``exit_code`` is what the CLI exits with
    ├── ConfigError              a setting is missing or malformed (fix the named variable)
    ├── UsageError               the command line itself is wrong (exit 2)
    ├── DependencyUnavailable    broker, PostgreSQL or Conductor cannot be reached (retry later)
    └── StackError               the embedded dev stack could not start (see the message)

Library exceptions are wrapped at the edge with ``raise ... from exc`` so the CLI can print
one actionable line and keep the traceback for ``--debug``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DependencyUnavailable",
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
