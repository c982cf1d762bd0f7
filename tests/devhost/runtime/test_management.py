"""Terminate, suspend/resume, purge and restarts of the engine on the same state file."""

import json
import logging
from pathlib import Path

import pytest

from devhost.app.loader import AppIndex
from devhost.core import errors
from devhost.core.errors import StateFileLocked
from devhost.core.options import HostOptions
from devhost.runtime.engine import Engine

from .conftest import PATTERNS_APP, ended, new_engine, run


async def test_terminate_ends_a_waiting_instance_and_refuses_more_events(engine: Engine) -> None:
    instance_id = await run(engine, "Counter")
    await engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    await engine.terminate(instance_id, "no longer needed")
    status = engine.get_status(instance_id)
    assert status["runtimeStatus"] == "Terminated"
    assert status["output"] == "no longer needed"
    with pytest.raises(errors.InstanceEnded):
        await engine.raise_event(instance_id, "Add", '"x"')
    with pytest.raises(errors.InstanceEnded):
        await engine.terminate(instance_id, "again")


async def test_suspended_instance_keeps_its_events_until_resumed(engine: Engine) -> None:
    instance_id = await run(engine, "Race", True)
    await engine.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    await engine.suspend(instance_id, "hold on")
    await engine.raise_event(instance_id, "Done", "true")
    assert engine.get_status(instance_id)["runtimeStatus"] == "Suspended"
    await engine.resume(instance_id, "go on")
    status = await engine.wait_for(instance_id, ended)
    assert status["output"] == "event"


async def test_unknown_instances_and_bad_ids_are_refused(engine: Engine) -> None:
    with pytest.raises(errors.InstanceNotFound):
        await engine.raise_event("nobody", "Go", None)
    assert engine.get_status("nobody") is None
    assert await engine.purge("nobody") == 0
    for bad in ("a/b", "@x", "x" * 257, "tab\there", "q?", "back\\slash", "#x"):
        with pytest.raises(errors.InvalidInstanceId):
            await run(engine, "FanOutFanIn", 1, instance_id=bad)
    with pytest.raises(errors.UnknownOrchestrator):
        await run(engine, "NoSuchOrchestrator")


@pytest.mark.parametrize("unusual", ["two words", " padded ", "x" * 256, "été 名前 🎉", "a+b@c"])
async def test_ids_the_extension_accepts_are_accepted(engine: Engine, unusual: str) -> None:
    """Spaces, 256 characters, non-ASCII: all valid for the extension, so for devhost too."""
    instance_id = await run(engine, "FanOutFanIn", 2, instance_id=unusual)
    assert instance_id == unusual
    assert (await engine.wait_for(unusual, ended))["output"] == 2  # 0*2 + 1*2


async def test_running_ids_conflict_but_ended_ones_are_replaced(engine: Engine) -> None:
    await run(engine, "Counter", instance_id="same")
    with pytest.raises(errors.InstanceExists):
        await run(engine, "Counter", instance_id="same")
    await engine.terminate("same", "done")
    await run(engine, "FanOutFanIn", 2, instance_id="same")
    status = await engine.wait_for("same", ended)
    assert (status["name"], status["output"]) == ("FanOutFanIn", 2)
    assert await engine.purge("same") == 1
    assert engine.get_status("same") is None


async def test_timers_and_waits_survive_an_engine_restart(
    patterns_app: AppIndex, tmp_path: Path
) -> None:
    options = HostOptions(app_dir=PATTERNS_APP, state_path=tmp_path / "s.sqlite", manual_clock=True)
    first = new_engine(patterns_app, options)
    await first.start()
    instance_id = await first.start_orchestration(
        "EarlyEvent", "survivor", json.dumps(json.dumps(None))
    )
    await first.wait_for(instance_id, lambda s: s["runtimeStatus"] == "Running")
    await first.raise_event(instance_id, "Go", json.dumps("kept"))
    await first.stop()

    second = new_engine(patterns_app, options)
    await second.start()
    try:
        assert second.get_status(instance_id)["runtimeStatus"] == "Running"
        second.clock.advance(60)
        status = await second.wait_for(instance_id, ended)
        assert status["output"] == {"go": "kept"}
    finally:
        await second.stop()


async def test_a_state_file_is_owned_by_one_host_at_a_time(
    patterns_app: AppIndex, tmp_path: Path
) -> None:
    options = HostOptions(app_dir=PATTERNS_APP, state_path=tmp_path / "s.sqlite")
    first = new_engine(patterns_app, options)
    await first.start()
    try:
        with pytest.raises(StateFileLocked):
            await new_engine(patterns_app, options).start()
    finally:
        await first.stop()


async def test_purging_a_running_instance_deletes_it_as_azure_storage_does(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    await run(engine, "Counter", instance_id="live")
    await engine.wait_for("live", lambda s: s["runtimeStatus"] == "Running")
    with caplog.at_level(logging.WARNING, logger="devhost.runtime.engine"):
        assert await engine.purge("live") == 1
    assert engine.get_status("live") is None
    [warning] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.startswith("Purged instance live while it was Running, as Azure Storage does")
