"""The second app (``tests/apps/patterns``) in a devhost process of its own, driven over HTTP.

``tests/devhost/runtime`` runs the same orchestrators in-process; here they run as a user runs them:
``python -m devhost --app-dir tests/apps/patterns``, started through the app's own HTTP starter
(the SDK's durable client inside a second app), observed through the built-in webhooks, with
events raised by the SDK's client, and timers (retry back-off, a 60 s wait) on the manual clock.
The wait hook's ``historyEvents`` lets a test advance the clock only once a timer exists.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import azure.durable_functions as df
import pytest

from tests.support.devhost_process import DevhostProcess

from .conftest import APPS, WEBHOOKS, AppApi, sdk_client_for, start_devhost

pytestmark = pytest.mark.e2e

SECRET = "db-password=hunter2"  # what tests/apps/patterns' broken functions raise with


@pytest.fixture(scope="module")
def patterns_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevhostProcess]:
    state_dir = tmp_path_factory.mktemp("patterns-devhost")
    env = {"PATTERNS_JOURNAL": str(state_dir / "journal.txt")}
    host = start_devhost(APPS / "patterns", state_dir, env)
    try:
        yield host
    finally:
        assert host.stop() == 0, host.log


@pytest.fixture
def patterns(http: aiohttp.ClientSession, patterns_host: DevhostProcess) -> AppApi:
    return AppApi(http, patterns_host.base_url)


@pytest.fixture
def client(patterns_host: DevhostProcess) -> df.DurableOrchestrationClient:
    return sdk_client_for(patterns_host)


async def start(api: AppApi, name: str, value: Any = None, instance_id: str = "") -> str:
    """``POST /api/patterns/{name}`` (the app's starter); asserts the check-status response."""
    params = {"instanceId": instance_id} if instance_id else None
    reply = await api.request("POST", f"/api/patterns/{name}", body=value, params=params)
    assert reply.status == 202, reply.text
    assert reply.headers["Location"] == reply.json["statusQueryGetUri"]
    return reply.json["id"]


async def history_counts(api: AppApi, instance_id: str) -> Counter[str]:
    """Event types in the instance's history, from the built-in status API."""
    url = f"{WEBHOOKS}/instances/{quote(instance_id, safe='')}?showHistory=true"
    reply = await api.request("GET", url)
    assert reply.status in (200, 202), reply.text
    return Counter(event["EventType"] for event in reply.json["historyEvents"])


async def wait_for_timers(api: AppApi, instance_id: str, count: int) -> None:
    """Until ``count`` durable timers have been created (so advancing the clock will fire them)."""
    reply = await api.request(
        "POST",
        f"/admin/devhost/instances/{quote(instance_id, safe='')}/wait",
        body={"runtimeStatus": ["Running"], "historyEvents": {"TimerCreated": count}},
    )
    assert reply.status == 200, reply.text


async def test_the_host_lists_the_second_apps_functions(patterns_host: DevhostProcess) -> None:
    log = patterns_host.log
    assert "task hub 'PatternsHub'" in log
    assert re.search(r"StartPattern: \[POST\] http://localhost:\d+/api/patterns/\{name\}", log)
    for name in ("FanOutFanIn", "Retrying", "Parent", "Counter", "EarlyEvent", "Race"):
        assert f"{name}: orchestrationTrigger" in log


async def test_fan_out_fan_in(patterns: AppApi) -> None:
    instance_id = await start(patterns, "FanOutFanIn", 25)
    status = await patterns.wait(instance_id)
    assert (status["runtimeStatus"], status["output"]) == ("Completed", 600)  # 2 * (0 + ... + 24)
    counts = await history_counts(patterns, instance_id)
    # The status API folds each TaskScheduled into its TaskCompleted, as the extension does.
    assert (counts["TaskScheduled"], counts["TaskCompleted"]) == (0, 25)


async def test_retry_recovers_after_two_failures(patterns: AppApi) -> None:
    job = {"key": uuid.uuid4().hex, "failures": 2, "attempts": 3}
    instance_id = await start(patterns, "Retrying", job)
    for timers in (1, 2):  # 5 s back-off on a durable timer after each failure
        await wait_for_timers(patterns, instance_id, timers)
        await patterns.advance_clock(5)
    status = await patterns.wait(instance_id)
    assert status["output"] == "succeeded on attempt 3"
    counts = await history_counts(patterns, instance_id)
    assert (counts["TaskFailed"], counts["TimerFired"], counts["TaskCompleted"]) == (2, 2, 1)


async def test_retry_gives_up_after_the_last_attempt(patterns: AppApi) -> None:
    job = {"key": uuid.uuid4().hex, "failures": 99, "attempts": 2}
    instance_id = await start(patterns, "Retrying", job)
    for timers in (1, 2):
        await wait_for_timers(patterns, instance_id, timers)
        await patterns.advance_clock(5)
    status = await patterns.wait(instance_id)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"].startswith("gave up: Activity function 'Flaky' failed")
    assert "attempt 2 failed" in status["output"]


async def test_sub_orchestrations_and_a_failing_child(patterns: AppApi, instance_id: str) -> None:
    await start(patterns, "Parent", instance_id=instance_id)
    status = await patterns.wait(instance_id)
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"]["children"] == [
        {"greeting": "Hello a!", "parent": instance_id},
        {"greeting": "Hello b!", "parent": instance_id},
    ]
    assert "boom" in status["output"]["failedChild"]
    child = await patterns.wait(f"{instance_id}-child-b")
    assert (child["name"], child["runtimeStatus"]) == ("Child", "Completed")


