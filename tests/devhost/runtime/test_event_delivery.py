"""Every raised event is delivered: events that arrive together go into one episode, as the
extension hands the SDK every pending message of an instance, and none is stranded in the inbox."""

import asyncio
import json
import logging
from pathlib import Path

import pytest

from devhost.app.loader import AppIndex
from devhost.core.options import HostOptions
from devhost.protocol.history import EventType
from devhost.runtime.engine import Engine

from .conftest import PATTERNS_APP, ended, new_engine, run

INSTANCES = 10


@pytest.mark.parametrize("events", [2, 3, 20])
async def test_events_raised_together_all_reach_a_waiting_instance(
    engine: Engine, events: int
) -> None:
    ids = [await run(engine, "Collector", events) for _ in range(INSTANCES)]
    for instance_id in ids:
        await engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    await asyncio.gather(
        *(
            engine.raise_event(instance_id, "Item", json.dumps(n))
            for instance_id in ids
            for n in range(events)
        )
    )
    for instance_id in ids:
        status = await engine.wait_for(instance_id, ended, timeout=30)
        assert (status["runtimeStatus"], status["output"]) == ("Completed", list(range(events)))


async def test_events_raised_together_in_one_episode(engine: Engine) -> None:
    instance_id = await run(engine, "Collector", 3)
    await engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    for n in range(3):
        await engine.raise_event(instance_id, "Item", json.dumps(n))
    await engine.wait_for(instance_id, ended)
    assert engine.store is not None
    types = [e["EventType"] for e in engine.store.load_history(instance_id)]
    # ExecutionStarted's episode, then one episode with all three events.
    assert types.count(EventType.ORCHESTRATOR_STARTED) == 2
    episode = types[types.index(EventType.ORCHESTRATOR_STARTED, 1) :]
    assert episode[1:4] == [EventType.EVENT_RAISED] * 3


async def test_events_pending_at_a_stop_are_all_delivered_after_the_restart(
    tmp_path: Path, patterns_app: AppIndex
) -> None:
    options = HostOptions(
        app_dir=PATTERNS_APP, state_path=tmp_path / "state.sqlite", manual_clock=True
    )
    first = new_engine(patterns_app, options)
    await first.start()
    ids = [await run(first, "Collector", 20) for _ in range(INSTANCES)]
    for instance_id in ids:
        await first.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    # Raised and stopped with no await in between: the dispatcher never sees them.
    for instance_id in ids:
        for n in range(20):
            await first.raise_event(instance_id, "Item", json.dumps(n))
    await first.stop()

    second = new_engine(patterns_app, options)
    await second.start()
    try:
        for instance_id in ids:
            status = await second.wait_for(instance_id, ended, timeout=30)
            assert status["output"] == list(range(20))
    finally:
        await second.stop()


async def test_continue_as_new_drops_unconsumed_events_and_says_so(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Azure's outcome, reproduced: the second of two events raised together is lost when the
    orchestrator continues as new after consuming the first, and devhost logs a WARNING."""
    instance_id = await run(engine, "Counter")
    await engine.wait_for(instance_id, lambda s: s["customStatus"] == {"n": 0})
    with caplog.at_level(logging.WARNING, logger="devhost.runtime.engine"):
        await engine.raise_event(instance_id, "Add", json.dumps("a"))
        await engine.raise_event(instance_id, "Add", json.dumps("lost"))
        status = await engine.wait_for(instance_id, lambda s: s["customStatus"] == {"n": 1})
    assert status["runtimeStatus"] == "Running"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert instance_id in warnings[0] and "1 unprocessed event(s) 'Add'" in warnings[0]
    assert "DROPPED" in warnings[0]
    # The dropped event is gone for good: the new execution waits for a fresh one.
    await engine.raise_event(instance_id, "Add", json.dumps("b"))
    await engine.wait_for(instance_id, lambda s: s["customStatus"] == {"n": 2})
    await engine.raise_event(instance_id, "Add", json.dumps("c"))
    status = await engine.wait_for(instance_id, ended)
    assert status["output"] == {"n": 3, "added": ["a", "b", "c"]}


async def test_a_payload_that_cannot_be_stored_fails_its_instance_once_and_clearly(
    engine: Engine,
) -> None:
    """A lone surrogate past the HTTP layer's check (which answers 400) reaches the orchestrator,
    whose output then cannot be stored as UTF-8: the instance fails with the reason instead of
    rolling back every episode forever, and the others in its group are untouched."""
    poisoned = await run(engine, "Collector", 1)
    healthy = await run(engine, "Collector", 1)
    for instance_id in (poisoned, healthy):
        await engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    await engine.raise_event(poisoned, "Item", json.dumps("\ud800"))
    await engine.raise_event(healthy, "Item", json.dumps("fine"))
    status = await engine.wait_for(poisoned, ended)
    assert status["runtimeStatus"] == "Failed"
    assert "devhost could not record an episode of this instance" in status["output"]
    assert "surrogates not allowed" in status["output"]
    assert (await engine.wait_for(healthy, ended))["output"] == ["fine"]
    assert engine.store is not None
    assert poisoned not in engine.store.instances_with_messages()
