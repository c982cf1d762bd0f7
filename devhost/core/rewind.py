"""Rewinding a Failed instance as DurableTask.AzureStorage does, as pure functions of its history.

``AzureTableTrackingStore.RewindHistoryAsync`` (Azure/durabletask) works on the latest execution's
history rows: every ``TaskFailed`` and its ``TaskScheduled`` and the failed ``ExecutionCompleted``
become ``GenericEvent`` rows (which replay ignores, so the failed calls are scheduled again); a
``SubOrchestrationInstanceFailed`` becomes one too, while its ``SubOrchestrationInstanceCreated``
stays and the child is rewound the same way. The instance goes back to Pending, and only the
deepest failed instances of each branch get a ``GenericEvent`` message carrying the reason, which
wakes them; a rewound parent wakes when its rewound child completes.

DurableTask.Core then replays the whole history against the orchestrator's actions, matching each
scheduling event to the action with its sequence number (``TaskOrchestrationContext``'s
``Handle*CreatedEvent``/``HandleTaskScheduledEvent``), and schedules the actions left over. The
dispatcher's first episode after a rewind does the same with :class:`Replay`; anything in the
history the new actions do not account for is the error DurableTask reports as non-determinism
(for example the retry timers of a ``*_with_retry`` call whose failed attempts were rewound).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devhost.core.records import OrchestrationState, PendingTask, TaskKind
from devhost.protocol.events import generic_event
from devhost.protocol.history import COMPLETION_KEYS, FAILURE_EVENTS, EventType

# The event that records each kind of scheduled task in history.
SCHEDULING_EVENTS: dict[EventType, TaskKind] = {
    EventType.TASK_SCHEDULED: "activity",
    EventType.SUB_ORCHESTRATION_INSTANCE_CREATED: "sub_orchestration",
    EventType.TIMER_CREATED: "timer",
}


@dataclass
class Rewound:
    """One instance's rewound history and what follows from it.

    ``children``: ids of sub-orchestrations whose failure was cleared (to rewind in turn);
    ``state``: the bookkeeping rebuilt from the new history, its ``replay`` naming the sequence
    numbers already scheduled; ``timers``: outstanding timers (sequence number, fire time), which
    devhost re-arms since Azure's would still be queued; ``activities``: outstanding activities
    whose results Azure discarded while the instance was Failed (they never complete)."""

    events: list[dict[str, Any]]
    children: list[str] = field(default_factory=list)
    state: OrchestrationState = field(default_factory=OrchestrationState)
    timers: list[tuple[int, str]] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)


def _generic(event: dict[str, Any]) -> dict[str, Any]:
    """The row as DurableTask reads it back once its EventType says GenericEvent: the base fields
    and ``Data`` (the Reason column it gets is not a GenericEvent property)."""
    generic = generic_event(None, event["Timestamp"], event.get("EventId", -1))
    generic["IsPlayed"] = event.get("IsPlayed", True)
    return generic


def rewind_history(events: list[dict[str, Any]]) -> Rewound:
    """The rewound copy of an execution's history (``events`` is not changed)."""
    failed = {
        (event["EventType"], int(event["TaskScheduledId"]))
        for event in events
        if event["EventType"] in FAILURE_EVENTS
    }
    rewound = Rewound(events=[])
    for event in events:
        kind = event["EventType"]
        if _cleared(event, failed):
            rewound.events.append(_generic(event))
            continue
        if (EventType.SUB_ORCHESTRATION_INSTANCE_FAILED, event.get("EventId")) in failed and (
            kind == EventType.SUB_ORCHESTRATION_INSTANCE_CREATED
        ):
            rewound.children.append(event["InstanceId"])
        rewound.events.append(dict(event))
    _rebuild(rewound)
    return rewound


def _cleared(event: dict[str, Any], failed: set[tuple[int, int]]) -> bool:
    """A failure, the failed execution's end, or the TaskScheduled of a failed activity."""
    kind = event["EventType"]
    if kind in FAILURE_EVENTS:
        return True
    if kind == EventType.EXECUTION_COMPLETED:
        return bool(event.get("OrchestrationStatus") == "Failed")
    return kind == EventType.TASK_SCHEDULED and (EventType.TASK_FAILED, event["EventId"]) in failed


def _rebuild(rewound: Rewound) -> None:
    """Outstanding tasks and the replay map, from the rewound history."""
    scheduled: dict[int, dict[str, Any]] = {}
    completed: set[int] = set()
    for event in rewound.events:
        kind = EventType(event["EventType"])
        if kind in SCHEDULING_EVENTS:
            scheduled[int(event["EventId"])] = event
        elif kind in COMPLETION_KEYS:
            completed.add(int(event[COMPLETION_KEYS[kind]]))
    state = rewound.state
    state.replay = {seq: SCHEDULING_EVENTS[e["EventType"]] for seq, e in scheduled.items()}
    for seq, event in scheduled.items():
        if seq in completed:
            continue
        task_kind = state.replay[seq]
        state.pending[seq] = PendingTask(
            kind=task_kind,
            name=event.get("Name"),
            input=event.get("Input"),
            child_id=event.get("InstanceId"),
        )
        if task_kind == "timer":
            rewound.timers.append((seq, event["FireAt"]))
        elif task_kind == "activity":
            rewound.activities.append(f"{event.get('Name')} (task {seq})")


def replay_mismatch(replay: dict[int, TaskKind], matched: dict[int, TaskKind]) -> str | None:
    """DurableTask.Core's non-determinism error for the first scheduling event in history that the
    replayed actions did not schedule with the same number and kind, or None."""
    for seq in sorted(replay):
        kind = replay[seq]
        if seq not in matched:
            return (
                f"Non-Deterministic workflow detected: A previous execution of this orchestration "
                f"scheduled {_NAMES[kind]} with sequence number {seq} but the current replay "
                "execution hasn't (yet?) scheduled this task. Was a change made to the "
                "orchestrator code after this instance had already started running?"
            )
        if matched[seq] != kind:
            return (
                f"Non-Deterministic workflow detected: A previous execution of this orchestration "
                f"scheduled {_NAMES[kind]} with sequence number {seq} but the current "
                f"orchestration replay instead produced {_NAMES[matched[seq]]} with this "
                "sequence number. Was a change made to the orchestrator code after this instance "
                "had already started running?"
            )
    return None


_NAMES: dict[TaskKind, str] = {
    "activity": "an activity task",
    "sub_orchestration": "a sub-orchestration task",
    "timer": "a timer task",
    "retry_timer": "a timer task",
}
