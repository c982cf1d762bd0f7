"""The client page (``GET /api/ui``) in real Chromium against the app under devhost, with function
keys required: one test per flow, clicking as a user would.

Each flow ends with an accessibility check by axe-core (from the npm registry, ``node_modules``;
evaluated through the DevTools protocol, which the page's CSP does not govern) that must find no
serious or critical violation, and screenshots at 1280 and 375 px wide into ``screenshots/``
(git-ignored). Waits are Playwright's retrying assertions, never sleeps; the timed-out offer skips
devhost's clock.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from urllib.parse import quote

import pytest
from playwright.async_api import Page, expect

from tests.app.pages.test_monitor_page import batch_with_its_status_blob_deleted
from tests.app.under_devhost.conftest import FUNCTION_KEY, AppApi
from tests.support.devhost_process import ROOT, DevhostProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

expect.set_options(timeout=30_000)  # an upper bound for slow CI machines, not a speed check

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "screenshots" / "client-page"


def ui_url(api: AppApi, instance_id: str | None = None, *, key: bool = True) -> str:
    query = [f"code={FUNCTION_KEY}"] if key else []
    if instance_id is not None:
        query.append(f"instance={quote(instance_id, safe='')}")
    return f"{api.base_url}/api/ui" + ("?" + "&".join(query) if query else "")


@cache
def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci`")
    return AXE.read_text("utf-8")


async def check_view(page: Page, name: str) -> None:
    """No serious or critical axe violation; screenshots at 1280 and 375 px."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(_axe_source())
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
        # Readable at this width: nothing but the table's own scroller is wider than the page.
        overflow = await page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= width, f"{name}: the page is {overflow} px wide at {width} px"
        await page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})


async def start_from_page(page: Page, api: AppApi, name: str, input_text: str | None) -> str:
    """Open the page, choose ``name``, type the input (None: keep the example), press Start;
    returns the new instance's id, read from the address bar."""
    await page.goto(ui_url(api))
    await page.get_by_label("Orchestrator").select_option(name)
    if input_text is not None:
        await page.get_by_label("Input (JSON; empty for none)").fill(input_text)
    await page.get_by_role("button", name="Start", exact=True).click()
    await expect(page).to_have_url(re.compile(r"\?instance="))
    instance_id = page.url.split("?instance=", 1)[1]
    await expect(page.locator("#instance-id")).to_have_text(instance_id)
    return instance_id


async def test_e1_stepper_ends_on_london_with_three_greetings(api: AppApi, page: Page) -> None:
    await start_from_page(page, api, "E1_HelloSequence", "")
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#stages li").last).to_have_text("London")
    await expect(page.locator("#stages li[aria-current=step]")).to_have_text("London")
    for greeting in ("Hello Tokyo!", "Hello Seattle!", "Hello London!"):
        await expect(page.locator("#output")).to_contain_text(greeting)
    await expect(page.locator("#notice")).to_contain_text("has ended: Completed")
    assert "code=" not in page.url  # the key was moved out of the address bar
    await check_view(page, "e1-hello-sequence")


async def test_an_ended_instance_is_read_once_and_not_polled_again(api: AppApi, page: Page) -> None:
    instance_id = await api.start_ok("SetStatusTest")
    await api.wait(instance_id)
    reads: list[str] = []
    page.on("request", lambda r: reads.append(r.url) if "/api/status/" in r.url else None)
    await page.clock.install()
    await page.goto(ui_url(api, instance_id))
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#details")).to_contain_text('["A","B","C"]')  # nextActions
    await page.clock.run_for(60_000)  # a minute of page time: no timer is left to poll again
    assert len(reads) == 1


async def test_city_recommender_choice_2_a_wrong_city_then_london(api: AppApi, page: Page) -> None:
    await start_from_page(page, api, "CityRecommender", "2")
    cities = page.get_by_role("group", name="Recommended cities")
    await expect(cities.get_by_role("button")).to_have_text(["Seattle", "London"])
    await check_view(page, "city-recommender-choices")

    await page.get_by_label("Or name another city").fill("Paris")
    await page.get_by_role("button", name="Choose this city").click()
    await expect(page.locator("#status-message")).to_contain_text(
        '"Paris" is not one of the recommended cities (Seattle, London)'
    )
    await cities.get_by_role("button", name="London").click()
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#details")).to_contain_text("London")
    await expect(page.locator("#choice-view")).to_be_hidden()
    await expect(page.locator("#output")).to_contain_text('"selectedCity": "London"')
    await check_view(page, "city-recommender-refined")


