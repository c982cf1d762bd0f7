"""One instance over HTTP: its view and ETag, the long poll that keeps a page live, its history
table (durations, timers, retries, sub-orchestrations) and the JSON Lines export, which must be
the webhook's ``showHistory`` exactly."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from devhost.protocol.history import format_timestamp
from devhost.server import DevHost

from .conftest import API, WEBHOOK, ended, get_json, run_to_end, start, until


def _armed(host: DevHost) -> bool:
    """A durable timer is armed that has not come due on devhost's clock."""
    store = host.engine.store
    assert store is not None
    return bool(store.listing.armed_timers(format_timestamp(host.engine.clock.now()), 1))


async def _history(http: aiohttp.ClientSession, host: DevHost, instance_id: str) -> list[dict]:
    page = await get_json(http, host, f"instances/{instance_id}/history", params={"top": "1000"})
    assert page["total"] == len(page["events"])
    return page["events"]


async def _waiting_gate(
    http: aiohttp.ClientSession, host: DevHost, instance_id: str
) -> tuple[str, str]:
    """A Gate instance waiting for its event: its view's URL and current ETag."""
    await start(host, "Gate", None, instance_id)
    await host.engine.wait_for(instance_id, lambda s: s["customStatus"] == "waiting")
    url = f"{host.base_url}{API}/instances/{instance_id}"
    async with http.get(url) as reply:
        return url, reply.headers["ETag"]


async def _long_poll(
    http: aiohttp.ClientSession, url: str, etag: str, parked: asyncio.Event
) -> asyncio.Task[tuple[int, Any]]:
    """A long poll of ``url`` sent, and waiting on the engine for a change."""

    async def poll() -> tuple[int, Any]:
        async with http.get(f"{url}?waitSeconds=60", headers={"If-None-Match": etag}) as reply:
            return reply.status, None if reply.status == 304 else await reply.json()

    parked.clear()  # (the engine's own waits set it too: only the poll's counts from here)
    polling = asyncio.create_task(poll())
    await parked.wait()
    assert not polling.done()
    return polling


async def test_the_view_shows_the_instance_as_the_status_api_does(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await run_to_end(host, "Family", None, "fam")
    view = await get_json(http, host, "instances/fam")
    status = await get_json(http, host, f"{WEBHOOK}/instances/fam")
    for field in ("name", "runtimeStatus", "input", "output", "customStatus", "createdTime"):
        assert view[field] == status[field], field
    assert view["instanceId"] == "fam" and view["parentInstanceId"] is None
    assert view["output"] == {"child": ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]}
    child = await get_json(http, host, "instances/fam-child")
    assert child["parentInstanceId"] == "fam" and child["statusChanges"] == 3
    history = await get_json(http, host, "instances/fam/history")
    assert view["historyLength"] == history["total"] > 0
    assert len(view["executionId"]) == 32 and view["suspended"] is False


