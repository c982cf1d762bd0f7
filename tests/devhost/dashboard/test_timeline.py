"""The custom-status timeline: recorded as episodes commit, each value once, bounded, purged with
its instance, carried across continue-as-new, and started afresh when an id is used again; and a
state file from before the timeline (schema version 2) opened and recording."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from devhost.server import DevHost

from .conftest import WEBHOOK, ended, get_json, run_to_end, start


def _stored_changes(host: DevHost, instance_id: str) -> int:
    store = host.engine.store
    assert store is not None
    query = "SELECT count(*) FROM status_changes WHERE instance_id = ?"
    return int(store.db.execute(query, (instance_id,)).fetchone()[0])


async def _timeline(http: aiohttp.ClientSession, host: DevHost, instance_id: str) -> Any:
    return await get_json(http, host, f"instances/{instance_id}/status-timeline")


async def test_each_change_is_recorded_once_in_order_with_its_episode(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await run_to_end(host, "Cities", None, "e1")
    timeline = await _timeline(http, host, "e1")
    view = await get_json(http, host, "instances/e1")
    changes = timeline["changes"]
    # London was set twice: the second, equal status is no change.
    assert [c["customStatus"] for c in changes] == [
        {"city": "Tokyo"},
        {"city": "Seattle"},
        {"city": "London"},
    ]
    assert [c["sequence"] for c in changes] == [1, 2, 3]
    assert [c["episode"] for c in changes] == [1, 2, 3]
    assert {c["executionId"] for c in changes} == {view["executionId"]}
    times = [c["time"] for c in changes]
    assert times == sorted(times, key=datetime.fromisoformat)
    assert (timeline["kept"], timeline["dropped"]) == (1000, 0)
    assert view["statusChanges"] == 3 and view["customStatus"] == {"city": "London"}
    # Each change's time is its episode's: the OrchestratorStarted that opened it.
    history = await get_json(http, host, "instances/e1/history?top=1000")
    started = [e["timestamp"] for e in history["events"] if e["eventType"] == "OrchestratorStarted"]
    assert [datetime.fromisoformat(t) for t in times] == [
        datetime.fromisoformat(t) for t in started[:3]
    ]


async def test_the_timeline_keeps_the_newest_changes_and_counts_the_dropped(
    start_host: Any, http: aiohttp.ClientSession
) -> None:
    async with start_host(status_changes_kept=3) as host:
        await run_to_end(host, "Steps", 10, "steps")
        timeline = await _timeline(http, host, "steps")
        assert [c["sequence"] for c in timeline["changes"]] == [8, 9, 10]
        assert [c["customStatus"] for c in timeline["changes"]] == [
            {"step": 7},
            {"step": 8},
            {"step": 9},
        ]
        assert (timeline["kept"], timeline["dropped"]) == (3, 7)
        assert _stored_changes(host, "steps") == 3
        assert (await get_json(http, host, "instances/steps"))["statusChanges"] == 3


async def test_continue_as_new_keeps_the_timeline_under_each_execution(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await run_to_end(host, "Looper", 0, "loop")
    changes = (await _timeline(http, host, "loop"))["changes"]
    assert [c["customStatus"] for c in changes] == [{"round": 0}, {"round": 1}, {"round": 2}]
    executions = [c["executionId"] for c in changes]
    assert len(set(executions)) == 3
    assert executions[-1] == (await get_json(http, host, "instances/loop"))["executionId"]
    assert [c["episode"] for c in changes] == [1, 1, 1]  # each set in its execution's first


async def test_purging_an_instance_removes_its_timeline(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    for instance_id in ("one", "filtered-a", "filtered-b"):
        await run_to_end(host, "Cities", None, instance_id)
        assert _stored_changes(host, instance_id) == 3
    async with http.delete(f"{host.base_url}{WEBHOOK}/instances/one") as reply:
        assert reply.status == 200
    assert _stored_changes(host, "one") == 0
    await get_json(http, host, "instances/one/status-timeline", status=404)
    purge = f"{host.base_url}{WEBHOOK}/instances/?createdTimeFrom=2000-01-01T00:00:00Z"
    async with http.delete(purge) as reply:
        assert (await reply.json()) == {"instancesDeleted": 2}
    assert _stored_changes(host, "filtered-a") == _stored_changes(host, "filtered-b") == 0


async def test_an_id_started_again_starts_a_new_timeline(
    host: DevHost, http: aiohttp.ClientSession
) -> None:
    await run_to_end(host, "Cities", None, "again")
    await start(host, "Labelled", "fresh", "again")
    await host.engine.wait_for("again", lambda s: s["output"] == "fresh")
    changes = (await _timeline(http, host, "again"))["changes"]
    assert [(c["sequence"], c["customStatus"]) for c in changes] == [(1, "fresh")]


def _as_version_2(path: Path) -> None:
    """Turn a state file back into what the devhost before the timeline wrote: no
    ``status_changes``, version 2's two instance indexes, no episode counts in engine state."""
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            DROP TABLE status_changes;
            DROP INDEX instances_by_created_id;
            DROP INDEX instances_by_status_created;
            DROP INDEX instances_by_name_created;
            CREATE INDEX instances_by_created ON instances (created_time);
            CREATE INDEX instances_by_status ON instances (runtime_status);
            """
        )
        for instance_id, state in db.execute("SELECT instance_id, engine_state FROM instances"):
            data = json.loads(state)
            data.pop("episodes")
            db.execute(
                "UPDATE instances SET engine_state = ? WHERE instance_id = ?",
                (json.dumps(data), instance_id),
            )
        db.execute("PRAGMA user_version=2")
    db.close()


async def test_a_version_2_state_file_opens_and_records_the_next_change(
    start_host: Any, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite"
    async with start_host(in_memory=False, state_path=path) as host:
        await start(host, "Gate", None, "old")
        await host.engine.wait_for("old", lambda s: s["customStatus"] == "waiting")
    _as_version_2(path)
    async with start_host(in_memory=False, state_path=path) as host:
        page = await get_json(http, host, "instances")
        assert [row["instanceId"] for row in page["instances"]] == ["old"]
        assert (await _timeline(http, host, "old"))["changes"] == []  # from before: not known
        async with http.post(
            f"{host.base_url}{WEBHOOK}/instances/old/raiseEvent/Go", json="now"
        ) as reply:
            assert reply.status == 202
        await ended(host, "old")
        (change,) = (await _timeline(http, host, "old"))["changes"]
        # The episode count was not stored: it is taken from the history (the second episode).
        assert (change["sequence"], change["episode"], change["customStatus"]) == (1, 2, "opened")
