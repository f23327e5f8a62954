"""Companies and events the integration tests share: an online company, a new customer."""

from __future__ import annotations

from typing import Any, NamedTuple

from conductor import Conductor

from processors.devstack import DEV_SECRET_KEY
from processors.testing import TestStack, unique_name
from schemas import EventType, example_event

__all__ = ["Company", "connected", "customer"]


class Company(NamedTuple):
    """A company with a Conductor end-user (sourceId = id); unpacks as ``(id, end_user)``."""

    id: str
    end_user: str


def connected(stack: TestStack) -> Company:
    """An online company with an empty company file."""
    name = unique_name("acct")
    client = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    end_user = client.end_users.create(company_name=name, email="o@example.com", source_id=name)
    stack.simulator.connect(end_user.id)
    return Company(name, end_user.id)


def customer(company: str, n: int = 0) -> dict[str, Any]:
    """A new customer for ``company``."""
    event = example_event(
        EventType.CUSTOMER_UPSERTED, companyid=company, id=unique_name(f"evt-cus{n}")
    )
    event["data"].update(customer_id=f"cus-{n}", name=f"{company}-{n}")
    return event
