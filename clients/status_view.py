"""Reading instance statuses: the one place that turns an SDK status into what callers see.

Every client reads the custom status through :func:`resolve_custom_status` and renders statuses
with :func:`status_to_json`, so that resolving an offloaded (Blob-stored) custom status later is a
change to this module only. ``resolve_custom_status`` is async for that reason.
"""

import json
from datetime import datetime, timezone
from typing import Any

from azure.durable_functions import OrchestrationRuntimeStatus
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus

ENDED = frozenset(
    {
        OrchestrationRuntimeStatus.Completed,
        OrchestrationRuntimeStatus.Failed,
        OrchestrationRuntimeStatus.Terminated,
        OrchestrationRuntimeStatus.Canceled,
    }
)
"""Runtime statuses after which an instance never runs again (events to it are refused)."""


def instance_exists(status: DurableOrchestrationStatus | None) -> bool:
    """Whether ``get_status`` found the instance.

    For an unknown id the SDK returns a status object whose fields are all None (the host answers
    404 with an empty body), not None, so the runtime status is what tells.
    """
    return status is not None and status.runtime_status is not None


def has_ended(status: DurableOrchestrationStatus) -> bool:
    """Whether the instance is Completed, Failed, Terminated or Canceled."""
    return status.runtime_status in ENDED


async def resolve_custom_status(status: DurableOrchestrationStatus) -> Any:
    """The instance's custom status as the orchestrator set it.

    Today that is the stored value; this is the seam where an offloaded status is fetched.
    """
    return status.custom_status


def format_time(moment: datetime | None) -> str | None:
    """``2019-10-06T18:30:24Z``, as the built-in status API formats times (naive means UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def status_to_json(status: DurableOrchestrationStatus) -> dict[str, Any]:
    """The status in the built-in HTTP API's shape (every key present, null when unknown)."""
    runtime_status = status.runtime_status
    return {
        "name": status.name,
        "instanceId": status.instance_id,
        "runtimeStatus": runtime_status.value if runtime_status is not None else None,
        "input": status.input_,
        "customStatus": await resolve_custom_status(status),
        "output": status.output,
        "createdTime": format_time(status.created_time),
        "lastUpdatedTime": format_time(status.last_updated_time),
    }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def statuses_equal(actual: Any, expected: Any) -> bool:
    """Whether two custom statuses are the same JSON value.

    Compared as canonical JSON rather than with ``==``, for which ``True == 1`` in Python;
    object key order does not matter.
    """
    return _canonical(actual) == _canonical(expected)
