"""devhost's clock on the dashboard: its time and armed timers, moved by seconds or to the next
timer (which then fires), and refused in words when it is not manual or the body is wrong."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiohttp

from devhost.server import DevHost

from .conftest import API, ended, get_json, start, until


async def _advance(http: aiohttp.ClientSession, host: DevHost, body: Any) -> tuple[int, Any]:
    async with http.post(f"{host.base_url}{API}/clock/advance", json=body) as reply:
        return reply.status, await reply.json()


async def test_the_clock_lists_armed_timers_and_skips_to_the_next(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await start(host, "Sleeper", None, "nap")
    await until(host, "nap", lambda: host.engine.get_status("nap")["customStatus"] == "asleep")
    clock = await get_json(http, host, "clock")
    assert clock["manual"] is True
    (timer,) = clock["timers"]
    assert (timer["instanceId"], timer["name"]) == ("nap", "Sleeper")
    due_in = datetime.fromisoformat(timer["fireAt"]) - datetime.fromisoformat(clock["now"])
    assert timedelta(seconds=59) < due_in <= timedelta(seconds=60)

    status, moved = await _advance(http, host, {"toNextTimer": True})
    assert status == 200 and datetime.fromisoformat(moved["now"]) >= datetime.fromisoformat(
        timer["fireAt"]
    )
    assert (await ended(host, "nap"))["output"] == "rested"  # the timer fired
    assert (await get_json(http, host, "clock"))["timers"] == []
    status, body = await _advance(http, host, {"toNextTimer": True})
    assert status == 409 and "No durable timer is armed" in body["error"]


async def test_advancing_by_seconds_moves_the_clock_and_fires_what_comes_due(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await start(host, "Sleeper", None, "short")
    await until(host, "short", lambda: host.engine.get_status("short")["customStatus"] == "asleep")
    before = datetime.fromisoformat((await get_json(http, host, "clock"))["now"])
    status, moved = await _advance(http, host, {"seconds": 30})
    assert status == 200 and datetime.fromisoformat(moved["now"]) - before >= timedelta(seconds=30)
    assert host.engine.get_status("short")["runtimeStatus"] == "Running"  # not yet due
    assert len((await get_json(http, host, "clock"))["timers"]) == 1
    status, _ = await _advance(http, host, {"seconds": 30.5})
    assert status == 200
    assert (await ended(host, "short"))["customStatus"] == "awake"


async def test_bad_bodies_are_refused_in_words(host: DevHost, http: aiohttp.ClientSession) -> None:
    url = f"{host.base_url}{API}/clock/advance"
    for body, words in [
        ({"seconds": -1}, '"seconds" must be from 0 to'),
        ({"seconds": 1e12}, "(ten years)"),
        ({"seconds": "10"}, '"seconds" must be a number'),
        ({"seconds": True}, '"seconds" must be a number'),
        ({"toNextTimer": False}, 'Send {"seconds": N} or {"toNextTimer": true}'),
        ({"seconds": 1, "toNextTimer": True}, 'Send {"seconds": N} or {"toNextTimer": true}'),
        ({}, 'Send {"seconds": N}'),
        ([1], "The body must be a JSON object"),
    ]:
        status, answer = await _advance(http, host, body)
        assert (status, words in answer["error"]) == (400, True), body
    for raw in (b"", b"{not json", b"NaN"):
        async with http.post(url, data=raw) as reply:
            assert reply.status == 400
            assert "The body must be a JSON object" in (await reply.json())["error"]
    async with http.get(url) as reply:
        assert reply.status == 405 and reply.headers["Allow"] == "POST"
        assert "This path takes POST only" in (await reply.json())["error"]


async def test_a_clock_that_is_not_manual_cannot_be_moved(
    start_host: Any, http: aiohttp.ClientSession
) -> None:
    async with start_host(manual_clock=False) as host:
        assert (await get_json(http, host, "clock"))["manual"] is False
        for body in ({"seconds": 5}, {"toNextTimer": True}):
            status, answer = await _advance(http, host, body)
            assert status == 409
            assert answer["error"] == "The clock is not manual; start devhost with --manual-clock."
