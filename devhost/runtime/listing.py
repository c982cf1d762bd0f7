"""The dashboard's reading of the state file: instances filtered and paged, and the armed timers.

The durable API lists instances in instance-id order, every match at once (``Store.
query_instances``, as Azure Storage's table order). The dashboard needs the newest first, a page
at a time and quickly with 10,000 instances, so this module pages by key (created time, then
instance id, both in an index) instead of by offset, counts matches from indexes (a text in the
custom status from ``status_search.py``'s), and streams a CSV export in chunks. Read-only, on the
store's connection: nothing here writes to the state file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from devhost.protocol.runtime_status import RuntimeStatus
from devhost.runtime.status_search import Found, StatusSearch

_STATUSES = {str(status): status for status in RuntimeStatus}
"""Each stored status text's :class:`RuntimeStatus` (a dict lookup: a page builds many rows)."""
PREVIEW_CHARS = 200
"""How much of each custom status a page of the list carries (the export carries all of it)."""
_EXPORT_CHUNK = 500
FEW_MATCHES = 200
"""Matches of a text the status index names (beyond it, pages test statuses newest first: with
this many matches among 10,000 instances a full page tests at most about 2,500)."""


@dataclass(frozen=True)
class InstanceFilter:
    """Which instances to list; every field set narrows it. Times are devhost's fixed-width
    timestamp text (both ends included), ``text`` a case-insensitive substring of the custom
    status's stored JSON text."""

    statuses: tuple[RuntimeStatus, ...] = ()
    name: str | None = None
    created_from: str | None = None
    created_to: str | None = None
    prefix: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class ListedInstance:
    """One row of the list; ``custom_status`` is the JSON text, cut to a preview on a page."""

    instance_id: str
    name: str
    runtime_status: RuntimeStatus
    created_time: str
    last_updated_time: str
    custom_status: str | None

    @property
    def key(self) -> tuple[str, str]:
        """Where the next page starts after this row (newest first)."""
        return (self.created_time, self.instance_id)


@dataclass(frozen=True)
class ArmedTimer:
    """A durable timer that has not fired yet: its instance, orchestrator and fire time."""

    instance_id: str
    name: str
    fire_at: str


def _prefix_end(prefix: str) -> str | None:
    """The smallest text above every text that starts with ``prefix`` (SQLite compares UTF-8
    bytes, which order as code points do), so an index range finds them; None when there is no
    such bound."""
    while prefix:
        last = ord(prefix[-1]) + 1
        if 0xD800 <= last <= 0xDFFF:
            last = 0xE000  # surrogates cannot be stored
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return None


def _folded_contains(text: str | None, needle: str) -> bool:
    return text is not None and needle in text.lower()


def _where(filters: InstanceFilter, found: Found | None = None) -> tuple[str, list[object]]:
    """The ``WHERE`` clause for ``filters``; the text as the ids the status index ``found``,
    when it knows them, else tested on each status."""
    clauses: list[str] = []
    params: list[object] = []
    if filters.statuses:
        clauses.append(f"runtime_status IN ({','.join('?' * len(filters.statuses))})")
        params.extend(str(status) for status in filters.statuses)
    if filters.name is not None:
        clauses.append("name = ?")
        params.append(filters.name)
    if filters.created_from is not None:
        clauses.append("created_time >= ?")
        params.append(filters.created_from)
    if filters.created_to is not None:
        clauses.append("created_time <= ?")
        params.append(filters.created_to)
    if filters.prefix:
        clauses.append("instance_id >= ? AND substr(instance_id, 1, ?) = ?")
        params.extend([filters.prefix, len(filters.prefix), filters.prefix])
        end = _prefix_end(filters.prefix)
        if end is not None:
            clauses.append("instance_id < ?")
            params.append(end)
    if filters.text:
        if found is not None and found.instance_ids is not None:
            ids = found.instance_ids
            clauses.append(f"instance_id IN ({','.join('?' * len(ids))})" if ids else "0")
            params.extend(ids)
        elif filters.text.isascii():
            # LIKE folds ASCII letters, which is all an ASCII text can match case-insensitively.
            escaped = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("custom_status LIKE ? ESCAPE '\\'")
            params.append(f"%{escaped}%")
        else:
            clauses.append("devhost_folded_contains(custom_status, ?)")
            params.append(filters.text.lower())
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


