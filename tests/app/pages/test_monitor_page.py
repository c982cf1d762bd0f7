"""The monitor page (``GET /api/monitor/{id}``) in real Chromium against the app under devhost.

Each test waits on what the page shows (Playwright's ``expect`` retries until it holds), never on
sleeps. Polling runs at the page's fastest interval; the one test about *not* polling installs
Playwright's fake clock and runs it a minute ahead instead of waiting.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from azure.storage.blob.aio import BlobServiceClient
from playwright.async_api import Page, Request, expect

from tests.app.under_devhost.conftest import FUNCTION_KEY, WEBHOOKS, AppApi
from tests.support.devhost_process import DevhostProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

expect.set_options(timeout=30_000)  # an upper bound for slow CI machines, not a speed check

OPEN_OFFER = {"userId": "user-1", "discountTimeout": 86400}
CONFIRMED = "Thank you for confirming your booking."


def monitor_url(api: AppApi, instance_id: str, interval_ms: int = 250) -> str:
    # Opened with the function key, as a deployed app's page is: the page sends it on its own
    # requests (x-functions-key).
    return (
        f"{api.base_url}/api/monitor/{quote(instance_id, safe='')}"
        f"?interval={interval_ms}&code={FUNCTION_KEY}"
    )


async def offloaded_reference(api: AppApi, instance_id: str) -> dict[str, Any]:
    """The instance's status reference (``?resolve=false``): a whole status offloaded to a blob
    (``$customStatusRef``) or an append-style status's log (``$customStatusLog``)."""
    reply = await api.request("GET", f"/api/status/{quote(instance_id, safe='')}?resolve=false")
    assert reply.status == 200, reply.text
    (reference,) = reply.json["customStatus"].values()
    return reference


async def test_a_completed_instance_shows_its_final_status_and_polling_stops(
    api: AppApi, page: Page
) -> None:
    instance_id = await api.start_ok("E1_HelloSequence")
    await api.wait(instance_id)
    status_requests: list[Request] = []
    page.on("request", lambda r: status_requests.append(r) if "/api/status/" in r.url else None)
    await page.clock.install()

    await page.goto(monitor_url(api, instance_id))

    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#name")).to_have_text("E1_HelloSequence")
    await expect(page.locator("#custom-status")).to_have_text('"London"')
    await expect(page.locator("#output")).to_contain_text("Hello Tokyo!")
    await expect(page.locator("#message")).to_contain_text("has ended")
    await expect(page.locator("body")).to_have_attribute("data-stopped", "true")
    await expect(page.locator("#progress-row")).to_be_hidden()
    await page.clock.run_for(60_000)  # a minute of page time: no timer is left to poll again
    assert len(status_requests) == 1


async def test_the_page_follows_a_running_instance_until_it_ends(
    api: AppApi, page: Page, instance_id: str
) -> None:
    await api.start_ok("ReserveTicket", OPEN_OFFER, instance_id=instance_id)
    await page.goto(monitor_url(api, instance_id))

    await expect(page.locator("#runtime-status")).to_have_text("Running")
    await expect(page.locator("#custom-status")).to_contain_text('"bookingUrl"')
    assert await page.locator("body").get_attribute("data-stopped") is None

    assert (await api.raise_event(instance_id, "BookingConfirmed", True)).status == 202

    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#custom-status")).to_contain_text(CONFIRMED)
    await expect(page.locator("#output")).to_have_text("true")
    await expect(page.locator("body")).to_have_attribute("data-stopped", "true")


async def test_a_terminated_instance_stops_the_polling_too(
    api: AppApi, page: Page, instance_id: str
) -> None:
    await api.start_ok("ReserveTicket", OPEN_OFFER, instance_id=instance_id)
    await page.goto(monitor_url(api, instance_id))
    await expect(page.locator("#runtime-status")).to_have_text("Running")

    terminate = f"{WEBHOOKS}/instances/{quote(instance_id, safe='')}/terminate?reason=not+needed"
    assert (await api.request("POST", terminate)).status == 202

    await expect(page.locator("#runtime-status")).to_have_text("Terminated")
    await expect(page.locator("#output")).to_have_text('"not needed"')
    await expect(page.locator("#message")).to_contain_text("has ended: Terminated")
    await expect(page.locator("body")).to_have_attribute("data-stopped", "true")


async def test_a_failed_instance_shows_why_and_stops_the_polling(
    api: AppApi, page: Page, instance_id: str
) -> None:
    # The app's starter refuses a bad choice (400); the built-in API starts it, and it fails.
    start = f"{WEBHOOKS}/orchestrators/CityRecommender/{instance_id}"
    assert (await api.request("POST", start, data='"7"')).status == 202
    assert (await api.wait(instance_id))["runtimeStatus"] == "Failed"

    await page.goto(monitor_url(api, instance_id))

    await expect(page.locator("#runtime-status")).to_have_text("Failed")
    await expect(page.locator("#output")).to_contain_text("must be the choice 1, 2 or 3")
    await expect(page.locator("body")).to_have_attribute("data-stopped", "true")


