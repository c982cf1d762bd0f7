"""The store's cache of each execution's history, which never holds what the database does not.

An episode hands the SDK the execution's whole history, each event already encoded and marked
played, so the store keeps that text in memory rather than reading and re-encoding it each
episode. The cache is the store's alone (``store.py`` writes the rows and tells the cache in the
same call), and it follows the store's transactions: every instance a transaction or savepoint
touches is noted, and when it rolls back those entries are dropped, so the next read comes from
the database again. No SQL here: the rows are ``store.py``'s.
"""

from __future__ import annotations

from collections import OrderedDict

HISTORY_CACHE_SIZE = 10_000
"""Executions whose history stays in memory (least recently used first out)."""


class HistoryCache:
    """Encoded histories by instance id, least recently used first out, rollback-aware."""

    def __init__(self, size: int = HISTORY_CACHE_SIZE) -> None:
        self._size = size
        self._played: OrderedDict[str, list[str]] = OrderedDict()
        # Instances whose cached history each open transaction level changed.
        self._touched: list[set[str]] = []

    def get(self, instance_id: str) -> list[str] | None:
        """The cached history (the caller may extend it in place, then ``put`` it), or None."""
        cached = self._played.get(instance_id)
        if cached is not None:
            self._played.move_to_end(instance_id)
        return cached

    def put(self, instance_id: str, history: list[str] | None) -> None:
        """Set (or drop, with None) the cached history, noting it for a rollback."""
        if self._touched:
            self._touched[-1].add(instance_id)
        if history is None:
            self._played.pop(instance_id, None)
            return
        self._played[instance_id] = history
        self._played.move_to_end(instance_id)
        if len(self._played) > self._size:
            self._played.popitem(last=False)

    # -- following the store's transactions -----------------------------------------------------
    def begin(self) -> None:
        """A transaction or savepoint opens."""
        self._touched.append(set())

    def rolled_back(self) -> None:
        """The innermost one rolled back: forget what it touched."""
        for instance_id in self._touched.pop():
            self._played.pop(instance_id, None)

    def released(self) -> None:
        """The innermost one succeeded: what it touched now belongs to the level around it (a
        savepoint's changes still go if the outer transaction rolls back)."""
        touched = self._touched.pop()
        if self._touched:
            self._touched[-1] |= touched
