"""Azurite for ``UseDevelopmentStorage=true``: find it, start it, adopt it, or leave it be.

This module is the front door the host uses (``ensure_for_settings``, ``watch``) and the place
where the rule below is applied; one Azurite process is ``azurite_process.py``'s, the record of
its owner ``azurite_record.py``'s, the restart after an unexpected exit ``azurite_watch.py``'s,
and telling processes apart ``processes.py``'s.

**devhost stops only an Azurite it owns.** Each Azurite devhost starts is recorded in
``devhost-azurite.json`` in its data folder: Azurite's pid and port, and its *owner*, the devhost
that started it (pid and process start time, so that a reused pid is not taken for it). Another
devhost that finds Azurite listening reads that record:

* the owner still runs: the Azurite is **used, never stopped** (a second devhost on the same app,
  even one that then fails to bind its HTTP port, leaves the first one its storage);
* the owner is gone (killed with SIGKILL, so it could not stop its Azurite) and the recorded
  process is still that Azurite: it is **adopted** (recorded under the new owner, stopped at exit
  like one it started) and announced in one WARNING line;
* no record, or a stale one: something else listens (the developer's own Azurite, the VS Code
  extension) and is used and left running, said in one INFO line.

The choice is made under an exclusive lock on ``devhost-azurite.lock`` in the data folder, so two
devhosts starting at once do not both start (or adopt) one.

**An Azurite devhost owns and that exits unexpectedly is restarted** by ``watch()`` (an asyncio
task the host runs while it serves): same port, same data folder, one WARNING line.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from devhost.dev.azurite_process import (
    DEFAULT_BLOB_PORT,
    DEV_ACCOUNT_KEY,
    DEV_ACCOUNT_NAME,
    LOCALHOST,
    Azurite,
    AzuriteError,
    azurite_binary,
    connection_string,
    free_port,
    is_listening,
)
from devhost.dev.azurite_record import (
    RECORD_FILE,
    exclusive,
    is_our_azurite,
    read_record,
    remove_record,
)
from devhost.dev.processes import ProcessIdentity, process_start_time

# The names the host and the tests import from here, wherever they are defined.
__all__ = [
    "DEFAULT_BLOB_PORT",
    "DEV_ACCOUNT_KEY",
    "DEV_ACCOUNT_NAME",
    "LOCALHOST",
    "RECORD_FILE",
    "Azurite",
    "AzuriteError",
    "ProcessIdentity",
    "azurite_binary",
    "connection_string",
    "ensure_for_settings",
    "free_port",
    "is_listening",
    "process_start_time",
    "uses_development_storage",
    "watch",
]

log = logging.getLogger("devhost.dev.azurite")


def uses_development_storage(value: str | None) -> bool:
    """True for a connection string such as ``UseDevelopmentStorage=true`` (any case, any ``;``)."""
    if not value:
        return False
    for part in value.split(";"):
        key, _, setting = part.partition("=")
        if key.strip().lower() == "usedevelopmentstorage":
            return setting.strip().lower() == "true"
    return False


def ensure_for_settings(
    settings: dict[str, object],
    data_dir: str | os.PathLike[str],
    *,
    port: int = DEFAULT_BLOB_PORT,
) -> Azurite | None:
    """Start Azurite on 127.0.0.1:10000 when the app asks for development storage and none runs.

    ``settings`` are the app settings (the ``Values`` of ``local.settings.json``; the whole file's
    dict is accepted too). Returns the ``Azurite`` this process now owns (the caller stops it, and
    may ``watch`` it): one it started, or one whose devhost is gone, adopted. Returns ``None``
    when the app uses real storage or something else already serves the port: the developer's own
    emulator, or an Azurite a devhost that still runs started, which only that devhost stops.
    ``port`` is for tests: the app's ``UseDevelopmentStorage=true`` always means port 10000.
    """
    values = settings.get("Values") if isinstance(settings.get("Values"), dict) else settings
    storage = values.get("AzureWebJobsStorage")  # type: ignore[union-attr]
    if not isinstance(storage, str) or not uses_development_storage(storage):
        return None
    data = Path(data_dir)
    with exclusive(data):
        if is_listening(LOCALHOST, port):
            return _already_listening(data, port)
        started = Azurite(data, port=port, host=LOCALHOST).start()
        started.record_ownership()
    log.info("Started Azurite for UseDevelopmentStorage=true: %r", started)
    return started


def _already_listening(data_dir: Path, port: int) -> Azurite | None:
    """Decide about the Azurite already on ``port``: adopt it if its owner is gone (returned),
    else use it and leave it alone (None). Says which in one log line."""
    record = read_record(data_dir)
    running = record is not None and is_our_azurite(record.pid, data_dir, record.started)
    if record is not None and not running:
        remove_record(data_dir)  # stale: that Azurite is gone
    if record is None or not running or record.port != port:
        log.info(
            "Using the storage emulator already listening on %s:%s (not started by devhost; "
            "left running at exit).",
            LOCALHOST,
            port,
        )
        return None
    if record.owner is not None and record.owner.alive():
        log.info(
            "Using Azurite (pid %s) on %s:%s, started by devhost (pid %s), which still runs: "
            "it stops with that devhost, not this one.",
            record.pid,
            LOCALHOST,
            port,
            record.owner.pid,
        )
        return None
    adopted = Azurite.adopt(data_dir, record.pid, port)
    adopted.record_ownership()
    log.warning(
        "Adopted Azurite (pid %s) on %s:%s, left running by a devhost that did not stop "
        "cleanly; it stops with this devhost.",
        record.pid,
        LOCALHOST,
        port,
    )
    return adopted


async def watch(azurite: object, *, on_restart: Callable[[Azurite], object] | None = None) -> None:
    """Restart ``azurite`` whenever its process exits unexpectedly (``Azurite.watch``), until it
    is stopped. Returns at once for ``None`` (``ensure_for_settings`` found an Azurite this devhost
    does not own), for an ``Azurite`` this object does not run, and for anything else. Run it as
    a task beside the server; cancel it (or just ``stop()`` the Azurite) at shut-down."""
    if isinstance(azurite, Azurite):
        await azurite.watch(on_restart=on_restart)
