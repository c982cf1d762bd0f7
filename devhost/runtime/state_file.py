"""The state file: created private, owned by one devhost at a time, checked before use.

One host process owns a state file at a time: an exclusive ``flock`` on the database file itself
(not on a lock file beside it, which a hard link or a deleted lock file would get around), which
the OS releases if the process dies, so a restarted host takes over at once. Opening refuses, with
one line saying what to do, a file that is empty, not SQLite, damaged (``PRAGMA quick_check``),
another program's database, missing any of devhost's tables, columns or indexes, or written with
a newer schema; the checks read the file without changing it (its journal mode included).
"""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
from pathlib import Path

from devhost.core.errors import StateFileLocked, StateFileUnusable

_TABLES = """
CREATE TABLE IF NOT EXISTS instances (
    instance_id        TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    execution_id       TEXT NOT NULL,
    runtime_status     TEXT NOT NULL,
    input              TEXT,
    output             TEXT,
    custom_status      TEXT,
    created_time       TEXT NOT NULL,
    last_updated_time  TEXT NOT NULL,
    parent_instance_id TEXT,
    parent_execution_id TEXT,
    parent_task_id     INTEGER,
    engine_state       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL,
    position    INTEGER NOT NULL,
    event       TEXT NOT NULL,
    PRIMARY KEY (instance_id, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id  TEXT NOT NULL,
    execution_id TEXT,
    event        TEXT NOT NULL,
    visible_at   TEXT
);
CREATE INDEX IF NOT EXISTS inbox_by_instance ON inbox (instance_id, id);
CREATE INDEX IF NOT EXISTS inbox_timers ON inbox (visible_at) WHERE visible_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS activities (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id  TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id      INTEGER NOT NULL,
    name         TEXT NOT NULL,
    input        TEXT
);
CREATE INDEX IF NOT EXISTS activities_by_instance ON activities (instance_id);
"""

_VERSION_2_INDEXES = """
CREATE INDEX IF NOT EXISTS instances_by_created ON instances (created_time);
CREATE INDEX IF NOT EXISTS instances_by_status ON instances (runtime_status);
"""

_VERSION_3 = """
CREATE INDEX IF NOT EXISTS instances_by_created_id ON instances (created_time, instance_id);
CREATE INDEX IF NOT EXISTS instances_by_status_created
    ON instances (runtime_status, created_time, instance_id);
CREATE INDEX IF NOT EXISTS instances_by_name_created
    ON instances (name, created_time, instance_id);
CREATE TABLE IF NOT EXISTS status_changes (
    instance_id   TEXT NOT NULL,
    sequence      INTEGER NOT NULL,
    time          TEXT NOT NULL,
    execution_id  TEXT NOT NULL,
    episode       INTEGER NOT NULL,
    custom_status TEXT,
    PRIMARY KEY (instance_id, sequence)
);
"""

SCHEMA = _TABLES + _VERSION_3
"""The tables and indexes of a state file this devhost writes (schema version 3)."""

SCHEMA_VERSION = 3
"""``PRAGMA user_version`` of the state files this devhost writes. Version 1 (devhost before
versions were recorded: ``user_version`` 0 with our tables) has version 2's tables. Version 3
adds the custom-status timeline (``status_changes``) and indexes the dashboard lists instances
by (newest first, by status, by name), in place of version 2's two instance indexes; older files
are checked against their own version's tables, then upgraded in one transaction
(:data:`UPGRADE_TO_3`)."""

UPGRADE_TO_3 = """
DROP INDEX IF EXISTS instances_by_created;
DROP INDEX IF EXISTS instances_by_status;
"""
"""What turns a version 1 or 2 file into a version 3 one, before :data:`SCHEMA` adds the rest
(their two instance indexes are prefixes of version 3's, which replace them)."""

SCHEMAS = {2: _TABLES + _VERSION_2_INDEXES, SCHEMA_VERSION: SCHEMA}
"""Each schema version's tables and indexes, for checking a file before it is upgraded."""

SQLITE_HEADER = b"SQLite format 3\x00"


def open_locked(path: Path) -> int:
    """Create (0600) or open the state file and hold an exclusive ``flock`` on it.

    A path the system cannot open as a file (a directory, a loop of links, a folder that is a
    file) is a :class:`StateFileUnusable` naming the path and the reason in words, not an
    ``OSError`` that the CLI would take for the port failing."""
    try:
        return _open_locked(path)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else "it cannot be opened"
        raise StateFileUnusable(
            f"the state file {path} cannot be used as a file ({reason.lower()}): "
            "pass another --state (or --in-memory)."
        ) from None


