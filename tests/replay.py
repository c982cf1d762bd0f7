"""History builder: the JSON context the Durable extension hands the Python SDK, per episode.

Orchestrator tests drive the SDK's real replay with it (modelled on the history builder of
Azure/azure-functions-durable-python's own orchestrator tests): each episode's history is every
earlier event, marked played, followed by a new ``OrchestratorStarted`` and the new events. The
first episode is ``[OrchestratorStarted, ExecutionStarted]``.

Between episodes a test records what the extension would have recorded for the actions the SDK
asked for (``task_scheduled``, ``timer_created``), then moves on with ``next_episode`` and adds what
happened meanwhile (``task_completed``, ``timer_fired``, ``event_raised`` ...)::

    history = History("E1_HelloSequence")
    state = run_episode(handle, history)            # -> CallActivity E1_SayHello "Tokyo"
    task_id = history.task_scheduled("E1_SayHello")
    history.next_episode()
    history.task_completed(task_id, "Hello Tokyo!")
    state = run_episode(handle, history)

Sequence numbers follow the SDK (and DTFx): every activity, timer or sub-orchestration takes the
next id from 0 in the order the orchestrator schedules it; external events take none.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func

# The kinds and the timestamp format are devhost's own (the extension's numbers and text), so a
# history built here is read exactly as devhost reads the ones it records.
from devhost.protocol.actions import ActionType
from devhost.protocol.history import EventType, format_timestamp, make_event

START = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
"""When test instances start: a fixed time, so timer deadlines are predictable."""

OUT_OF_PROC_MARKER = "$OutOfProcData$:"


class History:
    """One orchestration instance's history, grown episode by episode."""

    def __init__(
        self,
        orchestrator: str,
        input: Any = None,
        *,
        instance_id: str = "test-instance",
        start: datetime = START,
        plain_input: bool = False,
    ) -> None:
        """Begin the first episode; ``input`` is the orchestrator input (None: no input).

        The context carries it as the SDK's ``start_new`` sends it: JSON text in a JSON string.
        ``plain_input=True`` carries the value itself instead, as the extension hands it over
        when a caller posted plain JSON (``2``, ``"bob"``) to the built-in start webhook.
        """
        self.instance_id = instance_id
        self.input_json = None if input is None else json.dumps(input)
        self._context_input = input if plain_input else self.input_json
        self.now = start
        self._played: list[dict[str, Any]] = []
        self._current: list[dict[str, Any]] = []
        self._next_sequence = 0
        self._timers: dict[int, str] = {}
        self._add(EventType.ORCHESTRATOR_STARTED)
        self._add(EventType.EXECUTION_STARTED, Name=orchestrator, Version="", Input=self.input_json)

    # -- the context for the current episode ------------------------------------------------------

    @property
    def events(self) -> list[dict[str, Any]]:
        """All events: the played ones, then the current episode's."""
        return [*self._played, *self._current]

    def context(self) -> dict[str, Any]:
        """The orchestration trigger's payload for the current episode."""
        return {
            "history": self.events,
            "input": self._context_input,
            "instanceId": self.instance_id,
            "isReplaying": bool(self._played),
            "parentInstanceId": None,
            "upperSchemaVersion": 2,
            "upperSchemaVersionNew": 3,
            "maximumShortTimerDuration": "6.00:00:00",
            "longRunningTimerIntervalDuration": "3.00:00:00",
        }

    def context_json(self) -> str:
        """``context()`` as the JSON text the SDK parses."""
        return json.dumps(self.context())

    # -- what the extension records for the actions of the episode that just ran ----------------

    def task_scheduled(self, name: str, input: Any = None) -> int:
        """Record a scheduled activity; returns its sequence number (TaskScheduledId)."""
        task_id = self._take_sequence_number()
        self._add(
            EventType.TASK_SCHEDULED, event_id=task_id, Name=name, Version="", Input=_json(input)
        )
        return task_id

    def timer_created(self, fire_at: datetime) -> int:
        """Record a created timer; returns its sequence number (TimerId)."""
        timer_id = self._take_sequence_number()
        self._timers[timer_id] = format_timestamp(fire_at)
        self._add(EventType.TIMER_CREATED, event_id=timer_id, FireAt=self._timers[timer_id])
        return timer_id

    # -- the next episode and what arrived for it -------------------------------------------------

    def next_episode(self, seconds: float = 1.0, *, at: datetime | None = None) -> None:
        """Close the current episode and start the next one ``seconds`` later (or ``at``)."""
        self._add(EventType.ORCHESTRATOR_COMPLETED)
        self._played.extend({**event, "IsPlayed": True} for event in self._current)
        self._current = []
        self.now = at if at is not None else self.now + timedelta(seconds=seconds)
        self._add(EventType.ORCHESTRATOR_STARTED)

    def task_completed(self, task_id: int, result: Any) -> None:
        """The activity ``task_id`` returned ``result``."""
        self._add(EventType.TASK_COMPLETED, TaskScheduledId=task_id, Result=json.dumps(result))

    def task_failed(self, task_id: int, reason: str, details: str = "") -> None:
        """The activity ``task_id`` raised."""
        self._add(EventType.TASK_FAILED, TaskScheduledId=task_id, Reason=reason, Details=details)

    def timer_fired(self, timer_id: int) -> None:
        """The timer ``timer_id`` fired (at the FireAt it was created with)."""
        self._add(EventType.TIMER_FIRED, TimerId=timer_id, FireAt=self._timers[timer_id])

    def event_raised(self, name: str, value: Any) -> None:
        """A client raised the external event ``name`` with ``value``."""
        self._add(EventType.EVENT_RAISED, Name=name, Input=json.dumps(value))

    # -- internals --------------------------------------------------------------------------------

    def _take_sequence_number(self) -> int:
        number = self._next_sequence
        self._next_sequence += 1
        return number

    def _add(self, event_type: EventType, *, event_id: int = -1, **fields: Any) -> None:
        self._current.append(make_event(event_type, format_timestamp(self.now), event_id, **fields))


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


