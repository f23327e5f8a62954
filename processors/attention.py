"""AttentionBook: at most one open needs-attention item per company and code, never a flood.

The first occurrence opens the item and publishes ``qbd.attention.needed``; repeats only
raise ``occurrences`` and ``last_seen`` (and remember up to 100 affected event ids). When the
cause clears, ``resolve`` closes it and publishes ``qbd.attention.resolved`` with the totals.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from processors.publish import Publisher
from schemas import AttentionCategory, AttentionData

__all__ = ["AttentionBook", "Cause"]

_MAX_EVENT_IDS = 100


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a user must act: the code, its category and what to tell them."""

    code: str
    category: AttentionCategory
    user_facing_message: str
    developer_message: str | None = None
    auth_flow_url: str | None = None


class AttentionBook:
    """Opens, counts and resolves attention items in PostgreSQL and on the attention topic."""

    def __init__(self, pool: asyncpg.Pool, publisher: Publisher) -> None:
        self._pool = pool
        self._publisher = publisher

    async def raise_(self, company_id: str, cause: Cause, event_id: str | None = None) -> bool:
        """Count one occurrence of ``cause``; publish only when it opens. True if it opened."""
        ids = [event_id] if event_id else []
        row = await self._pool.fetchrow(
            """INSERT INTO attention (company_id, code, category, user_facing_message,
                                      developer_message, auth_flow_url, event_ids)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (company_id, code) WHERE resolved_at IS NULL DO UPDATE
                  SET occurrences = attention.occurrences + 1, last_seen = now(),
                      auth_flow_url = COALESCE(EXCLUDED.auth_flow_url, attention.auth_flow_url),
                      event_ids = CASE WHEN cardinality(attention.event_ids) < $8
                                       THEN attention.event_ids || EXCLUDED.event_ids
                                       ELSE attention.event_ids END
               RETURNING *, (xmax = 0) AS opened""",
            company_id, cause.code, str(cause.category), cause.user_facing_message,
            cause.developer_message, cause.auth_flow_url, ids, _MAX_EVENT_IDS,
        )  # fmt: skip
        assert row is not None
        if row["opened"]:
            await self._publisher.attention(company_id, _data(row), resolved=False)
        return bool(row["opened"])

    async def resolve(self, company_id: str, code: str | None = None) -> int:
        """Close the open items of a company (one code or all); return how many closed."""
        rows = await self._pool.fetch(
            """UPDATE attention SET resolved_at = now()
               WHERE company_id = $1 AND resolved_at IS NULL AND ($2::text IS NULL OR code = $2)
               RETURNING *""",
            company_id,
            code,
        )
        for row in rows:
            await self._publisher.attention(company_id, _data(row), resolved=True)
        return len(rows)

    async def open_items(self, company_id: str | None = None) -> list[AttentionData]:
        """The open items (of one company)."""
        rows = await self._pool.fetch(
            """SELECT * FROM attention WHERE resolved_at IS NULL
               AND ($1::text IS NULL OR company_id = $1) ORDER BY first_seen""",
            company_id,
        )
        return [_data(row) for row in rows]


def _data(row: asyncpg.Record) -> AttentionData:
    return AttentionData(
        code=row["code"],
        category=AttentionCategory(row["category"]),
        user_facing_message=row["user_facing_message"],
        developer_message=row["developer_message"],
        auth_flow_url=row["auth_flow_url"],
        event_ids=list(row["event_ids"]),
        occurrences=row["occurrences"],
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
    )