OFFER = '{"userId": "alice", "discountTimeout": 3600}'


@pytest.mark.parametrize(
    ("button", "message", "output"),
    [
        ("Confirm booking", "Thank you for confirming your booking.", "true"),
        ("Decline", "You declined the booking.", "false"),
    ],
)
async def test_reserve_ticket_confirmed_or_declined(
    api: AppApi, page: Page, button: str, message: str, output: str
) -> None:
    await start_from_page(page, api, "ReserveTicket", OFFER)
    await expect(page.locator("#offer-countdown")).to_contain_text("The offer expires in")
    await expect(page.locator("#offer-link")).to_have_attribute(
        "href", re.compile(r"^https://www\.myawesomebookingweb\.com/book\?userId=alice")
    )
    if button == "Confirm booking":
        await check_view(page, "reserve-ticket-offer")
    await page.get_by_role("button", name=button).click()
    await expect(page.locator("#status-message")).to_contain_text(message)
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#output")).to_have_text(output)
    await expect(page.locator("#offer-view")).to_be_hidden()


async def test_a_running_instance_is_polled_with_if_none_match_as_retry_after_says(
    api: AppApi, page: Page
) -> None:
    """An unchanged status costs a bodiless 304; the status route sends Retry-After: 1 while the
    instance runs, and the page waits that long between polls."""
    await start_from_page(page, api, "ReserveTicket", OFFER)
    async with page.expect_response(
        lambda r: "/api/status/" in r.url and r.status == 304
    ) as answer:
        await expect(page.get_by_role("button", name="Confirm booking")).to_be_visible()
    not_modified = await answer.value
    assert not_modified.request.headers.get("if-none-match", "").startswith('"')
    assert not_modified.headers.get("retry-after") == "1"


async def test_reserve_ticket_timed_out_through_devhosts_clock(api: AppApi, page: Page) -> None:
    await start_from_page(page, api, "ReserveTicket", '{"userId": "bob", "discountTimeout": 60}')
    await expect(page.get_by_role("button", name="Confirm booking")).to_be_visible()
    await api.advance_clock(120)  # the offer's durable timer fires at once
    await expect(page.locator("#status-message")).to_contain_text(
        "The booking was not confirmed on time."
    )
    await expect(page.locator("#output")).to_have_text("false")
    await check_view(page, "reserve-ticket-timed-out")


async def test_batch_progress_shows_its_offloaded_table_in_pages(api: AppApi, page: Page) -> None:
    instance_id = await start_from_page(page, api, "BatchProgress", "300")
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#progress-text")).to_have_text("300 of 300 done")
    await expect(page.locator("#rows-page")).to_have_text("Page 1 of 6")
    await expect(page.locator("#rows-body tr")).to_have_count(50)
    await expect(page.locator("#rows-body tr").first).to_contain_text("item-0001")
    await page.get_by_role("button", name="Next page").click()
    await expect(page.locator("#rows-caption")).to_have_text("Rows 51\u2013100 of 300")
    await expect(page.locator("#rows-body tr").first).to_contain_text("item-0051")
    # Offloaded, as the host would refuse a 300-row table inline.
    reply = await api.request("GET", f"/api/status/{instance_id}?resolve=false")
    assert "$customStatusLog" in reply.json["customStatus"]
    await check_view(page, "batch-progress")


async def test_a_status_blob_deleted_behind_the_apps_back_is_explained(
    api: AppApi, page: Page, app_host: DevhostProcess
) -> None:
    instance_id = await batch_with_its_status_blob_deleted(api, app_host)
    await page.goto(ui_url(api, instance_id))
    await expect(page.locator("#notice")).to_contain_text("The custom status cannot be shown")
    await expect(page.locator("#notice")).to_have_attribute("data-kind", "error")
    # What can still be shown is: the instance, without its status.
    await expect(page.locator("#instance-name")).to_have_text("BatchProgress")
    await expect(page.locator("#runtime-status")).to_have_text("Completed")


