"""What the two baselines share: arguments, the Conductor client and the one write call.

Both baselines make exactly the call qbd-sync makes for an event (the same write plan via
the same SDK, retries off), so the comparison isolates what qbd-sync adds around it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

import conductor
import httpx

from processors.intake import Accepted, decode
from processors.writes import plan_write

__all__ = ["Caller", "parse_args", "stop_event"]


def parse_args(description: str) -> argparse.Namespace:
    """``--bootstrap --topic --group --base-url [--results-topic] [--concurrency]``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", default="sk_test_bench")
    parser.add_argument("--results-topic", default="")
    parser.add_argument("--concurrency", type=int, default=1)
    return parser.parse_args()


def stop_event() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


class Caller:
    """Decode a record, plan its write and call Conductor; nothing else."""

    def __init__(self, base_url: str, api_key: str, *, connections: int = 1) -> None:
        # The transport qbd-sync's gateway uses: aiohttp, a kept-alive connection per call
        # in flight (plus the gateway's spare ones).
        size = connections + 32
        self.client = conductor.AsyncConductor(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,
            timeout=120,
            http_client=conductor.DefaultAioHttpClient(
                timeout=120,
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            ),
        )
        self._end_users: dict[str, str] = {}

    async def end_user(self, company: str) -> str:
        """The end-user whose sourceId is ``company`` (listed once, like the gateway does)."""
        if company not in self._end_users:
            listing = await self.client.end_users.list()
            self._end_users = {user.source_id: user.id for user in listing.data}
        return self._end_users[company]

    async def call(self, value: bytes, key: bytes | None) -> Any:
        """Run the record's write; return the created object (None for bad input)."""
        outcome = decode(value, key)
        if not isinstance(outcome, Accepted):
            return None
        event = outcome.event
        plan = plan_write(event, {})
        end_user = await self.end_user(event.companyid)
        method = getattr(getattr(self.client.qbd, plan.resource), plan.op)
        try:
            return await method(conductor_end_user_id=end_user, **plan.params)
        except conductor.APIError:
            return None  # a baseline has no outcome policy: the error is dropped
