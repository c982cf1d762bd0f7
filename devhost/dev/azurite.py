"""Find or start Azurite (the Blob storage emulator) for ``UseDevelopmentStorage=true``.

The app offloads large custom statuses to Blob storage, so running it locally needs a Blob endpoint.
devhost uses Azurite pinned in ``package.json`` (installed with ``npm ci`` into ``node_modules``),
never a global install, so every developer and CI run the same emulator version.

Only the Blob service is started: devhost keeps orchestration state in SQLite, so the Queue and
Table services that the real Durable host needs are not used.

Azurite runs in its own process group so that ``stop()`` can end it and any child it spawned,
and telemetry is switched off (Azurite otherwise tries to reach an Application Insights endpoint).

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

**An Azurite devhost owns and that exits unexpectedly is restarted** by ``Azurite.watch()`` (an
asyncio task the host runs while it serves): same port, same data folder, one WARNING line. Data
Azurite had not saved yet is lost with the process: Azurite saves its blob metadata every 5 s and
when it stops on SIGTERM or SIGINT, so after a SIGKILL the blobs of its last seconds may be gone.
"""

from __future__ import annotations

import asyncio
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
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from devhost.core.errors import StartupError

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # devhost/dev/azurite.py -> the project
RECORD_FILE = "devhost-azurite.json"
LOCK_FILE = "devhost-azurite.lock"

