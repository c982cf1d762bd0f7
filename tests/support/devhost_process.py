"""devhost as a real subprocess (``python -m devhost``), as users and CI run it.

The host prints ``listening on http://...`` once it serves; the fixture reads its stdout until that
line instead of polling the port, and keeps draining the output into ``lines`` so tests can look at
the host's log (invocation lines, tracebacks that must not reach clients).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_READY = re.compile(r"listening on (http://\S+)")


class DevhostProcess:
    """Start, stop or SIGKILL one devhost process on a free port."""

    def __init__(
        self,
        app_dir: Path,
        state_path: Path,
        env: dict[str, str] | None = None,
        extra_args: tuple[str, ...] = ("--manual-clock", "--test-hooks", "--no-azurite"),
    ) -> None:
        self.app_dir = app_dir
        self.state_path = state_path
        self.env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.extra_args = extra_args
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.lines: list[str] = []
        self._events: queue.Queue[str | None] = queue.Queue()

    def start(self, timeout: float = 60.0) -> DevhostProcess:
        command = [
            sys.executable,
            "-m",
            "devhost",
            "--app-dir",
            str(self.app_dir),
            "--port",
            "0",
            "--state",
            str(self.state_path),
            *self.extra_args,
        ]
        self.lines = []
        self._events = queue.Queue()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        while True:
            line = self._events.get(timeout=timeout)
            if line is None:
                raise RuntimeError("devhost exited during start-up:\n" + "".join(self.lines))
            match = _READY.search(line)
            if match:
                self.base_url = match.group(1).replace("localhost", "127.0.0.1")
                return self

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self._events.put(line)
        self._events.put(None)

    def wait_for_line(self, pattern: str, count: int = 1, timeout: float = 60.0) -> None:
        """Block until ``count`` log lines (so far, in total) match ``pattern``."""
        regex = re.compile(pattern)
        while sum(1 for line in list(self.lines) if regex.search(line)) < count:
            line = self._events.get(timeout=timeout)
            if line is None:
                raise RuntimeError("devhost exited:\n" + "".join(self.lines))

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as when a machine or container dies."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM, as Ctrl+C would, and wait for a clean exit; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=30)

    @property
    def log(self) -> str:
        return "".join(self.lines)