async def test_the_view_says_why_an_instance_waits_forever(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await start(host, "CallsMissing", None, "typo")
    await host.engine.wait_for("typo", lambda s: "devhostProblems" in s)
    view = await get_json(http, host, "instances/typo")
    (problem,) = view["devhostProblems"]
    assert "The function 'Helo' doesn't exist" in problem
    assert view["runtimeStatus"] == "Running"
    await start(host, "Cities", None, "fine")
    assert "devhostProblems" not in await get_json(http, host, "instances/fine")


async def test_an_unchanged_instance_answers_304_and_a_changed_one_200(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    url, etag = await _waiting_gate(http, host, "gate")
    assert etag.startswith('"') and etag.endswith('"')
    async with http.get(url, headers={"If-None-Match": etag}) as reply:
        assert reply.status == 304 and reply.headers["ETag"] == etag
    async with http.get(url, headers={"If-None-Match": f'"other", W/{etag}'}) as reply:
        assert reply.status == 304  # a list, and a weak tag, as HTTP allows
    async with http.post(f"{host.base_url}{WEBHOOK}/instances/gate/suspend") as reply:
        assert reply.status == 202
    async with http.get(url, headers={"If-None-Match": etag}) as reply:
        assert reply.status == 200 and reply.headers["ETag"] != etag
        assert (await reply.json())["suspended"] is True
    # No wait asked for and no change: 304 at once, whatever waitSeconds is not.
    async with http.get(url + "?waitSeconds=0", headers={"If-None-Match": "*"}) as reply:
        assert reply.status == 304


def _signal_waits(host: DevHost, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """An event set once a long poll is waiting on the engine for a change."""
    waiting = asyncio.Event()
    original = host.engine.wait_for_state_change

    async def wait_for_state_change(instance_id: str, timeout: float) -> None:
        waiting.set()
        await original(instance_id, timeout)

    monkeypatch.setattr(host.engine, "wait_for_state_change", wait_for_state_change)
    return waiting


@pytest.fixture
def parked(host: DevHost, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Set once a long poll is waiting on the engine for a change."""
    return _signal_waits(host, monkeypatch)


async def test_a_long_poll_answers_at_the_next_committed_change(
    host: DevHost, http: aiohttp.ClientSession, parked: asyncio.Event
) -> None:
    url, etag = await _waiting_gate(http, host, "poll")
    view = await get_json(http, host, "instances/poll")
    polling = await _long_poll(http, url, etag, parked)
    async with http.post(
        f"{host.base_url}{WEBHOOK}/instances/poll/raiseEvent/Go", json="ok"
    ) as reply:
        assert reply.status == 202
    status, body = await polling
    # The first commit after the event (its episode) answers the poll, with the new state.
    assert status == 200 and body["historyLength"] > view["historyLength"]


async def test_a_long_poll_on_a_purged_instance_answers_404(
    host: DevHost, http: aiohttp.ClientSession, parked: asyncio.Event
) -> None:
    url, etag = await _waiting_gate(http, host, "doomed")
    polling = await _long_poll(http, url, etag, parked)
    async with http.delete(f"{host.base_url}{WEBHOOK}/instances/doomed") as reply:
        assert reply.status == 200
    status, body = await polling
    assert status == 404 and "doomed" in body["error"]


async def test_stopping_devhost_ends_its_long_polls(
    start_host: Any, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page left open must not hold devhost's stop for its poll's minute: the poll answers 304
    as the server shuts down, and the stop goes on."""
    async with start_host() as host:
        waiting = _signal_waits(host, monkeypatch)
        url, etag = await _waiting_gate(http, host, "left-open")
        polling = await _long_poll(http, url, etag, waiting)
        # A watchdog, not a timing: without the fix the stop waits for the poll's 60 s.
        await asyncio.wait_for(host.stop(), timeout=30)
        status, _ = await polling
        assert status == 304


async def test_a_long_poll_with_no_change_answers_304_when_its_time_is_up(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    url, etag = await _waiting_gate(http, host, "quiet")
    async with http.get(url + "?waitSeconds=0.2", headers={"If-None-Match": etag}) as reply:
        assert reply.status == 304 and reply.headers["ETag"] == etag


async def test_the_history_table_times_tasks_and_numbers_retried_attempts(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await start(host, "Retries", None, "retry")
    clock = f"{host.base_url}{API}/clock/advance"
    for _ in range(2):  # each failed attempt waits 1 s of devhost's clock before the next
        await until(host, "retry", lambda: _armed(host))
        async with http.post(clock, json={"toNextTimer": True}) as reply:
            assert reply.status == 200, await reply.text()
    await ended(host, "retry")
    rows = await _history(http, host, "retry")
    assert [row["index"] for row in rows] == list(range(len(rows)))
    kinds = [row["eventType"] for row in rows]
    assert kinds.count("OrchestratorStarted") == 7 and kinds[-1] == "ExecutionCompleted"

    flaky = [row for row in rows if row["name"] == "FailsTwice"]
    # Each attempt's scheduling and its outcome, numbered along the chain.
    assert [r["attempt"] for r in flaky] == [1, 1, 2, 2, 3, 3]
    assert [r["eventType"] for r in flaky] == ["TaskScheduled", "TaskFailed"] * 2 + [
        "TaskScheduled",
        "TaskCompleted",
    ]
    assert "attempt 1 failed" in f"{flaky[1]['reason']} {flaky[1]['details']}"
    assert flaky[5]["result"] == "succeeded on attempt 3"
    hello = [row for row in rows if row["name"] == "Hello"]
    assert [r["attempt"] for r in hello] == [None, None]  # not retried: no attempt number
    assert hello[0]["input"] == "before" and hello[1]["result"] == "Hello before!"

    for completion in (r for r in rows if r["taskScheduledId"] is not None):
        scheduled = next(r for r in rows if r["eventId"] == completion["taskScheduledId"])
        assert completion["scheduledTime"] == scheduled["timestamp"]
        elapsed = datetime.fromisoformat(completion["timestamp"]) - datetime.fromisoformat(
            scheduled["timestamp"]
        )
        assert completion["durationMs"] == round(elapsed.total_seconds() * 1000, 3)
    fired = [row for row in rows if row["eventType"] == "TimerFired"]
    assert len(fired) == 2
    for row in fired:  # the retry's wait: first interval, 1 s, on devhost's clock
        assert row["durationMs"] == 1000.0 and row["fireAt"] == row["timestamp"]
        assert row["attempt"] is None


async def test_timers_show_their_fire_time_and_children_their_instance(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await start(host, "Sleeper", None, "sleeper")
    await until(host, "sleeper", lambda: _armed(host))
    rows = await _history(http, host, "sleeper")
    (created,) = [row for row in rows if row["eventType"] == "TimerCreated"]
    fire_at = datetime.fromisoformat(created["fireAt"])
    assert fire_at - datetime.fromisoformat(created["timestamp"]) == timedelta(seconds=60)
    host.engine.clock.advance(60)
    await ended(host, "sleeper")
    rows = await _history(http, host, "sleeper")
    (fired,) = [row for row in rows if row["eventType"] == "TimerFired"]
    assert datetime.fromisoformat(fired["fireAt"]) == fire_at and fired["durationMs"] == 60_000.0
    assert fired["taskScheduledId"] == created["eventId"]

    await run_to_end(host, "Family", None, "parent")
    rows = await _history(http, host, "parent")
    child = [row for row in rows if row["subInstanceId"] is not None]
    assert [(r["eventType"], r["subInstanceId"], r["name"]) for r in child] == [
        ("SubOrchestrationInstanceCreated", "parent-child", "Cities"),
        ("SubOrchestrationInstanceCompleted", "parent-child", "Cities"),
    ]
    assert child[1]["result"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert child[1]["durationMs"] >= 0


async def test_history_pages_and_refusals(host: DevHost, http: aiohttp.ClientSession) -> None:
    await run_to_end(host, "Cities", None, "pages")
    whole = await _history(http, host, "pages")
    page = await get_json(http, host, "instances/pages/history?offset=5&top=4")
    assert page["total"] == len(whole) and page["offset"] == 5
    assert page["events"] == whole[5:9]
    past = await get_json(http, host, "instances/pages/history?offset=9999")
    assert past["events"] == [] and past["total"] == len(whole)
    for query, words in {
        "top=0": "top must be from 1 to 1,000",
        "top=1001": "top must be from 1 to 1,000",
        "offset=-1": "offset must be from 0",
    }.items():
        body = await get_json(http, host, f"instances/pages/history?{query}", status=400)
        assert words in body["error"]
    for query in ("waitSeconds=61", "waitSeconds=soon", "waitSeconds=nan"):
        body = await get_json(http, host, f"instances/pages?{query}", status=400)
        assert "waitSeconds must be a number of seconds from 0 to 60" in body["error"]
    for path in ("instances/nobody", "instances/nobody/history", "instances/nobody/history.jsonl",
                 "instances/nobody/status-timeline"):  # fmt: skip
        body = await get_json(http, host, path, status=404)
        assert "No instance with the id 'nobody'" in body["error"]


@pytest.mark.parametrize("name", ["Retries", "Family", "Gate"])
async def test_the_jsonl_export_is_the_webhooks_show_history(
    host: DevHost, http: aiohttp.ClientSession, name: str
) -> None:
    instance_id = f"export-{name} é"
    await start(host, name, None, instance_id)
    if name == "Retries":
        for _ in range(2):
            await until(host, instance_id, lambda: _armed(host))
            host.engine.clock.advance(1)
        await ended(host, instance_id)
    elif name == "Family":
        await ended(host, instance_id)
    else:  # still running, and waiting
        await host.engine.wait_for(instance_id, lambda s: s["customStatus"] == "waiting")
    quoted = quote(instance_id, safe="")
    async with http.get(f"{host.base_url}{API}/instances/{quoted}/history.jsonl") as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("application/x-ndjson")
        disposition = reply.headers["Content-Disposition"]
        text = (await reply.read()).decode("utf-8")
    assert disposition.startswith(f'attachment; filename="export-{name} _.history.jsonl"')
    assert "filename*=UTF-8''export-" in disposition
    lines = text.split("\n")
    assert lines[-1] == "" and all(lines[:-1])
    status = await get_json(
        http,
        host,
        f"{WEBHOOK}/instances/{quoted}",
        status=200 if name != "Gate" else 202,
        params={"showHistory": "true", "showHistoryOutput": "true", "showInput": "true"},
    )
    assert [json.loads(line) for line in lines[:-1]] == status["historyEvents"]
