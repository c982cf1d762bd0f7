"""``DELETE /api/instances/{instanceId}``: purge an ended instance and its offloaded statuses.

200 ``{"instanceId", "instancesDeleted": 1, "statusBlobsDeleted": n}``; 400 bad id; 404 unknown
instance; 409 the instance has not ended (terminate it first); 503 Blob storage unreachable
(nothing was purged: try again). ``custom_status.purge_instance`` does the work, in the order
that never orphans a blob (the blobs first, then the history).
"""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from custom_status import (
    InstanceNotEnded,
    StorageNotConfigured,
    StorageRefused,
    StorageUnavailable,
    purge_instance,
)

from .blueprint import blueprint
from .http import ApiError, http_errors, json_response, quoted
from .instance_ids import validate_instance_id
from .status_view import instance_not_found


@blueprint.function_name(name="PurgeInstance")
@blueprint.route(route="instances/{instanceId}", methods=["DELETE"])
@blueprint.durable_client_input(client_name="client")
@http_errors
async def purge_instance_route(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Delete the instance's status blobs and history; refuse one that has not ended."""
    instance_id = validate_instance_id(req.route_params.get("instanceId"))
    try:
        purged = await purge_instance(client, instance_id)
    except InstanceNotEnded as error:
        raise ApiError(
            409,
            "instance_running",
            f"Instance {quoted(instance_id)} is {error.runtime_status}; only Completed, Failed, "
            "Terminated or Canceled instances can be purged. Terminate it first.",
        ) from None
    except StorageUnavailable:
        raise ApiError(
            503,
            "storage_unavailable",
            f"Blob storage is unavailable, so the status blobs of instance {quoted(instance_id)} "
            "cannot be deleted; nothing was purged. Try again later.",
        ) from None
    except StorageNotConfigured as error:
        message = f"Cannot purge status blobs: {error}."
        raise ApiError(500, "storage_not_configured", message) from None
    except StorageRefused as error:
        raise ApiError(
            502,
            "storage_error",
            f"Blob storage refused to delete the status blobs of instance {quoted(instance_id)} "
            f"(status {error.status_code}); nothing was purged.",
        ) from None
    if purged is None:
        raise instance_not_found(instance_id)
    return json_response(
        {
            "instanceId": instance_id,
            "instancesDeleted": purged.instances_deleted,
            "statusBlobsDeleted": purged.status_blobs_deleted,
        }
    )
