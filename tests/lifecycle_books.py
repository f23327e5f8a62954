"""A connected company file and event builders for the lifecycle integration tests.

``open_books`` creates an online end-user seeded with the demo company file; ``setup`` maps
the app ids the example events use onto its seeded customer, vendor, items, accounts and
payment methods, so every example event of CONTRACT.md section 4 can sync as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conductor import Conductor

from processors.devstack import DEV_SECRET_KEY
from processors.testing import TestStack, TopicReader, unique_name
from schemas import EventType, example_event

__all__ = ["Books", "event", "open_books", "result_of", "results_for", "wait_results"]


@dataclass(frozen=True)
class Books:
    """A company (its id is the end-user's sourceId) and its seeded QuickBooks ids by name."""

    id: str
    end_user: str
    ids: dict[str, str]
    stack: TestStack

    def objects(self, kind: str) -> list[dict[str, Any]]:
        """Every object of ``kind`` (an API path name) in the company file."""
        return list(self.stack.simulator.objects(self.end_user, kind))

    def mine(self, kind: str) -> list[dict[str, Any]]:
        """The objects of ``kind`` qbd-sync wrote (seeded ones carry no externalId)."""
        return [obj for obj in self.objects(kind) if obj.get("externalId")]

    def get(self, kind: str, qbd_id: str) -> dict[str, Any] | None:
        """One object of the company file, or None when it is not (or no longer) there."""
        return next((obj for obj in self.objects(kind) if obj["id"] == qbd_id), None)

    def setup(self) -> list[dict[str, Any]]:
        """``mapping.set`` events linking the example events' app ids to seeded objects."""
        first = {
            kind: self.objects(kind)[0]["id"]
            for kind in ("customers", "vendors", "service-items", "non-inventory-items")
        }
        accounts = {obj["accountType"]: obj["id"] for obj in reversed(self.objects("accounts"))}
        links = [
            ("customer", "cus_1001", first["customers"]),
            ("vendor", "ven_77", first["vendors"]),
            ("item", "item_consulting", first["service-items"]),
            ("item", "item_pipe", first["non-inventory-items"]),
            ("account", "acct_sales", accounts["income"]),
            ("account", "acct_supplies", accounts["expense"]),
            ("account", "acct_undeposited", accounts["other_current_asset"]),
            ("payment_method", "pm_card", self.ids["Visa"]),
            ("payment_method", "pm_cash", self.ids["Cash"]),
        ]
        return [
            event(self, EventType.MAPPING_SET, object_type=kind, app_id=app_id, qbd_id=qbd_id)
            for kind, app_id, qbd_id in links
        ]


def open_books(stack: TestStack) -> Books:
    """An online end-user for a new company, seeded with the demo company file."""
    company = unique_name("acct")
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(
        company_name=company, email="o@example.com", source_id=company
    )
    stack.simulator.connect(end_user.id)
    stack.simulator.seed(end_user.id, demo=True)
    ids = {
        obj["name"]: obj["id"]
        for kind in ("payment-methods", "standard-terms")
        for obj in stack.simulator.objects(end_user.id, kind)
    }
    return Books(company, end_user.id, ids, stack)


def event(books: Books, event_type: EventType, **data: Any) -> dict[str, Any]:
    """The example event of ``event_type`` for the company, a fresh id, ``data`` on top.

    A value of None removes that field (the example invoice names terms the company file
    does not have).
    """
    built = example_event(event_type, companyid=books.id, id=unique_name(f"evt-{event_type}"))
    built["data"].update(data)
    built["data"] = {key: value for key, value in built["data"].items() if value is not None}
    return built


def result_of(events: list[dict[str, Any]], event_id: str) -> dict[str, Any] | None:
    """The data of the sync result of ``event_id``, if it arrived."""
    return next((e["data"] for e in events if e["data"]["event_id"] == event_id), None)


def results_for(stream: list[dict[str, Any]]) -> Callable[[list[dict[str, Any]]], bool]:
    """Predicate: every event of ``stream`` has its sync result."""
    wanted = {item["id"] for item in stream}

    def arrived(events: list[dict[str, Any]]) -> bool:
        return wanted <= {e["data"]["event_id"] for e in events}

    return arrived


async def wait_results(results: TopicReader, stream: list[dict[str, Any]]) -> dict[str, Any]:
    """Wait for the sync result of every event of ``stream``; by event id."""
    events = await results.wait_for(results_for(stream), timeout=120)
    return {e["data"]["event_id"]: e["data"] for e in events}
