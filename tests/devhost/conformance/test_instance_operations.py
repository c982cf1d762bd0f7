"""Rows of devhost/CONFORMANCE.md about operations on one instance (HttpApiHandler.cs)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import azure.durable_functions as df
import pytest

from devhost.server import DevHost

from .conftest import WEBHOOK, call, ended, running

JSON_NET_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,6}[1-9])?Z")


async def test_operations_on_unknown_or_ended_instances_answer_bare_404_and_410(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    base = f"{host.base_url}{WEBHOOK}/instances"
    for method, path in [
        ("GET", "/ghost"),
        ("POST", "/ghost/terminate"),
        ("POST", "/ghost/suspend"),
        ("POST", "/ghost/resume"),
        ("POST", "/ghost/rewind"),
        ("POST", "/ghost/raiseEvent/Item"),
        ("DELETE", "/ghost"),
    ]:
        assert await call(http, method, base + path, json=1) == (404, None, ""), path
    await host.engine.start_orchestration("FanOutFanIn", "done", json.dumps("1"))
    await host.engine.wait_for("done", ended)
    for path in ("/done/terminate", "/done/suspend", "/done/resume", "/done/rewind"):
        assert await call(http, "POST", base + path) == (410, None, ""), path
    assert await call(http, "POST", base + "/done/raiseEvent/Item", json=1) == (410, None, "")


async def test_duplicate_start_is_500_while_running_and_replaces_an_ended_instance(
    host: DevHost, client: df.DurableOrchestrationClient
) -> None:
    await client.start_new("Collector", "dup", 1)
    await host.engine.wait_for("dup", running)
    with pytest.raises(Exception, match="already exists"):
        await client.start_new("Collector", "dup", 1)
    await client.terminate("dup", "done")
    assert await client.start_new("FanOutFanIn", "dup", 2) == "dup"
    assert (await host.engine.wait_for("dup", ended))["name"] == "FanOutFanIn"


async def test_suspend_and_resume_write_their_history_events_with_the_reason(
    host: DevHost, client: df.DurableOrchestrationClient
) -> None:
    await client.start_new("Collector", "pause", 1)
    await host.engine.wait_for("pause", running)
    await client.suspend("pause", "hold on")
    await client.suspend("pause", "again")  # already suspended: accepted, nothing changes
    await client.resume("pause", "go on")
    await client.raise_event("pause", "Item", 7)
    await host.engine.wait_for("pause", ended)
    history = host.engine.store.load_history("pause")  # type: ignore[union-attr]
    marks = [(e["EventType"], e.get("Reason")) for e in history if e["EventType"] in (19, 20)]
    assert marks == [(19, "hold on"), (20, "go on")]


async def test_rewind_answers_410_for_ended_500_for_running_and_202_for_failed(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await host.engine.start_orchestration("Collector", "live", json.dumps("1"))
    await host.engine.wait_for("live", running)
    code, body, _ = await call(http, "POST", f"{host.base_url}{WEBHOOK}/instances/live/rewind")
    assert (code, body["Message"]) == (500, "Something went wrong while processing your request")
    assert body["ExceptionType"] == "System.InvalidOperationException"
    await host.engine.start_orchestration("Boom", "failed", None)
    await host.engine.wait_for("failed", ended)
    url = f"{host.base_url}{WEBHOOK}/instances/failed/rewind?reason=again"
    assert await call(http, "POST", url) == (202, None, "")


def _types(history: list[dict[str, Any]]) -> list[str]:
    return [event["EventType"] for event in history]


async def test_rewind_reruns_only_the_failed_activity_and_completes(
    host: DevHost, client: df.DurableOrchestrationClient, tmp_path: Path
) -> None:
    """RewindHistoryAsync: the TaskFailed, its TaskScheduled and the failed ExecutionCompleted
    become GenericEvents, so replay schedules the failed call again; the first call is not rerun."""
    path = tmp_path / "needed.txt"
    await client.start_new("Rewindable", "rw", str(path))
    failed = await host.engine.wait_for("rw", ended)
    assert failed["runtimeStatus"] == "Failed"
    path.write_text("found", encoding="utf-8")
    await client.rewind("rw", "the file is there now")
    done = await host.engine.wait_for("rw", ended)
    assert (done["runtimeStatus"], done["output"]) == (
        "Completed",
        ["Hello before!", "found", "Hello after!"],
    )
    status = await client.get_status("rw", show_history=True, show_history_output=True)
    history = status.historyEvents or []
    assert _types(history).count("GenericEvent") == 4  # three cleared, one carrying the reason
    assert {"EventType": "GenericEvent", "Data": "the file is there now"}.items() <= next(
        event for event in history if event.get("Data")
    ).items()
    greetings = [e.get("Result") for e in history if e["EventType"] == "TaskCompleted"]
    assert greetings == ["Hello before!", "found", "Hello after!"]
    assert "TaskFailed" not in _types(history)


async def test_rewind_of_a_parent_rewinds_its_failed_sub_orchestration_under_the_same_id(
    host: DevHost, client: df.DurableOrchestrationClient, tmp_path: Path
) -> None:
    """A SubOrchestrationInstanceFailed is cleared and the child rewound in turn; only the child
    is woken, and its completion wakes the parent."""
    path = tmp_path / "needed.txt"
    await client.start_new("RewindableParent", "parent", str(path))
    assert (await host.engine.wait_for("parent", ended))["runtimeStatus"] == "Failed"
    children = await client.get_status_by(runtime_status=[df.OrchestrationRuntimeStatus.Failed])
    child_ids = [c.instance_id for c in children if c.instance_id != "parent"]
    assert len(child_ids) == 1
    path.write_text("found", encoding="utf-8")
    await client.rewind("parent", "retry the branch")
    done = await host.engine.wait_for("parent", ended)
    assert (done["runtimeStatus"], done["output"]) == (
        "Completed",
        ["Hello before!", "found", "Hello after!"],
    )
    child = await host.engine.wait_for(child_ids[0], ended)
    assert child["runtimeStatus"] == "Completed"


async def test_rewind_rearms_a_timer_that_was_outstanding_at_the_failure(
    host: DevHost, client: df.DurableOrchestrationClient, tmp_path: Path
) -> None:
    """Azure's TimerFired message is still queued when the instance is rewound before it is due;
    devhost keeps no queue for a Failed instance, so it arms the timer again."""
    path = tmp_path / "needed.txt"
    await client.start_new("WaitsAndReads", "timer-rw", str(path))
    assert (await host.engine.wait_for("timer-rw", ended))["runtimeStatus"] == "Failed"
    path.write_text("found", encoding="utf-8")
    await client.rewind("timer-rw", "again")
    await host.engine.wait_for("timer-rw", running)
    host.engine.clock.advance(2 * 3600)
    done = await host.engine.wait_for("timer-rw", ended)
    assert (done["runtimeStatus"], done["output"]) == ("Completed", "found")


async def test_rewind_after_retried_attempts_fails_as_non_deterministic(
    host: DevHost, client: df.DurableOrchestrationClient, tmp_path: Path
) -> None:
    """The retry timers of a ``*_with_retry`` call stay in history while its failed attempts are
    cleared: DurableTask's replay finds a timer no action accounts for and fails the instance."""
    path = tmp_path / "needed.txt"
    await client.start_new("RetriesReadText", "retried", str(path))
    assert (await host.engine.wait_for("retried", ended))["runtimeStatus"] == "Failed"
    path.write_text("found", encoding="utf-8")
    await client.rewind("retried", "again")
    status = await host.engine.wait_for("retried", ended)
    assert status["runtimeStatus"] == "Failed"
    assert "Non-Deterministic workflow detected" in status["output"]


