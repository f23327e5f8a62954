"""No stale advice (issue 14, item 3): a parked company's new cause reaches its user.

Every QuickBooks connection problem shares the code ``QBD_CONNECTION_ERROR``, so one open
attention item covers them all; when the cause changes its message must be published again
(``revision`` one higher), while a repeat of the same cause is only counted.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import conductor
import pytest
from conductor import Conductor

from processors.config import Settings
from processors.devstack import DEV_SECRET_KEY
from processors.testing import (
    RunningService,
    TestStack,
    TopicReader,
    async_wait_for,
    create_topics,
    pipeline_settings,
    produce,
    unique_name,
)
from schemas import EventType, example_event


def user_facing(stack: TestStack, end_user: str) -> str:
    """The userFacingMessage Conductor answers for the company file's current state."""
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    with pytest.raises(conductor.APIStatusError) as failure:
        client.qbd.health_check(conductor_end_user_id=end_user)
    body: Any = failure.value.body
    return str(body["error"]["userFacingMessage"])


@pytest.fixture
async def quick_catchup(stack: TestStack) -> Settings:
    """Per-test topics, a catch-up health check every few tenths of a second."""
    settings = pipeline_settings(stack, catchup_interval="200ms")
    await create_topics(settings, 4)
    return settings


async def test_a_changed_cause_publishes_the_new_message_and_a_repeat_does_not(
    stack: TestStack, quick_catchup: Settings, db: asyncpg.Pool, reader: Any
) -> None:
    """Dialog open, then permissions reset: two revisions; more of the same: no third."""
    settings = quick_catchup
    name = unique_name("acct")
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(company_name=name, email="o@example.com", source_id=name)
    stack.simulator.set_state(end_user.id, "dialog_open")
    dialog = user_facing(stack, end_user.id)
    attention: TopicReader = reader(settings, settings.needs_attention_topic)
    event = example_event(EventType.CUSTOMER_UPSERTED, companyid=name, id=unique_name("evt"))

    async def occurrences() -> int:
        count = await db.fetchval(
            "SELECT occurrences FROM attention WHERE company_id = $1 AND resolved_at IS NULL",
            name,
        )
        return int(count or 0)

    async with RunningService(settings):
        await produce(settings, [event])
        await attention.wait_for(lambda found: any(e["companyid"] == name for e in found))
        stack.simulator.set_state(end_user.id, "permissions_reset")
        permissions = user_facing(stack, end_user.id)
        await attention.wait_for(
            lambda found: any(e["data"]["user_facing_message"] == permissions for e in found)
        )
        seen = await occurrences()
        await async_wait_for(
            lambda: _more(occurrences(), than=seen), what="another failed catch-up"
        )
    await attention.drain()
    needed = [
        e["data"]
        for e in attention.events()
        if e["companyid"] == name and e["type"] == "qbd.attention.needed"
    ]

    assert [(n["code"], n["revision"]) for n in needed] == [
        ("QBD_CONNECTION_ERROR", 1),
        ("QBD_CONNECTION_ERROR", 2),
    ]
    assert [n["user_facing_message"] for n in needed] == [dialog, permissions]
    assert needed[0]["first_seen"] == needed[1]["first_seen"]
    assert dialog != permissions


async def _more(count: Any, *, than: int) -> bool:
    return bool(await count > than)
