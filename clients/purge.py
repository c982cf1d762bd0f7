"""``DELETE /api/instances/{instanceId}``: purge an ended instance and its offloaded statuses.

200 ``{"instanceId", "instancesDeleted": 1, "statusBlobsDeleted": n}``; 400 bad id; 404 unknown
instance; 409 the instance has not ended (terminate it first); 503 Blob storage unreachable
(nothing was purged: try again).

The status blobs go first, then the history (``client.purge_instance_history``): if storage is
down nothing is purged and the call can simply be repeated, and no blob can be left behind
without an instance to find it by. (The reverse order could purge the history and then fail,
orphaning the blobs.) An instance only writes blobs while it runs, and a running instance is
refused, so no new blob appears between the two steps.
"""

from __future__ import annotations

import re

import azure.durable_functions as df
import azure.functions as func
from azure.core.exceptions import AzureError

from custom_status import StorageNotConfigured, StorageUnavailable
from custom_status.blobs import delete_instance_blobs

from .blueprint import blueprint
from .http import ApiError, http_errors, json_response, quoted
from .instance_ids import validate_instance_id
from .status_view import (
    STORAGE_ERROR,
    STORAGE_NOT_CONFIGURED,
    STORAGE_UNAVAILABLE,
    has_ended,
    instance_exists,
    instance_not_found,
)

# The SDK raises Exception("The operation failed with an unexpected status code 412") when the
# host refuses to purge a non-terminal instance (the extension answers 412, some hosts 409).
_REFUSED = re.compile(r"unexpected status code (409|412)\b")


def _running(instance_id: str, runtime_status: str) -> ApiError:
    return ApiError(
        409,
        "instance_running",
        f"Instance {quoted(instance_id)} is {runtime_status}; only Completed, Failed, Terminated "
        "or Canceled instances can be purged. Terminate it first.",
    )


async def _delete_blobs(instance_id: str) -> int:
    try:
        return await delete_instance_blobs(instance_id)
    except StorageUnavailable:
        raise ApiError(
            503,
            STORAGE_UNAVAILABLE,
            f"Blob storage is unavailable, so the status blobs of instance {quoted(instance_id)} "
            "cannot be deleted; nothing was purged. Try again later.",
        ) from None
    except StorageNotConfigured as error:
        message = f"Cannot purge status blobs: {error}."
        raise ApiError(500, STORAGE_NOT_CONFIGURED, message) from None
    except AzureError as error:
        code = getattr(error, "status_code", None)
        raise ApiError(
            502,
            STORAGE_ERROR,
            f"Blob storage refused to delete the status blobs of instance {quoted(instance_id)} "
            f"(status {code}); nothing was purged.",
        ) from None


@blueprint.function_name(name="PurgeInstance")
@blueprint.route(route="instances/{instanceId}", methods=["DELETE"])
@blueprint.durable_client_input(client_name="client")
@http_errors
async def purge_instance(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Delete the instance's status blobs and history; refuse one that has not ended."""
    instance_id = validate_instance_id(req.route_params.get("instanceId"))
    status = await client.get_status(instance_id)
    if not instance_exists(status):
        raise instance_not_found(instance_id)
    if not has_ended(status):
        raise _running(instance_id, status.runtime_status.value)

    blobs_deleted = await _delete_blobs(instance_id)
    try:
        result = await client.purge_instance_history(instance_id)
    except Exception as error:
        if not _REFUSED.search(str(error)):
            raise
        # Restarted with the same id between the check and the purge.
        raise _running(instance_id, "running again") from None
    if result.instances_deleted == 0:
        raise instance_not_found(instance_id)  # purged concurrently
    return json_response(
        {
            "instanceId": instance_id,
            "instancesDeleted": result.instances_deleted,
            "statusBlobsDeleted": blobs_deleted,
        }
    )