Handle = Callable[[func.OrchestrationContext], str]


def run_episode(handle: Handle, history: History) -> dict[str, Any]:
    """Run one episode through the SDK's replay; the orchestrator state it returns, parsed.

    ``{"isDone", "actions", "output"?, "customStatus"?, "schemaVersion"}``: the SDK leaves out
    ``output`` while running and ``customStatus`` while unset.
    """
    return json.loads(handle(func.OrchestrationContext(history.context_json())))


def run_failing_episode(handle: Handle, history: History) -> tuple[str, dict[str, Any]]:
    """Run an episode in which the orchestrator raises: (its error text, the state).

    The SDK reports an orchestrator exception by raising an Exception whose message is the error
    text, then ``$OutOfProcData$:`` and the state JSON (with ``error`` set).
    """
    try:
        result = handle(func.OrchestrationContext(history.context_json()))
    except Exception as error:
        message = str(error)
        if OUT_OF_PROC_MARKER not in message:
            raise
        error_text, _, state_json = message.partition(OUT_OF_PROC_MARKER)
        return error_text.strip(), json.loads(state_json)
    raise AssertionError(f"the orchestrator did not fail; state: {result}")


def call_activity(name: str, input: Any = None) -> dict[str, Any]:
    """The action JSON the SDK emits for ``context.call_activity(name, input)`` (input as JSON)."""
    return {
        "actionType": int(ActionType.CALL_ACTIVITY),
        "functionName": name,
        "input": json.dumps(input),
    }


def wait_for_event(name: str) -> dict[str, Any]:
    """The action JSON for ``context.wait_for_external_event(name)``."""
    return {
        "actionType": int(ActionType.WAIT_FOR_EXTERNAL_EVENT),
        "externalEventName": name,
        "reason": "ExternalEvent",
    }


def create_timer(fire_at: datetime, *, canceled: bool = False) -> dict[str, Any]:
    """The action JSON for ``context.create_timer(fire_at)`` (``isCanceled`` once cancelled)."""
    return {
        "actionType": int(ActionType.CREATE_TIMER),
        "fireAt": format_timestamp(fire_at),
        "isCanceled": canceled,
    }


def when_any(*actions: dict[str, Any]) -> dict[str, Any]:
    """The action JSON for ``context.task_any`` over tasks with these actions."""
    return {"actionType": int(ActionType.WHEN_ANY), "compoundActions": list(actions)}
