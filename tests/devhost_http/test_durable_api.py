"""The extension's HTTP API (RPC and webhook paths) over a fake engine: codes, headers, bodies."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from devhost.server import DevHost

from .fakes import FakeEngine

RPC = "/durabletask"
WEBHOOK = "/runtime/webhooks/durabletask"


def engine_of(host: DevHost) -> FakeEngine:
    assert isinstance(host.engine, FakeEngine)
    return host.engine


async def call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, Any, Any]:
    async with http.request(method, url, **kwargs) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None), response.headers


@pytest.mark.parametrize("base", [RPC, WEBHOOK])
async def test_start_answers_202_with_management_payload(
    host: DevHost, http: aiohttp.ClientSession, base: str
) -> None:
    status, body, headers = await call(
        http, "POST", f"{host.base_url}{base}/orchestrators/hello_orchestrator/my-id", json={"a": 1}
    )
    assert status == 202
    assert body["id"] == "my-id"
    origin = host.base_url
    suffix = "taskHub=HttpTestHub&connection=Storage"
    assert body["statusQueryGetUri"] == f"{origin}{WEBHOOK}/instances/my-id?{suffix}"
    assert (
        body["sendEventPostUri"]
        == f"{origin}{WEBHOOK}/instances/my-id/raiseEvent/{{eventName}}?{suffix}"
    )
    assert (
        body["terminatePostUri"]
        == f"{origin}{WEBHOOK}/instances/my-id/terminate?reason={{text}}&{suffix}"
    )
    assert body["purgeHistoryDeleteUri"] == body["statusQueryGetUri"]
    assert set(body) == {
        "id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri",
        "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri",
    }  # fmt: skip
    assert headers["Location"] == body["statusQueryGetUri"]
    assert headers["Retry-After"] == "10"
    assert engine_of(host).calls[-1] == ("start", "hello_orchestrator", "my-id", '{"a": 1}')


async def test_start_passes_the_body_json_as_received(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    """The SDK's double encoding reaches the engine untouched; so does a plain JSON body."""
    url = f"{host.base_url}{RPC}/orchestrators/hello_orchestrator"
    await call(http, "POST", url, json=json.dumps({"a": 1}))  # what start_new sends
    await call(http, "POST", url, data=b'{"a": 1}', headers={"Content-Type": "application/json"})
    await call(http, "POST", url)
    starts = [c for c in engine_of(host).calls if c[0] == "start"]
    assert [c[3] for c in starts] == ['"{\\"a\\": 1}"', '{"a": 1}', None]
    assert starts[0][2] is None  # no id: the engine generates one


async def test_start_errors(host: DevHost, http: aiohttp.ClientSession) -> None:
    base = f"{host.base_url}{RPC}/orchestrators"
    status, body, _ = await call(http, "POST", f"{base}/nope")
    assert status == 400
    assert body["Message"] == "One or more of the arguments submitted is incorrect"
    assert body["ExceptionMessage"].startswith(
        "The function 'nope' doesn't exist, is disabled, or is not an orchestrator function."
    )
    assert "'NamedOrchestrator', 'hello_orchestrator'" in body["ExceptionMessage"]

    status, body, _ = await call(http, "POST", f"{base}/hello_orchestrator/@entity")
    assert status == 400
    assert "must not start with @" in body["ExceptionMessage"]
    status, body, _ = await call(http, "POST", f"{base}/hello_orchestrator/a%5Cb")
    assert (status, "must not contain" in body["Message"]) == (400, True)
    status, body, _ = await call(http, "POST", f"{base}/hello_orchestrator/{'x' * 257}")
    assert (status, "256" in body["Message"]) == (400, True)

    status, body, _ = await call(http, "POST", f"{base}/hello_orchestrator", data=b"{nope")
    assert (status, body["Message"]) == (400, "Invalid JSON content")

    assert (await call(http, "POST", f"{base}/hello_orchestrator/dup"))[0] == 202
    status, body, _ = await call(http, "POST", f"{base}/hello_orchestrator/dup")
    assert status == 409
    assert "already exists" in body["Message"]
    assert (await call(http, "GET", f"{base}/hello_orchestrator"))[0] == 404


