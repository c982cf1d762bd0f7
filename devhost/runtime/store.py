"""Durable state in SQLite: instances, their history, their inbox and pending activity work.

Everything an episode changes (new history, status, inbox consumed, activities and timers scheduled,
messages to parent or child instances) is written in one transaction, so a host killed at any
point restarts from a consistent state: completed activity results and raised events are inbox rows
until the episode that consumes them commits, and activity work rows are deleted only in the same
transaction that records their result (activities therefore run at least once, never zero times).
Opening, locking and checking the file is ``state_file.py``'s job.

The store also keeps each execution's history as the SDK will be handed it (the stored text of
each event, already marked played), so that an episode neither re-reads nor re-encodes its
history. It is the one owner of that cache (``history_cache.py``): only its own history-writing
methods change it, and a transaction or savepoint that rolls back drops every instance it touched,
so the cache never holds what the database does not. devhost's SQL is here, in ``state_file.py``
and in the modules the store opens on its connection: ``status_changes.py`` (the status
timeline), ``listing.py`` and ``status_search.py`` (the dashboard's queries and text index).
"""

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devhost.core.outcome import Outcome
from devhost.core.records import ActivityRow, InboxRow, InstanceRow, OrchestrationState, ParentRef
from devhost.protocol.events import timer_fired
from devhost.protocol.runtime_status import RuntimeStatus
from devhost.runtime.history_cache import HistoryCache
from devhost.runtime.listing import InstanceListing
from devhost.runtime.state_file import SCHEMA, open_database, open_locked
from devhost.runtime.status_changes import StatusChanges
from devhost.runtime.status_search import StatusSearch

_INSTANCE_COLUMNS = (
    "instance_id, name, execution_id, runtime_status, input, output, custom_status, "
    "created_time, last_updated_time, parent_instance_id, parent_execution_id, parent_task_id, "
    "engine_state"
)


def _instance(row: tuple[Any, ...]) -> InstanceRow:
    (instance_id, name, execution_id, status, input_text, output, custom_status, created,
     updated, parent_id, parent_execution, parent_task, state) = row  # fmt: skip
    return InstanceRow(
        instance_id=instance_id,
        name=name,
        execution_id=execution_id,
        runtime_status=RuntimeStatus(status),
        input=input_text,
        output=output,
        custom_status=custom_status,
        created_time=created,
        last_updated_time=updated,
        parent=ParentRef(parent_id, parent_execution, parent_task) if parent_id else None,
        state=OrchestrationState.from_json(state),
    )


def is_unwritable(error: BaseException) -> bool:
    """SQLite could not write at all (disk full, I/O error, a lock): no fault of the instance
    being written, whose work stays in the file and runs again after a restart."""
    return isinstance(error, sqlite3.OperationalError)


