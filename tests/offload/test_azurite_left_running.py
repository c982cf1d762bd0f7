"""An Azurite whose devhost was SIGKILLed keeps running and holds the port; the next run adopts it
(and stops it at exit) and says so in one log line, rather than silently reusing it."""

import contextlib
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from devhost.azurite import RECORD_FILE, ensure_for_settings, free_port, is_listening
from tests.support.devhost_process import ROOT

DEV_STORAGE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}

# A stand-in for devhost: starts Azurite as devhost does, prints its pid, then waits forever.
STARTER = """
import sys
from devhost.azurite import ensure_for_settings
started = ensure_for_settings({"AzureWebJobsStorage": "UseDevelopmentStorage=true"},
                              sys.argv[1], port=int(sys.argv[2]))
print(started.pid, flush=True)
sys.stdin.read()
"""


def start_then_kill_the_starter(data_dir: Path, port: int) -> int:
    """Start Azurite from a child process, SIGKILL that process, return Azurite's pid."""
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(data_dir), str(port)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert starter.stdout is not None
    pid = int(starter.stdout.readline())
    starter.send_signal(signal.SIGKILL)
    starter.wait(timeout=30)
    return pid


def test_an_azurite_left_by_a_killed_devhost_is_adopted_and_stopped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    pid = start_then_kill_the_starter(tmp_path, port)
    try:
        assert is_listening("127.0.0.1", port), "Azurite should outlive a SIGKILLed devhost"
        with caplog.at_level(logging.INFO, logger="devhost.azurite"):
            adopted = ensure_for_settings(DEV_STORAGE, tmp_path, port=port)
        assert adopted is not None and adopted.pid == pid and adopted.running
        lines = [r.getMessage() for r in caplog.records]
        assert len(lines) == 1 and lines[0].startswith(f"Adopted Azurite (pid {pid})"), lines
        adopted.stop()
        assert not is_listening("127.0.0.1", port)
        assert not (tmp_path / RECORD_FILE).exists()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


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
    with caplog.at_level(logging.INFO, logger="devhost.azurite"):
        assert ensure_for_settings(DEV_STORAGE, tmp_path, port=port) is None
    assert [r.getMessage() for r in caplog.records] == [
        f"Using the storage emulator already listening on 127.0.0.1:{port} (not started by "
        "devhost; left running at exit)."
    ]