async def test_restart_of_an_unknown_instance_is_400_and_restarts_with_the_same_id(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    base = f"{host.base_url}{WEBHOOK}/instances"
    code, body, _ = await call(http, "POST", f"{base}/ghost/restart")
    assert (code, body["Message"]) == (
        400,
        "InstanceId does not match a valid orchestration instance.",
    )
    await host.engine.start_orchestration("FanOutFanIn", "again", json.dumps("3"))
    await host.engine.wait_for("again", ended)
    code, body, _ = await call(http, "POST", f"{base}/again/restart?restartWithNewInstanceId=false")
    assert (code, body["id"]) == (202, "again")
    code, body, _ = await call(http, "POST", f"{base}/again/restart")
    assert code == 202 and body["id"] != "again"


async def test_terminate_output_is_json_when_the_reason_parses(
    host: DevHost, client: df.DurableOrchestrationClient
) -> None:
    for instance_id, reason, output in [("t1", '{"why": 1}', {"why": 1}), ("t2", "plain", "plain")]:
        await client.start_new("Collector", instance_id, 1)
        await host.engine.wait_for(instance_id, running)
        await client.terminate(instance_id, reason)
        assert (await host.engine.wait_for(instance_id, ended))["output"] == output


async def test_show_history_keeps_outstanding_tasks_full_timestamps_and_inputs(
    host: DevHost, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """Gated waits in an activity that has not returned: its TaskScheduled is still listed."""
    gate = tmp_path / "gate"
    await host.engine.start_orchestration("Gated", "gated", json.dumps(json.dumps(str(gate))))
    try:
        await host.engine.wait_for("gated", running)
        base = f"{host.base_url}{WEBHOOK}/instances/gated?showHistory=true"
        _, body, _ = await call(http, "GET", base)
        events = body["historyEvents"]
        assert [e["EventType"] for e in events] == ["ExecutionStarted", "TaskScheduled"]
        started, scheduled = events
        assert started["FunctionName"] == "Gated" and "Input" in started
        assert scheduled["Name"] == "WaitAtGate" and "EventId" not in scheduled
        # Json.NET's DateTime form, "...ss.FFFFFFFZ": fractions kept, trailing zeros dropped.
        for event in events:
            assert JSON_NET_TIME.fullmatch(event["Timestamp"]), event
        _, body, _ = await call(http, "GET", base + "&showInput=false")
        assert all("Input" not in event for event in body["historyEvents"])
    finally:
        gate.touch()  # let the activity's thread finish
        await host.engine.wait_for("gated", ended)


async def test_show_history_output_adds_results_parsed_as_json(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await host.engine.start_orchestration("FanOutFanIn", "fan", json.dumps("2"))
    await host.engine.wait_for("fan", ended)
    base = f"{host.base_url}{WEBHOOK}/instances/fan?showHistory=true"
    _, body, _ = await call(http, "GET", base)
    completed = [e for e in body["historyEvents"] if e["EventType"] == "TaskCompleted"]
    assert len(completed) == 2 and all("Result" not in e for e in completed)
    assert {e["FunctionName"] for e in completed} == {"Double"}
    assert all("ScheduledTime" in e and "TaskScheduledId" not in e for e in completed)
    _, body, _ = await call(http, "GET", base + "&showHistoryOutput=true")
    results = [e["Result"] for e in body["historyEvents"] if e["EventType"] == "TaskCompleted"]
    assert sorted(results) == [0, 2]
    assert body["historyEvents"][-1]["Result"] == 2  # ExecutionCompleted
