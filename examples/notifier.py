"""A notification service for qbd-sync's users, with the FastStream kit.

It reads what qbd-sync reports and prints what it would send each company: setup links,
attention messages (opened, changed, resolved) and failed syncs. Successful syncs are only
counted. Run it next to `qbd-sync dev --env-file .env.dev`, from the same directory:

    .venv/bin/python examples/notifier.py --seconds 60

It stops after `--seconds` (or on Ctrl-C) and prints what each company should see now.
Without `--group` it reads both topics from the start, so the picture is complete; with a
consumer group it goes on where the group left off, as a deployed notifier would.

`python examples/notifier.py --asyncapi` prints FastStream's AsyncAPI document instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from processors.kit import (
    AttentionBoard,
    AttentionEvent,
    BoardChange,
    SyncResultEvent,
    attention_subscriber,
    kafka_broker,
    sync_results_subscriber,
)
from schemas import AttentionData, OutboundType, Topic


@dataclass(frozen=True)
class Notice:
    """One message the notifier would send to a company's users."""

    company_id: str
    kind: str
    """`setup_link`, `attention`, `attention_changed`, `resolved` or `sync_failed`."""
    text: str


class Notifier:
    """Turns qbd-sync's attention events and sync results into notices per company."""

    def __init__(
        self,
        broker: KafkaBroker,
        *,
        group_id: str | None = None,
        attention_topic: str = Topic.NEEDS_ATTENTION,
        results_topic: str = Topic.SYNC_RESULTS,
        send: Callable[[Notice], None] = lambda notice: None,
    ) -> None:
        self.board = AttentionBoard()
        self.notices: list[Notice] = []
        self.synced: Counter[str] = Counter()
        self._send = send

        @attention_subscriber(broker, group_id=group_id, topic=attention_topic)
        async def on_attention(event: AttentionEvent) -> None:
            """Keep the board current; notify when what a company should see changes."""
            before = self.board.item(event.companyid, event.data.code)
            change = self.board.apply(event)
            data = event.data
            if event.type is OutboundType.CONNECTION_SETUP_LINK:
                if before is None or before.auth_flow_url != data.auth_flow_url:
                    link = f"Connect QuickBooks Desktop: {data.auth_flow_url}"
                    self._notify(event.companyid, "setup_link", link)
            elif change is BoardChange.OPENED:
                self._notify(event.companyid, "attention", _shown(data))
            elif change is BoardChange.UPDATED and before is not None:
                if before.user_facing_message != data.user_facing_message:
                    self._notify(event.companyid, "attention_changed", _shown(data))
            elif change is BoardChange.RESOLVED:
                self._notify(event.companyid, "resolved", f"Fixed: {data.code}")

        @sync_results_subscriber(broker, group_id=group_id, topic=results_topic)
        async def on_result(event: SyncResultEvent) -> None:
            """Count what synced; tell the company about what failed and why."""
            result = event.data
            if event.type is OutboundType.SYNC_SUCCEEDED:
                self.synced[event.companyid] += 1
                return
            reason = result.error.user_facing_message if result.error else "unknown error"
            what = f"{result.event_type} {result.app_id or result.event_id}"
            self._notify(event.companyid, "sync_failed", f"Could not sync {what}: {reason}")

    def _notify(self, company_id: str, kind: str, text: str) -> None:
        notice = Notice(company_id, kind, text)
        self.notices.append(notice)
        self._send(notice)

    def summary(self) -> list[str]:
        """What each company should see now: open attention items and sync counts."""
        companies = sorted(set(self.synced) | set(self.board.companies()))
        lines = []
        for company in companies:
            lines.append(f"{company}: {self.synced[company]} synced")
            for item in self.board.shown(company):
                lines.append(
                    f"  open {item.code} (x{item.occurrences}): {item.user_facing_message}"
                )
        return lines


def _shown(data: AttentionData) -> str:
    return f"[{data.category}] {data.user_facing_message}"


def _print(notice: Notice) -> None:
    print(f"to {notice.company_id} [{notice.kind}] {notice.text}", flush=True)


def specification() -> dict[str, Any]:
    """FastStream's AsyncAPI 3 document of this app."""
    broker = KafkaBroker()
    Notifier(broker, group_id="notifier")
    document = AsyncAPI(broker, title="notifier", schema_version="3.0.0")
    result: dict[str, Any] = json.loads(document.to_specification().to_json())
    return result


async def main(seconds: float | None, group_id: str | None) -> None:
    """Notify until `seconds` have passed or SIGINT/SIGTERM, then print the summary."""
    logging.basicConfig(level=logging.WARNING)  # FastStream's errors, not a line per record
    broker = kafka_broker(logger=logging.getLogger("notifier"))
    notifier = Notifier(broker, group_id=group_id, send=_print)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("notifier listening (Ctrl-C stops)", flush=True)
    async with broker:
        await broker.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
    print("\nwhat each company should see now:")
    for line in notifier.summary():
        print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, help="stop after this many seconds")
    parser.add_argument("--group", help="consumer group (default: read from the start)")
    parser.add_argument("--asyncapi", action="store_true", help="print the AsyncAPI document")
    args = parser.parse_args()
    if args.asyncapi:
        json.dump(specification(), sys.stdout, indent=2)
    else:
        asyncio.run(main(args.seconds, args.group))
