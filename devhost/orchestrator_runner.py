"""Calling an orchestrator as the extension does: its history, the context JSON, the SDK's answer.

The extension hands the SDK ``{history, input, instanceId, isReplaying, parentInstanceId,
upperSchemaVersion, ...}`` and reads back ``{isDone, actions, output, customStatus}``. Old events
are kept in memory already encoded (``IsPlayed: true``), so an episode neither re-reads nor
re-serialises its history; the SDK's cumulative answer is decoded incrementally
(``answers.py``).
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import azure.functions as func

from devhost.answers import AnswerDecoder
from devhost.history import encode
from devhost.records import InstanceRow

log = logging.getLogger("devhost.engine")

HISTORY_CACHE_SIZE = 10_000
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
    orchestrator failed, and the seconds spent inside the SDK call alone."""

    state: dict[str, Any] | None
    error: str | None
    sdk_seconds: float


class OrchestratorRunner:
    """One per engine: the history cache and the calls into the registered orchestrators."""

    def __init__(
        self,
        orchestrators: Mapping[str, Callable[[func.OrchestrationContext], Any]],
        load_history: Callable[[str], list[dict[str, Any]]],
        log_invocation: LogInvocation,
    ) -> None:
        self._orchestrators = orchestrators
        self._load_history = load_history
        self._log_invocation = log_invocation
        self._history: OrderedDict[str, list[str]] = OrderedDict()
        self._answers = AnswerDecoder()

    # -- the history cache ------------------------------------------------------------------
    def history(self, instance_id: str) -> list[str]:
        """Old events of the current execution, encoded as played (loaded once, then cached)."""
        cached = self._history.get(instance_id)
        if cached is None:
            cached = [encode(event, played=True) for event in self._load_history(instance_id)]
            self._history[instance_id] = cached
            if len(self._history) > HISTORY_CACHE_SIZE:
                self._history.popitem(last=False)
        else:
            self._history.move_to_end(instance_id)
        return cached

    def forget(self, instance_id: str) -> None:
        """The instance ended, restarted, was purged, or a write of it was rolled back."""
        self._history.pop(instance_id, None)
        self._answers.forget(instance_id)

    def forget_all(self) -> None:
        self._history.clear()

    def restart(self, instance_id: str) -> None:
        """A new execution (continue-as-new): its history starts empty."""
        self._history[instance_id] = []
        self._answers.forget(instance_id)

    # -- one call -----------------------------------------------------------------------------
    def context(
        self, instance: InstanceRow, old: list[str], new_events: list[dict[str, Any]]
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

    def call(self, instance: InstanceRow, context: str) -> Answer:
        """Call the registered orchestrator with ``context``; never raises."""
        function = self._orchestrators.get(instance.name)
        if function is None:
            missing = f"The orchestrator function '{instance.name}' is not registered."
            return Answer(None, missing, 0)
        started = time.perf_counter()
        sdk_seconds = 0.0
        outcome = "Succeeded"
        try:
            try:
                raw = function(func.OrchestrationContext(context))
            finally:
                sdk_seconds = time.perf_counter() - started
            state = self._answers.decode(instance.instance_id, raw) if isinstance(raw, str) else raw
            return Answer(state, None, sdk_seconds)
        except Exception as exc:  # the SDK reports orchestrator errors by raising
            outcome = "Failed"
            return Answer(*_failure(instance, exc), sdk_seconds)
        finally:
            self._log_invocation(
                kind="orchestrator",
                name=instance.name,
                duration_ms=(time.perf_counter() - started) * 1000,
                outcome=outcome,
                instance_id=instance.instance_id,
            )


def _failure(instance: InstanceRow, exc: Exception) -> tuple[dict[str, Any] | None, str]:
    """The SDK appends its state to the exception text after a marker; anything else raised
    outside the SDK's handling is a bug in the app, logged with its traceback."""
    message = str(exc)
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
            "Orchestrator %s (%s) raised outside the SDK:\n%s",
            instance.name,
            instance.instance_id,
            traceback.format_exc(),
        )
    return state, message or type(exc).__name__
