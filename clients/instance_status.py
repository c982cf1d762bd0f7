"""``GET /api/status/{instanceId}[?resolve=false][&showInput=true]``: an instance's status.

The built-in status API's shape, with an offloaded custom status resolved, an ``ETag`` and
``304 Not Modified``, ``Retry-After`` while the instance runs, and ``?resolve=false`` for the
reference with a read-only SAS URL: all of it is ``custom_status.status_response`` (see there).
This route only checks the instance id as every route of the app does.
"""

import azure.durable_functions as df
import azure.functions as func

from custom_status import status_response

from .blueprint import blueprint
from .http import http_errors
from .instance_ids import validate_instance_id


@blueprint.function_name(name="GetInstanceStatus")
@blueprint.route(route="status/{instanceId}", methods=["GET"])
@blueprint.durable_client_input(client_name="client")
@http_errors
async def get_instance_status(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Answer the instance's status (its input only with ``?showInput=true``: an input such as
    ReserveTicket's user id is not echoed by default), or a JSON error."""
    instance_id = validate_instance_id(req.route_params.get("instanceId"))
    return await status_response(req, client, instance_id)
