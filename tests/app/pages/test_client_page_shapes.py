"""The client page renders by the shape of the custom status, not by the orchestrator's name:
``StatusScript``, a test orchestrator the page has never heard of (the offload tests' app),
publishes the docs' shapes one after another and the page offers the same views and actions."""

from __future__ import annotations

import json
from urllib.parse import quote

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests.app.offload.conftest import container_name, host  # noqa: F401 (pytest fixtures)
from tests.support.devhost_process import DevhostProcess
from tests.support.http import start_like_the_sdk, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

expect.set_options(timeout=30_000)  # an upper bound for slow CI machines, not a speed check


async def raise_event(
    http: aiohttp.ClientSession, base_url: str, instance_id: str, name: str
) -> None:
    url = f"{base_url}/api/instances/{quote(instance_id, safe='')}/events/{name}"
    async with http.post(url, data=json.dumps(None)) as response:
        assert response.status == 202, await response.text()


async def test_a_new_orchestrator_publishing_the_same_shapes_needs_no_page_change(
    page: Page,
    host: DevhostProcess,  # noqa: F811 (the fixture imported above)
    http: aiohttp.ClientSession,
) -> None:
    choices = {"recommendedCities": ["Oslo", "Bergen"], "recommendedSeasons": ["Winter"]}
    progress = {"done": 2, "total": 4, "rows": [{"leg": "Oslo"}, {"leg": "Bergen"}]}
    steps = [
        {"set": {"value": "Packing"}},
        {"wait": "Go"},
        {"set": {"value": "Travelling"}},
        {"wait": "Go"},
        {"set": {"value": choices}},
        {"wait": "CitySelected"},
        {"set": {"value": progress}},
        {"wait": "Go"},
        {"set": {"value": {"message": "Have a good trip."}}},
    ]
    instance_id = await start_like_the_sdk(http, host.base_url, "StatusScript", {"steps": steps})
    await page.goto(f"{host.base_url}/api/ui?instance={quote(instance_id, safe='')}")

    await expect(page.locator("#instance-name")).to_have_text("StatusScript")
    await expect(page.locator("#stages li")).to_have_text(["Packing"])
    await raise_event(http, host.base_url, instance_id, "Go")
    await expect(page.locator("#stages li")).to_have_text(["Packing", "Travelling"])
    await raise_event(http, host.base_url, instance_id, "Go")

    cities = page.get_by_role("group", name="Recommended cities")
    await expect(cities.get_by_role("button")).to_have_text(["Oslo", "Bergen"])
    await cities.get_by_role("button", name="Bergen").click()  # raises CitySelected

    await expect(page.locator("#progress-text")).to_have_text("2 of 4 done")
    await expect(page.locator("#rows-body tr")).to_have_text(["Oslo", "Bergen"])
    await raise_event(http, host.base_url, instance_id, "Go")
    await expect(page.locator("#status-message")).to_have_text("Have a good trip.")
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    assert (await wait_until(http, host.base_url, instance_id))["output"] == len(steps)
