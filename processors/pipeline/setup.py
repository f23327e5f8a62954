"""SetupLinks: a company's setup link (the hosted auth flow) and its prompt to the user.

``company.connect_requested`` creates the company's Conductor end-user (``sourceId`` =
companyid) and publishes ``qbd.connection.setup_link``; that prompt stays open until the
company connects, when ``resolve`` publishes ``qbd.attention.resolved`` (code
``SETUP_LINK``), at least once. Links are reused while valid, so a parked company does not
get a new one on every error. ``CompanyConnection`` uses this class; it changes no state.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from processors.attention import Cause
from processors.companies import CompanyBook
from processors.config import Settings
from processors.gateway import ConductorGateway
from processors.logs import get_logger
from processors.outcome import normalize
from processors.publish import Publisher
from schemas import SOURCE, AttentionCategory, AttentionData, OutboundType, make_cloudevent

__all__ = ["SETUP_LINK", "SetupLinks"]

log = get_logger("connection")

SETUP_LINK = "SETUP_LINK"
"""Attention code of the prompt ``company.connect_requested`` publishes."""

_LINK_MARGIN = timedelta(minutes=5)  # a link about to expire is not worth sending
_PROMPT = (
    "Connect QuickBooks Desktop: open the setup link on the computer that runs QuickBooks "
    "and follow the steps."
)
_CONNECTED = "QuickBooks Desktop is connected."


class SetupLinks:
    """Creates, reuses and publishes setup links; resolves the prompt once connected."""

    def __init__(
        self,
        *,
        settings: Settings,
        companies: CompanyBook,
        gateway: ConductorGateway,
        publisher: Publisher,
    ) -> None:
        self._settings = settings
        self._companies = companies
        self._gateway = gateway
        self._publisher = publisher

    async def with_link(self, company: str, cause: Cause) -> Cause:
        """``cause`` with a setup link: the stored one while valid, else a fresh one."""
        record = await self._companies.get(company)
        now = datetime.now(UTC)
        if (
            record.setup_link_url
            and record.setup_link_expires_at
            and record.setup_link_expires_at > now + _LINK_MARGIN
        ):
            return replace(cause, auth_flow_url=record.setup_link_url)
        end_user = record.end_user_id or await self._gateway.end_user_for(company)
        if end_user is None or not self._settings.conductor_publishable_key:
            return cause
        try:
            link = await self._gateway.create_auth_session(
                end_user, expiry_mins=self._settings.auth_link_expiry_mins
            )
        except Exception as exc:  # noqa: BLE001 - parking must not wait for a setup link
            log.warning(
                "could not create a setup link", company_id=company, error=normalize(exc).code
            )
            return cause
        await self._companies.setup_link(company, link.url, link.expires_at)
        log.info("setup link created", company_id=company, expires_at=link.expires_at.isoformat())
        return replace(cause, auth_flow_url=link.url)

    async def create_end_user(self, company: str, company_name: str, email: str | None) -> str:
        """The company's Conductor end-user (``sourceId`` = companyid), created if missing."""
        end_user = await self._gateway.create_end_user(company, company_name, email or "")
        await self._companies.set_end_user(
            company, end_user, company_name=company_name, email=email
        )
        return end_user

    async def prompt(self, company: str, *, event_id: str | None = None) -> str | None:
        """Publish ``qbd.connection.setup_link`` and keep the prompt open; the link's URL."""
        cause = await self.with_link(company, Cause(SETUP_LINK, AttentionCategory.SETUP, _PROMPT))
        now = datetime.now(UTC)
        data = AttentionData(
            code=cause.code,
            category=cause.category,
            user_facing_message=cause.user_facing_message,
            auth_flow_url=cause.auth_flow_url,
            event_ids=[event_id] if event_id else [],
            first_seen=now,
            last_seen=now,
        )
        body = make_cloudevent(OutboundType.CONNECTION_SETUP_LINK, SOURCE, company, data)
        await self._publisher.send(self._settings.needs_attention_topic, company.encode(), body)
        await self._companies.setup_prompted(company)
        return cause.auth_flow_url

    async def resolve(self, company: str) -> bool:
        """The company connected: close its open setup prompt, if any. True if one closed."""
        record = await self._companies.find(company)
        if record is None or record.setup_prompted_at is None:
            return False
        now = datetime.now(UTC)
        data = AttentionData(
            code=SETUP_LINK,
            category=AttentionCategory.SETUP,
            user_facing_message=_CONNECTED,
            first_seen=record.setup_prompted_at,
            last_seen=now,
        )
        await self._publisher.attention(company, data, resolved=True)
        await self._companies.setup_prompt_resolved(company)
        log.info("setup link prompt resolved: the company is connected", company_id=company)
        return True
