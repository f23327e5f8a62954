"""Migrations against the real PostgreSQL: idempotent and safe from two processes at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import asyncpg
import pytest

from processors.migrate import apply_migrations, available_migrations
from processors.testing import TestStack, unique_name


@pytest.fixture
async def fresh_database(stack: TestStack) -> str:
    """A new empty database on the session's server; its DSN."""
    name = unique_name("db").replace("-", "_")
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return stack.database_url.rsplit("/", 1)[0] + f"/{name}"


async def _tables(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await conn.close()
    return {row["table_name"] for row in rows}


async def test_migrations_apply_once_and_then_are_a_no_op(fresh_database: str) -> None:
    """The first run applies every migration; the second applies nothing and fails nothing."""
    first = await apply_migrations(fresh_database)
    second = await apply_migrations(fresh_database)

    assert [m.version for m in first] == [m.version for m in available_migrations()]
    assert second == []
    assert {"companies", "mappings", "ledger", "attention", "dlq_index"} <= await _tables(
        fresh_database
    )


async def test_concurrent_migrations_apply_each_version_exactly_once(fresh_database: str) -> None:
    """Two runners racing on one database apply every migration once between them."""
    results = await asyncio.gather(
        apply_migrations(fresh_database), apply_migrations(fresh_database)
    )

    applied = sorted(m.version for result in results for m in result)
    assert applied == [m.version for m in available_migrations()]


def test_migrate_command_reports_up_to_date_on_second_run(fresh_database: str) -> None:
    """`qbd-sync migrate` applies, then says the schema is up to date."""
    env = {"QBD_SYNC_DATABASE_URL": fresh_database, "PATH": ""}
    command = [sys.executable, "-m", "processors", "migrate"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    second = subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial" in first.stdout
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "database schema is up to date"
