"""devhost stops only the Azurite it owns.

An Azurite is recorded in its data folder with its owner, the devhost that started it (pid and
process start time). A second devhost on the same data folder, including one that then fails to
bind its HTTP port and exits, uses that Azurite and never stops it while the owner runs. An
Azurite whose devhost was SIGKILLed keeps running and holds the port; the next devhost adopts it
(and stops it at exit) and says so in one log line, rather than silently reusing it.

The devhosts here are small processes that call ``devhost.dev.azurite`` as devhost does
(``ensure_for_settings`` at start-up, ``stop()`` on what it returned at exit): the app's
``UseDevelopmentStorage=true`` means port 10000, which these tests must not take.
"""

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.dev.azurite import (
    RECORD_FILE,
    ensure_for_settings,
    free_port,
    is_listening,
    process_start_time,
)
from devhost.dev.azurite import connection_string as azurite_connection_string
from tests.support.azurite import read_blob, write_blob
from tests.support.devhost_process import ROOT

DEV_STORAGE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}

# A stand-in for devhost: starts (or finds) Azurite as devhost does, prints its pid (or "none"),
# then runs until its stdin closes and exits normally, stopping what it owns as devhost does.
OWNER = """
import sys
from devhost.dev.azurite import ensure_for_settings
azurite = ensure_for_settings({"AzureWebJobsStorage": "UseDevelopmentStorage=true"},
                              sys.argv[1], port=int(sys.argv[2]))
print(azurite.pid if azurite is not None else "none", flush=True)
sys.stdin.read()
if azurite is not None:
    azurite.stop()
"""

# A second devhost whose HTTP port is taken: it has found Azurite, fails to bind, stops what it
# got (as devhost's clean-up does) and exits 1, running its atexit handlers.
FAILS_TO_BIND = """
import socket, sys
from devhost.dev.azurite import ensure_for_settings
azurite = ensure_for_settings({"AzureWebJobsStorage": "UseDevelopmentStorage=true"},
                              sys.argv[1], port=int(sys.argv[2]))
print(azurite.pid if azurite is not None else "none", flush=True)
taken = socket.socket()
taken.bind(("127.0.0.1", 0))
taken.listen()
try:
    socket.socket().bind(("127.0.0.1", taken.getsockname()[1]))
except OSError as error:
    print("could not bind:", error.strerror, flush=True)
    if azurite is not None:
        azurite.stop()
    sys.exit(1)
"""


