"""One worker process and its end of the gRPC stream, seen from the host.

The host starts the process with the connection details on its command line (as the Functions
host starts a language worker), waits for the worker's ``StartStream``, and from then on pairs
every response with the request it answers: ``WorkerInitResponse`` and
``FunctionMetadataResponse`` (one at a time), ``FunctionLoadResponse`` by function id,
``InvocationResponse`` by invocation id. ``RpcLog`` messages go to ``on_log``; the process's own
stdout and stderr lines (``print``, a crash's traceback) to the host's log as ``func start``
shows them.

When the process exits, every invocation still waiting on it fails with :class:`WorkerExited`,
in the words the host uses; restarting is the pool's decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from devhost.core.errors import StartupError
from devhost.workers import rpc

log = logging.getLogger("devhost.worker")

DEVHOST_ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60.0
"""How long a new process may take to connect and index the app (importing the Azure SDKs
takes a second or two on a quiet machine; CI machines are slower)."""
TERMINATE_GRACE_SECONDS = 5.0
"""``WorkerTerminate``'s grace period: after it the host kills the process."""
WORKER_PYTHON_ENV = "DEVHOST_WORKER_PYTHON"
"""The interpreter workers run on (``--worker-python``); devhost's own when unset."""


def worker_python() -> str:
    """The Python that worker processes run: ``DEVHOST_WORKER_PYTHON`` if set, else devhost's.

    On Azure the app's packages come from the app, not from the host: an app whose dependencies
    live in a virtualenv of their own (a package installed from a wheel, say) runs on that
    environment's interpreter, which needs what Azure's worker brings itself:
    ``azure-functions-runtime``, ``grpcio`` and ``protobuf`` (devhost's launcher and its RPC
    module come from devhost's directory, on ``PYTHONPATH``)."""
    return os.environ.get(WORKER_PYTHON_ENV, "").strip() or sys.executable


class WorkerError(Exception):
    """A worker could not run an invocation (the host's own failure, not the function's)."""


class WorkerExited(WorkerError):
    """The process ended while the invocation ran (``WorkerProcessExitException`` on the host)."""


class WorkerStartFailed(WorkerError, StartupError):
    """The process could not start, connect or initialise."""


def _exit_text(code: int | None) -> str:
    """``WorkerProcessExitException``'s message (``WorkerProcess.cs``); a process killed by a
    signal reports 128 + the signal, as a shell and .NET on Linux show it."""
    if code is None:
        return "python exited"
    if code < 0:
        code = 128 - code
    return f"python exited with code {code} (0x{code:X})"


