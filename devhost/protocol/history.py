"""History events in the shape the Durable extension hands the Python SDK.

The extension serialises DurableTask.Core history events with Json.NET: PascalCase fields, an
integer ``EventType``, ``EventId`` (-1 for events that schedule nothing), ``IsPlayed`` and an ISO
timestamp. Payload fields (``Input``, ``Result``) are JSON *text*, which the SDK decodes with
``df_loads``."""

import json
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class EventType(IntEnum):
    """DurableTask.Core's EventType values (the SDK mirrors them in HistoryEventType)."""

    EXECUTION_STARTED = 0
    EXECUTION_COMPLETED = 1
    EXECUTION_FAILED = 2
    EXECUTION_TERMINATED = 3
    TASK_SCHEDULED = 4
    TASK_COMPLETED = 5
    TASK_FAILED = 6
    SUB_ORCHESTRATION_INSTANCE_CREATED = 7
    SUB_ORCHESTRATION_INSTANCE_COMPLETED = 8
    SUB_ORCHESTRATION_INSTANCE_FAILED = 9
    TIMER_CREATED = 10
    TIMER_FIRED = 11
    ORCHESTRATOR_STARTED = 12
    ORCHESTRATOR_COMPLETED = 13
    EVENT_SENT = 14
    EVENT_RAISED = 15
    CONTINUE_AS_NEW = 16
    GENERIC_EVENT = 17
    HISTORY_STATE = 18
    EXECUTION_SUSPENDED = 19
    EXECUTION_RESUMED = 20


# Events that complete a scheduled task, and the field naming the task's sequence number.
COMPLETION_KEYS = {
    EventType.TASK_COMPLETED: "TaskScheduledId",
    EventType.TASK_FAILED: "TaskScheduledId",
    EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED: "TaskScheduledId",
    EventType.SUB_ORCHESTRATION_INSTANCE_FAILED: "TaskScheduledId",
    EventType.TIMER_FIRED: "TimerId",
}


# Events that report a task's failure.
FAILURE_EVENTS = frozenset({EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_INSTANCE_FAILED})


def format_timestamp(moment: datetime) -> str:
    """Fixed-width UTC text, so that timestamps also sort correctly as strings in SQLite."""
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Parse the SDK's and our own timestamp text (``...Z`` with or without fractions)."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def status_time(text: str) -> str:
    """Times in status bodies look like the extension's: ``2019-10-06T18:30:24Z``."""
    return parse_timestamp(text).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_event(
    event_type: EventType, timestamp: str, event_id: int = -1, **fields: Any
) -> dict[str, Any]:
    """One history event as a dict; ``IsPlayed`` is set when it is serialised for an episode."""
    event: dict[str, Any] = {
        "EventType": int(event_type),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": timestamp,
    }
    event.update(fields)
    return event


def json_net_time(text: str) -> str:
    """A timestamp as Json.NET writes a ``DateTime`` (``...ss.FFFFFFFZ``): the fraction's trailing
    zeros dropped, and its dot when nothing is left. devhost keeps fixed-width text internally (it
    sorts); history leaves for the SDK and clients in the extension's form."""
    if not text.endswith("Z") or "." not in text:
        return text
    head, _, fraction = text[:-1].partition(".")
    fraction = fraction.rstrip("0")
    return f"{head}.{fraction}Z" if fraction else f"{head}Z"


_TIME_FIELDS = ("Timestamp", "FireAt")


def encode(event: dict[str, Any], played: bool) -> str:
    """Serialise an event for the SDK and the history table, timestamps as Json.NET writes them;
    old episodes' events are sent with ``IsPlayed: true``."""
    event["IsPlayed"] = played
    for key in _TIME_FIELDS:
        value = event.get(key)
        if isinstance(value, str):
            event[key] = json_net_time(value)
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def json_or_text(text: Any) -> Any:
    """``DurableClient.ParseToJToken``: JSON when it parses, else the trimmed text."""
    if not isinstance(text, str):
        return text
    value = text.strip()
    try:
        return json.loads(value) if value else ""
    except ValueError:
        return value


_SCHEDULING = {
    EventType.TASK_COMPLETED: EventType.TASK_SCHEDULED,
    EventType.TASK_FAILED: EventType.TASK_SCHEDULED,
    EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED: EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
    EventType.SUB_ORCHESTRATION_INSTANCE_FAILED: EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
}
_WITH_RESULT = {
    EventType.TASK_COMPLETED,
    EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
    EventType.EXECUTION_COMPLETED,
}


def event_type_name(kind: EventType) -> str:
    """``TaskScheduled`` for ``TASK_SCHEDULED``: the name the extension's status API shows."""
    return "".join(part.capitalize() for part in kind.name.split("_"))


def public_history(
    events: list[dict[str, Any]], show_output: bool, show_input: bool = True
) -> list[dict[str, Any]]:
    """The ``historyEvents`` of the status API, as the extension's
    ``DurableClient.GetDurableOrchestrationStatusAsync`` builds them from the stored events:
    ``EventType`` as its name, ``EventId``/``IsPlayed`` and the episode markers removed,
    timestamps at full precision; a completion takes its scheduling event's ``FunctionName``,
    ``ScheduledTime`` and ``Input`` and the scheduling event goes, while one still outstanding
    stays; results only with ``showHistoryOutput`` (parsed as JSON); ``Input`` fields only with
    ``showInput``."""
    items: list[dict[str, Any]] = []
    scheduled: dict[tuple[EventType, Any], int] = {}
    folded: set[int] = set()
    for event in events:
        kind = EventType(event["EventType"])
        if kind in (EventType.ORCHESTRATOR_STARTED, EventType.ORCHESTRATOR_COMPLETED):
            continue
        item = {k: v for k, v in event.items() if k not in ("EventId", "IsPlayed")}
        item["EventType"] = event_type_name(kind)
        if kind in (EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_INSTANCE_CREATED):
            scheduled[(kind, event.get("EventId"))] = len(items)
            item.pop("Version", None)
        elif kind in _SCHEDULING:
            index = scheduled.get((_SCHEDULING[kind], event.get("TaskScheduledId")))
            if index is not None:
                origin = items[index]
                item["ScheduledTime"] = origin["Timestamp"]
                item["FunctionName"] = origin.get("Name")
                if show_input:
                    item["Input"] = origin.get("Input")
                folded.add(index)
            item.pop("TaskScheduledId", None)
        elif kind == EventType.EXECUTION_STARTED:
            item["FunctionName"] = item.pop("Name", None)
            for key in ("OrchestrationInstance", "ParentInstance", "Version", "Tags"):
                item.pop(key, None)
        elif kind == EventType.TIMER_FIRED:
            item.pop("TimerId", None)
        if kind in _WITH_RESULT:
            if show_output:
                item["Result"] = json_or_text(item.get("Result"))
            else:
                item.pop("Result", None)
        if not show_input:
            item.pop("Input", None)
        items.append(item)
    return [item for index, item in enumerate(items) if index not in folded]
