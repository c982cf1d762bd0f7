"""The dashboard's instance view in Chromium against this repository's app under devhost, with the
master key required: the custom-status timeline, the paged history, an event raised from the
page, the JSON Lines export, the key itself, and a flow done with the keyboard alone.

Instances are started and awaited through devhost's APIs (webhooks, the ``--test-hooks`` long
poll); what the page shows is awaited with Playwright's retrying ``expect``, never with sleeps.
While a test looks, the page follows the instance by long polling the API with ``If-None-Match``,
so an instance that changes after the page opened shows the change without a reload.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from playwright.async_api import Page, Request, expect

from tests.app.under_devhost.conftest import MASTER_KEY
from tests.devhost.dashboard.page.conftest import STATUS_CHANGES_KEPT
from tests.devhost.dashboard.page.support import Dashboard, check_view, tab_to, with_key

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

expect.set_options(timeout=30_000)  # an upper bound for slow CI machines, not a speed check

EN_DASH = "\u2013"  # as the page writes ranges ("Events 1 to 50" with an en dash)
OPEN_OFFER = {"userId": "alice", "discountTimeout": 3600}


async def open_instance(page: Page, dashboard: Dashboard, instance_id: str) -> None:
    await with_key(page, MASTER_KEY)
    await page.goto(dashboard.instance_url(instance_id))
    await expect(page.locator("#instance-id")).to_have_text(instance_id)


async def waiting_offer(dashboard: Dashboard, instance_id: str) -> None:
    """A ReserveTicket instance that has published its offer and waits for BookingConfirmed."""
    await dashboard.start("ReserveTicket", OPEN_OFFER, instance_id=instance_id)
    await dashboard.wait(instance_id, ("Running",), history_events={"TimerCreated": 1})


async def test_e1_timeline_reads_tokyo_seattle_london_in_time_order(
    app_dashboard: Dashboard, page: Page, instance_id: str
) -> None:
    await app_dashboard.start("E1_HelloSequence", instance_id=instance_id)
    await app_dashboard.wait(instance_id)
    await open_instance(page, app_dashboard, instance_id)
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#instance-name")).to_have_text("E1_HelloSequence")
    await expect(page.locator("#status-value")).to_have_text('"London"')
    for greeting in ("Hello Tokyo!", "Hello Seattle!", "Hello London!"):
        await expect(page.locator("#output-value")).to_contain_text(greeting)

    rows = page.locator("#timeline-body tr")
    await expect(rows.locator("td:nth-child(5)")).to_have_text(['"Tokyo"', '"Seattle"', '"London"'])
    await expect(page.locator("#timeline-dropped")).to_be_hidden()
    times = await rows.locator("td:nth-child(2) time").evaluate_all(
        "cells => cells.map(cell => cell.getAttribute('datetime'))"
    )
    moments = [datetime.fromisoformat(time) for time in times]
    assert moments == sorted(moments), times
    episodes = [int(text) for text in await rows.locator("td:nth-child(4)").all_inner_texts()]
    assert episodes == sorted(set(episodes)), episodes  # one change per episode, in order
    await check_view(page, "instance-e1-hello-sequence")


async def test_batch_progress_history_is_paged_and_its_status_changes_bounded(
    app_dashboard: Dashboard, page: Page, instance_id: str
) -> None:
    await app_dashboard.start("BatchProgress", 300, instance_id=instance_id)
    await app_dashboard.wait(instance_id, timeout=300)
    timeline = await app_dashboard.api(f"/instances/{instance_id}/status-timeline")
    assert timeline["kept"] == STATUS_CHANGES_KEPT
    assert len(timeline["changes"]) == STATUS_CHANGES_KEPT and timeline["dropped"] > 0, timeline
    second_page = await app_dashboard.api(
        f"/instances/{instance_id}/history", {"offset": "50", "top": "50"}
    )
    total = second_page["total"]
    assert total > 100, total  # at least three pages of 50

    await open_instance(page, app_dashboard, instance_id)
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    # The host holds the app's reference to its status log: shown as it is, and said so.
    await expect(page.locator("#status-value")).to_contain_text("$customStatusLog")
    await expect(page.locator("#status-reference")).to_be_visible()

    dropped = timeline["dropped"]
    await expect(page.locator("#timeline-body tr")).to_have_count(STATUS_CHANGES_KEPT)
    await expect(page.locator("#timeline-dropped")).to_contain_text(
        f"{dropped} older change{'' if dropped == 1 else 's'} not kept"
    )
    sequences = [str(change["sequence"]) for change in timeline["changes"]]
    await expect(page.locator("#timeline-body tr td:nth-child(1)")).to_have_text(sequences)

    history = page.locator("#history-body tr")
    await expect(page.locator("#history-range")).to_have_text(f"Events 1{EN_DASH}50 of {total}")
    await expect(history).to_have_count(50)
    pages = -(-total // 50)
    await expect(page.locator("#history-page")).to_have_text(f"Page 1 of {pages}")
    await expect(page.get_by_role("button", name="Previous page", exact=True)).to_be_disabled()
    await page.get_by_role("button", name="Next page", exact=True).click()
    await expect(page.locator("#history-range")).to_have_text(f"Events 51{EN_DASH}100 of {total}")
    first = second_page["events"][0]
    await expect(history.first.locator("td").nth(0)).to_have_text(str(first["index"]))
    await expect(history.first.locator("td").nth(2)).to_have_text(first["eventType"])
    await page.get_by_role("button", name="Last page", exact=True).click()
    await expect(page.locator("#history-page")).to_have_text(f"Page {pages} of {pages}")
    await expect(history.last).to_contain_text("ExecutionCompleted")
    await expect(page.get_by_role("button", name="Next page", exact=True)).to_be_disabled()
    await check_view(page, "instance-batch-progress")


async def test_reserve_ticket_is_confirmed_from_the_event_form(
    app_dashboard: Dashboard, page: Page, instance_id: str
) -> None:
    await waiting_offer(app_dashboard, instance_id)
    raised: list[str] = []
    page.on("request", lambda r: raised.append(r.url) if "/raiseEvent/" in r.url else None)
    async with page.expect_request(re.compile(r"waitSeconds=25")) as polled:
        await open_instance(page, app_dashboard, instance_id)
    await expect(page.locator("#runtime-status")).to_have_text("Running")
    await expect(page.locator("#status-value")).to_contain_text("bookingUrl")
    # The view follows the instance by long polling with the ETag it last saw.
    long_poll = await polled.value
    # (``headers``, not ``all_headers()``: the latter waits for the answer, up to 25 s here.)
    assert long_poll.headers.get("if-none-match", "").startswith(('"', 'W/"'))
    await check_view(page, "instance-reserve-ticket-waiting")

    # JSON that does not parse is refused on the page, in words, and nothing is sent.
    await page.get_by_label("Event name").fill("BookingConfirmed")
    await page.get_by_label("Event data (JSON)").fill("yes please")
    await page.get_by_role("button", name="Raise event").click()
    await expect(page.locator("#event-error")).to_contain_text("not valid JSON")
    await expect(page.get_by_label("Event data (JSON)")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Event data (JSON)")).to_be_focused()
    assert raised == []

    await page.get_by_label("Event data (JSON)").fill("true")
    await page.get_by_role("button", name="Raise event").click()
    await expect(page.locator("#notice")).to_contain_text("Event BookingConfirmed was raised")
    # The open view follows the instance: no reload.
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#output-value")).to_have_text("true")
    await expect(page.locator("#timeline-body tr").last).to_contain_text(
        "Thank you for confirming your booking."
    )
    event_row = page.locator("#history-body tr").filter(has_text="EventRaised")
    await expect(event_row).to_contain_text("BookingConfirmed")
    assert len(raised) == 1, raised
    await expect(page.get_by_role("button", name="Raise event")).to_be_disabled()


async def test_history_exported_as_json_lines_matches_the_webhooks_show_history(
    app_dashboard: Dashboard, page: Page, instance_id: str
) -> None:
    await app_dashboard.start("E1_HelloSequence", instance_id=instance_id)
    await app_dashboard.wait(instance_id)
    await open_instance(page, app_dashboard, instance_id)
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    async with page.expect_download() as started:
        await page.get_by_role("button", name="Export history (JSON Lines)").click()
    download = await started.value
    assert download.suggested_filename == f"{instance_id}.history.jsonl"
    text = await asyncio.to_thread(Path(await download.path()).read_text, "utf-8")
    exported = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert exported == await app_dashboard.show_history(instance_id)
    assert any(event["EventType"] == "TaskCompleted" for event in exported)


async def test_without_the_master_key_the_dashboard_shows_no_data(
    app_dashboard: Dashboard, page: Page, instance_id: str
) -> None:
    await app_dashboard.start("E1_HelloSequence", instance_id=instance_id)
    await app_dashboard.wait(instance_id)
    refused = await app_dashboard.request("GET", "/devhost/api/instances", with_key=False)
    assert refused.status == 401
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))

    await page.goto(app_dashboard.instance_url(instance_id))
    await expect(page.get_by_label("Master key", exact=True)).to_be_focused()
    await expect(page.get_by_label("Master key", exact=True)).to_have_attribute("type", "password")
    await expect(page.locator("#instance-view")).to_be_hidden()
    assert "Hello Tokyo" not in await page.content()
    assert [r.url for r in requests if "/devhost/api/" in r.url] == []  # nothing asked for
    await check_view(page, "key-needed")

    await page.get_by_label("Master key", exact=True).fill("not-the-master-key")
    await page.get_by_role("button", name="Use this key").click()
    await expect(page.locator("#notice")).to_contain_text("did not accept that master key")
    await expect(page.get_by_label("Master key", exact=True)).to_be_focused()
    assert "Hello Tokyo" not in await page.content()

    await page.get_by_label("Master key", exact=True).fill(MASTER_KEY)
    await page.get_by_role("button", name="Use this key").click()
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#output-value")).to_contain_text("Hello Tokyo")
    await page.goto(app_dashboard.list_url(prefix=instance_id))  # the key stays in this tab
    await expect(page.locator("#list-body tr")).to_have_count(1)

    await page.get_by_role("button", name="Forget key").click()
    await expect(page.get_by_label("Master key", exact=True)).to_be_focused()
    await expect(page.locator("#list-view")).to_be_hidden()
    await expect(page.locator("#list-body tr")).to_have_count(0)
    assert await page.evaluate("() => sessionStorage.getItem('devhost.masterKey')") is None

    # The key travels in a header, never in an address that could be logged.
    assert requests
    for request in requests:
        assert MASTER_KEY not in request.url and "code=" not in request.url, request.url
    data_calls = [r for r in requests if "/devhost/api/" in r.url]
    assert data_calls
    keys = {r.headers.get("x-functions-key") for r in data_calls}
    assert keys == {"not-the-master-key", MASTER_KEY}, keys


async def test_list_to_instance_to_raised_event_with_the_keyboard_alone(
    app_dashboard: Dashboard, page: Page, instance_id: str
) -> None:
    await waiting_offer(app_dashboard, instance_id)
    await with_key(page, MASTER_KEY)
    await page.goto(app_dashboard.list_url(prefix=instance_id))
    await expect(page.locator("#list-body tr")).to_have_count(1)
    await tab_to(page, f"el.tagName === 'A' && el.textContent === {json.dumps(instance_id)}")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(app_dashboard.instance_url(instance_id))
    await expect(page.locator("#runtime-status")).to_have_text("Running")

    # A destructive action asks first; Escape says no and gives focus back.
    await tab_to(page, "el.id === 'act-terminate'")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("dialog")).to_contain_text(f"Terminate instance {instance_id}?")
    await expect(page.get_by_role("button", name="Cancel")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await expect(page.locator("#act-terminate")).to_be_focused()

    await tab_to(page, "el.id === 'event-name'")
    await page.keyboard.type("BookingConfirmed")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Event data (JSON)")).to_be_focused()
    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.type("false")
    await tab_to(page, "el.textContent === 'Raise event'")
    await page.keyboard.press("Enter")
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#output-value")).to_have_text("false")
    await expect(page.locator("#timeline-body tr").last).to_contain_text("You declined")
