"""The owner record in Azurite's data folder, and the lock under which devhosts read it.

``devhost-azurite.json`` names the Azurite running on the folder (its pid, start time and port)
and its *owner*, the devhost that stops it (pid and start time, so that a reused pid is not taken
for it). It is how a second devhost tells an Azurite whose owner still runs (use it, never stop
it) from one a killed devhost left behind (adopt it) and from something else listening (use it,
it is not devhost's). ``devhost-azurite.lock`` serialises that decision, so two devhosts starting
at once do not both start or adopt one. The decision itself is ``azurite.py``'s.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devhost.dev.processes import ProcessIdentity, process_start_time

RECORD_FILE = "devhost-azurite.json"
LOCK_FILE = "devhost-azurite.lock"


@dataclass(frozen=True)
class Record:
    """The data folder's ``devhost-azurite.json``: which Azurite runs there and which devhost
    owns it."""

    pid: int
    started: str | None
    port: int
    owner: ProcessIdentity | None


def read_record(data_dir: Path) -> Record | None:
    """The folder's record, or None when there is none or it cannot be read (then no devhost
    claims the Azurite there)."""
    try:
        value = json.loads((data_dir / RECORD_FILE).read_text(encoding="utf-8"))
        if "owner" in value:
            owner: ProcessIdentity | None = ProcessIdentity.from_json(value["owner"])
        elif "devhost_pid" in value:  # written before owners had a start time
            owner = ProcessIdentity(int(value["devhost_pid"]), None)
        else:
            owner = None
        started = value.get("started")
        return Record(
            int(value["pid"]),
            str(started) if started is not None else None,
            int(value["port"]),
            owner,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_record(data_dir: Path, pid: int, port: int) -> None:
    """Name this process the owner of Azurite ``pid`` on ``port``; written atomically, so a
    devhost reading it meanwhile sees the old record or the new one, never half of one."""
    record: dict[str, Any] = {
        "pid": pid,
        "started": process_start_time(pid),
        "port": port,
        "owner": ProcessIdentity.me().to_json(),
    }
    path = data_dir / RECORD_FILE
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record), encoding="utf-8")
    os.replace(temporary, path)


def forget_record(data_dir: Path, pid: int) -> None:
    """Remove the record if it still names Azurite ``pid`` and this owner (never another's)."""
    record = read_record(data_dir)
    if record is not None and record.pid == pid and record.owner == ProcessIdentity.me():
        remove_record(data_dir)


def remove_record(data_dir: Path) -> None:
    """Remove the record whatever it says: its Azurite is gone, so no later devhost may trust
    it."""
    with contextlib.suppress(OSError):
        (data_dir / RECORD_FILE).unlink()


def is_our_azurite(pid: int, data_dir: Path, started: str | None = None) -> bool:
    """The process still runs and is an Azurite on ``data_dir`` (its pid was not reused)."""
    if started is not None and process_start_time(pid) != started:
        return False
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return (
        any(a.endswith(b"azurite-blob") for a in arguments) and os.fsencode(data_dir) in arguments
    )


@contextlib.contextmanager
def exclusive(data_dir: Path) -> Iterator[None]:
    """Hold the data folder's lock: one devhost at a time decides whether to start, adopt or use
    the Azurite there. (No lock where ``fcntl`` does not exist.)"""
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(data_dir / LOCK_FILE, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
