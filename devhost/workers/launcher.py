"""The program each worker process runs: Microsoft's worker library behind devhost's gRPC stream.

On Azure, the Functions host starts a language worker process for Python 3.13+ whose small
"proxy worker" connects back to the host over gRPC and hands every message to the library
``azure_functions_runtime``: indexing, binding conversion and invocation are that library's
code, not the proxy's. This module plays the proxy's part and nothing more. It connects to the
host named on its command line, announces itself with ``StartStream``, and for each message:

- ``WorkerInitRequest`` → the library indexes the app (``function_app.py`` in the app
  directory, which becomes the working directory and the head of ``sys.path``);
- ``FunctionsMetadataRequest``, ``FunctionLoadRequest``, ``InvocationRequest``,
  ``FunctionEnvironmentReloadRequest`` → the library's handler of the same name, each
  invocation in a task of its own so that many run at once;
- ``WorkerTerminate`` → exit.

Log records become ``RpcLog`` messages carrying the invocation id the library sets in its
context variable, so the host prints them with the function they came from. When the stream
closes (the host stopped or was killed), the process exits: a worker never outlives its host.

It imports nothing of devhost but the generated RPC module, and takes devhost's directory off
``sys.path`` before the app is imported, so the app sees what it would see on Azure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_DEVHOST_ROOT = str(Path(__file__).resolve().parents[2])

import grpc  # noqa: E402

from devhost.workers import rpc  # noqa: E402

UNLIMITED = -1

# Loggers whose records are the worker's own ("System" logs, shown by the host only when
# verbose); everything else is the app's ("User" logs).
SYSTEM_LOGGERS = ("azure.functions", "azure_functions_runtime", "grpc", "asyncio")
# The Azure SDKs' per-request lines, which the host also shows only when verbose.
CHATTY_LOGGERS = ("azure.core", "azure.storage", "azure.identity", "azure.monitor")
VERBOSE_ENV = "DEVHOST_VERBOSE"
"""Set by the host when it runs with ``--verbose``: only then are the lines above sent at all
(the library logs one at INFO for every invocation; sending it doubled the messages per call)."""

_LEVELS = (
    (logging.CRITICAL, rpc.RpcLog.Critical),
    (logging.ERROR, rpc.RpcLog.Error),
    (logging.WARNING, rpc.RpcLog.Warning),
    (logging.INFO, rpc.RpcLog.Information),
    (logging.DEBUG, rpc.RpcLog.Debug),
)


@dataclass
class LibraryRequest:
    """What the library's handlers take: the message, and the host and protos module."""

    name: str
    request: Any
    properties: dict[str, Any] = field(default_factory=dict)


def rpc_level(levelno: int) -> int:
    for threshold, level in _LEVELS:
        if levelno >= threshold:
            return level
    return rpc.RpcLog.Trace


class RpcLogHandler(logging.Handler):
    """Sends each log record to the host as an ``RpcLog`` (thread-safe: user code may log from
    the library's thread pool or its own threads)."""

    def __init__(
        self, send: Callable[[Any], None], invocation_id: Callable[[], str | None]
    ) -> None:
        super().__init__(logging.DEBUG)
        self._send = send
        self._invocation_id = invocation_id

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info))
            system = record.name.startswith(SYSTEM_LOGGERS)
            log = rpc.RpcLog(
                invocation_id=self._invocation_id() or "",
                category=record.name,
                level=rpc_level(record.levelno),
                message=message,
                log_category=rpc.RpcLog.System if system else rpc.RpcLog.User,
            )
            self._send(rpc.StreamingMessage(rpc_log=log))
        except Exception:  # a log line must never break the invocation that wrote it
            self.handleError(record)


