"""The operations dashboard on a running processor, with realistic data from a real pipeline.

Four companies: Acme Plumbing syncs normally, Bluebird Bakery's QuickBooks is offline (its
work is parked), Cedar Dental has a customer QuickBooks refused (duplicate name) and Delta
Freight never connected. The httpx tests always run; the browser tests drive Debian's
Chromium over the DevTools protocol when ``/usr/bin/chromium`` exists (CI machines without
it skip them) and save screenshots to ``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from conductor import Conductor
from starlette.applications import Starlette

from processors.config import Settings
from processors.dashboard import Dashboard
from processors.db import connect_pool
from processors.devstack import DEV_SECRET_KEY
from processors.metrics import Metrics
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

TOKEN = "adm_9c4e1f7a2b"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()


@dataclass
class Scene:
    """The running processor and what the test set up."""

    settings: Settings
    service: Any
    client: httpx.AsyncClient
    companies: dict[str, str] = field(default_factory=dict)  # short name -> company id
    end_users: dict[str, str] = field(default_factory=dict)
    failed_event: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)

    async def summary(self) -> dict[str, Any]:
        """``GET /v1/dashboard``."""
        response = await self.client.get("/v1/dashboard")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def company(self, summary: dict[str, Any], short: str) -> dict[str, Any]:
        """One company's row in a summary."""
        wanted = self.companies[short]
        return next(c for c in summary["companies"] if c["company_id"] == wanted)


def _event(event_type: EventType, company: str, **data: Any) -> dict[str, Any]:
    event = example_event(event_type, companyid=company, id=unique_name(f"evt-{event_type}"))
    event["data"].update(data)
    return event


def _customer(company: str, customer_id: str, name: str) -> dict[str, Any]:
    return _event(EventType.CUSTOMER_UPSERTED, company, customer_id=customer_id, name=name,
                  company_name=None)  # fmt: skip


async def _build_scene(stack: TestStack, scene: Scene) -> None:
    """Connect three companies, sync, then take Bluebird offline and make Cedar fail once."""
    names = {"acme": "Acme Plumbing LLC", "bluebird": "Bluebird Bakery",
             "cedar": "Cedar Dental Group", "delta": "Delta Freight Co"}  # fmt: skip
    scene.companies = {short: unique_name(short) for short in names}
    sampler = scene.service.dashboard.sampler
    await produce(scene.settings, [
        _event(EventType.COMPANY_CONNECT_REQUESTED, scene.companies[short],
               company_name=names[short], email=f"books@{short}.example")
        for short in ("acme", "bluebird", "cedar")
    ])  # fmt: skip

    async def linked() -> bool:
        summary = await scene.summary()
        rows = {c["company_id"]: c for c in summary["companies"]}
        return all((rows.get(scene.companies[s]) or {}).get("end_user_id")
                   for s in ("acme", "bluebird", "cedar"))  # fmt: skip

    await async_wait_for(linked, timeout=60, what="three end-users")
    summary = await scene.summary()
    for short in ("acme", "bluebird", "cedar"):
        scene.end_users[short] = scene.company(summary, short)["end_user_id"]
    stack.simulator.set_state(scene.end_users["bluebird"], "offline")
    first = [
        *(_customer(scene.companies["acme"], f"cus_{n}", f"{name} Ltd")
          for n, name in enumerate(["Harbor Cafe", "Nguyen Family", "Oak & Iron", "Patel Dental",
                                    "Quill Books", "Rivera Roofing"])),
        *(_customer(scene.companies["bluebird"], f"cus_{n}", name)
          for n, name in enumerate(["Morning Market", "Sunrise Deli", "Corner Cafe"])),
        _customer(scene.companies["cedar"], "cus_1", "Dana Whitfield"),
        _customer(scene.companies["cedar"], "cus_2", "Dana Whitfield"),
        _customer(scene.companies["delta"], "cus_1", "Northwind Traders"),
    ]  # fmt: skip
    scene.failed_event = first[10]["id"]
    reader = TopicReader(scene.settings, scene.settings.sync_results_topic)
    try:
        await produce(scene.settings, first)
        sampler.sample()
        results = await reader.wait_for(lambda found: len(found) >= 8, timeout=90)
        sampler.sample()

        async def parked() -> bool:
            summary = await scene.summary()
            return (scene.company(summary, "bluebird")["parked"] == 3
                    and scene.company(summary, "delta")["parked"] == 1)  # fmt: skip

        await async_wait_for(parked, timeout=60, what="bluebird and delta parked")
        sampler.sample()
        scene.results = results
    finally:
        await reader.close()


