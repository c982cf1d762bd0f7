"""Processes seen from outside: told apart from a later one with the same pid, ended, awaited.

devhost must never stop a process that is not the Azurite it owns, so a pid alone is not enough:
pids are reused, and a record written by a devhost killed long ago may name a pid that now
belongs to anything. :class:`ProcessIdentity` adds the process's start time (Linux's ``/proc``).
Azurite runs in a process group of its own, so it is ended group and all; its exit is awaited
through a pidfd on the event loop, so a watcher costs nothing while it waits. Nothing here knows
about Azurite (``azurite_record.py`` checks that a process is one).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProcessIdentity:
    """A process as it can be told apart from a later one that reuses its pid: the pid and when
    it started (``None`` where that cannot be read: then the pid alone is compared)."""

    pid: int
    started: str | None

    @classmethod
    def of(cls, pid: int) -> ProcessIdentity:
        return cls(pid, process_start_time(pid))

    @classmethod
    def me(cls) -> ProcessIdentity:
        return cls.of(os.getpid())

    def alive(self) -> bool:
        """This very process still runs (not a zombie, not another process with its pid)."""
        if not alive(self.pid) or is_zombie(self.pid):
            return False
        if self.started is None:
            return True
        return process_start_time(self.pid) == self.started

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "started": self.started}

    @classmethod
    def from_json(cls, value: Any) -> ProcessIdentity:
        started = value.get("started")
        return cls(int(value["pid"]), str(started) if started is not None else None)


def process_start_time(pid: int) -> str | None:
    """When ``pid`` started, as ``<boot id>:<start time in clock ticks since boot>`` (Linux's
    ``/proc``); ``None`` if the process does not exist or the platform does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        boot = ""
    # Fields after the command name (which may hold spaces and parentheses): state is field 3,
    # starttime field 22.
    fields = stat[stat.rindex(")") + 2 :].split()
    return f"{boot}:{fields[19]}" if len(fields) > 19 else None


def alive(pid: int) -> bool:
    """Some process has this pid (it may be a zombie, or not the one you mean)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_zombie(pid: int) -> bool:
    """The process has exited and only waits to be reaped by its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].startswith("Z")


def signal_group(process: subprocess.Popen[bytes], *, kill: bool) -> None:
    """SIGTERM (or SIGKILL) the process group led by ``process``; no error if it is gone."""
    if sys.platform == "win32":
        with contextlib.suppress(OSError):
            process.kill() if kill else process.terminate()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)


def stop_group(pid: int, timeout: float) -> None:
    """SIGTERM the process group led by ``pid``, SIGKILL it if it lingers. For a process that is
    not our child (an adopted Azurite): it is watched until it is gone, not waited for."""
    for kill in (False, True):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(pid) and not is_zombie(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not alive(pid) or is_zombie(pid):
            return


def describe_exit(code: int | None) -> str:
    """How a child ended, for a log line: `` (exit code 1)``, `` (killed by SIGKILL)``, or
    empty when unknown."""
    if code is None:
        return ""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f" (killed by {signal.Signals(-code).name})"
        return f" (killed by signal {-code})"
    return f" (exit code {code})"


async def exit_of(pid: int, process: subprocess.Popen[bytes] | None) -> None:
    """Return once process ``pid`` has exited (``process``: it is our child). On Linux the exit
    is noticed through a pidfd on the event loop; elsewhere by checking twice a second."""

    def still_running() -> bool:
        if process is not None:
            return process.poll() is None
        return alive(pid) and not is_zombie(pid)

    loop = asyncio.get_running_loop()
    try:
        fd = os.pidfd_open(pid)  # type: ignore[attr-defined,unused-ignore]
    except ProcessLookupError:
        return
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        try:
            exited: asyncio.Future[None] = loop.create_future()
            try:
                loop.add_reader(fd, lambda: exited.done() or exited.set_result(None))
            except NotImplementedError:  # an event loop without readers
                pass
            else:
                try:
                    await exited
                finally:
                    loop.remove_reader(fd)
                return
        finally:
            os.close(fd)
    while still_running():  # noqa: ASYNC110 (nothing to await: no exit notification here)
        await asyncio.sleep(0.5)
