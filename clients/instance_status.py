"""``GET /api/status/{instanceId}``: an instance's status in the built-in API's JSON shape.

Ours rather than only the built-in endpoint because it renders through ``status_view``, where an
offloaded custom status will be resolved. 200 with the status; 404 unknown instance; 400 bad id.
"""

import azure.durable_functions as df
import azure.functions as func

from .blueprint import blueprint
from .http import ApiError, http_errors, json_response
from .instance_ids import validate_instance_id
from .status_view import instance_exists, status_to_json


@blueprint.function_name(name="GetInstanceStatus")
@blueprint.route(route="status/{instanceId}", methods=["GET"])
@blueprint.durable_client_input(client_name="client")
@http_errors
async def get_instance_status(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Answer the instance's status (with its input), or 404."""
    instance_id = validate_instance_id(req.route_params.get("instanceId"))
    status = await client.get_status(instance_id, show_input=True)
    if not instance_exists(status):
        raise ApiError(404, "instance_not_found", f"No instance with id {instance_id!r}.")
    return json_response(await status_to_json(status))
