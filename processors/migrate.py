"""Versioned SQL migrations, applied in order under a PostgreSQL advisory lock.

Why a small runner instead of Alembic or yoyo: the schema is plain SQL, we already depend on
asyncpg, and an advisory lock plus a ``schema_migrations`` table is all that "idempotent and
safe from two processes at once" needs. Files are ``migrations/NNNN_name.sql``; each runs in
one transaction with its row in ``schema_migrations``; a changed file is refused by checksum.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import asyncpg

from processors.errors import DependencyUnavailable, QbdSyncError

__all__ = ["Migration", "apply_migrations", "available_migrations"]

# pg_advisory_lock key: any constant unique to qbd-sync's migrations.
_LOCK_KEY = 0x71B2_5C00


@dataclass(frozen=True)
class Migration:
    """One versioned SQL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the SQL text, to notice an edited migration."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    """Every migration shipped in the package, sorted by version."""
    found = []
    for entry in resources.files("processors.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version, _, rest = entry.name.partition("_")
            found.append(Migration(int(version), rest.removesuffix(".sql"), entry.read_text()))
    return sorted(found, key=lambda migration: migration.version)


async def apply_migrations(dsn: str) -> list[Migration]:
    """Apply the pending migrations; return those applied now (empty when up to date)."""
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise DependencyUnavailable(f"PostgreSQL does not answer: {exc}") from exc
    applied_now: list[Migration] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version integer PRIMARY KEY, name text NOT NULL,
                       checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = {
                row["version"]: row["checksum"]
                for row in await conn.fetch("SELECT version, checksum FROM schema_migrations")
            }
            for migration in available_migrations():
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise QbdSyncError(
                            f"migration {migration.version:04d}_{migration.name} was edited after "
                            "it was applied; add a new migration instead"
                        )
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
                applied_now.append(migration)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await conn.close()
    return applied_now
