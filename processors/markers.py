"""The deterministic marker every QuickBooks object qbd-sync creates carries (DESIGN.md §4).

`externalId` is the only marker: a UUIDv5 of the event id in a fixed qbd-sync namespace, so
the same event always yields the same GUID, on any instance, after any crash. QuickBooks
stores it as a qbXML `GUIDTYPE`, whose pattern is `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`
(braces required, hex digits in either case), so that is the form we send. QuickBooks may
echo it back in another case (or Conductor without braces), so compare with
`same_external_id`, never with `==`.

We do not tag the memo. Every object type qbd-sync creates (invoices, receive-payments,
bills, sales receipts, purchase orders, customers, vendors, service and non-inventory
items) has an `externalId`, no list endpoint filters on memo text, and the memo is the
user's own text (capped at 4095 characters), so a tag would change what the user wrote and
buy no lookup power.
"""

from __future__ import annotations

import uuid
from typing import Final

__all__ = ["QBD_SYNC_NAMESPACE", "external_id_for", "same_external_id"]

QBD_SYNC_NAMESPACE: Final = uuid.UUID("6f1d3c2e-9a4b-5e07-8c61-2b7f0d4a9e13")
"""The UUIDv5 namespace of qbd-sync's external ids; changing it breaks adoption of old writes."""


def external_id_for(event_id: str) -> str:
    """The `externalId` GUID (braced, upper case) of the object created for `event_id`."""
    return "{" + str(uuid.uuid5(QBD_SYNC_NAMESPACE, event_id)).upper() + "}"


def _canonical(guid: str) -> str:
    return guid.strip().strip("{}").lower()


def same_external_id(found: str | None, expected: str) -> bool:
    """Whether an `externalId` read back from QuickBooks is `expected` (braces and case aside)."""
    return found is not None and _canonical(found) == _canonical(expected)
