"""The state file: owned by one host at a time (however it is reached), created private, and
never silently replaced when it is empty, foreign or damaged. The CLI reports each case in one
line and exits non-zero."""

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from devhost.core.errors import StateFileLocked, StateFileUnusable
from devhost.runtime.state_file import SCHEMA_VERSION, SCHEMAS, schema_problem, schema_shape
from devhost.runtime.store import Store
from tests.support.devhost_process import ROOT, DevhostProcess

from .conftest import PATTERNS_APP


def test_a_new_state_file_is_private_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    Store(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_hard_link_to_a_state_file_in_use_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = Store(path)
    try:
        os.link(path, tmp_path / "alias.sqlite")
        with pytest.raises(StateFileLocked):
            Store(tmp_path / "alias.sqlite")
        with pytest.raises(StateFileLocked):
            Store(path)
    finally:
        first.close()
    Store(tmp_path / "alias.sqlite").close()  # free again once the first host is gone


def test_deleting_files_beside_the_state_file_does_not_unlock_it(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = Store(path)
    try:
        for other in tmp_path.iterdir():
            if other != path:
                other.unlink()
        with pytest.raises(StateFileLocked):
            Store(path)
    finally:
        first.close()


def make_damaged(path: Path) -> None:
    """A real devhost state file with a torn page in the middle of its instances table."""
    store = Store(path)
    with store.transaction():
        for n in range(2000):
            store.db.execute(
                "INSERT INTO history (instance_id, position, event) VALUES (?, ?, ?)",
                (f"i{n}", 0, "x" * 200),
            )
    store.checkpoint()
    (root,) = store.db.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'history'"
    ).fetchone()
    store.close()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    data = bytearray(path.read_bytes())
    page = 4096
    # The history table's root page, wherever the schema's other tables put it: quick_check
    # reports it (a torn page SQLite needs to read the schema would fail before any check).
    start = page * (root - 1)
    data[start : start + 200] = os.urandom(200)
    path.write_bytes(bytes(data))


def make_newer(path: Path) -> None:
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()  # closed, so its -wal and -shm files are gone again


def make_foreign(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER)")


def make_foreign_versioned(path: Path) -> None:
    """Another program's database that, like many, sets user_version (once switched to WAL and
    given devhost's tables in place)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER)")
        db.execute("PRAGMA user_version=1")


def make_look_alike(path: Path) -> None:
    """Another program's tables under devhost's names (once switched to WAL before refusal)."""
    with sqlite3.connect(path) as db:
        for table in ("instances", "history", "inbox", "activities"):
            db.execute(f"CREATE TABLE {table} (x)")


def altered(*statements: str) -> Callable[[Path], None]:
    """A devhost state file holding instances and their histories, then changed outside devhost."""

    def make(path: Path) -> None:
        store = Store(path)
        with store.transaction():
            for n in range(120):
                store.db.execute(
                    "INSERT INTO instances VALUES (?, 'X', 'e', 'Running', NULL, NULL, NULL, "
                    "'t', 't', NULL, NULL, NULL, '{}')",
                    (f"i{n}",),
                )
                store.db.execute("INSERT INTO history VALUES (?, 0, '{}')", (f"i{n}",))
        store.close()
        db = sqlite3.connect(path)
        for statement in statements:
            db.execute(statement)
        db.commit()
        db.close()

    return make


UNUSABLE = {
    "empty": (lambda p: p.write_bytes(b""), "is empty (0 bytes)"),
    "not sqlite": (lambda p: p.write_text("hello, I am a text file\n"), "is not a SQLite database"),
    "damaged": (make_damaged, "damaged"),
    "newer schema": (make_newer, "written by a newer devhost"),
    "another app's database": (make_foreign, "devhost did not write"),
    "another app's database with a user_version": (make_foreign_versioned, "did not write"),
    "another app's tables under devhost's names": (make_look_alike, "instances has other columns"),
    "history table dropped": (altered("DROP TABLE history"), "(table history is missing)"),
    "a column dropped": (
        altered("ALTER TABLE instances DROP COLUMN custom_status"),
        "(table instances has other columns)",
    ),
    "an index dropped": (altered("DROP INDEX inbox_timers"), "(table inbox has other indexes)"),
}


@pytest.mark.parametrize("case", UNUSABLE, ids=list(UNUSABLE))
def test_an_unusable_state_file_is_reported_and_left_as_it_was(tmp_path: Path, case: str) -> None:
    make, words = UNUSABLE[case]
    path = tmp_path / "state.sqlite"
    make(path)
    before = path.read_bytes()
    with pytest.raises(StateFileUnusable) as raised:
        Store(path)
    assert words in str(raised.value) and str(path) in str(raised.value)
    assert path.read_bytes() == before  # its journal mode (header bytes 18-19) included
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.sqlite"]


def old_state_file(path: Path, version: int) -> None:
    """A state file as devhost wrote it at schema ``version`` (1: no version recorded), holding
    a Running instance with a custom status and one history event."""
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMAS[2])
        db.execute(
            "INSERT INTO instances VALUES ('kept', 'X', 'e1', 'Running', NULL, NULL, '\"old\"', "
            "'2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:01.000000Z', NULL, NULL, NULL, "
            '\'{"next_seq":0,"known_top":0,"pending":{}}\')'
        )
        db.execute("INSERT INTO history (instance_id, position, event) VALUES ('kept', 0, '{}')")
        db.execute(f"PRAGMA user_version={0 if version == 1 else version}")
    db.close()


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_state_file_is_upgraded_in_place(tmp_path: Path, version: int) -> None:
    """Version 1 (no version recorded) and 2 have the same tables; version 3 adds the status
    timeline and the dashboard's instance indexes, and drops the two they replace."""
    path = tmp_path / "state.sqlite"
    old_state_file(path, version)
    store = Store(path)
    try:
        assert store.load_history("kept") == [{}]
        kept = store.get_instance("kept")
        assert kept is not None and kept.custom_status == '"old"'
        assert kept.state.episodes is None  # counted from its history when first needed
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert schema_problem(schema_shape(store.db)) is None
        assert store.db.execute("SELECT count(*) FROM status_changes").fetchone() == (0,)
    finally:
        store.close()
    Store(path).close()  # and the upgraded file passes the checks of the next start


def test_an_older_state_file_with_another_programs_changes_is_refused(tmp_path: Path) -> None:
    """An older file is checked against its own version's tables before anything changes."""
    path = tmp_path / "state.sqlite"
    old_state_file(path, 2)
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX instances_by_status")
    db.close()
    before = path.read_bytes()
    with pytest.raises(StateFileUnusable, match="table instances has other indexes"):
        Store(path)
    assert path.read_bytes() == before


def test_a_state_file_left_by_a_killed_devhost_opens_with_its_last_commits(
    tmp_path: Path,
) -> None:
    """Its -wal file holds the last commits: the read-only check must read them too."""
    path = tmp_path / "state.sqlite"
    script = (
        "import os, sys; from pathlib import Path; from devhost.runtime.store import Store\n"
        "store = Store(Path(sys.argv[1]))\n"
        "with store.transaction():\n"
        "    store.db.execute(\"INSERT INTO history VALUES ('kept', 0, '{}')\")\n"
        "os._exit(0)  # no close, no checkpoint: as after SIGKILL\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT, check=True, timeout=60)
    assert Path(f"{path}-wal").stat().st_size > 0
    store = Store(path)
    try:
        assert store.load_history("kept") == [{}]
    finally:
        store.close()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devhost", "--app-dir", str(PATTERNS_APP), "--port", "0",
         "--no-azurite", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("case", ["empty", "not sqlite", "damaged"])
def test_the_cli_names_an_unusable_state_file_in_one_line(tmp_path: Path, case: str) -> None:
    make, words = UNUSABLE[case]
    path = tmp_path / "state.sqlite"
    make(path)
    result = run_cli("--state", str(path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("devhost: the state file ") and words in lines[0]


def test_a_second_devhost_on_the_same_state_file_says_so_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = DevhostProcess(PATTERNS_APP, path, extra_args=("--no-azurite",)).start()
    try:
        result = run_cli("--state", str(path))
    finally:
        assert first.stop() == 0
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"devhost: the state file {path} is in use by another devhost process: stop that one, "
        "or pass another --state (or --in-memory)."
    ]


@pytest.mark.parametrize("kind", ["directory", "under a file", "link loop"])
def test_a_state_path_that_cannot_be_a_file_is_named_not_blamed_on_the_port(
    tmp_path: Path, kind: str
) -> None:
    """A probe found these refused as 'cannot listen on 127.0.0.1:0: [Errno 21] ...'."""
    if kind == "directory":
        state = tmp_path / "dir.sqlite"
        state.mkdir()
    elif kind == "under a file":
        (tmp_path / "afile").write_text("x")
        state = tmp_path / "afile" / "state.sqlite"
    else:
        state = tmp_path / "loop.sqlite"
        state.symlink_to(tmp_path / "loop2.sqlite")
        (tmp_path / "loop2.sqlite").symlink_to(state)
    done = subprocess.run(
        [sys.executable, "-m", "devhost", "--app-dir", str(PATTERNS_APP), "--port", "0",
         "--state", str(state), "--no-azurite"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    [line] = [text for text in done.stderr.splitlines() if text.startswith("devhost:")]
    assert line.startswith(f"devhost: the state file {state} cannot be used as a file (")
    assert "cannot listen" not in line and "Errno" not in line
