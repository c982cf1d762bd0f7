"""An index of every instance's custom status for the dashboard's text search, built when first
searched and kept current without slowing the engine.

The dashboard's list answers a text filter with a page and the number of all matches. The page
stops after a page's worth of matches (``listing.py`` walks instances newest first), but counting
them has to look at every status: about 3 ms at 10,000 instances, growing with the state file.
A trigram index (SQLite's FTS5 ``trigram`` tokenizer: any substring of three characters or more,
case-insensitive) counts them from its posting lists instead, in a fraction of that, and names
them when they are few, so that a rare text's page need not test every status either. The engine
never waits for it: it lives in a temporary database attached to the store's connection (no
schema in the state file, nothing written by an episode), is built on the first search, and the
store only notes which instances it wrote since (``changed``), which the next search indexes
again before it counts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SCHEMA_NAME = "status_search"
REBUILD_AFTER = 2_000
"""Instances written since the last search beyond which indexing every status again in one
statement is quicker than indexing each of them again."""


@dataclass(frozen=True)
class Found:
    """How many instances a text matches, and their ids when there are few."""

    count: int
    instance_ids: list[str] | None


class StatusSearch:
    """Counts the instances whose custom status contains a text, from a trigram index."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._built = False
        self._stale: set[str] = set()

    def changed(self, instance_id: str) -> None:
        """The instance was written (or deleted): index its status again before the next count."""
        if self._built:
            self._stale.add(instance_id)

    def lookup(self, text: str, few: int) -> Found | None:
        """How many instances have a custom status containing ``text`` (ASCII letters in any
        case), and which, when they are ``few`` or fewer; None when the index cannot say: a text
        under three characters has no trigram, and one that is not ASCII is matched as Python
        folds case (``listing.py``)."""
        if len(text) < 3 or not text.isascii() or self.db.in_transaction:
            return None  # (an open transaction is the engine's: never written into)
        self._refresh()
        phrase = '"' + text.replace('"', '""') + '"'  # an FTS5 string: every character literal
        (count,) = self.db.execute(
            f"SELECT count(*) FROM {SCHEMA_NAME}.statuses WHERE statuses MATCH ?", (phrase,)
        ).fetchone()
        if count > few:
            return Found(int(count), None)
        rows = self.db.execute(
            f"SELECT instance_id FROM {SCHEMA_NAME}.docs WHERE docid IN "
            f"(SELECT rowid FROM {SCHEMA_NAME}.statuses WHERE statuses MATCH ?)",
            (phrase,),
        ).fetchall()
        return Found(int(count), [row[0] for row in rows])

    def _refresh(self) -> None:
        if not self._built or len(self._stale) > REBUILD_AFTER:
            self._build()
        elif self._stale:
            with self._writing():
                for instance_id in self._stale:
                    self._reindex(instance_id)
        self._stale.clear()

    def _build(self) -> None:
        attached = [row[1] for row in self.db.execute("PRAGMA database_list")]
        if SCHEMA_NAME not in attached:
            self.db.execute(f"ATTACH DATABASE '' AS {SCHEMA_NAME}")  # a private temporary file
        with self._writing():
            self.db.execute(f"DROP TABLE IF EXISTS {SCHEMA_NAME}.docs")
            self.db.execute(f"DROP TABLE IF EXISTS {SCHEMA_NAME}.statuses")
            self.db.execute(
                f"CREATE TABLE {SCHEMA_NAME}.docs "
                "(docid INTEGER PRIMARY KEY, instance_id TEXT NOT NULL UNIQUE)"
            )
            self.db.execute(
                f"CREATE VIRTUAL TABLE {SCHEMA_NAME}.statuses USING fts5"
                "(status, tokenize = 'trigram', detail = 'full')"
            )
            self.db.execute(
                f"INSERT INTO {SCHEMA_NAME}.docs (instance_id) "
                "SELECT instance_id FROM main.instances WHERE custom_status IS NOT NULL"
            )
            self.db.execute(
                f"INSERT INTO {SCHEMA_NAME}.statuses (rowid, status) "
                f"SELECT docs.docid, instances.custom_status FROM {SCHEMA_NAME}.docs AS docs "
                "JOIN main.instances AS instances ON instances.instance_id = docs.instance_id"
            )
        self._built = True

    def _reindex(self, instance_id: str) -> None:
        old = self.db.execute(
            f"SELECT docid FROM {SCHEMA_NAME}.docs WHERE instance_id = ?", (instance_id,)
        ).fetchone()
        if old is not None:
            self.db.execute(f"DELETE FROM {SCHEMA_NAME}.statuses WHERE rowid = ?", old)
            self.db.execute(f"DELETE FROM {SCHEMA_NAME}.docs WHERE docid = ?", old)
        row = self.db.execute(
            "SELECT custom_status FROM main.instances WHERE instance_id = ?", (instance_id,)
        ).fetchone()
        if row is None or row[0] is None:
            return
        docid = self.db.execute(
            f"INSERT INTO {SCHEMA_NAME}.docs (instance_id) VALUES (?)", (instance_id,)
        ).lastrowid
        self.db.execute(
            f"INSERT INTO {SCHEMA_NAME}.statuses (rowid, status) VALUES (?, ?)", (docid, row[0])
        )

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction for the index's writes (``count`` runs only when none is open)."""
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
