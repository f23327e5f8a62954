"""InvoiceStatusBook: what the invoice status read-back last saw, and where it goes on from.

Two tables, one concept: ``invoice_status`` holds, per synced invoice, the balance, paid
state, revision and existence a pull last saw (so the next pull publishes only changes);
``status_pulls`` holds, per company, the newest ``updatedAt`` and ``deletedAt`` seen (on
QuickBooks' own clock), where the next incremental pull starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

__all__ = ["Checkpoint", "InvoiceStatus", "InvoiceStatusBook"]


@dataclass(frozen=True, slots=True)
class InvoiceStatus:
    """One synced invoice's state in QuickBooks, as a pull saw it."""

    qbd_id: str
    invoice_id: str
    balance_remaining: Decimal | None
    is_paid: bool
    revision_number: str | None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a company's next pull starts: the newest update and deletion seen so far."""

    updated_after: datetime | None = None
    deleted_after: datetime | None = None


class InvoiceStatusBook:
    """Reads and writes ``invoice_status`` and ``status_pulls``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def checkpoint(self, company_id: str) -> Checkpoint:
        """Where the company's next pull starts (nothing yet: an empty checkpoint)."""
        row = await self._pool.fetchrow(
            "SELECT updated_after, deleted_after FROM status_pulls WHERE company_id = $1",
            company_id,
        )
        if row is None:
            return Checkpoint()
        return Checkpoint(row["updated_after"], row["deleted_after"])

    async def advance(self, company_id: str, checkpoint: Checkpoint) -> None:
        """Move the company's checkpoint (a completed pull)."""
        await self._pool.execute(
            """INSERT INTO status_pulls (company_id, updated_after, deleted_after)
               VALUES ($1, $2, $3)
               ON CONFLICT (company_id) DO UPDATE
                  SET updated_after = EXCLUDED.updated_after,
                      deleted_after = EXCLUDED.deleted_after, pulled_at = now()""",
            company_id,
            checkpoint.updated_after,
            checkpoint.deleted_after,
        )

    async def seen(self, company_id: str, qbd_ids: Sequence[str]) -> dict[str, InvoiceStatus]:
        """The last seen state of each of ``qbd_ids`` (never seen: left out)."""
        rows = await self._pool.fetch(
            """SELECT * FROM invoice_status
               WHERE company_id = $1 AND qbd_id = ANY($2::text[])""",
            company_id,
            list(qbd_ids),
        )
        return {
            row["qbd_id"]: InvoiceStatus(
                qbd_id=row["qbd_id"],
                invoice_id=row["invoice_id"],
                balance_remaining=row["balance_remaining"],
                is_paid=row["is_paid"],
                revision_number=row["revision_number"],
                deleted=row["deleted"],
            )
            for row in rows
        }

    async def record(self, company_id: str, statuses: Sequence[InvoiceStatus]) -> None:
        """Remember what a pull saw (after publishing what changed)."""
        if not statuses:
            return
        await self._pool.execute(
            """INSERT INTO invoice_status (company_id, qbd_id, invoice_id, balance_remaining,
                                           is_paid, revision_number, deleted)
               SELECT $1, s.* FROM unnest($2::text[], $3::text[], $4::numeric[],
                                          $5::boolean[], $6::text[], $7::boolean[])
                    AS s(qbd_id, invoice_id, balance_remaining, is_paid, revision_number,
                         deleted)
               ON CONFLICT (company_id, qbd_id) DO UPDATE
                  SET invoice_id = EXCLUDED.invoice_id,
                      balance_remaining = EXCLUDED.balance_remaining,
                      is_paid = EXCLUDED.is_paid, revision_number = EXCLUDED.revision_number,
                      deleted = EXCLUDED.deleted, seen_at = now()""",
            company_id,
            [status.qbd_id for status in statuses],
            [status.invoice_id for status in statuses],
            [status.balance_remaining for status in statuses],
            [status.is_paid for status in statuses],
            [status.revision_number for status in statuses],
            [status.deleted for status in statuses],
        )