log = logging.getLogger("devhost.dev.azurite")

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
        if not _alive(self.pid) or _is_zombie(self.pid):
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


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].startswith("Z")


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
            return _alive(self._adopted_pid) and not _is_zombie(self._adopted_pid)
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
                _stop_adopted(adopted, self.stop_timeout)
                self._forget_record(adopted)
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
                self._forget_record(process.pid)
            if self._log_dir is not None:
                self._log_dir.cleanup()
                self._log_dir = None

    # -- the owner record ----------------------------------------------------------------------

    def record_ownership(self) -> None:
        """Write the data folder's record naming this process as the owner of this Azurite."""
        assert self.pid is not None
        record = {
            "pid": self.pid,
            "started": process_start_time(self.pid),
            "port": self.blob_port,
            "owner": ProcessIdentity.me().to_json(),
        }
        _write_json_atomically(self.record_path, record)
        self._recorded = True

    def _forget_record(self, pid: int) -> None:
        """Remove the record if it still names this Azurite and this owner (never another's)."""
        if not self._recorded:
            return
        self._recorded = False
        record = _read_record(self.data_dir)
        if record is not None and record.pid == pid and record.owner == ProcessIdentity.me():
            with contextlib.suppress(OSError):
                self.record_path.unlink()

    # -- restarting after an unexpected exit -------------------------------------------------

    async def watch(self, *, on_restart: Callable[[Azurite], object] | None = None) -> None:
        """Restart this Azurite whenever its process exits without ``stop()``.

        Runs until ``stop()`` is called (or the task is cancelled); returns at once for an Azurite
        this object does not run. Each restart uses the same port and data folder and logs one
        WARNING line; if a restart fails (the port was taken meanwhile, Azurite will not start),
        one ERROR line says why and the watch ends. ``on_restart`` (for tests) is called after
        each restart. Waiting costs nothing: on Linux the exit is noticed through a pidfd on the
        event loop, elsewhere by checking twice a second."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._stopping or not self.owned:
                    return
                pid = self.pid
                process = self._process
            assert pid is not None
            await _exit_of(pid, process)
            try:
                how = await loop.run_in_executor(None, self._restart, pid)
            except (AzuriteError, OSError) as error:  # OSError: it could not even be launched
                log.error(
                    "Azurite (pid %s) on %s:%s exited unexpectedly and could not be restarted: %s",
                    pid,
                    self.host,
                    self._port,
                    str(error).splitlines()[0],
                )
                return
            if how is None:  # stopped meanwhile: the exit was expected
                return
            log.warning(
                "Azurite (pid %s) on %s:%s exited unexpectedly%s; restarted it on the same "
                "port and data folder %s (pid %s).",
                pid,
                self.host,
                self._port,
                how,
                self.data_dir,
                self.pid,
            )
            if on_restart is not None:
                on_restart(self)

    def _restart(self, pid: int) -> str | None:
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
                _signal_group(process, kill=True)
                how = _describe_exit(process.wait())
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


async def watch(azurite: object, *, on_restart: Callable[[Azurite], object] | None = None) -> None:
    """Restart ``azurite`` whenever its process exits unexpectedly (``Azurite.watch``), until it
    is stopped. Returns at once for ``None`` (``ensure_for_settings`` found an Azurite this devhost
    does not own), for an ``Azurite`` this object does not run, and for anything else. Run it as
    a task beside the server; cancel it (or just ``stop()`` the Azurite) at shut-down."""
    if isinstance(azurite, Azurite):
        await azurite.watch(on_restart=on_restart)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return ""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f" (killed by {signal.Signals(-code).name})"
        return f" (killed by signal {-code})"
    return f" (exit code {code})"


async def _exit_of(pid: int, process: subprocess.Popen[bytes] | None) -> None:
    """Return once process ``pid`` has exited (``process``: it is our child)."""

    def still_running() -> bool:
        if process is not None:
            return process.poll() is None
        return _alive(pid) and not _is_zombie(pid)

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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_our_azurite(pid: int, data_dir: Path, started: str | None = None) -> bool:
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


def _stop_adopted(pid: int, timeout: float) -> None:
    """SIGTERM the adopted Azurite's process group, SIGKILL it if it lingers (not our child, so
    it is watched, not waited for)."""
    for kill in (False, True):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and not _is_zombie(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _alive(pid) or _is_zombie(pid):
            return


@dataclass(frozen=True)
class _Record:
    """The data folder's ``devhost-azurite.json``: which Azurite runs there and which devhost
    owns it."""

    pid: int
    started: str | None
    port: int
    owner: ProcessIdentity | None


def _read_record(data_dir: Path) -> _Record | None:
    try:
        value = json.loads((data_dir / RECORD_FILE).read_text(encoding="utf-8"))
        if "owner" in value:
            owner: ProcessIdentity | None = ProcessIdentity.from_json(value["owner"])
        elif "devhost_pid" in value:  # written before owners had a start time
            owner = ProcessIdentity(int(value["devhost_pid"]), None)
        else:
            owner = None
        started = value.get("started")
        return _Record(
            int(value["pid"]),
            str(started) if started is not None else None,
            int(value["port"]),
            owner,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_json_atomically(path: Path, value: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(value), encoding="utf-8")
    os.replace(temporary, path)


@contextlib.contextmanager
def _exclusive(data_dir: Path) -> Iterator[None]:
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


def _already_listening(data_dir: Path, port: int) -> Azurite | None:
    """Decide about the Azurite already on ``port``: adopt it if its owner is gone (returned),
    else use it and leave it alone (None). Says which in one log line."""
    record = _read_record(data_dir)
    ours = (
        record is not None
        and record.port == port
        and _is_our_azurite(record.pid, data_dir, record.started)
    )
    if record is not None and not _is_our_azurite(record.pid, data_dir, record.started):
        with contextlib.suppress(OSError):
            (data_dir / RECORD_FILE).unlink()  # stale: that Azurite is gone
    if not ours:
        log.info(
            "Using the storage emulator already listening on %s:%s (not started by devhost; "
            "left running at exit).",
            LOCALHOST,
            port,
        )
        return None
    assert record is not None
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
    with _exclusive(data):
        if is_listening(LOCALHOST, port):
            return _already_listening(data, port)
        started = Azurite(data, port=port, host=LOCALHOST).start()
        started.record_ownership()
    log.info("Started Azurite for UseDevelopmentStorage=true: %r", started)
    return started