async def test_continue_as_new_takes_each_later_event(
    patterns: AppApi, client: df.DurableOrchestrationClient
) -> None:
    instance_id = await start(patterns, "Counter")
    for n, value in enumerate(("a", "b", "c")):
        # One at a time: an event not consumed before continue_as_new is dropped, as on Azure.
        await patterns.wait(instance_id, ("Running",), custom_status={"n": n})
        await client.raise_event(instance_id, "Add", value)
    status = await patterns.wait(instance_id)
    # The SDK client double-encodes event data, so each value arrives as JSON text.
    assert status["output"] == {"n": 3, "added": ['"a"', '"b"', '"c"']}
    counts = await history_counts(patterns, instance_id)
    assert counts["ExecutionStarted"] == 1  # the history is the last execution's only


async def test_an_event_raised_before_the_wait_is_kept(
    patterns: AppApi, client: df.DurableOrchestrationClient
) -> None:
    instance_id = await start(patterns, "EarlyEvent")
    await wait_for_timers(patterns, instance_id, 1)
    await client.raise_event(instance_id, "Go", "early")
    await patterns.request(
        "POST",
        f"/admin/devhost/instances/{instance_id}/wait",
        body={"runtimeStatus": ["Running"], "historyEvents": {"EventRaised": 1}},
    )
    await patterns.advance_clock(60)
    status = await patterns.wait(instance_id)
    assert status["output"] == {"go": json.dumps("early")}


async def test_a_cancelled_timer_lets_the_race_end_at_once(
    patterns: AppApi, client: df.DurableOrchestrationClient
) -> None:
    instance_id = await start(patterns, "Race", True)
    await wait_for_timers(patterns, instance_id, 1)
    await client.raise_event(instance_id, "Done", True)
    status = await patterns.wait(instance_id)  # no clock advance: the 60 s timer was cancelled
    assert (status["runtimeStatus"], status["output"]) == ("Completed", "event")


async def test_failures_fail_the_instance_with_azures_texts(
    patterns: AppApi,
) -> None:
    orchestrator = await patterns.wait(await start(patterns, "Boom"))
    assert orchestrator["runtimeStatus"] == "Failed"
    assert orchestrator["output"] == "Orchestrator function 'Boom' failed: boom"
    assert orchestrator["customStatus"] == "about to fail"

    activity = await patterns.wait(await start(patterns, "CallsFailingActivity"))
    assert activity["runtimeStatus"] == "Failed"
    # The built-in API shows what Azure's does: the reason, then the serialised exception with
    # the worker's stack trace (the app's own /api/status keeps the first line only).
    first_line = activity["output"].split("\n", 1)[0]
    assert first_line == (
        "Orchestrator function 'CallsFailingActivity' failed: "
        "Activity function 'AlwaysFails' failed:  KeyError: 'x' "
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_raising_http_function_is_a_generic_500_and_a_logged_traceback(
    patterns: AppApi, patterns_host: DevhostProcess, kind: str
) -> None:
    reply = await patterns.request("GET", f"/api/broken/{kind}")
    assert reply.status == 500
    assert reply.content_type.startswith("application/json")
    assert SECRET not in reply.text and "Traceback" not in reply.text
    invocation_id = reply.json["invocationId"]

    patterns_host.wait_for_line(
        rf"Executed 'Functions\.Broken{kind.title()}' \(Failed, Id={invocation_id}"
    )
    log = patterns_host.log
    assert f"RuntimeError: {kind} failure while connecting with {SECRET}" in log
    assert "Traceback (most recent call last)" in log
    # The host is still serving.
    assert (await patterns.request("GET", f"{WEBHOOKS}/instances/")).status == 200
