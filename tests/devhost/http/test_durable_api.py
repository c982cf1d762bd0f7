"""The extension's HTTP API (RPC and webhook paths) over the real engine: codes, headers, bodies.

Instances reach each runtime status the real way: ``hello_orchestrator`` calls an activity and
waits for "Approval" (Running until the event, then Completed), ``failing_orchestrator`` raises,
terminate and suspend come from the API itself.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from devhost.server import DevHost

RPC = "/durabletask"
WEBHOOK = "/runtime/webhooks/durabletask"


async def call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, Any, Any]:
    async with http.request(method, url, **kwargs) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None), response.headers


def status_is(*names: str) -> Any:
    return lambda status: status["runtimeStatus"] in names


async def running(host: DevHost, instance_id: str, input_json: str | None = None) -> None:
    """A hello_orchestrator instance waiting for its Approval event."""
    await host.engine.start_orchestration("hello_orchestrator", instance_id, input_json)
    await host.engine.wait_for(instance_id, status_is("Running"))


async def completed(host: DevHost, instance_id: str, input_json: str | None = None) -> None:
    await running(host, instance_id, input_json)
    await host.engine.raise_event(instance_id, "Approval", '"yes"')
    await host.engine.wait_for(instance_id, status_is("Completed"))


async def failed(host: DevHost, instance_id: str) -> None:
    await host.engine.start_orchestration("failing_orchestrator", instance_id, None)
    await host.engine.wait_for(instance_id, status_is("Failed"))


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
    status = host.engine.get_status("my-id")
    assert status is not None and status["input"] == {"a": 1}


async def test_start_passes_the_body_json_as_received(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    """The SDK's double encoding reaches the engine untouched; so does a plain JSON body."""
    url = f"{host.base_url}{RPC}/orchestrators/hello_orchestrator"
    ids = []
    for kwargs in (
        {"json": json.dumps({"a": 1})},  # what start_new sends
        {"data": b'{"a": 1}', "headers": {"Content-Type": "application/json"}},
        {},
    ):
        status, body, _ = await call(http, "POST", url, **kwargs)
        assert status == 202
        ids.append(body["id"])
    inputs = [host.engine.get_status(i)["input"] for i in ids]  # type: ignore[index]
    assert inputs == ['{"a": 1}', {"a": 1}, None]
    assert len(set(ids)) == 3 and all(len(i) == 32 for i in ids)  # generated ids


async def test_start_errors(host: DevHost, http: aiohttp.ClientSession) -> None:
    base = f"{host.base_url}{RPC}/orchestrators"
    status, body, _ = await call(http, "POST", f"{base}/nope")
    assert status == 400
    assert body["Message"] == "One or more of the arguments submitted is incorrect"
    assert body["ExceptionMessage"].startswith(
        "The function 'nope' doesn't exist, is disabled, or is not an orchestrator function."
    )
    assert (
        "'NamedOrchestrator', 'failing_orchestrator', 'hello_orchestrator'"
        in (body["ExceptionMessage"])
    )

    # DurableClient.StartNewAsync passes two of its messages as the paramName: as .NET shows it.
    status, body, _ = await call(http, "POST", f"{base}/hello_orchestrator/@entity")
    assert (status, body["Message"]) == (400, "One or more of the arguments submitted is incorrect")
    assert body["ExceptionMessage"] == (
        "instanceId (Parameter 'Orchestration instance ids must not start with @.')"
    )
    status, body, _ = await call(http, "POST", f"{base}/hello_orchestrator/a%5Cb")
    assert (status, "must not contain /, \\, #, ?" in body["ExceptionMessage"]) == (400, True)
    status, body, _ = await call(http, "POST", f"{base}/hello_orchestrator/{'x' * 257}")
    assert (status, body["ExceptionMessage"]) == (
        400,
        "Instance ID lengths must not exceed 256 characters.",
    )

    status, body, _ = await call(http, "POST", f"{base}/hello_orchestrator", data=b"{nope")
    assert (status, body["Message"]) == (400, "Invalid JSON content")

    assert (await call(http, "POST", f"{base}/hello_orchestrator/dup"))[0] == 202
    await host.engine.wait_for("dup", status_is("Running"))
    status, body, _ = await call(http, "POST", f"{base}/hello_orchestrator/dup")
    # The extension has no 409: OrchestrationAlreadyExistsException reaches its catch-all.
    assert (status, body) == (
        500,
        {
            "Message": "Something went wrong while processing your request",
            "ExceptionMessage": "An Orchestration instance with the status Running already exists.",
            "ExceptionType": "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
        },
    )
    assert (await call(http, "GET", f"{base}/hello_orchestrator"))[0] == 404


