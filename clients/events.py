"""``POST /api/instances/{instanceId}/events/{eventName}``: raise an external event.

Body: the event's payload as JSON (an empty body sends null). 202 once raised; 400 bad JSON,
instance id or event name (empty, '/', '.', '..', control characters); 404 unknown instance; 410
instance already ended.

The instance is looked up first so that 404 and 410 come from its runtime status, not from
parsing the SDK's exception text. The SDK's two messages are still mapped, for the race where the
instance ends between the lookup and the raise.
"""

import azure.durable_functions as df
import azure.functions as func

from .blueprint import blueprint
from .http import ApiError, http_errors, json_response, quoted, read_json_body
from .instance_ids import validate_event_name, validate_instance_id
from .status_view import has_ended, instance_exists, instance_not_found


def _gone(instance_id: str) -> ApiError:
    message = f"Instance {quoted(instance_id)} has ended; it accepts no more events."
    return ApiError(410, "instance_gone", message)


def _map_raise_error(error: Exception, instance_id: str) -> ApiError | None:
    """The ApiError for the SDK's raise_event failure texts (see DurableOrchestrationClient)."""
    message = str(error)
    if message == f"Instance with ID {instance_id} is gone: either completed or failed":
        return _gone(instance_id)
    if message == f"No instance with ID {instance_id} found.":
        return instance_not_found(instance_id)
    return None


@blueprint.function_name(name="RaiseInstanceEvent")
@blueprint.route(route="instances/{instanceId}/events/{eventName}", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
@http_errors
async def raise_instance_event(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Deliver the body to the instance as the named event."""
    instance_id = validate_instance_id(req.route_params.get("instanceId"))
    event_name = validate_event_name(req.route_params.get("eventName"))
    payload = read_json_body(req)

    status = await client.get_status(instance_id)
    if not instance_exists(status):
        raise instance_not_found(instance_id)
    if has_ended(status):
        raise _gone(instance_id)
    try:
        await client.raise_event(instance_id, event_name, payload)
    except Exception as error:
        mapped = _map_raise_error(error, instance_id)
        if mapped is None:
            raise
        raise mapped from None
    return json_response({"instanceId": instance_id, "eventName": event_name}, 202)
