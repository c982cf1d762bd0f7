"""The dashboard's instances view in Chromium against 300 instances in a devhost of the test's own
(the totals count every instance in the task hub): newest first, paged, filtered by runtime status,
orchestrator name, instance-id prefix, text in the custom status and created-time range, the
filters in the address (a filtered list can be shared), refreshed on demand and exported as CSV.

The 300 are made in three batches an hour apart on devhost's manual clock, so that "newest
first" and the created-time range have something to tell apart:

* 150 ``Tagged`` (Completed): ``red-000``..``red-074`` and ``blue-000``..``blue-074``, each with
  the custom status ``{"color": <its color>, "n": k}``;
* 100 ``Parked`` (Running, waiting for an event): ``parked-000``.., status ``{"color": "green"}``;
* 50 ``Failing`` (Failed): ``failing-000``.., status ``{"color": "red"}``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.devhost.dashboard.page.support import Dashboard, check_view

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

expect.set_options(timeout=30_000)  # an upper bound for slow CI machines, not a speed check

CSV_HEADER = [
    "instanceId",
    "name",
    "runtimeStatus",
    "createdTime",
    "lastUpdatedTime",
    "customStatus",
]


async def make_batch(
    dashboard: Dashboard, instances: list[tuple[str, str, Any]], status: str
) -> None:
    """Start every (name, id, input) and wait until each is in ``status``."""
    gate = asyncio.Semaphore(16)

    async def one(name: str, instance_id: str, value: Any) -> None:
        async with gate:
            await dashboard.start(name, value, instance_id=instance_id)
            await dashboard.wait(instance_id, (status,))

    await asyncio.gather(*(one(*instance) for instance in instances))


async def clock_now(dashboard: Dashboard) -> datetime:
    return datetime.fromisoformat((await dashboard.api("/clock"))["now"])


def local_input(moment: datetime) -> str:
    """A ``datetime-local`` field's value for a UTC moment (the page's fields are UTC)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


async def apply(page: Page) -> None:
    await page.get_by_role("button", name="Apply filters").click()