@pytest.fixture(scope="module")
async def scene(stack: TestStack) -> AsyncIterator[Scene]:
    """A processor with an admin token, its HTTP client, and the four companies' data."""
    settings = pipeline_settings(stack, admin_token=TOKEN, max_concurrent_companies=8)
    await create_topics(settings, 4)
    async with (
        RunningService(settings) as service,
        httpx.AsyncClient(base_url=service.http.url, timeout=60) as client,
    ):
        built = Scene(settings, service, client)
        await _build_scene(stack, built)
        yield built


async def test_summary_shows_companies_attention_dlq_and_failures(scene: Scene) -> None:
    """The JSON summary has each company's state and parked count, attention, DLQ and failures."""
    summary = await scene.summary()

    assert scene.company(summary, "acme")["state"] == "online"
    assert scene.company(summary, "bluebird")["state"] == "parked"
    assert scene.company(summary, "bluebird")["last_error"]["code"]
    assert scene.company(summary, "delta")["parked"] == 1
    categories = {(a["company_id"], a["category"]) for a in summary["attention"]}
    assert (scene.companies["bluebird"], "connection") in categories
    assert (scene.companies["delta"], "setup") in categories
    assert (scene.companies["cedar"], "data") in categories
    ours = set(scene.companies.values())  # the database is shared with other tests
    failed = [f["event_id"] for f in summary["failed"] if f["company_id"] in ours]
    assert failed == [scene.failed_event]
    parked = {
        d["company_id"]
        for d in summary["dlq"]
        if d["status"] == "parked" and d["company_id"] in ours
    }
    assert parked == {scene.companies["bluebird"], scene.companies["delta"]}
    assert summary["totals"]["synced"] >= 7
    assert summary["read_only"] is False


async def test_page_renders_every_section(scene: Scene) -> None:
    """``GET /`` is HTML with the companies, attention, failed, DLQ and chart sections."""
    response = await scene.client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for section in ('id="companies"', 'id="attention"', 'id="failed"', 'id="dlq"', "<svg"):
        assert section in html
    assert "Bluebird Bakery" in html
    assert 'id="admin-token"' in html


async def test_dlq_record_shows_original_event_and_headers(scene: Scene) -> None:
    """A parked record's page shows the original CloudEvent and the qbd-* DLQ headers."""
    summary = await scene.summary()
    row = next(d for d in summary["dlq"] if d["company_id"] == scene.companies["delta"])
    path = f"/v1/dashboard/dlq/{row['dlq_partition']}/{row['dlq_offset']}"

    body = (await scene.client.get(path)).json()
    page = await scene.client.get(path.replace("/v1/dashboard", "/dashboard"))

    assert body["record"]["event"]["id"] == row["event_id"]
    assert body["record"]["event"]["data"]["name"] == "Northwind Traders"
    headers = dict(body["record"]["headers"])
    assert headers["qbd-original-topic"] == scene.settings.input_topics[0]
    assert "qbd-parked-reason" in headers
    assert page.status_code == 200
    assert "Northwind Traders" in page.text


async def test_actions_need_the_admin_token(scene: Scene) -> None:
    """Without the bearer token, or with a wrong one, an action answers 401 and does nothing."""
    path = f"/v1/dashboard/companies/{scene.companies['bluebird']}/replay"

    missing = await scene.client.post(path)
    wrong = await scene.client.post(path, headers={"Authorization": "Bearer nope"})

    assert missing.status_code == 401
    assert wrong.status_code == 401
    assert "admin token" in wrong.json()["error"]