async def test_start_with_timeout_waits_for_completion(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    """``?timeout=&pollingInterval=``: 202 payload on timeout, else the output (200)."""
    engine = engine_of(host)
    base = f"{host.base_url}{RPC}/orchestrators/hello_orchestrator"
    status, body, _ = await call(http, "POST", f"{base}/quick?timeout=0&pollingInterval=0")
    assert (status, body["id"]) == (202, "quick")

    request = asyncio.create_task(call(http, "POST", f"{base}/waited?timeout=60&pollingInterval=1"))
    await engine.someone_waits.wait()
    engine.set_status("waited", "Completed", {"done": True})
    status, body, _ = await request
    assert (status, body) == (200, {"done": True})


@pytest.mark.parametrize("base", [RPC, WEBHOOK])
async def test_status_codes_follow_the_runtime_status(
    host: DevHost, http: aiohttp.ClientSession, base: str
) -> None:
    engine = engine_of(host)
    await engine.start_orchestration("hello_orchestrator", "s1", '"in"')
    url = f"{host.base_url}{base}/instances/s1"
    status, body, headers = await call(http, "GET", url + "?showInput=false")
    assert status == 202
    assert headers["Location"] == url + "?showInput=false"
    assert headers["Retry-After"] == "5"
    assert body["runtimeStatus"] == "Running"
    assert body["input"] is None
    assert "historyEvents" not in body

    engine.set_status("s1", "Suspended")
    assert (await call(http, "GET", url))[0] == 202
    engine.set_status("s1", "Completed", "out")
    status, body, headers = await call(http, "GET", url + "?showHistory=TRUE")
    assert (status, body["output"], body["input"]) == (200, "out", "in")
    assert body["historyEvents"] == [{"EventType": "ExecutionStarted"}]
    assert "Location" not in headers

    engine.set_status("s1", "Failed", "boom")
    assert (await call(http, "GET", url))[0] == 200
    assert (await call(http, "GET", url + "?returnInternalServerErrorOnFailure=true"))[0] == 500
    engine.set_status("s1", "Terminated")
    assert (await call(http, "GET", url))[0] == 200
    status, body, _ = await call(http, "GET", f"{host.base_url}{base}/instances/unknown")
    assert status == 404
    assert "unknown" in body["Message"]


async def test_list_filters_and_pages(host: DevHost, http: aiohttp.ClientSession) -> None:
    engine = engine_of(host)
    for instance_id in ("job-1", "job-2", "job-3", "other"):
        await engine.start_orchestration("hello_orchestrator", instance_id, None)
    engine.set_status("job-2", "Completed")
    url = f"{host.base_url}{RPC}/instances/"
    status, body, headers = await call(http, "GET", url)
    assert (status, len(body), headers["x-ms-continuation-token"]) == (200, 4, "")

    query = "?instanceIdPrefix=job-&runtimeStatus=Running,Bogus&showInput=false"
    status, body, _ = await call(http, "GET", url + query)
    assert [s["instanceId"] for s in body] == ["job-1", "job-3"]
    assert engine.calls[-1] == ("query", None, None, ["Running"], "job-", False)

    status, page1, headers = await call(http, "GET", url + "?top=3")
    token = headers["x-ms-continuation-token"]
    status, page2, headers = await call(
        http, "GET", url + "?top=3", headers={"x-ms-continuation-token": token}
    )
    assert (len(page1), len(page2), headers["x-ms-continuation-token"]) == (3, 1, "")

    await call(http, "GET", url + "?createdTimeFrom=2026-01-02T03:04:07Z&createdTimeTo=garbage")
    created_from = engine.calls[-1][1]
    assert created_from.isoformat() == "2026-01-02T03:04:07+00:00"
    assert engine.calls[-1][2] is None


async def test_raise_event(host: DevHost, http: aiohttp.ClientSession) -> None:
    engine = engine_of(host)
    await engine.start_orchestration("hello_orchestrator", "e1", None)
    url = f"{host.base_url}{WEBHOOK}/instances/e1/raiseEvent/Approval"
    status, _, _ = await call(http, "POST", url, json=json.dumps({"ok": True}))
    assert status == 202
    assert engine.instances["e1"].events == [("Approval", '"{\\"ok\\": true}"')]
    status, body, _ = await call(http, "POST", url, data=b'{"ok": true}')
    assert (status, body["Message"]) == (400, "Only application/json request content is supported")
    status, body, _ = await call(
        http, "POST", url, data=b"{", headers={"Content-Type": "application/json"}
    )
    assert (status, body["Message"]) == (400, "Invalid JSON content")
    status, body, _ = await call(http, "POST", url, headers={"Content-Type": "application/json"})
    assert status == 400
    assert (await call(http, "POST", url.replace("e1", "nobody"), json=1))[0] == 404
    engine.set_status("e1", "Completed")
    assert (await call(http, "POST", url, json=1))[0] == 410
    assert (await call(http, "GET", url))[0] == 404


@pytest.mark.parametrize("operation", ["terminate", "suspend", "resume"])
async def test_control_operations(
    host: DevHost, http: aiohttp.ClientSession, operation: str
) -> None:
    engine = engine_of(host)
    await engine.start_orchestration("hello_orchestrator", "c1", None)
    url = f"{host.base_url}{RPC}/instances/c1/{operation}?reason=because%20I%20said"
    assert (await call(http, "POST", url))[0] == 202
    assert engine.calls[-1] == (operation, "c1", "because I said")
    assert (await call(http, "POST", url.replace("c1", "nobody")))[0] == 404
    engine.set_status("c1", "Terminated")
    assert (await call(http, "POST", url))[0] == 410
    assert (await call(http, "POST", f"{host.base_url}{RPC}/instances/c1/explode"))[0] == 404


async def test_purge_one_and_many(host: DevHost, http: aiohttp.ClientSession) -> None:
    engine = engine_of(host)
    await engine.start_orchestration("hello_orchestrator", "p1", None)
    url = f"{host.base_url}{RPC}/instances/p1"
    status, body, _ = await call(http, "DELETE", url)
    assert status == 412
    assert "status Running" in body["Message"]
    engine.set_status("p1", "Completed")
    status, body, _ = await call(http, "DELETE", url)
    assert (status, body) == (200, {"instancesDeleted": 1})
    assert (await call(http, "DELETE", url))[0] == 404

    many = f"{host.base_url}{RPC}/instances/"
    status, body, _ = await call(http, "DELETE", many)
    assert (status, body["Message"]) == (
        400,
        "Please provide value for 'createdTimeFrom' parameter.",
    )
    await engine.start_orchestration("hello_orchestrator", "p2", None)
    await engine.start_orchestration("hello_orchestrator", "p3", None)
    engine.set_status("p2", "Failed")
    query = "?createdTimeFrom=2000-01-01T00:00:00.000000Z&runtimeStatus=Failed,Completed"
    status, body, _ = await call(http, "DELETE", many + query)
    assert (status, body) == (200, {"instancesDeleted": 1})
    assert engine.calls[-1][3] == ["Failed", "Completed"]
    assert engine.calls[-1][2] == engine.clock.now()  # createdTimeTo defaults to now
    assert (await call(http, "DELETE", many + query))[0] == 404


async def test_rewind_restart_entities(host: DevHost, http: aiohttp.ClientSession) -> None:
    engine = engine_of(host)
    await engine.start_orchestration("hello_orchestrator", "r1", '{"x": 1}')
    rewind = f"{host.base_url}{RPC}/instances/r1/rewind?reason=x"
    assert (await call(http, "POST", rewind.replace("r1", "nobody")))[0] == 404
    assert (await call(http, "POST", rewind))[0] == 412
    engine.set_status("r1", "Failed")
    status, body, _ = await call(http, "POST", rewind)
    assert (status, body["Message"]) == (501, "Rewind is not supported by devhost.")

    status, body, _ = await call(
        http, "POST", f"{host.base_url}{RPC}/instances/r1/restart?restartWithNewInstanceId=false"
    )
    assert (status, body["id"]) == (202, "r1")
    assert engine.calls[-1] == ("start", "hello_orchestrator", "r1", '{"x": 1}')

    for method in ("GET", "POST", "DELETE"):
        status, body, _ = await call(http, method, f"{host.base_url}{WEBHOOK}/entities/Counter/k")
        assert (status, body["Message"]) == (501, "Durable entities are not supported by devhost.")


async def test_clock_hook_only_with_test_hooks(
    host: DevHost, start_host: Any, http: aiohttp.ClientSession
) -> None:
    url = f"{host.base_url}/admin/devhost/clock/advance"
    status, body, _ = await call(http, "POST", url, json={"seconds": 90})
    assert (status, body) == (200, {"now": "2026-01-02T03:05:35Z"})
    assert (await call(http, "POST", url, json={"seconds": -1}))[0] == 400
    assert (await call(http, "POST", url, data=b"nope"))[0] == 400
    async with start_host("basic") as plain:
        status, _, _ = await call(
            http, "POST", f"{plain.base_url}/admin/devhost/clock/advance", json={"seconds": 1}
        )
        assert status == 404
    async with start_host("basic", test_hooks=True) as real_clock:
        status, body, _ = await call(
            http, "POST", f"{real_clock.base_url}/admin/devhost/clock/advance", json={"seconds": 1}
        )
        assert status == 400
        assert "--manual-clock" in body["Message"]


async def test_engine_failure_is_500_without_details(
    host: DevHost, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("sqlite says no: /secret/path")

    monkeypatch.setattr(engine_of(host), "get_status", broken)
    status, body, _ = await call(http, "GET", f"{host.base_url}{RPC}/instances/x")
    assert status == 500
    assert "secret" not in json.dumps(body)
