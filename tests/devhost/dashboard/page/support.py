"""What the dashboard's browser tests share: one devhost process seen through its dashboard and its
HTTP APIs (``Dashboard``), and the checks every view gets (``check_view``: axe-core, 375 px,
screenshots).

Tests start instances and wait for them through devhost's own APIs (the durable webhooks and the
``--test-hooks`` long poll), so they never sleep: what the page shows is awaited with Playwright's
retrying ``expect``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from playwright.async_api import Locator, Page

from tests.app.under_devhost.conftest import ENDED, WEBHOOKS, Reply
from tests.support.devhost_process import ROOT, DevhostProcess

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "screenshots" / "dashboard"
KEY_STORE = "devhost.masterKey"
"""Where the page keeps the master key (sessionStorage), as the contract names it."""


@dataclass
class Dashboard:
    """One devhost process: its dashboard's URLs, and its APIs over real HTTP on loopback.

    ``key`` is the master key when the process runs with ``--require-keys``; it goes in the
    ``x-functions-key`` header of every call the tests make (the webhooks and the test hooks
    take the master key too)."""

    host: DevhostProcess
    http: aiohttp.ClientSession
    key: str | None = None

    @property
    def base_url(self) -> str:
        return self.host.base_url

    def list_url(self, **filters: str) -> str:
        """``/devhost/`` with the filters in the query string, as the page writes them."""
        query = urlencode(filters)
        return f"{self.base_url}/devhost/" + (f"?{query}" if query else "")

    def instance_url(self, instance_id: str) -> str:
        return f"{self.base_url}/devhost/instances/{quote(instance_id, safe='')}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        with_key: bool = True,
    ) -> Reply:
        """One call; ``body`` is sent as JSON when given."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if with_key and self.key is not None:
            headers["x-functions-key"] = self.key
        data = json.dumps(body) if body is not None else None
        async with self.http.request(
            method, self.base_url + path, data=data, params=params, headers=headers
        ) as response:
            return Reply(response.status, dict(response.headers), await response.text())

    async def start(self, name: str, input_value: Any = None, *, instance_id: str) -> str:
        """Start ``name`` through the durable webhook (as the page's "Run again" does)."""
        path = f"{WEBHOOKS}/orchestrators/{quote(name, safe='')}/{quote(instance_id, safe='')}"
        reply = await self.request("POST", path, body=input_value)
        assert reply.status == 202, reply.text
        return reply.json["id"]

    async def wait(
        self,
        instance_id: str,
        runtime_status: tuple[str, ...] = ENDED,
        *,
        history_events: dict[str, int] | None = None,
        timeout: float = 120.0,
    ) -> dict[str, Any]:
        """Long-poll devhost's test hook until the instance is in one of ``runtime_status`` (and
        has at least ``history_events`` of each kind); returns the built-in status."""
        body: dict[str, Any] = {"runtimeStatus": list(runtime_status), "timeout": timeout}
        if history_events:
            body["historyEvents"] = history_events
        path = f"/admin/devhost/instances/{quote(instance_id, safe='')}/wait"
        reply = await self.request("POST", path, body=body)
        assert reply.status == 200, reply.text
        return reply.json

    async def advance_clock(self, seconds: float) -> None:
        reply = await self.request(
            "POST", "/admin/devhost/clock/advance", body={"seconds": seconds}
        )
        assert reply.status == 200, reply.text

    async def status(self, instance_id: str) -> Reply:
        return await self.request("GET", f"{WEBHOOKS}/instances/{quote(instance_id, safe='')}")

    async def show_history(self, instance_id: str) -> list[dict[str, Any]]:
        """``historyEvents`` as the webhook's ``showHistory`` gives them (outputs and input too)."""
        params = {"showHistory": "true", "showHistoryOutput": "true", "showInput": "true"}
        reply = await self.request(
            "GET", f"{WEBHOOKS}/instances/{quote(instance_id, safe='')}", params=params
        )
        assert reply.status == 200, reply.text
        return reply.json["historyEvents"]

    async def api(self, path: str, params: dict[str, str] | None = None) -> Any:
        """A ``/devhost/api`` answer's JSON (asserting the 200)."""
        reply = await self.request("GET", "/devhost/api" + path, params=params)
        assert reply.status == 200, (path, reply.status, reply.text)
        return reply.json


async def with_key(page: Page, key: str) -> Page:
    """The page with the master key already in its tab's sessionStorage (as after the key form),
    for the tests that are not about the key."""
    script = f"sessionStorage.setItem({json.dumps(KEY_STORE)}, {json.dumps(key)});"
    await page.context.add_init_script(script)
    return page


@cache
def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci`")
    return AXE.read_text("utf-8")


async def check_view(page: Page, name: str) -> None:
    """No serious or critical axe-core violation; nothing wider than the window at 1280 and at
    375 px (wide tables scroll inside their own container); screenshots at both widths into
    ``screenshots/dashboard/`` (git-ignored), as the app's page tests take them."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(_axe_source())  # through DevTools: the page's CSP does not apply
    results: dict[str, Any] = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    serious = [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], json.dumps(serious, indent=2)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        await page.set_viewport_size({"width": width, "height": 900})
        scroll_width = await page.evaluate("() => document.scrollingElement.scrollWidth")
        assert scroll_width <= width, f"{name}: the page is {scroll_width} px wide at {width} px"
        await page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})


async def tab_to(page: Page, condition: str, limit: int = 80) -> None:
    """Press Tab until ``condition`` (a JavaScript expression about ``el``, the focused element)
    holds: the path a keyboard-only user takes."""
    script = f"() => {{ const el = document.activeElement; return Boolean({condition}); }}"
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(script):
            return
    raise AssertionError(f"no element where {condition} can be reached with Tab")


async def cell_under(table: Locator, row: Locator, heading: str) -> Locator:
    """``row``'s cell in the column headed ``heading`` (so tests do not count columns)."""
    headings = [text.strip() for text in await table.locator("thead th").all_inner_texts()]
    return row.locator("td").nth(headings.index(heading))
