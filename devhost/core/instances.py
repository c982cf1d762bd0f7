"""New instances and executions: the row of a Pending instance, and the ``ExecutionStarted``
that opens an execution (with its parent, for a sub-orchestration)."""

from __future__ import annotations

import uuid
from typing import Any

from devhost.core.records import InstanceRow, OrchestrationState, ParentRef
from devhost.protocol.history import EventType, make_event
from devhost.protocol.runtime_status import RuntimeStatus


def started_event(row: InstanceRow, now: str) -> dict[str, Any]:
    """The ``ExecutionStarted`` that opens an execution of ``row``."""
    parent = row.parent
    return make_event(
        EventType.EXECUTION_STARTED,
        now,
        Name=row.name,
        Version="",
        Input=row.input if row.input is not None else "null",
        OrchestrationInstance={"InstanceId": row.instance_id, "ExecutionId": row.execution_id},
        ParentInstance=(
            {
                "Name": None,
                "OrchestrationInstance": {
                    "InstanceId": parent.instance_id,
                    "ExecutionId": parent.execution_id,
                },
                "TaskScheduleId": parent.task_id,
            }
            if parent
            else None
        ),
    )


def new_instance(
    name: str, instance_id: str, input_json: str | None, now: str, parent: ParentRef | None
) -> InstanceRow:
    return InstanceRow(
        instance_id=instance_id,
        name=name,
        execution_id=uuid.uuid4().hex,
        runtime_status=RuntimeStatus.PENDING,
        input=input_json,
        output=None,
        custom_status=None,
        created_time=now,
        last_updated_time=now,
        parent=parent,
        state=OrchestrationState(),
    )