class Store:
    """A thin, synchronous SQLite layer; the engine calls it from the event loop thread only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock_file: int | None = None
        if path is None:
            self.db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            self.db.executescript(SCHEMA)
        else:
            self._lock_file = open_locked(path)
            try:
                self.db = open_database(path)
            except BaseException:
                os.close(self._lock_file)
                raise
        self._depth = 0
        self.commits_since_checkpoint = 0
        self._cache = HistoryCache()
        self.status_changes = StatusChanges(self.db)  # the status timeline's SQL
        self.status_search = StatusSearch(self.db)  # told of every write below
        self.listing = InstanceListing(self.db, self.status_search)  # the dashboard's reads

    def close(self) -> None:
        self.db.close()
        if self._lock_file is not None:
            # Only after the connection is closed: closing any descriptor of the file drops the
            # process's POSIX locks on it, SQLite's included.
            os.close(self._lock_file)
            self._lock_file = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing. Nested inside another transaction it is a SAVEPOINT: it rolls back
        alone on error, and commits with the outermost one (the engine's group commit runs many
        episodes, each in its own savepoint, under one COMMIT). What rolls back also leaves the
        history cache (the instances it touched are read again from the database)."""
        self._cache.begin()
        try:
            with self._sql_transaction() as db:
                yield db
        except BaseException:
            self._cache.rolled_back()
            raise
        self._cache.released()

    @contextmanager
    def _sql_transaction(self) -> Iterator[sqlite3.Connection]:
        if self._depth:
            name = f"nested_{self._depth}"
            self.db.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self.db
            except BaseException:
                self.db.execute(f"ROLLBACK TO {name}")
                self.db.execute(f"RELEASE {name}")
                raise
            finally:
                self._depth -= 1
            self.db.execute(f"RELEASE {name}")
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
        try:
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.commits_since_checkpoint += 1

    def checkpoint(self) -> None:
        """Copy the WAL into the database without blocking anyone (``PASSIVE``)."""
        if self.path is not None and self.commits_since_checkpoint:
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self.commits_since_checkpoint = 0

    # -- instances -------------------------------------------------------------------------
    def get_instance(self, instance_id: str) -> InstanceRow | None:
        row = self.db.execute(
            f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?", (instance_id,)
        ).fetchone()
        return _instance(row) if row else None

    def put_instance(self, row: InstanceRow) -> None:
        parent = row.parent
        self.status_search.changed(row.instance_id)
        self.db.execute(
            f"INSERT OR REPLACE INTO instances ({_INSTANCE_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.instance_id,
                row.name,
                row.execution_id,
                str(row.runtime_status),
                row.input,
                row.output,
                row.custom_status,
                row.created_time,
                row.last_updated_time,
                parent.instance_id if parent else None,
                parent.execution_id if parent else None,
                parent.task_id if parent else None,
                row.state.to_json(),
            ),
        )

    def create_instance(self, row: InstanceRow, started: dict[str, Any]) -> None:
        """A new instance (replacing an ended one of that id) and its ExecutionStarted."""
        self.delete_instance(row.instance_id)
        self.put_instance(row)
        self.add_message(row.instance_id, started, row.execution_id)

    def query_instances(
        self,
        created_from: str | None = None,
        created_to: str | None = None,
        statuses: Iterable[RuntimeStatus] | None = None,
        prefix: str | None = None,
    ) -> list[InstanceRow]:
        clauses, params = [], []
        if created_from:
            clauses.append("created_time >= ?")
            params.append(created_from)
        if created_to:
            clauses.append("created_time <= ?")
            params.append(created_to)
        names = [str(status) for status in statuses or ()]
        if names:
            clauses.append(f"runtime_status IN ({','.join('?' * len(names))})")
            params.extend(names)
        if prefix:
            clauses.append("substr(instance_id, 1, ?) = ?")
            params.extend([len(prefix), prefix])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.execute(
            f"SELECT {_INSTANCE_COLUMNS} FROM instances {where} ORDER BY instance_id",
            params,
        ).fetchall()
        return [_instance(row) for row in rows]

    def delete_instance(self, instance_id: str) -> None:
        """Remove an instance and everything it owns (history, inbox, pending activity work,
        its status timeline)."""
        for table in ("instances", "history", "inbox", "activities", "status_changes"):
            self.db.execute(f"DELETE FROM {table} WHERE instance_id = ?", (instance_id,))
        self._cache.put(instance_id, None)
        self.status_search.changed(instance_id)

    # -- episodes ----------------------------------------------------------------------------
    def commit_episode(
        self,
        instance: InstanceRow,
        outcome: Outcome,
        consumed: list[int],
        history: list[str],
    ) -> list[ActivityRow]:
        """Everything an episode's outcome writes (the caller holds the transaction): messages
        consumed, timers cancelled and armed, activity work, messages to other instances, history
        and the instance row; an ending also clears the instance's work and inbox. Returns the
        activity work items to start once committed."""
        instance_id, execution_id = instance.instance_id, instance.execution_id
        self.delete_messages(consumed)
        for seq in outcome.cancelled_timers:
            self.delete_timer(instance_id, seq)
        for timer in outcome.timers:
            fired = timer_fired(timer.seq, timer.fire_at)
            self.add_message(instance_id, fired, execution_id, timer.fire_at)
        works = [
            ActivityRow(
                self.add_activity(instance_id, execution_id, a.seq, a.name, a.input),
                instance_id,
                execution_id,
                a.seq,
                a.name,
                a.input,
            )
            for a in outcome.activities
        ]
        if outcome.ending is not None:
            self.delete_instance_activities(instance_id)
            self.delete_inbox(instance_id)
            works = []
        for message in outcome.messages:
            if outcome.ending is None or message.instance_id != instance_id:
                self.add_message(message.instance_id, message.event, message.execution_id)
        self.append_history(instance_id, history)
        self.put_instance(instance)
        return works

    def start_new_execution(self, instance: InstanceRow, started: dict[str, Any]) -> None:
        """Continue as new: the old execution's history, inbox and work go; ExecutionStarted of
        the new one (``instance`` already carries its execution id and input) is queued."""
        instance_id = instance.instance_id
        self.delete_inbox(instance_id)
        self.delete_instance_activities(instance_id)
        self.clear_history(instance_id)
        self.put_instance(instance)
        self.add_message(instance_id, started, instance.execution_id)

    # -- history -----------------------------------------------------------------------------
    def load_history(self, instance_id: str) -> list[dict[str, Any]]:
        """The current execution's history, decoded (management views, rewind)."""
        return [json.loads(text) for text in self.played_history(instance_id)]

    def played_history(self, instance_id: str) -> Sequence[str]:
        """The current execution's history as the SDK is handed it: each event's stored text
        (marked played). Read once, then cached; callers must not change it."""
        return self._history(instance_id)

    def _history(self, instance_id: str) -> list[str]:
        cached = self._cache.get(instance_id)
        if cached is None:
            rows = self.db.execute(
                "SELECT event FROM history WHERE instance_id = ? ORDER BY position",
                (instance_id,),
            ).fetchall()
            cached = [row[0] for row in rows]
            self._cache.put(instance_id, cached)
        return cached

    def append_history(self, instance_id: str, encoded_events: list[str]) -> None:
        """Add events (encoded, played) at the end of the execution's history."""
        history = self._history(instance_id)
        start = len(history)
        self.db.executemany(
            "INSERT INTO history (instance_id, position, event) VALUES (?, ?, ?)",
            [(instance_id, start + i, text) for i, text in enumerate(encoded_events)],
        )
        history.extend(encoded_events)  # in place: a rollback drops the whole entry
        self._cache.put(instance_id, history)

    def replace_history(self, instance_id: str, encoded_events: list[str]) -> None:
        """Rewrite an execution's history (a rewind turns failures into GenericEvents)."""
        self.clear_history(instance_id)
        self.append_history(instance_id, encoded_events)

    def clear_history(self, instance_id: str) -> None:
        self.db.execute("DELETE FROM history WHERE instance_id = ?", (instance_id,))
        self._cache.put(instance_id, [])

    # -- inbox -------------------------------------------------------------------------------
    def add_message(
        self,
        instance_id: str,
        event: dict[str, Any],
        execution_id: str | None = None,
        visible_at: str | None = None,
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO inbox (instance_id, execution_id, event, visible_at) VALUES (?, ?, ?, ?)",
            (instance_id, execution_id, json.dumps(event, separators=(",", ":")), visible_at),
        )
        return int(cursor.lastrowid or 0)

    def all_messages(self, instance_id: str) -> list[InboxRow]:
        """Every message of the instance, timers not yet due included."""
        rows = self.db.execute(
            "SELECT id, instance_id, execution_id, event, visible_at FROM inbox "
            "WHERE instance_id = ? ORDER BY id",
            (instance_id,),
        ).fetchall()
        return [InboxRow(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]

    def delete_inbox(self, instance_id: str) -> None:
        self.db.execute("DELETE FROM inbox WHERE instance_id = ?", (instance_id,))

    def visible_messages(self, instance_id: str, now: str) -> list[InboxRow]:
        rows = self.db.execute(
            "SELECT id, instance_id, execution_id, event, visible_at FROM inbox "
            "WHERE instance_id = ? AND (visible_at IS NULL OR visible_at <= ?) ORDER BY id",
            (instance_id, now),
        ).fetchall()
        return [InboxRow(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]

    def delete_messages(self, ids: list[int]) -> None:
        self.db.executemany("DELETE FROM inbox WHERE id = ?", [(i,) for i in ids])

    def delete_timer(self, instance_id: str, timer_id: int) -> None:
        self.db.execute(
            "DELETE FROM inbox WHERE instance_id = ? AND visible_at IS NOT NULL "
            "AND json_extract(event, '$.TimerId') = ?",
            (instance_id, timer_id),
        )

    def future_timers(self) -> list[tuple[str, str]]:
        """(fire time, instance id) of every timer message, for the timer loop after a restart."""
        return self.db.execute(
            "SELECT visible_at, instance_id FROM inbox WHERE visible_at IS NOT NULL"
        ).fetchall()

    def instances_with_messages(self) -> list[str]:
        rows = self.db.execute("SELECT DISTINCT instance_id FROM inbox").fetchall()
        return [row[0] for row in rows]

    # -- activity work -----------------------------------------------------------------------
    def add_activity(
        self, instance_id: str, execution_id: str, task_id: int, name: str, input_text: str | None
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO activities (instance_id, execution_id, task_id, name, input) "
            "VALUES (?, ?, ?, ?, ?)",
            (instance_id, execution_id, task_id, name, input_text),
        )
        return int(cursor.lastrowid or 0)

    def all_activities(self) -> list[ActivityRow]:
        rows = self.db.execute(
            "SELECT id, instance_id, execution_id, task_id, name, input FROM activities ORDER BY id"
        ).fetchall()
        return [ActivityRow(*row) for row in rows]

    def delete_activity(self, work_id: int) -> bool:
        """Retire a work item; False if it was already gone (its instance ended or was purged)."""
        return self.db.execute("DELETE FROM activities WHERE id = ?", (work_id,)).rowcount > 0

    def execution_state(self, instance_id: str) -> tuple[str, str] | None:
        """``(runtime_status, execution_id)`` without decoding the whole row (hot path)."""
        row = self.db.execute(
            "SELECT runtime_status, execution_id FROM instances WHERE instance_id = ?",
            (instance_id,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def delete_instance_activities(self, instance_id: str) -> None:
        self.db.execute("DELETE FROM activities WHERE instance_id = ?", (instance_id,))
