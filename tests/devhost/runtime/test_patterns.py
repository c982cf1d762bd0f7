"""The Durable patterns of the second test app, run by the engine through the SDK's replay."""

import json
import logging

import pytest

from devhost.protocol.history import EventType
from devhost.runtime.engine import Engine

from .conftest import ended, run


def event_types(engine: Engine, instance_id: str) -> list[int]:
    assert engine.store is not None
    return [event["EventType"] for event in engine.store.load_history(instance_id)]


def attempts(engine: Engine, instance_id: str) -> int:
    """How often Flaky ran for the instance: each run in its worker ends in exactly one
    TaskCompleted or TaskFailed (the app's own counter lives in the worker process)."""
    types = event_types(engine, instance_id)
    return types.count(EventType.TASK_COMPLETED) + types.count(EventType.TASK_FAILED)


async def wait_for_events(engine: Engine, instance_id: str, kind: EventType, count: int) -> None:
    await engine.wait_for(
        instance_id, lambda _s: event_types(engine, instance_id).count(kind) >= count
    )


async def test_fan_out_fan_in_sums_every_result(engine: Engine) -> None:
    instance_id = await run(engine, "FanOutFanIn", 20)
    status = await engine.wait_for(instance_id, ended)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == sum(2 * i for i in range(20))
    assert event_types(engine, instance_id).count(EventType.TASK_SCHEDULED) == 20


async def test_retry_recovers_after_failures_with_timers_between_attempts(engine: Engine) -> None:
    job = {"key": "recovers", "failures": 2, "attempts": 3}
    instance_id = await run(engine, "Retrying", job)
    for timers in (1, 2):  # each failure waits 5 s on a durable timer before the next attempt
        await wait_for_events(engine, instance_id, EventType.TIMER_CREATED, timers)
        engine.clock.advance(5)
    status = await engine.wait_for(instance_id, ended)
    assert status["output"] == "succeeded on attempt 3"
    types = event_types(engine, instance_id)
    assert types.count(EventType.TASK_FAILED) == 2
    assert types.count(EventType.TIMER_FIRED) == 2
    assert attempts(engine, instance_id) == 3


async def test_retry_gives_up_after_max_attempts(engine: Engine) -> None:
    job = {"key": "exhausted", "failures": 99, "attempts": 2}
    instance_id = await run(engine, "Retrying", job)
    for timers in (1, 2):  # DurableTask waits once more after the last attempt, then fails
        await wait_for_events(engine, instance_id, EventType.TIMER_CREATED, timers)
        engine.clock.advance(5)
    status = await engine.wait_for(instance_id, ended)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"].startswith("gave up: Activity function 'Flaky' failed")
    assert "attempt 2 failed" in status["output"]
    assert attempts(engine, instance_id) == 2


async def test_sub_orchestrations_complete_and_failures_reach_the_parent(engine: Engine) -> None:
    instance_id = await run(engine, "Parent", instance_id="family")
    status = await engine.wait_for(instance_id, ended)
    assert status["runtimeStatus"] == "Completed", status
    output = status["output"]
    assert output["children"] == [
        {"greeting": "Hello a!", "parent": "family"},
        {"greeting": "Hello b!", "parent": "family"},
    ]
    # The parent's exception is the SDK's f"{Reason} \n {Details}": the child's reason, then
    # OutOfProcOrchestrationShim's "Message: <error>, StackTrace: <host stack>".
    reason, _, details = output["failedChild"].partition(" \n ")
    assert reason.startswith("Orchestrator function 'Boom' failed: ")
    error = reason.removeprefix("Orchestrator function 'Boom' failed: ")
    assert "boom" in error
    assert details.startswith(f"Message: {error}, StackTrace: ")
    child = engine.get_status("family-child-b")
    assert child is not None and child["runtimeStatus"] == "Completed"


async def test_continue_as_new_takes_later_events_and_resets_history(engine: Engine) -> None:
    instance_id = await run(engine, "Counter")
    for n, value in enumerate(("a", "b", "c")):
        # One at a time: events not consumed before continue_as_new are dropped, as on Azure.
        await engine.wait_for(instance_id, lambda s, n=n: s["customStatus"] == {"n": n})
        await engine.raise_event(instance_id, "Add", json.dumps(value))
    status = await engine.wait_for(instance_id, ended)
    assert status["output"] == {"n": 3, "added": ["a", "b", "c"]}
    assert event_types(engine, instance_id)[:3] == [
        EventType.ORCHESTRATOR_STARTED,
        EventType.EXECUTION_STARTED,
        EventType.EXECUTION_COMPLETED,
    ]


async def test_event_raised_before_the_wait_is_kept(engine: Engine) -> None:
    instance_id = await run(engine, "EarlyEvent")
    await engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    await engine.raise_event(instance_id, "Go", json.dumps("early"))
    await engine.wait_for(
        instance_id, lambda _s: EventType.EVENT_RAISED in event_types(engine, instance_id)
    )
    assert not ended(engine.get_status(instance_id))
    engine.clock.advance(60)
    status = await engine.wait_for(instance_id, ended)
    assert status["output"] == {"go": "early"}


