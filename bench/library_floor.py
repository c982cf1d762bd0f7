"""Microsoft's worker library in this process: the floor under devhost's invocations.

devhost runs every function in a worker process, where ``azure_functions_runtime`` (the library
the Functions host's Python worker hands each message to) turns an ``InvocationRequest`` into a
call of the app's function and its return value back into ``TypedData``. No host can invoke a
function faster than that library does, so the benchmarks time the same requests handed to the
same library in this process, with no gRPC, no worker process and no host: :class:`InProcessWorker`
does for one app what ``devhost/workers/launcher.py`` does in a worker (``WorkerInitRequest``,
``FunctionsMetadataRequest``, a ``FunctionLoadRequest`` per function, then
``InvocationRequest``\\ s), calling the library's handlers directly.

The library keeps its state in module globals and imports the app as the module
``function_app``: one app per process. :meth:`InProcessWorker.for_app` therefore hands out one
worker per process and refuses a second app. Function ids are the ones devhost's workers report
(the library derives them from the function's name), so requests recorded from devhost replay
here unchanged.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from devhost.workers import rpc
from devhost.workers.invocations import typed_text
from devhost.workers.launcher import LibraryRequest
from devhost.workers.pool import HOST_CAPABILITIES, HOST_VERSION


class LibraryFailure(RuntimeError):
    """The library refused the app or an invocation failed."""


@dataclass(frozen=True)
class Call:
    """One invocation as devhost sent it: which function, and its one input binding's text."""

    function_id: str
    function_name: str
    param: str
    text: str


class InProcessWorker:
    """The worker library initialised for one app in this process (see the module docstring)."""

    _current: ClassVar[InProcessWorker | None] = None

    def __init__(self, app_dir: Path) -> None:
        self.app_dir = _resolved(app_dir)
        self.function_ids: dict[str, str] = {}  # function name -> function id
        import azure_functions_runtime

        self._library: Any = azure_functions_runtime

    @classmethod
    async def for_app(cls, app_dir: Path) -> InProcessWorker:
        """The process's worker for ``app_dir``, initialised on first use."""
        current = cls._current
        if current is not None:
            if current.app_dir != _resolved(app_dir):
                raise RuntimeError(
                    f"the worker library already runs {current.app_dir} in this process; it "
                    f"keeps one app per process, so {app_dir} needs a process of its own"
                )
            return current
        worker = cls(app_dir)
        await worker._start()
        cls._current = worker
        return worker

    def _forget_other_app(self) -> None:
        """The library imports the app by module name: a ``function_app`` imported earlier from
        another folder (the test suite imports several) would be taken for this one."""
        loaded = sys.modules.get("function_app")
        if loaded is not None and _resolved(Path(loaded.__file__ or "")).parent != self.app_dir:
            del sys.modules["function_app"]

    def _request(self, **message: Any) -> LibraryRequest:
        (kind,) = message
        return LibraryRequest(
            kind, rpc.StreamingMessage(**message), {"host": "127.0.0.1", "protos": rpc}
        )

    async def _start(self) -> None:
        """As the launcher does on ``WorkerInitRequest``, then as the pool brings a worker up."""
        library = self._library
        app_dir = str(self.app_dir)
        if app_dir not in sys.path:
            sys.path.insert(0, app_dir)
        self._forget_other_app()
        library.start_threadpool_executor()
        init = await library.worker_init_request(
            self._request(
                worker_init_request=rpc.WorkerInitRequest(
                    host_version=HOST_VERSION,
                    capabilities=HOST_CAPABILITIES,
                    worker_directory=app_dir,
                    function_app_directory=app_dir,
                )
            )
        )
        _check(init.result, "initialising the worker library")
        metadata = await library.functions_metadata_request(
            self._request(
                functions_metadata_request=rpc.FunctionsMetadataRequest(
                    function_app_directory=app_dir
                )
            )
        )
        _check(metadata.result, "indexing the app")
        for function in metadata.function_metadata_results:
            loaded_function = await library.function_load_request(
                self._request(
                    function_load_request=rpc.FunctionLoadRequest(
                        function_id=function.function_id, metadata=function
                    )
                )
            )
            _check(loaded_function.result, f"loading {function.name}")
            self.function_ids[function.name] = function.function_id

    async def invoke(self, call: Call) -> str | None:
        """One ``InvocationRequest`` through the library's handler; the return value's text."""
        invocation_id = str(uuid.uuid4())
        request = rpc.InvocationRequest(
            invocation_id=invocation_id,
            function_id=call.function_id,
            input_data=[
                rpc.ParameterBinding(name=call.param, data=rpc.TypedData(string=call.text))
            ],
        )
        self._library.invocation_id_cv.set(invocation_id)  # as the launcher does
        response = await self._library.invocation_request(self._request(invocation_request=request))
        _check(response.result, f"invoking {call.function_name}")
        return typed_text(response.return_value)

    async def time_calls(self, calls: list[Call], repeats: int) -> float:
        """Seconds to invoke ``calls`` in order, ``repeats`` times over (one after another)."""
        started = time.perf_counter()
        for _ in range(repeats):
            for call in calls:
                await self.invoke(call)
        return time.perf_counter() - started


def _resolved(path: Path) -> Path:
    return path.resolve()


def _check(result: Any, what: str) -> None:
    if result.status != rpc.StatusResult.Success:
        raise LibraryFailure(
            f"{what} failed: {result.exception.message}\n{result.exception.stack_trace}"
        )
