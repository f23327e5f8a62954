"""Events about the company and the sync itself, rather than one QuickBooks object."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from schemas.fields import AppId, Email, IsoDate, PartyName, QbdId
from schemas.names import DEFAULT_REFERENCE_LISTS, ObjectType, ReferenceList
from schemas.refs import EventData, Identifies

__all__ = [
    "CompanyConnectRequested",
    "CompanySettingsUpdated",
    "MappingSet",
    "ReferencePullRequested",
    "SyncRequested",
]


class CompanyConnectRequested(EventData):
    """`company.connect_requested`: create the Conductor end-user and a setup link."""

    company_name: PartyName
    email: Email | None = None


class CompanySettingsUpdated(EventData):
    """`company.settings_updated`: the company's closing date (null removes it).

    Writes dated on or before the closing date are refused before they reach QuickBooks
    (pre-flight code `BEFORE_CLOSING_DATE`).
    """

    closing_date: IsoDate | None


class MappingSet(EventData):
    """`mapping.set`: link an app object to a QuickBooks object the user chose."""

    object_type: ObjectType
    mapped_app_id: Annotated[AppId, Identifies(), Field(alias="app_id")]
    qbd_id: QbdId


class SyncRequested(EventData):
    """`sync.requested`: health-check the company and replay its parked work."""


class ReferencePullRequested(EventData):
    """`reference.pull_requested`: publish QuickBooks lists (or invoice status) to `qbd.reference`.

    Without `object_types` it pulls customers, vendors, items, accounts, classes and terms.
    """

    object_types: Annotated[list[ReferenceList], Field(min_length=1)] = Field(
        default_factory=lambda: list(DEFAULT_REFERENCE_LISTS)
    )
