"""New instances and executions: the row of a Pending instance, and the ``ExecutionStarted``
that opens an execution (with its parent, for a sub-orchestration)."""

from __future__ import annotations

import uuid
from typing import Any

from devhost.core.records import InstanceRow, OrchestrationState, ParentRef
from devhost.protocol.events import execution_started
from devhost.protocol.runtime_status import RuntimeStatus


def started_event(row: InstanceRow, now: str) -> dict[str, Any]:
    """The ``ExecutionStarted`` that opens an execution of ``row``."""
    parent = row.parent
    return execution_started(
        row.name,
        row.input,
        row.instance_id,
        row.execution_id,
        (parent.instance_id, parent.execution_id, parent.task_id) if parent else None,
        now,
    )


def new_instance(
    name: str, instance_id: str, input_json: str | None, now: str, parent: ParentRef | None
) -> InstanceRow:
    """A Pending instance with a new execution id and empty bookkeeping; its ``ExecutionStarted``
    is queued beside it (``started_event``), so the first episode starts it."""
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