def spawn(script: str, data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    """Run a stand-in devhost; returns it and the first line it printed (Azurite's pid)."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir), str(port)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Close its stdin (a stand-in owner then exits normally); its exit code and the rest of
    its output."""
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()
    output = process.stdout.read()  # not communicate(): it would skip what readline buffered
    return process.wait(timeout=60), output


def start_then_kill_the_starter(data_dir: Path, port: int) -> int:
    """Start Azurite from a stand-in devhost, SIGKILL that process, return Azurite's pid."""
    starter, pid = spawn(OWNER, data_dir, port)
    starter.send_signal(signal.SIGKILL)
    starter.wait(timeout=30)
    return int(pid)


def record(data_dir: Path) -> dict:
    return json.loads((data_dir / RECORD_FILE).read_text())


@pytest.fixture
def azurite_pids() -> Iterator[list[int]]:
    """Azurite pids a test started through a stand-in; any still running is killed at the end."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def test_a_second_devhost_that_fails_to_bind_leaves_the_first_its_azurite(
    tmp_path: Path, azurite_pids: list[int]
) -> None:
    port = free_port()
    owner, pid = spawn(OWNER, tmp_path, port)
    azurite_pids.append(int(pid))
    storage = azurite_connection_string(port)
    write_blob(storage, "first", "before.txt", b"written by the first devhost's app")

    second, found = spawn(FAILS_TO_BIND, tmp_path, port)
    code, output = finish(second)
    assert (found, code) == ("none", 1), output  # it used the Azurite, owned nothing
    assert "could not bind" in output

    # The first devhost still has its storage: the same process, its data, new writes.
    assert is_listening("127.0.0.1", port)
    assert read_blob(storage, "first", "before.txt") == b"written by the first devhost's app"
    write_blob(storage, "first", "after.txt", b"still served")
    assert read_blob(storage, "first", "after.txt") == b"still served"
    assert record(tmp_path)["pid"] == int(pid)
    assert record(tmp_path)["owner"]["pid"] == owner.pid

    # Its owner stops it at exit, and forgets it.
    assert finish(owner)[0] == 0
    assert not is_listening("127.0.0.1", port)
    assert not (tmp_path / RECORD_FILE).exists()


def test_a_second_devhost_says_whose_azurite_it_uses_and_owns_nothing(
    tmp_path: Path, azurite_pids: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    owner, pid = spawn(OWNER, tmp_path, port)
    azurite_pids.append(int(pid))
    try:
        with caplog.at_level(logging.INFO, logger="devhost.dev.azurite"):
            assert ensure_for_settings(DEV_STORAGE, tmp_path, port=port) is None
        assert [r.getMessage() for r in caplog.records] == [
            f"Using Azurite (pid {pid}) on 127.0.0.1:{port}, started by devhost (pid "
            f"{owner.pid}), which still runs: it stops with that devhost, not this one."
        ]
        assert is_listening("127.0.0.1", port)
    finally:
        finish(owner)


def test_an_azurite_left_by_a_killed_devhost_is_adopted_and_stopped(
    tmp_path: Path, azurite_pids: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    pid = start_then_kill_the_starter(tmp_path, port)
    azurite_pids.append(pid)
    assert is_listening("127.0.0.1", port), "Azurite should outlive a SIGKILLed devhost"
    with caplog.at_level(logging.INFO, logger="devhost.dev.azurite"):
        adopted = ensure_for_settings(DEV_STORAGE, tmp_path, port=port)
    assert adopted is not None and adopted.pid == pid and adopted.running
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith(f"Adopted Azurite (pid {pid})"), lines
    # The adopter is now its owner: the next devhost uses it and leaves it alone.
    assert record(tmp_path)["owner"] == {
        "pid": os.getpid(),
        "started": process_start_time(os.getpid()),
    }
    third, found = spawn(FAILS_TO_BIND, tmp_path, port)
    assert (found, finish(third)[0]) == ("none", 1)
    assert adopted.running and is_listening("127.0.0.1", port)

    adopted.stop()
    assert not is_listening("127.0.0.1", port)
    assert not (tmp_path / RECORD_FILE).exists()


def test_a_live_process_that_reuses_the_owners_pid_is_not_taken_for_it(
    tmp_path: Path, azurite_pids: list[int]
) -> None:
    """The record names the owner by pid and start time: this test process has a pid that is
    alive, but not the start time recorded, as when the owner died and its pid was reused."""
    port = free_port()
    pid = start_then_kill_the_starter(tmp_path, port)
    azurite_pids.append(pid)
    data = record(tmp_path)
    data["owner"] = {"pid": os.getpid(), "started": "another-boot:1"}
    (tmp_path / RECORD_FILE).write_text(json.dumps(data))

    adopted = ensure_for_settings(DEV_STORAGE, tmp_path, port=port)
    assert adopted is not None and adopted.pid == pid
    adopted.stop()
    assert not is_listening("127.0.0.1", port)


def test_a_stale_record_is_ignored_and_a_new_azurite_started(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / RECORD_FILE).write_text(f'{{"pid": {os.getpid()}, "port": {port}}}')
    started = ensure_for_settings(DEV_STORAGE, tmp_path, port=port)
    assert started is not None
    try:
        assert started.pid != os.getpid() and is_listening("127.0.0.1", port)
        assert f'"pid": {started.pid}' in (tmp_path / RECORD_FILE).read_text()
    finally:
        started.stop()
    assert not (tmp_path / RECORD_FILE).exists()


def test_an_emulator_devhost_did_not_start_is_used_and_said_to_be(
    tmp_path: Path, azurite: object, caplog: pytest.LogCaptureFixture
) -> None:
    port = azurite.blob_port  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO, logger="devhost.dev.azurite"):
        assert ensure_for_settings(DEV_STORAGE, tmp_path, port=port) is None
    assert [r.getMessage() for r in caplog.records] == [
        f"Using the storage emulator already listening on 127.0.0.1:{port} (not started by "
        "devhost; left running at exit)."
    ]
