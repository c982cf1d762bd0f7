"""The custom-status timeline in SQLite: each change recorded with its episode, the oldest dropped.

The store (``store.py``) owns the connection and its transactions; this module holds the
timeline's SQL, so an episode's status change is written in the same savepoint as the episode
itself (a rolled-back episode leaves no change behind) and removed with the instance whenever
``Store.delete_instance`` removes it (a purge, or an id started again). What counts as a change,
and how many are kept, is ``core/status_timeline.py``'s rule.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from devhost.core.status_timeline import LastChange, dropped, next_change, oldest_kept


@dataclass(frozen=True)
class StatusChange:
    """One recorded change: its number, when (devhost's clock), in which execution and episode,
    and the status it set (compact JSON text, or None)."""

    sequence: int
    time: str
    execution_id: str
    episode: int
    custom_status: str | None


@dataclass(frozen=True)
class Timeline:
    """An instance's kept changes, oldest first, and how many older ones were dropped."""

    changes: list[StatusChange]
    dropped: int


class StatusChanges:
    """The ``status_changes`` table, on the store's connection (the caller holds the
    transaction for writes)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def record(
        self,
        instance_id: str,
        execution_id: str,
        episode: int,
        time: str,
        custom_status: str | None,
        kept: int,
    ) -> bool:
        """Record ``custom_status`` if it differs from the last recorded one, then drop what
        passes the bound of ``kept``; True when a change was recorded."""
        row = self.db.execute(
            "SELECT sequence, custom_status FROM status_changes WHERE instance_id = ? "
            "ORDER BY sequence DESC LIMIT 1",
            (instance_id,),
        ).fetchone()
        sequence = next_change(LastChange(*row) if row else None, custom_status)
        if sequence is None:
            return False
        self.db.execute(
            "INSERT INTO status_changes (instance_id, sequence, time, execution_id, episode, "
            "custom_status) VALUES (?, ?, ?, ?, ?, ?)",
            (instance_id, sequence, time, execution_id, episode, custom_status),
        )
        oldest = oldest_kept(sequence, kept)
        if oldest > 1:
            self.db.execute(
                "DELETE FROM status_changes WHERE instance_id = ? AND sequence < ?",
                (instance_id, oldest),
            )
        return True

    def timeline(self, instance_id: str) -> Timeline:
        """Every kept change of the instance, oldest first."""
        rows = self.db.execute(
            "SELECT sequence, time, execution_id, episode, custom_status FROM status_changes "
            "WHERE instance_id = ? ORDER BY sequence",
            (instance_id,),
        ).fetchall()
        changes = [StatusChange(*row) for row in rows]
        return Timeline(changes, dropped(changes[0].sequence if changes else None))

    def summary(self, instance_id: str) -> tuple[int, int]:
        """(changes kept, newest sequence number or 0): what an instance view's ETag covers,
        without reading the statuses themselves."""
        count, newest = self.db.execute(
            "SELECT count(*), coalesce(max(sequence), 0) FROM status_changes WHERE instance_id = ?",
            (instance_id,),
        ).fetchone()
        return int(count), int(newest)
