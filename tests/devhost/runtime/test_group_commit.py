"""Group commit: many episodes under one COMMIT, each in a savepoint that can roll back alone."""

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from devhost.app.loader import AppIndex
from devhost.core.options import HostOptions
from devhost.protocol.history import EventType, make_event
from devhost.runtime.dispatcher import Dispatcher
from devhost.runtime.store import Store

from .conftest import PATTERNS_APP, ended, new_engine, run


def test_a_nested_transaction_rolls_back_alone(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite")
    event = make_event(EventType.EVENT_RAISED, "2026-01-01T00:00:00.000000Z", Name="x")
    with store.transaction():
        store.add_message("kept", event)
        with pytest.raises(RuntimeError), store.transaction():
            store.add_message("rolled-back", event)
            raise RuntimeError("one episode fails")
        with store.transaction():
            store.add_message("also-kept", event)
    assert store.instances_with_messages() == ["also-kept", "kept"]
    assert store.commits_since_checkpoint == 1  # one COMMIT for the whole group
    store.close()


def test_an_outer_rollback_takes_released_savepoints_with_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite")
    event = make_event(EventType.EVENT_RAISED, "2026-01-01T00:00:00.000000Z", Name="x")
    with pytest.raises(RuntimeError), store.transaction():
        with store.transaction():
            store.add_message("inner", event)
        raise RuntimeError("the group fails")
    assert store.instances_with_messages() == []
    store.close()


async def test_a_failing_episode_loses_nothing_and_spares_its_group(
    tmp_path: Path, patterns_app: AppIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database error in one episode rolls back that episode only: the other instances of
    the same group complete, and the failed one's inbox is intact, so it runs after a restart."""
    options = HostOptions(app_dir=PATTERNS_APP, state_path=tmp_path / "state.sqlite")
    original = Store.commit_episode

    def fail_for_bad(self: Store, instance: Any, *args: Any) -> Any:
        works = original(self, instance, *args)  # written, then the episode fails
        if instance.instance_id == "bad":
            raise sqlite3.OperationalError("injected disk I/O error")
        return works

    monkeypatch.setattr(Store, "commit_episode", fail_for_bad)
    engine = new_engine(patterns_app, options)
    await engine.start()
    try:
        ids = [await run(engine, "FanOutFanIn", 3, instance_id=i) for i in ("a", "bad", "c")]
        for instance_id in ("a", "c"):
            assert (await engine.wait_for(instance_id, ended))["output"] == 6
        assert engine.get_status("bad")["runtimeStatus"] == "Pending"
        assert engine.get_status("bad", show_history=True)["historyEvents"] == []
    finally:
        await engine.stop()
    monkeypatch.undo()

    engine = new_engine(patterns_app, options)
    await engine.start()
    try:
        status = await engine.wait_for(ids[1], ended)
        assert (status["runtimeStatus"], status["output"]) == ("Completed", 6)
    finally:
        await engine.stop()


async def test_an_activity_result_that_cannot_be_recorded_keeps_its_work_item(
    tmp_path: Path, patterns_app: AppIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dispatcher survives; the result's work item stays, so a restart runs it again."""
    options = HostOptions(app_dir=PATTERNS_APP, state_path=tmp_path / "state.sqlite")
    original = Dispatcher.record_activity_result

    def fail_for_bad(self: Dispatcher, work: Any, event: dict[str, Any]) -> None:
        original(self, work, event)
        if work.instance_id == "bad":
            raise RuntimeError("injected internal error")

    monkeypatch.setattr(Dispatcher, "record_activity_result", fail_for_bad)
    engine = new_engine(patterns_app, options)
    await engine.start()
    try:
        await run(engine, "FanOutFanIn", 1, instance_id="bad")
        await run(engine, "FanOutFanIn", 2, instance_id="good")
        assert (await engine.wait_for("good", ended))["output"] == 2
        assert engine.get_status("bad")["runtimeStatus"] == "Running"
        assert [a.instance_id for a in engine.store.all_activities()] == ["bad"]
    finally:
        await engine.stop()
    monkeypatch.undo()

    engine = new_engine(patterns_app, options)
    await engine.start()
    try:
        assert (await engine.wait_for("bad", ended))["output"] == 0
    finally:
        await engine.stop()
