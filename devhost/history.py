"""History events in the shape the Durable extension hands the Python SDK.

The extension serialises DurableTask.Core history events with Json.NET: PascalCase fields, an
integer ``EventType``, ``EventId`` (-1 for events that schedule nothing), ``IsPlayed`` and an ISO
timestamp. Payload fields (``Input``, ``Result``) are JSON *text*, which the SDK decodes with
``df_loads``."""

import json
from datetime import datetime, timezone
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


def format_timestamp(moment: datetime) -> str:
    """Fixed-width UTC text, so that timestamps also sort correctly as strings in SQLite."""
    return moment.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Parse the SDK's and our own timestamp text (``...Z`` with or without fractions)."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


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


def encode(event: dict[str, Any], played: bool) -> str:
    """Serialise an event for the SDK; old episodes' events are sent with ``IsPlayed: true``."""
    event["IsPlayed"] = played
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


# Fields each event type keeps when a client asks for history (showHistory / showHistoryOutput).
_HISTORY_NAMES = {
    EventType.EXECUTION_STARTED: "ExecutionStarted",
    EventType.EXECUTION_COMPLETED: "ExecutionCompleted",
    EventType.EXECUTION_TERMINATED: "ExecutionTerminated",
    EventType.TASK_COMPLETED: "TaskCompleted",
    EventType.TASK_FAILED: "TaskFailed",
    EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED: "SubOrchestrationInstanceCompleted",
    EventType.SUB_ORCHESTRATION_INSTANCE_FAILED: "SubOrchestrationInstanceFailed",
    EventType.TIMER_CREATED: "TimerCreated",
    EventType.TIMER_FIRED: "TimerFired",
    EventType.EVENT_RAISED: "EventRaised",
    EventType.CONTINUE_AS_NEW: "ContinueAsNew",
    EventType.EXECUTION_SUSPENDED: "ExecutionSuspended",
    EventType.EXECUTION_RESUMED: "ExecutionResumed",
}


def _json_or_text(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def public_history(events: list[dict[str, Any]], show_output: bool) -> list[dict[str, Any]]:
    """The ``historyEvents`` list of the status API: readable, with task names and results.

    Like the extension, scheduling events are folded into their completions (a TaskCompleted shows
    the activity's name and ScheduledTime) and the orchestrator episode markers are left out.
    """
    scheduled: dict[int, dict[str, Any]] = {}
    result: list[dict[str, Any]] = []
    for event in events:
        kind = EventType(event["EventType"])
        if kind in (EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_INSTANCE_CREATED):
            scheduled[event["EventId"]] = event
            continue
        name = _HISTORY_NAMES.get(kind)
        if name is None:
            continue
        item: dict[str, Any] = {"EventType": name, "Timestamp": status_time(event["Timestamp"])}
        if kind == EventType.EXECUTION_STARTED:
            item["FunctionName"] = event.get("Name")
        elif kind in (
            EventType.TASK_COMPLETED,
            EventType.TASK_FAILED,
            EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
            EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
        ):
            origin = scheduled.get(event.get("TaskScheduledId", -2), {})
            item["FunctionName"] = origin.get("Name")
            if origin:
                item["ScheduledTime"] = status_time(origin["Timestamp"])
            if "Reason" in event:
                item["Reason"] = event["Reason"]
                item["Details"] = event.get("Details")
            if show_output and "Result" in event:
                item["Result"] = _json_or_text(event["Result"])
        elif kind in (EventType.TIMER_CREATED, EventType.TIMER_FIRED):
            item["FireAt"] = event.get("FireAt")
        elif kind == EventType.EVENT_RAISED:
            item["Name"] = event.get("Name")
            if show_output:
                item["Input"] = _json_or_text(event.get("Input"))
        elif kind == EventType.EXECUTION_COMPLETED:
            item["OrchestrationStatus"] = event.get("OrchestrationStatus")
            if show_output:
                item["Result"] = _json_or_text(event.get("Result"))
        elif kind == EventType.EXECUTION_TERMINATED:
            item["Reason"] = _json_or_text(event.get("Input"))
        result.append(item)
    return result
