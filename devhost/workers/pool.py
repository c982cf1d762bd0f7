"""The worker processes of one app, as the Functions host keeps them.

The host listens on loopback for the workers' gRPC streams, starts
``FUNCTIONS_WORKER_PROCESS_COUNT`` processes (1 to 10, default 1; the first before serving, the
others after it, as the host starts later workers once the first is up), and brings each one up
the way the host does: ``WorkerInitRequest`` (the worker library indexes the app), then
``FunctionsMetadataRequest`` on the first worker (the functions, their bindings and ids come from
the worker's own index), then a ``FunctionLoadRequest`` per function on every worker.

Invocations go to the ready worker with the fewest in flight. ``functionTimeout`` from
host.json bounds each one: past it the invocation fails with the host's
``FunctionTimeoutException`` text and its worker is restarted. A worker that exits is restarted,
and what it was running fails with :class:`WorkerExited`. The pool never imports the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from devhost.workers import rpc
from devhost.workers.process import (
    STARTUP_SECONDS,
    WorkerError,
    WorkerExited,
    WorkerProcess,
    WorkerStartFailed,
)

log = logging.getLogger("devhost.worker")

HOST_VERSION = "4.1040.0"
"""The Functions host version devhost reports to its workers (a current 4.x host)."""
MAX_PROCESS_COUNT = 10
PROCESS_STARTUP_INTERVAL = 10.0
"""Seconds between starting the third and later workers (``WorkerProcessCountOptions``)."""
RESTART_WINDOW = 30 * 60.0
"""Crashes further apart than this are forgotten (``WorkerConstants``' restart error interval)."""
# What the host tells a Python worker it supports (WorkerInitRequest.capabilities).
HOST_CAPABILITIES = {
    "RpcHttpBodyOnly": "true",
    "RawHttpBodyBytes": "true",
    "TypedDataCollection": "true",
    "RpcHttpTriggerMetadataRemoved": "true",
}


class IndexingFailed(WorkerStartFailed):
    """The worker refused the app: the host serves nothing, devhost exits."""


class FunctionTimedOut(WorkerError):
    """``functionTimeout`` passed: the host's ``FunctionTimeoutException``."""


@dataclass(frozen=True)
class PoolSettings:
    process_count: int = 1
    function_timeout: float | None = None  # seconds; None = unbounded


def process_count_from(env: dict[str, str]) -> int:
    """``FUNCTIONS_WORKER_PROCESS_COUNT``: 1 to 10 as on Azure; anything else is refused."""
    raw = env.get("FUNCTIONS_WORKER_PROCESS_COUNT", "").strip()
    if not raw:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PROCESS_COUNT:
        raise WorkerStartFailed(
            f"FUNCTIONS_WORKER_PROCESS_COUNT must be a whole number from 1 to "
            f"{MAX_PROCESS_COUNT}, not {raw!r}"
        )
    return int(raw)


def format_timeout(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def failure_text(result: Any) -> str:
    """A failed ``StatusResult`` as the host logs it."""
    exception = result.exception
    return f"Result: Failure\nException: {exception.message}\nStack: {exception.stack_trace}"


class _Servicer(rpc.FunctionRpcServicer):
    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool

    async def EventStream(self, request_iterator: Any, context: Any) -> None:
        first = await context.read()
        if first is grpc.aio.EOF or first.WhichOneof("content") != "start_stream":
            return
        worker = self._pool.worker_by_id(first.start_stream.worker_id)
        if worker is None:
            return  # not one of ours: a stale or foreign worker gets nothing
        with contextlib.suppress(asyncio.CancelledError):
            await worker.serve(context)


class WorkerPool:
    """Starts, watches and restarts the app's workers and spreads invocations over them."""

    def __init__(
        self,
        app_dir: Path,
        env: dict[str, str],
        settings: PoolSettings,
        on_log: Callable[[WorkerProcess, Any], None],
    ) -> None:
        self.app_dir = app_dir
        self.env = env
        self.settings = settings
        self.on_log = on_log
        self.metadata: list[Any] = []
        self._server: grpc.aio.Server | None = None
        self._address: tuple[str, int] = ("127.0.0.1", 0)
        self._workers: list[WorkerProcess] = []
        self._ready: list[WorkerProcess] = []
        self._some_ready = asyncio.Event()
        self._watchers: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.restarts = 0
        self.http_streaming = False
        self._turn = 0
        self._crashes: list[float] = []
        self._crashes_exempt: set[str] = set()
        self._ready_waiters: list[asyncio.Future[None]] = []

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> list[Any]:
        """Start the server and the first worker; return the app's function metadata."""
        self._server = grpc.aio.server(options=rpc.CHANNEL_OPTIONS)
        rpc.add_FunctionRpcServicer_to_server(_Servicer(self), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._address = ("127.0.0.1", port)
        await self._server.start()
        first = await self._launch(index=True)
        self._adopt(first)
        if self.settings.process_count > 1:
            self._watch(asyncio.create_task(self._add_workers(self.settings.process_count - 1)))
        return self.metadata

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.gather(*(w.terminate() for w in self._workers), return_exceptions=True)
        for task in list(self._watchers):
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        if self._server is not None:
            await self._server.stop(grace=None)
            self._server = None

    @property
    def pids(self) -> list[int]:
        return [w.pid for w in self._ready if w.pid is not None]

    async def wait_for_workers(self, count: int) -> list[int]:
        """Wait until ``count`` workers are ready (later ones start after the first); their pids."""
        while len(self._ready) < count:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._ready_waiters.append(waiter)
            await waiter
        return self.pids

    def worker_by_id(self, worker_id: str) -> WorkerProcess | None:
        return next((w for w in self._workers if w.worker_id == worker_id), None)

    # -- bringing a worker up -----------------------------------------------------------------
    async def _launch(self, *, index: bool) -> WorkerProcess:
        worker = WorkerProcess(self.app_dir, self.env, self._address, self.on_log)
        self._workers.append(worker)
        try:
            await worker.spawn()
            exit_watch = asyncio.create_task(worker.wait_exit())
            try:
                await asyncio.wait_for(self._handshake(worker, index), STARTUP_SECONDS)
            except WorkerExited as error:
                await asyncio.wait_for(exit_watch, 5)
                raise WorkerStartFailed(
                    f"The Python worker process exited while starting: {error}."
                ) from None
            except TimeoutError:
                worker.kill()
                raise WorkerStartFailed(
                    f"The Python worker did not start within {STARTUP_SECONDS:.0f} s."
                ) from None
            self._watch(asyncio.create_task(self._supervise(worker, exit_watch)))
            return worker
        except BaseException:
            worker.kill()
            self._workers.remove(worker)
            raise

    async def _handshake(self, worker: WorkerProcess, index: bool) -> None:
        await worker.connected.wait()
        app_dir = str(self.app_dir)
        init = await worker.request(
            "worker_init_response",
            rpc.StreamingMessage(
                worker_init_request=rpc.WorkerInitRequest(
                    host_version=HOST_VERSION,
                    capabilities=HOST_CAPABILITIES,
                    worker_directory=app_dir,
                    function_app_directory=app_dir,
                )
            ),
        )
        if init.result.status != rpc.StatusResult.Success:
            raise IndexingFailed(
                f"Initializing worker process failed\n{failure_text(init.result)}\n"
                '(On Azure the host keeps running with no functions at all: "No job functions '
                'found". devhost refuses to serve the app instead.)'
            )
        if index:
            # The worker serves HTTP streaming functions itself and tells the host where.
            self.http_streaming = "HttpUri" in init.capabilities
            metadata = await worker.request(
                "function_metadata_response",
                rpc.StreamingMessage(
                    functions_metadata_request=rpc.FunctionsMetadataRequest(
                        function_app_directory=app_dir
                    )
                ),
            )
            if metadata.result.status != rpc.StatusResult.Success:
                raise IndexingFailed(
                    f"Worker failed to index functions\n{failure_text(metadata.result)}"
                )
            self.metadata = list(metadata.function_metadata_results)
        for function in self.metadata:
            loaded = await worker.request(
                f"load:{function.function_id}",
                rpc.StreamingMessage(
                    function_load_request=rpc.FunctionLoadRequest(
                        function_id=function.function_id, metadata=function
                    )
                ),
            )
            if loaded.result.status != rpc.StatusResult.Success:
                raise IndexingFailed(
                    f"Worker failed to load function '{function.name}'\n"
                    f"{failure_text(loaded.result)}"
                )

    def _adopt(self, worker: WorkerProcess) -> None:
        self._ready.append(worker)
        self._some_ready.set()
        for waiter in self._ready_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._ready_waiters.clear()
        log.info("Worker process started and initialized (pid %s).", worker.pid)

    async def _add_workers(self, count: int) -> None:
        """The host's later workers: the second at once, each further one
        ``PROCESS_STARTUP_INTERVAL`` after the one before (``RpcFunctionInvocationDispatcher``)."""
        for number in range(count):
            if number:
                await asyncio.sleep(PROCESS_STARTUP_INTERVAL)
            if self._stopping:
                return
            await self._add_worker()

    async def _add_worker(self) -> None:
        try:
            worker = await self._launch(index=False)
        except WorkerError as error:
            log.error("A worker process could not be started: %s", error)
            return
        if self._stopping:
            await worker.terminate()
            return
        self._adopt(worker)

    async def _supervise(self, worker: WorkerProcess, exit_watch: asyncio.Task[int]) -> None:
        code = await exit_watch
        self._retire(worker)
        if worker in self._workers:
            self._workers.remove(worker)
        if self._stopping:
            return
        self.restarts += 1
        log.error(
            "Language Worker Process exited. Pid=%s (exit code %s); its invocations in flight "
            "failed. Starting a new worker process.",
            worker.pid,
            code,
        )
        if worker.worker_id not in self._crashes_exempt:
            self._note_crash()
        self._crashes_exempt.discard(worker.worker_id)
        await self._add_worker()

    def _note_crash(self) -> None:
        """The host allows ``3 x FUNCTIONS_WORKER_PROCESS_COUNT`` crashes within 30 minutes, then
        recycles itself; devhost says so in the host's words and goes on restarting workers,
        which is what the recycled host would do."""
        now = asyncio.get_running_loop().time()
        self._crashes = [t for t in self._crashes if now - t < RESTART_WINDOW] + [now]
        if len(self._crashes) >= 3 * self.settings.process_count:
            log.error(
                "Exceeded language worker restart retry count for runtime:python. Shutting down "
                "and proactively recycling the Functions Host to recover (on Azure; devhost "
                "starts a new worker instead)."
            )
            self._crashes.clear()

    def _watch(self, task: asyncio.Task[None]) -> None:
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    def _next_worker(self) -> WorkerProcess | None:
        """The next live worker in turn (round robin, as the host's load balancer)."""
        live = [w for w in self._ready if w.connected.is_set() and not w.exited.is_set()]
        if not live:
            return None
        self._turn += 1
        return live[self._turn % len(live)]

    def _retire(self, worker: WorkerProcess) -> None:
        """Take a worker out of rotation (its supervisor restarts it once it has exited)."""
        if worker in self._ready:
            self._ready.remove(worker)
        if not self._ready:
            self._some_ready.clear()

    def restart_after_timeout(self, worker: WorkerProcess) -> None:
        """Kill the worker that ran past ``functionTimeout``; its supervisor starts another
        (not counted as a crash, as on the host)."""
        self._crashes_exempt.add(worker.worker_id)
        self._retire(worker)
        worker.kill()

    # -- invocations --------------------------------------------------------------------------
    async def invoke(self, message: Any, function_name: str) -> Any:
        """Run one ``InvocationRequest`` (in its ``StreamingMessage``) on a worker; its
        ``InvocationResponse``.

        Raises :class:`WorkerExited` if the worker died meanwhile and :class:`FunctionTimedOut`
        past ``functionTimeout`` (the worker is then restarted)."""
        while True:
            worker = self._next_worker()
            if worker is None:
                if self._stopping:
                    raise WorkerExited("the host is stopping")
                self._some_ready.clear()
                await self._some_ready.wait()
                continue
            future = worker.invoke(message, function_name)
            if not future.done():
                break
            # The worker's stream closed before this was sent: it never ran; try another.
            future.exception()
            self._retire(worker)
        timeout = self.settings.function_timeout
        if timeout is None:
            return await future
        # One timer per invocation, cancelled with its reply; when it fires first, the
        # invocation's future fails with _Expired (a reply arriving later is dropped).
        timer = asyncio.get_running_loop().call_later(timeout, _expire, future)
        try:
            return await future
        except _Expired:
            pass
        finally:
            timer.cancel()
        invocation_id = message.invocation_request.invocation_id
        log.error(
            "Timeout value of %s exceeded by function 'Functions.%s' (Id: '%s'). "
            "Initiating cancellation.",
            format_timeout(timeout),
            function_name,
            invocation_id,
        )
        log.warning(
            "A function timeout has occurred. Restarting worker process executing "
            "invocationId '%s'.",
            invocation_id,
        )
        self.restart_after_timeout(worker)
        await worker.exited.wait()
        raise FunctionTimedOut(
            f"Timeout value of {format_timeout(timeout)} was exceeded by function: "
            f"Functions.{function_name}"
        )


class _Expired(Exception):
    """``functionTimeout`` passed before the reply (internal to :meth:`WorkerPool.invoke`)."""


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(_Expired())


def worker_env(settings: dict[str, str]) -> dict[str, str]:
    """The environment a worker starts with: the host's, with the app settings applied."""
    return {**os.environ, **settings}
