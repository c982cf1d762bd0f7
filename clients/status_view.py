"""What every route asks of an instance's status: does it exist, has it ended, and the 404.

Reading a status with its custom status resolved is ``custom_status.get_status`` (and the status
route is ``custom_status.status_response``); this module only holds the app's own questions
about the SDK's status object, and how the app compares two custom statuses.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from azure.durable_functions import OrchestrationRuntimeStatus
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

from .http import ApiError, quoted

ENDED = frozenset(
    {
        OrchestrationRuntimeStatus.Completed,
        OrchestrationRuntimeStatus.Failed,
        OrchestrationRuntimeStatus.Terminated,
        OrchestrationRuntimeStatus.Canceled,
    }
)
"""Runtime statuses after which an instance never runs again (events to it are refused)."""
ENDED_NAMES = frozenset(status.value for status in ENDED)
"""The same, as the ``runtimeStatus`` strings of a status in the HTTP API's shape."""


def instance_exists(status: DurableOrchestrationStatus | None) -> bool:
    """Whether ``get_status`` found the instance.

    For an unknown id the SDK returns a status object whose fields are all None (the host answers
    404 with an empty body), not None, so the runtime status is what tells.
    """
    return status is not None and status.runtime_status is not None


def instance_not_found(instance_id: str) -> ApiError:
    """The 404 every route answers for an id ``get_status`` did not find."""
    return ApiError(404, "instance_not_found", f"No instance with id {quoted(instance_id)}.")


def has_ended(status: DurableOrchestrationStatus) -> bool:
    """Whether the instance is Completed, Failed, Terminated or Canceled."""
    return status.runtime_status in ENDED


def format_time(moment: datetime | None) -> str | None:
    """``2019-10-06T18:30:24Z``, as the built-in status API formats times (naive means UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def statuses_equal(actual: Any, expected: Any) -> bool:
    """Whether two custom statuses are the same JSON value.

    Compared as canonical JSON rather than with ``==``, for which ``True == 1`` in Python;
    object key order does not matter.
    """
    return _canonical(actual) == _canonical(expected)