def _open_locked(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size == 0:
        raise StateFileUnusable(
            f"the state file {path} is empty (0 bytes), so it holds no devhost state: "
            "delete it, or pass another --state."
        )
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StateFileLocked(
            f"the state file {path} is in use by another devhost process: stop that one, "
            "or pass another --state (or --in-memory)."
        ) from None
    header = os.pread(fd, len(SQLITE_HEADER), 0)
    if header and header != SQLITE_HEADER:
        os.close(fd)
        raise StateFileUnusable(
            f"the state file {path} is not a SQLite database: pass another --state "
            "(devhost never overwrites a file it did not write)."
        )
    return fd


def open_database(path: Path) -> sqlite3.Connection:
    """Check the file (read-only, so a refused file is left exactly as it was), then connect,
    switch to WAL and create the tables of a new file."""
    check_state_file(path)
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL survives a killed process (only an OS crash can lose the last commits).
        db.execute("PRAGMA synchronous=NORMAL")
        # No automatic checkpoint inside a COMMIT: it would land on whichever episode happens to
        # cross 1,000 WAL pages (a 5-9 ms outlier in wake latency). The engine calls checkpoint()
        # when it goes idle, and every CHECKPOINT_EVERY commits under load.
        db.execute("PRAGMA wal_autocheckpoint=0")
        _create_or_upgrade(db)
    except sqlite3.DatabaseError as error:
        db.close()
        raise _unreadable(path, error) from None
    except BaseException:
        db.close()
        raise
    return db


def _create_or_upgrade(db: sqlite3.Connection) -> None:
    """Create a new file's tables, or bring a checked older file to :data:`SCHEMA_VERSION`, in
    one transaction: a devhost stopped halfway leaves the file as it was."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    upgrade = UPGRADE_TO_3 if version < SCHEMA_VERSION else ""
    db.executescript(
        f"BEGIN IMMEDIATE;\n{upgrade}{SCHEMA}\nPRAGMA user_version={SCHEMA_VERSION};\nCOMMIT;"
    )


def check_state_file(path: Path) -> None:
    """Refuse a file that is damaged (``quick_check``), newer, another program's database, or
    a devhost file whose tables, columns or indexes are not all devhost's (a dropped ``history``
    table once passed ``quick_check`` and lost every instance's history). Read-only: nothing in
    the file changes, its journal mode included, until it has passed."""
    # Without a -wal file everything is in the file itself: immutable=1 then reads it without
    # creating -wal/-shm files beside it. With one (a devhost that was killed), SQLite must read
    # it, and the files are there already.
    wal = Path(f"{path}-wal").exists()
    uri = f"{Path(path).absolute().as_uri()}?mode=ro" + ("" if wal else "&immutable=1")
    db = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            first = (problems[0].splitlines() or ["?"])[0].strip()
            raise StateFileUnusable(
                f"the state file {path} is damaged (PRAGMA quick_check: {first[:200]}): move it "
                "away and start again, or pass another --state."
            )
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StateFileUnusable(
                f"the state file {path} was written by a newer devhost (schema {version}; this "
                f"one reads up to {SCHEMA_VERSION}): use that devhost, or pass another --state."
            )
        shape = schema_shape(db)
        if not shape:
            return  # a new file: the tables are created next
        if not shape.keys() & expected_shape(SCHEMA_VERSION).keys():
            raise StateFileUnusable(
                f"the state file {path} is a SQLite database that devhost did not write: "
                "pass another --state (devhost never overwrites a file it did not write)."
            )
        problem = schema_problem(shape, version)
        if problem is not None:
            raise StateFileUnusable(
                f"the state file {path} does not have devhost's tables ({problem}): it was "
                "changed outside devhost, or is another program's database. Move it away and "
                "start again, or pass another --state."
            )
    except sqlite3.DatabaseError as error:
        raise _unreadable(path, error) from None
    finally:
        db.close()


def _unreadable(path: Path, error: sqlite3.DatabaseError) -> StateFileUnusable:
    reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    return StateFileUnusable(
        f"the state file {path} cannot be read as a database (SQLite: {reason}): move it away, "
        "or pass another --state."
    )


Shape = dict[str, tuple[tuple[object, ...], ...]]


def schema_shape(db: sqlite3.Connection) -> Shape:
    """Each table's columns and indexes (with their columns), as SQLite describes them."""
    shape: Shape = {}
    tables = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    for (table,) in tables:
        columns = [row[1:] for row in db.execute("SELECT * FROM pragma_table_xinfo(?)", (table,))]
        indexes = []
        for _, name, unique, origin, partial in db.execute(
            "SELECT * FROM pragma_index_list(?)", (table,)
        ):
            keys = db.execute("SELECT * FROM pragma_index_xinfo(?)", (name,)).fetchall()
            where = db.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
            ).fetchone()
            condition = " ".join(where[0].split()) if where and where[0] and partial else ""
            indexes.append((name, unique, origin, condition, tuple(keys)))
        shape[table] = (tuple(columns), tuple(sorted(indexes)))
    return shape


@functools.cache
def expected_shape(version: int = SCHEMA_VERSION) -> Shape:
    """The tables and indexes of a file of schema ``version`` (0 and 1: version 2's)."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMAS[max(version, 2)])
        return schema_shape(db)
    finally:
        db.close()


def schema_problem(shape: Shape, version: int = SCHEMA_VERSION) -> str | None:
    """The first way ``shape`` differs from devhost's tables of schema ``version``, or None
    (extra tables are fine)."""
    for table, (columns, indexes) in expected_shape(version).items():
        if table not in shape:
            return f"table {table} is missing"
        if shape[table][0] != columns:
            return f"table {table} has other columns"
        if shape[table][1] != indexes:
            return f"table {table} has other indexes"
    return None
