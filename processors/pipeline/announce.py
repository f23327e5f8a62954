"""StateAnnouncer: each change of a company's connection state, published once or more, in order.

``CompanyConnection`` changes a company's state while holding ``lock(company)`` and hands the
stored change to ``announce``, which publishes ``qbd.company.state_changed`` (keyed by the
company, so in order on its partition) and then notes it in ``published_state``. A publish
that fails (broker away) leaves ``published_state`` behind ``state``: the work that changed
it runs again (an outage keeps it in its lane), or ``pending`` publishes it on the catch-up's
next sweep. A repeat of one change carries the same CloudEvent ``id``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from processors.companies import CompanyBook, StateChange, state_message
from processors.publish import Publisher
from schemas import CompanyConnectionState, CompanyStateData

__all__ = ["StateAnnouncer"]


class StateAnnouncer:
    """Publishes company state changes at least once, in order per company."""

    def __init__(self, *, companies: CompanyBook, publisher: Publisher) -> None:
        self._companies = companies
        self._publisher = publisher
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def lock(self, company: str) -> asyncio.Lock:
        """Held while the company's state changes and is announced (one change at a time)."""
        return self._locks[company]

    async def announce(
        self, company: str, change: StateChange, error: Mapping[str, Any] | None
    ) -> None:
        """Publish ``qbd.company.state_changed`` for ``change``, then remember it went out."""
        # Parked: why (the error's message); any other state: what it means for the user.
        shown = error if change.state is CompanyConnectionState.PARKED else None
        data = CompanyStateData(
            state=change.state,
            previous_state=change.previous,
            user_facing_message=state_message(change.state, shown),
            at=change.at,
        )
        await self._publisher.company_state(company, data)
        await self._companies.announced(company, change.state)

    async def pending(self) -> int:
        """Publish the state changes whose publish failed earlier; how many went out."""
        sent = 0
        for stale in await self._companies.unannounced():
            async with self.lock(stale.company_id):
                company = await self._companies.find(stale.company_id)
                if company is None or company.published_state is company.state:
                    continue
                change = StateChange(
                    state=company.state,
                    previous=company.published_state or CompanyConnectionState.UNKNOWN,
                    at=company.state_changed_at or datetime.now(UTC),
                    announced=False,
                )
                await self.announce(company.company_id, change, company.last_error)
                sent += 1
        return sent
