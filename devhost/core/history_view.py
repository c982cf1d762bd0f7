"""An execution's history as the dashboard's table: one row per stored event, with what a reader
would otherwise work out by hand.

The status API's ``showHistory`` folds each scheduling event into its completion and drops the
episode markers (``public_history``); a developer looking for why an instance is slow or stuck
wants every event in order, and beside each completion when its task was scheduled and how long it
took, each timer's fire time, which attempt of a retried call it was, and a sub-orchestration's
instance id. All of it follows from the history alone, so these are pure functions of the stored
events, paged so that a long history is shown a slice at a time.

Retries leave no mark of their own in DurableTask's history: a ``*_with_retry`` call that fails
gets a timer, and when that fires the call is scheduled again under a new number (``scheduling.py``
numbers them, and ``batch.py`` delivers each retry-related event first in its episode). A task
counts as the next attempt of a failed one when its episode opens with the firing of the timer
that the failure's episode created first, and it calls the same function with the same input;
such chains number their attempts from 1. A call with retry options that succeeds at once looks
like any other call, so it has no attempt number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devhost.protocol.history import (
    COMPLETION_KEYS,
    FAILURE_EVENTS,
    EventType,
    event_type_name,
    json_or_text,
    parse_timestamp,
)

_SCHEDULING = frozenset(
    {
        EventType.TASK_SCHEDULED,
        EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
        EventType.TIMER_CREATED,
    }
)
_CALLS = frozenset({EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_INSTANCE_CREATED})
_WITH_INPUT = frozenset(
    {
        EventType.EXECUTION_STARTED,
        EventType.TASK_SCHEDULED,
        EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
        EventType.EVENT_RAISED,
        EventType.EVENT_SENT,
        EventType.EXECUTION_TERMINATED,
    }
)
_WITH_RESULT = frozenset(
    {
        EventType.TASK_COMPLETED,
        EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
        EventType.EXECUTION_COMPLETED,
    }
)
_WITH_NAME = frozenset(
    {*_CALLS, EventType.EXECUTION_STARTED, EventType.EVENT_RAISED, EventType.EVENT_SENT}
)


@dataclass(frozen=True)
class HistoryPage:
    """``rows`` from ``offset`` on, of ``total`` events in the history."""

    total: int
    offset: int
    rows: list[dict[str, Any]]


@dataclass
class _Tasks:
    """What the whole history says about its tasks: each scheduling event's position by sequence
    number, and each call's attempt number (by sequence number) when it was retried."""

    scheduled: dict[int, int]
    attempts: dict[int, int]


def history_page(events: list[dict[str, Any]], offset: int, top: int) -> HistoryPage:
    """Rows ``offset`` to ``offset + top`` of the table for ``events`` (a stored history, in
    order); the whole history is read once for its tasks, and only the page's rows are built."""
    tasks = _tasks(events)
    offset = max(0, min(offset, len(events)))
    rows = [_row(index, events, tasks) for index in range(offset, min(offset + top, len(events)))]
    return HistoryPage(len(events), offset, rows)


def _kind(event: dict[str, Any]) -> EventType:
    return EventType(event["EventType"])


def _tasks(events: list[dict[str, Any]]) -> _Tasks:
    scheduled: dict[int, int] = {}
    for index, event in enumerate(events):
        if _kind(event) in _SCHEDULING:
            scheduled[int(event.get("EventId", -1))] = index
    next_attempt: dict[int, int] = {}
    retry_timers: dict[int, int] = {}  # timer's number -> the failed call's number
    for index, event in enumerate(events):
        kind = _kind(event)
        if index == 0 or _kind(events[index - 1]) != EventType.ORCHESTRATOR_STARTED:
            continue  # a retry-related event always opens its episode
        following = _first_scheduling_after(events, index)
        if following is None:
            continue
        if kind in FAILURE_EVENTS and _kind(events[following]) == EventType.TIMER_CREATED:
            retry_timers[int(events[following]["EventId"])] = int(event["TaskScheduledId"])
        elif kind == EventType.TIMER_FIRED and int(event["TimerId"]) in retry_timers:
            failed = retry_timers[int(event["TimerId"])]
            origin, again = scheduled.get(failed), events[following]
            if origin is not None and _same_call(events[origin], again):
                next_attempt[failed] = int(again["EventId"])
    attempts: dict[int, int] = {}
    for first in set(next_attempt) - set(next_attempt.values()):
        seq, attempt = first, 1
        while True:
            attempts[seq] = attempt
            if seq not in next_attempt:
                break
            seq, attempt = next_attempt[seq], attempt + 1
    return _Tasks(scheduled, attempts)


def _first_scheduling_after(events: list[dict[str, Any]], index: int) -> int | None:
    """The position of the first task scheduled after ``index`` in the same episode."""
    for position in range(index + 1, len(events)):
        kind = _kind(events[position])
        if kind == EventType.ORCHESTRATOR_STARTED:
            return None
        if kind in _SCHEDULING:
            return position
    return None


def _same_call(first: dict[str, Any], again: dict[str, Any]) -> bool:
    return (
        _kind(first) in _CALLS
        and _kind(again) == _kind(first)
        and again.get("Name") == first.get("Name")
        and again.get("Input") == first.get("Input")
    )


def _row(index: int, events: list[dict[str, Any]], tasks: _Tasks) -> dict[str, Any]:
    event = events[index]
    kind = _kind(event)
    row: dict[str, Any] = {
        "index": index,
        "eventId": event.get("EventId", -1),
        "eventType": event_type_name(kind),
        "timestamp": event.get("Timestamp"),
        "name": event.get("Name") if kind in _WITH_NAME else None,
        "input": json_or_text(event.get("Input")) if kind in _WITH_INPUT else None,
        "result": json_or_text(event.get("Result")) if kind in _WITH_RESULT else None,
        "reason": event.get("Reason", event.get("Data")),
        "details": event.get("Details"),
        "taskScheduledId": None,
        "scheduledTime": None,
        "durationMs": None,
        "fireAt": event.get("FireAt"),
        "attempt": None,
        "subInstanceId": event.get("InstanceId"),
    }
    seq: int | None = int(event.get("EventId", -1)) if kind in _SCHEDULING else None
    key_name = COMPLETION_KEYS.get(kind)
    if key_name is not None:
        seq = int(event[key_name])
        row["taskScheduledId"] = seq
        origin_index = tasks.scheduled.get(seq)
        if origin_index is not None:
            origin = events[origin_index]
            row["scheduledTime"] = origin.get("Timestamp")
            row["durationMs"] = _milliseconds(origin.get("Timestamp"), event.get("Timestamp"))
            row["name"] = origin.get("Name")
            row["subInstanceId"] = origin.get("InstanceId")
    if seq is not None:
        row["attempt"] = tasks.attempts.get(seq)
    return row


def _milliseconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    elapsed = parse_timestamp(end) - parse_timestamp(start)
    return round(elapsed.total_seconds() * 1000, 3)
