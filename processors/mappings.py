"""MappingStore: the app's ids to QuickBooks ids, per company and object type.

A mapping also remembers what became of its object (``processors.writes.ObjectState``): the
app voided or deleted it, or someone deleted it in QuickBooks. A later update of such an
object fails clearly instead of reaching QuickBooks; a ``mapping.set`` makes the mapping
active again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from processors.group_commit import GroupCommit
from processors.writes import ObjectState
from schemas import ObjectType, Ref

__all__ = ["Mapping", "MappingStore"]


@dataclass(frozen=True, slots=True)
class Mapping:
    """One app object linked to one QuickBooks object."""

    company_id: str
    object_type: str
    app_id: str
    qbd_id: str
    revision_number: str | None
    source: str
    state: ObjectState = ObjectState.ACTIVE


_RESOLVE = """SELECT m.*, $4::int AS batch_seq FROM mappings m
               JOIN unnest($2::text[], $3::text[]) AS w(object_type, app_id)
                 ON m.object_type = w.object_type AND m.app_id = w.app_id
               WHERE m.company_id = $1"""


class MappingStore:
    """Reads and writes the ``mappings`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._resolve = GroupCommit(pool, _RESOLVE)  # every event resolves: lanes share trips

    async def resolve(self, company_id: str, refs: Iterable[Ref]) -> dict[Ref, Mapping]:
        """The mappings that exist for ``refs`` (missing ones are left out)."""
        wanted = list(dict.fromkeys(refs))
        if not wanted:
            return {}
        rows = await self._resolve.fetch(
            company_id,
            [str(ref.object_type) for ref in wanted],
            [ref.app_id for ref in wanted],
        )
        found = {}
        for row in rows:
            mapping = _mapping(row)
            found[Ref(ObjectType(mapping.object_type), mapping.app_id)] = mapping
        return found

    async def get(self, company_id: str, object_type: str, app_id: str) -> Mapping | None:
        """One mapping, if it exists."""
        row = await self._pool.fetchrow(
            """SELECT * FROM mappings
               WHERE company_id = $1 AND object_type = $2 AND app_id = $3""",
            company_id,
            object_type,
            app_id,
        )
        return None if row is None else _mapping(row)

    async def put(
        self,
        company_id: str,
        object_type: str,
        app_id: str,
        qbd_id: str,
        *,
        revision_number: str | None = None,
        source: str = "sync",
    ) -> None:
        """Create or replace a mapping (an active one: the object is there to be written)."""
        await self._pool.execute(
            """INSERT INTO mappings (company_id, object_type, app_id, qbd_id, revision_number,
                                     source)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (company_id, object_type, app_id) DO UPDATE
                  SET qbd_id = EXCLUDED.qbd_id, revision_number = EXCLUDED.revision_number,
                      source = EXCLUDED.source, state = 'active', updated_at = now()""",
            company_id,
            object_type,
            app_id,
            qbd_id,
            revision_number,
            source,
        )

    async def set_state(
        self, company_id: str, object_type: str, app_id: str, state: ObjectState
    ) -> None:
        """Remember what became of the mapped object (e.g. deleted in QuickBooks)."""
        await self._pool.execute(
            """UPDATE mappings SET state = $4, updated_at = now()
               WHERE company_id = $1 AND object_type = $2 AND app_id = $3""",
            company_id,
            object_type,
            app_id,
            str(state),
        )

    async def of_qbd_ids(
        self, company_id: str, object_type: str, qbd_ids: Sequence[str]
    ) -> dict[str, Mapping]:
        """The mappings of the given QuickBooks ids (ids mapped to no app id are left out)."""
        rows = await self._pool.fetch(
            """SELECT * FROM mappings
               WHERE company_id = $1 AND object_type = $2 AND qbd_id = ANY($3::text[])""",
            company_id,
            object_type,
            list(qbd_ids),
        )
        return {row["qbd_id"]: _mapping(row) for row in rows}

    async def first_mapped_at(self, company_id: str, object_type: str) -> datetime | None:
        """When the company's oldest mapping of ``object_type`` was written (None: none)."""
        found: datetime | None = await self._pool.fetchval(
            """SELECT min(updated_at) FROM mappings
               WHERE company_id = $1 AND object_type = $2""",
            company_id,
            object_type,
        )
        return found

    async def all(self, company_id: str | None = None) -> list[Mapping]:
        """Every mapping (of one company), ordered for export."""
        rows = await self._pool.fetch(
            """SELECT * FROM mappings WHERE $1::text IS NULL OR company_id = $1
               ORDER BY company_id, object_type, app_id""",
            company_id,
        )
        return [_mapping(row) for row in rows]


def _mapping(row: asyncpg.Record) -> Mapping:
    return Mapping(
        company_id=row["company_id"],
        object_type=row["object_type"],
        app_id=row["app_id"],
        qbd_id=row["qbd_id"],
        revision_number=row["revision_number"],
        source=row["source"],
        state=ObjectState(row["state"]),
    )
