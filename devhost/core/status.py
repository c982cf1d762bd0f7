"""Runtime statuses, the one instance-id validator, and the status body clients see.

The extension's names and rules, kept in one place: the engine checks ids with the same function
the HTTP API uses, and every runtime status is a :class:`RuntimeStatus`, never a string literal.
"""

from __future__ import annotations

import json
import unicodedata
from enum import Enum
from typing import TYPE_CHECKING, Any

from devhost.core.errors import InvalidInstanceId
from devhost.protocol.history import status_time

if TYPE_CHECKING:
    from devhost.core.records import InstanceRow

MAX_INSTANCE_ID_LENGTH = 256


class RuntimeStatus(str, Enum):
    """``OrchestrationRuntimeStatus`` as the extension names it in status bodies and filters."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    CONTINUED_AS_NEW = "ContinuedAsNew"
    FAILED = "Failed"
    CANCELED = "Canceled"
    TERMINATED = "Terminated"
    PENDING = "Pending"
    SUSPENDED = "Suspended"

    @property
    def is_ended(self) -> bool:
        """Completed, Failed, Terminated or Canceled: it takes no more events or operations."""
        return self in ENDED

    def __str__(self) -> str:
        return self.value


ENDED = frozenset(
    {
        RuntimeStatus.COMPLETED,
        RuntimeStatus.FAILED,
        RuntimeStatus.TERMINATED,
        RuntimeStatus.CANCELED,
    }
)
ACTIVE = (RuntimeStatus.PENDING, RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED)
"""What an instance of devhost's can be while it has not ended (it never stores the others)."""
PURGEABLE = (RuntimeStatus.COMPLETED, RuntimeStatus.FAILED, RuntimeStatus.TERMINATED)


def validate_instance_id(instance_id: str) -> None:
    """The extension's rules for instance ids (``DurableClient``), with its messages: at most 256
    characters, not starting with ``@``, no ``/ \\ # ?`` or control characters. Spaces are fine."""
    if not instance_id:
        raise InvalidInstanceId("Orchestration instance ids must not be empty.")
    if instance_id.startswith("@"):
        raise InvalidInstanceId("Orchestration instance ids must not start with @.")
    if any(c in "/\\#?" or unicodedata.category(c) == "Cc" for c in instance_id):
        raise InvalidInstanceId(
            "Orchestration instance ids must not contain /, \\, #, ?, or control characters."
        )
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise InvalidInstanceId(
            f"Instance ID lengths must not exceed {MAX_INSTANCE_ID_LENGTH} characters."
        )


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


def event_name_problem(event_name: str) -> str | None:
    """Why an event name is refused (devhost's rule, stricter than the extension, which takes
    any name): it must fit in a URL path segment and in one log line."""
    if not event_name:
        return "it must not be empty"
    if "/" in event_name or event_name in (".", ".."):
        return "it must not contain '/' or be '.' or '..'"
    if any(unicodedata.category(char) == "Cc" for char in event_name):
        return "it must not contain control characters"
    return None
