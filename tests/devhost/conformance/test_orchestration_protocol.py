"""Rows of devhost/CONFORMANCE.md about the orchestration protocol and its traps on Azure."""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
import azure.durable_functions as df
import pytest
from azure.durable_functions.models.ReplaySchema import ReplaySchema

from devhost.http.urls import client_binding_json
from devhost.server import DevHost

from .conftest import WEBHOOK, call, ended, running


async def test_events_that_arrive_together_are_delivered_in_one_episode(
    host: DevHost, client: df.DurableOrchestrationClient
) -> None:
    instance_id = await client.start_new("Collector", None, 5)
    await host.engine.wait_for(instance_id, running)
    await asyncio.gather(*(client.raise_event(instance_id, "Item", n) for n in range(5)))
    status = await host.engine.wait_for(instance_id, ended)
    assert sorted(status["output"]) == ["0", "1", "2", "3", "4"]  # the SDK's JSON text


async def test_continue_as_new_drops_unprocessed_events(
    host: DevHost, client: df.DurableOrchestrationClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Two events queued while suspended reach one episode; Counter consumes one and continues
    as new; the other is gone, as on Azure, and devhost says so."""
    instance_id = await client.start_new("Counter")
    await host.engine.wait_for(instance_id, lambda s: s["customStatus"] == {"n": 0})
    await client.suspend(instance_id, "queue two events")
    await client.raise_event(instance_id, "Add", "kept")
    await client.raise_event(instance_id, "Add", "dropped")
    with caplog.at_level(logging.WARNING, logger="devhost.runtime.engine"):
        await client.resume(instance_id, "go")
        status = await host.engine.wait_for(instance_id, lambda s: s["customStatus"] == {"n": 1})
    assert status["runtimeStatus"] == "Running"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("1 unprocessed event(s) 'Add'" in w and "DROPPED" in w for w in warnings)


async def test_large_activity_payloads_are_named_once_and_kept_inline(
    host: DevHost, client: df.DurableOrchestrationClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A 40,000-character name, greeted twice: on Azure Storage both inputs and both results
    would go to the large-messages container; devhost runs it and says so once per direction.
    A 10,000-character name is said nothing about."""
    with caplog.at_level(logging.WARNING, logger="devhost.runtime.engine"):
        small = await client.start_new("GreetsAtLength", None, 10_000)
        assert (await host.engine.wait_for(small, ended))["output"] == 2 * len("Hello !") + 20_000
        assert not [r for r in caplog.records if "large for Azure Storage" in r.getMessage()]
        large = await client.start_new("GreetsAtLength", None, 40_000)
        status = await host.engine.wait_for(large, ended)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == 2 * len("Hello !") + 80_000  # nothing lost, nothing moved
    said = [r.getMessage() for r in caplog.records if "large for Azure Storage" in r.getMessage()]
    assert len(said) == 2
    assert (
        "The input of activity 'Greet'" in said[0] and "60 KB of UTF-16 (80,004 bytes)" in said[0]
    )
    assert (
        "The result of activity 'Greet'" in said[1] and "large-messages blob container" in said[1]
    )


async def test_a_missing_function_schedules_nothing_and_the_instance_waits(
    host: DevHost, client: df.DurableOrchestrationClient
) -> None:
    instance_id = await client.start_new("CallsMissing")
    status = await host.engine.wait_for(instance_id, lambda s: "devhostProblems" in s)
    assert status["runtimeStatus"] == "Running"
    sdk_status = await client.get_status(instance_id, show_history=True)
    kinds = [event["EventType"] for event in sdk_status.historyEvents]
    assert "TaskScheduled" not in kinds and "TaskFailed" not in kinds


async def test_sub_orchestration_ids_default_to_the_parent_execution_and_task_number(
    host: DevHost, client: df.DurableOrchestrationClient
) -> None:
    instance_id = await client.start_new("Parent")
    await host.engine.wait_for(instance_id, ended)
    assert host.engine.store is not None
    execution_id = host.engine.store.get_instance(instance_id).execution_id  # type: ignore[union-attr]
    child = host.engine.get_status(f"{execution_id}:0")
    assert child is not None and child["name"] == "Child"


async def test_upper_schema_version_as_the_extension_sends_it(host: DevHost) -> None:
    from devhost.runtime.orchestrator_runner import _CONTEXT_TAIL

    context = json.loads('{"history":[],"input":null,"instanceId":"x","isReplaying":false,'
                         '"parentInstanceId":null' + _CONTEXT_TAIL)  # fmt: skip
    assert (context["upperSchemaVersion"], context["upperSchemaVersionNew"]) == (1, 2)
    # ... which the SDK reads as its newest replay schema, V3.
    assert ReplaySchema(context["upperSchemaVersionNew"]) is ReplaySchema.V3
    assert ReplaySchema(context["upperSchemaVersion"]) is ReplaySchema.V2


async def test_custom_status_over_16_kb_fails_with_the_extensions_message(
    host: DevHost, client: df.DurableOrchestrationClient
) -> None:
    instance_id = await client.start_new("HugeStatus", None, 8191)
    status = await host.engine.wait_for(instance_id, ended)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith(
        "Orchestrator function 'HugeStatus' failed: The UTF-16 size of the JSON-serialized "
        "payload must not exceed 16 KB."
    )


async def test_client_binding_carries_http_base_url_null(host: DevHost) -> None:
    binding = json.loads(client_binding_json(host.urls, host.index.task_hub))
    assert "httpBaseUrl" in binding and binding["httpBaseUrl"] is None
    assert binding["connectionName"] is None


async def test_durable_http_calls_are_refused_by_devhost(
    host: DevHost, client: df.DurableOrchestrationClient, http: aiohttp.ClientSession
) -> None:
    instance_id = await client.start_new("CallsHttp")
    status = await host.engine.wait_for(instance_id, ended)
    assert status["runtimeStatus"] == "Failed"
    assert "durable HTTP calls (call_http) are not supported by devhost" in status["output"]
    code, body, _ = await call(http, "GET", f"{host.base_url}{WEBHOOK}/entities/Counter/one")
    assert (code, body["Message"]) == (501, "Durable entities are not supported by devhost.")


async def test_created_time_after_continue_as_new_is_the_new_executions(
    host: DevHost, client: df.DurableOrchestrationClient
) -> None:
    instance_id = await client.start_new("Counter")
    first = await host.engine.wait_for(instance_id, lambda s: s["customStatus"] == {"n": 0})
    host.engine.clock.advance(120)
    await client.raise_event(instance_id, "Add", "a")
    second = await host.engine.wait_for(instance_id, lambda s: s["customStatus"] == {"n": 1})
    assert second["createdTime"] > first["createdTime"]


def test_history_timestamps_are_written_as_json_net_writes_datetime() -> None:
    """Json.NET writes a DateTime as ``...ss.FFFFFFFZ`` (trailing zeros dropped), so the SDK gets
    fractions of any width, or none; the SDK's own HistoryEvent reads each back exactly."""
    from azure.durable_functions.models.history.HistoryEvent import HistoryEvent

    from devhost.protocol.history import EventType, encode, make_event, parse_timestamp

    for stored, sent in [
        ("2026-12-02T10:00:00.123456Z", "2026-12-02T10:00:00.123456Z"),
        ("2026-12-02T10:00:00.120000Z", "2026-12-02T10:00:00.12Z"),
        ("2026-12-02T10:00:00.000000Z", "2026-12-02T10:00:00Z"),
    ]:
        timer = make_event(EventType.TIMER_CREATED, stored, 0, FireAt=stored)
        event = json.loads(encode(timer, played=True))
        assert (event["Timestamp"], event["FireAt"]) == (sent, sent)
        parsed = HistoryEvent(**{k: event[k] for k in ("EventType", "EventId", "IsPlayed")},
                              Timestamp=event["Timestamp"])  # fmt: skip
        assert parsed.timestamp == parse_timestamp(stored)