async def test_start_with_timeout_waits_for_completion(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    """``?timeout=&pollingInterval=``: 202 payload on timeout, else the output (200)."""
    base = f"{host.base_url}{RPC}/orchestrators/hello_orchestrator"
    status, body, _ = await call(http, "POST", f"{base}/quick?timeout=0&pollingInterval=0")
    assert (status, body["id"]) == (202, "quick")

    request = asyncio.create_task(call(http, "POST", f"{base}/waited?timeout=60&pollingInterval=1"))
    await host.engine.wait_for("waited", status_is("Running"))
    await host.engine.raise_event("waited", "Approval", '"ok"')
    status, body, _ = await request
    assert (status, body) == (200, ["Hello Tokyo!", "ok"])


@pytest.mark.parametrize("base", [RPC, WEBHOOK])
async def test_status_codes_follow_the_runtime_status(
    host: DevHost, http: aiohttp.ClientSession, base: str
) -> None:
    await running(host, "s1", '"in"')
    url = f"{host.base_url}{base}/instances/s1"
    status, body, headers = await call(http, "GET", url + "?showInput=false")
    assert status == 202
    assert headers["Location"] == url + "?showInput=false"
    assert headers["Retry-After"] == "5"
    assert body["runtimeStatus"] == "Running"
    assert body["input"] is None
    assert "historyEvents" not in body

    await host.engine.suspend("s1", "pause")
    assert (await call(http, "GET", url))[0] == 202
    await host.engine.resume("s1", "go on")
    await host.engine.raise_event("s1", "Approval", '"out"')
    await host.engine.wait_for("s1", status_is("Completed"))
    status, body, headers = await call(http, "GET", url + "?showHistory=TRUE")
    assert (status, body["output"], body["input"]) == (200, ["Hello Tokyo!", "out"], "in")
    assert body["historyEvents"][0]["EventType"] == "ExecutionStarted"
    assert body["historyEvents"][-1]["EventType"] == "ExecutionCompleted"
    assert "Location" not in headers

    await failed(host, "f1")
    failed_url = f"{host.base_url}{base}/instances/f1"
    assert (await call(http, "GET", failed_url))[0] == 200
    query = "?returnInternalServerErrorOnFailure=true"
    assert (await call(http, "GET", failed_url + query))[0] == 500
    await running(host, "t1")
    await host.engine.terminate("t1", "stop")
    assert (await call(http, "GET", f"{host.base_url}{base}/instances/t1"))[0] == 200
    status, body, _ = await call(http, "GET", f"{host.base_url}{base}/instances/unknown")
    assert (status, body) == (404, None)  # the extension sends no body


async def test_list_filters_and_pages(host: DevHost, http: aiohttp.ClientSession) -> None:
    for instance_id in ("job-1", "job-3", "other"):
        await running(host, instance_id)
    await completed(host, "job-2")
    url = f"{host.base_url}{RPC}/instances/"
    status, body, headers = await call(http, "GET", url)
    assert (status, len(body), headers["x-ms-continuation-token"]) == (200, 4, "")

    query = "?instanceIdPrefix=job-&runtimeStatus=Running,Bogus&showInput=false"
    status, body, _ = await call(http, "GET", url + query)
    assert sorted(s["instanceId"] for s in body) == ["job-1", "job-3"]
    assert {s["input"] for s in body} == {None}

    status, page1, headers = await call(http, "GET", url + "?top=3")
    token = headers["x-ms-continuation-token"]
    status, page2, headers = await call(
        http, "GET", url + "?top=3", headers={"x-ms-continuation-token": token}
    )
    assert (len(page1), len(page2), headers["x-ms-continuation-token"]) == (3, 1, "")

    future = "?createdTimeFrom=2999-01-02T03:04:07Z&createdTimeTo=garbage"
    assert (await call(http, "GET", url + future))[1] == []  # a bad createdTimeTo is ignored
    past = "?createdTimeFrom=2000-01-02T03:04:07Z"
    assert len((await call(http, "GET", url + past))[1]) == 4


async def test_raise_event(host: DevHost, http: aiohttp.ClientSession) -> None:
    await running(host, "e1")
    url = f"{host.base_url}{WEBHOOK}/instances/e1/raiseEvent/Approval"
    status, body, _ = await call(http, "POST", url, data=b'{"ok": true}')
    assert (status, body["Message"]) == (400, "Only application/json request content is supported")
    status, body, _ = await call(
        http, "POST", url, data=b"{", headers={"Content-Type": "application/json"}
    )
    assert (status, body["Message"]) == (400, "Invalid JSON content")
    status, body, _ = await call(http, "POST", url, headers={"Content-Type": "application/json"})
    assert status == 400
    assert (await call(http, "POST", url.replace("e1", "nobody"), json=1))[0] == 404

    status, _, _ = await call(http, "POST", url, json=json.dumps({"ok": True}))
    assert status == 202
    done = await host.engine.wait_for("e1", status_is("Completed"))
    assert done["output"] == ["Hello Tokyo!", '{"ok": true}']  # the SDK's JSON text, as on Azure
    assert (await call(http, "POST", url, json=1))[0] == 410
    assert (await call(http, "GET", url))[0] == 404


@pytest.mark.parametrize(
    ("operation", "after"),
    [("terminate", "Terminated"), ("suspend", "Suspended"), ("resume", "Running")],
)
async def test_control_operations(
    host: DevHost, http: aiohttp.ClientSession, operation: str, after: str
) -> None:
    await running(host, "c1")
    if operation == "resume":
        await host.engine.suspend("c1", None)
    url = f"{host.base_url}{RPC}/instances/c1/{operation}?reason=because%20I%20said"
    assert (await call(http, "POST", url))[0] == 202
    status = host.engine.get_status("c1")
    assert status is not None and status["runtimeStatus"] == after
    if operation == "terminate":
        assert status["output"] == "because I said"
    assert (await call(http, "POST", url.replace("c1", "nobody")))[0] == 404
    if after != "Terminated":
        await host.engine.terminate("c1", None)
    assert (await call(http, "POST", url))[0] == 410
    assert (await call(http, "POST", f"{host.base_url}{RPC}/instances/c1/explode"))[0] == 404


async def test_purge_one_and_many(host: DevHost, http: aiohttp.ClientSession) -> None:
    await running(host, "p1")
    url = f"{host.base_url}{RPC}/instances/p1"
    # Azure Storage purges a running instance too (devhost logs a WARNING).
    status, body, _ = await call(http, "DELETE", url)
    assert (status, body) == (200, {"instancesDeleted": 1})
    assert (await call(http, "DELETE", url))[:2] == (404, None)

    many = f"{host.base_url}{RPC}/instances/"
    status, body, _ = await call(http, "DELETE", many)
    assert (status, body) == (400, "Please provide value for 'createdTimeFrom' parameter.")
    await failed(host, "p2")
    await running(host, "p3")
    await completed(host, "p4")
    query = "?createdTimeFrom=2000-01-01T00:00:00.000000Z&runtimeStatus=Failed"
    status, body, _ = await call(http, "DELETE", many + query)
    assert (status, body) == (200, {"instancesDeleted": 1})
    assert host.engine.get_status("p2") is None and host.engine.get_status("p4") is not None
    assert (await call(http, "DELETE", many + query))[0] == 404
    # No terminal status in the filter (none, or only Running): every status is purged,
    # the running p3 included, as Azure Storage's tracking store does.
    only_running = "?createdTimeFrom=2000-01-01T00:00:00.000000Z&runtimeStatus=Running"
    assert (await call(http, "DELETE", many + only_running))[1] == {"instancesDeleted": 2}
    assert host.engine.get_status("p3") is None


async def test_rewind_restart_entities(host: DevHost, http: aiohttp.ClientSession) -> None:
    await running(host, "r1", '{"x": 1}')
    rewind = f"{host.base_url}{RPC}/instances/r1/rewind?reason=x"
    assert (await call(http, "POST", rewind.replace("r1", "nobody")))[0] == 404
    status, body, _ = await call(http, "POST", rewind)  # not failed: RewindAsync throws
    assert (status, body["ExceptionType"]) == (500, "System.InvalidOperationException")
    await failed(host, "r2")
    assert (await call(http, "POST", rewind.replace("r1", "r2")))[:2] == (202, None)
    again = await host.engine.wait_for("r2", status_is("Failed"))  # its code fails again
    history = host.engine.store.load_history("r2")  # type: ignore[union-attr]
    assert [e["EventType"] for e in history].count(17) == 2  # the old end cleared, the reason
    assert again["output"]

    await host.engine.terminate("r1", None)
    status, body, _ = await call(
        http, "POST", f"{host.base_url}{RPC}/instances/r1/restart?restartWithNewInstanceId=false"
    )
    assert (status, body["id"]) == (202, "r1")
    restarted = await host.engine.wait_for("r1", status_is("Running"))
    assert restarted["input"] == {"x": 1}

    for method in ("GET", "POST", "DELETE"):
        status, body, _ = await call(http, method, f"{host.base_url}{WEBHOOK}/entities/Counter/k")
        assert (status, body["Message"]) == (501, "Durable entities are not supported by devhost.")


async def test_clock_hook_only_with_test_hooks(
    host: DevHost, start_host: Any, http: aiohttp.ClientSession
) -> None:
    url = f"{host.base_url}/admin/devhost/clock/advance"
    before = host.engine.clock.now()
    status, body, _ = await call(http, "POST", url, json={"seconds": 90})
    assert status == 200
    assert (host.engine.clock.now() - before).total_seconds() >= 90
    assert body["now"] == host.engine.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
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

    monkeypatch.setattr(host.engine, "get_status", broken)
    status, body, _ = await call(http, "GET", f"{host.base_url}{RPC}/instances/x")
    assert status == 500
    assert "secret" not in json.dumps(body)
