"""What the host and the Durable extension put into an ``InvocationRequest``, and read back.

Everything Python-side (turning these values into ``func.HttpRequest``, an
``OrchestrationContext``, an activity's argument, and the return value back into ``TypedData``)
is the worker library's job. The host side is small and is all here:

- an orchestrator gets the extension's context JSON as a string on its trigger binding, and
  answers with the SDK's JSON (``TypedData.json``);
- an activity gets its input JSON as a string, and answers with its result's JSON;
- an HTTP function gets ``RpcHttp`` (with ``RawHttpBodyBytes`` the body is bytes) and, when it
  has a ``durableClient`` binding, the extension's client JSON as a string on it.

A failed invocation comes back as the worker's ``RpcException``; the host's own failures (the
worker process exited, ``functionTimeout``) as :mod:`devhost.workers.process` errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devhost.workers import rpc
from devhost.workers.pool import FunctionTimedOut, WorkerPool
from devhost.workers.process import WorkerError


@dataclass(frozen=True)
class Reply:
    """One invocation's outcome as the host sees it.

    ``value``: the return value as text (JSON or a string), None when there is none.
    ``error``/``stack``: the worker's ``RpcException`` (``"Type: message"`` and its traceback),
    or the host's own failure text with an empty stack.
    ``timed_out``: ``functionTimeout`` passed. ``host_failure``: the host could not run it (the
    worker exited or timed out), as opposed to the function raising.
    """

    invocation_id: str
    value: str | None = None
    error: str | None = None
    stack: str = ""
    timed_out: bool = False
    host_failure: bool = False
    response: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None


def typed_text(data: Any) -> str | None:
    """The text of a ``TypedData`` the worker returned (``json`` or ``string``; bytes as UTF-8)."""
    kind = data.WhichOneof("data") if data is not None else None
    if kind in ("json", "string"):
        return getattr(data, kind)
    if kind == "bytes":
        return data.bytes.decode("utf-8", "replace")
    return None


class Invoker:
    """Builds and sends invocations for one app's functions over its worker pool."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool

    async def call(
        self,
        function_id: str,
        function_name: str,
        inputs: Mapping[str, Any],
        trace_parent: str = "",
    ) -> Reply:
        """Invoke with ``inputs`` (parameter name → ``TypedData``); never raises for a failure of
        the function or its worker."""
        message, request = _invocation(function_id)
        bindings = request.input_data
        for name, data in inputs.items():
            binding = bindings.add()
            binding.name = name
            binding.data.CopyFrom(data)
        if trace_parent:
            request.trace_context.trace_parent = trace_parent
        return await self._send(message, request.invocation_id, function_name)

    async def orchestrator(self, function_id: str, name: str, param: str, context: str) -> Reply:
        return await self._call_with_text(function_id, name, param, context)

    async def activity(
        self, function_id: str, name: str, param: str, input_json: str | None
    ) -> Reply:
        # No input reaches the worker as JSON null, as the extension serialises it.
        text = input_json if input_json is not None else "null"
        return await self._call_with_text(function_id, name, param, text)

    async def _call_with_text(
        self, function_id: str, function_name: str, param: str, text: str
    ) -> Reply:
        """``call`` with one input, a string (an orchestrator's context, an activity's input)."""
        message, request = _invocation(function_id)
        binding = request.input_data.add()
        binding.name = param
        binding.data.string = text
        return await self._send(message, request.invocation_id, function_name)

    async def _send(self, message: Any, invocation_id: str, function_name: str) -> Reply:
        try:
            response = await self.pool.invoke(message, function_name)
        except FunctionTimedOut as error:
            return Reply(invocation_id, error=str(error), timed_out=True, host_failure=True)
        except WorkerError as error:
            return Reply(invocation_id, error=str(error), host_failure=True)
        if response.result.status != rpc.StatusResult.Success:
            exception = response.result.exception
            return Reply(
                invocation_id,
                error=exception.message or "The function failed.",
                stack=exception.stack_trace,
                response=response,
            )
        return Reply(invocation_id, value=typed_text(response.return_value), response=response)


def _invocation(function_id: str) -> tuple[Any, Any]:
    """A ``StreamingMessage`` and the ``InvocationRequest`` inside it, with a new invocation id.

    Everything is set in place: passing a message to a constructor copies it (the context
    string included), once per level of nesting."""
    message = rpc.StreamingMessage()
    request = message.invocation_request
    request.invocation_id = str(uuid.uuid4())
    request.function_id = function_id
    return message, request