async def test_an_offloaded_batch_status_is_resolved_and_shown_as_progress(
    api: AppApi, page: Page
) -> None:
    instance_id = await api.start_ok("BatchProgress", 120)
    assert (await api.wait(instance_id))["runtimeStatus"] == "Completed"
    reference = await offloaded_reference(api, instance_id)
    assert reference["summary"] == {"done": 120, "total": 120, "state": "completed"}

    await page.goto(monitor_url(api, instance_id))

    await expect(page.locator("#progress-text")).to_have_text("120 of 120 done")
    await expect(page.locator("#progress")).to_have_js_property("value", 120)
    await expect(page.locator("#progress")).to_have_js_property("max", 120)
    # The resolved value, not the reference: the last row is on the page.
    await expect(page.locator("#custom-status")).to_contain_text('"item-0120"')
    await expect(page.locator("#custom-status")).not_to_contain_text("$customStatus")


async def test_an_unknown_instance_is_reported_and_picked_up_once_started(
    api: AppApi, page: Page, instance_id: str
) -> None:
    await page.goto(monitor_url(api, instance_id))

    await expect(page.locator("#message")).to_contain_text("No such instance")
    await expect(page.locator("#runtime-status")).to_have_text("not found")

    await api.start_ok("E1_HelloSequence", instance_id=instance_id)
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#message")).not_to_contain_text("No such instance")


async def test_a_hostile_instance_id_is_shown_as_text(
    api: AppApi, page: Page, instance_id: str
) -> None:
    hostile = instance_id + '"><img src=x onerror="window.pwned=1"><b>bold'
    await api.start_ok("E1_HelloSequence", instance_id=hostile)
    await api.wait(hostile)

    await page.goto(monitor_url(api, hostile))

    await expect(page.locator("#instance-id")).to_have_text(hostile)
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    assert await page.locator("img, b").count() == 0
    assert await page.evaluate("window.pwned") is None
    assert hostile in await page.title()


async def batch_with_its_status_blob_deleted(api: AppApi, app_host: DevhostProcess) -> str:
    """A completed 80-item BatchProgress whose status log was deleted behind the app's back."""
    instance_id = await api.start_ok("BatchProgress", 80)
    await api.wait(instance_id)
    reference = await offloaded_reference(api, instance_id)
    # The host's own storage (with tests/app/under_devhost in the same run, its Azurite may be
    # that folder's).
    connection_string = app_host.env["AzureWebJobsStorage"]
    async with BlobServiceClient.from_connection_string(connection_string) as storage:
        await storage.get_blob_client(reference["container"], reference["blob"]).delete_blob()
    return instance_id


async def test_a_status_blob_deleted_behind_the_apps_back_is_a_clear_message(
    api: AppApi, page: Page, app_host: DevhostProcess
) -> None:
    instance_id = await batch_with_its_status_blob_deleted(api, app_host)

    await page.goto(monitor_url(api, instance_id))

    message = page.locator("#message")
    await expect(message).to_contain_text("The custom status cannot be shown")
    await expect(message).to_contain_text("does not exist")
    await expect(message).to_have_attribute("data-kind", "error")
    assert await page.locator("body").get_attribute("data-stopped") is None  # keeps trying


async def test_an_unchanged_status_is_polled_with_if_none_match_and_answered_304(
    api: AppApi, page: Page, instance_id: str, app_host: DevhostProcess
) -> None:
    await api.start_ok("ReserveTicket", OPEN_OFFER, instance_id=instance_id)
    answers: list[tuple[int, str | None, str | None]] = []

    def record(response: Any) -> None:
        if "/api/status/" in response.url:
            sent = response.request.headers.get("if-none-match")
            answers.append((response.status, sent, response.headers.get("etag")))

    page.on("response", record)
    await page.goto(monitor_url(api, instance_id))

    await expect(page.locator("#custom-status")).to_contain_text('"bookingUrl"')
    three_or_more = re.compile(r"^([3-9]|\d\d+)$")
    await expect(page.locator("body")).to_have_attribute("data-unchanged", three_or_more)
    first_code, first_sent, etag = answers[0]
    assert (first_code, first_sent) == (200, None)
    assert etag and len(answers) >= 3, answers
    assert all(code == 304 and sent == etag for code, sent, _ in answers[1:3]), answers
    await expect(page.locator("#runtime-status")).to_have_text("Running")  # still shown

    assert (await api.raise_event(instance_id, "BookingConfirmed", True)).status == 202
    await expect(page.locator("#custom-status")).to_contain_text(CONFIRMED)  # a new tag: 200
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    # The page's key travelled in its address and its headers, never into the host's log.
    assert FUNCTION_KEY not in app_host.log
