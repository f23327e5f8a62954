"""BookSettings: what the app told qbd-sync about each company's books (the closing date).

`company.settings_updated` writes it; the pre-flight checks read it before every write.
Reads are cached per process: a company's events run in one lane on one instance, and its
settings change only through that lane, so the cache is right until the lane moves to
another instance, when `forget()` drops it (after every rebalance).
"""

from __future__ import annotations

from datetime import date

import asyncpg

from processors.preflight import Books

__all__ = ["BookSettings"]


class BookSettings:
    """Reads and writes the ``book_settings`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._cached: dict[str, Books] = {}

    async def books(self, company_id: str) -> Books:
        """What is known of the company's books (nothing set: no closing date)."""
        found = self._cached.get(company_id)
        if found is not None:
            return found
        closing = await self._pool.fetchval(
            "SELECT closing_date FROM book_settings WHERE company_id = $1", company_id
        )
        books = Books(closing_date=closing)
        self._cached[company_id] = books
        return books

    async def set_closing_date(self, company_id: str, closing_date: date | None) -> None:
        """Set (or, with None, remove) the company's closing date."""
        await self._pool.execute(
            """INSERT INTO book_settings (company_id, closing_date) VALUES ($1, $2)
               ON CONFLICT (company_id) DO UPDATE
                  SET closing_date = EXCLUDED.closing_date, updated_at = now()""",
            company_id,
            closing_date,
        )
        self._cached[company_id] = Books(closing_date=closing_date)

    def forget(self) -> None:
        """Drop the cache (the next read asks PostgreSQL)."""
        self._cached.clear()
