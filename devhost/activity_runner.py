"""Running activity functions as the Python worker does, and turning each run into its event.

Async activities run on the event loop; sync ones in a pool of daemon threads (``worker_threads``),
so a blocked activity never holds up a stop. Each run ends in a ``TaskCompleted`` or ``TaskFailed``
event handed to ``deliver``; the dispatcher records it in its next group commit, and until then the
work item is still in the state file, so a crash only means the activity runs again.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from azure.functions.durable_functions import ActivityTriggerConverter
from azure.functions.meta import Datum

from devhost.history import EventType, make_event
from devhost.loader import ActivityFunction
from devhost.orchestrator_runner import LogInvocation
from devhost.records import ActivityRow
from devhost.worker_threads import DaemonThreadPool

log = logging.getLogger("devhost.engine")


class ActivityRunner:
    def __init__(
        self,
        activities: Mapping[str, ActivityFunction],
        workers: int,
        now: Callable[[], str],
        deliver: Callable[[ActivityRow, dict[str, Any]], None],
        log_invocation: LogInvocation,
    ) -> None:
        self._activities = activities
        self._now = now
        self._deliver = deliver
        self._log_invocation = log_invocation
        self._threads = DaemonThreadPool(workers, "devhost-activity")
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
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def _run(self, work: ActivityRow) -> None:
        function = self._activities[work.name]
        # The logged Duration is the function's run time: for a sync function it starts when a
        # pool thread picks it up, not when it was queued behind busy threads.
        started = [time.perf_counter()]
        try:
            value = (
                ActivityTriggerConverter.decode(
                    Datum(type="json", value=work.input), trigger_metadata=None
                )
                if work.input is not None
                else None
            )
            call = functools.partial(function.func, **{function.input_param: value})
            if function.is_async:
                started[0] = time.perf_counter()
                result = await call()
            else:

                def run_in_thread() -> Any:
                    started[0] = time.perf_counter()
                    return call()

                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._threads, run_in_thread)
            result_text = ActivityTriggerConverter.encode(result, expected_type=None).value
            event = make_event(
                EventType.TASK_COMPLETED,
                self._now(),
                TaskScheduledId=work.task_id,
                Result=result_text,
            )
            outcome = "Succeeded"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            stack = traceback.format_exc()
            log.error("Activity %s (instance %s) failed:\n%s", work.name, work.instance_id, stack)
            reason, details = failure_texts(work.name, exc, stack)
            event = make_event(
                EventType.TASK_FAILED,
                self._now(),
                TaskScheduledId=work.task_id,
                Reason=reason,
                Details=details,
            )
            outcome = "Failed"
        self._log_invocation(
            kind="activity",
            name=work.name,
            duration_ms=(time.perf_counter() - started[0]) * 1000,
            outcome=outcome,
            instance_id=work.instance_id,
        )
        self._deliver(work, event)


def failure_texts(name: str, exc: BaseException, stack: str) -> tuple[str, str]:
    """``TaskFailed``'s Reason and Details as the extension writes them for a Python activity.

    The worker reports ``f"{type}: {exc}"``; the host wraps it in an ``RpcException`` whose
    message is ``"Result: Failure\\nException: {message}\\nStack: {stack}"``; the extension's
    ``TaskActivityShim`` keeps the text between ``Exception:`` and ``Stack:`` (a leading space
    included) and fails the task with ``"Activity function '{name}' failed: {that}"``. Details
    is the serialised exception (``Utils.SerializeCause``); devhost writes its main fields."""
    message = f"{type(exc).__name__}: {exc}"
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
