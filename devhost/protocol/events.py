"""One builder per history event kind devhost writes, in the shape the Durable extension stores.

Every event devhost records or queues is built here, so each kind's fields (their names, which
take an ``EventId``, which timestamp they carry) are written down once and read the same way by
the SDK, the status API's ``showHistory`` and a rewind. Payloads (``Input``, ``Result``) are
JSON *text*, as the extension stores them; timestamps are devhost's fixed-width text
(``history.format_timestamp``). Scheduling events (``TaskScheduled``, ``TimerCreated``,
``SubOrchestrationInstanceCreated``) carry the task's sequence number as their ``EventId``;
completions name it in ``TaskScheduledId`` (``TimerId`` for a timer) and carry ``EventId`` -1,
as DurableTask.Core writes them.
"""

from __future__ import annotations

from typing import Any

from devhost.protocol.history import EventType, make_event
from devhost.protocol.runtime_status import RuntimeStatus

# -- an execution's life -----------------------------------------------------------------------


def execution_started(
    name: str,
    input_text: str | None,
    instance_id: str,
    execution_id: str,
    parent: tuple[str, str, int] | None,
    timestamp: str,
) -> dict[str, Any]:
    """``ExecutionStarted``, which opens an execution; ``parent`` is the parent's (instance id,
    execution id, task sequence number) for a sub-orchestration. A missing input is stored as
    the JSON text ``null``, as the extension stores it."""
    return make_event(
        EventType.EXECUTION_STARTED,
        timestamp,
        Name=name,
        Version="",
        Input=input_text if input_text is not None else "null",
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
        ParentInstance=(
            {
                "Name": None,
                "OrchestrationInstance": {"InstanceId": parent[0], "ExecutionId": parent[1]},
                "TaskScheduleId": parent[2],
            }
            if parent is not None
            else None
        ),
    )


def execution_completed(status: RuntimeStatus, result: str, timestamp: str) -> dict[str, Any]:
    """``ExecutionCompleted``: how the execution ended (Completed, Failed or Terminated) and its
    output as JSON text."""
    return make_event(
        EventType.EXECUTION_COMPLETED, timestamp, OrchestrationStatus=str(status), Result=result
    )


def execution_terminated(output: str, timestamp: str) -> dict[str, Any]:
    """``ExecutionTerminated``: a client's terminate; ``output`` (JSON text) is the reason as the
    instance's output."""
    return make_event(EventType.EXECUTION_TERMINATED, timestamp, Input=output)


def execution_suspended(reason: str | None, timestamp: str) -> dict[str, Any]:
    """``ExecutionSuspended`` with the client's reason."""
    return make_event(EventType.EXECUTION_SUSPENDED, timestamp, Reason=reason)


def execution_resumed(reason: str | None, timestamp: str) -> dict[str, Any]:
    """``ExecutionResumed`` with the client's reason."""
    return make_event(EventType.EXECUTION_RESUMED, timestamp, Reason=reason)


# -- an episode's markers ----------------------------------------------------------------------


def orchestrator_started(timestamp: str) -> dict[str, Any]:
    """``OrchestratorStarted``, first of each episode's new events: its timestamp is the
    ``current_utc_datetime`` the SDK replays."""
    return make_event(EventType.ORCHESTRATOR_STARTED, timestamp)


def orchestrator_completed(timestamp: str) -> dict[str, Any]:
    """``OrchestratorCompleted``, which closes an episode that did not end the instance."""
    return make_event(EventType.ORCHESTRATOR_COMPLETED, timestamp)


# -- activities ---------------------------------------------------------------------------------


def task_scheduled(seq: int, name: str, input_text: str | None, timestamp: str) -> dict[str, Any]:
    """``TaskScheduled``: activity ``name`` called with ``input_text`` as task ``seq``."""
    return make_event(EventType.TASK_SCHEDULED, timestamp, seq, Name=name, Input=input_text)


def task_completed(seq: int, result: str | None, timestamp: str) -> dict[str, Any]:
    """``TaskCompleted``: task ``seq`` returned ``result`` (JSON text, as the worker encoded it)."""
    return make_event(EventType.TASK_COMPLETED, timestamp, TaskScheduledId=seq, Result=result)


def task_failed(seq: int, reason: str, details: str | None, timestamp: str) -> dict[str, Any]:
    """``TaskFailed``: task ``seq`` failed; the SDK raises ``reason`` in the orchestrator."""
    return make_event(
        EventType.TASK_FAILED, timestamp, TaskScheduledId=seq, Reason=reason, Details=details
    )


# -- timers -------------------------------------------------------------------------------------


def timer_created(seq: int, fire_at: str, timestamp: str) -> dict[str, Any]:
    """``TimerCreated``: timer ``seq`` due at ``fire_at``."""
    return make_event(EventType.TIMER_CREATED, timestamp, seq, FireAt=fire_at)


def timer_fired(seq: int, fire_at: str) -> dict[str, Any]:
    """``TimerFired`` for timer ``seq``, stamped with its fire time: the message is written when
    the timer is armed (it becomes visible only at ``fire_at``), so the moment it is due is the
    only time it can honestly carry, and a restart or a rewind that re-arms it writes the same
    event."""
    return make_event(EventType.TIMER_FIRED, fire_at, TimerId=seq, FireAt=fire_at)


# -- sub-orchestrations ---------------------------------------------------------------------------


def sub_orchestration_created(
    seq: int, name: str, instance_id: str, input_text: str | None, timestamp: str
) -> dict[str, Any]:
    """``SubOrchestrationInstanceCreated``: orchestrator ``name`` started as ``instance_id``
    (task ``seq``) with ``input_text`` as the parent's action sent it."""
    return make_event(
        EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
        timestamp,
        seq,
        Name=name,
        InstanceId=instance_id,
        Input=input_text,
    )


def sub_orchestration_completed(seq: int, result: str, timestamp: str) -> dict[str, Any]:
    """``SubOrchestrationInstanceCompleted``, the parent's message: task ``seq`` returned
    ``result`` (the child's output, JSON text)."""
    return make_event(
        EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
        timestamp,
        TaskScheduledId=seq,
        Result=result,
    )


def sub_orchestration_failed(
    seq: int, reason: str, details: str | None, timestamp: str
) -> dict[str, Any]:
    """``SubOrchestrationInstanceFailed``, the parent's message: task ``seq`` failed, or could
    not be started."""
    return make_event(
        EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
        timestamp,
        TaskScheduledId=seq,
        Reason=reason,
        Details=details,
    )


# -- clients' events ----------------------------------------------------------------------------


def event_raised(name: str, input_text: str, timestamp: str) -> dict[str, Any]:
    """``EventRaised``: a client raised ``name`` with ``input_text`` (JSON text)."""
    return make_event(EventType.EVENT_RAISED, timestamp, Name=name, Input=input_text)


def generic_event(data: str | None, timestamp: str, event_id: int = -1) -> dict[str, Any]:
    """``GenericEvent``: an event replay ignores. A rewind writes one in place of each cleared
    row (keeping its ``EventId``) and queues one carrying the reason to wake the instance."""
    return make_event(EventType.GENERIC_EVENT, timestamp, event_id, Data=data)