class InstanceListing:
    """Filtered, newest-first pages of instances, their count and the armed timers."""

    def __init__(self, db: sqlite3.Connection, search: StatusSearch) -> None:
        self.db = db
        self.search = search
        db.create_function("devhost_folded_contains", 2, _folded_contains, deterministic=True)

    def find(
        self, filters: InstanceFilter, top: int, after: tuple[str, str] | None = None
    ) -> tuple[list[ListedInstance], int]:
        """At most ``top`` matches, newest first (created time, then instance id, descending),
        starting after the row whose key is ``after``, statuses cut to ``PREVIEW_CHARS``; and
        how many instances match in all."""
        found = self._search(filters)
        rows = self._rows(filters, found, top, after, f"substr(custom_status, 1, {PREVIEW_CHARS})")
        if found is not None and filters == InstanceFilter(text=filters.text):
            return rows, found.count  # a text alone: the index has counted it
        where, params = _where(filters, found)
        (total,) = self.db.execute(f"SELECT count(*) FROM instances {where}", params).fetchone()
        return rows, int(total)

    def every(self, filters: InstanceFilter) -> Iterator[ListedInstance]:
        """Every match, newest first, with its whole custom status, read a chunk at a time so an
        export of many instances never holds them all."""
        found = self._search(filters)
        after: tuple[str, str] | None = None
        while True:
            rows = self._rows(filters, found, _EXPORT_CHUNK, after, "custom_status")
            yield from rows
            if len(rows) < _EXPORT_CHUNK:
                return
            after = rows[-1].key

    def _search(self, filters: InstanceFilter) -> Found | None:
        """What the status index knows of the filter's text (None: it is tested on each
        status). Its matches are named when there are so few that reading them beats testing
        statuses newest first until a page is full."""
        return self.search.lookup(filters.text, FEW_MATCHES) if filters.text else None

    def _rows(
        self,
        filters: InstanceFilter,
        found: Found | None,
        top: int,
        after: tuple[str, str] | None,
        status_column: str,
    ) -> list[ListedInstance]:
        where, params = _where(filters, found)
        if after is not None:
            where = f"{where} AND" if where else "WHERE"
            where += " (created_time, instance_id) < (?, ?)"
            params.extend(after)
        # With the matches named, read them by id and sort them (``+``: not along the created
        # index, which would test every instance newest first against the list).
        by = "+" if found is not None and found.instance_ids is not None else ""
        rows = self.db.execute(
            "SELECT instance_id, name, runtime_status, created_time, last_updated_time, "
            f"{status_column} FROM instances {where} "
            f"ORDER BY {by}created_time DESC, {by}instance_id DESC LIMIT ?",
            [*params, top],
        ).fetchall()
        statuses = _STATUSES
        return [
            ListedInstance(row[0], row[1], statuses[row[2]], row[3], row[4], row[5]) for row in rows
        ]

    def armed_timers(self, after: str, limit: int) -> list[ArmedTimer]:
        """The next ``limit`` timers due after ``after`` (devhost's timestamp text), soonest
        first: each is its ``TimerFired`` message, visible from its fire time on."""
        rows = self.db.execute(
            "SELECT inbox.instance_id, instances.name, inbox.visible_at FROM inbox "
            "JOIN instances ON instances.instance_id = inbox.instance_id "
            "WHERE inbox.visible_at IS NOT NULL AND inbox.visible_at > ? "
            "ORDER BY inbox.visible_at, inbox.id LIMIT ?",
            (after, limit),
        ).fetchall()
        return [ArmedTimer(*row) for row in rows]