async def test_without_admin_token_the_dashboard_is_read_only(
    stack: TestStack, scene: Scene
) -> None:
    """With QBD_SYNC_ADMIN_TOKEN unset, buttons are disabled and actions answer 403."""
    settings = scene.settings.model_copy(update={"admin_token": None})
    pool = await connect_pool(stack.database_url)
    try:
        dashboard = Dashboard(settings, pool, Metrics(), scene.service.publisher)
        app = Starlette(routes=dashboard.routes())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dash") as client:
            page = await client.get("/")
            action = await client.post(
                f"/v1/dashboard/companies/{scene.companies['bluebird']}/replay",
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
    finally:
        await pool.close()

    assert page.status_code == 200
    assert "read-only" in page.text
    assert "<form" not in page.text
    assert action.status_code == 403
    assert "QBD_SYNC_ADMIN_TOKEN" in action.json()["error"]


# -- in a real browser --------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One table row as shown: the heading it sits under, its text, and its buttons."""

    section: str
    text: str
    buttons: dict[str, int]
    """Button label -> DOM node (for ``Browser.click``)."""


def _row(rows: list[Row], section: str, text: str) -> Row:
    """The one row under a heading starting with ``section`` whose text contains ``text``."""
    found = [r for r in rows if r.section.lower().startswith(section) and text in r.text]
    assert len(found) == 1, (section, text, rows)
    return found[0]


class Browser:
    """Headless Chromium driven over the DevTools protocol (just what these tests need)."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._next = 0
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            data = orjson.loads(message)
            if "id" in data and data["id"] in self._replies:
                self._replies.pop(data["id"]).set_result(data)
            else:
                await self._events.put(data)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result."""
        self._next += 1
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[self._next] = reply
        message = {"id": self._next, "method": method, "params": params}
        await self._ws.send(orjson.dumps(message).decode())  # a text frame, as DevTools wants
        data = await asyncio.wait_for(reply, 30)
        assert "error" not in data, data
        result: dict[str, Any] = data["result"]
        return result

    async def loaded(self) -> None:
        """Wait for the next page load to finish."""
        async with asyncio.timeout(30):
            while (await self._events.get()).get("method") != "Page.loadEventFired":
                pass

    async def goto(self, url: str) -> None:
        """Open ``url`` and wait until it has loaded."""
        await self.call("Page.navigate", url=url)
        await self.loaded()

    async def js(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page and return its value."""
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def rows(self) -> list[Row]:
        """Every table row on the page as a user (or a screen reader) meets it, in page order.

        Read from the accessibility tree, so it depends on what the page shows and its
        headings, not on how the HTML is put together.
        """
        nodes = {
            node["nodeId"]: node
            for node in (await self.call("Accessibility.getFullAXTree"))["nodes"]
        }
        rows: list[Row] = []
        section = ""

        def texts(node: dict[str, Any]) -> list[str]:
            role, name = node["role"]["value"], node.get("name", {}).get("value", "")
            if role in ("StaticText", "button"):
                return [name]
            return [
                t
                for child in node.get("childIds", [])
                if child in nodes
                for t in texts(nodes[child])
            ]

        def walk(node: dict[str, Any]) -> None:
            nonlocal section
            role = node["role"]["value"]
            if role == "heading":
                section = " ".join(texts(node))
            if role == "row":
                buttons: dict[str, int] = {}
                self._buttons(nodes, node, buttons)
                rows.append(Row(section, " ".join(texts(node)), buttons))
                return
            for child in node.get("childIds", []):
                if child in nodes:
                    walk(nodes[child])

        walk(next(iter(nodes.values())))
        return rows

    @staticmethod
    def _buttons(nodes: dict[str, Any], node: dict[str, Any], found: dict[str, int]) -> None:
        if node["role"]["value"] == "button":
            found[node.get("name", {}).get("value", "")] = node["backendDOMNodeId"]
        for child in node.get("childIds", []):
            if child in nodes:
                Browser._buttons(nodes, nodes[child], found)

    async def textbox(self, name: str) -> int:
        """The DOM node of the text field a user knows as ``name`` (its label or placeholder)."""
        nodes = (await self.call("Accessibility.getFullAXTree"))["nodes"]
        return next(
            n["backendDOMNodeId"]
            for n in nodes
            if n["role"]["value"] == "textbox" and n.get("name", {}).get("value") == name
        )

    async def type_into(self, node: int, text: str) -> None:
        """Focus a field and type ``text`` into it, as keystrokes would."""
        await self.call("DOM.focus", backendNodeId=node)
        await self.call("Input.insertText", text=text)

    async def click(self, node: int) -> None:
        """Press and release the mouse over the middle of a node, like a user's click."""
        quad = (await self.call("DOM.getBoxModel", backendNodeId=node))["model"]["content"]
        x, y = sum(quad[0::2]) / 4, sum(quad[1::2]) / 4
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.call(
                "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
            )

    async def screenshot(self, name: str) -> Path:
        """Save a full-page PNG to ``test-artifacts/<name>.png``."""
        import base64

        size = (await self.call("Page.getLayoutMetrics"))["cssContentSize"]
        shot = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                               clip={"x": 0, "y": 0, "width": size["width"],
                                     "height": size["height"], "scale": 1})  # fmt: skip
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    async def close(self) -> None:
        """Stop reading and close the socket."""
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._ws.close()


def _devtools_port(profile: Path) -> int | None:
    """The port Chromium wrote to its profile once DevTools listens."""
    port_file = profile / "DevToolsActivePort"
    text = port_file.read_text().strip() if port_file.exists() else ""
    return int(text.split()[0]) if text else None


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's headless Chromium, or a skip saying how to get it."""
    if not HAVE_CHROMIUM:
        pytest.skip("no /usr/bin/chromium: `apt-get install -y chromium` runs the browser tests")
    from websockets.asyncio.client import connect

    profile = Path(tempfile.mkdtemp(prefix="qbd-chromium-"))
    process = await asyncio.create_subprocess_exec(
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--remote-debugging-port=0",
        "--window-size=1440,1000", "about:blank",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while (port := _devtools_port(profile)) is None:
            assert process.returncode is None, "chromium exited before it listened"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient() as http:
            targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
        page = next(t for t in targets if t["type"] == "page")
        ws = await connect(page["webSocketDebuggerUrl"], max_size=None)
        driver = Browser(ws)
        await driver.call("Page.enable")
        await driver.call("Emulation.setDeviceMetricsOverride", width=1440, height=1000,
                          deviceScaleFactor=1, mobile=False)  # fmt: skip
        yield driver
        await driver.close()
    finally:
        # /usr/bin/chromium is a wrapper script: stop the whole process group it started.
        os.killpg(process.pid, signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
        shutil.rmtree(profile, ignore_errors=True)


async def test_browser_shows_companies_parked_work_and_attention(
    scene: Scene, browser: Browser
) -> None:
    """In Chromium each company shows its state and parked count, with its attention and DLQ."""
    await browser.goto(str(scene.client.base_url.join("/")))
    shot = await browser.screenshot("dashboard")
    rows = await browser.rows()
    summary = await scene.summary()

    ours = {short: scene.companies[short] for short in ("acme", "bluebird", "cedar", "delta")}
    names = {
        "acme": "Acme Plumbing LLC",
        "bluebird": "Bluebird Bakery",
        "cedar": "Cedar Dental Group",
        "delta": ours["delta"],
    }
    # By company id: other tests' companies share the database and may share a name.
    states = {short: _row(rows, "compan", ours[short]).text for short in ours}
    for short, name in names.items():
        assert name in states[short]
    assert "online" in states["acme"]
    assert "parked" not in states["acme"]
    assert "online" in states["cedar"]
    assert "parked" in states["bluebird"]
    assert " 3 " in f" {states['bluebird']} "
    assert "parked" in states["delta"]
    assert " 1 " in f" {states['delta']} "
    shown = {
        (item["company_id"], item["category"]): item["user_facing_message"][:60]
        for item in summary["attention"]
        if item["company_id"] in ours.values()
    }
    assert set(shown) == {
        (ours["bluebird"], "connection"),
        (ours["delta"], "setup"),
        (ours["cedar"], "data"),
    }
    for (company, category), message in shown.items():
        row = _row(rows, "needs attention", company)
        assert category in row.text
        assert message in row.text
    parked = [d for d in summary["dlq"] if d["company_id"] in ours.values()]
    assert len(parked) == 4
    for record in parked:
        assert (
            ours[record["company_id"].split("-")[0]]
            in _row(rows, "parked", record["event_id"]).text
        )
    assert shot.stat().st_size > 10_000


async def test_browser_replay_click_replays_the_company(
    stack: TestStack, scene: Scene, browser: Browser
) -> None:
    """Bluebird back online, typing the token and clicking its Replay syncs its parked work."""
    stack.simulator.connect(scene.end_users["bluebird"])
    bluebird, delta = scene.companies["bluebird"], scene.companies["delta"]
    await browser.goto(str(scene.client.base_url.join("/")))
    await browser.type_into(await browser.textbox("admin token"), TOKEN)
    replay = _row(await browser.rows(), "compan", bluebird).buttons["Replay"]
    await browser.click(replay)
    await browser.loaded()
    await browser.screenshot("dashboard-replay-clicked")

    async def replayed() -> bool:
        company = scene.company(await scene.summary(), "bluebird")
        return company["state"] == "online" and company["parked"] == 0

    await async_wait_for(replayed, timeout=60, what="bluebird replayed")
    await browser.goto(str(scene.client.base_url.join("/")))
    await browser.screenshot("dashboard-after-replay")
    rows = await browser.rows()
    summary = await scene.summary()

    in_quickbooks = {
        c["name"] for c in stack.simulator.objects(scene.end_users["bluebird"], "customers")
    }
    assert {"Morning Market", "Sunrise Deli", "Corner Cafe"} <= in_quickbooks
    statuses = {d["status"] for d in summary["dlq"] if d["company_id"] == bluebird}
    assert statuses == {"replayed"}
    assert "online" in _row(rows, "compan", "Bluebird Bakery").text
    assert not [
        r for r in rows if r.section.lower().startswith("needs attention") and bluebird in r.text
    ]
    assert "parked" in _row(rows, "compan", delta).text


async def test_rerun_runs_a_failed_event_again_after_the_data_was_fixed(
    stack: TestStack, scene: Scene
) -> None:
    """After the clashing customer is renamed in QuickBooks, Re-run syncs the failed event."""
    cedar = scene.end_users["cedar"]
    clash = next(c for c in stack.simulator.objects(cedar, "customers")
                 if c["name"] == "Dana Whitfield")  # fmt: skip
    conductor = Conductor(api_key=DEV_SECRET_KEY, base_url=stack.simulator.base_url, max_retries=0)
    conductor.qbd.customers.update(clash["id"], revision_number=clash["revisionNumber"],
                                   name="Dana Whitfield (2019)",
                                   conductor_end_user_id=cedar)  # fmt: skip
    reader = TopicReader(scene.settings, scene.settings.sync_results_topic)
    try:
        response = await scene.client.post(
            f"/v1/dashboard/events/{scene.failed_event}/rerun",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        results = await reader.wait_for(
            lambda found: any(r["type"] == "qbd.sync.succeeded"
                              and r["data"]["event_id"] == scene.failed_event for r in found),
            timeout=60,
        )  # fmt: skip
    finally:
        await reader.close()
    again = await scene.client.post(
        f"/v1/dashboard/events/{scene.failed_event}/rerun",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )

    assert response.status_code == 202, response.text
    synced = [r for r in results if r["data"]["event_id"] == scene.failed_event]
    assert synced[-1]["data"]["qbd_id"]
    names = [c["name"] for c in stack.simulator.objects(cedar, "customers")]
    assert names.count("Dana Whitfield") == 1
    assert again.status_code == 409
    assert "not failed" in again.json()["error"]
