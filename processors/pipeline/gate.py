"""What ``CompanyConnection`` answers: may a write go ahead (``Gate``), how a check went.

Plain values, kept apart so that the connection module holds only behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

from processors.outcome import NormalizedError, OutcomeClass

__all__ = ["NOT_CONNECTED", "Gate", "HealthResult"]

_CONNECTED = "QuickBooks Desktop is connected."

NOT_CONNECTED = NormalizedError(
    type="INTEGRATION_CONNECTION_ERROR",
    code="COMPANY_NOT_CONNECTED",
    message="no Conductor end-user has sourceId equal to this companyid",
    user_facing_message=(
        "QuickBooks Desktop is not connected yet. Open the setup link to connect your "
        "company file, then press Sync now."
    ),
)
"""Why a company with no Conductor end-user is parked (category ``setup``)."""


@dataclass(frozen=True, slots=True)
class HealthResult:
    """One health check of a company's QuickBooks Desktop connection."""

    company_id: str
    healthy: bool
    error: NormalizedError | None = None
    kind: OutcomeClass | None = None  # the failure's class (connection, setup, transient...)
    auth_flow_url: str | None = None  # when the user must (re)do the setup

    @property
    def message(self) -> str:
        """What to show the user."""
        return _CONNECTED if self.error is None else self.error.user_facing_message

    @property
    def parks(self) -> bool:
        """Whether this failure means the company's QuickBooks is unreachable."""
        return self.kind in (OutcomeClass.CONNECTION, OutcomeClass.SETUP, OutcomeClass.FORBIDDEN)


@dataclass(frozen=True, slots=True)
class Gate:
    """Whether a write for a company may go ahead now (``CompanyConnection.admit``)."""

    end_user: str | None = None
    """The company's Conductor end-user: go ahead (the write itself tells whether its
    QuickBooks can be reached)."""
    behind_parked: bool = False
    """The company is parked: the event must queue behind its parked work, in order."""
    look: bool = False
    """The company is parked, but not checked for a while: replay its parked work (which
    checks its health first), then run the event again."""
