"""AttentionBook: at most one open needs-attention item per company and code, never a flood.

The first occurrence opens the item and publishes ``qbd.attention.needed`` (``revision`` 1);
repeats of the same cause only raise ``occurrences`` and ``last_seen`` (and remember up to
100 affected event ids) and publish nothing. When the user-facing message changes on an open
item (every QuickBooks connection problem shares ``QBD_CONNECTION_ERROR``: a dialog closed,
now permissions were reset), or a fresh setup link comes, the item is published again with
the new message and ``revision`` one higher, so the user never follows stale advice.
Consumers keep, per (company, code), the item with the highest ``revision``; an equal
revision is a redelivery. When the cause clears, ``resolve`` closes it and publishes
``qbd.attention.resolved`` with the totals.

Publishing is at least once: the row remembers what was published, so a publish that failed
(broker away, crash) goes out when the same company's work runs again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from processors.publish import Publisher
from schemas import AttentionCategory, AttentionData

__all__ = ["PARKING_CATEGORIES", "AttentionBook", "Cause"]

_MAX_EVENT_IDS = 100
PARKING_CATEGORIES = (AttentionCategory.CONNECTION, AttentionCategory.SETUP)
"""Attention categories that mean "the company is parked"; a successful replay resolves them."""

# An open item changes when the user must be told something new: another message, or a
# fresh setup link. A repeat of the same message is only counted.
_CHANGED = """(EXCLUDED.user_facing_message IS DISTINCT FROM attention.user_facing_message
               OR (EXCLUDED.auth_flow_url IS NOT NULL
                   AND EXCLUDED.auth_flow_url IS DISTINCT FROM attention.auth_flow_url))"""
_RAISE = f"""INSERT INTO attention (company_id, code, category, user_facing_message,
                                    developer_message, auth_flow_url, event_ids)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (company_id, code) WHERE resolved_at IS NULL DO UPDATE
                SET occurrences = attention.occurrences + 1, last_seen = now(),
                    revision = attention.revision + CASE WHEN {_CHANGED} THEN 1 ELSE 0 END,
                    needed_published = attention.needed_published AND NOT {_CHANGED},
                    developer_message = CASE WHEN {_CHANGED} THEN EXCLUDED.developer_message
                                             ELSE attention.developer_message END,
                    user_facing_message = EXCLUDED.user_facing_message,
                    auth_flow_url = COALESCE(EXCLUDED.auth_flow_url, attention.auth_flow_url),
                    event_ids = CASE WHEN cardinality(attention.event_ids) < $8
                                     THEN attention.event_ids || EXCLUDED.event_ids
                                     ELSE attention.event_ids END
             RETURNING *, (xmax = 0) AS opened"""  # noqa: S608 - constants only, no input


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
        """Count one occurrence of ``cause``; publish when it opens or its message changed.

        True if it opened.
        """
        ids = [event_id] if event_id else []
        row = await self._pool.fetchrow(
            _RAISE,
            company_id,
            cause.code,
            str(cause.category),
            cause.user_facing_message,
            cause.developer_message,
            cause.auth_flow_url,
            ids,
            _MAX_EVENT_IDS,
        )
        assert row is not None
        if not row["needed_published"]:
            await self._publish_needed(company_id, row)
        return bool(row["opened"])

    async def open_count(self) -> int:
        """How many items are open, over every company (one indexed count)."""
        count = await self._pool.fetchval(
            "SELECT count(*) FROM attention WHERE resolved_at IS NULL"
        )
        return int(count or 0)

    async def count(self, company_id: str, event_id: str, categories: Iterable[str]) -> bool:
        """Count one more event affected by the company's open item of ``categories``.

        Work parked behind an already parked company hits no error of its own, but it is
        affected by the same cause: ``occurrences`` counts it. True if an item was open.
        """
        row = await self._pool.fetchrow(
            """UPDATE attention SET occurrences = occurrences + 1, last_seen = now(),
                      event_ids = CASE WHEN cardinality(event_ids) < $3
                                       THEN event_ids || ARRAY[$2] ELSE event_ids END
               WHERE attention_id = (SELECT attention_id FROM attention
                                     WHERE company_id = $1 AND resolved_at IS NULL
                                       AND category = ANY($4::text[])
                                     ORDER BY first_seen DESC LIMIT 1)
               RETURNING *""",
            company_id,
            event_id,
            _MAX_EVENT_IDS,
            [str(c) for c in categories],
        )
        if row is not None and not row["needed_published"]:
            await self._publish_needed(company_id, row)
        return row is not None

    async def resolve(
        self, company_id: str, code: str | None = None, *, categories: Iterable[str] = ()
    ) -> int:
        """Close the open items of a company (one code, some categories, or all).

        Also publishes resolutions whose earlier publish failed. Returns how many it published.
        """
        wanted = [str(c) for c in categories] or None
        rows = await self._pool.fetch(
            """UPDATE attention SET resolved_at = COALESCE(resolved_at, now())
               WHERE company_id = $1 AND ($2::text IS NULL OR code = $2)
                 AND ($3::text[] IS NULL OR category = ANY($3::text[]))
                 AND (resolved_at IS NULL OR NOT resolved_published)
               RETURNING *""",
            company_id,
            code,
            wanted,
        )
        for row in rows:
            if not row["needed_published"]:
                await self._publish_needed(company_id, row)
            await self._publisher.attention(company_id, _data(row), resolved=True)
            await self._pool.execute(
                "UPDATE attention SET resolved_published = true WHERE attention_id = $1",
                row["attention_id"],
            )
        return len(rows)

    async def open_items(self, company_id: str | None = None) -> list[AttentionData]:
        """The open items (of one company)."""
        rows = await self._pool.fetch(
            """SELECT * FROM attention WHERE resolved_at IS NULL
               AND ($1::text IS NULL OR company_id = $1) ORDER BY first_seen""",
            company_id,
        )
        return [_data(row) for row in rows]

    async def _publish_needed(self, company_id: str, row: asyncpg.Record) -> None:
        await self._publisher.attention(company_id, _data(row), resolved=False)
        await self._pool.execute(
            "UPDATE attention SET needed_published = true WHERE attention_id = $1",
            row["attention_id"],
        )


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
        revision=row["revision"],
    )
