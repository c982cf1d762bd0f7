"""``purge_instance``: delete an ended instance's status blobs, then its history.

The blobs go first: if storage is down nothing is purged and the call can simply be repeated,
and no blob is ever left behind without an instance to find it by (the reverse order could
purge the history and then fail, orphaning the blobs). An instance only writes blobs while it
runs, and a running instance is refused, so no new blob appears between the two steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import azure.durable_functions as df

from custom_status.blobs import delete_instance_blobs
from custom_status.errors import CustomStatusError
from custom_status.reader import has_ended, instance_exists

# The SDK raises Exception("The operation failed with an unexpected status code 412") when the
# host refuses to purge a non-terminal instance (the extension answers 412, some hosts 409).
_REFUSED = re.compile(r"unexpected status code (409|412)\b")


class InstanceNotEnded(CustomStatusError):
    """The instance has not ended (Completed, Failed, Terminated or Canceled): terminate it
    first. ``runtime_status`` is what it is instead."""

    def __init__(self, instance_id: str, runtime_status: str) -> None:
        super().__init__(f"instance {instance_id!r} is {runtime_status}")
        self.instance_id = instance_id
        self.runtime_status = runtime_status


@dataclass(frozen=True)
class Purged:
    """What ``purge_instance`` deleted."""

    instances_deleted: int
    status_blobs_deleted: int


async def purge_instance(client: df.DurableOrchestrationClient, instance_id: str) -> Purged | None:
    """Delete the instance's status blobs and history; None for an unknown instance.

    Raises ``InstanceNotEnded`` for an instance that runs (also one restarted with the same id
    meanwhile) and the storage errors of ``delete_instance_blobs`` (then nothing was purged)."""
    status = await client.get_status(instance_id)
    if not instance_exists(status):
        return None
    if not has_ended(status):
        raise InstanceNotEnded(instance_id, status.runtime_status.value)
    blobs_deleted = await delete_instance_blobs(instance_id)
    try:
        result = await client.purge_instance_history(instance_id)
    except Exception as error:
        if not _REFUSED.search(str(error)):
            raise
        raise InstanceNotEnded(instance_id, "running again") from None
    if result.instances_deleted == 0:
        return None  # purged concurrently
    return Purged(result.instances_deleted, blobs_deleted)
