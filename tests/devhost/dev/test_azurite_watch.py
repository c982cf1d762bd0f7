"""devhost notices that the Azurite it owns died and starts it again: same port, same data
folder, one WARNING line (``Azurite.watch``), as the VS Code Azurite extension users expect of
``func start``. It restarts only what it owns (started or adopted), and a ``stop()`` is not an
exit to undo.

Azurite saves its blob metadata every 5 s and when it stops on SIGTERM, so the test that reads
back data written before the exit ends Azurite with SIGTERM (something outside devhost stopping
it); after a SIGKILL the last seconds' blobs may be lost, and that test checks only that the
restarted Azurite serves on the same port.
"""

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devhost.dev.azurite import Azurite, ensure_for_settings, free_port, is_listening, watch
from tests.support.azurite import read_blob, write_blob

from .test_azurite_left_running import DEV_STORAGE, start_then_kill_the_starter

LOGGER = "devhost.dev.azurite"


class Watched:
    """An Azurite with its watcher task running, and an event per restart."""

    def __init__(self, azurite: Azurite) -> None:
        self.azurite = azurite
        self.restarts: asyncio.Queue[int] = asyncio.Queue()
        self.task = asyncio.create_task(
            azurite.watch(on_restart=lambda a: self.restarts.put_nowait(a.pid))
        )

    async def next_restart(self) -> int:
        """The new pid, once the watcher has restarted Azurite (bounded, so a bug fails)."""
        return await asyncio.wait_for(self.restarts.get(), timeout=60)

    async def stop(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.azurite.stop)
        await asyncio.wait_for(self.task, timeout=60)  # the watcher ends by itself


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[Watched]:
    azurite = await asyncio.get_running_loop().run_in_executor(
        None, Azurite(tmp_path / "azurite", port=0).start
    )
    watched = Watched(azurite)
    try:
        yield watched
    finally:
        await watched.stop()


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


async def test_an_azurite_ended_from_outside_is_restarted_with_its_data(
    watched: Watched, caplog: pytest.LogCaptureFixture
) -> None:
    azurite = watched.azurite
    old_pid, port = azurite.pid, azurite.blob_port
    storage = azurite.connection_string
    await asyncio.to_thread(write_blob, storage, "kept", "before.txt", b"written before")

    with caplog.at_level(logging.INFO, logger=LOGGER):
        os.kill(old_pid, signal.SIGTERM)  # not devhost's stop(): e.g. `kill` in a terminal
        new_pid = await watched.next_restart()

    assert new_pid != old_pid and azurite.running and azurite.blob_port == port
    assert await asyncio.to_thread(read_blob, storage, "kept", "before.txt") == b"written before"
    assert warnings(caplog) == [
        f"Azurite (pid {old_pid}) on 127.0.0.1:{port} exited unexpectedly (exit code 0); "
        f"restarted it on the same port and data folder {azurite.data_dir} (pid {new_pid})."
    ]
    assert [r.levelname for r in caplog.records] == ["WARNING"]


async def test_a_killed_azurite_is_restarted_on_the_same_port_each_time(
    watched: Watched, caplog: pytest.LogCaptureFixture
) -> None:
    azurite = watched.azurite
    port = azurite.blob_port
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for round_ in range(2):
            os.killpg(azurite.pid, signal.SIGKILL)
            await watched.next_restart()
            blob = f"round-{round_}.txt"
            await asyncio.to_thread(write_blob, azurite.connection_string, "rounds", blob, b"x")
            assert (
                await asyncio.to_thread(read_blob, azurite.connection_string, "rounds", blob)
                == b"x"
            )
    lines = warnings(caplog)
    assert len(lines) == 2, lines  # one line per restart
    assert all(f"on 127.0.0.1:{port} exited unexpectedly (killed by SIGKILL)" in x for x in lines)
    assert azurite.blob_port == port


async def test_stopping_is_not_an_exit_to_undo(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loop = asyncio.get_running_loop()
    azurite = await loop.run_in_executor(None, Azurite(tmp_path, port=0).start)
    port = azurite.blob_port
    watched = Watched(azurite)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await watched.stop()
    assert watched.restarts.empty() and warnings(caplog) == []
    assert not azurite.running and not is_listening("127.0.0.1", port)


async def test_nothing_is_watched_that_this_devhost_does_not_own(tmp_path: Path) -> None:
    """An Azurite another live devhost owns (or the developer's own emulator) is not handed out:
    ``ensure_for_settings`` returns None for it (test_azurite_left_running.py), and watching None
    returns at once; so does watching an Azurite this object never started, or stopped."""
    await asyncio.wait_for(watch(None), timeout=5)
    await asyncio.wait_for(watch(Azurite(tmp_path, port=0)), timeout=5)
    loop = asyncio.get_running_loop()
    stopped = await loop.run_in_executor(None, Azurite(tmp_path, port=0).start)
    await loop.run_in_executor(None, stopped.stop)
    await asyncio.wait_for(stopped.watch(), timeout=5)


async def test_cancelling_the_watch_leaves_azurite_to_stop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What devhost does at shut-down: cancel the watcher, then stop Azurite."""
    loop = asyncio.get_running_loop()
    azurite = await loop.run_in_executor(None, Azurite(tmp_path, port=0).start)
    task = asyncio.create_task(watch(azurite))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await loop.run_in_executor(None, azurite.stop)
    assert warnings(caplog) == [] and not azurite.running


async def test_an_adopted_azurite_is_watched_and_restarted_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    pid = start_then_kill_the_starter(tmp_path, port)
    loop = asyncio.get_running_loop()
    adopted = await loop.run_in_executor(
        None, lambda: ensure_for_settings(DEV_STORAGE, tmp_path, port=port)
    )
    assert adopted is not None and adopted.pid == pid
    watched = Watched(adopted)
    try:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            os.killpg(pid, signal.SIGKILL)
            new_pid = await watched.next_restart()
        assert new_pid != pid and is_listening("127.0.0.1", port)
        restarts = [x for x in warnings(caplog) if "exited unexpectedly" in x]
        assert restarts == [
            f"Azurite (pid {pid}) on 127.0.0.1:{port} exited unexpectedly; restarted it on the "
            f"same port and data folder {tmp_path} (pid {new_pid})."
        ]
        assert f'"pid": {new_pid}' in (tmp_path / "devhost-azurite.json").read_text()
    finally:
        await watched.stop()
    assert not is_listening("127.0.0.1", port)
