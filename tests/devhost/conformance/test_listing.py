"""Rows "listing" and "query parameters" of devhost/CONFORMANCE.md."""

from __future__ import annotations

import json

import aiohttp
import azure.durable_functions as df

from devhost.server import DevHost

from .conftest import WEBHOOK, call, running


async def start_waiting(host: DevHost, *ids: str) -> None:
    for instance_id in ids:
        await host.engine.start_orchestration("Collector", instance_id, json.dumps("1"))
    for instance_id in ids:
        await host.engine.wait_for(instance_id, running)


async def test_listing_pages_of_100_with_a_continuation_token(
    host: DevHost, client: df.DurableOrchestrationClient, http: aiohttp.ClientSession
) -> None:
    await start_waiting(host, *(f"i-{n:03}" for n in range(105)))
    url = f"{host.base_url}{WEBHOOK}/instances/"
    async with http.get(url) as response:
        first = await response.json()
        token = response.headers["x-ms-continuation-token"]
    assert len(first) == 100 and token
    async with http.get(url, headers={"x-ms-continuation-token": token}) as response:
        rest = await response.json()
        assert response.headers["x-ms-continuation-token"] == ""
    assert len(rest) == 5
    # The SDK's get_status_all reads the first page only, on Azure as here.
    assert len(await client.get_status_all()) == 100


async def test_listing_in_instance_id_order(host: DevHost, http: aiohttp.ClientSession) -> None:
    await start_waiting(host, "c", "a", "b")
    _, body, _ = await call(http, "GET", f"{host.base_url}{WEBHOOK}/instances/")
    assert [s["instanceId"] for s in body] == ["a", "b", "c"]


async def test_listing_runtime_status_parsed_as_enum_tryparse(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await start_waiting(host, "waiting")
    await host.engine.start_orchestration("FanOutFanIn", "done", json.dumps("1"))
    await host.engine.wait_for("done", lambda s: s["runtimeStatus"] == "Completed")
    url = f"{host.base_url}{WEBHOOK}/instances/?runtimeStatus="

    async def ids(value: str) -> list[str]:
        return [s["instanceId"] for s in (await call(http, "GET", url + value))[1]]

    assert await ids("Completed") == ["done"]
    assert await ids("1") == ["done"]  # numbers parse: OrchestrationRuntimeStatus.Completed = 1
    assert await ids("0") == ["waiting"]  # Running = 0
    assert await ids("completed") == ["done", "waiting"]  # names are case-sensitive: no filter
    assert await ids(" Running ,Bogus") == ["waiting"]  # trimmed; unknown parts skipped


async def test_query_parameter_names_are_case_insensitive(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await start_waiting(host, "q")
    base = f"{host.base_url}{WEBHOOK}/instances/q"
    _, body, _ = await call(http, "GET", base + "?SHOWHISTORY=TRUE&ShowInput=false")
    assert body["historyEvents"] and body["input"] is None
    # A repeated name reads as "true,false": no boolean, so the default (true) applies.
    _, body, _ = await call(http, "GET", base + "?showInput=false&showinput=x")
    assert body["input"] == "1"