async def test_cancelled_timer_lets_the_instance_complete_at_once(engine: Engine) -> None:
    instance_id = await run(engine, "Race", True)
    await engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    await engine.raise_event(instance_id, "Done", "true")
    status = await engine.wait_for(instance_id, ended)
    assert status["output"] == "event"


async def test_uncancelled_timer_keeps_the_instance_running_until_it_fires(engine: Engine) -> None:
    instance_id = await run(engine, "Race", False)
    await engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    await engine.raise_event(instance_id, "Done", "true")
    await engine.wait_for(
        instance_id,
        lambda _s: event_types(engine, instance_id).count(EventType.ORCHESTRATOR_COMPLETED) == 2,
    )
    assert engine.get_status(instance_id)["runtimeStatus"] == "Running"
    engine.clock.advance(60)
    status = await engine.wait_for(instance_id, ended)
    assert status["output"] == "event"


async def test_orchestrator_exception_fails_the_instance_with_its_message(engine: Engine) -> None:
    instance_id = await run(engine, "Boom")
    status = await engine.wait_for(instance_id, ended)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"] == "Orchestrator function 'Boom' failed: boom"
    assert status["customStatus"] == "about to fail"


async def test_activity_exception_fails_the_orchestration_with_azures_texts(
    engine: Engine,
) -> None:
    instance_id = await run(engine, "CallsFailingActivity")
    status = await engine.wait_for(instance_id, ended)
    assert status["runtimeStatus"] == "Failed"
    # As on Azure: the Reason in the extension's words (its two spaces included), then the
    # SDK's " \n " and the Details, which hold the worker's Python stack trace.
    reason, _, details = status["output"].partition(" \n ")
    assert reason == (
        "Orchestrator function 'CallsFailingActivity' failed: "
        "Activity function 'AlwaysFails' failed:  KeyError: 'x'"
    )
    assert json.loads(details)["Message"] == " KeyError: 'x'"
    assert "Traceback" in json.loads(details)["InnerException"]["Message"]


async def test_custom_status_over_16_kb_fails_like_the_host(engine: Engine) -> None:
    at_limit = await run(engine, "HugeStatus", 8190)  # 8,192 chars with quotes = 16,384 bytes
    over = await run(engine, "HugeStatus", 8191)
    assert (await engine.wait_for(at_limit, ended))["runtimeStatus"] == "Completed"
    status = await engine.wait_for(over, ended)
    assert status["runtimeStatus"] == "Failed"
    assert "16,386 bytes" in status["output"]


@pytest.mark.parametrize(
    ("name", "feature", "action"),
    [
        ("CallsEntity", "durable entities", "CALL_ENTITY"),
        ("SignalsEntity", "durable entities", "SIGNAL_ENTITY"),
        ("CallsHttp", "durable HTTP calls (call_http)", "CALL_HTTP"),
    ],
)
async def test_unsupported_actions_fail_the_instance_with_a_clear_reason(
    engine: Engine, name: str, feature: str, action: str
) -> None:
    instance_id = await run(engine, name)
    status = await engine.wait_for(instance_id, ended)
    assert status["runtimeStatus"] == "Failed"
    assert status["output"] == (
        f"Orchestrator function '{name}' failed: "
        f"{feature} are not supported by devhost (action {action}); "
        "run this app on the Functions host."
    )
    # Failed before anything else the episode asked for was scheduled.
    assert EventType.TASK_SCHEDULED not in event_types(engine, instance_id)


async def test_a_misspelled_activity_waits_forever_as_on_azure_and_says_why(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Azure schedules nothing for a function that does not exist and the instance waits; devhost
    does the same, logs an ERROR at that moment and names the problem in the status."""
    with caplog.at_level(logging.ERROR, logger="devhost.runtime.engine"):
        instance_id = await run(engine, "CallsMissing")
        status = await engine.wait_for(instance_id, lambda s: "devhostProblems" in s)
    assert status["runtimeStatus"] == "Running"
    assert status["devhostProblems"] == [
        "The function 'Dubble' doesn't exist, is disabled, or is not an activity function. "
        "Known activities: " + ", ".join(sorted(engine.app.activities)) + "."
    ]
    [error] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert instance_id in error and "'Dubble' doesn't exist" in error
    assert "stays Running forever" in error
    assert EventType.TASK_SCHEDULED not in event_types(engine, instance_id)
    with pytest.raises(TimeoutError, match="Dubble"):  # a test waiting for it fails, saying why
        await engine.wait_for(instance_id, ended, timeout=0.2)


async def test_a_missing_sub_orchestrator_waits_forever_as_on_azure(engine: Engine) -> None:
    instance_id = await run(engine, "CallsMissingChild")
    status = await engine.wait_for(instance_id, lambda s: "devhostProblems" in s)
    assert status["runtimeStatus"] == "Running"
    assert "'NoSuchOrchestrator' doesn't exist" in status["devhostProblems"][0]
    assert event_types(engine, instance_id).count(EventType.SUB_ORCHESTRATION_INSTANCE_CREATED) == 0
