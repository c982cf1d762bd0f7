"""Running activities as the extension does, and turning each run into its history event.

Each activity is an invocation in a worker process (``devhost.workers``); the worker library
decodes its input and encodes its result. The run ends in a ``TaskCompleted`` or ``TaskFailed``
event handed to ``deliver``; the dispatcher records it in its next group commit, and until then
the work item is still in the state file, so a crash only means the activity runs again.

What the extension does with a failed invocation (``Listener/TaskActivityShim.cs``,
``Listener/FunctionExecutionHelper.cs``): the function's exception, a worker process that exited
under it, and ``functionTimeout`` all fail the task with the exception's message; only a host
that is stopping aborts the run, which happens again after a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from devhost.app.loader import ActivityFunction
from devhost.core.records import ActivityRow
from devhost.protocol.events import task_completed, task_failed
from devhost.runtime.orchestrator_runner import LogInvocation
from devhost.workers.invocations import Invoker

log = logging.getLogger("devhost.runtime.engine")


class ActivityRunner:
    def __init__(
        self,
        activities: Mapping[str, ActivityFunction],
        invoker: Invoker,
        now: Callable[[], str],
        deliver: Callable[[ActivityRow, dict[str, Any]], None],
        log_invocation: LogInvocation,
    ) -> None:
        self._activities = activities
        self._invoker = invoker
        self._now = now
        self._deliver = deliver
        self._log_invocation = log_invocation
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: ActivityRow) -> None:
        task = asyncio.get_running_loop().create_task(self._run(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Abandon activities in flight: their work items run again after a restart."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, work: ActivityRow) -> None:
        function = self._activities[work.name]
        started = asyncio.get_running_loop().time()
        reply = await self._invoker.activity(
            function.function_id, function.function_name, function.input_param, work.input
        )
        if reply.ok:
            event = task_completed(work.task_id, reply.value, self._now())
        else:
            if not reply.host_failure:
                log.error(
                    "Activity %s (instance %s) failed: %s\n%s",
                    work.name,
                    work.instance_id,
                    reply.error,
                    reply.stack,
                )
            reason, details = (
                host_failure_texts(work.name, reply.error or "", timed_out=reply.timed_out)
                if reply.host_failure
                else failure_texts(work.name, reply.error or "", reply.stack)
            )
            event = task_failed(work.task_id, reason, details, self._now())
        self._log_invocation(
            kind="activity",
            name=work.name,
            duration_ms=(asyncio.get_running_loop().time() - started) * 1000,
            outcome="Succeeded" if reply.ok else "Failed",
            instance_id=work.instance_id,
        )
        self._deliver(work, event)


def failure_texts(name: str, message: str, stack: str) -> tuple[str, str]:
    """``TaskFailed``'s Reason and Details as the extension writes them for a Python activity.

    The worker reports ``f"{type}: {exc}"`` (``message``); the host wraps it in an
    ``RpcException`` whose message is
    ``"Result: Failure\\nException: {message}\\nStack: {stack}"``; the extension's
    ``TaskActivityShim`` keeps the text between ``Exception:`` and ``Stack:`` (a leading space
    included) and fails the task with ``"Activity function '{name}' failed: {that}"``. Details
    is the serialised exception (``Utils.SerializeCause``); devhost writes its main fields."""
    friendly = f" {message}"
    rpc_message = f"Result: Failure\nException: {message}\nStack: {stack}"
    details = {
        "ClassName": "System.Exception",
        "Message": friendly,
        "InnerException": {
            "ClassName": "Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException",
            "Message": rpc_message,
        },
    }
    return f"Activity function '{name}' failed: {friendly}", json.dumps(details)


HOST_FAILURE_CLASSES = {
    True: "Microsoft.Azure.WebJobs.Host.FunctionTimeoutException",
    False: "Microsoft.Azure.WebJobs.Script.Workers.WorkerProcessExitException",
}


def host_failure_texts(name: str, message: str, *, timed_out: bool) -> tuple[str, str]:
    """``TaskFailed`` for an invocation the host itself failed: the worker process exited under
    it, or ``functionTimeout`` passed. The extension reports the host's exception as it is
    (no RpcException to unwrap): ``"Activity function '{name}' failed: {message}"``."""
    details = {"ClassName": HOST_FAILURE_CLASSES[timed_out], "Message": message}
    return f"Activity function '{name}' failed: {message}", json.dumps(details)
