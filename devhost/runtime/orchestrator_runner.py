"""Calling an orchestrator as the extension does: its history, the context JSON, the SDK's answer.

The extension hands the SDK ``{history, input, instanceId, isReplaying, parentInstanceId,
upperSchemaVersion, ...}`` and reads back ``{isDone, actions, output, customStatus}``. Old events
come from the store's history cache already encoded (``IsPlayed: true``), so an episode neither
re-reads nor re-serialises its history; the SDK's cumulative answer is decoded incrementally
(``answers.py``). The call itself is an invocation of the orchestrator function in a worker
process (``devhost.workers``), where Microsoft's worker library runs the SDK.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from devhost.app.loader import OrchestratorFunction
from devhost.core.records import InstanceRow
from devhost.protocol.answers import AnswerDecoder
from devhost.protocol.history import encode
from devhost.workers.invocations import Invoker, Reply

log = logging.getLogger("devhost.runtime.engine")

OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"

# What the extension adds to every orchestration context besides history, input and ids
# (OrchestrationTriggerAttributeBindingProvider.OrchestrationContextToString): the schema it
# speaks as its SchemaVersion enum's numbers (V2 = 1, and V3 = 2 in the "New" field that SDK
# 1.1.4+ reads) and Azure Storage's long-timer settings, under which the SDK splits timers
# longer than six days.
_CONTEXT_TAIL = (
    ',"upperSchemaVersion":1,"upperSchemaVersionNew":2,'
    '"maximumShortTimerDuration":"6.00:00:00","longRunningTimerIntervalDuration":"3.00:00:00",'
    '"defaultHttpAsyncRequestSleepTimeMillseconds":30000}'
)


class LogInvocation(Protocol):
    def __call__(
        self, *, kind: str, name: str, duration_ms: float, outcome: str, instance_id: str
    ) -> None: ...


@dataclass
class Answer:
    """The SDK's answer (or the state it reported with a failure), the failure text if the
    orchestrator failed, and the seconds spent in the invocation (worker and SDK).

    ``aborted``: the host could not complete the invocation in a way the extension treats as
    transient (``functionTimeout``): the episode is thrown away and runs again."""

    state: dict[str, Any] | None
    error: str | None
    sdk_seconds: float
    aborted: bool = False


class OrchestratorRunner:
    """One per engine: the context JSON and the calls into the registered orchestrators."""

    def __init__(
        self,
        orchestrators: Mapping[str, OrchestratorFunction],
        invoker: Invoker,
        log_invocation: LogInvocation,
    ) -> None:
        self._orchestrators = orchestrators
        self._invoker = invoker
        self._log_invocation = log_invocation
        self._answers = AnswerDecoder()

    # -- one call -----------------------------------------------------------------------------
    def context(
        self, instance: InstanceRow, old: Sequence[str], new_events: list[dict[str, Any]]
    ) -> str:
        """The orchestration context JSON, built from already encoded text."""
        parent = instance.parent.instance_id if instance.parent else None
        return "".join(
            (
                '{"history":[',
                ",".join([*old, *(encode(e, played=False) for e in new_events)]),
                '],"input":',
                instance.input if instance.input is not None else "null",
                ',"instanceId":',
                json.dumps(instance.instance_id),
                ',"isReplaying":',
                "true" if old else "false",
                ',"parentInstanceId":',
                json.dumps(parent),
                _CONTEXT_TAIL,
            )
        )

    async def call(self, instance: InstanceRow, context: str) -> Answer:
        """Invoke the registered orchestrator with ``context``; never raises.

        As the extension's ``TaskOrchestrationShim`` and ``DurableTaskExtension`` do: the SDK's
        failure carries its state after a marker; a failure of the invocation itself (the
        worker process exited) fails the orchestration with its message; ``functionTimeout``
        aborts the episode, which runs again."""
        function = self._orchestrators.get(instance.name)
        if function is None:
            missing = f"The orchestrator function '{instance.name}' is not registered."
            return Answer(None, missing, 0)
        started = time.perf_counter()
        reply = await self._invoker.orchestrator(
            function.function_id, function.function_name, function.context_param, context
        )
        seconds = time.perf_counter() - started
        self._log_invocation(
            kind="orchestrator",
            name=instance.name,
            duration_ms=seconds * 1000,
            outcome="Succeeded" if reply.ok else "Failed",
            instance_id=instance.instance_id,
        )
        if reply.timed_out:
            log.error(
                "Orchestrator %s (%s): %s. The episode is aborted and will run again, as the "
                "Durable extension does after a function timeout.",
                instance.name,
                instance.instance_id,
                reply.error,
            )
            return Answer(None, reply.error, seconds, aborted=True)
        if not reply.ok:
            return Answer(*_failure(instance, reply), seconds)
        if reply.value is None:
            return Answer(None, "The orchestrator returned no value.", seconds)
        return Answer(self._answers.decode(instance.instance_id, reply.value), None, seconds)


def _failure(instance: InstanceRow, reply: Reply) -> tuple[dict[str, Any] | None, str]:
    """The SDK appends its state to the exception text after a marker; a failure without it is
    the app's or the host's (the worker exited), logged with its traceback."""
    message = reply.error or ""
    state = None
    if OUT_OF_PROC_MARKER in message:
        message, _, data = message.partition(OUT_OF_PROC_MARKER)
        try:
            state = json.loads(data)
        except ValueError:
            state = None
        message = (state or {}).get("error") or message
    else:
        log.error(
            "Orchestrator %s (%s) failed outside the SDK: %s\n%s",
            instance.name,
            instance.instance_id,
            message,
            reply.stack,
        )
    return state, message or "The orchestrator failed."
