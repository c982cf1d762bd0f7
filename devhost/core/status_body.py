"""The status body clients see, as the extension writes it."""

from __future__ import annotations

import json
from typing import Any

from devhost.core.records import InstanceRow
from devhost.protocol.history import status_time


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def status_body(instance: InstanceRow, show_input: bool) -> dict[str, Any]:
    """The extension's status body: name, instanceId, runtimeStatus, input, customStatus, output,
    createdTime, lastUpdatedTime (times like ``2019-10-06T18:30:24Z``)."""
    body = {
        "name": instance.name,
        "instanceId": instance.instance_id,
        "runtimeStatus": str(instance.runtime_status),
        "input": _loads(instance.input) if show_input else None,
        "customStatus": _loads(instance.custom_status),
        "output": _loads(instance.output),
        "createdTime": status_time(instance.created_time),
        "lastUpdatedTime": status_time(instance.last_updated_time),
    }
    if instance.state.problems:
        # devhost's own field, only when there is something to say: why the instance waits
        # for a task that Azure would silently never schedule.
        body["devhostProblems"] = list(instance.state.problems)
    return body