async def test_instance_list_opens_terminates_and_purges(
    api: AppApi, page: Page, instance_id: str
) -> None:
    await api.start_ok("ReserveTicket", {"userId": "carol", "discountTimeout": 3600},
                       instance_id=instance_id)  # fmt: skip
    await page.goto(ui_url(api))
    entry = page.locator("#recent-list li").filter(has_text=instance_id)
    await expect(entry).to_contain_text("Running")
    await check_view(page, "instance-list")
    await entry.get_by_role("link").click()
    await expect(page.locator("#runtime-status")).to_have_text("Running")

    await page.get_by_role("button", name="Terminate…").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text(f"Terminate instance {instance_id}?")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await page.get_by_role("button", name="Terminate…").click()
    await page.keyboard.press("Escape")  # also a "no"
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#runtime-status")).to_have_text("Running")
    await page.get_by_role("button", name="Terminate…").click()
    await dialog.get_by_role("button", name="Terminate").click()
    await expect(page.locator("#runtime-status")).to_have_text("Terminated")

    await page.get_by_role("button", name="Purge…").click()
    await dialog.get_by_role("button", name="Purge").click()
    await expect(page.locator("#notice")).to_have_text(f"Instance {instance_id} was purged.")
    await expect(page.locator("#instance-panel")).to_be_hidden()
    await expect(entry).to_have_count(0)
    assert (await api.status(instance_id)).status == 404


async def test_errors_are_shown_in_plain_words(api: AppApi, page: Page) -> None:
    # Without a key the page still loads, says what is missing and asks for one.
    await page.goto(ui_url(api, key=False))
    await expect(page.locator("#notice")).to_have_text(
        "The app needs a function key (or the key given is wrong)."
    )
    await expect(page.get_by_label("Function key", exact=True)).to_be_focused()
    await check_view(page, "key-needed")
    await page.get_by_label("Function key", exact=True).fill(FUNCTION_KEY)
    await page.get_by_role("button", name="Use this key").click()
    await expect(page.locator("#key-panel")).to_be_hidden()
    await expect(page.get_by_label("Orchestrator")).to_contain_text("BatchProgress")

    # An instance that does not exist, opened from a shared link.
    await page.goto(ui_url(api, "no-such-instance"))
    await expect(page.locator("#runtime-status")).to_have_text("not found")
    await expect(page.locator("#notice")).to_contain_text("No instance with id no-such-instance")

    # Input the API refuses is explained next to the form, and nothing is started.
    await page.get_by_label("Orchestrator").select_option("BatchProgress")
    await page.get_by_label("Input (JSON; empty for none)").fill("200000")
    await page.get_by_role("button", name="Start", exact=True).click()
    await expect(page.locator("#start-error")).to_contain_text("from 1 to 100000")
    await page.get_by_label("Input (JSON; empty for none)").fill("{not json")
    await page.get_by_role("button", name="Start", exact=True).click()
    await expect(page.locator("#start-error")).to_contain_text("not valid JSON")
    await check_view(page, "errors")


async def tab_to(page: Page, text: str, limit: int = 40) -> None:
    """Press Tab until the focused element's text is ``text`` (a keyboard user's path)."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("() => document.activeElement.textContent.trim()")
        if focused == text:
            return
    raise AssertionError(f"{text!r} cannot be reached with Tab")


async def test_a_flow_can_be_done_with_the_keyboard_alone(api: AppApi, page: Page) -> None:
    await page.goto(ui_url(api))
    await expect(page.get_by_label("Orchestrator")).to_contain_text("CityRecommender")
    await page.get_by_label("Orchestrator").focus()
    await page.keyboard.press("ArrowDown")  # E1_HelloSequence -> CityRecommender
    await expect(page.get_by_label("Input (JSON; empty for none)")).to_have_value("2")
    await tab_to(page, "Start")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="London")).to_be_visible()
    await tab_to(page, "London")
    await page.keyboard.press("Enter")
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#details")).to_contain_text("London")