async def test_filters_against_300_instances(empty_dashboard: Dashboard, page: Page) -> None:
    dashboard = empty_dashboard
    tagged = [
        ("Tagged", f"{color}-{k:03d}", {"color": color, "n": k})
        for color in ("red", "blue")
        for k in range(75)
    ]
    await make_batch(dashboard, tagged, "Completed")
    await dashboard.advance_clock(3600)
    parked_from = await clock_now(dashboard)
    parked = [("Parked", f"parked-{k:03d}", {"color": "green", "n": k}) for k in range(100)]
    await make_batch(dashboard, parked, "Running")
    parked_to = await clock_now(dashboard)
    await dashboard.advance_clock(3600)
    failing = [("Failing", f"failing-{k:03d}", {"color": "red", "n": k}) for k in range(50)]
    await make_batch(dashboard, failing, "Failed")

    total = page.locator("#list-total")
    rows = page.locator("#list-body tr")
    ids = rows.locator("td:nth-child(1)")
    statuses = rows.locator("td:nth-child(3)")

    # Everything, newest first, in pages of 50.
    await page.goto(dashboard.list_url())
    await expect(total).to_have_text("300 instances in task hub DashboardHub")
    await expect(rows).to_have_count(50)
    await expect(page.locator("#list-page")).to_have_text("Page 1 of 6")
    await expect(ids.first).to_have_text(re.compile(r"^failing-"))
    created = await rows.locator("td:nth-child(4) time").evaluate_all(
        "cells => cells.map(cell => cell.getAttribute('datetime'))"
    )
    moments = [datetime.fromisoformat(time) for time in created]
    assert moments == sorted(moments, reverse=True), created
    await page.get_by_role("button", name="Next page").click()
    await expect(page.locator("#list-page")).to_have_text("Page 2 of 6")
    await expect(ids.first).not_to_have_text(re.compile(r"^failing-"))  # 50 failing: page 1
    await page.get_by_role("button", name="Previous page").click()
    await expect(page.locator("#list-page")).to_have_text("Page 1 of 6")
    await expect(ids.first).to_have_text(re.compile(r"^failing-"))

    # Runtime status: one, then two.
    await page.get_by_label("Running", exact=True).check()
    await apply(page)
    await expect(total).to_have_text("100 instances match these filters")
    await expect(page).to_have_url(re.compile(r"[?&]runtimeStatus=Running(&|$)"))
    await expect(statuses).to_have_text(["Running"] * 50)
    await page.get_by_label("Failed", exact=True).check()
    await apply(page)
    await expect(total).to_have_text("150 instances match these filters")
    await expect(page).to_have_url(re.compile(r"runtimeStatus=Running%2CFailed"))

    # Refreshed on demand: one parked instance goes on.
    reply = await dashboard.request(
        "POST", "/runtime/webhooks/durabletask/instances/parked-007/raiseEvent/Go", body=True
    )
    assert reply.status == 202, reply.text
    await dashboard.wait("parked-007", ("Completed",))
    await page.get_by_role("button", name="Refresh the list").click()
    await expect(total).to_have_text("149 instances match these filters")

    # Orchestrator name, prefix, text in the custom status (case-insensitive), combined.
    await page.get_by_role("button", name="Clear filters").click()
    await expect(total).to_have_text("300 instances in task hub DashboardHub")
    await expect(page.get_by_label("Running", exact=True)).not_to_be_checked()
    await page.get_by_label("Orchestrator").select_option("Tagged")
    await apply(page)
    await expect(total).to_have_text("150 instances match these filters")
    await page.get_by_label("Instance id starts with").fill("blue-")
    await apply(page)
    await expect(total).to_have_text("75 instances match these filters")
    await expect(ids.first).to_have_text(re.compile(r"^blue-"))
    await page.get_by_label("Orchestrator").select_option("")
    await page.get_by_label("Instance id starts with").fill("")
    await page.get_by_label("Custom status contains").fill("RED")
    await apply(page)
    await expect(total).to_have_text("125 instances match these filters")
    await page.get_by_label("Orchestrator").select_option("Failing")
    await apply(page)
    await expect(total).to_have_text("50 instances match these filters")
    await page.get_by_label("Instance id starts with").fill("failing-04")
    await apply(page)
    await expect(total).to_have_text("10 instances match these filters")
    await expect(page.locator("#list-page")).to_have_text("Page 1 of 1")
    await expect(page.get_by_role("button", name="Next page")).to_be_disabled()

    # Created-time range: the parked batch alone (the others are an hour either side).
    await page.get_by_role("button", name="Clear filters").click()
    await page.get_by_label("Created from (UTC)").fill(
        local_input(parked_from - timedelta(minutes=1))
    )
    await page.get_by_label("Created up to (UTC)").fill(
        local_input(parked_to + timedelta(minutes=1))
    )
    await apply(page)
    await expect(total).to_have_text("100 instances match these filters")
    await expect(page).to_have_url(re.compile(r"createdFrom=.*createdTo="))
    await expect(ids.first).to_have_text(re.compile(r"^parked-"))

    # A filtered list's address is shareable: opened elsewhere it shows the same list.
    await page.get_by_label("Completed", exact=True).check()
    await apply(page)
    await expect(total).to_have_text("1 instance matches these filters")
    await expect(ids).to_have_text(["parked-007"])
    other = await page.context.new_page()
    await other.goto(page.url)
    await expect(other.locator("#list-total")).to_have_text("1 instance matches these filters")
    await expect(other.get_by_label("Completed", exact=True)).to_be_checked()
    await expect(other.get_by_label("Created from (UTC)")).not_to_have_value("")
    await other.close()

    # Export: the CSV of every matching instance (no paging).
    await page.get_by_role("button", name="Clear filters").click()
    await page.get_by_label("Orchestrator").select_option("Parked")
    await apply(page)
    await expect(total).to_have_text("100 instances match these filters")
    async with page.expect_download() as started:
        await page.get_by_role("button", name="Export CSV").click()
    download = await started.value
    assert download.suggested_filename == "instances.csv"
    text = await asyncio.to_thread(Path(await download.path()).read_text, "utf-8")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == CSV_HEADER
    assert sorted(row[0] for row in table[1:]) == [f"parked-{k:03d}" for k in range(100)]
    assert {row[1] for row in table[1:]} == {"Parked"}
    await check_view(page, "instances-filtered")
