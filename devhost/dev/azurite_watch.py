"""Restarting an Azurite devhost owns whenever it exits unexpectedly, while devhost runs.

Developers expect the emulator to stay up under ``func start`` (the VS Code Azurite extension
restarts it); an app whose storage vanishes mid-run fails in ways that have nothing to do with
its code. So while devhost serves, an Azurite it started or adopted that exits without
``stop()`` is started again on the same port and data folder, in one WARNING line. Data Azurite
had not saved is lost with the process: it saves its blob metadata every 5 s and when it stops on
SIGTERM or SIGINT, so after a SIGKILL the blobs of its last seconds may be gone.

The loop is written against :class:`Watchable`, what an Azurite object offers, so that it needs
nothing of ``azurite_process.py`` (which calls it).
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from devhost.core.errors import StartupError
from devhost.dev.processes import exit_of

log = logging.getLogger("devhost.dev.azurite")


class Watchable(Protocol):
    """An Azurite as the watcher sees it."""

    host: str
    data_dir: Path

    @property
    def pid(self) -> int | None: ...

    @property
    def blob_port(self) -> int: ...

    def watched_process(self) -> tuple[int, subprocess.Popen[bytes] | None] | None:
        """(pid, our child process or None when adopted) to watch, or None once stopped."""
        ...

    def restart_after_exit(self, pid: int) -> str | None:
        """Start again after ``pid`` exited: how it ended, or None if ``stop()`` came first;
        raises (``AzuriteError``, ``OSError``) if it will not start."""
        ...


W = TypeVar("W", bound=Watchable)


async def watch_restarts[W: Watchable](
    azurite: W, on_restart: Callable[[W], object] | None = None
) -> None:
    """Restart ``azurite`` whenever its process exits without ``stop()``, until it is stopped.

    Returns at once for an Azurite that does not run. If a restart fails (the port was taken
    meanwhile, Azurite will not start), one ERROR line says why and the watch ends. ``on_restart``
    (for tests) is called after each restart."""
    loop = asyncio.get_running_loop()
    while True:
        watched = azurite.watched_process()
        if watched is None:
            return
        pid, process = watched
        await exit_of(pid, process)
        try:
            how = await loop.run_in_executor(None, azurite.restart_after_exit, pid)
        except (StartupError, OSError) as error:  # OSError: it could not even be launched
            log.error(
                "Azurite (pid %s) on %s:%s exited unexpectedly and could not be restarted: %s",
                pid,
                azurite.host,
                azurite.blob_port,
                str(error).splitlines()[0],
            )
            return
        if how is None:  # stopped meanwhile: the exit was expected
            return
        log.warning(
            "Azurite (pid %s) on %s:%s exited unexpectedly%s; restarted it on the same "
            "port and data folder %s (pid %s).",
            pid,
            azurite.host,
            azurite.blob_port,
            how,
            azurite.data_dir,
            azurite.pid,
        )
        if on_restart is not None:
            on_restart(azurite)
