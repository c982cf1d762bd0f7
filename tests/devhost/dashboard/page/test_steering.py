"""Steering instances from the dashboard, in Chromium against a small app of our own
(``apps/steering``) under devhost without keys: rewind a failed instance, skip timers with the
manual clock, suspend, resume, terminate, run again and purge; and the history's columns
(durations, timers' fire times, retries' attempts, sub-orchestrations linked both ways).

Every action goes through the durable webhooks, as the page sends it; the tests check the
outcome on the page (which follows the instance by long polling) and, where it matters, through
the webhooks too. No sleeps: Playwright's retrying ``expect`` and devhost's ``wait`` hook.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, Route, expect

from tests.devhost.dashboard.page.support import Dashboard, cell_under, check_view

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

expect.set_options(timeout=30_000)  # an upper bound for slow CI machines, not a speed check


async def open_instance(page: Page, dashboard: Dashboard, instance_id: str) -> None:
    await page.goto(dashboard.instance_url(instance_id))
    await expect(page.locator("#instance-id")).to_have_text(instance_id)


def timeline_values(page: Page) -> Locator:
    return page.locator("#timeline-body tr td:nth-child(5)")


async def test_a_failed_instance_is_rewound_from_the_dashboard_and_completes(
    steering: Dashboard, page: Page, instance_id: str, tmp_path: Path
) -> None:
    missing = tmp_path / "written-later.txt"
    await steering.start("Rewindable", str(missing), instance_id=instance_id)
    assert (await steering.wait(instance_id))["runtimeStatus"] == "Failed"
    await open_instance(page, steering, instance_id)
    await expect(page.locator("#runtime-status")).to_have_text("Failed")
    await expect(page.locator("#output-value")).to_contain_text("No such file or directory")
    await expect(timeline_values(page).last).to_have_text('"reading"')
    await expect(page.locator("#act-terminate")).to_be_disabled()
    await expect(page.locator("#act-rewind")).to_be_enabled()
    await check_view(page, "instance-failed")

    missing.write_text("the middle", "utf-8")
    await page.get_by_role("button", name="Rewind…").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text(f"Rewind instance {instance_id}?")
    await dialog.get_by_label("Reason (optional)").fill("the file is there now")
    await dialog.get_by_role("button", name="Rewind").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(page.locator("#output-value")).to_contain_text("the middle")
    await expect(timeline_values(page).last).to_have_text('"done"')
    await expect(page.locator("#act-rewind")).to_be_disabled()
    assert (await steering.status(instance_id)).json["output"] == [
        "Hello before!",
        "the middle",
        "Hello after!",
    ]


async def test_timers_are_skipped_with_the_manual_clock_from_the_dashboard(
    steering: Dashboard, page: Page, instance_id: str
) -> None:
    await steering.start("Sleeper", 3600, instance_id=instance_id)
    await steering.wait(instance_id, ("Running",), history_events={"TimerCreated": 1})
    await open_instance(page, steering, instance_id)
    await expect(timeline_values(page).last).to_have_text('"first nap"')
    clock = page.get_by_role("complementary", name="devhost's clock")
    await expect(clock.locator("#timers li").filter(has_text=instance_id)).to_have_count(1)
    before = datetime.fromisoformat(await page.locator("#clock-now").get_attribute("datetime"))

    # An hour, by the number of seconds.
    await clock.get_by_label("Advance by (seconds)").fill("3600")
    await clock.get_by_role("button", name="Advance", exact=True).click()
    await expect(timeline_values(page).last).to_have_text('"second nap"')
    after = datetime.fromisoformat(await page.locator("#clock-now").get_attribute("datetime"))
    assert after - before >= timedelta(seconds=3600), (before, after)

    # The second nap, straight to its timer.
    await expect(clock.locator("#timers li").filter(has_text=instance_id)).to_have_count(1)
    await clock.get_by_role("button", name="Advance to the next timer").click()
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    await expect(timeline_values(page)).to_have_text(['"first nap"', '"second nap"', '"awake"'])
    await expect(clock.locator("#timers-empty")).to_be_visible()
    await expect(clock.get_by_role("button", name="Advance to the next timer")).to_be_disabled()
    fired = page.locator("#history-body tr").filter(has_text="TimerFired")
    await expect(fired).to_have_count(2)

    # What the API refuses is shown in its own words.
    refused = await steering.request("POST", "/devhost/api/clock/advance", body={"seconds": 1e12})
    assert refused.status == 400, refused.text
    await clock.get_by_label("Advance by (seconds)").fill("1e12")
    await clock.get_by_role("button", name="Advance", exact=True).click()
    await expect(page.locator("#clock-error")).to_have_text(refused.json["error"])
    await check_view(page, "clock")


async def test_history_shows_durations_timers_attempts_and_linked_sub_orchestrations(
    steering: Dashboard, page: Page, instance_id: str, tmp_path: Path
) -> None:
    await steering.start("Showcase", str(tmp_path / "tried"), instance_id=instance_id)
    await steering.wait(instance_id, ("Running",), history_events={"TimerCreated": 1})
    await steering.advance_clock(30)  # the showcase's own timer
    await steering.wait(instance_id, ("Running",), history_events={"TimerCreated": 2})
    await steering.advance_clock(2)  # the retry's timer
    assert (await steering.wait(instance_id))["runtimeStatus"] == "Completed"

    await open_instance(page, steering, instance_id)
    await expect(page.locator("#runtime-status")).to_have_text("Completed")
    table = page.locator("#history-table")
    rows = page.locator("#history-body tr")
    greeted = rows.filter(has_text="TaskCompleted").filter(has_text="Greet")
    duration = await cell_under(table, greeted, "Duration")
    await expect(duration).to_have_text(re.compile(r"^\d+(\.\d+)? (ms|s)$"))
    result = await cell_under(table, greeted, "Input / result")
    await expect(result).to_have_text('result: "Hello showcase!"')
    timer = rows.filter(has_text="TimerCreated").first
    fires = await cell_under(table, timer, "Timer fires at")
    await expect(fires.locator("time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\dT")
    )
    failed = rows.filter(has_text="TaskFailed")
    await expect(await cell_under(table, failed, "Attempt")).to_have_text("1")
    retried = rows.filter(has_text="TaskCompleted").filter(has_text="FailsOnce")
    await expect(await cell_under(table, retried, "Attempt")).to_have_text("2")
    fired = rows.filter(has_text="TimerFired").first  # from created to fired: 30 s or more
    await expect(await cell_under(table, fired, "Duration")).to_have_text(re.compile(r"^\d\d"))

    # A failure's details unfold, from the keyboard too.
    summary = failed.locator("summary")
    await expect(summary).to_contain_text("first attempt fails on purpose")
    await summary.focus()
    await page.keyboard.press("Enter")
    await expect(failed.locator("details pre")).to_be_visible()
    await expect(failed.locator("details pre")).to_contain_text("RuntimeError")
    await check_view(page, "instance-history")

    child_id = f"{instance_id}-child"
    created = rows.filter(has_text="SubOrchestrationInstanceCreated")
    await created.get_by_role("link", name=child_id).click()
    await expect(page).to_have_url(steering.instance_url(child_id))
    await expect(page.locator("#instance-name")).to_have_text("Child")
    await expect(page.locator("#parent-instance")).to_have_text(instance_id)
    await page.locator("#parent-instance").get_by_role("link").click()
    await expect(page.locator("#instance-id")).to_have_text(instance_id)


async def test_suspend_resume_terminate_run_again_and_purge(
    steering: Dashboard, page: Page, instance_id: str
) -> None:
    await steering.start("Parked", {"color": "green"}, instance_id=instance_id)
    await steering.wait(instance_id, ("Running",))
    await open_instance(page, steering, instance_id)
    await expect(page.locator("#runtime-status")).to_have_text("Running")
    await expect(page.get_by_role("button", name="Resume")).to_be_disabled()
    dialog = page.get_by_role("dialog")

    # Asked first: Cancel changes nothing.
    await page.get_by_role("button", name="Suspend…").click()
    await expect(dialog).to_contain_text(f"Suspend instance {instance_id}?")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    assert (await steering.status(instance_id)).json["runtimeStatus"] == "Running"

    await page.get_by_role("button", name="Suspend…").click()
    await dialog.get_by_role("button", name="Suspend").click()
    await expect(page.locator("#runtime-status")).to_have_text("Suspended")
    await expect(page.get_by_role("button", name="Suspend…")).to_be_disabled()
    await page.get_by_role("button", name="Resume").click()
    await expect(page.locator("#runtime-status")).to_have_text("Running")

    await page.get_by_role("button", name="Terminate…").click()
    await page.keyboard.press("Escape")  # also a "no"
    await expect(dialog).to_be_hidden()
    assert (await steering.status(instance_id)).json["runtimeStatus"] == "Running"
    await page.get_by_role("button", name="Terminate…").click()
    await dialog.get_by_label("Reason (optional)").fill("seen enough")
    await dialog.get_by_role("button", name="Terminate").click()
    await expect(page.locator("#runtime-status")).to_have_text("Terminated")
    await expect(page.locator("#output-value")).to_contain_text("seen enough")
    await check_view(page, "instance-terminated")

    # Run again, with the input edited; a bad edit is refused first, in words.
    rerun_input = page.get_by_label("Input (JSON; empty for none)")
    await expect(rerun_input).to_have_value(re.compile(r'"color": "green"'))
    await page.get_by_label("Input (JSON; empty for none)").fill("{color: blue}")
    await page.get_by_role("button", name="Run again").click()
    await expect(page.locator("#rerun-error")).to_contain_text("not valid JSON")
    await page.get_by_label("Input (JSON; empty for none)").fill('{"color": "blue"}')
    await page.get_by_role("button", name="Run again").click()
    await expect(page).not_to_have_url(steering.instance_url(instance_id))
    await expect(page.locator("#instance-name")).to_have_text("Parked")
    new_id = await page.locator("#instance-id").inner_text()
    assert new_id != instance_id
    await expect(page.locator("#input-value")).to_contain_text('"blue"')
    await expect(page.locator("#runtime-status")).to_have_text("Running")
    await expect(page.locator("#status-value")).to_contain_text('"blue"')

    await page.goto(steering.instance_url(instance_id))
    await expect(page.locator("#runtime-status")).to_have_text("Terminated")
    await page.get_by_role("button", name="Purge…").click()
    await expect(dialog).to_contain_text(f"Purge instance {instance_id}?")
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await check_view(page, "confirm-purge")
    await dialog.get_by_role("button", name="Purge").click()
    await expect(page.locator("#notice")).to_have_text(f"Instance {instance_id} was purged.")
    await expect(page.locator("#instance-body")).to_be_hidden()
    assert (await steering.status(instance_id)).status == 404
    # The new instance is left Running, waiting for "Go": no timer, nothing for other tests.


async def test_an_answer_without_a_body_is_explained_in_words(
    steering: Dashboard, page: Page, instance_id: str
) -> None:
    """The webhooks refuse an ended instance's event with a bare 410; the page says what it
    means. The page's long poll is held back (``page.route``), so that the page still believes
    the instance runs when it is terminated behind its back."""
    await steering.start("Parked", {"color": "grey"}, instance_id=instance_id)
    await steering.wait(instance_id, ("Running",))
    release = asyncio.Event()

    async def hold(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await page.route(re.compile(r"waitSeconds="), hold)
    await open_instance(page, steering, instance_id)
    await expect(page.locator("#runtime-status")).to_have_text("Running")
    reply = await steering.request(
        "POST", f"/runtime/webhooks/durabletask/instances/{instance_id}/terminate?reason=behind"
    )
    assert reply.status == 202, reply.text
    await steering.wait(instance_id, ("Terminated",))

    await page.get_by_label("Event name").fill("Go")
    await page.get_by_label("Event data (JSON)").fill('"now"')
    await page.get_by_role("button", name="Raise event").click()
    await expect(page.locator("#event-error")).to_have_text(
        f"Instance {instance_id} has already ended (410 Gone), so it cannot be sent an event."
    )

    release.set()  # the held poll goes on, with the ETag of the running instance
    await expect(page.locator("#runtime-status")).to_have_text("Terminated")


async def test_why_an_instance_waits_forever_is_shown(
    steering: Dashboard, page: Page, instance_id: str
) -> None:
    """A call to a misspelled activity schedules nothing (as on Azure); devhost knows why the
    instance waits, and the view says so."""
    await steering.start("Misspelled", instance_id=instance_id)
    await steering.wait(instance_id, ("Running",))
    await open_instance(page, steering, instance_id)
    problems = page.get_by_role("list", name="Why this instance waits forever")
    await expect(problems).to_contain_text("Greeet")  # (the view follows: no race with the API)
    status = (await steering.status(instance_id)).json
    await expect(problems.get_by_role("listitem")).to_have_text(status["devhostProblems"])
    await check_view(page, "instance-waits-forever")
    await page.get_by_role("button", name="Terminate…").click()
    await page.get_by_role("dialog").get_by_role("button", name="Terminate").click()
    await expect(page.locator("#runtime-status")).to_have_text("Terminated")


async def test_large_values_are_folded_and_unfold(
    steering: Dashboard, page: Page, instance_id: str
) -> None:
    rows = [{"n": n, "text": f"row {n} of a status too large to show unasked"} for n in range(100)]
    await steering.start("Tagged", {"rows": rows}, instance_id=instance_id)
    await steering.wait(instance_id)
    await open_instance(page, steering, instance_id)
    await expect(page.locator("#runtime-status")).to_have_text("Completed")

    folded = page.locator("#input-value details")
    await expect(folded.locator("summary")).to_have_text(
        re.compile(r"^Show the input \([\d,]+ characters, [\d,]+ lines\)$")
    )
    await expect(folded.locator("pre")).to_be_hidden()
    await folded.locator("summary").focus()
    await page.keyboard.press("Enter")
    await expect(folded.locator("pre")).to_contain_text('"text": "row 99 of a status')
    await expect(page.locator("#status-value details summary")).to_contain_text(
        "Show the custom status"
    )
    # In a table cell: a preview that unfolds to the whole value.
    change = page.locator("#timeline-body tr").last.locator("details")
    await expect(change.locator("summary")).to_contain_text('{"rows":[{"n":0')
    await change.locator("summary").click()
    await expect(change.locator("pre")).to_contain_text('"n": 99')
    await check_view(page, "instance-large-values")
