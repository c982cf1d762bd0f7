"""One Azurite Blob process: launched from the pinned binary, ready once it listens, stopped.

The app offloads large custom statuses to Blob storage, so running it locally needs a Blob endpoint.
devhost uses Azurite pinned in ``package.json`` (installed with ``npm ci`` into ``node_modules``),
never a global install, so every developer and CI run the same emulator version. Only the Blob
service is started: devhost keeps orchestration state in SQLite, so the Queue and Table services
that the real Durable host needs are not used.

Azurite runs in its own process group so that ``stop()`` can end it and any child it spawned,
and telemetry is switched off (Azurite otherwise tries to reach an Application Insights endpoint).
An :class:`Azurite` is one this devhost started or adopted; which one to start, adopt or merely
use is ``azurite.py``'s decision, the record naming its owner ``azurite_record.py``'s, and the
restart after an unexpected exit ``azurite_watch.py``'s.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from devhost.core.errors import StartupError
from devhost.dev.azurite_record import RECORD_FILE, forget_record, write_record
from devhost.dev.azurite_watch import watch_restarts
from devhost.dev.processes import alive, describe_exit, is_zombie, signal_group, stop_group

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # devhost/dev/azurite_process.py -> project

DEV_ACCOUNT_NAME = "devstoreaccount1"
# The well-known emulator key: public by design, it only ever unlocks a local emulator.
DEV_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
DEFAULT_BLOB_PORT = 10000
LOCALHOST = "127.0.0.1"

_LISTENING_LINE = re.compile(rb"successfully listens on https?://[^\s:]+:(\d+)")


class AzuriteError(StartupError):
    """Azurite could not be found, started or stopped; the message says what to do."""


def is_listening(host: str, port: int, timeout: float = 0.25) -> bool:
    """True when something accepts TCP connections on ``host:port`` right now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port that was free a moment ago (for tests; another process could still take it).

    Prefer ``Azurite(port=0)``, which lets Azurite pick the port itself and so cannot race.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def connection_string(port: int, host: str = LOCALHOST) -> str:
    """The Blob-only connection string for an Azurite listening on ``host:port``."""
    return (
        "DefaultEndpointsProtocol=http;"
        f"AccountName={DEV_ACCOUNT_NAME};"
        f"AccountKey={DEV_ACCOUNT_KEY};"
        f"BlobEndpoint=http://{host}:{port}/{DEV_ACCOUNT_NAME};"
    )


def azurite_binary(project_root: Path = PROJECT_ROOT) -> Path:
    """The project's pinned ``azurite-blob`` launcher; ``AzuriteError`` says to run ``npm ci``."""
    name = "azurite-blob.cmd" if sys.platform == "win32" else "azurite-blob"
    path = project_root / "node_modules" / ".bin" / name
    if not path.exists():
        raise AzuriteError(
            f"Azurite is not installed: {path} does not exist. "
            f"Run `npm ci` in {project_root} (it installs the version pinned in package-lock.json)."
        )
    return path