class Worker:
    """One connection to the host and the library behind it."""

    def __init__(self, host: str, port: int, worker_id: str, request_id: str, library: Any) -> None:
        self.host = host
        self.port = port
        self.worker_id = worker_id
        self.request_id = request_id
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._outbox: asyncio.Queue[Any] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._library = library
        self._properties = {"host": host, "protos": rpc}
        self._handlers: dict[str, tuple[str, Callable[[LibraryRequest], Awaitable[Any]]]] = {
            "worker_init_request": ("worker_init_response", self._init),
            "functions_metadata_request": (
                "function_metadata_response",
                library.functions_metadata_request,
            ),
            "function_load_request": ("function_load_response", library.function_load_request),
            "invocation_request": ("invocation_response", library.invocation_request),
            "function_environment_reload_request": (
                "function_environment_reload_response",
                library.function_environment_reload_request,
            ),
        }

    # -- sending ------------------------------------------------------------------------------
    def send(self, message: Any) -> None:
        """Queue a message for the host; callable from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread:
            self._outbox.put_nowait(message)
        else:
            loop.call_soon_threadsafe(self._outbox.put_nowait, message)

    async def _write(self, call: Any) -> None:
        """The stream's one writer (gRPC takes one message at a time), in queue order."""
        outbox = self._outbox
        # A stream that failed or closed ends the reading loop in ``run`` as well.
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
            while True:
                await call.write(await outbox.get())

    # -- the stream ---------------------------------------------------------------------------
    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        async with grpc.aio.insecure_channel(
            f"{self.host}:{self.port}", rpc.CHANNEL_OPTIONS
        ) as channel:
            call = rpc.FunctionRpcStub(channel).EventStream()
            await call.write(
                rpc.StreamingMessage(
                    request_id=self.request_id,
                    start_stream=rpc.StartStream(worker_id=self.worker_id),
                )
            )
            writer = asyncio.create_task(self._write(call))
            try:
                while (message := await call.read()) is not grpc.aio.EOF:
                    if message.WhichOneof("content") == "worker_terminate":
                        break
                    self._start(message)
            finally:
                writer.cancel()
        for task in self._tasks:
            task.cancel()

    def _start(self, message: Any) -> None:
        # Started eagerly: the library's handler runs at once up to its first wait (for an
        # invocation, the function on the library's thread pool) instead of a loop turn later.
        task = asyncio.Task(self._handle(message), loop=self._loop, eager_start=True)
        if not task.done():
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _handle(self, message: Any) -> None:
        kind = message.WhichOneof("content")
        handler = self._handlers.get(kind)
        if handler is None:
            return  # heartbeats, status requests and kinds devhost never sends
        response_field, call = handler
        if kind == "invocation_request":
            self._library.invocation_id_cv.set(message.invocation_request.invocation_id)
        response = await call(LibraryRequest(kind, message, self._properties))
        self.send(rpc.StreamingMessage(request_id=message.request_id, **{response_field: response}))

    async def _init(self, request: LibraryRequest) -> Any:
        """Index the app where the host says it is, as the proxy worker does."""
        app_dir = request.request.worker_init_request.function_app_directory
        os.chdir(app_dir)
        if app_dir not in sys.path:
            sys.path.insert(0, app_dir)
        self._library.start_threadpool_executor()
        return await self._library.worker_init_request(request)


def _forget_devhost_path() -> None:
    """The app must not import devhost or anything beside it unless it is the app's own dir."""
    for entry in ("", _DEVHOST_ROOT):
        while entry in sys.path:
            sys.path.remove(entry)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workerId", required=True)
    parser.add_argument("--requestId", required=True)
    parser.add_argument("--grpcMaxMessageLength", type=int, default=UNLIMITED)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    _forget_devhost_path()
    import azure_functions_runtime as library

    worker = Worker(args.host, args.port, args.workerId, args.requestId, library)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    if os.environ.get(VERBOSE_ENV) != "1":
        for name in (*SYSTEM_LOGGERS, *CHATTY_LOGGERS):
            logging.getLogger(name).setLevel(logging.WARNING)
    root.addHandler(RpcLogHandler(worker.send, library.invocation_id_cv.get))
    try:
        asyncio.run(worker.run())
    except (grpc.aio.AioRpcError, ConnectionError):
        pass  # the host is gone: so is this worker
    except KeyboardInterrupt:
        pass
    finally:
        logging.getLogger().handlers.clear()
    # Threads of the app's functions may still be blocked: do not wait for them.
    os._exit(0)


if __name__ == "__main__":
    main()
