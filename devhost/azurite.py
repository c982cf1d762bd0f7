"""Find or start Azurite (the Blob storage emulator) for ``UseDevelopmentStorage=true``.

The app offloads large custom statuses to Blob storage, so running it locally needs a Blob endpoint.
devhost uses Azurite pinned in ``package.json`` (installed with ``npm ci`` into ``node_modules``),
never a global install, so every developer and CI run the same emulator version.

Only the Blob service is started: devhost keeps orchestration state in SQLite, so the Queue and
Table services that the real Durable host needs are not used.

Azurite runs in its own process group so that ``stop()`` can end it and any child it spawned,
and telemetry is switched off (Azurite otherwise tries to reach an Application Insights endpoint).

A devhost killed with SIGKILL cannot stop its Azurite, which then keeps the port. Each Azurite
devhost starts is recorded in ``devhost-azurite.json`` in its data folder (pid and port); the next
run finds that record, checks the process is still that Azurite, adopts it (stops it at exit like
one it started) and says so in one log line, instead of silently using whatever listens.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from devhost.errors import StartupError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RECORD_FILE = "devhost-azurite.json"

log = logging.getLogger("devhost.azurite")

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
    ``stop()``. ``port=0`` lets Azurite choose a free port; ``blob_port`` then tells which.
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
    def running(self) -> bool:
        if self._adopted_pid is not None:
            return _alive(self._adopted_pid)
        return self._process is not None and self._process.poll() is None

    @property
    def record_path(self) -> Path:
        return self.data_dir / RECORD_FILE

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Azurite:
        """Start Azurite and return once its port accepts connections (bounded by start_timeout)."""
        if self._process is not None:
            raise AzuriteError("Azurite is already started")
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
        return self

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
        """End Azurite's process group: SIGTERM, then SIGKILL after stop_timeout. Idempotent."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        adopted, self._adopted_pid = self._adopted_pid, None
        if adopted is not None:
            _stop_adopted(adopted, self.stop_timeout)
            with contextlib.suppress(OSError):
                self.record_path.unlink()
        if process is not None:
            if process.poll() is None:
                _signal_group(process, kill=False)
                try:
                    process.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    _signal_group(process, kill=True)
                    process.wait(timeout=self.stop_timeout)
            # Anything the leader left behind in its group goes too (the group id cannot be
            # reused while a member lives, so this reaches only our processes).
            _signal_group(process, kill=True)
            with contextlib.suppress(OSError):
                self.record_path.unlink()
        if self._log_dir is not None:
            self._log_dir.cleanup()
            self._log_dir = None

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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_our_azurite(pid: int, data_dir: Path) -> bool:
    """The process still runs and is an Azurite on ``data_dir`` (its pid was not reused)."""
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return (
        any(a.endswith(b"azurite-blob") for a in arguments) and os.fsencode(data_dir) in arguments
    )


def _stop_adopted(pid: int, timeout: float) -> None:
    """SIGTERM the adopted Azurite's process group, SIGKILL it if it lingers (not our child, so
    it is watched, not waited for)."""
    for kill in (False, True):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _alive(pid):
            return


def _write_record(azurite: Azurite) -> None:
    record = {"pid": azurite.pid, "port": azurite.blob_port, "devhost_pid": os.getpid()}
    azurite.record_path.write_text(json.dumps(record), encoding="utf-8")


def _left_running(data_dir: Path, port: int) -> Azurite | None:
    """The Azurite a killed devhost left on ``port``, if its record says so and it still runs."""
    path = data_dir / RECORD_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        pid, recorded_port = int(record["pid"]), int(record["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if recorded_port != port or not _is_our_azurite(pid, data_dir):
        with contextlib.suppress(OSError):
            path.unlink()  # stale: that Azurite is gone
        return None
    return Azurite.adopt(data_dir, pid, port)


def _signal_group(process: subprocess.Popen[bytes], *, kill: bool) -> None:
    """SIGTERM (or SIGKILL) the process group led by ``process``; no error if it is gone."""
    if sys.platform == "win32":
        with contextlib.suppress(OSError):
            process.kill() if kill else process.terminate()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)


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
    dict is accepted too). Returns the started ``Azurite`` (the caller stops it) or ``None`` when
    the app uses real storage or something already listens on the port (assumed to be an Azurite
    the developer started, e.g. the VS Code extension), except an Azurite an earlier devhost
    started and could not stop, which is adopted and returned. ``port`` is for tests: the app's
    ``UseDevelopmentStorage=true`` always means port 10000.
    """
    values = settings.get("Values") if isinstance(settings.get("Values"), dict) else settings
    storage = values.get("AzureWebJobsStorage")  # type: ignore[union-attr]
    if not isinstance(storage, str) or not uses_development_storage(storage):
        return None
    data = Path(data_dir)
    if is_listening(LOCALHOST, port):
        adopted = _left_running(data, port)
        if adopted is not None:
            log.warning(
                "Adopted Azurite (pid %s) on %s:%s, left running by a devhost that did not stop "
                "cleanly; it stops with this devhost.",
                adopted.pid,
                LOCALHOST,
                port,
            )
        else:
            log.info(
                "Using the storage emulator already listening on %s:%s (not started by devhost; "
                "left running at exit).",
                LOCALHOST,
                port,
            )
        return adopted
    started = Azurite(data, port=port, host=LOCALHOST).start()
    _write_record(started)
    log.info("Started Azurite for UseDevelopmentStorage=true: %r", started)
    return started