class Azurite:
    """One Azurite Blob service process, started and stopped by us.

    Use as a context manager (``with Azurite(data_dir) as azurite: ...``) or call ``start()`` and
    ``stop()``. ``port=0`` lets Azurite choose a free port; ``blob_port`` then tells which. While
    it runs, ``await azurite.watch()`` restarts it if it exits without ``stop()``.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        port: int = DEFAULT_BLOB_PORT,
        host: str = LOCALHOST,
        project_root: Path = PROJECT_ROOT,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        tls: tuple[Path, Path] | None = None,
        oauth: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.requested_port = port
        self.project_root = project_root
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.tls = tls  # (certificate, key) PEM files: serve HTTPS
        self.oauth = oauth  # accept bearer tokens ("--oauth basic", which needs HTTPS)
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._adopted_pid: int | None = None  # an Azurite a killed devhost left running
        self._log_dir: tempfile.TemporaryDirectory[str] | None = None
        self._recorded = False  # this devhost is the owner in the data folder's record
        self._stopping = False  # stop() was called: an exit now is expected
        # start, stop and the watcher's restart run on different threads (stop from an executor
        # or atexit, the restart in an executor); reentrant because a failed start() stops.
        self._lock = threading.RLock()

    @classmethod
    def adopt(cls, data_dir: str | os.PathLike[str], pid: int, port: int) -> Azurite:
        """Take over an Azurite started by an earlier devhost: ``stop()`` then ends it."""
        azurite = cls(data_dir, port=port)
        azurite._adopted_pid = pid
        azurite._port = port
        atexit.register(azurite.stop)
        return azurite

    # -- public properties -------------------------------------------------------------------

    @property
    def blob_port(self) -> int:
        """The port Azurite listens on (known once started)."""
        if self._port is None:
            raise AzuriteError("Azurite is not started")
        return self._port

    @property
    def blob_endpoint(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.blob_port}/{DEV_ACCOUNT_NAME}"

    @property
    def connection_string(self) -> str:
        """``AzureWebJobsStorage``-style connection string for this Azurite (well-known key)."""
        return connection_string(self.blob_port, self.host)

    @property
    def pid(self) -> int | None:
        if self._adopted_pid is not None:
            return self._adopted_pid
        return self._process.pid if self._process is not None else None

    @property
    def owned(self) -> bool:
        """This object runs the process (started or adopted it) and has not stopped it."""
        return self._process is not None or self._adopted_pid is not None

    @property
    def running(self) -> bool:
        if self._adopted_pid is not None:
            return alive(self._adopted_pid) and not is_zombie(self._adopted_pid)
        return self._process is not None and self._process.poll() is None

    @property
    def record_path(self) -> Path:
        return self.data_dir / RECORD_FILE

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Azurite:
        """Start Azurite and return once its port accepts connections (bounded by start_timeout)."""
        with self._lock:
            if self._process is not None or self._adopted_pid is not None:
                raise AzuriteError("Azurite is already started")
            self._stopping = False
            self._launch()
        return self

    def _launch(self) -> None:
        binary = azurite_binary(self.project_root)
        if self.requested_port and is_listening(self.host, self.requested_port):
            raise AzuriteError(
                f"Port {self.host}:{self.requested_port} is already in use; "
                "stop what listens there or choose another port."
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Output goes to files, not pipes: nobody reads a pipe after start-up, and a full pipe
        # would block Azurite.
        self._log_dir = tempfile.TemporaryDirectory(prefix="azurite-log-")
        stdout_path = Path(self._log_dir.name) / "stdout.log"
        stderr_path = Path(self._log_dir.name) / "stderr.log"
        args = [
            str(binary),
            "--blobHost",
            self.host,
            "--blobPort",
            str(self.requested_port),
            "--location",
            str(self.data_dir),
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
            "--disableTelemetry",
        ]
        if self.tls:
            args += ["--cert", str(self.tls[0]), "--key", str(self.tls[1])]
        if self.oauth:
            args += ["--oauth", "basic"]
        popen_kwargs: dict[str, object] = {}
        if sys.platform == "win32":
            popen_kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            popen_kwargs["start_new_session"] = True  # own process group, ended as a whole
        with open(stdout_path, "ab") as out, open(stderr_path, "ab") as err:
            self._process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=self.data_dir,
                **popen_kwargs,  # type: ignore[arg-type]
            )
        atexit.register(self.stop)
        try:
            self._wait_until_listening(stdout_path)
        except BaseException:
            self.stop()
            raise

    def _wait_until_listening(self, stdout_path: Path) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        port = self.requested_port or None
        while True:
            code = self._process.poll()
            if code is not None:
                raise AzuriteError(
                    f"Azurite exited with code {code} during start-up.{self._tail()}"
                )
            if port is None:
                match = _LISTENING_LINE.search(stdout_path.read_bytes())
                if match:
                    port = int(match.group(1))
            if port is not None and is_listening(self.host, port):
                self._port = port
                return
            if time.monotonic() >= deadline:
                raise AzuriteError(
                    f"Azurite did not accept connections on {self.host}:"
                    f"{port if port is not None else '?'} within {self.start_timeout:g} s."
                    f"{self._tail()}"
                )
            time.sleep(0.05)

    def _tail(self, lines: int = 20) -> str:
        """The last lines of Azurite's stderr (and stdout), for error messages."""
        if self._log_dir is None:
            return ""
        parts = []
        for name in ("stderr.log", "stdout.log"):
            path = Path(self._log_dir.name) / name
            with contextlib.suppress(OSError):
                text = path.read_text("utf-8", errors="replace").strip()
                if text:
                    tail = "\n".join(text.splitlines()[-lines:])
                    parts.append(f"\n--- Azurite {name} (tail) ---\n{tail}")
        return "".join(parts)

    def stop(self) -> None:
        """End Azurite's process group: SIGTERM, then SIGKILL after stop_timeout. Idempotent.

        Ends only what this object started or adopted; a watcher (``watch``) then returns
        instead of restarting it."""
        with self._lock:
            self._stopping = True
            atexit.unregister(self.stop)
            process, self._process = self._process, None
            adopted, self._adopted_pid = self._adopted_pid, None
            if adopted is not None:
                stop_group(adopted, self.stop_timeout)
                self._forget_record(adopted)
            if process is not None:
                if process.poll() is None:
                    signal_group(process, kill=False)
                    try:
                        process.wait(timeout=self.stop_timeout)
                    except subprocess.TimeoutExpired:
                        signal_group(process, kill=True)
                        process.wait(timeout=self.stop_timeout)
                # Anything the leader left behind in its group goes too (the group id cannot be
                # reused while a member lives, so this reaches only our processes).
                signal_group(process, kill=True)
                self._forget_record(process.pid)
            if self._log_dir is not None:
                self._log_dir.cleanup()
                self._log_dir = None

    # -- the owner record ----------------------------------------------------------------------

    def record_ownership(self) -> None:
        """Write the data folder's record naming this process as the owner of this Azurite."""
        assert self.pid is not None
        write_record(self.data_dir, self.pid, self.blob_port)
        self._recorded = True

    def _forget_record(self, pid: int) -> None:
        """Remove the record if it still names this Azurite and this owner (never another's)."""
        if not self._recorded:
            return
        self._recorded = False
        forget_record(self.data_dir, pid)

    # -- restarting after an unexpected exit -------------------------------------------------

    async def watch(self, *, on_restart: Callable[[Azurite], object] | None = None) -> None:
        """Restart this Azurite whenever its process exits without ``stop()`` (same port and
        data folder, one WARNING line), until ``stop()`` is called or the task is cancelled;
        returns at once for an Azurite this object does not run (``azurite_watch.py``).
        ``on_restart`` (for tests) is called after each restart."""
        await watch_restarts(self, on_restart)

    def watched_process(self) -> tuple[int, subprocess.Popen[bytes] | None] | None:
        """(pid, our child process or None when adopted) for the watcher, or None once
        ``stop()`` was called or nothing runs."""
        with self._lock:
            if self._stopping or not self.owned:
                return None
            assert self.pid is not None
            return self.pid, self._process

    def restart_after_exit(self, pid: int) -> str | None:
        """Start Azurite again after process ``pid`` exited; how it ended (`` (exit code 1)``,
        empty when unknown), or None if ``stop()`` came first. Raises ``AzuriteError`` (and
        leaves this object stopped) if it will not start."""
        with self._lock:
            if self._stopping or self.pid != pid:
                return None
            process, self._process = self._process, None
            self._adopted_pid = None
            how = ""  # an adopted Azurite is not our child: its exit status is unknown
            if process is not None:
                # Anything left in its group goes first, while the unreaped leader still holds
                # the group id (so it cannot have been reused).
                signal_group(process, kill=True)
                how = describe_exit(process.wait())
            if self._log_dir is not None:
                self._log_dir.cleanup()
                self._log_dir = None
            self.requested_port = self.blob_port  # the same port, even if it was chosen (0)
            recorded = self._recorded
            self._launch()
            if recorded:
                self.record_ownership()
            return how

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port={self._port}" if self.running else "stopped"
        return f"Azurite({str(self.data_dir)!r}, {state})"