class WorkerProcess:
    """A launched ``devhost.workers.launcher`` and the stream it opened to the host."""

    def __init__(
        self,
        app_dir: Path,
        env: dict[str, str],
        address: tuple[str, int],
        on_log: Callable[[WorkerProcess, Any], None],
    ) -> None:
        self.app_dir = app_dir
        self.env = env
        self.address = address
        self.on_log = on_log
        self.worker_id = str(uuid.uuid4())
        self.process: asyncio.subprocess.Process | None = None
        self.connected = asyncio.Event()
        self.exited = asyncio.Event()
        self.in_flight: dict[str, asyncio.Future[Any]] = {}
        self.names: dict[str, str] = {}  # invocation id -> function name, for its log lines
        self._replies: dict[str, asyncio.Future[Any]] = {}
        self._outbox: asyncio.Queue[Any] = asyncio.Queue()
        self._readers: list[asyncio.Task[None]] = []
        self.exit_code: int | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    # -- the process --------------------------------------------------------------------------
    async def spawn(self) -> None:
        host, port = self.address
        env = {
            **self.env,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(DEVHOST_ROOT), self.env.get("PYTHONPATH", "")) if p
            ),
            "PYTHONUNBUFFERED": "1",
            "FUNCTIONS_WORKER_RUNTIME": "python",
            # The worker sends its own and the Azure SDKs' lines below WARNING only when the
            # host would print them (``--verbose``).
            "DEVHOST_VERBOSE": "1" if log.isEnabledFor(logging.DEBUG) else "0",
        }
        python = worker_python()
        try:
            self.process = await self._start(python, host, port, env)
        except OSError as error:
            raise WorkerStartFailed(f"cannot start a worker with {python}: {error}") from error
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            asyncio.create_task(self._echo(self.process.stdout, logging.INFO)),
            asyncio.create_task(self._echo(self.process.stderr, logging.WARNING)),
        ]

    async def _start(
        self, python: str, host: str, port: int, env: dict[str, str]
    ) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            python,
            "-m",
            "devhost.workers.launcher",
            "--host",
            host,
            "--port",
            str(port),
            "--workerId",
            self.worker_id,
            "--requestId",
            str(uuid.uuid4()),
            "--grpcMaxMessageLength",
            str(2**31 - 1),
            cwd=self.app_dir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def _echo(self, stream: asyncio.StreamReader, level: int) -> None:
        while line := await stream.readline():
            log.log(level, "[worker %s] %s", self.pid, line.decode("utf-8", "replace").rstrip())

    async def wait_exit(self) -> int:
        """Wait for the process to end; fail what it was running."""
        assert self.process is not None
        code = await self.process.wait()
        self.exit_code = code
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._readers)
        self._fail_all(WorkerExited(_exit_text(code)))
        self.exited.set()
        return code

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()

    async def terminate(self) -> None:
        """``WorkerTerminate``, then kill after the grace period."""
        if self.process is None or self.process.returncode is not None:
            return
        if self.connected.is_set():
            grace = rpc.WorkerTerminate()
            grace.grace_period.FromSeconds(int(TERMINATE_GRACE_SECONDS))
            self.send(rpc.StreamingMessage(worker_terminate=grace))
        try:
            await asyncio.wait_for(self.exited.wait(), TERMINATE_GRACE_SECONDS)
        except TimeoutError:
            self.kill()
            await self.exited.wait()

    # -- the stream ---------------------------------------------------------------------------
    async def serve(self, context: grpc.aio.ServicerContext) -> None:
        """Run the worker's stream until either side closes it."""
        self.connected.set()
        writer = asyncio.create_task(self._write(context))
        try:
            while True:
                message = await context.read()
                if message is grpc.aio.EOF:
                    break
                self._received(message)
        except (asyncio.CancelledError, grpc.aio.AioRpcError):
            pass
        finally:
            # What it was running fails when the process is seen to exit (``wait_exit``), with
            # the exit code in the host's words; the launcher exits whenever its stream ends.
            writer.cancel()
            self.connected.clear()

    async def _write(self, context: grpc.aio.ServicerContext) -> None:
        with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            while True:
                await context.write(await self._outbox.get())

    def send(self, message: Any) -> None:
        self._outbox.put_nowait(message)

    def _received(self, message: Any) -> None:
        kind = message.WhichOneof("content")
        if kind == "rpc_log":
            self.on_log(self, message.rpc_log)
            return
        if kind == "invocation_response":
            key = message.invocation_response.invocation_id
            future = self.in_flight.pop(key, None)
            self.names.pop(key, None)
        elif kind == "function_load_response":
            future = self._replies.pop(f"load:{message.function_load_response.function_id}", None)
        else:
            future = self._replies.pop(kind or "", None)
        if future is not None and not future.done():
            future.set_result(getattr(message, kind or ""))

    def _fail_all(self, error: WorkerError) -> None:
        for future in [*self.in_flight.values(), *self._replies.values()]:
            if not future.done():
                future.set_exception(error)
        self.in_flight.clear()
        self._replies.clear()

    # -- requests -----------------------------------------------------------------------------
    async def request(self, reply_key: str, message: Any) -> Any:
        """Send a start-up request and wait for the reply that ``reply_key`` names."""
        if self.exited.is_set():
            raise WorkerExited(_exit_text(self.exit_code))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies[reply_key] = future
        self.send(message)
        return await future

    def invoke(self, message: Any, function_name: str) -> asyncio.Future[Any]:
        """Send a ``StreamingMessage`` holding an ``InvocationRequest``; the future resolves to
        its ``InvocationResponse``."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.exited.is_set() or not self.connected.is_set():
            future.set_exception(WorkerExited(_exit_text(self.exit_code)))
            return future
        invocation_id = message.invocation_request.invocation_id
        self.in_flight[invocation_id] = future
        self.names[invocation_id] = function_name
        self._outbox.put_nowait(message)
        return future
